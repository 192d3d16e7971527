package store

import (
	"context"
	"crypto/sha256"
	"errors"
	"reflect"
	"strings"
	"testing"
	"time"
)

// runConformance checks that a Store behaves as the interface documents.
// open gives a Store over a fresh, empty database, closed when t ends.
// Every engine must pass it unchanged.
func runConformance(t *testing.T, open func(t *testing.T) Store) {
	t.Run("Schema", func(t *testing.T) { testSchema(t, open(t)) })
	t.Run("Users", func(t *testing.T) { testUsers(t, open(t)) })
	t.Run("UserErrors", func(t *testing.T) { testUserErrors(t, open(t)) })
	t.Run("Sessions", func(t *testing.T) { testSessions(t, open(t)) })
	t.Run("SessionDeletes", func(t *testing.T) { testSessionDeletes(t, open(t)) })
	t.Run("Audit", func(t *testing.T) { testAudit(t, open(t)) })
	t.Run("AuditLimits", func(t *testing.T) { testAuditLimits(t, open(t)) })
	t.Run("AuditAppendOnly", func(t *testing.T) { testAuditAppendOnly(t, open(t)) })
	t.Run("Calls", func(t *testing.T) { testCalls(t, open(t)) })
	t.Run("ListCalls", func(t *testing.T) { testListCalls(t, open(t)) })
	t.Run("ListCallsLimits", func(t *testing.T) { testListCallsLimits(t, open(t)) })
	t.Run("CallWrapUp", func(t *testing.T) { testCallWrapUp(t, open(t)) })
	t.Run("CallSummary", func(t *testing.T) { testCallSummary(t, open(t)) })
	t.Run("CallDuration", func(t *testing.T) { testCallDuration(t, open(t)) })
	t.Run("SearchCalls", func(t *testing.T) { testSearchCalls(t, open(t)) })
	t.Run("SearchCallsPages", func(t *testing.T) { testSearchCallsPages(t, open(t)) })
	t.Run("SearchCallsValidation", func(t *testing.T) { testSearchCallsValidation(t, open(t)) })
	t.Run("CallEvents", func(t *testing.T) { testCallEvents(t, open(t)) })
	t.Run("CallEventsAppendOnly", func(t *testing.T) { testCallEventsAppendOnly(t, open(t)) })
	t.Run("CallEventsConcurrent", func(t *testing.T) { testCallEventsConcurrent(t, open(t)) })
	t.Run("Recordings", func(t *testing.T) { testRecordings(t, open(t)) })
	t.Run("EndOrphanedCalls", func(t *testing.T) { testEndOrphanedCalls(t, open(t)) })
	t.Run("Phones", func(t *testing.T) { testPhones(t, open(t)) })
	t.Run("Agents", func(t *testing.T) { testAgents(t, open(t)) })
	t.Run("ReserveSkillsAndIdle", func(t *testing.T) { testReserveSkillsAndIdle(t, open(t)) })
	t.Run("ReserveOneAgent", func(t *testing.T) { testReserveOneAgent(t, open(t)) })
	t.Run("ReservePriority", func(t *testing.T) { testReservePriority(t, open(t)) })
	t.Run("EndOrphanedQueueEntries", func(t *testing.T) { testEndOrphanedQueueEntries(t, open(t)) })
	t.Run("ReserveConcurrent", func(t *testing.T) { testReserveConcurrent(t, open(t)) })
	t.Run("Scorecards", func(t *testing.T) { testScorecards(t, open(t)) })
	t.Run("ScorecardsConcurrent", func(t *testing.T) { testScorecardsConcurrent(t, open(t)) })
	t.Run("Evaluations", func(t *testing.T) { testEvaluations(t, open(t)) })
	t.Run("EvaluationFilters", func(t *testing.T) { testEvaluationFilters(t, open(t)) })
	t.Run("EvaluatedCalls", func(t *testing.T) { testEvaluatedCalls(t, open(t)) })
	t.Run("Comments", func(t *testing.T) { testComments(t, open(t)) })
	t.Run("ReviewQueue", func(t *testing.T) { testReviewQueue(t, open(t)) })
	t.Run("LegalHold", func(t *testing.T) { testLegalHold(t, open(t)) })
	t.Run("ExpiredRecordings", func(t *testing.T) { testExpiredRecordings(t, open(t)) })
	t.Run("SetRecordingRetention", func(t *testing.T) { testSetRecordingRetention(t, open(t)) })
	t.Run("ExpiredByPolicy", func(t *testing.T) { testExpiredByPolicy(t, open(t)) })
	t.Run("DeleteRecording", func(t *testing.T) { testDeleteRecording(t, open(t)) })
	t.Run("CallsFrom", func(t *testing.T) { testCallsFrom(t, open(t)) })
	t.Run("EraseCalls", func(t *testing.T) { testEraseCalls(t, open(t)) })
	t.Run("EraseCallsHeld", func(t *testing.T) { testEraseCallsHeld(t, open(t)) })
}

