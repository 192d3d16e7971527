package store

import (
	"context"
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
	"time"
)

// A generated quarter of a contact center's calls, for the search's tests
// and benchmark. The spread follows the QA page's issue: 90 days, 40
// agents, 6 queues, 12 intents, 4 languages, a sentiment score on most
// calls, a CSAT score on about 30%, and a mix of resolutions.

// seedEnd is when the generated quarter ends: calls start in the 90 days
// before it.
var seedEnd = time.Date(2026, 6, 30, 12, 0, 0, 0, time.UTC)

const (
	seedDays   = 90
	seedAgents = 40
)

type weighted struct {
	value  string
	weight int
}

// pick chooses from ws by weight.
func pick(r *rand.Rand, ws []weighted) string {
	total := 0
	for _, w := range ws {
		total += w.weight
	}
	n := r.IntN(total)
	for _, w := range ws {
		if n -= w.weight; n < 0 {
			return w.value
		}
	}
	panic("unreachable")
}

var (
	// seedIntents maps each intent to its weight and the queue it escalates to.
	seedIntents = []weighted{
		{"billing", 16}, {"refund", 12}, {"balance", 10}, {"outage", 9}, {"password_reset", 9}, {"plan_change", 8},
		{"cancel", 7}, {"payment_failed", 7}, {"order_status", 6}, {"address_change", 6}, {"complaint", 6}, {"other", 4},
	}
	seedQueueOf = map[string]string{
		"billing": "billing", "refund": "billing", "balance": "billing", "payment_failed": "billing",
		"outage": "tech", "password_reset": "tech", "plan_change": "sales", "order_status": "sales",
		"cancel": "retention", "address_change": "support", "complaint": "support", "other": "general",
	}
	seedLanguages    = []weighted{{"en", 40}, {"id", 35}, {"zh", 15}, {"yue", 10}}
	seedResolutions  = []weighted{{"ivr", 45}, {"agent", 45}, {"abandoned", 7}, {"", 3}}
	seedDispositions = []weighted{{"resolved", 60}, {"callback", 15}, {"escalated", 10}, {"follow_up", 10}, {"wrong_number", 5}}
	seedCSAT         = []weighted{{"1", 10}, {"2", 10}, {"3", 15}, {"4", 30}, {"5", 35}}
)

// generateCalls makes n ended calls spread over the seedDays before
// seedEnd, the same for the same seed, in the order they started. About one in ten starts at the very
// microsecond of the one before, so that pages break inside ties.
func generateCalls(n int, seed uint64) []Call {
	r := rand.New(rand.NewPCG(seed, 0x5eed))
	start := seedEnd.Add(-seedDays * 24 * time.Hour)
	callers := max(n/3, 1)
	out := make([]Call, 0, n)
	for i := range n {
		// Business hours in Jakarta (UTC+7), busiest after lunch.
		day := start.Add(time.Duration(r.IntN(seedDays)) * 24 * time.Hour)
		local := 8*time.Hour + time.Duration((r.Float64()+r.Float64())/2*float64(13*time.Hour))
		started := day.Add(local - 7*time.Hour + time.Duration(r.IntN(1_000_000))*time.Microsecond)
		if i > 0 && r.IntN(10) == 0 {
			started = out[i-1].StartedAt
		}
		if !started.Before(seedEnd) {
			started = seedEnd.Add(-time.Duration(1+r.IntN(3600)) * time.Second)
		}
		intent := pick(r, seedIntents)
		c := Call{
			ID:        fmt.Sprintf("c%011x%012x", started.UnixMilli(), r.Uint64()>>16),
			Direction: Inbound,
			From:      fmt.Sprintf("+62812%08d", r.IntN(callers)),
			To:        "+62215550100",
			Node:      []string{"node-a", "node-b"}[r.IntN(2)],
			StartedAt: started,
			Intent:    intent,
			Language:  pick(r, seedLanguages),
			Outcome:   "completed",
			EndReason: "caller_bye",
		}
		if r.IntN(20) != 0 {
			s := max(-1, min(1, 0.1+0.45*r.NormFloat64()))
			c.Sentiment = &s
			c.Angry = s < -0.6 && r.IntN(5) != 0
		}
		c.Resolution = Resolution(pick(r, seedResolutions))
		var talk time.Duration
		switch c.Resolution {
		case ResolutionIVR:
			talk = time.Duration(30+r.IntN(210)) * time.Second
			c.AnsweredAt = started
		case ResolutionAgent, ResolutionUnknown:
			c.Queue = seedQueueOf[intent]
			// A few agents take more calls than the rest.
			c.AgentID = int64(1 + min(r.IntN(seedAgents), r.IntN(seedAgents+10)))
			c.Disposition = pick(r, seedDispositions)
			c.AnsweredAt = started.Add(time.Duration(20+r.IntN(300)) * time.Second)
			talk = c.AnsweredAt.Sub(started) + time.Duration(90+r.IntN(1100))*time.Second
		case ResolutionAbandoned:
			c.Queue = seedQueueOf[intent]
			c.AnsweredAt = started
			talk = time.Duration(40+r.IntN(400)) * time.Second
			c.Outcome = "abandoned"
		}
		c.EndedAt = started.Add(talk + time.Duration(r.IntN(1000))*time.Millisecond)
		if r.IntN(10) < 3 {
			score := pick(r, seedCSAT)
			if c.Angry {
				score = "1"
			}
			c.CSAT = int(score[0] - '0')
		}
		out = append(out, c)
	}
	// In the order the server would have stored them.
	slices.SortStableFunc(out, func(a, b Call) int { return a.StartedAt.Compare(b.StartedAt) })
	return out
}

