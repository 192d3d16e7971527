package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"io/fs"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestMigrateStoredCallsSQLite brings an SQLite database that holds calls
// from migration 0008 to 0009, and checks what the calls have then: a
// Duration for those that ended, none for the live one, and the summary
// from their contact context. (On PostgreSQL, duration_ms is a generated
// column, which ALTER TABLE works out for every row; the summary's
// statement is tested on both engines below.)
func TestMigrateStoredCallsSQLite(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "old.db")
	sdb, err := sql.Open("sqlite", path+sqliteDSNParams)
	if err != nil {
		t.Fatal(err)
	}
	migs, err := loadMigrations(migrationFiles, "migrations/sqlite")
	if err != nil || len(migs) < 9 || migs[8].name != "call_search" {
		t.Fatalf("migrations: %d, %v; want 0009_call_search among them", len(migs), err)
	}
	e := &sqliteEngine{sqliteQuerier: sqliteQuerier{sdb}, db: sdb}
	if err := migrate(ctx, e, sqliteBootstrap, migs[:8], testLogger(t)); err != nil {
		t.Fatal(err)
	}
	start := time.Date(2026, 1, 5, 23, 59, 59, 999_500_000, time.UTC)
	insert := newQuery(`INSERT INTO calls (id, direction, from_uri, to_uri, node, started_at, ended_at, contact)
VALUES ($1, 'inbound', '', '', 'n', $2, $3, $4)`)
	for _, c := range []struct {
		id      string
		ended   any
		contact string
	}{
		{"ended", start.Add(3*time.Minute + 1700*time.Microsecond),
			`{"queue":"tech","intent":{"name":"outage"},"language":{"code":"id"},"sentiment":{"score":0.25,"angry":false}}`},
		{"live", nil, `{"sentiment":{"score":-0.9,"angry":true}}`},
		{"plain", start.Add(time.Second), ""},
	} {
		if _, err := e.exec(ctx, insert, c.id, start, c.ended, c.contact); err != nil {
			t.Fatal(err)
		}
	}
	if err := sdb.Close(); err != nil {
		t.Fatal(err)
	}

	s := openTest(t, Config{URL: "sqlite:" + path})
	for _, want := range []Call{
		{ID: "ended", Duration: 3*time.Minute + time.Millisecond, Queue: "tech", Intent: "outage", Language: "id",
			Sentiment: score(0.25)},
		{ID: "live", Sentiment: score(-0.9), Angry: true},
		{ID: "plain", Duration: time.Second},
	} {
		got := mustCall(t, s, want.ID)
		if got.Duration != want.Duration || got.Queue != want.Queue || got.Intent != want.Intent ||
			got.Language != want.Language || deref(got.Sentiment) != deref(want.Sentiment) ||
			got.Angry != want.Angry {
			t.Errorf("call %s after migrating: Duration %v, summary %q %q %q %v %v; want %v, %q %q %q %v %v", want.ID,
				got.Duration, got.Queue, got.Intent, got.Language, deref(got.Sentiment), got.Angry,
				want.Duration, want.Queue, want.Intent, want.Language, deref(want.Sentiment), want.Angry)
		}
	}
}

// deref is *p, or nil.
func deref(p *float64) any {
	if p == nil {
		return nil
	}
	return *p
}

// TestMigrationBackfillsCallSummary runs the statement of migration 0009
// that gives calls stored before it their summary, from their contact
// context, on calls with contexts of every shape: whole, partial, of the
// wrong JSON types, out of range, and none. A value it cannot use is left
// unknown rather than failing the migration.
func TestMigrationBackfillsCallSummary(t *testing.T) {
	forEngines(t, func(t *testing.T, e testEngine) {
		ctx := context.Background()
		s := openTest(t, e.config(t))
		backfill := backfillStatement(t, e.name)
		for i, c := range []struct {
			contact string // "" for none
			want    CallSummary
		}{
			{`{"v":1,"queue":"billing","intent":{"name":"refund","confidence":0.9},"language":{"code":"yue"},
			  "sentiment":{"score":-0.7,"angry":true,"trend":[0.1,-0.7]}}`,
				CallSummary{Queue: "billing", Intent: "refund", Language: "yue", Sentiment: score(-0.7), Angry: true}},
			{`{"sentiment":{"score":1,"angry":false}}`, CallSummary{Sentiment: score(1)}},
			{`{"intent":{"name":"outage"}}`, CallSummary{Intent: "outage"}},
			{`{"queue":5,"intent":"billing","language":{"code":null},"sentiment":{"score":"-0.5","angry":"yes"}}`, CallSummary{}},
			{`{"sentiment":{"score":3}}`, CallSummary{}},
			{`{"sentiment":{"score":-1e400,"angry":1}}`, CallSummary{}},
			{`{"sentiment":[1]}`, CallSummary{}},
			{`{}`, CallSummary{}},
			{"", CallSummary{}},
		} {
			id := fmt.Sprintf("old-%d", i)
			if err := s.CreateCall(ctx, Call{ID: id, Direction: Inbound}); err != nil {
				t.Fatal(err)
			}
			if c.contact != "" {
				if err := s.SetCallContact(ctx, id, json.RawMessage(c.contact)); err != nil {
					t.Fatal(err)
				}
			}
			if _, err := internals(t, s).exec(ctx, script(backfill)); err != nil {
				t.Fatalf("backfill with contact %s: %v", c.contact, err)
			}
			got := mustCall(t, s, id)
			gotSum := CallSummary{Queue: got.Queue, Intent: got.Intent, Language: got.Language, Sentiment: got.Sentiment,
				Angry: got.Angry, Resolution: got.Resolution}
			if got, want := summaryString(gotSum), summaryString(c.want); got != want {
				t.Errorf("contact %s gave summary %s, want %s", c.contact, got, want)
			}
		}
	})
}

// summaryString shows a summary with its sentiment as a value, to compare
// and to print.
func summaryString(s CallSummary) string {
	sent := "nil"
	if s.Sentiment != nil {
		sent = fmt.Sprint(*s.Sentiment)
	}
	return fmt.Sprintf("{Queue:%q Intent:%q Language:%q Sentiment:%s Angry:%v Resolution:%q}",
		s.Queue, s.Intent, s.Language, sent, s.Angry, s.Resolution)
}

// backfillStatement is the UPDATE of engine's migration 0009 that fills in
// the summary, as shipped.
func backfillStatement(t *testing.T, engine string) string {
	t.Helper()
	b, err := fs.ReadFile(migrationFiles, "migrations/"+engine+"/0009_call_search.sql")
	if err != nil {
		t.Fatal(err)
	}
	text := string(b)
	i := strings.Index(text, "\nUPDATE calls SET\n    queue =")
	j := strings.Index(text[max(i, 0):], ";\n")
	if i < 0 || j < 0 {
		t.Fatalf("migration 0009 for %s has no UPDATE calls SET queue = ...;", engine)
	}
	return text[i : i+j+1]
}
