package audit

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/sambung/sambung/store"
)

// fakeAudit is a store.Audit that remembers events or fails.
type fakeAudit struct {
	events []store.AuditEvent
	fail   error
}

func (f *fakeAudit) AppendAudit(_ context.Context, e store.AuditEvent) (store.AuditEvent, error) {
	if f.fail != nil {
		return store.AuditEvent{}, f.fail
	}
	e.ID = int64(len(f.events) + 1)
	f.events = append(f.events, e)
	return e, nil
}

func (f *fakeAudit) ListAudit(context.Context, store.AuditFilter) ([]store.AuditEvent, error) {
	return f.events, nil
}

func readLines(t *testing.T, path string) []map[string]any {
	t.Helper()
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var out []map[string]any
	for line := range bytes.Lines(raw) {
		var m map[string]any
		if err := json.Unmarshal(line, &m); err != nil {
			t.Fatalf("not one JSON object per line: %q", line)
		}
		out = append(out, m)
	}
	return out
}

func TestRecordWritesFileAndStoreWithoutSecrets(t *testing.T) {
	db := &fakeAudit{}
	path := filepath.Join(t.TempDir(), "sub", "audit.log")
	var logBuf bytes.Buffer
	l, err := New(db, path, slog.New(slog.NewTextHandler(&logBuf, nil)))
	if err != nil {
		t.Fatal(err)
	}
	var pushed []store.AuditEvent
	l.OnRecord = func(e store.AuditEvent) { pushed = append(pushed, e) }
	err = l.Record(t.Context(), store.AuditEvent{Actor: "admin", Action: "user.add", Target: "siti",
		Detail: map[string]string{"role": "agent", "password": "hunter2hunter2", "CSRF_Token": "abc", "card_number": "4111111111111111"}})
	if err != nil {
		t.Fatal(err)
	}
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	if err := l.Close(); err != nil {
		t.Errorf("second Close: %v", err)
	}

	if len(db.events) != 1 || db.events[0].Outcome != "ok" || db.events[0].At.IsZero() {
		t.Fatalf("stored: %+v", db.events)
	}
	if d := db.events[0].Detail; len(d) != 1 || d["role"] != "agent" {
		t.Errorf("stored detail kept secrets or lost data: %v", d)
	}
	lines := readLines(t, path)
	if len(lines) != 1 || lines[0]["action"] != "user.add" || lines[0]["id"] != float64(1) {
		t.Errorf("file: %v", lines)
	}
	raw, _ := os.ReadFile(path)
	for _, secret := range []string{"hunter2", "abc", "4111"} {
		if strings.Contains(string(raw), secret) || strings.Contains(logBuf.String(), secret) {
			t.Errorf("%q reached the audit file or the log", secret)
		}
	}
	if len(pushed) != 1 {
		t.Errorf("OnRecord called %d times", len(pushed))
	}
	// After Close, a record fails rather than vanishing silently.
	if err := l.Record(t.Context(), store.AuditEvent{Action: "late"}); err == nil {
		t.Error("Record after Close reported success")
	}
}

func TestRecordKeepsTheEventInTheFileWhenTheStoreFails(t *testing.T) {
	db := &fakeAudit{fail: errors.New("database is down")}
	path := filepath.Join(t.TempDir(), "audit.log")
	l, err := New(db, path, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	called := false
	l.OnRecord = func(store.AuditEvent) { called = true }
	err = l.Record(t.Context(), store.AuditEvent{Actor: "", Action: "login.failure", Target: "agent", Outcome: "denied"})
	if err == nil || !strings.Contains(err.Error(), "database is down") {
		t.Errorf("store failure not reported: %v", err)
	}
	lines := readLines(t, path)
	if len(lines) != 1 || lines[0]["action"] != "login.failure" || lines[0]["outcome"] != "denied" {
		t.Errorf("file after a store failure: %v", lines)
	}
	if called {
		t.Error("OnRecord ran for an event the store did not keep")
	}
}