// storeCalls stores cs through the Store's own methods, as the server does:
// create, answer, summary, wrap-up, CSAT, end.
func storeCalls(t testing.TB, s Store, cs []Call) {
	t.Helper()
	ctx := context.Background()
	for _, c := range cs {
		err := s.CreateCall(ctx, Call{ID: c.ID, Direction: c.Direction, From: c.From, To: c.To, Node: c.Node,
			StartedAt: c.StartedAt, AnsweredAt: c.AnsweredAt})
		if err == nil {
			err = s.SetCallSummary(ctx, c.ID, CallSummary{Queue: c.Queue, Intent: c.Intent, Language: c.Language,
				Sentiment: c.Sentiment, Angry: c.Angry, Resolution: c.Resolution})
		}
		if err == nil && c.Disposition != "" {
			err = s.SetCallDisposition(ctx, c.ID, Disposition{Code: c.Disposition, AgentID: c.AgentID, At: c.EndedAt})
		}
		if err == nil && c.CSAT != 0 {
			err = s.SetCallCSAT(ctx, c.ID, c.CSAT)
		}
		if err == nil && !c.EndedAt.IsZero() {
			err = s.EndCall(ctx, c.ID, c.EndedAt, c.Outcome, c.EndReason)
		}
		if err != nil {
			t.Fatalf("store call %s: %v", c.ID, err)
		}
	}
}

// loadCalls stores cs fast, for the benchmark: multi-row INSERTs of
// loadBatch calls each, all in one transaction; then it analyzes them.
func loadCalls(t testing.TB, s Store, cs []Call) {
	t.Helper()
	const columns = `id, direction, from_uri, to_uri, node, started_at, answered_at, ended_at, outcome, end_reason,
  agent_id, disposition, wrapped_up_at, queue, intent, language, sentiment, angry, csat, resolution`
	const perRow = 20
	// 1000 rows of 20 arguments stay under SQLite's 32766 and
	// PostgreSQL's 65535 arguments a statement.
	const loadBatch = 1000
	ctx := context.Background()
	d := internals(t, s)
	// The SQLite spelling has plain ? placeholders: SQLite looks ?N up in a
	// list, which takes time in the square of the arguments.
	insert := func(n int) query {
		var pg, lite strings.Builder
		for _, b := range []*strings.Builder{&pg, &lite} {
			b.WriteString("INSERT INTO calls (" + columns + ") VALUES ")
		}
		for i := range n {
			sep := "("
			if i > 0 {
				sep = ", ("
			}
			pg.WriteString(sep)
			lite.WriteString(sep)
			for j := range perRow {
				if j > 0 {
					pg.WriteString(", ")
					lite.WriteString(", ")
				}
				fmt.Fprintf(&pg, "$%d", i*perRow+j+1)
				lite.WriteByte('?')
			}
			pg.WriteByte(')')
			lite.WriteByte(')')
		}
		return query{postgres: pg.String(), sqlite: lite.String()}
	}
	full := insert(loadBatch)
	err := d.inTx(ctx, func(q querier) error {
		if d.Engine() == "sqlite" {
			// Room for the indexes' pages, which the random order of the
			// calls touches all over: the default 2 MB spills to the WAL.
			if _, err := q.exec(ctx, script("PRAGMA cache_size = -262144")); err != nil {
				return err
			}
		}
		args := make([]any, 0, loadBatch*perRow)
		for lo := 0; lo < len(cs); lo += loadBatch {
			batch := cs[lo:min(lo+loadBatch, len(cs))]
			args = args[:0]
			for _, c := range batch {
				var agent, sentiment, csat, wrapped any
				if c.AgentID != 0 {
					agent, wrapped = c.AgentID, utc(c.EndedAt)
				}
				if c.Sentiment != nil {
					sentiment = *c.Sentiment
				}
				if c.CSAT != 0 {
					csat = c.CSAT
				}
				args = append(args, c.ID, string(c.Direction), c.From, c.To, c.Node, utc(c.StartedAt),
					nullTime(c.AnsweredAt), nullTime(c.EndedAt), c.Outcome, c.EndReason,
					agent, c.Disposition, wrapped, c.Queue, c.Intent, c.Language, sentiment, c.Angry, csat,
					string(c.Resolution))
			}
			qu := full
			if len(batch) < loadBatch {
				qu = insert(len(batch))
			}
			if _, err := q.exec(ctx, qu, args...); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatalf("load %d calls: %v", len(cs), err)
	}
	analyze(t, s)
}

// analyze has the engine gather the statistics its planner chooses
// indexes by, as a database that has been running a while has them. On
// PostgreSQL, VACUUM too, as autovacuum would have: it marks the pages
// all-visible, which lets a count read an index alone.
func analyze(t testing.TB, s Store) {
	t.Helper()
	stmt := "ANALYZE"
	if s.Engine() == "postgres" {
		stmt = "VACUUM ANALYZE calls"
	}
	if _, err := internals(t, s).exec(context.Background(), script(stmt)); err != nil {
		t.Fatalf("%s: %v", stmt, err)
	}
}
