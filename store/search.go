package store

import (
	"context"
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"
)

// Page sizes of SearchCalls.
const (
	defaultSearchLimit = 50
	maxSearchLimit     = 200
)

// CSAT scores run from minCSAT (worst) to maxCSAT (best).
const (
	minCSAT = 1
	maxCSAT = 5
)

var (
	qSetCallSummary = newQuery(`UPDATE calls SET queue = $2, intent = $3, language = $4, sentiment = $5, angry = $6,
  resolution = $7
WHERE id = $1`)
	qSetCallCSAT = newQuery(`UPDATE calls SET csat = $2 WHERE id = $1`)
)

// SetCallSummary replaces the call's summary, CSAT apart.
func (d *db) SetCallSummary(ctx context.Context, id string, s CallSummary) error {
	if err := checkSentiment("Sentiment", s.Sentiment); err != nil {
		return fmt.Errorf("store the summary of call %s: %w", id, err)
	}
	if !s.Resolution.Valid() {
		return fmt.Errorf("store the summary of call %s: %w", id, invalid("Resolution %q is none of %q, %q, %q or empty",
			s.Resolution, ResolutionIVR, ResolutionAgent, ResolutionAbandoned))
	}
	var sentiment any // NULL: not scored
	if s.Sentiment != nil {
		sentiment = *s.Sentiment
	}
	return d.updateCall(ctx, "store the summary of", qSetCallSummary, id, s.Queue, s.Intent, s.Language, sentiment,
		s.Angry, string(s.Resolution))
}

// SetCallCSAT stores the caller's survey score, 1..5.
func (d *db) SetCallCSAT(ctx context.Context, id string, score int) error {
	if score < minCSAT || score > maxCSAT {
		return fmt.Errorf("store the CSAT score of call %s: %w", id, invalid("score %d is outside %d..%d", score, minCSAT, maxCSAT))
	}
	return d.updateCall(ctx, "store the CSAT score of", qSetCallCSAT, id, score)
}

// SearchCalls returns a page of the calls that match f, newest first by
// (started_at, id).
func (d *db) SearchCalls(ctx context.Context, f CallSearch) (CallPage, error) {
	if err := f.validate(); err != nil {
		return CallPage{}, fmt.Errorf("search calls: %w", err)
	}
	var cursor time.Time
	if f.Before != "" {
		if err := d.queryRow(ctx, qCallStarted, f.Before).Scan(timeDest(&cursor)); err != nil {
			return CallPage{}, fmt.Errorf("search calls: %w", notFound(err, "call "+f.Before))
		}
	}
	q := f.sql(cursor)

	page := CallPage{Total: -1}
	if f.Count {
		if err := d.queryRow(ctx, q.count, q.countArgs...).Scan(&page.Total); err != nil {
			return CallPage{}, fmt.Errorf("search calls: count: %w", err)
		}
	}
	cs, err := queryAll(ctx, d, q.page, scanCall, q.pageArgs...)
	if err != nil {
		return CallPage{}, fmt.Errorf("search calls: %w", err)
	}
	if n := q.limit; len(cs) > n {
		cs = cs[:n]
		page.Next = cs[n-1].ID
	}
	if cs == nil {
		cs = []Call{} // an empty page, not a missing one
	}
	page.Calls = cs
	return page, nil
}

// searchSQL is the SQL of one search.
type searchSQL struct {
	// page reads limit+1 calls: one more than a page says whether another
	// follows, without a query for it.
	page     query
	pageArgs []any
	limit    int
	// count counts every match, the keyset bound apart.
	count     query
	countArgs []any
}

// sql puts together the queries of search f, whose cursor call (f.Before)
// started at cursor. A query is put together from the fields f sets, so
// that each filter is a plain comparison the planner can match to an index
// (see migration 0009); every value goes in as an argument, never as text.
func (f CallSearch) sql(cursor time.Time) searchSQL {
	var w sqlWhere
	f.conditions(&w)
	q := searchSQL{count: newQuery(`SELECT COUNT(*) FROM calls` + w.clause()), countArgs: w.args}
	if f.Before != "" {
		w.add("(started_at, id) < (" + w.arg(utc(cursor)) + ", " + w.arg(f.Before) + ")")
	}
	q.limit = limit(f.Limit, defaultSearchLimit, maxSearchLimit)
	q.page = newQuery(`SELECT ` + callColumns + ` FROM calls` + w.clause() + `
ORDER BY started_at DESC, id DESC
LIMIT ` + w.arg(q.limit+1))
	q.pageArgs = w.args
	return q
}

