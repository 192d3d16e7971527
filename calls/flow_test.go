package calls

import (
	"context"
	"math"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/sambung/sambung/ivr"
	"github.com/sambung/sambung/media"
	"github.com/sambung/sambung/store"
)

// toneVoice says every text as a 1 kHz tone, long for texts that contain
// "long": loud throughout, so the moment a prompt stops shows on the wire.
type toneVoice struct{}

func tonePrompt(d time.Duration) *media.Prompt {
	n := int(d / time.Second * media.Rate)
	s := make([]int16, n)
	for i := range s {
		s[i] = int16(8000 * math.Sin(2*math.Pi*1000*float64(i)/media.Rate))
	}
	return media.NewPrompt(s)
}

var (
	shortTone = tonePrompt(time.Second)
	longTone  = tonePrompt(30 * time.Second)
)

func (toneVoice) Speak(_ context.Context, _, text string, _ []ivr.Piece) ([]*media.Prompt, error) {
	if strings.Contains(text, "long") {
		return []*media.Prompt{longTone}, nil
	}
	return []*media.Prompt{shortTone}, nil
}

func (toneVoice) File(string) (*media.Prompt, error) { return shortTone, nil }

func flowLines(t testing.TB, src string) *ivr.Lines {
	t.Helper()
	f, diags := ivr.Parse("test.yaml", []byte(src))
	if diags.HasErrors() {
		t.Fatalf("flow:\n%v", diags)
	}
	l := &ivr.Lines{}
	l.Set(nil, f)
	return l
}

const keysFlow = `
name: keys
languages: [en]
variables: {order: ""}
knowledge:
  status: {en: "Order {{order}} has shipped."}
start: menu
steps:
  menu: {say: {en: "a long menu"}, interruptible: true, next: number}
  number:
    gather: {prompt: {en: "number?"}, max_digits: 5, terminator: "#", into: order, first_digit_timeout: 20s}
    next: tell
  tell: {answer: status, next: bye}
  bye: {hangup: {}}
`

func TestFlowRunsOnACall(t *testing.T) {
	lines := flowLines(t, keysFlow)
	f := newFixture(t, "support", Config{Lines: lines, IVR: &ivr.Runtime{Voice: toneVoice{}}})
	f.waitEvent("ivr.prompt", 10*time.Second) // the disclosure
	// Wait for the long menu, hear it, then press keys: the menu stops.
	deadline := time.Now().Add(20 * time.Second)
	for !f.hasStep("menu") {
		if time.Now().After(deadline) {
			t.Fatal("the flow never reached the menu")
		}
		time.Sleep(20 * time.Millisecond)
	}
	f.drain()
	f.heard(1500 * time.Millisecond) // past the disclosure's second of tone
	if lvl := media.ToneLevel(f.heard(time.Second), media.Rate, 1000); lvl < 0.01 {
		t.Fatalf("the menu is not playing: 1 kHz level %.4f", lvl)
	}
	if err := f.caller.SendDTMF("42#", 80*time.Millisecond); err != nil {
		t.Fatal(err)
	}
	tell := f.waitEvent("ivr.answer", 20*time.Second)
	if got := data(tell)["text"]; got != "Order 42 has shipped." {
		t.Errorf("answer %q", got)
	}
	ended := f.waitEvent("call.ended", 20*time.Second)
	if d := data(ended); d["reason"] != "completed" || d["server_hangup"] != true {
		t.Errorf("ended: %v", d)
	}
	evs, _ := f.st.CallEvents(context.Background(), f.callID())
	var kinds, steps []string
	for _, e := range evs {
		kinds = append(kinds, e.Kind)
		if e.Kind == "ivr.step" {
			steps = append(steps, data(e)["step"].(string))
		}
	}
	if !slices.Equal(steps, []string{"menu", "number", "tell", "bye"}) {
		t.Errorf("steps on the timeline: %v", steps)
	}
	for _, k := range []string{"ivr.disclosure", "ivr.barge_in", "ivr.gathered", "ivr.ended", "ivr.context"} {
		if !slices.Contains(kinds, k) {
			t.Errorf("timeline lacks %s: %v", k, kinds)
		}
	}
	if i, j := slices.Index(kinds, "ivr.disclosure"), slices.Index(kinds, "ivr.step"); i < 0 || i > j {
		t.Errorf("the disclosure is not the first thing the flow does: %v", kinds)
	}
}

func TestReloadDoesNotChangeACallInProgress(t *testing.T) {
	lines := flowLines(t, keysFlow)
	f := newFixture(t, "support", Config{Lines: lines, IVR: &ivr.Runtime{Voice: toneVoice{}}})
	deadline := time.Now().Add(20 * time.Second)
	for !f.hasStep("menu") {
		if time.Now().After(deadline) {
			t.Fatal("the flow never reached the menu")
		}
		time.Sleep(20 * time.Millisecond)
	}
	// The line's flow changes while the call is in the menu.
	v2, diags := ivr.Parse("test.yaml", []byte(strings.ReplaceAll(keysFlow, "has shipped", "is lost")))
	if diags.HasErrors() {
		t.Fatal(diags)
	}
	old := lines.For("support")
	lines.Set(nil, v2)
	if err := f.caller.SendDTMF("7#", 80*time.Millisecond); err != nil {
		t.Fatal(err)
	}
	tell := f.waitEvent("ivr.answer", 20*time.Second)
	if got := data(tell)["text"]; got != "Order 7 has shipped." {
		t.Errorf("the call in progress said %q: it changed version mid-call", got)
	}
	disc := data(f.waitEvent("ivr.disclosure", time.Second))
	if disc["version"] != old.Hash || old.Hash == v2.Hash {
		t.Errorf("version %v, want the one the call started with %s", disc["version"], old.Hash)
	}
	if lines.For("support") != v2 {
		t.Error("new calls do not get the new version")
	}
}

// hasStep reports whether the flow has entered step.
func (f *fixture) hasStep(step string) bool {
	calls, _ := f.st.ListCalls(context.Background(), store.CallFilter{Limit: 1})
	if len(calls) != 1 {
		return false
	}
	evs, _ := f.st.CallEvents(context.Background(), calls[0].ID)
	for _, e := range evs {
		if e.Kind == "ivr.step" && data(e)["step"] == step {
			return true
		}
	}
	return false
}
