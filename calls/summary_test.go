package calls

import (
	"context"
	"testing"
	"time"

	"github.com/sambung/sambung/ivr"
	"github.com/sambung/sambung/store"
)

// stored waits for the call's record to have its summary (a resolution),
// and returns it.
func (f *fixture) stored() store.Call {
	f.t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		c, err := f.st.CallByID(context.Background(), f.callID())
		if err == nil && c.Resolution != "" {
			return c
		}
		if time.Now().After(deadline) {
			f.t.Fatalf("the call's record has no summary: %+v (%v)", c, err)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// TestAbandonedSummary: a caller who hangs up while waiting in the queue
// is an abandoned call of that queue, in the flow's language.
func TestAbandonedSummary(t *testing.T) {
	fl := newFloor(t)
	f := fl.f
	f.waitEvent("call.queued", 10*time.Second)
	f.leg.end("caller_bye")
	c := f.stored()
	if c.Resolution != store.ResolutionAbandoned || c.Queue != "support" || c.Language != "en" || c.Sentiment != nil || c.Angry {
		t.Errorf("the summary of an abandoned call: %+v", c)
	}
}

// TestSurveyIsTheCallsCSAT: the score a caller keys in a flow's survey is
// the call's CSAT, which QA searches by.
func TestSurveyIsTheCallsCSAT(t *testing.T) {
	const flow = "name: s\nlanguages: [en]\nvariables: {csat: 0}\nstart: ask\nsteps:\n" +
		"  ask: {survey: {prompt: {en: \"Rate us from 1 to 5\"}, into: csat}, next: bye}\n  bye: {hangup: {}}\n"
	f := newFixture(t, "support", Config{Lines: flowLines(t, flow), IVR: &ivr.Runtime{Voice: quietVoice{}}})
	f.waitEvent("ivr.prompt", 10*time.Second)
	if err := f.caller.SendDTMF("4", 0); err != nil {
		t.Fatal(err)
	}
	if c := f.stored(); c.CSAT != 4 || c.Resolution != store.ResolutionIVR {
		t.Errorf("the call's record after a survey scored 4: %+v", c)
	}
}
