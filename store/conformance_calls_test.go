package store

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"reflect"
	"slices"
	"sync"
	"testing"
	"time"
)

func testCalls(t *testing.T, s Store) {
	ctx := context.Background()
	wib := time.FixedZone("WIB", 7*3600)
	start := time.Date(2025, 3, 1, 9, 30, 0, 123456789, wib)
	c := Call{ID: "c-1", Direction: Inbound, From: "sip:+622155501@carrier.example", To: "sip:100@sambung.example",
		Node: "node-a", StartedAt: start}
	if err := s.CreateCall(ctx, c); err != nil {
		t.Fatalf("CreateCall: %v", err)
	}
	if err := s.CreateCall(ctx, c); !errors.Is(err, ErrExists) {
		t.Errorf("CreateCall with a taken ID: %v, want ErrExists", err)
	}
	for _, bad := range []Call{{ID: "", Direction: Inbound}, {ID: "c-x", Direction: "sideways"}} {
		if err := s.CreateCall(ctx, bad); err == nil || errors.Is(err, ErrExists) {
			t.Errorf("CreateCall(%+v): %v, want an error", bad, err)
		}
	}
	checkCall(t, mustCall(t, s, "c-1"), c)

	answered, ended := start.Add(5*time.Second), start.Add(65*time.Second)
	if err := s.AnswerCall(ctx, "c-1", answered); err != nil {
		t.Fatalf("AnswerCall: %v", err)
	}
	c.AnsweredAt = answered
	checkCall(t, mustCall(t, s, "c-1"), c)
	if err := s.EndCall(ctx, "c-1", ended, "completed", "caller_bye"); err != nil {
		t.Fatalf("EndCall: %v", err)
	}
	c.EndedAt, c.Outcome, c.EndReason = ended, "completed", "caller_bye"
	checkCall(t, mustCall(t, s, "c-1"), c)

	if err := s.AnswerCall(ctx, "nope", answered); !errors.Is(err, ErrNotFound) {
		t.Errorf("AnswerCall(unknown): %v, want ErrNotFound", err)
	}
	if err := s.EndCall(ctx, "nope", ended, "failed", "x"); !errors.Is(err, ErrNotFound) {
		t.Errorf("EndCall(unknown): %v, want ErrNotFound", err)
	}
	if _, err := s.CallByID(ctx, "nope"); !errors.Is(err, ErrNotFound) {
		t.Errorf("CallByID(unknown): %v, want ErrNotFound", err)
	}

	// A record made after the fact, whole.
	done := Call{ID: "c-2", Direction: Outbound, From: "sip:200@sambung.example", To: "sip:+6281200@carrier.example",
		Node: "node-b", StartedAt: start, AnsweredAt: answered, EndedAt: ended, Outcome: "abandoned", EndReason: "media_timeout"}
	if err := s.CreateCall(ctx, done); err != nil {
		t.Fatalf("CreateCall: %v", err)
	}
	checkCall(t, mustCall(t, s, "c-2"), done)

	// No StartedAt: stamped now.
	before := time.Now()
	if err := s.CreateCall(ctx, Call{ID: "c-3", Direction: Inbound}); err != nil {
		t.Fatalf("CreateCall: %v", err)
	}
	if got := mustCall(t, s, "c-3"); got.StartedAt.Before(before.Add(-time.Millisecond)) || got.StartedAt.After(time.Now()) {
		t.Errorf("CreateCall with no StartedAt: StartedAt = %v, want about now", got.StartedAt)
	}
}

