package store

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"os"
	"os/exec"
	"path"
	"reflect"
	"strings"
	"testing"
	"testing/fstest"
	"time"
)

// TestMigrationFiles checks the shipped migrations: numbered from 1 with no
// repeat or gap, and the same numbers and names for every engine.
func TestMigrationFiles(t *testing.T) {
	var names [][]string
	for _, e := range testEngines {
		migs, err := loadMigrations(migrationFiles, "migrations/"+e.name)
		if err != nil {
			t.Fatal(err)
		}
		var ns []string
		for _, m := range migs {
			ns = append(ns, m.name)
			if strings.TrimSpace(m.sql) == "" {
				t.Errorf("%s migration %d is empty", e.name, m.version)
			}
		}
		names = append(names, ns)
	}
	for i := 1; i < len(names); i++ {
		if !reflect.DeepEqual(names[i], names[0]) {
			t.Errorf("%s migrations %v differ from %s migrations %v", testEngines[i].name, names[i],
				testEngines[0].name, names[0])
		}
	}
}

func TestLoadMigrations(t *testing.T) {
	for _, c := range []struct {
		name  string
		files []string
		err   string // "" for none
	}{
		{"in order", []string{"0001_a.sql", "0002_b.sql", "0003_c_d.sql"}, ""},
		{"gap", []string{"0001_a.sql", "0003_c.sql"}, "number 3 where 2 was due"},
		{"repeat", []string{"0001_a.sql", "0002_b.sql", "0002_c.sql"}, "number 2 where 3 was due"},
		{"not from 1", []string{"0002_b.sql"}, "number 2 where 1 was due"},
		{"zero", []string{"0000_z.sql", "0001_a.sql"}, "number 0 where 1 was due"},
		{"short number", []string{"1_a.sql"}, "is not NNNN_name.sql"},
		{"dash", []string{"0001-a.sql"}, "is not NNNN_name.sql"},
		{"other file", []string{"0001_a.sql", "README.md"}, "is not NNNN_name.sql"},
		{"none", nil, "no migrations"},
	} {
		t.Run(c.name, func(t *testing.T) {
			fsys := fstest.MapFS{"m": &fstest.MapFile{Mode: fs.ModeDir | 0o755}}
			for _, f := range c.files {
				fsys[path.Join("m", f)] = &fstest.MapFile{Data: []byte("SELECT 1;")}
			}
			migs, err := loadMigrations(fsys, "m")
			if c.err == "" {
				if err != nil || len(migs) != len(c.files) {
					t.Fatalf("loadMigrations = %d migrations, %v; want %d", len(migs), err, len(c.files))
				}
				for i, m := range migs {
					if m.version != i+1 {
						t.Errorf("migration %d has version %d", i, m.version)
					}
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), c.err) {
				t.Fatalf("loadMigrations: %v, want an error with %q", err, c.err)
			}
		})
	}
}

// TestMigrateTwice opens a database twice: the second Open finds nothing
// to do and leaves schema_migrations as it was.
func TestMigrateTwice(t *testing.T) {
	forEngines(t, func(t *testing.T, e testEngine) {
		cfg := e.config(t)
		first, v1 := appliedMigrations(t, cfg)
		second, v2 := appliedMigrations(t, cfg)
		migs, _ := loadMigrations(migrationFiles, "migrations/"+e.name)
		if v1 != len(migs) || v2 != v1 {
			t.Errorf("SchemaVersion = %d then %d, want %d", v1, v2, len(migs))
		}
		if len(first) != len(migs) || !reflect.DeepEqual(first, second) {
			t.Errorf("schema_migrations changed on the second Open:\n%v\n%v", first, second)
		}
	})
}

// appliedMigrations opens cfg, reads schema_migrations and the schema
// version, and closes it.
func appliedMigrations(t *testing.T, cfg Config) ([]string, int) {
	t.Helper()
	ctx := context.Background()
	s, err := Open(ctx, cfg, testLogger(t))
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	defer s.Close()
	v, err := s.SchemaVersion(ctx)
	if err != nil {
		t.Fatal(err)
	}
	q := newQuery(`SELECT version, name, applied_at FROM schema_migrations ORDER BY version`)
	rows, err := queryAll(ctx, internals(t, s), q, func(r row) (string, error) {
		var version int
		var name string
		var at time.Time
		err := r.Scan(&version, &name, timeDest(&at))
		return fmt.Sprintf("%d %s %s", version, name, at.Format(time.RFC3339Nano)), err
	})
	if err != nil {
		t.Fatal(err)
	}
	return rows, v
}

// helperURLEnv carries the database URL to TestHelperMigrateProcess.
const helperURLEnv = "SAMBUNG_TEST_MIGRATE_URL"

// TestConcurrentMigration has two processes migrate one fresh database at
// the same moment. Both must succeed, and each migration be applied once.
func TestConcurrentMigration(t *testing.T) {
	forEngines(t, func(t *testing.T, e testEngine) {
		cfg := e.config(t)
		var outs [2]bytes.Buffer
		var cmds [2]*exec.Cmd
		var gos [2]io.WriteCloser
		for i := range cmds {
			cmd := exec.Command(os.Args[0], "-test.run=^TestHelperMigrateProcess$", "-test.v")
			cmd.Env = append(os.Environ(), helperURLEnv+"="+cfg.URL)
			cmd.Stdout, cmd.Stderr = &outs[i], &outs[i]
			stdin, err := cmd.StdinPipe()
			if err != nil {
				t.Fatal(err)
			}
			if err := cmd.Start(); err != nil {
				t.Fatal(err)
			}
			cmds[i], gos[i] = cmd, stdin
		}
		// Both are up and waiting: let them go together.
		for _, g := range gos {
			_, _ = g.Write([]byte{'\n'})
			_ = g.Close()
		}
		applied := 0
		for i, cmd := range cmds {
			if err := cmd.Wait(); err != nil {
				t.Errorf("process %d: %v\n%s", i, err, outs[i].String())
			}
			applied += strings.Count(outs[i].String(), `msg="applied migration"`)
		}

		migs, _ := loadMigrations(migrationFiles, "migrations/"+e.name)
		if applied != len(migs) {
			t.Errorf("the processes applied %d migrations between them, want %d:\n%s\n%s",
				applied, len(migs), outs[0].String(), outs[1].String())
		}
		rows, v := appliedMigrations(t, cfg)
		if v != len(migs) || len(rows) != len(migs) {
			t.Errorf("SchemaVersion %d, schema_migrations %v; want %d migrations each recorded once", v, rows, len(migs))
		}
	})
}

// TestHelperMigrateProcess is the child of TestConcurrentMigration: it
// waits for a line on stdin, then opens (and so migrates) the database.
func TestHelperMigrateProcess(t *testing.T) {
	url := os.Getenv(helperURLEnv)
	if url == "" {
		t.Skip("runs only as a child of TestConcurrentMigration")
	}
	if _, err := io.ReadFull(os.Stdin, make([]byte, 1)); err != nil {
		t.Fatalf("wait for the start signal: %v", err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	s, err := Open(ctx, Config{URL: url}, slog.New(slog.NewTextHandler(os.Stdout, nil)))
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
}
