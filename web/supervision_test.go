package web

import (
	"context"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/sambung/sambung/agents"
	"github.com/sambung/sambung/calls"
	"github.com/sambung/sambung/store"
)

// fakeSupervision stands in for the desk: the call "c1" is with an agent,
// "c2" only rings. It keeps who did what.
type fakeSupervision struct{ did []string }

func (m *fakeSupervision) call(id, mode string) error {
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

func (m *fakeSupervision) Monitor(_ context.Context, u store.User, id, mode, offer string) (string, error) {
	if err := m.call(id, mode); err != nil {
		return "", err
	}
	m.did = append(m.did, u.Name+" "+mode+" "+offer)
	return "answer-sdp", nil
}

func (m *fakeSupervision) MonitorMode(_ context.Context, u store.User, id, mode string) error {
	if err := m.call(id, mode); err != nil {
		return err
	}
	m.did = append(m.did, u.Name+" "+mode)
	return nil
}

func (m *fakeSupervision) Floor(context.Context) (calls.Floor, error) {
	return calls.Floor{Queues: []calls.FloorQueue{{Name: "support", Waiting: 1}},
		Calls: []calls.LiveCall{{ID: "c1", From: "ayu", State: "talking", Agent: "agent",
			Monitors: []calls.LiveMonitor{{Supervisor: "supervisor", Mode: "listen"}}}}}, nil
}

func (m *fakeSupervision) ICEServers() []map[string]any { return nil }

func (m *fakeSupervision) Today(context.Context) ([]calls.DayHour, error) {
	return []calls.DayHour{{Hour: 9, Answered: 4, AnsweredInTime: 3, Abandoned: 1}}, nil
}

func (m *fakeSupervision) HeatMap(_ context.Context, since time.Time) (calls.HeatMap, error) {
	m.did = append(m.did, "heat map since "+since.Format(time.RFC3339))
	return calls.HeatMap{Since: since, Intents: []string{"billing"}, Cells: []calls.HeatCell{{Intent: "billing", Hour: 9, Escalated: 2, Abandoned: 1}}}, nil
}

func (m *fakeSupervision) SetAgentState(_ context.Context, u store.User, id int64, state, reason string) error {
	switch {
	case id == 99:
		return fmt.Errorf("agent 99: %w", store.ErrNotFound)
	case state == "offline" && reason == "on_call":
		return fmt.Errorf("on a call: %w", agents.ErrTransition)
	case state != "available" && state != "away" && state != "offline":
		return fmt.Errorf("not %q", state)
	}
	m.did = append(m.did, fmt.Sprintf("%s sets %d %s", u.Name, id, state))
	return nil
}

func (m *fakeSupervision) LogOut(_ context.Context, u store.User, id int64) error {
	m.did = append(m.did, fmt.Sprintf("%s logs %d out", u.Name, id))
	return nil
}

func (m *fakeSupervision) MoveCall(_ context.Context, u store.User, id, queue, agent string) error {
	if id != "c1" {
		return fmt.Errorf("move call %s: %w", id, agents.ErrNotWaiting)
	}
	m.did = append(m.did, fmt.Sprintf("%s moves %s to %s%s", u.Name, id, queue, agent))
	return nil
}

// PausePCI: c1 is the agent's call; the agent may pause nothing else.
func (m *fakeSupervision) PausePCI(_ context.Context, u store.User, id string, paused bool) error {
	if id != "c1" || (u.Role == store.RoleAgent && u.Name != "agent") {
		return calls.ErrNoSuchCall
	}
	m.did = append(m.did, fmt.Sprintf("%s pci %s %v", u.Name, id, paused))
	return nil
}

func (m *fakeSupervision) StopMonitor(_ context.Context, u store.User, id string) error {
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
	m := &fakeSupervision{}
	h.srv.SetSupervision(m)

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
	if resp, b := sup.do("GET", "/api/v1/floor/today", nil); resp.StatusCode != 200 ||
		!strings.Contains(string(b), `{"hours":[{"hour":9,"answered":4,"answered_in_time":3,"abandoned":1}]}`) {
		t.Errorf("today: %d %s", resp.StatusCode, b)
	}
	if resp, b := sup.do("GET", "/api/v1/floor/heatmap?days=40", nil); resp.StatusCode != 400 {
		t.Errorf("a 40-day heat map: %d %s", resp.StatusCode, b)
	}
	if resp, b := sup.do("GET", "/api/v1/floor/heatmap?days=2", nil); resp.StatusCode != 200 ||
		!strings.Contains(string(b), `"cells":[{"intent":"billing","hour":9,"escalated":2,"abandoned":1}]`) {
		t.Errorf("the heat map: %d %s", resp.StatusCode, b)
	}
	if last, want := m.did[len(m.did)-1], "heat map since "+h.clock.Now().Add(-48*time.Hour).Format(time.RFC3339); last != want {
		t.Errorf("the desk was asked for %q, want %q", last, want)
	}
	m.did = m.did[:len(m.did)-1]
	if want := []string{"supervisor listen offer", "supervisor barge", "supervisor left"}; fmt.Sprint(m.did) != fmt.Sprint(want) {
		t.Errorf("the desk was asked %q, want %q", m.did, want)
	}

	got := auditCounts(t, h, func(e store.AuditEvent) string { return e.Action + " " + e.Target + " " + e.Outcome })
	for k, n := range map[string]int{"call.monitor c1 ok": 1, "call.monitor_mode c1 ok": 1, "call.monitor_stop c1 ok": 1,
		"call.monitor_mode c1 failed": 1, "call.monitor c9 failed": 1, "call.monitor c2 failed": 1} {
		if got[k] != n {
			t.Errorf("audit %q: %d entries, want %d (all: %v)", k, got[k], n, got)
		}
	}
}

// TestAgentActions: a supervisor sets an agent's state, signs them out
// (their sessions end: the agent's next request is refused) and moves a
// waiting call; refusals come back with their status, and every attempt
// is audited.
func TestAgentActions(t *testing.T) {
	h := newHarness(t)
	m := &fakeSupervision{}
	h.srv.SetSupervision(m)
	sup, ag := h.signIn(store.RoleSupervisor), h.signIn(store.RoleAgent)
	agentID := h.users[store.RoleAgent].ID
	id := strconv.FormatInt(agentID, 10)
	for _, tc := range []struct {
		path   string
		body   any
		status int
		want   string
	}{
		{"/api/v1/agents/" + id + "/state", map[string]string{"state": "away", "reason": "meeting"}, 200, "{}"},
		{"/api/v1/agents/" + id + "/state", map[string]string{"state": "ringing"}, 400, `not \"ringing\"`},
		{"/api/v1/agents/" + id + "/state", map[string]string{"state": "offline", "reason": "on_call"}, 409, "state change not allowed"},
		{"/api/v1/agents/99/state", map[string]string{"state": "away"}, 404, "No agent 99"},
		{"/api/v1/agents/x/state", map[string]string{"state": "away"}, 404, "No agent"},
		{"/api/v1/calls/c1/move", map[string]string{"queue": "billing"}, 200, "{}"},
		{"/api/v1/calls/c1/move", map[string]string{"agent": "ana"}, 200, "{}"},
		{"/api/v1/calls/c1/move", map[string]string{"queue": "billing", "agent": "ana"}, 400, "not both"},
		{"/api/v1/calls/c2/move", map[string]string{"queue": "billing"}, 409, "not waiting"},
	} {
		resp, b := sup.do("POST", tc.path, tc.body)
		if resp.StatusCode != tc.status || !strings.Contains(string(b), tc.want) {
			t.Errorf("POST %s %v: %d %s, want %d with %q", tc.path, tc.body, resp.StatusCode, b, tc.status, tc.want)
		}
	}
	if resp, b := ag.do("GET", "/api/v1/me", nil); resp.StatusCode != 200 {
		t.Fatalf("the agent before being signed out: %d %s", resp.StatusCode, b)
	}
	if resp, b := sup.do("POST", "/api/v1/agents/"+id+"/logout", nil); resp.StatusCode != 200 {
		t.Errorf("logout: %d %s", resp.StatusCode, b)
	}
	if resp, _ := ag.do("GET", "/api/v1/me", nil); resp.StatusCode != http.StatusUnauthorized {
		t.Errorf("the agent signed out by a supervisor still has a session: %d", resp.StatusCode)
	}
	want := []string{"supervisor sets " + id + " away", "supervisor moves c1 to billing", "supervisor moves c1 to ana", "supervisor logs " + id + " out"}
	if fmt.Sprint(m.did) != fmt.Sprint(want) {
		t.Errorf("the desk was asked %q, want %q", m.did, want)
	}
	got := auditCounts(t, h, func(e store.AuditEvent) string { return e.Action + " " + e.Outcome })
	for k, n := range map[string]int{"agent.set_state ok": 1, "agent.set_state failed": 3, "agent.logout ok": 1, "call.move ok": 2, "call.move failed": 1} {
		if got[k] != n {
			t.Errorf("audit %q: %d entries, want %d (all: %v)", k, got[k], n, got)
		}
	}
}

// auditCounts counts the supervisor's audit entries by key.
func auditCounts(t *testing.T, h *harness, key func(store.AuditEvent) string) map[string]int {
	t.Helper()
	return auditCountsOf(t, h, "supervisor", key)
}

// auditCountsOf is auditCounts for the entries of actor.
func auditCountsOf(t *testing.T, h *harness, actor string, key func(store.AuditEvent) string) map[string]int {
	t.Helper()
	evs, err := h.st.ListAudit(t.Context(), store.AuditFilter{Actor: actor, Limit: 100})
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]int{}
	for _, e := range evs {
		got[key(e)]++
	}
	return got
}

