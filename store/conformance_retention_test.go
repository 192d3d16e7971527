package store

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"
)

func testLegalHold(t *testing.T, s Store) {
	ctx := context.Background()
	mustCreateCalls(t, s, "h-1", "h-2")
	if c := mustCall(t, s, "h-1"); c.LegalHold || c.HoldReason != "" || c.HoldBy != "" || !c.HoldAt.IsZero() {
		t.Errorf("a new call reads %+v; want no hold", c)
	}
	err := s.SetLegalHold(ctx, "h-1", true, "legal", "")
	checkInvalid(t, "SetLegalHold with no reason", err, "Reason")

	before := time.Now()
	if err := s.SetLegalHold(ctx, "h-1", true, "legal", "case 2026-041"); err != nil {
		t.Fatalf("SetLegalHold: %v", err)
	}
	c := mustCall(t, s, "h-1")
	if !c.LegalHold || c.HoldReason != "case 2026-041" || c.HoldBy != "legal" {
		t.Errorf("held call reads hold %v, %q by %q", c.LegalHold, c.HoldReason, c.HoldBy)
	}
	checkUTC(t, "HoldAt", c.HoldAt)
	if c.HoldAt.Before(before.Truncate(time.Microsecond)) || c.HoldAt.After(time.Now()) {
		t.Errorf("HoldAt = %v, want about now", c.HoldAt)
	}
	if other := mustCall(t, s, "h-2"); other.LegalHold {
		t.Error("holding h-1 held h-2")
	}
	// Every way of reading a call says so.
	listed, err := s.ListCalls(ctx, CallFilter{})
	if err != nil || len(listed) != 2 || listed[1].ID != "h-1" || !listed[1].LegalHold || listed[0].LegalHold {
		t.Errorf("ListCalls = %+v, %v; want h-1 held, h-2 not", listed, err)
	}
	page, err := s.SearchCalls(ctx, CallSearch{From: "+6281100000000"})
	if err != nil || len(page.Calls) != 2 || !page.Calls[1].LegalHold || page.Calls[1].HoldReason != "case 2026-041" {
		t.Errorf("SearchCalls = %+v, %v; want h-1 held", page.Calls, err)
	}

	if err := s.SetLegalHold(ctx, "h-1", false, "legal", ""); err != nil {
		t.Fatalf("release: %v", err)
	}
	if c := mustCall(t, s, "h-1"); c.LegalHold || c.HoldReason != "" || c.HoldBy != "" || !c.HoldAt.IsZero() {
		t.Errorf("released call reads %+v; want no hold", c)
	}
	for _, on := range []bool{true, false} {
		if err := s.SetLegalHold(ctx, "nope", on, "legal", "x"); !errors.Is(err, ErrNotFound) {
			t.Errorf("SetLegalHold(unknown, %v): %v, want ErrNotFound", on, err)
		}
	}
}

// newRecording stores a recording of call, started after the call did.
func newRecording(t *testing.T, s Store, callID string, after time.Duration) Recording {
	t.Helper()
	c := mustCall(t, s, callID)
	r, err := s.CreateRecording(context.Background(), Recording{CallID: callID, Path: callID + ".wav", Format: "wav",
		Channels: 2, SampleRate: 8000, StartedAt: c.StartedAt.Add(after)})
	if err != nil {
		t.Fatalf("CreateRecording of %s: %v", callID, err)
	}
	return r
}

func testExpiredRecordings(t *testing.T, s Store) {
	ctx := context.Background()
	cut := time.Date(2026, 7, 1, 0, 0, 0, 0, time.UTC)
	for _, c := range []struct {
		id    string
		start time.Time
	}{
		{"new", cut.Add(24 * time.Hour)},
		{"at-cut", cut}, // not before the cut
		{"old-2", cut.Add(-2 * time.Hour)},
		{"old-1", cut.Add(-48 * time.Hour)},
		{"held", cut.Add(-24 * time.Hour)},
		{"edge", cut.Add(-time.Second)}, // its recording starts after the cut
		{"no-recording", cut.Add(-72 * time.Hour)},
	} {
		if err := s.CreateCall(ctx, Call{ID: c.id, Direction: Inbound, StartedAt: c.start}); err != nil {
			t.Fatal(err)
		}
	}
	recNew := newRecording(t, s, "new", time.Second)
	newRecording(t, s, "at-cut", time.Second)
	old2 := newRecording(t, s, "old-2", time.Second)
	old1a := newRecording(t, s, "old-1", 3*time.Second)
	old1b := newRecording(t, s, "old-1", time.Minute)
	held := newRecording(t, s, "held", time.Second)
	edge := newRecording(t, s, "edge", 10*time.Second)
	if err := s.SetLegalHold(ctx, "held", true, "legal", "dispute"); err != nil {
		t.Fatal(err)
	}

	expired := func(before time.Time, limit int) []int64 {
		t.Helper()
		rs, err := s.ExpiredRecordings(ctx, before, limit)
		if err != nil {
			t.Fatalf("ExpiredRecordings(%v, %d): %v", before, limit, err)
		}
		return ids(rs, func(r Recording) int64 { return r.ID })
	}
	check := func(got []int64, want ...Recording) {
		t.Helper()
		if w := ids(want, func(r Recording) int64 { return r.ID }); !slices.Equal(got, w) {
			t.Errorf("ExpiredRecordings = %v, want %v", got, w)
		}
	}
	check(expired(cut, 0), old1a, old1b, old2, edge) // oldest call first; held ones never
	check(expired(cut, 3), old1a, old1b, old2)
	check(expired(cut.Add(-47*time.Hour), 0), old1a, old1b)
	check(expired(cut.Add(-72*time.Hour), 0))
	rs, err := s.ExpiredRecordings(ctx, cut, 1)
	if err != nil || len(rs) != 1 || !reflect.DeepEqual(rs[0], old1a) {
		t.Errorf("ExpiredRecordings read %+v, %v; want %+v", rs, err, old1a)
	}

	if err := s.SetLegalHold(ctx, "held", false, "legal", ""); err != nil {
		t.Fatal(err)
	}
	check(expired(cut, 0), old1a, old1b, held, old2, edge)
	check(expired(cut.Add(48*time.Hour), 100), old1a, old1b, held, old2, edge, mustCallRecording(t, s, "at-cut"), recNew)

	_, err = s.ExpiredRecordings(ctx, cut, -1)
	checkInvalid(t, "ExpiredRecordings with limit -1", err, "limit")
	if rs, err := s.ExpiredRecordings(ctx, cut.Add(-100*24*time.Hour), 0); err != nil || rs == nil || len(rs) != 0 {
		t.Errorf("ExpiredRecordings with none = %#v, %v; want an empty list", rs, err)
	}
}

