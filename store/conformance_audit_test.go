package store

import (
	"context"
	"reflect"
	"slices"
	"testing"
	"time"
)

func testAudit(t *testing.T, s Store) {
	ctx := context.Background()
	base := time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC)
	in := []AuditEvent{
		{At: base, Actor: "alice", Action: "login.success", Target: "alice", RemoteAddr: "192.0.2.1",
			Outcome: "ok", Detail: map[string]string{"method": "password"}},
		{At: base.Add(time.Minute), Actor: "", Action: "login.failure", Target: "mallory", RemoteAddr: "198.51.100.7",
			Outcome: "denied", Detail: map[string]string{"reason": "unknown user", "raw": "\"<&>\" ünï\n"}},
		{At: base.Add(2 * time.Minute), Actor: "cli", Action: "user.add", Target: "bob", Outcome: "ok"},
		// Same At as the one before: the later append is the newer.
		{At: base.Add(2 * time.Minute), Actor: "alice", Action: "user.disable", Target: "bob",
			RemoteAddr: "192.0.2.1", Outcome: "ok"},
		// Zero At: stamped now.
		{Actor: "system", Action: "login.failure", Target: "alice", Outcome: "error"},
	}
	var stored []AuditEvent
	for i, e := range in {
		before := time.Now()
		got, err := s.AppendAudit(ctx, e)
		if err != nil {
			t.Fatalf("AppendAudit %d: %v", i, err)
		}
		if i > 0 && got.ID <= stored[i-1].ID {
			t.Errorf("AppendAudit %d: ID %d after %d", i, got.ID, stored[i-1].ID)
		}
		if e.At.IsZero() && (got.At.Before(before.Add(-time.Millisecond)) || got.At.After(time.Now())) {
			t.Errorf("AppendAudit with no At: At = %v, want about now", got.At)
		}
		stored = append(stored, got)
	}

	all, err := s.ListAudit(ctx, AuditFilter{})
	if err != nil {
		t.Fatalf("ListAudit: %v", err)
	}
	newestFirst := slices.Clone(stored)
	slices.Reverse(newestFirst)
	if len(all) != len(newestFirst) {
		t.Fatalf("ListAudit gave %d events, want %d", len(all), len(newestFirst))
	}
	for i, want := range newestFirst {
		checkAudit(t, all[i], want)
	}

	e := func(i int) int64 { return stored[i].ID }
	for _, c := range []struct {
		name string
		f    AuditFilter
		want []int64
	}{
		{"action", AuditFilter{Action: "login.failure"}, []int64{e(4), e(1)}},
		{"actor", AuditFilter{Actor: "alice"}, []int64{e(3), e(0)}},
		{"target", AuditFilter{Target: "bob"}, []int64{e(3), e(2)}},
		{"remote addr", AuditFilter{RemoteAddr: "192.0.2.1"}, []int64{e(3), e(0)}},
		{"since", AuditFilter{Since: base.Add(time.Minute)}, []int64{e(4), e(3), e(2), e(1)}},
		{"since, in another zone", AuditFilter{Since: base.Add(2 * time.Minute).In(time.FixedZone("WIB", 7*3600))},
			[]int64{e(4), e(3), e(2)}},
		{"action and target", AuditFilter{Action: "login.failure", Target: "alice"}, []int64{e(4)}},
		{"since and actor", AuditFilter{Since: base.Add(time.Second), Actor: "alice"}, []int64{e(3)}},
		{"limit", AuditFilter{Limit: 2}, []int64{e(4), e(3)}},
		{"no match", AuditFilter{Action: "user.delete"}, []int64{}},
	} {
		got, err := s.ListAudit(ctx, c.f)
		if err != nil {
			t.Errorf("ListAudit %s: %v", c.name, err)
			continue
		}
		if g := ids(got, func(e AuditEvent) int64 { return e.ID }); !slices.Equal(g, c.want) {
			t.Errorf("ListAudit %s = %v, want %v", c.name, g, c.want)
		}
	}
}

func testAuditLimits(t *testing.T, s Store) {
	checkPageLimits(t, s, `INSERT INTO audit_events (at, actor, action, target, remote_addr, outcome, detail)
SELECT '2025-03-01T00:00:00.000000Z', 'system', 'bulk', '', '', 'ok', '{}' FROM n`,
		defaultAuditLimit, maxAuditLimit, func(limit int) (int, error) {
			es, err := s.ListAudit(context.Background(), AuditFilter{Limit: limit})
			return len(es), err
		})
}

func testAuditAppendOnly(t *testing.T, s Store) {
	ctx := context.Background()
	e, err := s.AppendAudit(ctx, AuditEvent{Actor: "alice", Action: "user.add", Target: "bob", Outcome: "ok"})
	if err != nil {
		t.Fatal(err)
	}
	checkRejectsUpdate(t, s, "audit_events", "outcome = 'denied'")
	got, err := s.ListAudit(ctx, AuditFilter{})
	if err != nil || len(got) != 1 || got[0].Outcome != "ok" {
		t.Fatalf("after a rejected UPDATE: %+v, %v; want the event unchanged", got, err)
	}
	// Retention and erasure delete.
	n, err := internals(t, s).exec(ctx, newQuery(`DELETE FROM audit_events WHERE id = $1`), e.ID)
	if err != nil || n != 1 {
		t.Errorf("DELETE from audit_events = %d, %v; want 1 row deleted", n, err)
	}
}

func checkAudit(t *testing.T, got, want AuditEvent) {
	t.Helper()
	checkTime(t, "audit At", got.At, want.At)
	got.At, want.At = time.Time{}, time.Time{}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("audit event = %+v, want %+v", got, want)
	}
}
