package store

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"reflect"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"
)

var qaStart = time.Date(2026, 10, 5, 9, 0, 0, 0, time.UTC)

// mustCreateCalls stores calls with the IDs given, inbound, one a minute
// from qaStart.
func mustCreateCalls(t *testing.T, s Store, ids ...string) {
	t.Helper()
	for i, id := range ids {
		c := Call{ID: id, Direction: Inbound, From: "+6281100000000", To: "demo", Node: "n1",
			StartedAt: qaStart.Add(time.Duration(i) * time.Minute)}
		if err := s.CreateCall(context.Background(), c); err != nil {
			t.Fatalf("CreateCall %s: %v", id, err)
		}
	}
}

func mustScorecard(t *testing.T, s Store, name, form string) Scorecard {
	t.Helper()
	sc, err := s.CreateScorecard(context.Background(), name, json.RawMessage(form), "qa.lead")
	if err != nil {
		t.Fatalf("CreateScorecard %q: %v", name, err)
	}
	return sc
}

// sameJSON reports whether a and b hold the same JSON value: PostgreSQL's
// JSONB keeps neither key order nor spacing.
func sameJSON(t *testing.T, a, b json.RawMessage) bool {
	t.Helper()
	var x, y any
	if err := json.Unmarshal(a, &x); err != nil {
		t.Errorf("stored JSON %s: %v", a, err)
		return false
	}
	if err := json.Unmarshal(b, &y); err != nil {
		t.Fatalf("JSON %s: %v", b, err)
	}
	return reflect.DeepEqual(x, y)
}

// checkInvalid fails t unless err is an ErrInvalid that names field.
func checkInvalid(t *testing.T, what string, err error, field string) {
	t.Helper()
	if !errors.Is(err, ErrInvalid) || !strings.Contains(err.Error(), field) {
		t.Errorf("%s: %v; want ErrInvalid naming %s", what, err, field)
	}
}

func testScorecards(t *testing.T, s Store) {
	ctx := context.Background()
	if scs, err := s.Scorecards(ctx); err != nil || scs == nil || len(scs) != 0 {
		t.Fatalf("Scorecards of an empty store = %#v, %v; want an empty list", scs, err)
	}
	before := time.Now()
	in1 := mustScorecard(t, s, "Inbound", `{"items": [{"id": "greet", "weight": 10}]}`)
	if in1.ID == 0 || in1.Version != 1 || in1.Name != "Inbound" || in1.CreatedBy != "qa.lead" || in1.Retired {
		t.Errorf("first scorecard = %+v; want version 1 of Inbound by qa.lead", in1)
	}
	checkUTC(t, "CreatedAt", in1.CreatedAt)
	if in1.CreatedAt.Before(before.Truncate(time.Microsecond)) || in1.CreatedAt.After(time.Now()) {
		t.Errorf("CreatedAt = %v, want about now", in1.CreatedAt)
	}
	in2 := mustScorecard(t, s, "Inbound", `{"items": [{"id": "greet", "weight": 5}, {"id": "verify", "fatal": true}]}`)
	if in2.Version != 2 || in2.ID == in1.ID {
		t.Errorf("second version of Inbound = %+v; want version 2 with a new ID", in2)
	}
	billing := mustScorecard(t, s, "Billing", `{}`)
	// Lower case sorts after upper case in byte order, whatever the locale.
	alpha := mustScorecard(t, s, "alpha", `{"items": []}`)
	if billing.Version != 1 || alpha.Version != 1 {
		t.Errorf("versions of new names: %d, %d; want 1", billing.Version, alpha.Version)
	}

	checkScorecards := func(want ...Scorecard) {
		t.Helper()
		got, err := s.Scorecards(ctx)
		if err != nil {
			t.Fatalf("Scorecards: %v", err)
		}
		if len(got) != len(want) {
			t.Fatalf("Scorecards = %+v; want %+v", got, want)
		}
		for i := range want {
			checkScorecard(t, got[i], want[i])
		}
	}
	checkScorecards(billing, in2, alpha)

	// Every version stays readable: evaluations point at the one they used.
	got, err := s.ScorecardByID(ctx, in1.ID)
	if err != nil {
		t.Fatalf("ScorecardByID of version 1: %v", err)
	}
	checkScorecard(t, got, in1)

	if err := s.RetireScorecard(ctx, "Billing"); err != nil {
		t.Fatalf("RetireScorecard: %v", err)
	}
	checkScorecards(in2, alpha)
	got, err = s.ScorecardByID(ctx, billing.ID)
	if err != nil || !got.Retired {
		t.Errorf("retired scorecard reads %+v, %v; want Retired", got, err)
	}
	if err := s.RetireScorecard(ctx, "Billing"); err != nil {
		t.Errorf("RetireScorecard again: %v; want nil", err)
	}
	// A new version brings a retired name back, after the retired ones.
	billing2 := mustScorecard(t, s, "Billing", `{"items": [{"id": "refund"}]}`)
	if billing2.Version != 2 || billing2.Retired {
		t.Errorf("Billing after retiring = %+v; want version 2, not retired", billing2)
	}
	checkScorecards(billing2, in2, alpha)

	for _, c := range []struct {
		name, form, field string
	}{
		{"", `{}`, "Name"},
		{"x", ``, "Form"},
		{"x", `[1]`, "Form"},
		{"x", `"form"`, "Form"},
		{"x", `null`, "Form"},
		{"x", `{"items": `, "Form"},
	} {
		_, err := s.CreateScorecard(ctx, c.name, json.RawMessage(c.form), "qa.lead")
		checkInvalid(t, fmt.Sprintf("CreateScorecard(%q, %q)", c.name, c.form), err, c.field)
	}
	if _, err := s.ScorecardByID(ctx, 987654); !errors.Is(err, ErrNotFound) {
		t.Errorf("ScorecardByID(unknown): %v, want ErrNotFound", err)
	}
	if err := s.RetireScorecard(ctx, "Nope"); !errors.Is(err, ErrNotFound) {
		t.Errorf("RetireScorecard(unknown): %v, want ErrNotFound", err)
	}
	if err := s.RetireScorecard(ctx, "inbound"); !errors.Is(err, ErrNotFound) {
		t.Errorf("RetireScorecard is not case-sensitive: %v, want ErrNotFound", err)
	}
}