func testListCalls(t *testing.T, s Store) {
	ctx := context.Background()
	base := time.Date(2025, 3, 1, 0, 0, 0, 0, time.UTC)
	var calls []Call
	for i := range 23 {
		// Three calls a minute, so that pages break inside ties on started_at.
		calls = append(calls, Call{ID: fmt.Sprintf("call-%02d", i), Direction: Inbound, From: "sip:a@b", To: "sip:c@d",
			Node: "n", StartedAt: base.Add(time.Duration(i/3) * time.Minute)})
	}
	shuffled := slices.Clone(calls)
	rand.Shuffle(len(shuffled), func(i, j int) { shuffled[i], shuffled[j] = shuffled[j], shuffled[i] })
	for _, c := range shuffled {
		if err := s.CreateCall(ctx, c); err != nil {
			t.Fatalf("CreateCall: %v", err)
		}
	}
	newestFirst := func(cs []Call) []string {
		cs = slices.Clone(cs)
		slices.SortFunc(cs, func(a, b Call) int {
			return cmp.Or(b.StartedAt.Compare(a.StartedAt), cmp.Compare(b.ID, a.ID))
		})
		var out []string
		for _, c := range cs {
			out = append(out, c.ID)
		}
		return out
	}

	all, err := s.ListCalls(ctx, CallFilter{})
	if err != nil {
		t.Fatalf("ListCalls: %v", err)
	}
	if got, want := callIDs(all), newestFirst(calls); !slices.Equal(got, want) {
		t.Fatalf("ListCalls = %v, want %v", got, want)
	}
	byID := map[string]Call{}
	for _, c := range calls {
		byID[c.ID] = c
	}
	for _, c := range all {
		checkCall(t, c, byID[c.ID])
	}

	window := CallFilter{Since: base.Add(2 * time.Minute), Until: base.Add(5 * time.Minute)}
	var inWindow []Call
	for _, c := range calls {
		if !c.StartedAt.Before(window.Since) && c.StartedAt.Before(window.Until) {
			inWindow = append(inWindow, c)
		}
	}
	for _, c := range []struct {
		name string
		f    CallFilter
		want []string
	}{
		{"all", CallFilter{}, newestFirst(calls)},
		{"since and until", window, newestFirst(inWindow)},
		{"since only", CallFilter{Since: base.Add(6 * time.Minute)}, newestFirst(calls[18:])},
		{"until only", CallFilter{Until: base.Add(time.Minute)}, newestFirst(calls[:3])},
	} {
		for _, size := range []int{1, 2, 3, 4, 5, 50} {
			f := c.f
			f.Limit = size
			got := pageThrough(t, s, f)
			if !slices.Equal(got, c.want) {
				t.Errorf("%s, pages of %d: %v, want %v", c.name, size, got, c.want)
			}
		}
	}

	if _, err := s.ListCalls(ctx, CallFilter{Before: "no-such-call"}); !errors.Is(err, ErrNotFound) {
		t.Errorf("ListCalls with an unknown Before: %v, want ErrNotFound", err)
	}
}

// pageThrough lists every call f matches a page at a time, checking that
// no page is longer than f.Limit.
func pageThrough(t *testing.T, s Store, f CallFilter) []string {
	t.Helper()
	var out []string
	for pages := 0; ; pages++ {
		if pages > 100 {
			t.Fatalf("ListCalls(%+v) has not ended after 100 pages", f)
		}
		page, err := s.ListCalls(context.Background(), f)
		if err != nil {
			t.Fatalf("ListCalls(%+v): %v", f, err)
		}
		if len(page) > f.Limit {
			t.Fatalf("ListCalls(%+v) gave a page of %d", f, len(page))
		}
		if len(page) == 0 {
			return out
		}
		out = append(out, callIDs(page)...)
		f.Before = page[len(page)-1].ID
	}
}

func testListCallsLimits(t *testing.T, s Store) {
	checkPageLimits(t, s, `INSERT INTO calls (id, direction, from_uri, to_uri, node, started_at)
SELECT 'bulk-' || i, 'inbound', '', '', '', '2025-03-01T00:00:00.000000Z' FROM n`,
		defaultCallLimit, maxCallLimit, func(limit int) (int, error) {
			cs, err := s.ListCalls(context.Background(), CallFilter{Limit: limit})
			return len(cs), err
		})
}

