package store

import (
	"context"
	"log/slog"
	"path/filepath"
	"testing"

	"github.com/sambung/sambung/internal/testenv"
)

// testEngine names an engine and makes the Config of a fresh, empty
// database on it for one test or benchmark. need, if set, skips or fails a
// test that cannot have the engine.
type testEngine struct {
	name   string
	need   func(t testing.TB)
	config func(t testing.TB) Config
}

var testEngines = []testEngine{
	{
		name: "sqlite",
		config: func(t testing.TB) Config {
			return Config{URL: "sqlite:" + filepath.Join(t.TempDir(), "sambung.db")}
		},
	},
	{
		name: "postgres",
		need: func(t testing.TB) { testenv.PostgresAdmin(t) },
		config: func(t testing.TB) Config {
			return Config{URL: testenv.Postgres(t), MaxConns: 4}
		},
	},
}

// forEngines runs test as a subtest for every engine it can have.
func forEngines(t *testing.T, test func(t *testing.T, e testEngine)) {
	for _, e := range testEngines {
		t.Run(e.name, func(t *testing.T) {
			if e.need != nil {
				e.need(t)
			}
			test(t, e)
		})
	}
}

// openTest opens cfg for t and closes it when t ends.
func openTest(t testing.TB, cfg Config) Store {
	t.Helper()
	s, err := Open(context.Background(), cfg, testLogger(t))
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	t.Cleanup(func() {
		if err := s.Close(); err != nil {
			t.Errorf("Close: %v", err)
		}
	})
	return s
}

func testLogger(t testing.TB) *slog.Logger {
	return slog.New(slog.NewTextHandler(t.Output(), &slog.HandlerOptions{Level: slog.LevelWarn}))
}

// internals gives a test the engine under a Store, to run raw SQL.
func internals(t testing.TB, s Store) *db {
	t.Helper()
	d, ok := s.(*db)
	if !ok {
		t.Fatalf("Store is a %T, not *db", s)
	}
	return d
}

// TestConformance runs the one suite against every engine.
func TestConformance(t *testing.T) {
	forEngines(t, func(t *testing.T, e testEngine) {
		runConformance(t, func(t *testing.T) Store {
			s := openTest(t, e.config(t))
			if got := s.Engine(); got != e.name {
				t.Fatalf("Engine() = %q, want %q", got, e.name)
			}
			return s
		})
	})
}