// conditions adds to w a condition for each field f sets, Before and Limit
// apart.
func (f CallSearch) conditions(w *sqlWhere) {
	if !f.Since.IsZero() {
		w.add("started_at >= " + w.arg(utc(f.Since)))
	}
	if !f.Until.IsZero() {
		w.add("started_at < " + w.arg(utc(f.Until)))
	}
	for _, eq := range []struct {
		column, value string
	}{
		{"queue", f.Queue},
		{"intent", f.Intent},
		{"language", f.Language},
		{"disposition", f.Disposition},
		{"resolution", string(f.Resolution)},
		{"from_uri", f.From},
	} {
		if eq.value != "" {
			w.add(eq.column + " = " + w.arg(eq.value))
		}
	}
	if f.AgentID != 0 {
		w.add("agent_id = " + w.arg(f.AgentID))
	}
	if f.MinSentiment != nil {
		w.add("sentiment >= " + w.arg(*f.MinSentiment))
	}
	if f.MaxSentiment != nil {
		w.add("sentiment <= " + w.arg(*f.MaxSentiment))
	}
	if f.AngryOnly {
		// Spelt as the predicate of calls_angry_started_at, so that the
		// planner can use that partial index.
		w.add("angry")
	}
	if f.MinDuration != 0 {
		w.add("duration_ms >= " + w.arg(f.MinDuration.Milliseconds()))
	}
	if f.MaxDuration != 0 {
		w.add("duration_ms <= " + w.arg(f.MaxDuration.Milliseconds()))
	}
	if f.MinCSAT != 0 {
		w.add("csat >= " + w.arg(f.MinCSAT))
	}
	if f.MaxCSAT != 0 {
		w.add("csat <= " + w.arg(f.MaxCSAT))
	}
	if f.HasRecording {
		w.add("EXISTS (SELECT 1 FROM recordings r WHERE r.call_id = calls.id)")
	}
}

// validate refuses a search that makes no sense, naming the field.
func (f CallSearch) validate() error {
	if f.Limit < 0 {
		return invalid("Limit is %d; it may not be negative (0 means %d)", f.Limit, defaultSearchLimit)
	}
	if !f.Since.IsZero() && !f.Until.IsZero() && !f.Until.After(f.Since) {
		return invalid("Until (%s) is not after Since (%s)", f.Until.Format(time.RFC3339), f.Since.Format(time.RFC3339))
	}
	if f.AgentID < 0 {
		return invalid("AgentID is %d; agent IDs are positive", f.AgentID)
	}
	if !f.Resolution.Valid() {
		return invalid("Resolution %q is none of %q, %q, %q or empty", f.Resolution, ResolutionIVR, ResolutionAgent,
			ResolutionAbandoned)
	}
	if err := checkSentiment("MinSentiment", f.MinSentiment); err != nil {
		return err
	}
	if err := checkSentiment("MaxSentiment", f.MaxSentiment); err != nil {
		return err
	}
	if f.MinSentiment != nil && f.MaxSentiment != nil && *f.MinSentiment > *f.MaxSentiment {
		return invalid("MinSentiment %g is above MaxSentiment %g", *f.MinSentiment, *f.MaxSentiment)
	}
	for _, d := range []struct {
		name string
		v    time.Duration
	}{{"MinDuration", f.MinDuration}, {"MaxDuration", f.MaxDuration}} {
		if d.v < 0 {
			return invalid("%s is %s; it may not be negative (0 means no bound)", d.name, d.v)
		}
	}
	if f.MinDuration != 0 && f.MaxDuration != 0 && f.MinDuration > f.MaxDuration {
		return invalid("MinDuration %s is above MaxDuration %s", f.MinDuration, f.MaxDuration)
	}
	for _, c := range []struct {
		name string
		v    int
	}{{"MinCSAT", f.MinCSAT}, {"MaxCSAT", f.MaxCSAT}} {
		if c.v != 0 && (c.v < minCSAT || c.v > maxCSAT) {
			return invalid("%s is %d; scores run %d..%d (0 means no bound)", c.name, c.v, minCSAT, maxCSAT)
		}
	}
	if f.MinCSAT != 0 && f.MaxCSAT != 0 && f.MinCSAT > f.MaxCSAT {
		return invalid("MinCSAT %d is above MaxCSAT %d", f.MinCSAT, f.MaxCSAT)
	}
	return nil
}

// checkSentiment refuses a sentiment score outside -1..1 (NaN included);
// nil, for "none", passes.
func checkSentiment(name string, v *float64) error {
	if v != nil && (math.IsNaN(*v) || *v < -1 || *v > 1) {
		return invalid("%s is %g; sentiment runs -1..1", name, *v)
	}
	return nil
}

// invalid is an ErrInvalid that says what is wrong.
func invalid(format string, args ...any) error {
	return fmt.Errorf("%w: %s", ErrInvalid, fmt.Sprintf(format, args...))
}

// sqlWhere gathers the conditions of a query put together at run time, and
// their arguments. Values only ever go in as $N placeholders (arg); the
// condition text is the store's own.
type sqlWhere struct {
	conds []string
	args  []any
}

// arg adds v to the arguments and returns its placeholder.
func (w *sqlWhere) arg(v any) string {
	w.args = append(w.args, v)
	return "$" + strconv.Itoa(len(w.args))
}

func (w *sqlWhere) add(cond string) { w.conds = append(w.conds, cond) }

// clause is the WHERE clause, or "" for no conditions.
func (w *sqlWhere) clause() string {
	if len(w.conds) == 0 {
		return ""
	}
	return "\nWHERE " + strings.Join(w.conds, "\n  AND ")
}