func checkScorecard(t *testing.T, got, want Scorecard) {
	t.Helper()
	checkTime(t, "scorecard CreatedAt", got.CreatedAt, want.CreatedAt)
	if !sameJSON(t, got.Form, want.Form) {
		t.Errorf("scorecard %d Form = %s, want %s", want.ID, got.Form, want.Form)
	}
	got.CreatedAt, got.Form, want.CreatedAt, want.Form = time.Time{}, nil, time.Time{}, nil
	if !reflect.DeepEqual(got, want) {
		t.Errorf("scorecard = %+v, want %+v", got, want)
	}
}

// testScorecardsConcurrent: eight creators, on two Store handles (two
// nodes), store new versions of one scorecard at once. Each gets a
// version of its own: 1..8, none lost, none twice.
func testScorecardsConcurrent(t *testing.T, s Store) {
	ctx := context.Background()
	nodes := []Store{s, reopen(t, s)}
	const creators = 8
	var wg sync.WaitGroup
	start := make(chan struct{})
	versions := make(chan int, creators)
	errs := make(chan error, creators)
	for i := range creators {
		st := nodes[i%len(nodes)]
		wg.Go(func() {
			<-start
			sc, err := st.CreateScorecard(ctx, "Outbound", json.RawMessage(fmt.Sprintf(`{"creator": %d}`, i)), "qa")
			if err != nil {
				errs <- fmt.Errorf("creator %d: %w", i, err)
				return
			}
			versions <- sc.Version
		})
	}
	close(start)
	wg.Wait()
	close(errs)
	close(versions)
	for err := range errs {
		t.Error(err)
	}
	var got []int
	for v := range versions {
		got = append(got, v)
	}
	slices.Sort(got)
	if want := []int{1, 2, 3, 4, 5, 6, 7, 8}; !slices.Equal(got, want) {
		t.Errorf("versions of concurrent creators = %v, want %v", got, want)
	}
	if scs, err := s.Scorecards(ctx); err != nil || len(scs) != 1 || scs[0].Version != creators {
		t.Errorf("Scorecards after the race = %+v, %v; want version %d alone", scs, err, creators)
	}
}

