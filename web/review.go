package web

import (
	"encoding/json"
	"errors"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/sambung/sambung/recordings"
	"github.com/sambung/sambung/store"
)

// Quality review: the scorecards, evaluating a call on one, comments at a
// point of its recording, each reviewer's queue and each agent's scores
// (docs/qa.md). QA, supervisors and admins evaluate and comment; an agent
// reads what concerns their own calls.

type scorecardJSON struct {
	ID        int64           `json:"id"`
	Name      string          `json:"name"`
	Version   int             `json:"version"`
	Form      json.RawMessage `json:"form"`
	CreatedBy string          `json:"created_by"`
	CreatedAt time.Time       `json:"created_at"`
}

func toScorecardJSON(s store.Scorecard) scorecardJSON {
	return scorecardJSON{ID: s.ID, Name: s.Name, Version: s.Version, Form: s.Form, CreatedBy: s.CreatedBy, CreatedAt: s.CreatedAt}
}

// listScorecards: GET /api/v1/scorecards is the latest version of every
// scorecard in use.
func (s *Server) listScorecards(w http.ResponseWriter, r *http.Request) {
	cards, err := s.store.Scorecards(r.Context())
	if err != nil {
		s.storeFailed(w, "list scorecards", err)
		return
	}
	out := make([]scorecardJSON, 0, len(cards))
	for _, c := range cards {
		out = append(out, toScorecardJSON(c))
	}
	writeJSON(w, http.StatusOK, map[string]any{"scorecards": out})
}

type scorecardRequest struct {
	Name string          `json:"name"`
	Form json.RawMessage `json:"form"`
}

// createScorecard: POST /api/v1/scorecards {name, form} stores a new
// version of a scorecard (admins). The form is checked first; its errors
// name the place (sections[1].questions[0] ...). Audited.
func (s *Server) createScorecard(w http.ResponseWriter, r *http.Request) {
	var req scorecardRequest
	if !readJSON(w, r, &req) {
		return
	}
	p, _ := principalFrom(r.Context())
	name := strings.TrimSpace(req.Name)
	if name == "" {
		writeError(w, http.StatusBadRequest, "bad_request", "name: give the scorecard a name.")
		return
	}
	form, err := recordings.ParseForm(req.Form)
	if err != nil {
		writeError(w, http.StatusBadRequest, "bad_form", err.Error())
		return
	}
	raw, _ := json.Marshal(form)
	card, err := s.store.CreateScorecard(r.Context(), name, raw, p.user.Name)
	if err != nil {
		s.storeFailed(w, "create scorecard", err)
		return
	}
	_ = s.audit.Record(r.Context(), s.auditEvent(r, p.user.Name, "scorecard.create", name, "ok",
		map[string]string{"version": strconv.Itoa(card.Version)}))
	writeJSON(w, http.StatusCreated, toScorecardJSON(card))
}

type evaluationJSON struct {
	ID          int64             `json:"id"`
	CallID      string            `json:"call_id"`
	ScorecardID int64             `json:"scorecard_id"`
	AgentID     int64             `json:"agent_id,omitempty"`
	Evaluator   string            `json:"evaluator"`
	Answers     json.RawMessage   `json:"answers"`
	Score       float64           `json:"score"`
	Failed      bool              `json:"failed"`
	Notes       string            `json:"notes,omitempty"`
	Result      recordings.Result `json:"result"`
	UpdatedAt   time.Time         `json:"updated_at"`
}

type commentJSON struct {
	ID     int64     `json:"id"`
	AtMs   int64     `json:"at_ms"`
	Author string    `json:"author"`
	Text   string    `json:"text"`
	At     time.Time `json:"created_at"`
}

// callReview: GET /api/v1/calls/{id}/review is what QA made of a call:
// its evaluations (each with its scored result) and the comments on its
// recording. The agent who took the call may read it.
func (s *Server) callReview(w http.ResponseWriter, r *http.Request) {
	id, ok := s.reviewableCall(w, r, "review.read")
	if !ok {
		return
	}
	evs, err := s.store.Evaluations(r.Context(), store.EvaluationFilter{CallID: id})
	if err != nil {
		s.storeFailed(w, "evaluations", err)
		return
	}
	out := make([]evaluationJSON, 0, len(evs))
	for _, e := range evs {
		out = append(out, s.evaluationJSON(r, e))
	}
	cs, err := s.store.CallComments(r.Context(), id)
	if err != nil {
		s.storeFailed(w, "comments", err)
		return
	}
	comments := make([]commentJSON, 0, len(cs))
	for _, c := range cs {
		comments = append(comments, commentJSON{ID: c.ID, AtMs: c.At.Milliseconds(), Author: c.Author, Text: c.Text, At: c.CreatedAt})
	}
	writeJSON(w, http.StatusOK, map[string]any{"evaluations": out, "comments": comments})
}