func testCallEvents(t *testing.T, s Store) {
	ctx := context.Background()
	for _, id := range []string{"c-1", "c-2"} {
		if err := s.CreateCall(ctx, Call{ID: id, Direction: Inbound}); err != nil {
			t.Fatal(err)
		}
	}
	at := time.Date(2025, 3, 1, 10, 0, 0, 987654321, time.UTC)
	in := []CallEvent{
		{CallID: "c-1", At: at, Kind: "sip.invite", Data: json.RawMessage(`{"from": "sip:a@b", "cseq": 1}`)},
		{CallID: "c-2", At: at, Kind: "sip.invite"},
		{CallID: "c-1", At: at.Add(time.Second), Kind: "ivr.step"}, // nil Data: {}
		{CallID: "c-1", At: at.Add(time.Second), Kind: "dtmf",
			Data: json.RawMessage(`{"z": "5", "a": {"y": [1, 2.5, "x"], "b": null}, "t": true}`)},
		{CallID: "c-1", Kind: "sip.bye", Data: json.RawMessage(`{}`)}, // zero At: now
	}
	var want []CallEvent
	for i, e := range in {
		got, err := s.AppendCallEvent(ctx, e)
		if err != nil {
			t.Fatalf("AppendCallEvent %d: %v", i, err)
		}
		if got.ID == 0 || got.At.IsZero() {
			t.Errorf("AppendCallEvent %d gave ID %d, At %v", i, got.ID, got.At)
		}
		if e.Data == nil && string(got.Data) != "{}" {
			t.Errorf("AppendCallEvent with nil Data gave Data %s, want {}", got.Data)
		}
		if e.CallID == "c-1" {
			want = append(want, got)
		}
	}

	got, err := s.CallEvents(ctx, "c-1")
	if err != nil {
		t.Fatalf("CallEvents: %v", err)
	}
	if len(got) != len(want) {
		t.Fatalf("CallEvents gave %d events, want %d", len(got), len(want))
	}
	for i := range want {
		checkCallEvent(t, got[i], want[i])
	}
	if gotIDs := ids(got, func(e CallEvent) int64 { return e.ID }); !strictlyIncreasing(gotIDs) {
		t.Errorf("CallEvents IDs %v are not increasing", gotIDs)
	}
	if other, err := s.CallEvents(ctx, "c-2"); err != nil || len(other) != 1 || other[0].Kind != "sip.invite" {
		t.Errorf("CallEvents(c-2) = %+v, %v; want its one event", other, err)
	}
	if none, err := s.CallEvents(ctx, "c-none"); err != nil || len(none) != 0 {
		t.Errorf("CallEvents(unknown) = %+v, %v; want none", none, err)
	}

	_, err = s.AppendCallEvent(ctx, CallEvent{CallID: "c-none", Kind: "sip.invite"})
	if !errors.Is(err, ErrNotFound) {
		t.Errorf("AppendCallEvent to an unknown call: %v, want ErrNotFound", err)
	}
	for _, data := range []string{`[1, 2]`, `"x"`, `null`, `{"a": 1`, `not json`} {
		_, err := s.AppendCallEvent(ctx, CallEvent{CallID: "c-1", Kind: "x", Data: json.RawMessage(data)})
		if err == nil || errors.Is(err, ErrNotFound) {
			t.Errorf("AppendCallEvent with Data %s: %v, want an error", data, err)
		}
	}
	if after, _ := s.CallEvents(ctx, "c-1"); len(after) != len(want) {
		t.Errorf("rejected appends were stored: %d events, want %d", len(after), len(want))
	}
}

