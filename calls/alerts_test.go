package calls

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/sambung/sambung/agents"
)

// alertSink collects what an alerter publishes and what its webhook gets.
type alertSink struct {
	mu        sync.Mutex
	published []Alert
	posted    []Alert
	fail      int // answer this many webhook posts 503 first
}

func (s *alertSink) publish(a Alert) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.published = append(s.published, a)
}

func (s *alertSink) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.fail > 0 {
		s.fail--
		http.Error(w, "busy", http.StatusServiceUnavailable)
		return
	}
	var a Alert
	if r.Header.Get("Content-Type") != "application/json" || json.NewDecoder(r.Body).Decode(&a) != nil {
		http.Error(w, "not an alert", http.StatusBadRequest)
		return
	}
	s.posted = append(s.posted, a)
}

// kinds waits up to d for n alerts published and posted, and returns
// their kinds.
func (s *alertSink) kinds(t *testing.T, n int, d time.Duration) (published, posted []string) {
	t.Helper()
	deadline := time.Now().Add(d)
	for {
		s.mu.Lock()
		published, posted = nil, nil
		for _, a := range s.published {
			published = append(published, a.Kind)
		}
		for _, a := range s.posted {
			posted = append(posted, a.Kind)
		}
		s.mu.Unlock()
		if (len(published) >= n && len(posted) >= n) || time.Now().After(deadline) {
			return published, posted
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// TestAlerts: each kind of alert is raised from what the call's timeline
// and the ACD say, once, reaches the page and the webhook (which is tried
// again when it fails), and a hold or an absence that ends in time raises
// nothing.
func TestAlerts(t *testing.T) {
	sink := &alertSink{fail: 1}
	srv := httptest.NewServer(sink)
	defer srv.Close()
	al := newAlerter(AlertConfig{Webhook: srv.URL, LongHold: 100 * time.Millisecond, AwayTooLong: 100 * time.Millisecond,
		Publish: sink.publish}, "n1", slog.New(slog.NewTextHandler(io.Discard, nil)))
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { al.run(ctx); close(done) }()
	defer func() { cancel(); <-done }()

	c := &Call{ID: "c1", leg: &fakeLeg{}, agentName: "ana"}
	al.callEvent(c, "queue.service_level_warning", map[string]any{"queue": "support"})
	al.callEvent(c, "queue.service_level_warning", map[string]any{"queue": "support"}) // once per call
	al.callEvent(c, "ivr.heard", map[string]any{"text": "this is useless", "sentiment": -0.4})
	al.callEvent(c, "ivr.heard", map[string]any{"text": "I am furious", "angry": true, "turning_negative": true})
	al.callEvent(c, "ivr.heard", map[string]any{"text": "absolutely furious", "angry": true})
	// A short hold raises nothing; a long one does, once.
	al.callEvent(c, "agent.hold", nil)
	al.callEvent(c, "agent.unhold", nil)
	time.Sleep(200 * time.Millisecond)
	al.callEvent(c, "agent.hold", nil)
	// An agent back in time raises nothing; one who stays away does.
	al.agentState(agents.Agent{ID: 1, Name: "budi", State: agents.StateAway, Since: time.Now()})
	al.agentState(agents.Agent{ID: 1, Name: "budi", State: agents.StateAvailable, Since: time.Now()})
	al.agentState(agents.Agent{ID: 2, Name: "cici", State: agents.StateAway, Reason: "lunch", Since: time.Now()})

	published, posted := sink.kinds(t, 5, 10*time.Second)
	want := map[string]int{AlertServiceLevel: 1, AlertAngryCaller: 1, AlertNegativeCaller: 1, AlertLongHold: 1, AlertAwayTooLong: 1}
	for name, got := range map[string][]string{"published": published, "posted to the webhook": posted} {
		count := map[string]int{}
		for _, k := range got {
			count[k]++
		}
		if len(got) != 5 || len(count) != 5 {
			t.Errorf("%s: %v, want one of each of %v", name, got, want)
		}
		for k := range want {
			if count[k] != 1 {
				t.Errorf("%s: %d %s alerts, want 1 (all: %v)", name, count[k], k, got)
			}
		}
	}
	sink.mu.Lock()
	for _, a := range sink.posted {
		if a.Node != "n1" || a.Text == "" || a.At.IsZero() || (a.Kind != AlertAwayTooLong && a.CallID != "c1") {
			t.Errorf("posted alert %+v", a)
		}
		if a.Kind == AlertAwayTooLong && (a.Agent != "cici" || a.Text != "cici has been away (lunch) for 100ms.") {
			t.Errorf("away alert %+v", a)
		}
	}
	sink.mu.Unlock()
	// After the call ends, a new call with the same id would be warned anew.
	al.callEvent(c, "call.ended", nil)
	al.callEvent(c, "queue.service_level_warning", map[string]any{"queue": "support"})
	if published, _ := sink.kinds(t, 6, 5*time.Second); len(published) != 6 {
		t.Errorf("after the call ended: %v", published)
	}
}
