package store

import (
	"context"
	"embed"
	"fmt"
	"io/fs"
	"log/slog"
	"path"
	"regexp"
	"strconv"
	"time"
)

// migrationFiles holds each engine's schema history: migrations/ENGINE/NNNN_name.sql.
// Migrations only go forward; a change to the schema is a new file, never an
// edit of one that has shipped. Both engines have the same numbers and names.
//
//go:embed migrations/sqlite/*.sql migrations/postgres/*.sql
var migrationFiles embed.FS

// migration is one numbered schema change.
type migration struct {
	version int
	name    string // without number and extension: "initial"
	sql     string
}

var migrationFileName = regexp.MustCompile(`^([0-9]{4})_([a-z0-9_]+)\.sql$`)

// loadMigrations reads the migrations in dir. Their numbers must run 1, 2,
// 3... with no repeat and no gap: anything else is a programming error.
func loadMigrations(fsys fs.FS, dir string) ([]migration, error) {
	entries, err := fs.ReadDir(fsys, dir)
	if err != nil {
		return nil, fmt.Errorf("read migrations: %w", err)
	}
	var migs []migration // ReadDir sorts by name, so by number
	for _, e := range entries {
		m := migrationFileName.FindStringSubmatch(e.Name())
		if m == nil || e.IsDir() {
			return nil, fmt.Errorf("migration %s: name is not NNNN_name.sql", path.Join(dir, e.Name()))
		}
		v, _ := strconv.Atoi(m[1])
		if want := len(migs) + 1; v != want {
			return nil, fmt.Errorf("migration %s: number %d where %d was due (numbers run from 1 with no repeat or gap)",
				path.Join(dir, e.Name()), v, want)
		}
		text, err := fs.ReadFile(fsys, path.Join(dir, e.Name()))
		if err != nil {
			return nil, fmt.Errorf("read migration: %w", err)
		}
		migs = append(migs, migration{version: v, name: m[2], sql: string(text)})
	}
	if len(migs) == 0 {
		return nil, fmt.Errorf("no migrations in %s", dir)
	}
	return migs, nil
}

var (
	qMigrationApplied = newQuery(`SELECT COUNT(*) FROM schema_migrations WHERE version = $1`)
	qRecordMigration  = newQuery(`INSERT INTO schema_migrations (version, name, applied_at) VALUES ($1, $2, $3)`)
)

// migrate brings the schema of r up to date. bootstrap creates the
// schema_migrations table if it is missing. Each migration runs in one
// transaction with its schema_migrations row, and that transaction reads
// the applied versions again, so a migration that another node applied in
// the meantime is skipped. The caller keeps two nodes from interleaving:
// SQLite's transactions take the write lock up front, and PostgreSQL runs
// migrate under an advisory lock.
func migrate(ctx context.Context, r runner, bootstrap string, migs []migration, log *slog.Logger) error {
	if _, err := r.exec(ctx, script(bootstrap)); err != nil {
		return fmt.Errorf("create schema_migrations: %w", err)
	}
	for _, m := range migs {
		applied := false
		err := r.inTx(ctx, func(q querier) error {
			var n int
			if err := q.queryRow(ctx, qMigrationApplied, m.version).Scan(&n); err != nil {
				return err
			}
			if n > 0 {
				return nil
			}
			if _, err := q.exec(ctx, script(m.sql)); err != nil {
				return err
			}
			if _, err := q.exec(ctx, qRecordMigration, m.version, m.name, utc(time.Now())); err != nil {
				return err
			}
			applied = true
			return nil
		})
		if err != nil {
			return fmt.Errorf("migration %04d_%s: %w", m.version, m.name, err)
		}
		if applied {
			log.Info("applied migration", "version", m.version, "name", m.name)
		}
	}
	return nil
}
