package store

import (
	"context"
	"encoding/json"
	"errors"
	"maps"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"
)

// keptTables may go on naming an erased call: the audit trail, which
// records the erasure itself, and the migrations' own table.
var keptTables = []string{"audit_events", "schema_migrations"}

// eraseFixture is a store with calls that have a row in every table that
// can hang off a call.
type eraseFixture struct {
	s         Store
	agent     Agent
	scorecard Scorecard
}

func newEraseFixture(t *testing.T, s Store) *eraseFixture {
	t.Helper()
	f := &eraseFixture{s: s, agent: newAgent(t, s, "agent.erase", []string{"lang:en"}, qaStart.Add(-time.Hour))}
	f.scorecard = mustScorecard(t, s, "Inbound", `{"items": [{"id": "greet"}]}`)
	return f
}

// addCall stores call id from the caller from, with its timeline, a
// recording, an evaluation, a comment, a review item, a queue entry (with
// a skill) and the agent's states on it. The agent is left in wrap-up on
// it, so that the agent's row names it too.
func (f *eraseFixture) addCall(t *testing.T, id, from string, start time.Time) {
	t.Helper()
	ctx := context.Background()
	s := f.s
	if err := s.CreateCall(ctx, Call{ID: id, Direction: Inbound, From: from, To: "+62215550100", Node: "n1",
		StartedAt: start, EndedAt: start.Add(3 * time.Minute), Outcome: "completed"}); err != nil {
		t.Fatal(err)
	}
	if err := s.SetCallContact(ctx, id, json.RawMessage(`{"v":1,"caller":{"number":"`+from+`"}}`)); err != nil {
		t.Fatal(err)
	}
	if err := s.SetCallDisposition(ctx, id, Disposition{Code: "resolved", AgentID: f.agent.UserID}); err != nil {
		t.Fatal(err)
	}
	for _, kind := range []string{"sip.invite", "ivr.heard", "call.ended"} {
		if _, err := s.AppendCallEvent(ctx, CallEvent{CallID: id, Kind: kind,
			Data: json.RawMessage(`{"from":"` + from + `"}`)}); err != nil {
			t.Fatal(err)
		}
	}
	newRecording(t, s, id, time.Second)
	if _, err := s.SaveEvaluation(ctx, Evaluation{CallID: id, ScorecardID: f.scorecard.ID, EvaluatorID: 50,
		Evaluator: "qa.one", Answers: json.RawMessage(`{"greet": true}`), Score: 90}); err != nil {
		t.Fatal(err)
	}
	if _, err := s.AddComment(ctx, Comment{CallID: id, At: 2 * time.Second, AuthorID: 50, Author: "qa.one",
		Text: "caller " + from + " sounds upset"}); err != nil {
		t.Fatal(err)
	}
	if n, err := s.AddReviewItems(ctx, []ReviewItem{{CallID: id, AssigneeID: 50, Reason: "angry",
		Period: "2026-Q4"}}); err != nil || n != 1 {
		t.Fatalf("AddReviewItems: %d, %v", n, err)
	}
	mustEnqueue(t, s, QueueEntry{CallID: id, Queue: "billing", Skills: []string{"lang:en"}, Number: from, Node: "n1"})
	for _, to := range []string{AgentOnCall, AgentWrapUp} {
		if _, err := s.SetAgentState(ctx, AgentStateChange{AgentID: f.agent.UserID, To: to, CallID: id,
			Actor: "agent.erase", Node: "n1"}); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := s.AppendAudit(ctx, AuditEvent{Actor: "qa.one", Action: "recording.play", Target: id,
		Outcome: "ok"}); err != nil {
		t.Fatal(err)
	}
}

// mentions counts, in each table of the schema, the rows with a column
// that holds text: any column, of any type, read as text. The tables and
// their columns come from the catalog, so a table added later is searched
// too.
func mentions(t *testing.T, s Store, text string) map[string]int {
	t.Helper()
	ctx := context.Background()
	d := internals(t, s)
	catalog := query{
		sqlite: `SELECT m.name, p.name FROM sqlite_master m JOIN pragma_table_info(m.name) p
WHERE m.type = 'table' AND m.name NOT LIKE 'sqlite_%' ORDER BY m.name, p.cid`,
		postgres: `SELECT c.table_name, c.column_name FROM information_schema.columns c
JOIN information_schema.tables t ON t.table_schema = c.table_schema AND t.table_name = c.table_name
WHERE c.table_schema = current_schema() AND t.table_type = 'BASE TABLE'
ORDER BY c.table_name, c.ordinal_position`,
	}
	type column struct{ table, name string }
	cols, err := queryAll(ctx, d, catalog, func(r row) (column, error) {
		var c column
		err := r.Scan(&c.table, &c.name)
		return c, err
	})
	if err != nil || len(cols) == 0 {
		t.Fatalf("read the catalog: %d columns, %v", len(cols), err)
	}
	tables := map[string][]string{}
	for _, c := range cols {
		tables[c.table] = append(tables[c.table], `CAST("`+c.name+`" AS TEXT) LIKE '%' || $1 || '%'`)
	}
	out := map[string]int{}
	for table, conds := range tables {
		var n int
		q := newQuery(`SELECT COUNT(*) FROM "` + table + `" WHERE ` + strings.Join(conds, " OR "))
		if err := d.queryRow(ctx, q, text).Scan(&n); err != nil {
			t.Fatalf("search %s for %q: %v", table, text, err)
		}
		out[table] = n
	}
	return out
}

// callState is all the Store says about a call and what hangs off it.
type callState struct {
	Call        Call
	Events      []CallEvent
	Recordings  []Recording
	Evaluations []Evaluation
	Comments    []Comment
}

func readCallState(t *testing.T, s Store, id string) callState {
	t.Helper()
	ctx := context.Background()
	var st callState
	var err error
	st.Call = mustCall(t, s, id)
	if st.Events, err = s.CallEvents(ctx, id); err != nil {
		t.Fatal(err)
	}
	if st.Recordings, err = s.CallRecordings(ctx, id); err != nil {
		t.Fatal(err)
	}
	if st.Evaluations, err = s.Evaluations(ctx, EvaluationFilter{CallID: id}); err != nil {
		t.Fatal(err)
	}
	if st.Comments, err = s.CallComments(ctx, id); err != nil {
		t.Fatal(err)
	}
	return st
}

// testEraseCalls erases a caller's call and then searches every table of
// the schema, column by column, for the call's ID and the caller's number:
// only the audit trail may still hold them. The other caller's call, which
// had a row in all the same tables, is untouched, and the agent's history
// keeps its shape.
func testEraseCalls(t *testing.T, s Store) {
	ctx := context.Background()
	f := newEraseFixture(t, s)
	const gone, goneFrom, kept, keptFrom = "erase-me", "+6281234", "keep-me", "+6289999"
	f.addCall(t, kept, keptFrom, qaStart)
	f.addCall(t, gone, goneFrom, qaStart.Add(time.Hour))

	// Before: the search finds both calls in every table that hangs off a
	// call, so that finding nothing after means something.
	for _, text := range []string{gone, kept} {
		found := mentions(t, s, text)
		for _, table := range []string{"calls", "call_events", "recordings", "evaluations", "comments",
			"review_items", "queue_entries", "agent_states", "audit_events"} {
			if found[table] == 0 {
				t.Fatalf("before erasure, %s holds no row naming %s: the fixture misses it", table, text)
			}
		}
	}
	if found := mentions(t, s, goneFrom); found["queue_entries"] == 0 || found["calls"] == 0 {
		t.Fatalf("before erasure, the caller's number is not found: %v", found)
	}
	keptBefore, keptFromBefore := mentions(t, s, kept), mentions(t, s, keptFrom)
	keptState := readCallState(t, s, kept)
	history, err := s.AgentStates(ctx, f.agent.UserID)
	if err != nil {
		t.Fatal(err)
	}
	keptItems, _ := s.ReviewQueue(ctx, 50, false)

	n, err := s.EraseCalls(ctx, []string{gone})
	if err != nil || n != 1 {
		t.Fatalf("EraseCalls = %d, %v; want 1", n, err)
	}

	for _, text := range []string{gone, goneFrom} {
		for table, n := range mentions(t, s, text) {
			if n != 0 && !slices.Contains(keptTables, table) {
				t.Errorf("after erasure, %d rows of %s still hold %q", n, table, text)
			}
		}
	}
	if audit, err := s.ListAudit(ctx, AuditFilter{Target: gone}); err != nil || len(audit) != 1 {
		t.Errorf("the audit trail of the erased call: %d events, %v; want it kept", len(audit), err)
	}
	if _, err := s.CallByID(ctx, gone); !errors.Is(err, ErrNotFound) {
		t.Errorf("CallByID of an erased call: %v, want ErrNotFound", err)
	}

	// The other call: every table holds what it held, and it reads the same.
	if after := mentions(t, s, kept); !maps.Equal(after, keptBefore) {
		t.Errorf("rows naming %s: %v before erasure, %v after", kept, keptBefore, after)
	}
	if after := mentions(t, s, keptFrom); !maps.Equal(after, keptFromBefore) {
		t.Errorf("rows naming %s: %v before erasure, %v after", keptFrom, keptFromBefore, after)
	}
	if after := readCallState(t, s, kept); !reflect.DeepEqual(after, keptState) {
		t.Errorf("the other call changed:\n%+v\nbefore:\n%+v", after, keptState)
	}
	items, _ := s.ReviewQueue(ctx, 50, false)
	if len(items) != 1 || items[0] != keptItems[0] || keptItems[0].CallID != kept {
		t.Errorf("review queue after erasure: %+v; want %+v", items, keptItems[:1])
	}

	// The agent's history: as long as before, the erased call blanked.
	after, err := s.AgentStates(ctx, f.agent.UserID)
	if err != nil || len(after) != len(history) {
		t.Fatalf("agent history: %d entries after erasure, %d before (%v)", len(after), len(history), err)
	}
	for i := range history {
		want := history[i]
		if want.CallID == gone {
			want.CallID = ""
		}
		if after[i] != want {
			t.Errorf("history entry %d = %+v, want %+v", i, after[i], want)
		}
	}
	if a, err := s.AgentByID(ctx, f.agent.UserID); err != nil || a.CallID != "" || a.State != AgentWrapUp {
		t.Errorf("the agent after erasure: %+v, %v; want wrap-up with no call", a, err)
	}
	// Erasing again, or a call that never was, erases nothing.
	if n, err := s.EraseCalls(ctx, []string{gone, "never-was"}); err != nil || n != 0 {
		t.Errorf("EraseCalls again = %d, %v; want 0", n, err)
	}
	// Blanking is the one change erasure may make to the history.
	checkRejectsUpdate(t, s, "agent_states", "call_id = 'forged'")
	checkRejectsUpdate(t, s, "agent_states", "call_id = '', reason = 'edited'")
}

// testEraseCallsHeld: a batch with a call on legal hold erases nothing, and
// says which call is held; released, the batch goes.
func testEraseCallsHeld(t *testing.T, s Store) {
	ctx := context.Background()
	f := newEraseFixture(t, s)
	f.addCall(t, "a", "+6281234", qaStart)
	f.addCall(t, "b", "+6281234", qaStart.Add(time.Hour))
	f.addCall(t, "c", "+6281234", qaStart.Add(2*time.Hour))
	if err := s.SetLegalHold(ctx, "b", true, "legal", "case 7"); err != nil {
		t.Fatal(err)
	}
	before := map[string]map[string]int{}
	for _, id := range []string{"a", "b", "c"} {
		before[id] = mentions(t, s, id)
	}
	n, err := s.EraseCalls(ctx, []string{"a", "b", "c"})
	if !errors.Is(err, ErrHeld) || n != 0 || !strings.Contains(err.Error(), "call b") {
		t.Fatalf("EraseCalls with a held call = %d, %v; want ErrHeld naming call b", n, err)
	}
	for _, id := range []string{"a", "b", "c"} {
		if after := mentions(t, s, id); !maps.Equal(after, before[id]) {
			t.Errorf("a refused erasure changed the rows naming %s: %v before, %v after", id, before[id], after)
		}
	}

	// Duplicates and the order given do not matter.
	if err := s.SetLegalHold(ctx, "b", false, "legal", ""); err != nil {
		t.Fatal(err)
	}
	if n, err := s.EraseCalls(ctx, []string{"c", "a", "b", "a", "nope"}); err != nil || n != 3 {
		t.Fatalf("EraseCalls after the release = %d, %v; want 3", n, err)
	}
	if cs, err := s.CallsFrom(ctx, "+6281234"); err != nil || len(cs) != 0 {
		t.Errorf("calls left after erasure: %+v, %v", cs, err)
	}
	if n, err := s.EraseCalls(ctx, nil); err != nil || n != 0 {
		t.Errorf("EraseCalls(nil) = %d, %v; want 0", n, err)
	}
	_, err = s.EraseCalls(ctx, []string{"x", ""})
	checkInvalid(t, "EraseCalls with an empty ID", err, "ID")
}
