package store

import (
	"context"
	"strings"
	"testing"
	"time"
)

// TestSearchCallsPlans checks that each of the search's main filters is
// served by the index migration 0009 made for it, and never by a full scan
// of calls: so that dropping or breaking an index, or a change to the SQL
// that keeps the planner from matching it, fails here rather than making
// the QA page slow on a big database. It reads the plans, not the clock:
// EXPLAIN QUERY PLAN on SQLite, EXPLAIN on PostgreSQL, for both the page
// query and the count query, over a small generated table, analyzed.
func TestSearchCallsPlans(t *testing.T) {
	forEngines(t, func(t *testing.T, e testEngine) {
		s := openTest(t, e.config(t))
		loadCalls(t, s, generateCalls(3000, 7))
		day := 24 * time.Hour
		week := seedEnd.Add(-7 * day)
		var cursor Call
		for _, c := range generateCalls(3000, 7) {
			if c.Intent == "refund" && c.StartedAt.After(week) {
				cursor = c
				break
			}
		}
		// page and count name the index each query must read; "" lets the
		// planner choose, but never a full scan. whole marks a partial
		// index that holds only the calls the filter matches, which a
		// query may read from end to end.
		for _, c := range []struct {
			name        string
			f           CallSearch
			page, count string
			whole       bool
		}{
			// SQLite counts a date range by skipping along a smaller index.
			{"date range", CallSearch{Since: week, Until: seedEnd}, "calls_started_at_id", "", false},
			{"agent", CallSearch{AgentID: 7}, "calls_agent_started_at", "calls_agent_started_at", false},
			{"queue", CallSearch{Queue: "retention", Since: week}, "calls_queue_started_at", "calls_queue_started_at", false},
			{"intent", CallSearch{Intent: "refund", Since: week}, "calls_intent_started_at", "calls_intent_started_at", false},
			{"intent, next page", CallSearch{Intent: "refund", Since: week, Before: cursor.ID}, "calls_intent_started_at",
				"calls_intent_started_at", false},
			{"language", CallSearch{Language: "yue"}, "calls_language_started_at", "calls_language_started_at", false},
			{"disposition", CallSearch{Disposition: "wrong_number"}, "calls_disposition_started_at",
				"calls_disposition_started_at", false},
			{"resolution", CallSearch{Resolution: ResolutionAbandoned}, "calls_resolution_started_at",
				"calls_resolution_started_at", false},
			{"angry", CallSearch{AngryOnly: true}, "calls_angry_started_at", "calls_angry_started_at", true},
			{"csat", CallSearch{MinCSAT: 1, MaxCSAT: 2, Since: seedEnd.Add(-90 * day)}, "calls_rated_started_at",
				"calls_rated_started_at", false},
			{"from", CallSearch{From: "+6281200000042"}, "calls_from_started_at", "calls_from_started_at", false},
		} {
			t.Run(c.name, func(t *testing.T) {
				q := c.f.sql(cursor.StartedAt)
				for _, x := range []struct {
					what, index string
					q           query
					args        []any
				}{{"page", c.page, q.page, q.pageArgs}, {"count", c.count, q.count, q.countArgs}} {
					plan := explain(t, s, x.q, x.args)
					if !strings.Contains(plan, x.index) {
						t.Errorf("the %s query does not read index %s:\n%s\n%s", x.what, x.index, x.q.postgres, plan)
					}
					if fullScan(plan, c.whole) {
						t.Errorf("the %s query reads all of calls:\n%s\n%s", x.what, x.q.postgres, plan)
					}
				}
			})
		}
	})
}

// explain gives q's plan as text, a step a line. PostgreSQL is asked not
// to scan tables whole where it has a choice: on a table this small a
// sequential scan is honestly the cheapest, and the test asks which index
// it would take on a big one.
func explain(t *testing.T, s Store, q query, args []any) string {
	t.Helper()
	ctx := context.Background()
	d := internals(t, s)
	var lines []string
	err := d.inTx(ctx, func(tx querier) error {
		var err error
		if s.Engine() == "sqlite" {
			lines, err = queryAll(ctx, tx, query{sqlite: "EXPLAIN QUERY PLAN " + q.sqlite}, func(r row) (string, error) {
				var id, parent, unused int
				var detail string
				err := r.Scan(&id, &parent, &unused, &detail)
				return detail, err
			}, args...)
			return err
		}
		if _, err := tx.exec(ctx, script("SET LOCAL enable_seqscan = off")); err != nil {
			return err
		}
		// Nor to count on the table being in memory: a table this small is,
		// so that fetching all of its rows along any index costs about the
		// same, and the choice between two indexes tips on a few bytes of
		// row width.
		if _, err := tx.exec(ctx, script("SET LOCAL effective_cache_size = '8kB'")); err != nil {
			return err
		}
		lines, err = queryAll(ctx, tx, query{postgres: "EXPLAIN " + q.postgres}, func(r row) (string, error) {
			var line string
			err := r.Scan(&line)
			return line, err
		}, args...)
		return err
	})
	if err != nil {
		t.Fatalf("explain %s: %v", q.postgres, err)
	}
	return strings.Join(lines, "\n")
}

// fullScan reports whether plan reads the whole of calls, or the whole of
// an index of it unless whole allows that: SQLite's "SCAN calls" (with or
// without an index), PostgreSQL's "Seq Scan on calls", or an index scan
// with no condition on the index.
func fullScan(plan string, whole bool) bool {
	lines := strings.Split(plan, "\n")
	for i, line := range lines {
		line = strings.TrimSpace(line)
		switch {
		case line == "SCAN calls", strings.Contains(line, "Seq Scan on calls"):
			return true
		case strings.HasPrefix(line, "SCAN calls USING"):
			return !whole
		case (strings.Contains(line, "Index Scan") || strings.Contains(line, "Index Only Scan")) && !whole:
			// PostgreSQL: an index scan is a search only with an Index Cond.
			next := ""
			if i+1 < len(lines) {
				next = lines[i+1]
			}
			if !strings.Contains(next, "Index Cond:") {
				return true
			}
		}
	}
	return false
}
