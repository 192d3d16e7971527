package store

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"
)

// TestRetentionPlans checks that retention, erasure and the evaluation
// lists read the indexes migrations 0010 and 0011 made for them (see
// TestSearchCallsPlans for how plans are read): a retention run must not
// walk every call ever taken, nor every recording, nor an erasure every
// agent state.
func TestRetentionPlans(t *testing.T) {
	forEngines(t, func(t *testing.T, e testEngine) {
		ctx := context.Background()
		s := openTest(t, e.config(t))
		loadCalls(t, s, generateCalls(2000, 3))
		agent := newAgent(t, s, "agent.plan", []string{"lang:en"}, seedEnd.Add(-24*time.Hour))
		sc := mustScorecard(t, s, "Inbound", `{}`)
		for i := range 200 {
			id := fmt.Sprintf("plan-%03d", i)
			start := seedEnd.Add(-time.Duration(i) * time.Hour)
			if err := s.CreateCall(ctx, Call{ID: id, Direction: Inbound, From: "+6281234", StartedAt: start}); err != nil {
				t.Fatal(err)
			}
			r := newRecording(t, s, id, time.Second)
			// A third of the recordings are under a policy of their own,
			// some past, most to come.
			if i%3 == 0 {
				if err := s.SetRecordingRetention(ctx, r.ID, start.Add(time.Duration(i)*24*time.Hour)); err != nil {
					t.Fatal(err)
				}
			}
			mustEnqueue(t, s, QueueEntry{CallID: id, Queue: "billing", Node: "n1"})
			for _, to := range []string{AgentOnCall, AgentAvailable} {
				if _, err := s.SetAgentState(ctx, AgentStateChange{AgentID: agent.UserID, To: to,
					CallID: map[bool]string{true: id}[to == AgentOnCall], Actor: "agent.plan", Node: "n1"}); err != nil {
					t.Fatal(err)
				}
			}
			if _, err := s.SaveEvaluation(ctx, Evaluation{CallID: id, ScorecardID: sc.ID, EvaluatorID: int64(1 + i%5),
				AgentID: int64(1 + i%20), Answers: json.RawMessage(`{}`), Score: 50}); err != nil {
				t.Fatal(err)
			}
		}
		if _, err := internals(t, s).exec(ctx, script("ANALYZE")); err != nil {
			t.Fatal(err)
		}

		erase := func(stmt string) (query, []any) {
			var w sqlWhere
			return newQuery(stmt + w.in([]string{"plan-001", "plan-002"})), w.args
		}
		agentStates, agentStatesArgs := erase(`UPDATE agent_states SET call_id = '' WHERE call_id <> '' AND call_id IN `)
		entries, entriesArgs := erase(`DELETE FROM queue_entries WHERE call_id IN `)
		// As ExpiredRecordings(seedEnd, 100 hours, 100) asks.
		expiredArgs := []any{utc(seedEnd), utc(seedEnd.Add(-100 * time.Hour)), 100}
		evaluated, evaluatedArgs := erase(`SELECT DISTINCT call_id FROM evaluations WHERE call_id IN `)
		for _, c := range []struct {
			name, index string
			q           query
			args        []any
		}{
			// One query in two parts, each along its own index: a test each.
			{"expired recordings, by their policy", "recordings_retain_until", qExpiredRecordings, expiredArgs},
			{"expired recordings, by age", "recordings_default_call_started_at", qExpiredRecordings, expiredArgs},
			{"calls from", "calls_from_started_at", qCallsFrom, []any{"+6281234"}},
			{"erase agent states", "agent_states_call_id", agentStates, agentStatesArgs},
			{"erase queue entries", "queue_entries_call_id", entries, entriesArgs},
			{"evaluated calls", "evaluations_call_id_scorecard_id_evaluator_id_key", evaluated, evaluatedArgs},
			{"comments", "comments_call_id_at_ms", qCallComments, []any{"plan-001"}},
			{"review queue", "review_items_assignee_created_at", qReviewQueue, []any{int64(5), true}},
		} {
			t.Run(c.name, func(t *testing.T) {
				plan := explain(t, s, c.q, c.args)
				if line := walksWhole(plan); line != "" {
					t.Errorf("the query reads a whole table or index (%s):\n%s\n%s", line, c.q.postgres, plan)
				}
				index := c.index
				if e.name == "sqlite" && strings.HasSuffix(index, "_key") {
					index = "sqlite_autoindex_evaluations_1" // SQLite's name for a UNIQUE constraint
				}
				if !strings.Contains(plan, index) {
					t.Errorf("the query does not read index %s:\n%s\n%s", index, c.q.postgres, plan)
				}
			})
		}
		for _, c := range []struct {
			name string
			f    EvaluationFilter
		}{
			{"evaluations of an agent", EvaluationFilter{AgentID: 3}},
			{"evaluations of an agent since", EvaluationFilter{AgentID: 3, Since: seedEnd.Add(-30 * 24 * time.Hour)}},
		} {
			t.Run(c.name, func(t *testing.T) {
				q, args := c.f.sql()
				plan := explain(t, s, q, args)
				if !strings.Contains(plan, "evaluations_agent_created_at") || walksWhole(plan) != "" {
					t.Errorf("the query does not search index evaluations_agent_created_at:\n%s\n%s", q.postgres, plan)
				}
			})
		}
	})
}

// walksWhole returns the step of plan that reads a whole table or index,
// or "": SQLite's "SCAN t", PostgreSQL's "Seq Scan", or an index scan with
// no condition on the index. The partial index calls_held, which holds
// only the calls on hold, may be read whole; so may, in SQLite, the rows
// of a subquery it has already worked out (a CO-ROUTINE or MATERIALIZE
// step before the SCAN of its name), which are only those the subquery
// found.
func walksWhole(plan string) string {
	lines := strings.Split(plan, "\n")
	subqueries := map[string]bool{}
	for i, line := range lines {
		line = strings.TrimSpace(line)
		switch {
		case strings.HasPrefix(line, "CO-ROUTINE "), strings.HasPrefix(line, "MATERIALIZE "):
			_, name, _ := strings.Cut(line, " ")
			subqueries[name] = true
		case strings.HasPrefix(line, "SCAN ") && subqueries[strings.TrimPrefix(line, "SCAN ")]:
		case strings.Contains(line, "calls_held"):
		case strings.HasPrefix(line, "SCAN "), strings.Contains(line, "Seq Scan"):
			return line
		case strings.Contains(line, "Index Scan") || strings.Contains(line, "Index Only Scan"):
			if i+1 >= len(lines) || !strings.Contains(lines[i+1], "Index Cond:") {
				return line
			}
		}
	}
	return ""
}