func mustCallRecording(t *testing.T, s Store, callID string) Recording {
	t.Helper()
	rs, err := s.CallRecordings(context.Background(), callID)
	if err != nil || len(rs) != 1 {
		t.Fatalf("recordings of %s: %+v, %v; want one", callID, rs, err)
	}
	return rs[0]
}

func testDeleteRecording(t *testing.T, s Store) {
	ctx := context.Background()
	mustCreateCalls(t, s, "d-1", "d-2")
	r := newRecording(t, s, "d-1", 0)
	keep := newRecording(t, s, "d-2", 0)
	if err := s.SetLegalHold(ctx, "d-1", true, "legal", "subpoena"); err != nil {
		t.Fatal(err)
	}
	if err := s.DeleteRecording(ctx, r.ID); !errors.Is(err, ErrHeld) || !strings.Contains(err.Error(), "d-1") {
		t.Errorf("DeleteRecording of a held call's recording: %v; want ErrHeld naming the call", err)
	}
	if rs, _ := s.CallRecordings(ctx, "d-1"); len(rs) != 1 {
		t.Fatalf("a held recording was deleted: %+v", rs)
	}
	if err := s.SetLegalHold(ctx, "d-1", false, "legal", ""); err != nil {
		t.Fatal(err)
	}
	if err := s.DeleteRecording(ctx, r.ID); err != nil {
		t.Fatalf("DeleteRecording: %v", err)
	}
	if rs, err := s.CallRecordings(ctx, "d-1"); err != nil || len(rs) != 0 {
		t.Errorf("recordings after DeleteRecording: %+v, %v; want none", rs, err)
	}
	if err := s.DeleteRecording(ctx, r.ID); !errors.Is(err, ErrNotFound) {
		t.Errorf("DeleteRecording again: %v, want ErrNotFound", err)
	}
	if got := mustCallRecording(t, s, "d-2"); got.ID != keep.ID {
		t.Errorf("another call's recording: %+v", got)
	}
	mustCall(t, s, "d-1") // the call stays
}

func testCallsFrom(t *testing.T, s Store) {
	ctx := context.Background()
	const caller = "+6281234"
	var want []string
	// More than a page of ListCalls, some at the same time: all of them.
	for i := range 60 {
		c := Call{ID: fmt.Sprintf("from-%02d", i), Direction: Inbound, From: caller,
			StartedAt: qaStart.Add(time.Duration(i/2) * time.Hour)}
		if err := s.CreateCall(ctx, c); err != nil {
			t.Fatal(err)
		}
		want = append(want, c.ID)
	}
	slices.Reverse(want) // newest first; of two at one time, the greater ID
	for i, from := range []string{caller + "5", "sip:" + caller + "@carrier.example", "+628123"} {
		if err := s.CreateCall(ctx, Call{ID: fmt.Sprintf("other-%d", i), Direction: Inbound, From: from}); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.SetLegalHold(ctx, "from-07", true, "legal", "case"); err != nil {
		t.Fatal(err)
	}
	got, err := s.CallsFrom(ctx, caller)
	if err != nil {
		t.Fatal(err)
	}
	if ids := callIDs(got); !slices.Equal(ids, want) {
		t.Errorf("CallsFrom = %v, want %v", ids, want)
	}
	for _, c := range got {
		if c.LegalHold != (c.ID == "from-07") {
			t.Errorf("call %s reads LegalHold %v", c.ID, c.LegalHold)
		}
	}
	if got, err := s.CallsFrom(ctx, "+6299"); err != nil || got == nil || len(got) != 0 {
		t.Errorf("CallsFrom a caller with no calls = %#v, %v; want an empty list", got, err)
	}
	_, err = s.CallsFrom(ctx, "")
	checkInvalid(t, "CallsFrom(\"\")", err, "from")
}
