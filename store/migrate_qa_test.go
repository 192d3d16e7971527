package store

import (
	"context"
	"database/sql"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/sambung/sambung/internal/testenv"
)

// TestMigrateRecordingsCallStarted brings a database that holds calls and
// recordings from migration 0009 to 0010, and checks that the recordings
// stored before it took their call's start (which retention goes by),
// that those calls are not on hold, and that retention then finds them.
func TestMigrateRecordingsCallStarted(t *testing.T) {
	forEngines(t, func(t *testing.T, e testEngine) {
		ctx := context.Background()
		migs, err := loadMigrations(migrationFiles, "migrations/"+e.name)
		if err != nil || len(migs) < 10 || migs[9].name != "qa" {
			t.Fatalf("migrations: %d, %v; want 0010_qa among them", len(migs), err)
		}
		cfg, q, done := migrateTo(t, e.name, migs[:9])

		start := time.Date(2026, 3, 1, 8, 0, 0, 654321000, time.UTC)
		calls := []struct {
			id    string
			start time.Time
		}{{"late", start.Add(48 * time.Hour)}, {"early", start}, {"middle", start.Add(time.Hour)}}
		insertCall := newQuery(`INSERT INTO calls (id, direction, from_uri, to_uri, node, started_at)
VALUES ($1, 'inbound', '+6281234', '', 'n', $2)`)
		insertRecording := newQuery(`INSERT INTO recordings (call_id, path, format, channels, sample_rate, started_at)
VALUES ($1, $2, 'wav', 2, 8000, $3)`)
		for _, c := range calls {
			if _, err := q.exec(ctx, insertCall, c.id, c.start); err != nil {
				t.Fatal(err)
			}
			// Each recording starts a while after its call: in this order,
			// by recording start, "early" would come last.
			after := map[string]time.Duration{"early": 3 * time.Hour}[c.id] + time.Second
			if _, err := q.exec(ctx, insertRecording, c.id, c.id+".wav", c.start.Add(after)); err != nil {
				t.Fatal(err)
			}
		}
		done()

		s := openTest(t, cfg)
		var stale int
		if err := internals(t, s).queryRow(ctx, newQuery(`SELECT COUNT(*) FROM recordings r JOIN calls c ON c.id = r.call_id
WHERE r.call_started_at <> c.started_at`)).Scan(&stale); err != nil || stale != 0 {
			t.Errorf("recordings whose call_started_at is not their call's start: %d, %v", stale, err)
		}
		for _, c := range calls {
			if got := mustCall(t, s, c.id); got.LegalHold {
				t.Errorf("call %s stored before the migration is on hold", c.id)
			}
		}
		for _, x := range []struct {
			before time.Time
			want   []string
		}{
			{start, nil},
			{start.Add(2 * time.Hour), []string{"early.wav", "middle.wav"}},
			{start.Add(72 * time.Hour), []string{"early.wav", "middle.wav", "late.wav"}},
		} {
			// No recording has a policy of its own after 0011: the age decides.
			rs, err := s.ExpiredRecordings(ctx, x.before.Add(time.Hour), time.Hour, 0)
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, r := range rs {
				got = append(got, r.Path)
			}
			if !slices.Equal(got, x.want) {
				t.Errorf("ExpiredRecordings(%v) = %v, want %v", x.before, got, x.want)
			}
		}
	})
}

// migrateTo makes a fresh database of engine with only migs applied. It
// returns the Config to open it with, a querier on it to store what an
// older server would have, and done, which lets go of the querier.
func migrateTo(t *testing.T, engine string, migs []migration) (Config, querier, func()) {
	t.Helper()
	ctx := context.Background()
	switch engine {
	case "sqlite":
		path := filepath.Join(t.TempDir(), "old.db")
		sdb, err := sql.Open("sqlite", path+sqliteDSNParams)
		if err != nil {
			t.Fatal(err)
		}
		e := &sqliteEngine{sqliteQuerier: sqliteQuerier{sdb}, db: sdb}
		if err := migrate(ctx, e, sqliteBootstrap, migs, testLogger(t)); err != nil {
			t.Fatal(err)
		}
		return Config{URL: "sqlite:" + path}, e, func() { _ = sdb.Close() }
	case "postgres":
		url := testenv.Postgres(t)
		conn, err := pgx.Connect(ctx, url)
		if err != nil {
			t.Fatal(err)
		}
		if err := migrate(ctx, pgQuerier{conn}, postgresBootstrap, migs, testLogger(t)); err != nil {
			t.Fatal(err)
		}
		return Config{URL: url, MaxConns: 4}, pgQuerier{conn}, func() { _ = conn.Close(ctx) }
	}
	t.Fatalf("no engine %s", engine)
	return Config{}, nil, nil
}
