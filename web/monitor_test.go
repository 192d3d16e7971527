package web

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/sambung/sambung/calls"
	"github.com/sambung/sambung/store"
)

// fakeMonitor stands in for the desk: the call "c1" is with an agent,
// "c2" only rings. It keeps who did what.
type fakeMonitor struct{ did []string }

func (m *fakeMonitor) call(id, mode string) error {
	switch {
	case id == "c2":
		return calls.ErrNoAgent
	case id != "c1":
		return calls.ErrNoSuchCall
	case mode != "" && mode != "listen" && mode != "whisper" && mode != "barge":
		return fmt.Errorf("%q: %w", mode, calls.ErrBadMode)
	}
	return nil
}

func (m *fakeMonitor) Monitor(_ context.Context, u store.User, id, mode, offer string) (string, error) {
	if err := m.call(id, mode); err != nil {
		return "", err
	}
	m.did = append(m.did, u.Name+" "+mode+" "+offer)
	return "answer-sdp", nil
}

func (m *fakeMonitor) MonitorMode(_ context.Context, u store.User, id, mode string) error {
	if err := m.call(id, mode); err != nil {
		return err
	}
	m.did = append(m.did, u.Name+" "+mode)
	return nil
}

func (m *fakeMonitor) Floor(context.Context) (calls.Floor, error) {
	return calls.Floor{Queues: []calls.FloorQueue{{Name: "support", Waiting: 1}},
		Calls: []calls.LiveCall{{ID: "c1", From: "ayu", State: "talking", Agent: "agent",
			Monitors: []calls.LiveMonitor{{Supervisor: "supervisor", Mode: "listen"}}}}}, nil
}

func (m *fakeMonitor) ICEServers() []map[string]any { return nil }

func (m *fakeMonitor) StopMonitor(_ context.Context, u store.User, id string) error {
	if err := m.call(id, ""); err != nil {
		return err
	}
	m.did = append(m.did, u.Name+" left")
	return nil
}

// TestMonitorRoutes: the routes carry the supervisor's offer, mode and
// leaving to the desk, answer its refusals with the right status, and
// audit every attempt with its outcome.
func TestMonitorRoutes(t *testing.T) {
	h := newHarness(t)
	sup := h.signIn(store.RoleSupervisor)
	if resp, b := sup.do("POST", "/api/v1/calls/c1/monitor", map[string]string{"mode": "listen", "sdp": "offer"}); resp.StatusCode != http.StatusServiceUnavailable {
		t.Errorf("without a desk: %d %s, want 503", resp.StatusCode, b)
	}
	m := &fakeMonitor{}
	h.srv.SetMonitor(m)

	for _, tc := range []struct {
		method, path string
		body         any
		status       int
		want         string // in the body
	}{
		{"POST", "/api/v1/calls/c1/monitor", map[string]string{"mode": "listen", "sdp": "offer"}, 200, `"sdp":"answer-sdp"`},
		{"POST", "/api/v1/calls/c1/monitor/mode", map[string]string{"mode": "barge"}, 200, `"mode":"barge"`},
		{"DELETE", "/api/v1/calls/c1/monitor", nil, 200, `{}`},
		{"POST", "/api/v1/calls/c1/monitor", map[string]string{"mode": "listen"}, 400, "offer is missing"},
		{"POST", "/api/v1/calls/c1/monitor/mode", map[string]string{"mode": "shout"}, 400, "listen, whisper or barge"},
		{"POST", "/api/v1/calls/c9/monitor", map[string]string{"mode": "listen", "sdp": "offer"}, 404, "No call c9"},
		{"POST", "/api/v1/calls/c2/monitor", map[string]string{"mode": "listen", "sdp": "offer"}, 409, "not with an agent"},
	} {
		resp, b := sup.do(tc.method, tc.path, tc.body)
		if resp.StatusCode != tc.status || !strings.Contains(string(b), tc.want) {
			t.Errorf("%s %s %v: %d %s, want %d with %q", tc.method, tc.path, tc.body, resp.StatusCode, b, tc.status, tc.want)
		}
	}
	if resp, b := sup.do("GET", "/api/v1/floor", nil); resp.StatusCode != 200 ||
		!strings.Contains(string(b), `"calls":[{"call_id":"c1","from":"ayu","state":"talking"`) ||
		!strings.Contains(string(b), `"queues":[{"name":"support","waiting":1`) || !strings.Contains(string(b), `"ice_servers":[]`) {
		t.Errorf("the floor: %d %s", resp.StatusCode, b)
	}
	if want := []string{"supervisor listen offer", "supervisor barge", "supervisor left"}; fmt.Sprint(m.did) != fmt.Sprint(want) {
		t.Errorf("the desk was asked %q, want %q", m.did, want)
	}

	evs, err := h.st.ListAudit(t.Context(), store.AuditFilter{Actor: "supervisor", Limit: 100})
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]int{}
	for _, e := range evs {
		got[e.Action+" "+e.Target+" "+e.Outcome]++
	}
	for k, n := range map[string]int{"call.monitor c1 ok": 1, "call.monitor_mode c1 ok": 1, "call.monitor_stop c1 ok": 1,
		"call.monitor_mode c1 failed": 1, "call.monitor c9 failed": 1, "call.monitor c2 failed": 1} {
		if got[k] != n {
			t.Errorf("audit %q: %d entries, want %d (all: %v)", k, got[k], n, got)
		}
	}
}
