package ivr

import (
	"fmt"
	"path/filepath"
	"time"

	"github.com/sambung/sambung/media"
)

// Talking with the caller: prompts out (with barge-in), keys and
// utterances in, and the waits between.

// prompt says p in the call's language.
func (r *run) prompt(p Prompt, interruptible bool) error {
	lang := r.cx.Language
	if path, ok := p.WAV[lang]; ok {
		sp := Spoken{Lang: lang, Text: path, Interruptible: interruptible}
		if r.rt.Voice != nil {
			a, err := r.rt.Voice.File(resolveIn(r.flow, path))
			if err != nil {
				return err
			}
			sp.Audio = []*media.Prompt{a}
		}
		return r.play(sp)
	}
	text, pieces, err := r.render(p.Text[lang])
	if err != nil {
		return err
	}
	return r.say(Spoken{Lang: lang, Text: text, Interruptible: interruptible}, pieces)
}

// resolveIn makes a path written in flow f relative to f's file.
func resolveIn(f *Flow, path string) string {
	if filepath.IsAbs(path) || f.File == "" {
		return path
	}
	return filepath.Join(filepath.Dir(f.File), path)
}

// say renders text through the Voice and plays it.
func (r *run) say(sp Spoken, pieces []Piece) error {
	if r.rt.Voice != nil && sp.Text != "" {
		a, err := r.rt.Voice.Speak(r.ctx, sp.Lang, sp.Text, pieces)
		if err != nil {
			if r.ctx.Err() != nil {
				return errCallerGone
			}
			return fmt.Errorf("say %q in %s: %w", sp.Text, sp.Lang, err)
		}
		sp.Audio = a
	}
	return r.play(sp)
}

// play plays sp to its end or, when it is interruptible, until the caller
// presses a key or speaks. Keys and utterances that arrive meanwhile are
// kept for the next step: a caller who knows the menu need not wait.
func (r *run) play(sp Spoken) error {
	if sp.Interruptible && len(r.pending) > 0 {
		r.ch.Event("ivr.prompt_skipped", map[string]any{"text": sp.Text, "reason": "typed_ahead"})
		return nil
	}
	r.ch.Event("ivr.prompt", map[string]any{"text": sp.Text, "language": sp.Lang, "interruptible": sp.Interruptible})
	done := r.ch.Play(sp)
	for {
		select {
		case <-done:
			return nil
		case in := <-r.ch.Inputs():
			ok := r.usable(in)
			switch {
			case ok && in.Speech != nil && !sp.Interruptible:
				// Said over a prompt that cannot be interrupted (the
				// disclosure): not an answer to a question not yet asked.
				r.ch.Event("ivr.speech_ignored", map[string]any{"text": in.Speech.Text, "during": sp.Text})
				ok = false
			case ok:
				r.pending = append(r.pending, in)
			}
			if sp.Interruptible && (ok || in.KeyDown || in.SpeechStart) {
				r.ch.Stop()
				what := "speech"
				if in.Digit != 0 || in.KeyDown {
					what = "dtmf"
				}
				r.ch.Event("ivr.barge_in", map[string]any{"by": what, "text": sp.Text})
				// A key arrives when its press ends, an utterance when the
				// caller stops speaking and it is recognised: wait for it,
				// so the next step does not start talking over the caller.
				switch {
				case in.KeyDown:
					return r.await(keyWait)
				case in.SpeechStart:
					return r.await(utteranceWait)
				}
				return nil
			}
		case <-r.ctx.Done():
			r.ch.Stop()
			return errCallerGone
		}
	}
}

// keyWait bounds the wait for a key whose press has begun: RFC 4733
// senders end an event within a few hundred ms, or a long press.
// utteranceWait bounds the wait for an utterance the caller has begun:
// the endpointer's longest utterance plus a recognizer's timeout.
const (
	keyWait       = 2 * time.Second
	utteranceWait = 30 * time.Second
)

// await waits up to d for the key or utterance the caller has begun and
// keeps it for the next step.
func (r *run) await(d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	for {
		select {
		case in := <-r.ch.Inputs():
			if r.usable(in) {
				r.pending = append(r.pending, in)
				return nil
			}
			if in.Speech != nil {
				return nil // the recognizer failed on it
			}
		case <-t.C:
			return nil
		case <-r.ctx.Done():
			return errCallerGone
		}
	}
}

// next returns the caller's next key or utterance, waiting up to wait.
// ok is false on timeout.
func (r *run) next(wait time.Duration) (Input, bool, error) {
	if len(r.pending) > 0 {
		in := r.pending[0]
		r.pending = r.pending[1:]
		return in, true, nil
	}
	if in, ok := r.arrived(); ok {
		return in, true, nil
	}
	var timeout <-chan time.Time
	if w, ok := r.ch.(Waiter); ok {
		timeout = w.Wait(wait)
	} else {
		t := time.NewTimer(wait)
		defer t.Stop()
		timeout = t.C
	}
	for {
		select {
		case in := <-r.ch.Inputs():
			if r.usable(in) {
				return in, true, nil
			}
		case <-timeout:
			return Input{}, false, nil
		case <-r.ctx.Done():
			return Input{}, false, errCallerGone
		}
	}
}

// usable reports whether in is a key or an utterance a step can take.
// An utterance the recognizer failed on is put on the timeline and
// dropped: the caller can still use the keypad.
func (r *run) usable(in Input) bool {
	if in.Speech != nil && in.Speech.Err != nil {
		r.ch.Event("ivr.recognizer_error", map[string]any{"error": in.Speech.Err.Error()})
		return false
	}
	return in.Digit != 0 || in.Speech != nil
}

// arrived returns a key or utterance that has already arrived, without
// waiting: a channel whose waits consume the caller's turns must not be
// asked to wait while input is queued.
func (r *run) arrived() (Input, bool) {
	for {
		select {
		case in := <-r.ch.Inputs():
			if r.usable(in) {
				return in, true
			}
		default:
			return Input{}, false
		}
	}
}