func testSchema(t *testing.T, s Store) {
	ctx := context.Background()
	migs, err := loadMigrations(migrationFiles, "migrations/"+s.Engine())
	if err != nil {
		t.Fatal(err)
	}
	v, err := s.SchemaVersion(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if v != len(migs) || v < 1 {
		t.Errorf("SchemaVersion = %d, want %d", v, len(migs))
	}
	if err := s.Ping(ctx); err != nil {
		t.Errorf("Ping: %v", err)
	}
}

func testUsers(t *testing.T, s Store) {
	ctx := context.Background()
	if n := mustCount(t, s); n != 0 {
		t.Fatalf("CountUsers on an empty database = %d", n)
	}

	before := time.Now()
	alice := mustCreateUser(t, s, User{Name: "alice", DisplayName: "Alice Tan", Role: RoleAgent,
		PasswordHash: "$argon2id$v=19$m=65536,t=3,p=4$c2FsdA$aGFzaA"})
	after := time.Now()
	if alice.ID == 0 {
		t.Error("CreateUser left ID zero")
	}
	checkUTC(t, "CreatedAt", alice.CreatedAt)
	if alice.CreatedAt.Before(before.Truncate(time.Microsecond)) || alice.CreatedAt.After(after) {
		t.Errorf("CreatedAt = %v, want between %v and %v", alice.CreatedAt, before, after)
	}
	if !alice.UpdatedAt.Equal(alice.CreatedAt) {
		t.Errorf("UpdatedAt = %v, want CreatedAt %v", alice.UpdatedAt, alice.CreatedAt)
	}
	bob := mustCreateUser(t, s, User{Name: "bob", DisplayName: "Bob", Role: RoleAdmin, PasswordHash: "h2", Disabled: true})
	// Upper case sorts first in byte order, whatever the server's locale.
	zed := mustCreateUser(t, s, User{Name: "Zed", DisplayName: "Zed Q", Role: RoleQA, PasswordHash: "h3"})
	if bob.ID == alice.ID || zed.ID == bob.ID {
		t.Errorf("IDs are not distinct: %d %d %d", alice.ID, bob.ID, zed.ID)
	}

	got, err := s.UserByID(ctx, alice.ID)
	if err != nil {
		t.Fatalf("UserByID: %v", err)
	}
	checkUser(t, got, alice)
	got, err = s.UserByName(ctx, "bob")
	if err != nil {
		t.Fatalf("UserByName: %v", err)
	}
	checkUser(t, got, bob)

	list, err := s.ListUsers(ctx)
	if err != nil {
		t.Fatalf("ListUsers: %v", err)
	}
	if len(list) != 3 {
		t.Fatalf("ListUsers gave %d users, want 3", len(list))
	}
	for i, want := range []User{zed, alice, bob} {
		checkUser(t, list[i], want)
	}
	if n := mustCount(t, s); n != 3 {
		t.Errorf("CountUsers = %d, want 3 (disabled ones count)", n)
	}

	if err := s.SetUserDisabled(ctx, "alice", true); err != nil {
		t.Fatalf("SetUserDisabled: %v", err)
	}
	if u := mustUser(t, s, "alice"); !u.Disabled || u.UpdatedAt.Before(u.CreatedAt) {
		t.Errorf("after disabling: Disabled = %v, UpdatedAt %v, CreatedAt %v", u.Disabled, u.UpdatedAt, u.CreatedAt)
	}
	if err := s.SetUserDisabled(ctx, "alice", false); err != nil {
		t.Fatalf("SetUserDisabled: %v", err)
	}
	if u := mustUser(t, s, "alice"); u.Disabled {
		t.Error("after enabling: still disabled")
	}
	if err := s.SetPasswordHash(ctx, "bob", "$argon2id$new"); err != nil {
		t.Fatalf("SetPasswordHash: %v", err)
	}
	if u := mustUser(t, s, "bob"); u.PasswordHash != "$argon2id$new" || !u.Disabled {
		t.Errorf("after SetPasswordHash: hash %q, disabled %v", u.PasswordHash, u.Disabled)
	}
	if u := mustUser(t, s, "alice"); u.PasswordHash != alice.PasswordHash {
		t.Errorf("SetPasswordHash of bob changed alice's hash to %q", u.PasswordHash)
	}
}

func testUserErrors(t *testing.T, s Store) {
	ctx := context.Background()
	alice := mustCreateUser(t, s, User{Name: "alice", Role: RoleSupervisor, PasswordHash: "h"})

	_, err := s.CreateUser(ctx, User{Name: "alice", Role: RoleAgent, PasswordHash: "other"})
	if !errors.Is(err, ErrExists) {
		t.Errorf("CreateUser with a taken name: %v, want ErrExists", err)
	}
	if _, err := s.CreateUser(ctx, User{Name: "carol", Role: "root"}); err == nil || errors.Is(err, ErrExists) {
		t.Errorf("CreateUser with role root: %v, want an error naming the role", err)
	}
	if _, err := s.CreateUser(ctx, User{Name: "", Role: RoleAgent}); err == nil {
		t.Error("CreateUser with no name succeeded")
	}
	if n := mustCount(t, s); n != 1 {
		t.Errorf("CountUsers after failed creates = %d, want 1", n)
	}

	if _, err := s.UserByID(ctx, alice.ID+1000); !errors.Is(err, ErrNotFound) {
		t.Errorf("UserByID(unknown): %v, want ErrNotFound", err)
	}
	if _, err := s.UserByName(ctx, "ALICE"); !errors.Is(err, ErrNotFound) {
		t.Errorf("UserByName is not case-sensitive: %v, want ErrNotFound", err)
	}
	if err := s.SetUserDisabled(ctx, "nobody", true); !errors.Is(err, ErrNotFound) {
		t.Errorf("SetUserDisabled(unknown): %v, want ErrNotFound", err)
	}
	if err := s.SetPasswordHash(ctx, "nobody", "h"); !errors.Is(err, ErrNotFound) {
		t.Errorf("SetPasswordHash(unknown): %v, want ErrNotFound", err)
	}
}

func testSessions(t *testing.T, s Store) {
	ctx := context.Background()
	u := mustCreateUser(t, s, User{Name: "agent1", DisplayName: "Agent One", Role: RoleAgent, PasswordHash: "h"})
	now := time.Date(2025, 3, 1, 8, 0, 0, 123456789, time.UTC)
	hash := tokenHash("token-1")
	sess := Session{TokenHash: hash, UserID: u.ID, CSRFToken: "csrf-1", CreatedAt: now, LastSeenAt: now,
		ExpiresAt: now.Add(time.Hour), RemoteAddr: "192.0.2.10:51234", UserAgent: "Mozilla/5.0"}
	if err := s.CreateSession(ctx, sess); err != nil {
		t.Fatalf("CreateSession: %v", err)
	}
	if err := s.CreateSession(ctx, sess); !errors.Is(err, ErrExists) {
		t.Errorf("CreateSession with a taken token hash: %v, want ErrExists", err)
	}
	other := sess
	other.TokenHash, other.UserID = tokenHash("token-x"), u.ID+1000
	if err := s.CreateSession(ctx, other); !errors.Is(err, ErrNotFound) {
		t.Errorf("CreateSession for an unknown user: %v, want ErrNotFound", err)
	}

	gotS, gotU, err := s.SessionUser(ctx, hash, now.Add(time.Minute))
	if err != nil {
		t.Fatalf("SessionUser: %v", err)
	}
	checkSession(t, gotS, sess)
	checkUser(t, gotU, u)

	for _, at := range []time.Time{now.Add(time.Hour), now.Add(2 * time.Hour)} {
		if _, _, err := s.SessionUser(ctx, hash, at); !errors.Is(err, ErrNotFound) {
			t.Errorf("SessionUser at %v, session expired at %v: %v, want ErrNotFound", at, sess.ExpiresAt, err)
		}
	}
	if _, _, err := s.SessionUser(ctx, tokenHash("unknown"), now); !errors.Is(err, ErrNotFound) {
		t.Errorf("SessionUser(unknown): %v, want ErrNotFound", err)
	}

	// Sliding expiry: activity at +50 min keeps the session until +3 h.
	seen, expires := now.Add(50*time.Minute), now.Add(3*time.Hour)
	if err := s.TouchSession(ctx, hash, seen, expires); err != nil {
		t.Fatalf("TouchSession: %v", err)
	}
	gotS, _, err = s.SessionUser(ctx, hash, now.Add(2*time.Hour))
	if err != nil {
		t.Fatalf("SessionUser after TouchSession: %v", err)
	}
	want := sess
	want.LastSeenAt, want.ExpiresAt = seen, expires
	checkSession(t, gotS, want)
	if err := s.TouchSession(ctx, tokenHash("unknown"), seen, expires); !errors.Is(err, ErrNotFound) {
		t.Errorf("TouchSession(unknown): %v, want ErrNotFound", err)
	}

	if err := s.DeleteSession(ctx, hash); err != nil {
		t.Fatalf("DeleteSession: %v", err)
	}
	if _, _, err := s.SessionUser(ctx, hash, now); !errors.Is(err, ErrNotFound) {
		t.Errorf("SessionUser after DeleteSession: %v, want ErrNotFound", err)
	}
	if err := s.DeleteSession(ctx, hash); err != nil {
		t.Errorf("DeleteSession of a missing session: %v, want nil", err)
	}
}

func testSessionDeletes(t *testing.T, s Store) {
	ctx := context.Background()
	a := mustCreateUser(t, s, User{Name: "a", Role: RoleAgent, PasswordHash: "h"})
	b := mustCreateUser(t, s, User{Name: "b", Role: RoleAgent, PasswordHash: "h"})
	now := time.Date(2025, 3, 1, 8, 0, 0, 0, time.UTC)
	add := func(token string, user int64, ttl time.Duration) {
		t.Helper()
		err := s.CreateSession(ctx, Session{TokenHash: tokenHash(token), UserID: user, CSRFToken: "c",
			CreatedAt: now, LastSeenAt: now, ExpiresAt: now.Add(ttl)})
		if err != nil {
			t.Fatalf("CreateSession %s: %v", token, err)
		}
	}
	add("a1", a.ID, time.Hour)
	add("a2", a.ID, time.Hour)
	add("a3", a.ID, time.Hour)
	add("b1", b.ID, time.Hour)
	n, err := s.DeleteUserSessions(ctx, a.ID)
	if err != nil || n != 3 {
		t.Fatalf("DeleteUserSessions = %d, %v; want 3", n, err)
	}
	for _, tok := range []string{"a1", "a2", "a3"} {
		if _, _, err := s.SessionUser(ctx, tokenHash(tok), now); !errors.Is(err, ErrNotFound) {
			t.Errorf("session %s after DeleteUserSessions: %v, want ErrNotFound", tok, err)
		}
	}
	if _, u, err := s.SessionUser(ctx, tokenHash("b1"), now); err != nil || u.ID != b.ID {
		t.Errorf("another user's session after DeleteUserSessions: user %d, %v", u.ID, err)
	}
	if n, err := s.DeleteUserSessions(ctx, a.ID); err != nil || n != 0 {
		t.Errorf("DeleteUserSessions again = %d, %v; want 0", n, err)
	}

	add("e1", a.ID, time.Minute)
	add("e2", b.ID, 5*time.Minute) // expires exactly at the cut: expired
	add("e3", a.ID, 10*time.Minute)
	n, err = s.DeleteExpiredSessions(ctx, now.Add(5*time.Minute))
	if err != nil || n != 2 {
		t.Fatalf("DeleteExpiredSessions = %d, %v; want 2", n, err)
	}
	for tok, live := range map[string]bool{"e1": false, "e2": false, "e3": true, "b1": true} {
		_, _, err := s.SessionUser(ctx, tokenHash(tok), now)
		if live && err != nil || !live && !errors.Is(err, ErrNotFound) {
			t.Errorf("session %s after DeleteExpiredSessions: %v, want live %v", tok, err, live)
		}
	}
}

func tokenHash(token string) []byte {
	h := sha256.Sum256([]byte(token))
	return h[:]
}

func mustCreateUser(t *testing.T, s Store, u User) User {
	t.Helper()
	got, err := s.CreateUser(context.Background(), u)
	if err != nil {
		t.Fatalf("CreateUser %q: %v", u.Name, err)
	}
	return got
}

func mustUser(t *testing.T, s Store, name string) User {
	t.Helper()
	u, err := s.UserByName(context.Background(), name)
	if err != nil {
		t.Fatalf("UserByName %q: %v", name, err)
	}
	return u
}

func mustCount(t *testing.T, s Store) int {
	t.Helper()
	n, err := s.CountUsers(context.Background())
	if err != nil {
		t.Fatalf("CountUsers: %v", err)
	}
	return n
}

// checkUTC fails t unless tm is in UTC.
func checkUTC(t *testing.T, what string, tm time.Time) {
	t.Helper()
	if tm.Location() != time.UTC {
		t.Errorf("%s is in %v, want UTC", what, tm.Location())
	}
}

// checkTime fails t unless got is the instant want, in UTC.
func checkTime(t *testing.T, what string, got, want time.Time) {
	t.Helper()
	checkUTC(t, what, got)
	if !got.Equal(want) {
		t.Errorf("%s = %v, want %v", what, got, want.UTC())
	}
}

// stored is a time as the store keeps it: to the microsecond.
func stored(tm time.Time) time.Time { return tm.Truncate(time.Microsecond) }

// checkUser compares two users read from the store.
func checkUser(t *testing.T, got, want User) {
	t.Helper()
	checkTime(t, "user "+want.Name+" CreatedAt", got.CreatedAt, want.CreatedAt)
	checkTime(t, "user "+want.Name+" UpdatedAt", got.UpdatedAt, want.UpdatedAt)
	got.CreatedAt, got.UpdatedAt, want.CreatedAt, want.UpdatedAt = time.Time{}, time.Time{}, time.Time{}, time.Time{}
	if got != want {
		t.Errorf("user = %+v, want %+v", got, want)
	}
}

// checkSession compares a stored session with the one given to the store.
func checkSession(t *testing.T, got, want Session) {
	t.Helper()
	checkTime(t, "session CreatedAt", got.CreatedAt, stored(want.CreatedAt))
	checkTime(t, "session LastSeenAt", got.LastSeenAt, stored(want.LastSeenAt))
	checkTime(t, "session ExpiresAt", got.ExpiresAt, stored(want.ExpiresAt))
	got.CreatedAt, got.LastSeenAt, got.ExpiresAt = time.Time{}, time.Time{}, time.Time{}
	want.CreatedAt, want.LastSeenAt, want.ExpiresAt = time.Time{}, time.Time{}, time.Time{}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("session = %+v, want %+v", got, want)
	}
}

