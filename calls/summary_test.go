package calls

import (
	"context"
	"testing"
	"time"

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
