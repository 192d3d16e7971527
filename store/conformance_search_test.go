package store

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"math"
	"slices"
	"strings"
	"testing"
	"time"
)

// searchFixture is a store holding generated calls, stored the way the
// server stores them, and what the tests know of them.
type searchFixture struct {
	s        Store
	calls    []Call          // as generated, live ones included
	recorded map[string]bool // calls with a recording
}

func newSearchFixture(t *testing.T, s Store) *searchFixture {
	t.Helper()
	ctx := context.Background()
	f := &searchFixture{s: s, calls: generateCalls(300, 1), recorded: map[string]bool{}}
	// Calls still going: no end, so no duration.
	for i := range 3 {
		sent := -0.9
		f.calls = append(f.calls, Call{ID: fmt.Sprintf("live-%d", i), Direction: Inbound, From: "+628120000099",
			To: "+62215550100", Node: "node-a", StartedAt: seedEnd.Add(-time.Duration(i+1) * time.Minute),
			Queue: "billing", Intent: "billing", Language: "en", Sentiment: &sent, Angry: true})
	}
	storeCalls(t, s, f.calls)
	for i, c := range f.calls {
		if i%4 != 0 {
			continue
		}
		if _, err := s.CreateRecording(ctx, Recording{CallID: c.ID, Path: c.ID + ".wav", Format: "wav", Channels: 2,
			SampleRate: 8000, StartedAt: c.StartedAt}); err != nil {
			t.Fatal(err)
		}
		f.recorded[c.ID] = true
	}
	return f
}

// want is what f's search should find, in order: the oracle the store is
// held to.
func (f *searchFixture) want(s CallSearch) []string {
	var out []Call
	for _, c := range f.calls {
		if searchMatches(s, c, f.recorded[c.ID]) {
			out = append(out, c)
		}
	}
	slices.SortFunc(out, func(a, b Call) int {
		return cmp.Or(b.StartedAt.Compare(a.StartedAt), cmp.Compare(b.ID, a.ID))
	})
	return callIDs(out)
}

// searchMatches is CallSearch's meaning, written out plainly.
func searchMatches(f CallSearch, c Call, recorded bool) bool {
	durMS := storedDuration(c).Milliseconds()
	live := c.EndedAt.IsZero()
	switch {
	case !f.Since.IsZero() && c.StartedAt.Before(f.Since),
		!f.Until.IsZero() && !c.StartedAt.Before(f.Until),
		f.AgentID != 0 && c.AgentID != f.AgentID,
		f.Queue != "" && c.Queue != f.Queue,
		f.Intent != "" && c.Intent != f.Intent,
		f.Language != "" && c.Language != f.Language,
		f.Disposition != "" && c.Disposition != f.Disposition,
		f.Resolution != "" && c.Resolution != f.Resolution,
		f.From != "" && c.From != f.From,
		f.MinSentiment != nil && (c.Sentiment == nil || *c.Sentiment < *f.MinSentiment),
		f.MaxSentiment != nil && (c.Sentiment == nil || *c.Sentiment > *f.MaxSentiment),
		f.AngryOnly && !c.Angry,
		f.MinDuration != 0 && (live || durMS < f.MinDuration.Milliseconds()),
		f.MaxDuration != 0 && (live || durMS > f.MaxDuration.Milliseconds()),
		f.MinCSAT != 0 && (c.CSAT == 0 || c.CSAT < f.MinCSAT),
		f.MaxCSAT != 0 && (c.CSAT == 0 || c.CSAT > f.MaxCSAT),
		f.HasRecording && !recorded:
		return false
	}
	return true
}

// storedDuration is the Duration the store keeps for c.
func storedDuration(c Call) time.Duration {
	if c.EndedAt.IsZero() {
		return 0
	}
	return max(0, stored(c.EndedAt).Sub(stored(c.StartedAt))).Truncate(time.Millisecond)
}