func testEvaluations(t *testing.T, s Store) {
	ctx := context.Background()
	mustCreateCalls(t, s, "e-1", "e-2")
	if err := s.SetCallDisposition(ctx, "e-1", Disposition{Code: "resolved", AgentID: 7}); err != nil {
		t.Fatal(err)
	}
	sc := mustScorecard(t, s, "Inbound", `{"items": [{"id": "greet"}]}`)
	t0 := time.Date(2026, 10, 6, 10, 0, 0, 123456789, time.UTC)

	first := Evaluation{CallID: "e-1", ScorecardID: sc.ID, EvaluatorID: 20, Evaluator: "qa.one",
		Answers: json.RawMessage(`{"greet": true}`), Score: 87.5, Notes: "warm greeting", UpdatedAt: t0}
	saved, err := s.SaveEvaluation(ctx, first)
	if err != nil {
		t.Fatalf("SaveEvaluation: %v", err)
	}
	want := first
	want.ID, want.AgentID, want.CreatedAt, want.UpdatedAt = saved.ID, 7, stored(t0), stored(t0)
	if saved.ID == 0 {
		t.Error("SaveEvaluation left ID zero")
	}
	checkEvaluation(t, saved, want) // the call's agent, as none was given
	checkEvaluations(t, s, EvaluationFilter{CallID: "e-1"}, want)

	// Saving again replaces: the same row, its CreatedAt kept.
	t1 := t0.Add(time.Hour)
	again := Evaluation{CallID: "e-1", ScorecardID: sc.ID, EvaluatorID: 20, Evaluator: "qa.one",
		Answers: json.RawMessage(`{"greet": false}`), Score: 40, Failed: true, Notes: "no verification", UpdatedAt: t1}
	replaced, err := s.SaveEvaluation(ctx, again)
	if err != nil {
		t.Fatalf("SaveEvaluation again: %v", err)
	}
	want2 := again
	want2.ID, want2.AgentID, want2.CreatedAt, want2.UpdatedAt = saved.ID, 7, stored(t0), stored(t1)
	checkEvaluation(t, replaced, want2)
	checkEvaluations(t, s, EvaluationFilter{CallID: "e-1"}, want2)

	// Another evaluator of the same call, an agent given, a call with no
	// agent; and the bounds of the score.
	other, err := s.SaveEvaluation(ctx, Evaluation{CallID: "e-1", ScorecardID: sc.ID, EvaluatorID: 21, Evaluator: "qa.two",
		AgentID: 9, Answers: json.RawMessage(`{}`), Score: 100, UpdatedAt: t1.Add(time.Minute)})
	if err != nil || other.ID == saved.ID || other.AgentID != 9 {
		t.Errorf("a second evaluator's evaluation = %+v, %v; want a new one of agent 9", other, err)
	}
	none, err := s.SaveEvaluation(ctx, Evaluation{CallID: "e-2", ScorecardID: sc.ID, EvaluatorID: 20, Evaluator: "qa.one",
		Answers: json.RawMessage(`{}`), Score: 0})
	if err != nil || none.AgentID != 0 {
		t.Errorf("evaluation of a call with no agent = %+v, %v; want AgentID 0", none, err)
	}
	checkTime(t, "CreatedAt of an evaluation saved now", none.CreatedAt, none.UpdatedAt)
	if time.Since(none.CreatedAt) > time.Minute {
		t.Errorf("zero UpdatedAt stored as %v, want now", none.CreatedAt)
	}
	if got, err := s.Evaluations(ctx, EvaluationFilter{CallID: "e-1"}); err != nil || len(got) != 2 {
		t.Errorf("evaluations of e-1 = %d, %v; want 2", len(got), err)
	}

	if _, err := s.SaveEvaluation(ctx, Evaluation{CallID: "nope", ScorecardID: sc.ID, EvaluatorID: 20,
		Answers: json.RawMessage(`{}`)}); !errors.Is(err, ErrNotFound) || !strings.Contains(err.Error(), "call nope") {
		t.Errorf("evaluation of an unknown call: %v; want ErrNotFound naming the call", err)
	}
	if _, err := s.SaveEvaluation(ctx, Evaluation{CallID: "e-1", ScorecardID: sc.ID + 1000, EvaluatorID: 20,
		Answers: json.RawMessage(`{}`)}); !errors.Is(err, ErrNotFound) || !strings.Contains(err.Error(), "scorecard") {
		t.Errorf("evaluation on an unknown scorecard: %v; want ErrNotFound naming the scorecard", err)
	}
	valid := Evaluation{CallID: "e-2", ScorecardID: sc.ID, EvaluatorID: 30, Answers: json.RawMessage(`{}`), Score: 50}
	for _, c := range []struct {
		field string
		edit  func(*Evaluation)
	}{
		{"CallID", func(e *Evaluation) { e.CallID = "" }},
		{"ScorecardID", func(e *Evaluation) { e.ScorecardID = 0 }},
		{"EvaluatorID", func(e *Evaluation) { e.EvaluatorID = 0 }},
		{"AgentID", func(e *Evaluation) { e.AgentID = -1 }},
		{"Score", func(e *Evaluation) { e.Score = -0.5 }},
		{"Score", func(e *Evaluation) { e.Score = 100.01 }},
		{"Score", func(e *Evaluation) { e.Score = math.NaN() }},
		{"Answers", func(e *Evaluation) { e.Answers = nil }},
		{"Answers", func(e *Evaluation) { e.Answers = json.RawMessage(`[]`) }},
		{"Answers", func(e *Evaluation) { e.Answers = json.RawMessage(`{"a":`) }},
	} {
		e := valid
		c.edit(&e)
		_, err := s.SaveEvaluation(ctx, e)
		checkInvalid(t, fmt.Sprintf("SaveEvaluation with a bad %s", c.field), err, c.field)
	}
	if got, err := s.Evaluations(ctx, EvaluationFilter{EvaluatorID: 30}); err != nil || len(got) != 0 {
		t.Errorf("refused evaluations were stored: %+v, %v", got, err)
	}
}

