// Package asr owns speech recognition: the Recognizer and Stream interfaces,
// endpointing, and one folder per engine; asr/intent holds language
// identification, intent classification and sentiment. It imports nothing
// else of Sambung's.
//
// A call's audio reaches a recognizer as 20 ms frames of 8 kHz 16-bit PCM,
// the frame format of package media, written to a Stream; the Stream
// yields Results, partial ones while the caller speaks and one final
// Result per utterance. The IVR's listen step reads those results (see
// ivr.Input), so an engine plugs in without the IVR knowing which it is.
package asr

import (
	"context"
	"time"
)

// A Recognizer opens recognition streams. Engines register by name and
// configuration chooses one per flow and language.
type Recognizer interface {
	// Name identifies the engine ("pocketsphinx", "whisper-http", ...).
	Name() string
	// Stream starts recognising one call's audio. It ends when ctx is done
	// or the stream is closed.
	Stream(ctx context.Context, opts Options) (Stream, error)
}

// Options shape one stream.
type Options struct {
	// Language is the call's language as a flow code ("en", "id", "zh",
	// "yue"); empty lets the engine detect it.
	Language string
	// Phrases are what the flow expects to hear (its intents' examples),
	// for engines that can use a grammar or hints.
	Phrases []string
}

// A Stream is one call's recognition in progress.
type Stream interface {
	// Write takes the next 20 ms frame of 8 kHz PCM. It must not block the
	// caller for long: an engine that falls behind drops or queues.
	Write(frame []int16) error
	// Results yields partial and final results; it is closed when the
	// stream ends.
	Results() <-chan Result
	// Close ends the stream; a final result for audio already written may
	// still arrive before Results is closed.
	Close() error
}

// A Result is what the recognizer heard.
type Result struct {
	Text       string
	Language   string  // flow code of the language heard; may be empty
	Confidence float64 // 0..1
	Final      bool    // the end of an utterance; partial results come before it
	// Start and End are offsets of the utterance from the stream's start.
	Start, End time.Duration
}