// searchAll pages through every call s matches, limit at a time, checking
// each page: no longer than the limit, Next set exactly when another page
// follows, Total given only when asked.
func searchAll(t *testing.T, st Store, s CallSearch, limit int) []string {
	t.Helper()
	s.Limit = limit
	var out []string
	for pages := 0; ; pages++ {
		if pages > 400 {
			t.Fatalf("SearchCalls(%+v) has not ended after 400 pages", s)
		}
		page, err := st.SearchCalls(context.Background(), s)
		if err != nil {
			t.Fatalf("SearchCalls(%+v): %v", s, err)
		}
		if len(page.Calls) > limit || page.Calls == nil {
			t.Fatalf("SearchCalls(%+v) gave a page of %d (nil %v)", s, len(page.Calls), page.Calls == nil)
		}
		if !s.Count && page.Total != -1 {
			t.Errorf("SearchCalls without Count gave Total %d, want -1", page.Total)
		}
		out = append(out, callIDs(page.Calls)...)
		if page.Next == "" {
			return out
		}
		if len(page.Calls) != limit || page.Next != page.Calls[len(page.Calls)-1].ID {
			t.Fatalf("SearchCalls(%+v): a page of %d ending %v has Next %q", s, len(page.Calls),
				callIDs(page.Calls[max(0, len(page.Calls)-1):]), page.Next)
		}
		s.Before, s.Count = page.Next, false
	}
}

func score(v float64) *float64 { return &v }

// testSearchCalls holds every filter, alone and combined, to the oracle:
// the same calls, in the same order, across pages of several sizes, with
// the same count.
func testSearchCalls(t *testing.T, s Store) {
	f := newSearchFixture(t, s)
	day := 24 * time.Hour
	// The caller and the agent with the most calls.
	caller := busiest(f.calls, func(c Call) string { return c.From })
	agentID := busiest(f.calls, func(c Call) int64 { return c.AgentID })
	for _, c := range []struct {
		name string
		f    CallSearch
		all  bool // matches every call, so it filters nothing
	}{
		{"nothing", CallSearch{}, true},
		{"since", CallSearch{Since: seedEnd.Add(-30 * day)}, false},
		{"until", CallSearch{Until: seedEnd.Add(-60 * day)}, false},
		{"since and until", CallSearch{Since: seedEnd.Add(-50 * day), Until: seedEnd.Add(-20 * day)}, false},
		{"agent", CallSearch{AgentID: agentID}, false},
		{"queue", CallSearch{Queue: "tech"}, false},
		{"intent", CallSearch{Intent: "refund"}, false},
		{"language", CallSearch{Language: "yue"}, false},
		{"disposition", CallSearch{Disposition: "callback"}, false},
		{"resolved by the IVR", CallSearch{Resolution: ResolutionIVR}, false},
		{"resolved by an agent", CallSearch{Resolution: ResolutionAgent}, false},
		{"abandoned", CallSearch{Resolution: ResolutionAbandoned}, false},
		{"from", CallSearch{From: caller}, false},
		{"min sentiment", CallSearch{MinSentiment: score(0.5)}, false},
		{"max sentiment", CallSearch{MaxSentiment: score(-0.3)}, false},
		{"sentiment range", CallSearch{MinSentiment: score(-0.2), MaxSentiment: score(0.2)}, false},
		{"angry", CallSearch{AngryOnly: true}, false},
		{"min duration", CallSearch{MinDuration: 10 * time.Minute}, false},
		{"max duration", CallSearch{MaxDuration: 2 * time.Minute}, false},
		{"duration range", CallSearch{MinDuration: 3 * time.Minute, MaxDuration: 8 * time.Minute}, false},
		{"min csat", CallSearch{MinCSAT: 4}, false},
		{"max csat", CallSearch{MaxCSAT: 2}, false},
		{"csat exactly", CallSearch{MinCSAT: 3, MaxCSAT: 3}, false},
		{"has recording", CallSearch{HasRecording: true}, false},
		{"week and intent", CallSearch{Since: seedEnd.Add(-7 * day), Intent: "billing"}, false},
		{"agent and month", CallSearch{AgentID: agentID, Since: seedEnd.Add(-30 * day)}, false},
		{"language and angry", CallSearch{Language: "en", AngryOnly: true}, false},
		{"unhappy last quarter", CallSearch{MaxCSAT: 2, Since: seedEnd.Add(-90 * day)}, false},
		{"queue, language, mood, duration", CallSearch{Queue: "billing", Language: "id", MaxSentiment: score(0.4),
			MinDuration: time.Minute}, false},
		{"everything", CallSearch{Since: seedEnd.Add(-80 * day), Until: seedEnd, Queue: "billing", Intent: "billing",
			Resolution: ResolutionAgent, MinSentiment: score(-1), MaxSentiment: score(1), MinDuration: time.Second,
			MaxDuration: time.Hour, HasRecording: true}, false},
		{"nothing matches", CallSearch{Intent: "refund", Queue: "tech"}, false},
	} {
		t.Run(c.name, func(t *testing.T) {
			want := f.want(c.f)
			if c.all != (len(want) == len(f.calls)) || !c.all && c.name != "nothing matches" && len(want) == 0 {
				t.Fatalf("the fixture gives %d of %d calls for this filter: it tests nothing", len(want), len(f.calls))
			}
			for _, limit := range []int{7, 200} {
				if got := searchAll(t, s, c.f, limit); !slices.Equal(got, want) {
					t.Errorf("pages of %d: %d calls %v\nwant %d calls %v", limit, len(got), got, len(want), want)
				}
			}
			counted := c.f
			counted.Count = true
			page, err := s.SearchCalls(context.Background(), counted)
			if err != nil || page.Total != len(want) {
				t.Errorf("Count: Total %d, %v; want %d", page.Total, err, len(want))
			}
		})
	}

	// Every field comes back as stored, through search and ListCalls alike.
	page, err := s.SearchCalls(context.Background(), CallSearch{Limit: 200})
	if err != nil {
		t.Fatal(err)
	}
	listed, err := s.ListCalls(context.Background(), CallFilter{Limit: 200})
	if err != nil {
		t.Fatal(err)
	}
	byID := map[string]Call{}
	for _, c := range f.calls {
		byID[c.ID] = c
	}
	for _, got := range append(page.Calls, listed...) {
		checkStoredCall(t, got, byID[got.ID])
	}
}

