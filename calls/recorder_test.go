package calls

import (
	"context"
	"testing"
	"time"

	"github.com/sambung/sambung/ivr"
)

// TestFlowRecordsNone: a call to a flow whose policy records none of its
// calls leaves no recording, and its timeline says why.
func TestFlowRecordsNone(t *testing.T) {
	const flow = "name: private\nlanguages: [en]\nrecording: none\nstart: bye\nsteps:\n  bye: {hangup: {}}\n"
	f := newFixture(t, "support", Config{Lines: flowLines(t, flow), IVR: &ivr.Runtime{Voice: quietVoice{}}})
	skipped := data(f.waitEvent("recording.skipped", 10*time.Second))
	if skipped["reason"] != "flow_policy" || skipped["share"] != 0.0 {
		t.Errorf("recording.skipped %v", skipped)
	}
	f.waitEvent("call.ended", 10*time.Second)
	if recs, err := f.st.CallRecordings(context.Background(), f.callID()); err != nil || len(recs) != 0 {
		t.Errorf("recordings of a call that is not to be recorded: %+v %v", recs, err)
	}
}

func TestSampled(t *testing.T) {
	for _, tc := range []struct {
		share, draw float64
		want        bool
	}{{1, 0.99, true}, {0, 0, false}, {0.2, 0.19, true}, {0.2, 0.2, false}, {0.2, 0.7, false}} {
		if got := sampled(tc.share, tc.draw); got != tc.want {
			t.Errorf("sampled(%v, %v) = %v", tc.share, tc.draw, got)
		}
	}
}
