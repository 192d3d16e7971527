package calls

import (
	"context"
	"errors"
	"log/slog"

	"github.com/sambung/sambung/asr"
	"github.com/sambung/sambung/ivr"
	"github.com/sambung/sambung/media"
)

// The Call as an ivr.Hearer: while a flow runs, the caller's audio goes to
// a recognizer for the call's language, and what it hears comes back as
// inputs: the start of speech (barge-in) and each utterance.

// hearing is one recognition stream fed from the call's audio.
type hearing struct {
	cancel context.CancelFunc
}

// Hear (re)starts recognition in h's language, listening for its phrases
// with the recognizer the flow chose. With no recognizer the caller is
// heard by keypad only.
func (c *Call) Hear(h ivr.Hearing) {
	c.stopHearing()
	if c.sb.cfg.Recognizer == nil {
		return
	}
	lang, phrases := h.Language, h.Phrases
	rec := c.sb.cfg.Recognizer(h.Engine, lang)
	if rec == nil {
		return
	}
	ctx, cancel := context.WithCancel(c.ctx)
	st, err := rec.Stream(ctx, asr.Options{Language: lang, Phrases: phrases})
	if err != nil {
		cancel()
		level := slog.LevelWarn
		if errors.Is(err, asr.ErrUnsupportedLanguage) {
			level = slog.LevelInfo // as configured: this engine does not hear the language
		}
		c.log.Log(c.ctx, level, "calls: no speech recognition; keys only", "engine", rec.Name(), "language", lang, "err", err)
		c.event("asr.unavailable", map[string]any{"engine": rec.Name(), "language": lang, "error": err.Error()})
		return
	}
	c.hearMu.Lock()
	c.hearing = &hearing{cancel: cancel}
	c.hearMu.Unlock()
	c.event("asr.started", map[string]any{"engine": rec.Name(), "language": lang, "phrases": len(phrases)})

	sub := c.sess.Subscribe(50)
	c.goWatch(func() {
		// One frame buffer for the stream's life: slicing each tick's own
		// array for the recognizer's Write would move every tick to the heap.
		frame := make([]int16, media.FrameSamples)
		defer func() {
			sub.Unsubscribe()
			_ = st.Close()
		}()
		for {
			select {
			case <-ctx.Done():
				return
			case t, ok := <-sub.C():
				if !ok {
					return
				}
				if c.paused() {
					clear(frame) // card details are heard by nobody
				} else {
					copy(frame, t.In[:])
					c.prosMu.Lock()
					c.prosody.Push(frame)
					c.prosMu.Unlock()
				}
				if err := st.Write(frame); err != nil {
					c.log.Warn("calls: recognizer refused audio", "engine", rec.Name(), "err", err)
					return
				}
			}
		}
	})
	c.goWatch(func() {
		for r := range st.Results() {
			switch {
			case r.SpeechStart:
				c.input(ivr.Input{SpeechStart: true})
			case r.Final:
				data := map[string]any{"engine": rec.Name(), "text": r.Text, "language": r.Language,
					"confidence": r.Confidence, "start_ms": r.Start.Milliseconds(), "end_ms": r.End.Milliseconds()}
				if r.Err != nil {
					data["error"] = r.Err.Error()
				}
				res := r
				c.prosMu.Lock()
				cue := c.prosody.Utterance()
				c.prosMu.Unlock()
				res.Voice = &cue
				data["voice_raised"] = cue.Raised
				c.input(ivr.Input{Speech: &res})
				c.event("asr.heard", data)
			}
		}
	})
}

// input hands the flow one input without ever blocking the caller's audio.
func (c *Call) input(in ivr.Input) {
	select {
	case c.inputs <- in:
	default:
		c.log.Warn("calls: input dropped: nobody is taking them")
	}
}

// stopHearing ends the recognition stream, if any.
func (c *Call) stopHearing() {
	c.hearMu.Lock()
	h := c.hearing
	c.hearing = nil
	c.hearMu.Unlock()
	if h != nil {
		h.cancel()
	}
}