// checkEvaluations fails t unless the evaluations f selects are want, in order.
func checkEvaluations(t *testing.T, s Store, f EvaluationFilter, want ...Evaluation) {
	t.Helper()
	got, err := s.Evaluations(context.Background(), f)
	if err != nil {
		t.Fatalf("Evaluations(%+v): %v", f, err)
	}
	if len(got) != len(want) {
		t.Fatalf("Evaluations(%+v) gave %d, want %d: %+v", f, len(got), len(want), got)
	}
	for i := range want {
		checkEvaluation(t, got[i], want[i])
	}
}

func checkEvaluation(t *testing.T, got, want Evaluation) {
	t.Helper()
	checkTime(t, "evaluation CreatedAt", got.CreatedAt, want.CreatedAt)
	checkTime(t, "evaluation UpdatedAt", got.UpdatedAt, want.UpdatedAt)
	if !sameJSON(t, got.Answers, want.Answers) {
		t.Errorf("evaluation %d Answers = %s, want %s", want.ID, got.Answers, want.Answers)
	}
	got.CreatedAt, got.UpdatedAt, got.Answers = time.Time{}, time.Time{}, nil
	want.CreatedAt, want.UpdatedAt, want.Answers = time.Time{}, time.Time{}, nil
	if !reflect.DeepEqual(got, want) {
		t.Errorf("evaluation = %+v, want %+v", got, want)
	}
}

