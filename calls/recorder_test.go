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

// TestQueuePolicies: a queue that records none stops the recording as the
// call enters it (the part before is kept and finished); a queue with a
// retention gives the recording its own time to be deleted.
func TestQueuePolicies(t *testing.T) {
	fl := newFloorWith(t, func(c *Config) {
		c.QueuePolicies = map[string]RecordPolicy{"support": {Share: 0}}
	})
	f := fl.f
	stopped := data(f.waitEvent("recording.stopped", 10*time.Second))
	if stopped["reason"] != "queue_policy" || stopped["queue"] != "support" {
		t.Errorf("recording.stopped %v", stopped)
	}
	f.waitEvent("recording.finished", time.Second)
	recs, err := f.st.CallRecordings(context.Background(), f.callID())
	if err != nil || len(recs) != 1 || recs[0].EndedAt.IsZero() {
		t.Errorf("the recording of a call that reached a queue recording none: %+v %v", recs, err)
	}

	kept := newFloorWith(t, func(c *Config) {
		c.QueuePolicies = map[string]RecordPolicy{"support": {Share: 1, Retain: 48 * time.Hour}}
	}).f
	kept.waitEvent("recording.retention", 10*time.Second)
	recs, err = kept.st.CallRecordings(context.Background(), kept.callID())
	if err != nil || len(recs) != 1 || !recs[0].RetainUntil.Equal(recs[0].StartedAt.Add(48*time.Hour)) {
		t.Errorf("the recording of a call that reached a queue keeping 48h: %+v %v", recs, err)
	}
}

func TestParseQueuePolicy(t *testing.T) {
	for in, want := range map[string]RecordPolicy{"sales=none": {}, "support=all:90d": {Share: 1, Retain: 90 * 24 * time.Hour},
		"vip=25%:720h": {Share: 0.25, Retain: 720 * time.Hour}} {
		if _, p, err := ParseQueuePolicy(in); err != nil || p != want {
			t.Errorf("ParseQueuePolicy(%q) = %+v, %v; want %+v", in, p, err, want)
		}
	}
	for _, bad := range []string{"sales", "=all", "sales=most", "sales=100%", "sales=all:soon", "sales=all:0d"} {
		if _, _, err := ParseQueuePolicy(bad); err == nil {
			t.Errorf("ParseQueuePolicy(%q) took it", bad)
		}
	}
}
