package ivr

import (
	"context"
	"strings"
	"time"

	"github.com/sambung/sambung/asr"
)

// A Turn is one thing a caller does in a text conversation: says
// something, presses keys, or stays silent until the flow gives up
// waiting.
type Turn struct {
	Say     string // an utterance, as the recognizer would give it
	Press   string // DTMF keys, "1234#"
	Silence bool
}

// ParseTurn reads a line typed in the simulator: "#1234" presses keys, an
// empty line stays silent, anything else is said.
func ParseTurn(line string) Turn {
	line = strings.TrimSpace(line)
	switch {
	case line == "":
		return Turn{Silence: true}
	case strings.HasPrefix(line, "#") && len(line) > 1 && strings.Trim(line[1:], "0123456789*#") == "":
		return Turn{Press: line[1:]}
	}
	return Turn{Say: line}
}

// TextChannel is a call made of text, for `sambung flow simulate` and flow
// tests: prompts are shown rather than played, and the caller's turns come
// from Next whenever the flow waits for the caller. Time is the script's:
// a silent turn times the wait out at once.
type TextChannel struct {
	From string
	// Next gives the caller's next turn; false means the caller hangs up.
	Next func() (Turn, bool)
	// OnSay and OnEvent, if set, see every prompt and timeline event.
	OnSay   func(Spoken)
	OnEvent func(kind string, data map[string]any)

	inputs chan Input
	hangup context.CancelFunc
	paused bool // a pci step paused the call: keys reach nothing
}

// PausePCI pauses or resumes the call for card details, as a call does:
// while paused, keys the caller presses reach nothing and are on the
// timeline only as masked.
func (t *TextChannel) PausePCI(on bool) {
	t.paused = on
	kind := "pci.resumed"
	if on {
		kind = "pci.paused"
	}
	t.Event(kind, map[string]any{"by": "flow"})
}

// Start returns a context for Runtime.Run that ends when the caller hangs up.
func (t *TextChannel) Start(ctx context.Context) context.Context {
	t.inputs = make(chan Input, 64)
	ctx, t.hangup = context.WithCancel(ctx)
	return ctx
}

// Caller is the caller's number.
func (t *TextChannel) Caller() string { return t.From }

// Play shows sp; it is said at once.
func (t *TextChannel) Play(sp Spoken) <-chan struct{} {
	if t.OnSay != nil {
		t.OnSay(sp)
	}
	done := make(chan struct{})
	close(done)
	return done
}

// Stop does nothing: text is never half said.
func (t *TextChannel) Stop() {}

// Inputs delivers the caller's turns.
func (t *TextChannel) Inputs() <-chan Input { return t.inputs }

// Event passes timeline events to OnEvent.
func (t *TextChannel) Event(kind string, data map[string]any) {
	if t.OnEvent != nil {
		t.OnEvent(kind, data)
	}
}

// Wait takes the caller's next turn: keys and words go to Inputs, silence
// times the wait out, and no more turns hang up.
func (t *TextChannel) Wait(time.Duration) <-chan time.Time {
	turn, ok := t.Next()
	if !ok {
		t.hangup()
		return nil
	}
	switch {
	case turn.Silence:
		fired := make(chan time.Time, 1)
		fired <- time.Time{}
		return fired
	case turn.Press != "" && t.paused:
		// Nothing reaches the flow: to it, the caller stayed silent.
		for range turn.Press {
			t.Event("dtmf", map[string]any{"masked": true})
		}
		fired := make(chan time.Time, 1)
		fired <- time.Time{}
		return fired
	case turn.Press != "":
		for _, d := range turn.Press {
			select {
			case t.inputs <- Input{Digit: d}:
			default: // more keys than any step takes at once
			}
		}
	default:
		t.inputs <- Input{Speech: &asr.Result{Text: turn.Say, Final: true, Confidence: 1}}
	}
	return nil
}
