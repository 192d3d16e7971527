package store

import (
	"context"
	"encoding/json"
	"fmt"
	"math"
	"slices"
	"strings"
	"time"
)

// Scorecard is one version of a form that QA staff fill to evaluate a call.
// A change to a form is a new version under the same name, so that each
// evaluation keeps the form it was made on.
type Scorecard struct {
	ID        int64
	Name      string
	Version   int // 1, 2, ... per name
	Form      json.RawMessage
	CreatedBy string
	CreatedAt time.Time
	Retired   bool // the name is retired: no longer offered for new evaluations
}

// Evaluation is one evaluator's scoring of one call on one scorecard.
type Evaluation struct {
	ID          int64
	CallID      string
	ScorecardID int64
	// AgentID is the agent evaluated. SaveEvaluation takes 0 to mean the
	// agent who wrapped the call up (Call.AgentID); it stays 0 if none did.
	AgentID     int64
	EvaluatorID int64  // the QA user
	Evaluator   string // the QA user's name, as shown
	Answers     json.RawMessage
	Score       float64 // 0..100
	Failed      bool    // an auto-fail item failed, whatever the score
	Notes       string
	CreatedAt   time.Time
	UpdatedAt   time.Time
}

// EvaluationFilter selects evaluations; zero fields match everything.
type EvaluationFilter struct {
	CallID      string
	AgentID     int64
	EvaluatorID int64
	Since       time.Time // CreatedAt >= Since
	Until       time.Time // CreatedAt < Until
	// Limit: 0 means 100, more than 1000 means 1000; negative is refused.
	Limit int
}

// Comment is a remark at a point of a call's recording.
type Comment struct {
	ID        int64
	CallID    string
	At        time.Duration // into the recording, to the millisecond; never negative
	AuthorID  int64
	Author    string
	Text      string // 1..2000 characters
	CreatedAt time.Time
}

// ReviewItem is a call the sampling job put in a QA user's review queue.
type ReviewItem struct {
	ID         int64
	CallID     string
	AssigneeID int64  // the QA user
	Reason     string // the stratum that picked the call: "angry", "low_csat", "long", "random"...
	Period     string // the sampling period, e.g. "2026-Q4"
	CreatedAt  time.Time
	DoneAt     time.Time // zero while open
}

// QA stores quality review: scorecards, evaluations, comments on
// recordings and the review queue.
type QA interface {
	// CreateScorecard stores form (a JSON object) as the next version of
	// the scorecard name, created by the user named by: 1 for a new name,
	// else the latest plus one. A retired name comes back with it. Two
	// creators at once get distinct versions (ErrConflict only if dozens
	// race). ErrInvalid for an empty name or a form that is not an object.
	CreateScorecard(ctx context.Context, name string, form json.RawMessage, by string) (Scorecard, error)
	// Scorecards returns the latest version of each name not retired, by name.
	Scorecards(ctx context.Context) ([]Scorecard, error)
	// ScorecardByID returns any version, retired or not; ErrNotFound if unknown.
	ScorecardByID(ctx context.Context, id int64) (Scorecard, error)
	// RetireScorecard retires every version of name; ErrNotFound if there is none.
	RetireScorecard(ctx context.Context, name string) error

	// SaveEvaluation stores e, replacing the evaluator's earlier evaluation
	// of the call on that scorecard if there is one: that keeps its ID and
	// CreatedAt. A zero UpdatedAt means now; a new evaluation's CreatedAt is
	// its UpdatedAt. It returns the evaluation as stored. ErrNotFound for an
	// unknown call or scorecard; ErrInvalid, naming the field, for a score
	// outside 0..100, answers that are not a JSON object, or a missing ID.
	SaveEvaluation(ctx context.Context, e Evaluation) (Evaluation, error)
	// Evaluations returns the evaluations that match f, newest first by
	// CreatedAt; ErrInvalid for a filter that makes no sense.
	Evaluations(ctx context.Context, f EvaluationFilter) ([]Evaluation, error)
	// EvaluatedCalls says which of callIDs have at least one evaluation:
	// those map to true; the others are absent.
	EvaluatedCalls(ctx context.Context, callIDs []string) (map[string]bool, error)

	// AddComment stores c and returns it with ID and CreatedAt set (a zero
	// CreatedAt means now). ErrNotFound for an unknown call; ErrInvalid for
	// a negative At, or a Text that is blank or longer than 2000 characters.
	AddComment(ctx context.Context, c Comment) (Comment, error)
	// CallComments returns a call's comments by At, then in the order added.
	CallComments(ctx context.Context, callID string) ([]Comment, error)

	// AddReviewItems adds items to the review queue, in one transaction,
	// and says how many it added: an item whose call already has one for
	// its period is skipped, so adding the same items again adds nothing.
	// A zero CreatedAt means now. ErrNotFound for an unknown call (and
	// nothing is added); ErrInvalid for an item missing a field.
	AddReviewItems(ctx context.Context, items []ReviewItem) (int, error)
	// ReviewQueue returns a QA user's items, oldest first; only those not
	// done if openOnly.
	ReviewQueue(ctx context.Context, assigneeID int64, openOnly bool) ([]ReviewItem, error)
	// CompleteReview marks done the open items of the call assigned to
	// assigneeID; ErrNotFound if there is none.
	CompleteReview(ctx context.Context, callID string, assigneeID int64) error
}