// evaluationJSON is e with its result worked out again from its form, so
// the page can show each section's score.
func (s *Server) evaluationJSON(r *http.Request, e store.Evaluation) evaluationJSON {
	j := evaluationJSON{ID: e.ID, CallID: e.CallID, ScorecardID: e.ScorecardID, AgentID: e.AgentID, Evaluator: e.Evaluator,
		Answers: e.Answers, Score: e.Score, Failed: e.Failed, Notes: e.Notes, UpdatedAt: e.UpdatedAt,
		Result: recordings.Result{Score: e.Score, Failed: e.Failed}}
	if card, err := s.store.ScorecardByID(r.Context(), e.ScorecardID); err == nil {
		var answers map[string]recordings.Answer
		if form, err := recordings.ParseForm(card.Form); err == nil && json.Unmarshal(e.Answers, &answers) == nil {
			if res, err := form.Score(answers); err == nil {
				j.Result = res
			}
		}
	}
	return j
}

type evaluationRequest struct {
	ScorecardID int64                        `json:"scorecard_id"`
	Answers     map[string]recordings.Answer `json:"answers"`
	Notes       string                       `json:"notes"`
}

// saveEvaluation: PUT /api/v1/calls/{id}/evaluation {scorecard_id,
// answers, notes} scores the call on the scorecard and stores it as the
// reviewer's evaluation (replacing their earlier one on that scorecard);
// the call leaves their review queue. Errors name the question. Audited.
func (s *Server) saveEvaluation(w http.ResponseWriter, r *http.Request) {
	id, ok := s.reviewableCall(w, r, "evaluation.save")
	if !ok {
		return
	}
	var req evaluationRequest
	if !readJSON(w, r, &req) {
		return
	}
	p, _ := principalFrom(r.Context())
	card, err := s.store.ScorecardByID(r.Context(), req.ScorecardID)
	if errors.Is(err, store.ErrNotFound) {
		writeError(w, http.StatusBadRequest, "bad_request", "scorecard_id: no such scorecard.")
		return
	}
	if err != nil {
		s.storeFailed(w, "scorecard", err)
		return
	}
	form, err := recordings.ParseForm(card.Form)
	if err != nil {
		s.log.Error("web: a stored scorecard does not parse", "scorecard_id", card.ID, "err", err)
		writeError(w, http.StatusInternalServerError, "bad_scorecard", "The scorecard "+card.Name+" is broken; an admin must store it again.")
		return
	}
	res, err := form.Score(req.Answers)
	if err != nil {
		writeError(w, http.StatusBadRequest, "bad_answers", err.Error())
		return
	}
	if len(req.Notes) > 4000 {
		writeError(w, http.StatusBadRequest, "bad_request", "notes: at most 4000 characters.")
		return
	}
	answers, _ := json.Marshal(req.Answers)
	score := max(res.Score, 0) // an evaluation where nothing applied scores 0
	e, err := s.store.SaveEvaluation(r.Context(), store.Evaluation{CallID: id, ScorecardID: card.ID, EvaluatorID: p.user.ID,
		Evaluator: displayName(p.user), Answers: answers, Score: score, Failed: res.Failed, Notes: req.Notes})
	if err != nil {
		s.storeFailed(w, "save evaluation", err)
		return
	}
	if err := s.store.CompleteReview(r.Context(), id, p.user.ID); err != nil && !errors.Is(err, store.ErrNotFound) {
		s.log.Warn("web: the review queue was not updated", "call_id", id, "err", err)
	}
	_ = s.audit.Record(r.Context(), s.auditEvent(r, p.user.Name, "evaluation.save", id, "ok",
		map[string]string{"scorecard": card.Name, "score": strconv.FormatFloat(score, 'f', 1, 64), "failed": strconv.FormatBool(res.Failed)}))
	j := s.evaluationJSON(r, e)
	j.Result = res
	writeJSON(w, http.StatusOK, j)
}

type commentRequest struct {
	AtMs int64  `json:"at_ms"`
	Text string `json:"text"`
}

// addComment: POST /api/v1/calls/{id}/comments {at_ms, text} leaves a
// comment at a point of the recording, which the agent who took the call
// reads with it. Audited.
func (s *Server) addComment(w http.ResponseWriter, r *http.Request) {
	id, ok := s.reviewableCall(w, r, "comment.add")
	if !ok {
		return
	}
	var req commentRequest
	if !readJSON(w, r, &req) {
		return
	}
	p, _ := principalFrom(r.Context())
	c, err := s.store.AddComment(r.Context(), store.Comment{CallID: id, At: time.Duration(req.AtMs) * time.Millisecond,
		AuthorID: p.user.ID, Author: displayName(p.user), Text: strings.TrimSpace(req.Text)})
	if errors.Is(err, store.ErrInvalid) {
		writeError(w, http.StatusBadRequest, "bad_request", "The comment "+strings.TrimPrefix(err.Error(), "add comment: ")+".")
		return
	}
	if err != nil {
		s.storeFailed(w, "add comment", err)
		return
	}
	_ = s.audit.Record(r.Context(), s.auditEvent(r, p.user.Name, "comment.add", id, "ok",
		map[string]string{"at_ms": strconv.FormatInt(req.AtMs, 10)}))
	writeJSON(w, http.StatusCreated, commentJSON{ID: c.ID, AtMs: c.At.Milliseconds(), Author: c.Author, Text: c.Text, At: c.CreatedAt})
}