// busiest is the commonest non-zero key of cs, the least of those tied.
func busiest[K cmp.Ordered](cs []Call, key func(Call) K) K {
	var zero, best K
	n := map[K]int{}
	for _, c := range cs {
		if k := key(c); k != zero {
			n[k]++
		}
	}
	for k, v := range n {
		if v > n[best] || v == n[best] && k < best {
			best = k
		}
	}
	return best
}

// checkStoredCall compares a call read back with one storeCalls stored.
func checkStoredCall(t *testing.T, got, want Call) {
	t.Helper()
	if want.Disposition != "" {
		checkTime(t, "call "+want.ID+" WrappedUpAt", got.WrappedUpAt, stored(want.EndedAt))
		got.WrappedUpAt = time.Time{}
	}
	want.Duration = storedDuration(want)
	checkCall(t, got, want)
}

// testSearchCallsPages checks the page edges: the default and largest page
// sizes, Next on a last page that is exactly full, Count on a later page,
// and a cursor that names no call.
func testSearchCallsPages(t *testing.T, s Store) {
	ctx := context.Background()
	f := newSearchFixture(t, s)
	search := func(cs CallSearch) CallPage {
		t.Helper()
		p, err := s.SearchCalls(ctx, cs)
		if err != nil {
			t.Fatalf("SearchCalls(%+v): %v", cs, err)
		}
		return p
	}
	for _, c := range []struct{ limit, want int }{{0, defaultSearchLimit}, {maxSearchLimit, maxSearchLimit},
		{maxSearchLimit + 1, maxSearchLimit}, {5000, maxSearchLimit}} {
		if p := search(CallSearch{Limit: c.limit}); len(p.Calls) != c.want || p.Next == "" {
			t.Errorf("Limit %d gave a page of %d, Next %q; want %d and a next page", c.limit, len(p.Calls), p.Next, c.want)
		}
	}

	filter := CallSearch{Intent: "refund"}
	want := f.want(filter)
	if len(want) < 4 {
		t.Fatalf("the fixture has %d refund calls; want at least 4", len(want))
	}
	// Exactly full: no next page.
	if p := search(CallSearch{Intent: "refund", Limit: len(want)}); len(p.Calls) != len(want) || p.Next != "" {
		t.Errorf("a page that holds every match: %d calls, Next %q; want %d, no Next", len(p.Calls), p.Next, len(want))
	}
	// One short: a last page of one.
	first := search(CallSearch{Intent: "refund", Limit: len(want) - 1, Count: true})
	if first.Next != want[len(want)-2] || first.Total != len(want) {
		t.Fatalf("first page: Next %q, Total %d; want %q, %d", first.Next, first.Total, want[len(want)-2], len(want))
	}
	last := search(CallSearch{Intent: "refund", Limit: len(want) - 1, Before: first.Next, Count: true})
	if got := callIDs(last.Calls); !slices.Equal(got, want[len(want)-1:]) || last.Next != "" {
		t.Errorf("last page: %v, Next %q; want %v, no Next", got, last.Next, want[len(want)-1:])
	}
	if last.Total != len(want) {
		t.Errorf("Count on a later page: Total %d, want every match, %d", last.Total, len(want))
	}
	// A cursor need not match the filter: it only marks a place in the order.
	other := want[1]
	var mid string
	for _, id := range f.want(CallSearch{}) {
		if id == other {
			break
		}
		mid = id
	}
	if got := callIDs(search(CallSearch{Intent: "refund", Before: mid}).Calls); !slices.Equal(got, want[1:]) {
		t.Errorf("after a call outside the filter: %v, want %v", got, want[1:])
	}

	if _, err := s.SearchCalls(ctx, CallSearch{Before: "no-such-call"}); !errors.Is(err, ErrNotFound) {
		t.Errorf("SearchCalls with an unknown Before: %v, want ErrNotFound", err)
	}
	if p := search(CallSearch{Intent: "no-such-intent", Count: true}); len(p.Calls) != 0 || p.Next != "" || p.Total != 0 {
		t.Errorf("a search with no match: %+v, want an empty last page and Total 0", p)
	}
}

