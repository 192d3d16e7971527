package store

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestOpenDataDir(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "data", "sub")
	s := openTest(t, Config{DataDir: dir})
	if s.Engine() != "sqlite" {
		t.Errorf("Engine() = %q, want sqlite", s.Engine())
	}
	fi, err := os.Stat(dir)
	if err != nil {
		t.Fatal(err)
	}
	if perm := fi.Mode().Perm(); perm != 0o750 {
		t.Errorf("data directory mode %o, want 750", perm)
	}
	if _, err := os.Stat(filepath.Join(dir, "sambung.db")); err != nil {
		t.Errorf("no sambung.db in the data directory: %v", err)
	}
}

func TestOpenSQLiteURL(t *testing.T) {
	dir := t.TempDir()
	for _, c := range []struct{ url, file string }{
		{"sqlite:" + filepath.Join(dir, "a.db"), filepath.Join(dir, "a.db")},
		{"sqlite://" + filepath.Join(dir, "b.db"), filepath.Join(dir, "b.db")},
	} {
		s := openTest(t, Config{URL: c.url, DataDir: filepath.Join(dir, "unused")})
		if _, err := os.Stat(c.file); err != nil {
			t.Errorf("Open(%q) made no %s: %v", c.url, c.file, err)
		}
		if s.Engine() != "sqlite" {
			t.Errorf("Open(%q).Engine() = %q", c.url, s.Engine())
		}
	}
	if _, err := os.Stat(filepath.Join(dir, "unused")); err == nil {
		t.Error("Open made DataDir although the URL named the file")
	}
}

// TestOpenErrors checks that a bad URL gives an error that says what is
// accepted and never shows a password.
func TestOpenErrors(t *testing.T) {
	for _, c := range []struct {
		url  string
		want []string
	}{
		{"mysql://root:hunter2@db.example/sambung", []string{`"mysql"`, "sqlite:PATH", "postgres://"}},
		{"sqlite3:data.db", []string{`"sqlite3"`, "sqlite:PATH"}},
		{"host=db.example password=hunter2", []string{"no scheme", "postgres://"}},
		{"root:hunter2@tcp(db)/x", []string{"unsupported URL scheme"}},
		{"sqlite:", []string{"sqlite:PATH"}},
		{"sqlite:" + filepath.Join(t.TempDir(), "x.db?mode=ro"), []string{"'?'"}},
		{"postgres://sambung:hunter2@/x?host=" + filepath.Join(t.TempDir(), "nosock") + "&connect_timeout=2",
			[]string{"open postgres postgres://sambung:xxxxx@/x"}},
		{"postgres://sambung@/x?password=hunter2&host=" + filepath.Join(t.TempDir(), "nosock"),
			[]string{"password=xxxxx"}},
		{"postgres://sambung:hunter2@db.example:notaport/x", []string{"open postgres"}},
		{"postgresql://sambung:hunter2@/x?pool_max_conns=zero", []string{"open postgres postgresql://sambung:xxxxx@"}},
	} {
		_, err := Open(context.Background(), Config{URL: c.url}, nil)
		if err == nil {
			t.Errorf("Open(%q) succeeded", c.url)
			continue
		}
		msg := err.Error()
		if strings.Contains(msg, "hunter2") {
			t.Errorf("Open(%q) shows the password: %v", c.url, msg)
		}
		for _, w := range c.want {
			if !strings.Contains(msg, w) {
				t.Errorf("Open(%q): %v; want it to say %q", c.url, msg, w)
			}
		}
	}
}

func TestRedactURL(t *testing.T) {
	for in, want := range map[string]string{
		"postgres://u:secret@h:5432/db":                   "postgres://u:xxxxx@h:5432/db",
		"postgres://u@h/db?sslmode=disable":               "postgres://u@h/db?sslmode=disable",
		"postgres://u@h/db?password=secret&sslmode=x":     "postgres://u@h/db?password=xxxxx&sslmode=x",
		"postgresql://u@/db?host=/s&sslpassword=secret":   "postgresql://u@/db?host=%2Fs&sslpassword=xxxxx",
		"postgres://u:p%40ss@h/db?password=a&password=b":  "postgres://u:xxxxx@h/db?password=xxxxx",
		"postgres://sambung@/postgres?host=/tmp/s&port=1": "postgres://sambung@/postgres?host=/tmp/s&port=1",
		"postgres://u:secret@[::1:bad/db":                 "(unparsable URL)",
	} {
		if got := redactURL(in); got != want {
			t.Errorf("redactURL(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestSQLitePlaceholders(t *testing.T) {
	for in, want := range map[string]string{
		`SELECT 1`:                            `SELECT 1`,
		`WHERE a = $1 AND b = $2`:             `WHERE a = ?1 AND b = ?2`,
		`WHERE (a = $1 OR $1 = '') LIMIT $12`: `WHERE (a = ?1 OR ?1 = '') LIMIT ?12`,
		`SELECT '$1', "$2", $3`:               `SELECT '$1', "$2", ?3`,
		`SELECT 'it''s $1', $1`:               `SELECT 'it''s $1', ?1`,
		`SELECT $$, $0, $`:                    `SELECT $$, $0, $`,
	} {
		if got := sqlitePlaceholders(in); got != want {
			t.Errorf("sqlitePlaceholders(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestClose(t *testing.T) {
	s, err := Open(context.Background(), Config{DataDir: t.TempDir()}, nil)
	if err != nil {
		t.Fatal(err)
	}
	for i := range 2 {
		if err := s.Close(); err != nil {
			t.Errorf("Close #%d: %v", i+1, err)
		}
	}
	if err := s.Ping(context.Background()); err == nil {
		t.Error("Ping after Close succeeded")
	}
}
