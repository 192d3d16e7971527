package recordings

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/sambung/sambung/audit"
	"github.com/sambung/sambung/store"
)

// jobRig is a real store, audit trail and recordings directory.
type jobRig struct {
	st    store.Store
	al    *audit.Log
	dir   string
	audit string
	log   *slog.Logger
}

func newJobRig(t *testing.T) *jobRig {
	t.Helper()
	dir := t.TempDir()
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	st, err := store.Open(context.Background(), store.Config{DataDir: dir}, log)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	path := filepath.Join(dir, "audit.log")
	al, err := audit.New(st, path, log)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { al.Close() })
	return &jobRig{st: st, al: al, dir: filepath.Join(dir, "recordings"), audit: path, log: log}
}

// call stores an ended call from caller that started at, with a recording
// file of a second of tones, and returns the recording's name.
func (r *jobRig) call(t *testing.T, id, caller string, at time.Time) string {
	t.Helper()
	ctx := context.Background()
	if err := r.st.CreateCall(ctx, store.Call{ID: id, Direction: store.Inbound, From: caller, To: "support", Node: "n1", StartedAt: at}); err != nil {
		t.Fatal(err)
	}
	if err := r.st.EndCall(ctx, id, at.Add(2*time.Minute), "completed", "caller_bye"); err != nil {
		t.Fatal(err)
	}
	if _, err := r.st.AppendCallEvent(ctx, store.CallEvent{CallID: id, Kind: "transcript", Data: []byte(`{"speaker":"caller","text":"my card is lost"}`)}); err != nil {
		t.Fatal(err)
	}
	name := at.Format("2006/01/02/") + id + ".wav"
	writeTones(t, filepath.Join(r.dir, filepath.FromSlash(name)), 50)
	if _, err := r.st.CreateRecording(ctx, store.Recording{CallID: id, Path: name, Format: "wav", Channels: 2, SampleRate: 8000, StartedAt: at}); err != nil {
		t.Fatal(err)
	}
	return name
}

func (r *jobRig) exists(name string) bool {
	_, err := os.Stat(filepath.Join(r.dir, filepath.FromSlash(name)))
	return err == nil
}