// testSearchCallsValidation checks that a search that makes no sense is
// refused with ErrInvalid and names its field, and that the edges of each
// range are accepted.
func testSearchCallsValidation(t *testing.T, s Store) {
	ctx := context.Background()
	now := time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC)
	for _, c := range []struct {
		field string
		f     CallSearch
	}{
		{"Limit", CallSearch{Limit: -1}},
		{"Until", CallSearch{Since: now, Until: now.Add(-time.Hour)}},
		{"Until", CallSearch{Since: now, Until: now}},
		{"AgentID", CallSearch{AgentID: -4}},
		{"Resolution", CallSearch{Resolution: "bot"}},
		{"MinSentiment", CallSearch{MinSentiment: score(-1.5)}},
		{"MaxSentiment", CallSearch{MaxSentiment: score(1.01)}},
		{"MaxSentiment", CallSearch{MaxSentiment: score(math.NaN())}},
		{"MinSentiment", CallSearch{MinSentiment: score(0.5), MaxSentiment: score(0.2)}},
		{"MinDuration", CallSearch{MinDuration: -time.Second}},
		{"MaxDuration", CallSearch{MaxDuration: -time.Second}},
		{"MinDuration", CallSearch{MinDuration: time.Hour, MaxDuration: time.Minute}},
		{"MinCSAT", CallSearch{MinCSAT: 6}},
		{"MaxCSAT", CallSearch{MaxCSAT: -1}},
		{"MinCSAT", CallSearch{MinCSAT: 4, MaxCSAT: 2}},
	} {
		_, err := s.SearchCalls(ctx, c.f)
		if !errors.Is(err, ErrInvalid) || !strings.Contains(err.Error(), c.field) {
			t.Errorf("SearchCalls(%+v): %v; want ErrInvalid naming %s", c.f, err, c.field)
		}
	}
	for _, f := range []CallSearch{
		{MinSentiment: score(-1), MaxSentiment: score(1)},
		{MinSentiment: score(0.3), MaxSentiment: score(0.3)},
		{MinCSAT: 1, MaxCSAT: 5},
		{MinDuration: time.Minute, MaxDuration: time.Minute},
		{Since: now},
		{Until: now},
		{Resolution: ResolutionAbandoned},
	} {
		if _, err := s.SearchCalls(ctx, f); err != nil {
			t.Errorf("SearchCalls(%+v): %v; want it accepted", f, err)
		}
	}
}