// Page sizes of Evaluations.
const (
	defaultEvaluationLimit = 100
	maxEvaluationLimit     = 1000
)

// createScorecardTries bounds CreateScorecard's attempts. Each attempt that
// loses a race to a concurrent creator lets that creator win, so n creators
// of one name need at most n attempts each.
const createScorecardTries = 32

const (
	scorecardColumns  = `id, name, version, form, created_by, created_at, retired`
	evaluationColumns = `id, call_id, scorecard_id, agent_id, evaluator_id, evaluator, answers, score, failed, notes,
  created_at, updated_at`
)

var (
	// The next version is worked out and stored in one statement. SQLite
	// runs one writer at a time; on PostgreSQL two creators may both read
	// the same latest version, and the second to commit breaks UNIQUE (name,
	// version) and tries again.
	qCreateScorecard = newQuery(`INSERT INTO scorecards (name, version, form, created_by, created_at, retired)
SELECT $1, COALESCE(MAX(version), 0) + 1, $2, $3, $4, false FROM scorecards WHERE name = $1
RETURNING id, version`)
	qScorecards = newQuery(`SELECT ` + scorecardColumns + ` FROM scorecards s
WHERE NOT s.retired AND s.version = (SELECT MAX(version) FROM scorecards l WHERE l.name = s.name)
ORDER BY s.name`)
	qScorecardByID   = newQuery(`SELECT ` + scorecardColumns + ` FROM scorecards WHERE id = $1`)
	qRetireScorecard = newQuery(`UPDATE scorecards SET retired = true WHERE name = $1`)
	qScorecardExists = newQuery(`SELECT COUNT(*) FROM scorecards WHERE id = $1`)
	// A replaced evaluation keeps its id and created_at. A NULL agent ($3)
	// is the agent who wrapped the call up.
	qSaveEvaluation = newQuery(`INSERT INTO evaluations (call_id, scorecard_id, agent_id, evaluator_id, evaluator, answers,
  score, failed, notes, created_at, updated_at)
VALUES ($1, $2, COALESCE($3, (SELECT agent_id FROM calls WHERE id = $1)), $4, $5, $6, $7, $8, $9, $10, $10)
ON CONFLICT (call_id, scorecard_id, evaluator_id) DO UPDATE SET agent_id = excluded.agent_id,
  evaluator = excluded.evaluator, answers = excluded.answers, score = excluded.score, failed = excluded.failed,
  notes = excluded.notes, updated_at = excluded.updated_at
RETURNING id, agent_id, created_at, updated_at`)
)

// CreateScorecard stores form as the next version of name.
func (d *db) CreateScorecard(ctx context.Context, name string, form json.RawMessage, by string) (Scorecard, error) {
	if name == "" {
		return Scorecard{}, fmt.Errorf("create scorecard: %w", invalid("Name is empty"))
	}
	raw, err := jsonObjectArg("Form", form)
	if err != nil {
		return Scorecard{}, fmt.Errorf("create scorecard %q: %w", name, err)
	}
	sc := Scorecard{Name: name, Form: json.RawMessage(raw), CreatedBy: by, CreatedAt: utc(time.Now())}
	for range createScorecardTries {
		err = d.queryRow(ctx, qCreateScorecard, name, raw, by, sc.CreatedAt).Scan(&sc.ID, &sc.Version)
		if d.violation(err) != uniqueViolation {
			break
		}
	}
	switch {
	case d.violation(err) == uniqueViolation:
		return Scorecard{}, fmt.Errorf("create scorecard %q: other versions kept being created: %w", name, ErrConflict)
	case err != nil:
		return Scorecard{}, fmt.Errorf("create scorecard %q: %w", name, err)
	}
	return sc, nil
}

