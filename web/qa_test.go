package web

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/sambung/sambung/store"
)

// seedSearch stores calls for the search to find: c0..c5, one a minute,
// alternating intents, the odd ones angry, wrapped up by the agent or by
// the supervisor. It returns when c0 started.
func seedSearch(t *testing.T, h *harness) time.Time {
	t.Helper()
	ctx := context.Background()
	start := time.Now().UTC().Add(-time.Hour).Truncate(time.Second)
	for i := range 6 {
		id := fmt.Sprintf("c%d", i)
		at := start.Add(time.Duration(i) * time.Minute)
		if err := h.st.CreateCall(ctx, store.Call{ID: id, Direction: store.Inbound, From: "ayu", To: "support", Node: "n1", StartedAt: at}); err != nil {
			t.Fatal(err)
		}
		if err := h.st.EndCall(ctx, id, at.Add(time.Duration(30+30*i)*time.Second), "completed", "caller_bye"); err != nil {
			t.Fatal(err)
		}
		intent, score := "billing", 0.2
		if i%2 == 1 {
			intent, score = "refund", -0.8
		}
		if err := h.st.SetCallSummary(ctx, id, store.CallSummary{Queue: "support", Intent: intent, Language: "en",
			Sentiment: &score, Angry: i%2 == 1, Resolution: store.ResolutionAgent}); err != nil {
			t.Fatal(err)
		}
		who := h.users[store.RoleAgent].ID
		if i >= 4 {
			who = h.users[store.RoleSupervisor].ID
		}
		if err := h.st.SetCallDisposition(ctx, id, store.Disposition{Code: "resolved", AgentID: who, At: at.Add(time.Hour)}); err != nil {
			t.Fatal(err)
		}
	}
	return start
}

// found runs a search and returns the ids found, the cursor and the total.
func found(t *testing.T, c *client, query string, status int) (ids []string, next string, total int) {
	t.Helper()
	resp, b := c.do("GET", "/api/v1/qa/calls?"+query, nil)
	if resp.StatusCode != status {
		t.Fatalf("search %q: %d %s, want %d", query, resp.StatusCode, b, status)
	}
	var out struct {
		Calls []struct {
			ID         string `json:"id"`
			Agent      string `json:"agent"`
			DurationMs int64  `json:"duration_ms"`
		}
		Next  string
		Total int
	}
	_ = json.Unmarshal(b, &out)
	for _, c := range out.Calls {
		ids = append(ids, c.ID)
		if c.Agent == "" || c.DurationMs == 0 {
			t.Errorf("search %q: call %s came without its agent or duration: %s", query, c.ID, b)
		}
	}
	return ids, out.Next, out.Total
}

// TestSearchCalls: QA filters by intent, mood, agent and duration, pages
// with the cursor and gets a count; an agent finds only the calls they
// wrapped up, whichever agent they name; a bad parameter is a 400 that
// names it.
func TestSearchCalls(t *testing.T) {
	h := newHarness(t)
	start := seedSearch(t, h)
	qa, ag := h.signIn(store.RoleQA), h.signIn(store.RoleAgent)
	for _, tc := range []struct {
		query string
		want  string
	}{
		{"intent=refund", "[c5 c3 c1]"},
		{"mood=angry&intent=billing", "[]"},
		{"mood=negative", "[c5 c3 c1]"},
		{"agent=supervisor", "[c5 c4]"},
		{"agent=nobody", "[]"},
		{"min_duration=2m&max_duration=150s", "[c4 c3]"},
		{"since=" + url.QueryEscape(start.Add(90*time.Second).Format(time.RFC3339)), "[c5 c4 c3 c2]"},
	} {
		if ids, _, _ := found(t, qa, tc.query, 200); fmt.Sprint(ids) != tc.want && !(tc.want == "[]" && ids == nil) {
			t.Errorf("QA's search %q found %v, want %s", tc.query, ids, tc.want)
		}
	}
	var pages []string
	next, total := "", 0
	for i := 0; i < 10; i++ {
		q := "limit=4&count=1"
		if next != "" {
			q += "&before=" + next
		}
		var ids []string
		ids, next, total = found(t, qa, q, 200)
		pages = append(pages, strings.Join(ids, ","))
		if next == "" {
			break
		}
	}
	if fmt.Sprint(pages) != "[c5,c4,c3,c2 c1,c0]" || total != 6 {
		t.Errorf("pages %v, total %d", pages, total)
	}
	if ids, _, _ := found(t, ag, "agent=supervisor", 200); fmt.Sprint(ids) != "[c3 c2 c1 c0]" {
		t.Errorf("the agent's search found %v, want their own calls only", ids)
	}
	for q, want := range map[string]string{
		"since=yesterday":                 "since must be an RFC 3339 time",
		"csat_max=9":                      "csat_max must be a whole number from 1 to 5",
		"mood=grumpy":                     "mood must be angry or negative",
		"resolution=maybe":                "resolution must be ivr, agent or abandoned",
		"min_duration=-5s":                "min_duration must be a duration",
		"min_duration=5m&max_duration=1m": "MinDuration",
	} {
		resp, b := qa.do("GET", "/api/v1/qa/calls?"+q, nil)
		if resp.StatusCode != http.StatusBadRequest || !strings.Contains(string(b), want) {
			t.Errorf("search %q: %d %s, want 400 with %q", q, resp.StatusCode, b, want)
		}
	}
}
