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

// testExpiredRecordings: with no recording under a policy of its own, the
// global retention expires those of calls started before now - keep (the
// cut), oldest call first, held ones never. testExpiredByPolicy mixes in
// recordings with a RetainUntil.
func testExpiredRecordings(t *testing.T, s Store) {
	ctx := context.Background()
	cut := time.Date(2026, 7, 1, 0, 0, 0, 0, time.UTC)
	const keep = 30 * 24 * time.Hour
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
		rs, err := s.ExpiredRecordings(ctx, before.Add(keep), keep, limit)
		if err != nil {
			t.Fatalf("ExpiredRecordings(%v, %v, %d): %v", before.Add(keep), keep, limit, err)
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
	rs, err := s.ExpiredRecordings(ctx, cut.Add(keep), keep, 1)
	if err != nil || len(rs) != 1 || !reflect.DeepEqual(rs[0], old1a) {
		t.Errorf("ExpiredRecordings read %+v, %v; want %+v", rs, err, old1a)
	}

	if err := s.SetLegalHold(ctx, "held", false, "legal", ""); err != nil {
		t.Fatal(err)
	}
	check(expired(cut, 0), old1a, old1b, held, old2, edge)
	check(expired(cut.Add(48*time.Hour), 100), old1a, old1b, held, old2, edge, mustCallRecording(t, s, "at-cut"), recNew)

	_, err = s.ExpiredRecordings(ctx, cut.Add(keep), keep, -1)
	checkInvalid(t, "ExpiredRecordings with limit -1", err, "limit")
	if rs, err := s.ExpiredRecordings(ctx, cut.Add(-100*24*time.Hour), keep, 0); err != nil || rs == nil || len(rs) != 0 {
		t.Errorf("ExpiredRecordings with none = %#v, %v; want an empty list", rs, err)
	}
}

// testSetRecordingRetention: a recording's own RetainUntil goes in through
// CreateRecording or SetRecordingRetention and comes back from every read
// of recordings, in UTC to the microsecond; the zero time clears it.
// ErrNotFound for an unknown recording, ErrInvalid past the year 9999.
func testSetRecordingRetention(t *testing.T, s Store) {
	ctx := context.Background()
	mustCreateCalls(t, s, "ru-1", "ru-2")
	plain := newRecording(t, s, "ru-1", 0)
	if !plain.RetainUntil.IsZero() || !recordingByID(t, s, plain).RetainUntil.IsZero() {
		t.Errorf("a recording stored without a policy has RetainUntil %v", recordingByID(t, s, plain).RetainUntil)
	}
	until := time.Date(2033, 1, 2, 10, 4, 5, 123456789, time.FixedZone("WIB", 7*60*60))
	own, err := s.CreateRecording(ctx, Recording{CallID: "ru-2", Path: "ru-2.wav", Format: "wav", Channels: 1,
		SampleRate: 8000, RetainUntil: until})
	if err != nil {
		t.Fatal(err)
	}
	checkTime(t, "CreateRecording's RetainUntil", own.RetainUntil, stored(until))
	checkTime(t, "CallRecordings' RetainUntil", recordingByID(t, s, own).RetainUntil, stored(until))
	// Both calls are on node n1, and neither recording finished.
	un, err := s.UnfinishedRecordings(ctx, "n1")
	if err != nil || len(un) != 2 || un[0].ID != plain.ID || un[1].ID != own.ID {
		t.Fatalf("UnfinishedRecordings = %+v, %v; want both", un, err)
	}
	if !un[0].RetainUntil.IsZero() {
		t.Errorf("UnfinishedRecordings reads RetainUntil %v for a recording with no policy", un[0].RetainUntil)
	}
	checkTime(t, "UnfinishedRecordings' RetainUntil", un[1].RetainUntil, stored(until))

	later := until.Add(365 * 24 * time.Hour)
	for _, x := range []struct {
		what  string
		r     Recording
		until time.Time
	}{
		{"set", plain, until},
		{"replace", own, later},
		{"clear", plain, time.Time{}},
	} {
		if err := s.SetRecordingRetention(ctx, x.r.ID, x.until); err != nil {
			t.Fatalf("SetRecordingRetention (%s): %v", x.what, err)
		}
		got := recordingByID(t, s, x.r).RetainUntil
		if x.until.IsZero() && !got.IsZero() {
			t.Errorf("after SetRecordingRetention (%s), RetainUntil = %v; want zero", x.what, got)
		} else if !x.until.IsZero() {
			checkTime(t, "RetainUntil after SetRecordingRetention ("+x.what+")", got, stored(x.until))
		}
	}
	// Each change touched its own recording only.
	checkTime(t, "the other recording's RetainUntil", recordingByID(t, s, own).RetainUntil, stored(later))

	for _, u := range []time.Time{until, {}} {
		if err := s.SetRecordingRetention(ctx, 987654, u); !errors.Is(err, ErrNotFound) {
			t.Errorf("SetRecordingRetention of an unknown recording, to %v: %v; want ErrNotFound", u, err)
		}
	}
	far := time.Date(10000, 1, 1, 0, 0, 0, 0, time.UTC)
	checkInvalid(t, "SetRecordingRetention past the year 9999", s.SetRecordingRetention(ctx, own.ID, far), "RetainUntil")
	_, err = s.CreateRecording(ctx, Recording{CallID: "ru-2", Path: "x.wav", Format: "wav", Channels: 1, SampleRate: 8000,
		RetainUntil: far})
	checkInvalid(t, "CreateRecording with RetainUntil past the year 9999", err, "RetainUntil")
	if rs, _ := s.CallRecordings(ctx, "ru-2"); len(rs) != 1 {
		t.Errorf("a refused recording was stored: %+v", rs)
	}
}

// recordingByID reads r back from its call's recordings.
func recordingByID(t *testing.T, s Store, r Recording) Recording {
	t.Helper()
	rs, err := s.CallRecordings(context.Background(), r.CallID)
	if err != nil {
		t.Fatal(err)
	}
	for _, got := range rs {
		if got.ID == r.ID {
			return got
		}
	}
	t.Fatalf("recording %d of call %s is not stored", r.ID, r.CallID)
	return Recording{}
}

// testExpiredByPolicy: a recording's own RetainUntil decides, past or to
// come, whatever the global retention keep says, in both directions; the
// recordings without one go by their call's start and keep, and not at all
// when keep <= 0; held calls' recordings never. They come in the order of
// when each fell due (RetainUntil, or the call's start plus keep), then by
// ID, and the limit takes the first of that order across both kinds.
func testExpiredByPolicy(t *testing.T, s Store) {
	ctx := context.Background()
	now := time.Date(2026, 7, 1, 0, 0, 0, 0, time.UTC)
	const day = 24 * time.Hour
	recs := map[string]Recording{}
	// In this order, so that the recordings' IDs increase down the list.
	for _, c := range []struct {
		id      string
		started time.Duration // before now
		until   time.Duration // from now; 0 for no policy of its own
	}{
		{"tie", 50 * day, 0},                   // with keep 30 days, due when own-old is
		{"own-old", 100 * day, -20 * day},      // an old call whose policy has passed
		{"own-new", time.Hour, -2 * time.Hour}, // a recent call whose policy has passed
		{"own-future", 100 * day, time.Hour},   // an old call its policy keeps
		{"own-now", 100 * day, 1},              // its policy ends at now: not before it
		{"aged", 40 * day, 0},
		{"oldest", 60 * day, 0},
		{"recent", day, 0},
		{"held-own", time.Hour, -30 * day},
		{"held-aged", 90 * day, 0},
	} {
		start := now.Add(-c.started)
		if err := s.CreateCall(ctx, Call{ID: c.id, Direction: Inbound, StartedAt: start}); err != nil {
			t.Fatal(err)
		}
		r := Recording{CallID: c.id, Path: c.id + ".wav", Format: "wav", Channels: 2, SampleRate: 8000,
			StartedAt: start.Add(time.Second)}
		switch {
		case c.until == 1:
			r.RetainUntil = now
		case c.until != 0:
			r.RetainUntil = now.Add(c.until)
		}
		var err error
		if recs[c.id], err = s.CreateRecording(ctx, r); err != nil {
			t.Fatal(err)
		}
	}
	for _, id := range []string{"held-own", "held-aged"} {
		if err := s.SetLegalHold(ctx, id, true, "legal", "dispute"); err != nil {
			t.Fatal(err)
		}
	}

	check := func(keep time.Duration, limit int, want ...string) {
		t.Helper()
		rs, err := s.ExpiredRecordings(ctx, now, keep, limit)
		if err != nil {
			t.Fatalf("ExpiredRecordings(keep %v, limit %d): %v", keep, limit, err)
		}
		if rs == nil {
			t.Errorf("ExpiredRecordings(keep %v, limit %d) = nil; want a list", keep, limit)
		}
		var got []string
		for _, r := range rs {
			got = append(got, r.CallID)
			if !reflect.DeepEqual(r, recs[r.CallID]) {
				t.Errorf("ExpiredRecordings read %+v; want %+v", r, recs[r.CallID])
			}
		}
		if !slices.Equal(got, want) {
			t.Errorf("ExpiredRecordings(keep %v, limit %d) = %v, want %v", keep, limit, got, want)
		}
	}
	// No global retention: only the recordings' own policies expire any,
	// a recent call's included.
	check(0, 0, "own-old", "own-new")
	check(-time.Hour, 0, "own-old", "own-new")
	check(0, 1, "own-old")
	// Due: oldest 30 days ago, tie and own-old 20 (the ID first), aged 10,
	// own-new 2 hours. By the call's start, aged would come before own-old.
	check(30*day, 0, "oldest", "tie", "own-old", "aged", "own-new")
	check(30*day, 2, "oldest", "tie") // both of the age's; the limit is of the whole
	check(30*day, 3, "oldest", "tie", "own-old")
	// Due: own-old 20 days ago, oldest 15, tie 5: a policy's before the age's.
	check(45*day, 0, "own-old", "oldest", "tie", "own-new")
	// A global retention shorter than any policy still leaves own-future and
	// own-now to theirs; a longer one than any call leaves the policies'.
	check(time.Hour, 0, "oldest", "tie", "aged", "own-old", "recent", "own-new")
	check(200*day, 0, "own-old", "own-new")
	if rs, err := s.ExpiredRecordings(ctx, now.Add(-365*day), 0, 0); err != nil || rs == nil || len(rs) != 0 {
		t.Errorf("ExpiredRecordings with none past = %#v, %v; want an empty list", rs, err)
	}

	// Released, the held calls' recordings go by their policy or their age.
	for _, id := range []string{"held-own", "held-aged"} {
		if err := s.SetLegalHold(ctx, id, false, "legal", ""); err != nil {
			t.Fatal(err)
		}
	}
	check(0, 0, "held-own", "own-old", "own-new")
	// Due: held-aged 60 days ago, oldest and held-own 30 (the ID first).
	check(30*day, 0, "held-aged", "oldest", "held-own", "tie", "own-old", "aged", "own-new")

	// A policy set later decides from then on; cleared, the age decides.
	set := func(id string, until time.Time) {
		t.Helper()
		if err := s.SetRecordingRetention(ctx, recs[id].ID, until); err != nil {
			t.Fatal(err)
		}
		r := recs[id]
		r.RetainUntil = until
		recs[id] = r
	}
	set("own-future", time.Time{})
	set("aged", now.Add(day))
	set("recent", now.Add(-3*day))
	check(30*day, 0, "own-future", "held-aged", "oldest", "held-own", "tie", "own-old", "recent", "own-new")
	check(0, 0, "held-own", "own-old", "recent", "own-new")
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