// Scorecards returns the latest version of each name not retired, by name.
func (d *db) Scorecards(ctx context.Context) ([]Scorecard, error) {
	scs, err := queryAll(ctx, d, qScorecards, scanScorecard)
	if err != nil {
		return nil, fmt.Errorf("list scorecards: %w", err)
	}
	return nonNil(scs), nil
}

// ScorecardByID returns any version of a scorecard.
func (d *db) ScorecardByID(ctx context.Context, id int64) (Scorecard, error) {
	sc, err := scanScorecard(d.queryRow(ctx, qScorecardByID, id))
	if err != nil {
		return Scorecard{}, notFound(err, fmt.Sprintf("scorecard %d", id))
	}
	return sc, nil
}

// RetireScorecard retires every version of name.
func (d *db) RetireScorecard(ctx context.Context, name string) error {
	n, err := d.exec(ctx, qRetireScorecard, name)
	if err != nil {
		return fmt.Errorf("retire scorecard %q: %w", name, err)
	}
	if n == 0 {
		return fmt.Errorf("retire scorecard %q: %w", name, ErrNotFound)
	}
	return nil
}

func scanScorecard(r row) (Scorecard, error) {
	var sc Scorecard
	var form string
	err := r.Scan(&sc.ID, &sc.Name, &sc.Version, &form, &sc.CreatedBy, timeDest(&sc.CreatedAt), &sc.Retired)
	sc.Form = json.RawMessage(form)
	return sc, err
}

// SaveEvaluation stores e, or replaces the evaluator's earlier evaluation
// of the call on that scorecard.
func (d *db) SaveEvaluation(ctx context.Context, e Evaluation) (Evaluation, error) {
	what := fmt.Sprintf("save the evaluation of call %s on scorecard %d by user %d", e.CallID, e.ScorecardID,
		e.EvaluatorID)
	answers, err := e.validate()
	if err != nil {
		return Evaluation{}, fmt.Errorf("%s: %w", what, err)
	}
	var agent any // NULL: the call's agent
	if e.AgentID != 0 {
		agent = e.AgentID
	}
	e.Answers = json.RawMessage(answers)
	var agentID *int64
	err = d.queryRow(ctx, qSaveEvaluation, e.CallID, e.ScorecardID, agent, e.EvaluatorID, e.Evaluator, answers,
		e.Score, e.Failed, e.Notes, utcOrNow(e.UpdatedAt)).
		Scan(&e.ID, &agentID, timeDest(&e.CreatedAt), timeDest(&e.UpdatedAt))
	if err != nil {
		if d.violation(err) == foreignKeyViolation {
			return Evaluation{}, fmt.Errorf("%s: %w", what, d.missingCallOrScorecard(ctx, e.CallID, e.ScorecardID))
		}
		return Evaluation{}, fmt.Errorf("%s: %w", what, err)
	}
	e.AgentID = 0
	if agentID != nil {
		e.AgentID = *agentID
	}
	return e, nil
}

// missingCallOrScorecard names which of the two an evaluation refers to
// does not exist, as an ErrNotFound.
func (d *db) missingCallOrScorecard(ctx context.Context, callID string, scorecardID int64) error {
	var started time.Time
	if err := d.queryRow(ctx, qCallStarted, callID).Scan(timeDest(&started)); err != nil {
		return notFound(err, "call "+callID)
	}
	var n int
	if err := d.queryRow(ctx, qScorecardExists, scorecardID).Scan(&n); err != nil {
		return fmt.Errorf("read scorecard %d: %w", scorecardID, err)
	}
	if n == 0 {
		return fmt.Errorf("scorecard %d: %w", scorecardID, ErrNotFound)
	}
	return fmt.Errorf("call %s or scorecard %d: %w", callID, scorecardID, ErrNotFound) // gone meanwhile
}

// validate refuses an evaluation that is missing a field or out of range,
// and returns its answers as stored.
func (e Evaluation) validate() (string, error) {
	switch {
	case e.CallID == "":
		return "", invalid("CallID is empty")
	case e.ScorecardID <= 0:
		return "", invalid("ScorecardID is %d; IDs are positive", e.ScorecardID)
	case e.EvaluatorID <= 0:
		return "", invalid("EvaluatorID is %d; IDs are positive", e.EvaluatorID)
	case e.AgentID < 0:
		return "", invalid("AgentID is %d; IDs are positive (0 means the call's agent)", e.AgentID)
	case math.IsNaN(e.Score) || e.Score < 0 || e.Score > 100:
		return "", invalid("Score is %g; scores run 0..100", e.Score)
	}
	return jsonObjectArg("Answers", e.Answers)
}