// reviewableCall checks the call the request names exists and that the
// user may see its review: the agent who took it, or anyone else the
// route admits. It answers the request itself when not.
func (s *Server) reviewableCall(w http.ResponseWriter, r *http.Request, action string) (string, bool) {
	id := r.PathValue("id")
	c, err := s.store.CallByID(r.Context(), id)
	if errors.Is(err, store.ErrNotFound) {
		writeError(w, http.StatusNotFound, "not_found", "No call with id "+strconv.Quote(id)+".")
		return "", false
	}
	if err != nil {
		s.storeFailed(w, "get call", err)
		return "", false
	}
	p, _ := principalFrom(r.Context())
	if p.user.Role == store.RoleAgent {
		mine, err := s.agentTook(r, c, p.user.ID)
		if err != nil {
			s.storeFailed(w, "call events", err)
			return "", false
		}
		if !mine {
			_ = s.audit.Record(r.Context(), s.auditEvent(r, p.user.Name, action, id, "denied",
				map[string]string{"reason": "not the agent's call"}))
			writeError(w, http.StatusForbidden, "forbidden", "You can see only the reviews of calls you took.")
			return "", false
		}
	}
	return id, true
}

// reviewQueue: GET /api/v1/qa/reviews is the signed-in reviewer's open
// review queue: the calls sampling chose for them, oldest first, each with
// its summary and why it was chosen.
func (s *Server) reviewQueue(w http.ResponseWriter, r *http.Request) {
	p, _ := principalFrom(r.Context())
	items, err := s.store.ReviewQueue(r.Context(), p.user.ID, true)
	if err != nil {
		s.storeFailed(w, "review queue", err)
		return
	}
	type itemJSON struct {
		callJSON
		Reason string `json:"reason"`
		Period string `json:"period"`
	}
	out := make([]itemJSON, 0, len(items))
	for _, it := range items {
		c, err := s.store.CallByID(r.Context(), it.CallID)
		if err != nil {
			continue // erased meanwhile
		}
		out = append(out, itemJSON{callJSON: toCallJSON(c), Reason: it.Reason, Period: it.Period})
	}
	writeJSON(w, http.StatusOK, map[string]any{"reviews": out})
}

// agentScores: GET /api/v1/qa/scores?agent=NAME is an agent's evaluations
// over time (the last 200), oldest first, with their average; an agent
// gets their own whatever they name.
func (s *Server) agentScores(w http.ResponseWriter, r *http.Request) {
	p, _ := principalFrom(r.Context())
	agentID := p.user.ID
	if p.user.Role != store.RoleAgent {
		name := r.URL.Query().Get("agent")
		u, err := s.store.UserByName(r.Context(), name)
		if errors.Is(err, store.ErrNotFound) || name == "" {
			writeError(w, http.StatusBadRequest, "bad_request", "agent: name an agent by their sign-in name.")
			return
		}
		if err != nil {
			s.storeFailed(w, "user", err)
			return
		}
		agentID = u.ID
	}
	evs, err := s.store.Evaluations(r.Context(), store.EvaluationFilter{AgentID: agentID, Limit: 200})
	if err != nil {
		s.storeFailed(w, "evaluations", err)
		return
	}
	type scoreJSON struct {
		CallID    string    `json:"call_id"`
		Score     float64   `json:"score"`
		Failed    bool      `json:"failed"`
		Evaluator string    `json:"evaluator"`
		At        time.Time `json:"at"`
	}
	out := make([]scoreJSON, 0, len(evs))
	sum := 0.0
	for i := len(evs) - 1; i >= 0; i-- {
		e := evs[i]
		out = append(out, scoreJSON{CallID: e.CallID, Score: e.Score, Failed: e.Failed, Evaluator: e.Evaluator, At: e.CreatedAt})
		sum += e.Score
	}
	resp := map[string]any{"scores": out}
	if len(out) > 0 {
		resp["average"] = sum / float64(len(out))
	}
	writeJSON(w, http.StatusOK, resp)
}

// displayName is how a user is shown: their display name, or their
// sign-in name.
func displayName(u store.User) string {
	if u.DisplayName != "" {
		return u.DisplayName
	}
	return u.Name
}
