package web

import (
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	"github.com/sambung/sambung/recordings"
	"github.com/sambung/sambung/store"
)

// TestReviewRoutes: an admin stores a scorecard (a broken one is refused,
// naming the place); QA finds the call in their review queue, scores it
// (answers that do not fit are refused, naming the question) and comments
// at a point of the recording; the call leaves the queue. The agent who
// took the call reads the score, each section's, and the comment, and
// sees it among their scores; they may not read another agent's call's
// review, nor score or comment. Each step is audited.
func TestReviewRoutes(t *testing.T) {
	h := newHarness(t)
	seedSearch(t, h)
	admin, qa, ag := h.signIn(store.RoleAdmin), h.signIn(store.RoleQA), h.signIn(store.RoleAgent)

	broken := map[string]any{"name": "calls", "form": map[string]any{"title": "x", "sections": []any{
		map[string]any{"title": "s", "questions": []any{map[string]any{"id": "greet", "text": "Greeted?", "kind": "stars"}}}}}}
	if resp, b := admin.do("POST", "/api/v1/scorecards", broken); resp.StatusCode != http.StatusBadRequest ||
		!strings.Contains(string(b), `sections[0].questions[0] (\"greet\")`) {
		t.Errorf("a broken form: %d %s", resp.StatusCode, b)
	}
	resp, b := admin.do("POST", "/api/v1/scorecards", map[string]any{"name": "calls", "form": recordings.DefaultForm()})
	var card struct {
		ID      int64
		Version int
		Form    recordings.Form
	}
	if err := json.Unmarshal(b, &card); resp.StatusCode != http.StatusCreated || err != nil || card.Version != 1 {
		t.Fatalf("create scorecard: %d %s", resp.StatusCode, b)
	}
	if resp, _ := qa.do("POST", "/api/v1/scorecards", map[string]any{"name": "mine", "form": recordings.DefaultForm()}); resp.StatusCode != http.StatusForbidden {
		t.Errorf("QA stored a scorecard: %d", resp.StatusCode)
	}

	qaID := h.users[store.RoleQA].ID
	if _, err := h.st.AddReviewItems(context.Background(), []store.ReviewItem{{CallID: "c1", AssigneeID: qaID, Reason: "angry", Period: "2026-Q4"}}); err != nil {
		t.Fatal(err)
	}
	if resp, b := qa.do("GET", "/api/v1/qa/reviews", nil); resp.StatusCode != 200 || !strings.Contains(string(b), `"id":"c1"`) ||
		!strings.Contains(string(b), `"reason":"angry"`) {
		t.Errorf("QA's review queue: %d %s", resp.StatusCode, b)
	}

	// Every answer "yes" or 5, but the first question "no".
	answers := map[string]any{}
	for si, sec := range card.Form.Sections {
		for qi, q := range sec.Questions {
			if q.Kind == recordings.KindScale {
				answers[q.ID] = map[string]any{"scale": 5}
			} else {
				answers[q.ID] = map[string]any{"yes": !(si == 0 && qi == 0)}
			}
		}
	}
	first := card.Form.Sections[0].Questions[0].ID
	if resp, b := qa.do("PUT", "/api/v1/calls/c1/evaluation", map[string]any{"scorecard_id": card.ID, "answers": map[string]any{first: map[string]any{"yes": true}}}); resp.StatusCode != http.StatusBadRequest ||
		!strings.Contains(string(b), "not answered") && !strings.Contains(string(b), "no answer") {
		t.Errorf("an evaluation missing answers: %d %s", resp.StatusCode, b)
	}
	resp, b = qa.do("PUT", "/api/v1/calls/c1/evaluation", map[string]any{"scorecard_id": card.ID, "answers": answers, "notes": "Warm."})
	var saved struct {
		Score  float64
		Failed bool
		Result recordings.Result
	}
	if err := json.Unmarshal(b, &saved); resp.StatusCode != 200 || err != nil || saved.Score <= 0 || saved.Score >= 100 || len(saved.Result.Sections) != len(card.Form.Sections) {
		t.Fatalf("save evaluation: %d %s", resp.StatusCode, b)
	}
	if resp, b := qa.do("POST", "/api/v1/calls/c1/comments", map[string]any{"at_ms": 4200, "text": "Good empathy here."}); resp.StatusCode != http.StatusCreated {
		t.Errorf("comment: %d %s", resp.StatusCode, b)
	}
	if resp, b := qa.do("POST", "/api/v1/calls/c1/comments", map[string]any{"at_ms": 10, "text": "   "}); resp.StatusCode != http.StatusBadRequest {
		t.Errorf("a blank comment: %d %s", resp.StatusCode, b)
	}
	if resp, b := qa.do("GET", "/api/v1/qa/reviews", nil); resp.StatusCode != 200 || strings.Contains(string(b), `"id":"c1"`) {
		t.Errorf("the call stays in QA's queue after its evaluation: %s", b)
	}

	// The agent reads it.
	resp, b = ag.do("GET", "/api/v1/calls/c1/review", nil)
	if resp.StatusCode != 200 || !strings.Contains(string(b), "Good empathy here.") || !strings.Contains(string(b), `"at_ms":4200`) ||
		!strings.Contains(string(b), `"sections":[`) {
		t.Errorf("the agent's review of their call: %d %s", resp.StatusCode, b)
	}
	var scores struct {
		Scores []struct {
			CallID string `json:"call_id"`
			Score  float64
		}
		Average float64
	}
	resp, b = ag.do("GET", "/api/v1/qa/scores?agent=supervisor", nil)
	if err := json.Unmarshal(b, &scores); resp.StatusCode != 200 || err != nil || len(scores.Scores) != 1 || scores.Scores[0].CallID != "c1" ||
		scores.Average != saved.Score {
		t.Errorf("the agent's scores: %d %s", resp.StatusCode, b)
	}
	if resp, _ := ag.do("GET", "/api/v1/calls/c4/review", nil); resp.StatusCode != http.StatusForbidden {
		t.Errorf("another agent's call's review: %d, want 403", resp.StatusCode)
	}
	if resp, _ := ag.do("POST", "/api/v1/calls/c1/comments", map[string]any{"at_ms": 1, "text": "mine"}); resp.StatusCode != http.StatusForbidden {
		t.Errorf("the agent commented: %d", resp.StatusCode)
	}
	key := func(e store.AuditEvent) string { return e.Action + " " + e.Target + " " + e.Outcome }
	if got := auditCountsOf(t, h, "qa", key); got["evaluation.save c1 ok"] != 1 || got["comment.add c1 ok"] != 1 {
		t.Errorf("QA's audit entries: %v", got)
	}
	if got := auditCountsOf(t, h, "agent", key); got["review.read c4 denied"] != 1 {
		t.Errorf("the agent's audit entries: %v", got)
	}
	if got := auditCountsOf(t, h, "admin", key); got["scorecard.create calls ok"] != 1 {
		t.Errorf("the admin's audit entries: %v", got)
	}
}