// testEvaluationFilters holds Evaluations to a plain oracle over a spread of
// calls, agents, evaluators and times.
func testEvaluationFilters(t *testing.T, s Store) {
	ctx := context.Background()
	calls := []string{"f-0", "f-1", "f-2", "f-3", "f-4", "f-5"}
	mustCreateCalls(t, s, calls...)
	sc := mustScorecard(t, s, "Inbound", `{}`)
	var all []Evaluation
	for i := range 24 {
		e, err := s.SaveEvaluation(ctx, Evaluation{CallID: calls[i%6], ScorecardID: sc.ID, EvaluatorID: int64(100 + i/6),
			Evaluator: "qa", AgentID: int64(1 + i%3), Answers: json.RawMessage(`{}`), Score: float64(i * 4),
			// Some share a time, so that the order falls to the ID.
			UpdatedAt: qaStart.Add(time.Duration(i/2) * time.Hour)})
		if err != nil {
			t.Fatal(err)
		}
		all = append(all, e)
	}
	byID := map[int64]Evaluation{}
	for _, e := range all {
		byID[e.ID] = e
	}
	since, until := qaStart.Add(3*time.Hour), qaStart.Add(8*time.Hour)
	for _, f := range []EvaluationFilter{
		{},
		{CallID: "f-2"},
		{AgentID: 2},
		{EvaluatorID: 101},
		{Since: since},
		{Until: until},
		{Since: since, Until: until},
		{AgentID: 1, Since: since, Until: until},
		{AgentID: 3, EvaluatorID: 102},
		{CallID: "f-0", AgentID: 1, EvaluatorID: 100},
		{CallID: "nope"},
		{AgentID: 99},
		{Limit: 5},
		{AgentID: 2, Limit: 3},
	} {
		var want []int64
		for _, e := range all {
			if (f.CallID == "" || e.CallID == f.CallID) && (f.AgentID == 0 || e.AgentID == f.AgentID) &&
				(f.EvaluatorID == 0 || e.EvaluatorID == f.EvaluatorID) &&
				(f.Since.IsZero() || !e.CreatedAt.Before(f.Since)) && (f.Until.IsZero() || e.CreatedAt.Before(f.Until)) {
				want = append(want, e.ID)
			}
		}
		slices.SortFunc(want, func(a, b int64) int {
			return cmp.Or(byID[b].CreatedAt.Compare(byID[a].CreatedAt), cmp.Compare(b, a))
		})
		if f.Limit > 0 && len(want) > f.Limit {
			want = want[:f.Limit]
		}
		got, err := s.Evaluations(ctx, f)
		if err != nil {
			t.Errorf("Evaluations(%+v): %v", f, err)
			continue
		}
		if gotIDs := ids(got, func(e Evaluation) int64 { return e.ID }); !slices.Equal(gotIDs, want) {
			t.Errorf("Evaluations(%+v) = %v, want %v", f, gotIDs, want)
		}
	}
	for _, c := range []struct {
		f     EvaluationFilter
		field string
	}{
		{EvaluationFilter{Limit: -1}, "Limit"},
		{EvaluationFilter{AgentID: -2}, "AgentID"},
		{EvaluationFilter{EvaluatorID: -2}, "EvaluatorID"},
		{EvaluationFilter{Since: until, Until: since}, "Until"},
		{EvaluationFilter{Since: since, Until: since}, "Until"},
	} {
		_, err := s.Evaluations(ctx, c.f)
		checkInvalid(t, fmt.Sprintf("Evaluations(%+v)", c.f), err, c.field)
	}
	checkPageLimits(t, s, `INSERT INTO evaluations (call_id, scorecard_id, evaluator_id, evaluator, answers, score,
  created_at, updated_at)
SELECT 'f-0', `+fmt.Sprint(sc.ID)+`, 1000 + i, 'qa', '{}', 50, '2026-01-01T00:00:00.000000Z',
  '2026-01-01T00:00:00.000000Z' FROM n`, defaultEvaluationLimit,
		maxEvaluationLimit, func(limit int) (int, error) {
			if limit < 0 {
				limit = 0 // negative is refused, above
			}
			es, err := s.Evaluations(ctx, EvaluationFilter{Limit: limit})
			return len(es), err
		})
}

func testEvaluatedCalls(t *testing.T, s Store) {
	ctx := context.Background()
	mustCreateCalls(t, s, "a", "b", "c")
	sc := mustScorecard(t, s, "Inbound", `{}`)
	for _, id := range []string{"a", "c"} {
		if _, err := s.SaveEvaluation(ctx, Evaluation{CallID: id, ScorecardID: sc.ID, EvaluatorID: 5,
			Answers: json.RawMessage(`{}`)}); err != nil {
			t.Fatal(err)
		}
	}
	// More IDs than one statement takes, the evaluated ones at either end.
	many := []string{"a"}
	for i := range 1200 {
		many = append(many, fmt.Sprintf("other-%d", i))
	}
	many = append(many, "b", "c")
	for _, c := range []struct {
		ids  []string
		want map[string]bool
	}{
		{[]string{"a", "b", "c", "nope"}, map[string]bool{"a": true, "c": true}},
		{[]string{"b"}, map[string]bool{}},
		{nil, map[string]bool{}},
		{many, map[string]bool{"a": true, "c": true}},
	} {
		got, err := s.EvaluatedCalls(ctx, c.ids)
		if err != nil || got == nil || !reflect.DeepEqual(got, c.want) {
			t.Errorf("EvaluatedCalls of %d IDs = %v, %v; want %v", len(c.ids), got, err, c.want)
		}
	}
}