// Evaluations returns the evaluations that match f, newest first.
func (d *db) Evaluations(ctx context.Context, f EvaluationFilter) ([]Evaluation, error) {
	if err := f.validate(); err != nil {
		return nil, fmt.Errorf("list evaluations: %w", err)
	}
	q, args := f.sql()
	es, err := queryAll(ctx, d, q, scanEvaluation, args...)
	if err != nil {
		return nil, fmt.Errorf("list evaluations: %w", err)
	}
	return nonNil(es), nil
}

// sql is the query of f and its arguments. It is put together from the
// fields f sets, as SearchCalls's, so that each filter is a comparison the
// planner can match to an index.
func (f EvaluationFilter) sql() (query, []any) {
	var w sqlWhere
	if f.CallID != "" {
		w.add("call_id = " + w.arg(f.CallID))
	}
	if f.AgentID != 0 {
		w.add("agent_id = " + w.arg(f.AgentID))
	}
	if f.EvaluatorID != 0 {
		w.add("evaluator_id = " + w.arg(f.EvaluatorID))
	}
	if !f.Since.IsZero() {
		w.add("created_at >= " + w.arg(utc(f.Since)))
	}
	if !f.Until.IsZero() {
		w.add("created_at < " + w.arg(utc(f.Until)))
	}
	q := newQuery(`SELECT ` + evaluationColumns + ` FROM evaluations` + w.clause() + `
ORDER BY created_at DESC, id DESC
LIMIT ` + w.arg(limit(f.Limit, defaultEvaluationLimit, maxEvaluationLimit)))
	return q, w.args
}

// validate refuses a filter that makes no sense, naming the field.
func (f EvaluationFilter) validate() error {
	switch {
	case f.Limit < 0:
		return invalid("Limit is %d; it may not be negative (0 means %d)", f.Limit, defaultEvaluationLimit)
	case f.AgentID < 0:
		return invalid("AgentID is %d; IDs are positive", f.AgentID)
	case f.EvaluatorID < 0:
		return invalid("EvaluatorID is %d; IDs are positive", f.EvaluatorID)
	case !f.Since.IsZero() && !f.Until.IsZero() && !f.Until.After(f.Since):
		return invalid("Until (%s) is not after Since (%s)", f.Until.Format(time.RFC3339), f.Since.Format(time.RFC3339))
	}
	return nil
}

func scanEvaluation(r row) (Evaluation, error) {
	var e Evaluation
	var agent *int64
	var answers string
	err := r.Scan(&e.ID, &e.CallID, &e.ScorecardID, &agent, &e.EvaluatorID, &e.Evaluator, &answers, &e.Score,
		&e.Failed, &e.Notes, timeDest(&e.CreatedAt), timeDest(&e.UpdatedAt))
	if agent != nil {
		e.AgentID = *agent
	}
	e.Answers = json.RawMessage(answers)
	return e, err
}

// EvaluatedCalls says which of callIDs have at least one evaluation.
func (d *db) EvaluatedCalls(ctx context.Context, callIDs []string) (map[string]bool, error) {
	out := make(map[string]bool)
	for chunk := range slices.Chunk(callIDs, chunkSize) {
		var w sqlWhere
		q := newQuery(`SELECT DISTINCT call_id FROM evaluations WHERE call_id IN ` + w.in(chunk))
		evaluated, err := queryAll(ctx, d, q, scanString, w.args...)
		if err != nil {
			return nil, fmt.Errorf("find evaluated calls: %w", err)
		}
		for _, id := range evaluated {
			out[id] = true
		}
	}
	return out, nil
}

// jsonObjectArg checks that data, the field name of an argument, is one
// JSON object, and returns it as stored; ErrInvalid otherwise.
func jsonObjectArg(name string, data json.RawMessage) (string, error) {
	if len(data) == 0 {
		return "", invalid("%s is empty; it must be a JSON object", name)
	}
	if _, err := jsonObject(data); err != nil {
		return "", invalid("%s must be a JSON object: %s", name, truncate(data, 40))
	}
	return string(data), nil
}

// nonNil gives an empty slice for nil: a list that is empty, not missing.
func nonNil[T any](xs []T) []T {
	if xs == nil {
		return []T{}
	}
	return xs
}

// chunkSize bounds the values of one IN list, well under either engine's
// limit on a statement's arguments (32766 for SQLite, 65535 for PostgreSQL).
const chunkSize = 500

// in adds vs to the arguments and returns the parenthesised list of their
// placeholders, for "column IN (...)". vs must not be empty.
func (w *sqlWhere) in(vs []string) string {
	ph := make([]string, len(vs))
	for i, v := range vs {
		ph[i] = w.arg(v)
	}
	return "(" + strings.Join(ph, ", ") + ")"
}