// testCallSummary round-trips SetCallSummary and SetCallCSAT, and checks
// what each refuses, in the store and in the schema below it.
func testCallSummary(t *testing.T, s Store) {
	ctx := context.Background()
	start := time.Date(2026, 3, 2, 10, 0, 0, 0, time.UTC)
	for _, id := range []string{"s-1", "s-2"} {
		if err := s.CreateCall(ctx, Call{ID: id, Direction: Inbound, From: "+6281", To: "100", Node: "n", StartedAt: start}); err != nil {
			t.Fatal(err)
		}
	}
	want := Call{ID: "s-1", Direction: Inbound, From: "+6281", To: "100", Node: "n", StartedAt: start}
	checkCall(t, mustCall(t, s, "s-1"), want) // no summary yet: all zero

	sum := CallSummary{Queue: "billing", Intent: "refund", Language: "yue", Sentiment: score(-0.75), Angry: true,
		Resolution: ResolutionAbandoned}
	if err := s.SetCallSummary(ctx, "s-1", sum); err != nil {
		t.Fatalf("SetCallSummary: %v", err)
	}
	if err := s.SetCallCSAT(ctx, "s-1", 2); err != nil {
		t.Fatalf("SetCallCSAT: %v", err)
	}
	want.Queue, want.Intent, want.Language, want.Sentiment, want.Angry, want.Resolution, want.CSAT =
		"billing", "refund", "yue", score(-0.75), true, ResolutionAbandoned, 2
	checkCall(t, mustCall(t, s, "s-1"), want)
	listed, err := s.ListCalls(ctx, CallFilter{})
	if err != nil || len(listed) != 2 {
		t.Fatalf("ListCalls: %d calls, %v", len(listed), err)
	}
	for _, c := range listed {
		if c.ID == "s-1" {
			checkCall(t, c, want)
		}
	}

	// A new summary replaces the whole of the old one; the CSAT stays.
	sum = CallSummary{Queue: "", Intent: "billing", Language: "en", Resolution: ResolutionIVR}
	if err := s.SetCallSummary(ctx, "s-1", sum); err != nil {
		t.Fatal(err)
	}
	if err := s.SetCallCSAT(ctx, "s-1", 5); err != nil {
		t.Fatal(err)
	}
	want.Queue, want.Intent, want.Language, want.Sentiment, want.Angry, want.Resolution, want.CSAT =
		"", "billing", "en", nil, false, ResolutionIVR, 5
	checkCall(t, mustCall(t, s, "s-1"), want)
	if other := mustCall(t, s, "s-2"); other.Intent != "" || other.CSAT != 0 || other.Sentiment != nil {
		t.Errorf("the summary of s-1 reached s-2: %+v", other)
	}

	if err := s.SetCallSummary(ctx, "nope", CallSummary{}); !errors.Is(err, ErrNotFound) {
		t.Errorf("SetCallSummary(unknown): %v, want ErrNotFound", err)
	}
	if err := s.SetCallCSAT(ctx, "nope", 3); !errors.Is(err, ErrNotFound) {
		t.Errorf("SetCallCSAT(unknown): %v, want ErrNotFound", err)
	}
	for _, bad := range []CallSummary{{Sentiment: score(1.5)}, {Sentiment: score(-1.01)},
		{Sentiment: score(math.NaN())}, {Resolution: "bot"}} {
		if err := s.SetCallSummary(ctx, "s-1", bad); !errors.Is(err, ErrInvalid) {
			t.Errorf("SetCallSummary(%+v): %v, want ErrInvalid", bad, err)
		}
	}
	for _, bad := range []int{0, 6, -1} {
		err := s.SetCallCSAT(ctx, "s-1", bad)
		if !errors.Is(err, ErrInvalid) || !strings.Contains(err.Error(), "1..5") {
			t.Errorf("SetCallCSAT(%d): %v, want ErrInvalid saying 1..5", bad, err)
		}
	}
	checkCall(t, mustCall(t, s, "s-1"), want) // nothing refused was stored

	// The schema refuses what the store would, should other code write.
	for _, set := range []string{"csat = 6", "csat = 0", "sentiment = 1.5", "resolution = 'bot'"} {
		if _, err := internals(t, s).exec(ctx, newQuery(`UPDATE calls SET `+set+` WHERE id = 's-2'`)); err == nil {
			t.Errorf("UPDATE calls SET %s was stored; want a CHECK to refuse it", set)
		}
	}
}