func (r *jobRig) auditText(t *testing.T) string {
	t.Helper()
	b, err := os.ReadFile(r.audit)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// TestExpire: recordings past their time are deleted, file and metadata,
// with a note on the call's timeline and an audit entry per run that
// deleted any. A recording's own policy (RetainUntil) wins over the
// global retention both ways: a recent call's recording whose policy has
// passed goes even with no global retention (keep 0), and an old call's
// whose policy runs on stays past a keep that would have deleted it by
// age. A call on legal hold keeps its recordings whatever their policy,
// and so does a recent call with no policy.
func TestExpire(t *testing.T) {
	r := newJobRig(t)
	ctx := context.Background()
	now := time.Now().UTC()
	old := r.call(t, "old", "+62811", now.Add(-100*24*time.Hour))
	held := r.call(t, "held", "+62811", now.Add(-100*24*time.Hour))
	recent := r.call(t, "recent", "+62811", now.Add(-24*time.Hour))
	passed := r.call(t, "passed", "+62811", now.Add(-time.Hour))
	kept := r.call(t, "kept", "+62811", now.Add(-100*24*time.Hour))
	until := map[string]time.Time{
		"passed": now.Add(-time.Minute),
		"kept":   now.Add(24 * time.Hour),
		"held":   now.Add(-time.Minute), // the hold wins over the policy too
	}
	for id, u := range until {
		recs, err := r.st.CallRecordings(ctx, id)
		if err != nil || len(recs) != 1 {
			t.Fatalf("recordings of %s: %v, %v", id, recs, err)
		}
		if err := r.st.SetRecordingRetention(ctx, recs[0].ID, u); err != nil {
			t.Fatal(err)
		}
	}
	if err := r.st.SetLegalHold(ctx, "held", true, "legal", "case 42"); err != nil {
		t.Fatal(err)
	}
	files := Dir{Path: r.dir}
	left := func(want map[string]bool) {
		t.Helper()
		for id, name := range map[string]string{"old": old, "held": held, "recent": recent, "passed": passed, "kept": kept} {
			recs, _ := r.st.CallRecordings(ctx, id)
			if r.exists(name) != want[id] || (len(recs) == 1) != want[id] {
				t.Errorf("%s: file kept %v, %d recordings; want kept %v", id, r.exists(name), len(recs), want[id])
			}
		}
	}

	// No global retention: only the policy that has passed expires one.
	n, err := Expire(ctx, r.st, files, r.al, r.log, 0, now)
	if err != nil || n != 1 {
		t.Fatalf("Expire with keep 0 = %d, %v; want 1 recording", n, err)
	}
	left(map[string]bool{"old": true, "held": true, "recent": true, "kept": true})
	evs, _ := r.st.CallEvents(ctx, "passed")
	if len(evs) == 0 || evs[len(evs)-1].Kind != "recording.expired" ||
		!strings.Contains(string(evs[len(evs)-1].Data), `"retain_until":"`+until["passed"].Format(time.RFC3339)+`"`) {
		t.Errorf("the timeline of the call whose policy passed ends with %v", evs)
	}

	// 90 days: the old call's recording goes by age; kept's policy keeps it.
	n, err = Expire(ctx, r.st, files, r.al, r.log, 90*24*time.Hour, now)
	if err != nil || n != 1 {
		t.Fatalf("Expire with keep 90 days = %d, %v; want 1 recording", n, err)
	}
	left(map[string]bool{"held": true, "recent": true, "kept": true})
	evs, _ = r.st.CallEvents(ctx, "old")
	if len(evs) == 0 || evs[len(evs)-1].Kind != "recording.expired" || string(evs[len(evs)-1].Data) != `{"retention_hours":2160}` {
		t.Errorf("the old call's timeline ends with %v", evs)
	}
	a := r.auditText(t)
	if strings.Count(a, `"action":"recording.expire"`) != 2 || !strings.Contains(a, `"by_own_policy":"1"`) ||
		!strings.Contains(a, `"by_own_policy":"0"`) || strings.Count(a, `"deleted":"1"`) != 2 {
		t.Errorf("the audit trail (want two recording.expire entries, one by policy, one by age): %s", a)
	}
	for _, keep := range []time.Duration{0, 90 * 24 * time.Hour} {
		if n, err := Expire(ctx, r.st, files, r.al, r.log, keep, now); err != nil || n != 0 {
			t.Errorf("a second pass with keep %v deleted %d, %v", keep, n, err)
		}
	}
	if a := r.auditText(t); strings.Count(a, `"action":"recording.expire"`) != 2 {
		t.Errorf("a pass that deleted nothing is in the audit trail: %s", a)
	}
}

// TestEraseCaller: a legal hold on one of the caller's calls stops the
// erasure before anything goes; released, every call of theirs goes with
// its timeline and recording files, another caller's stays, and the audit
// trail names the caller only by a digest.
func TestEraseCaller(t *testing.T) {
	r := newJobRig(t)
	ctx := context.Background()
	now := time.Now().UTC()
	a := r.call(t, "a", "+62811", now.Add(-time.Hour))
	b := r.call(t, "b", "+62811", now.Add(-time.Minute))
	other := r.call(t, "c", "+62899", now)
	if err := r.st.SetLegalHold(ctx, "b", true, "legal", "case 42"); err != nil {
		t.Fatal(err)
	}
	files := Dir{Path: r.dir}
	if _, err := EraseCaller(ctx, r.st, files, r.al, "admin", "+62811"); !errors.Is(err, store.ErrHeld) {
		t.Fatalf("erasing a caller with a held call: %v, want ErrHeld", err)
	}
	if calls, _ := r.st.CallsFrom(ctx, "+62811"); len(calls) != 2 || !r.exists(a) || !r.exists(b) {
		t.Fatalf("a refused erasure erased something: %d calls left", len(calls))
	}
	if err := r.st.SetLegalHold(ctx, "b", false, "legal", ""); err != nil {
		t.Fatal(err)
	}
	e, err := EraseCaller(ctx, r.st, files, r.al, "admin", "+62811")
	if err != nil || e != (Erasure{Calls: 2, Files: 2}) {
		t.Fatalf("EraseCaller = %+v, %v", e, err)
	}
	if calls, _ := r.st.CallsFrom(ctx, "+62811"); len(calls) != 0 || r.exists(a) || r.exists(b) || !r.exists(other) {
		t.Errorf("after the erasure: %d calls left, files a %v b %v, the other caller's %v", len(calls), r.exists(a), r.exists(b), r.exists(other))
	}
	if evs, _ := r.st.CallEvents(ctx, "a"); len(evs) != 0 {
		t.Errorf("the erased call's timeline: %v", evs)
	}
	au := r.auditText(t)
	ref := CallerRef("+62811")
	if strings.Contains(au, "62811") || !strings.Contains(au, ref) || strings.Count(au, `"action":"caller.erase"`) != 2 {
		t.Errorf("the audit trail (want two caller.erase entries naming %s, never the number): %s", ref, au)
	}
}

// TestFillReviewQueue: this quarter's calls are sampled into the QA
// user's queue; running it again adds nothing; the audit trail has the
// policy and seed.
func TestFillReviewQueue(t *testing.T) {
	r := newJobRig(t)
	ctx := context.Background()
	qa, err := r.st.CreateUser(ctx, store.User{Name: "mei", Role: store.RoleQA, PasswordHash: "x"})
	if err != nil {
		t.Fatal(err)
	}
	agent, err := r.st.CreateUser(ctx, store.User{Name: "ayu", Role: store.RoleAgent, PasswordHash: "x"})
	if err != nil {
		t.Fatal(err)
	}
	// Mid-quarter, with calls from its first day and one from the quarter
	// before, which is not sampled.
	now := time.Date(2026, 11, 15, 12, 0, 0, 0, time.UTC)
	quarter := time.Date(2026, 10, 1, 0, 0, 0, 0, time.UTC)
	for i := range 41 {
		id := fmt.Sprintf("q%02d", i)
		at := quarter.Add(time.Duration(i) * time.Minute)
		if i == 40 {
			at = quarter.Add(-time.Hour)
		}
		if err := r.st.CreateCall(ctx, store.Call{ID: id, Direction: store.Inbound, From: "ayu", To: "support", Node: "n1", StartedAt: at}); err != nil {
			t.Fatal(err)
		}
		if err := r.st.EndCall(ctx, id, at.Add(3*time.Minute), "completed", "caller_bye"); err != nil {
			t.Fatal(err)
		}
		if err := r.st.SetCallSummary(ctx, id, store.CallSummary{Queue: "support", Language: "en", Angry: i%10 == 0, Resolution: store.ResolutionAgent}); err != nil {
			t.Fatal(err)
		}
		if err := r.st.SetCallDisposition(ctx, id, store.Disposition{Code: "resolved", AgentID: agent.ID, At: at.Add(4 * time.Minute)}); err != nil {
			t.Fatal(err)
		}
	}
	p := SamplePolicy{Rate: 0.1, MinPerAgent: 2}
	added, err := FillReviewQueue(ctx, r.st, r.al, p, 7, now)
	if err != nil || added != 4 {
		t.Fatalf("FillReviewQueue = %d, %v; want 4 (10%% of 40)", added, err)
	}
	items, err := r.st.ReviewQueue(ctx, qa.ID, true)
	if err != nil || len(items) != 4 || items[0].Period != "2026-Q4" {
		t.Errorf("mei's queue: %+v %v", items, err)
	}
	if again, err := FillReviewQueue(ctx, r.st, r.al, p, 7, now); err != nil || again != 0 {
		t.Errorf("a second run added %d, %v", again, err)
	}
	if a := r.auditText(t); strings.Count(a, `"action":"qa.sample"`) != 1 || !strings.Contains(a, `"seed":"7"`) {
		t.Errorf("the audit trail: %s", a)
	}
}