// checkPageLimits stores more rows than a page may hold, with insert: an
// INSERT ... SELECT ... FROM n, where n(i) counts them. It then checks the
// length of the page list gives for each limit: def for none, at most most.
func checkPageLimits(t *testing.T, s Store, insert string, def, most int, list func(limit int) (int, error)) {
	t.Helper()
	_, err := internals(t, s).exec(context.Background(), newQuery(`WITH RECURSIVE n(i) AS (
    SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < $1
)
`+insert), most+1)
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct{ limit, want int }{{0, def}, {-1, def}, {7, 7}, {most, most}, {most + 1, most}} {
		if n, err := list(c.limit); err != nil || n != c.want {
			t.Errorf("Limit %d gave a page of %d, %v; want %d", c.limit, n, err, c.want)
		}
	}
}

// checkRejectsUpdate runs a raw UPDATE on table and checks that the
// database refused it with the append-only message.
func checkRejectsUpdate(t *testing.T, s Store, table, set string) {
	t.Helper()
	n, err := internals(t, s).exec(context.Background(), newQuery(`UPDATE `+table+` SET `+set))
	if err == nil {
		t.Fatalf("UPDATE %s changed %d rows; want it rejected", table, n)
	}
	if !strings.Contains(err.Error(), table+" is append-only") {
		t.Errorf("UPDATE %s: %v; want the append-only message", table, err)
	}
}

func ids[T any](xs []T, id func(T) int64) []int64 {
	out := make([]int64, 0, len(xs))
	for _, x := range xs {
		out = append(out, id(x))
	}
	return out
}

func strictlyIncreasing(xs []int64) bool {
	for i := 1; i < len(xs); i++ {
		if xs[i] <= xs[i-1] {
			return false
		}
	}
	return true
}