// TestPCIRoute: the agent on a call pauses and resumes its recording; a
// call that is not theirs is a 404; a body without "paused" is a 400; each
// is audited with its outcome.
func TestPCIRoute(t *testing.T) {
	h := newHarness(t)
	m := &fakeSupervision{}
	h.srv.SetSupervision(m)
	ag := h.signIn(store.RoleAgent)
	for _, tc := range []struct {
		path   string
		body   any
		status int
		want   string
	}{
		{"/api/v1/calls/c1/pci", map[string]bool{"paused": true}, 200, `{"paused":true}`},
		{"/api/v1/calls/c1/pci", map[string]bool{"paused": false}, 200, `{"paused":false}`},
		{"/api/v1/calls/c7/pci", map[string]bool{"paused": true}, 404, "No call c7"},
		{"/api/v1/calls/c1/pci", map[string]string{}, 400, `true to pause the recording`},
	} {
		resp, b := ag.do("POST", tc.path, tc.body)
		if resp.StatusCode != tc.status || !strings.Contains(string(b), tc.want) {
			t.Errorf("POST %s %v: %d %s, want %d with %q", tc.path, tc.body, resp.StatusCode, b, tc.status, tc.want)
		}
	}
	if want := "[agent pci c1 true agent pci c1 false]"; fmt.Sprint(m.did) != want {
		t.Errorf("the desk was asked %v, want %s", m.did, want)
	}
	got := auditCountsOf(t, h, "agent", func(e store.AuditEvent) string { return e.Action + " " + e.Target + " " + e.Outcome })
	for k, n := range map[string]int{"call.pci_pause c1 ok": 1, "call.pci_resume c1 ok": 1, "call.pci_pause c7 failed": 1} {
		if got[k] != n {
			t.Errorf("audit %q: %d entries, want %d (all: %v)", k, got[k], n, got)
		}
	}
}