// testCallDuration checks that every way a call ends sets its Duration,
// truncated to the millisecond as Go's Duration.Milliseconds, and that a
// live call has none.
func testCallDuration(t *testing.T, s Store) {
	ctx := context.Background()
	start := time.Date(2026, 3, 2, 23, 59, 59, 999_900_000, time.UTC)
	create := func(c Call) {
		t.Helper()
		c.Direction = Inbound
		if c.Node == "" {
			c.Node = "node-d"
		}
		if err := s.CreateCall(ctx, c); err != nil {
			t.Fatal(err)
		}
	}
	create(Call{ID: "d-end", StartedAt: start})
	create(Call{ID: "d-live", StartedAt: start, Node: "node-e"})
	create(Call{ID: "d-whole", StartedAt: start, EndedAt: start.Add(2*time.Hour + 1500*time.Microsecond)})
	create(Call{ID: "d-skew", StartedAt: start, EndedAt: start.Add(-3 * time.Second)})
	if err := s.EndCall(ctx, "d-end", start.Add(65*time.Second+999_999*time.Microsecond), "completed", "caller_bye"); err != nil {
		t.Fatal(err)
	}
	create(Call{ID: "d-orphan", StartedAt: start})
	if _, err := s.EndOrphanedCalls(ctx, "node-d", start.Add(90*time.Minute+250*time.Millisecond), "node_restart"); err != nil {
		t.Fatal(err)
	}
	for id, want := range map[string]time.Duration{
		"d-end":    65*time.Second + 999*time.Millisecond, // across midnight, truncated
		"d-whole":  2*time.Hour + time.Millisecond,
		"d-skew":   0, // the end before the start: the nodes' clocks disagree
		"d-orphan": 90*time.Minute + 250*time.Millisecond,
		"d-live":   0,
	} {
		if got := mustCall(t, s, id).Duration; got != want {
			t.Errorf("call %s Duration = %v, want %v", id, got, want)
		}
	}
	// Searches by duration see the same figures.
	page, err := s.SearchCalls(ctx, CallSearch{MinDuration: 65 * time.Second, MaxDuration: 65*time.Second + 999*time.Millisecond})
	if err != nil || !slices.Equal(callIDs(page.Calls), []string{"d-end"}) {
		t.Errorf("calls of 65 s to 65.999 s: %v, %v; want d-end", callIDs(page.Calls), err)
	}
}
