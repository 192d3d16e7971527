package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"
)

// sqliteDSNParams are the connection settings, applied by the driver to every
// new connection:
//   - busy_timeout: a writer waits up to 5 s for the lock instead of failing;
//   - journal_mode WAL: readers do not block the writer, nor it them;
//   - foreign_keys: SQLite leaves them unenforced unless asked;
//   - _txlock=immediate: BEGIN takes the write lock, so two write
//     transactions queue rather than one failing when it upgrades its lock.
const sqliteDSNParams = "?_pragma=busy_timeout(5000)&_pragma=journal_mode(WAL)&_pragma=foreign_keys(1)&_txlock=immediate"

// sqliteBootstrap creates the table that records applied migrations.
const sqliteBootstrap = `CREATE TABLE IF NOT EXISTS schema_migrations (
    version    INTEGER PRIMARY KEY,
    name       TEXT NOT NULL,
    applied_at TEXT NOT NULL
) STRICT`

// openSQLite opens the SQLite file at path, creating it if missing, and
// migrates it.
func openSQLite(ctx context.Context, path string, log *slog.Logger) (Store, error) {
	if strings.ContainsRune(path, '?') {
		return nil, fmt.Errorf("open sqlite %s: the path may not hold '?'", path)
	}
	migs, err := loadMigrations(migrationFiles, "migrations/sqlite")
	if err != nil {
		return nil, fmt.Errorf("open sqlite %s: %w", path, err)
	}
	sdb, err := sql.Open("sqlite", path+sqliteDSNParams)
	if err != nil {
		return nil, fmt.Errorf("open sqlite %s: %w", path, err)
	}
	e := &sqliteEngine{sqliteQuerier: sqliteQuerier{sdb}, db: sdb}
	if err := firstPing(ctx, sdb); err != nil {
		_ = sdb.Close()
		return nil, fmt.Errorf("open sqlite %s: %w", path, err)
	}
	if err := migrate(ctx, e, sqliteBootstrap, migs, log.With("db", path)); err != nil {
		_ = sdb.Close()
		return nil, fmt.Errorf("open sqlite %s: %w", path, err)
	}
	optimize(ctx, sdb, log.With("db", path))
	return &db{engine: e}, nil
}

// optimize gathers the statistics SQLite's planner picks the search
// indexes by (migration 0009), where they are missing or stale, as SQLite
// recommends when a long-lived application opens a database: a bounded
// sample per index, so it takes milliseconds even on a large file. A
// failure costs only plans, so it is logged, not returned.
func optimize(ctx context.Context, sdb *sql.DB, log *slog.Logger) {
	conn, err := sdb.Conn(ctx)
	if err == nil {
		defer conn.Close()
		_, err = conn.ExecContext(ctx, "PRAGMA analysis_limit=400; PRAGMA optimize=0x10002")
	}
	if err != nil {
		log.Warn("store: sqlite planner statistics not gathered", "err", err)
	}
}

// firstPing opens the first connection, which applies the DSN's pragmas.
// When two processes open a new file at once, both switch it to WAL, and
// the loser gets SQLITE_BUSY without the busy timeout being consulted; it
// tries again, for as long as the busy timeout would have waited.
func firstPing(ctx context.Context, sdb *sql.DB) error {
	deadline := time.Now().Add(5 * time.Second)
	for delay := 5 * time.Millisecond; ; delay = min(2*delay, 200*time.Millisecond) {
		err := sdb.PingContext(ctx)
		var se *sqlite.Error
		if err == nil || !errors.As(err, &se) || se.Code()&0xff != sqlite3.SQLITE_BUSY || time.Now().After(deadline) {
			return err
		}
		wait := time.NewTimer(delay)
		select {
		case <-ctx.Done():
			wait.Stop()
			return ctx.Err()
		case <-wait.C:
		}
	}
}

// sqliteEngine is an SQLite database through database/sql.
type sqliteEngine struct {
	sqliteQuerier
	db *sql.DB
}

func (e *sqliteEngine) name() string                   { return "sqlite" }
func (e *sqliteEngine) ping(ctx context.Context) error { return e.db.PingContext(ctx) }
func (e *sqliteEngine) close() error                   { return e.db.Close() }

func (e *sqliteEngine) inTx(ctx context.Context, fn func(querier) error) error {
	tx, err := e.db.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer func() { _ = tx.Rollback() }() // a no-op once committed
	if err := fn(sqliteQuerier{tx}); err != nil {
		return err
	}
	return tx.Commit()
}

func (e *sqliteEngine) violation(err error) violation {
	var se *sqlite.Error
	if !errors.As(err, &se) {
		return noViolation
	}
	switch se.Code() {
	case sqlite3.SQLITE_CONSTRAINT_UNIQUE, sqlite3.SQLITE_CONSTRAINT_PRIMARYKEY:
		return uniqueViolation
	case sqlite3.SQLITE_CONSTRAINT_FOREIGNKEY:
		return foreignKeyViolation
	}
	return noViolation
}

// sqlRunner is what *sql.DB and *sql.Tx have in common.
type sqlRunner interface {
	ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error)
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
}

// sqliteQuerier runs the SQLite spelling of queries.
type sqliteQuerier struct{ r sqlRunner }

func (q sqliteQuerier) exec(ctx context.Context, qu query, args ...any) (int64, error) {
	res, err := q.r.ExecContext(ctx, qu.sqlite, sqliteArgs(args)...)
	if err != nil {
		return 0, err
	}
	return res.RowsAffected()
}

func (q sqliteQuerier) query(ctx context.Context, qu query, args ...any) (rows, error) {
	rs, err := q.r.QueryContext(ctx, qu.sqlite, sqliteArgs(args)...)
	if err != nil {
		return nil, err
	}
	return sqliteRows{rs}, nil
}

func (q sqliteQuerier) queryRow(ctx context.Context, qu query, args ...any) row {
	return q.r.QueryRowContext(ctx, qu.sqlite, sqliteArgs(args)...)
}

// sqliteRows adapts *sql.Rows to rows. Its Close error is dropped: Err
// reports whatever went wrong while reading.
type sqliteRows struct{ *sql.Rows }

func (r sqliteRows) Close() { _ = r.Rows.Close() }

// sqliteArgs stores times as fixed-width UTC text (see sqliteTimeLayout).
func sqliteArgs(args []any) []any {
	out := args
	copied := false
	for i, a := range args {
		t, ok := a.(time.Time)
		if !ok {
			continue
		}
		if !copied { // the caller's slice stays as it was
			out, copied = append([]any(nil), args...), true
		}
		out[i] = t.UTC().Format(sqliteTimeLayout)
	}
	return out
}
