// Package asr owns speech recognition: the Recognizer and Stream interfaces,
// endpointing, and one folder per engine; asr/intent holds language
// identification, intent classification and sentiment. It imports nothing
// else of Sambung's but media (the frame format and resampling).
//
// A call's audio reaches a recognizer as 20 ms frames of 8 kHz 16-bit PCM,
// the frame format of package media, written to a Stream; the Stream
// yields Results, partial ones while the caller speaks and one final
// Result per utterance. The IVR's listen step reads those results (see
// ivr.Input), so an engine plugs in without the IVR knowing which it is.
package asr

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sort"
	"strings"
	"sync"
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
	// caller for long (an engine that falls behind drops or queues), and
	// must not keep frame after it returns: the caller reuses it.
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
	// SpeechStart marks the moment the caller began to speak, before any
	// text: what stops an interruptible prompt (barge-in). Its other fields
	// but Start are empty.
	SpeechStart bool
	Text        string
	Language    string  // flow code of the language heard; may be empty
	Confidence  float64 // 0..1
	Final       bool    // the end of an utterance; partial results come before it
	// Start and End are offsets of the utterance from the stream's start.
	Start, End time.Duration
	// Voice, on a final result, is how the utterance sounded against the
	// caller's own baseline (louder, higher), when the call measured it.
	Voice *VoiceCue
	// Err, on a final result, says the engine failed on this utterance (a
	// server down, too slow, or refusing): the text is empty, the call goes
	// on, and the caller can still use the keypad.
	Err error
}

// A Batch engine transcribes one whole utterance at a time: the audio
// between the endpointer's start and end of speech (see FromBatch). Server
// engines that take an upload (Whisper's HTTP API) and grammar decoders
// are Batch engines.
type Batch interface {
	Name() string
	// Transcribe returns what pcm (8 kHz, 16-bit mono) says. An empty Text
	// with no error means nothing was recognised (or it was rejected).
	Transcribe(ctx context.Context, pcm []int16, opts Options) (Result, error)
}

// ErrUnsupportedLanguage is what a recognizer that cannot hear a
// language at all says (wrapped) when asked for a stream in it: the call
// is better served by the keypad than by words forced onto its speech.
var ErrUnsupportedLanguage = errors.New("the engine does not recognise this language")

// A LanguageChecker is a Batch engine that knows before any audio which
// languages it cannot hear: CheckLanguage returns an error wrapping
// ErrUnsupportedLanguage for them, and FromBatch's streams refuse to open
// in them.
type LanguageChecker interface {
	CheckLanguage(lang string) error
}

// Config configures an engine made by New.
type Config struct {
	URL     string        // server engines: where the server is
	APIKey  string        // server engines: sent as a bearer token
	Model   string        // engine-specific model name or path
	Timeout time.Duration // per request or utterance (engine default if zero)
	// Silence is how long a pause ends an utterance (default 400 ms).
	Silence time.Duration
	// Logger hears what an engine has to say beyond a call's results (a
	// flow's words its dictionary lacks, say). Nil discards it.
	Logger *slog.Logger
}

// A Factory makes a Recognizer from its Config.
type Factory func(Config) (Recognizer, error)

var (
	registryMu sync.Mutex
	registry   = map[string]Factory{}
)

// Register makes an engine available under name. Engines register in an
// init function; one built behind a build tag (pocketsphinx, with cgo)
// registers only when built in.
func Register(name string, f Factory) {
	registryMu.Lock()
	defer registryMu.Unlock()
	if _, dup := registry[name]; dup {
		panic("asr: engine " + name + " registered twice")
	}
	registry[name] = f
}

// New makes the engine registered under name.
func New(name string, cfg Config) (Recognizer, error) {
	registryMu.Lock()
	f, ok := registry[name]
	registryMu.Unlock()
	if !ok {
		return nil, fmt.Errorf("asr: no engine %q in this build (engines: %s)", name, strings.Join(Engines(), ", "))
	}
	return f(cfg)
}

// Engines lists the engines in this build, sorted.
func Engines() []string {
	registryMu.Lock()
	defer registryMu.Unlock()
	out := make([]string, 0, len(registry))
	for n := range registry {
		out = append(out, n)
	}
	sort.Strings(out)
	return out
}