func testCallEventsAppendOnly(t *testing.T, s Store) {
	ctx := context.Background()
	if err := s.CreateCall(ctx, Call{ID: "c-1", Direction: Inbound}); err != nil {
		t.Fatal(err)
	}
	e, err := s.AppendCallEvent(ctx, CallEvent{CallID: "c-1", Kind: "sip.invite"})
	if err != nil {
		t.Fatal(err)
	}
	checkRejectsUpdate(t, s, "call_events", "kind = 'forged'")
	if got, err := s.CallEvents(ctx, "c-1"); err != nil || len(got) != 1 || got[0].Kind != "sip.invite" {
		t.Fatalf("after a rejected UPDATE: %+v, %v; want the event unchanged", got, err)
	}
	n, err := internals(t, s).exec(ctx, newQuery(`DELETE FROM call_events WHERE id = $1`), e.ID)
	if err != nil || n != 1 {
		t.Errorf("DELETE from call_events = %d, %v; want 1 row deleted", n, err)
	}
}

// testCallEventsConcurrent appends to one call from 8 goroutines at once.
func testCallEventsConcurrent(t *testing.T, s Store) {
	ctx := context.Background()
	if err := s.CreateCall(ctx, Call{ID: "busy", Direction: Inbound}); err != nil {
		t.Fatal(err)
	}
	const workers, each = 8, 25
	var wg sync.WaitGroup
	errs := make(chan error, workers*each)
	for w := range workers {
		wg.Go(func() {
			for i := range each {
				data := json.RawMessage(fmt.Sprintf(`{"worker": %d, "seq": %d}`, w, i))
				if _, err := s.AppendCallEvent(ctx, CallEvent{CallID: "busy", Kind: "test", Data: data}); err != nil {
					errs <- fmt.Errorf("worker %d, event %d: %w", w, i, err)
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}

	got, err := s.CallEvents(ctx, "busy")
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != workers*each {
		t.Fatalf("CallEvents gave %d events, want %d", len(got), workers*each)
	}
	if gotIDs := ids(got, func(e CallEvent) int64 { return e.ID }); !strictlyIncreasing(gotIDs) {
		t.Errorf("CallEvents IDs are not strictly increasing: %v", gotIDs)
	}
	// Each worker appended in order, so its events come in order.
	next := make([]int, workers)
	for _, e := range got {
		var d struct{ Worker, Seq int }
		if err := json.Unmarshal(e.Data, &d); err != nil {
			t.Fatalf("event %d: %v", e.ID, err)
		}
		if d.Seq != next[d.Worker] {
			t.Errorf("event %d: worker %d seq %d, want seq %d", e.ID, d.Worker, d.Seq, next[d.Worker])
		}
		next[d.Worker] = d.Seq + 1
	}
}

func mustCall(t *testing.T, s Store, id string) Call {
	t.Helper()
	c, err := s.CallByID(context.Background(), id)
	if err != nil {
		t.Fatalf("CallByID %s: %v", id, err)
	}
	return c
}

func callIDs(cs []Call) []string {
	out := []string{}
	for _, c := range cs {
		out = append(out, c.ID)
	}
	return out
}

// checkCall compares a stored call with the one given to the store.
func checkCall(t *testing.T, got, want Call) {
	t.Helper()
	checkTime(t, "call "+want.ID+" StartedAt", got.StartedAt, stored(want.StartedAt))
	for _, x := range []struct {
		what      string
		got, want time.Time
	}{{"AnsweredAt", got.AnsweredAt, want.AnsweredAt}, {"EndedAt", got.EndedAt, want.EndedAt}} {
		if x.want.IsZero() {
			if !x.got.IsZero() {
				t.Errorf("call %s %s = %v, want zero", want.ID, x.what, x.got)
			}
			continue
		}
		checkTime(t, "call "+want.ID+" "+x.what, x.got, stored(x.want))
	}
	if want.Duration == 0 && !want.EndedAt.IsZero() {
		// The store works Duration out from the stored times.
		want.Duration = max(0, stored(want.EndedAt).Sub(stored(want.StartedAt))).Truncate(time.Millisecond)
	}
	got.StartedAt, got.AnsweredAt, got.EndedAt = time.Time{}, time.Time{}, time.Time{}
	want.StartedAt, want.AnsweredAt, want.EndedAt = time.Time{}, time.Time{}, time.Time{}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("call = %+v, want %+v", got, want)
	}
}

// checkCallEvent compares a stored event with the one AppendCallEvent
// returned. It compares Data as JSON: PostgreSQL's JSONB keeps neither
// key order nor spacing.
func checkCallEvent(t *testing.T, got, want CallEvent) {
	t.Helper()
	checkTime(t, "call event At", got.At, want.At)
	var g, w any
	if err := json.Unmarshal(got.Data, &g); err != nil {
		t.Errorf("event %d Data %s: %v", got.ID, got.Data, err)
	}
	if err := json.Unmarshal(want.Data, &w); err != nil {
		t.Fatalf("want Data %s: %v", want.Data, err)
	}
	if !reflect.DeepEqual(g, w) {
		t.Errorf("event %d Data = %s, want %s", got.ID, got.Data, want.Data)
	}
	if got.ID != want.ID || got.CallID != want.CallID || got.Kind != want.Kind {
		t.Errorf("event = {ID %d, CallID %s, Kind %s}, want {ID %d, CallID %s, Kind %s}",
			got.ID, got.CallID, got.Kind, want.ID, want.CallID, want.Kind)
	}
}

func testCallWrapUp(t *testing.T, s Store) {
	ctx := context.Background()
	start := time.Date(2026, 11, 23, 9, 0, 0, 0, time.UTC)
	for i, from := range []string{"+6281100001111", "+6281100002222", "+6281100001111"} {
		c := Call{ID: fmt.Sprintf("w-%d", i), Direction: Inbound, From: from, To: "demo", Node: "n1", StartedAt: start.Add(time.Duration(i) * time.Minute)}
		if err := s.CreateCall(ctx, c); err != nil {
			t.Fatal(err)
		}
	}
	// A caller's history: only their calls, newest first.
	mine, err := s.ListCalls(ctx, CallFilter{From: "+6281100001111"})
	if err != nil || len(mine) != 2 || mine[0].ID != "w-2" || mine[1].ID != "w-0" {
		t.Fatalf("calls from +6281100001111: %v %v", mine, err)
	}

	contact := json.RawMessage(`{"v":1,"intent":{"name":"billing"}}`)
	if err := s.SetCallContact(ctx, "w-0", contact); err != nil {
		t.Fatal(err)
	}
	if err := s.SetCallContact(ctx, "w-0", json.RawMessage(`[1]`)); err == nil {
		t.Error("a contact that is not a JSON object was stored")
	}
	at := start.Add(10 * time.Minute)
	if err := s.SetCallDisposition(ctx, "w-0", Disposition{Code: "resolved", Notes: "refund sent", AgentID: 7, At: at}); err != nil {
		t.Fatal(err)
	}
	c, err := s.CallByID(ctx, "w-0")
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := json.Unmarshal(c.Contact, &m); err != nil || m["v"] != float64(1) {
		t.Errorf("contact read back %s: %v", c.Contact, err)
	}
	if c.Disposition != "resolved" || c.DispositionNotes != "refund sent" || c.AgentID != 7 {
		t.Errorf("wrap-up read back %q %q agent %d", c.Disposition, c.DispositionNotes, c.AgentID)
	}
	checkTime(t, "WrappedUpAt", c.WrappedUpAt, at)
	if other, _ := s.CallByID(ctx, "w-1"); other.Contact != nil || other.Disposition != "" || !other.WrappedUpAt.IsZero() {
		t.Errorf("a call never wrapped up reads %+v", other)
	}
	if err := s.SetCallDisposition(ctx, "nope", Disposition{Code: "resolved"}); !errors.Is(err, ErrNotFound) {
		t.Errorf("wrap-up of an unknown call: %v, want ErrNotFound", err)
	}
	if err := s.SetCallDisposition(ctx, "w-1", Disposition{}); err == nil {
		t.Error("an empty disposition was stored")
	}
}
