package store

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"
)

// migrationLockKey is the pg_advisory_lock key held while migrations run,
// so that one node at a time migrates a database: "sambung" in ASCII.
// Advisory locks are per database, so other databases in the cluster are
// not held up.
const migrationLockKey int64 = 0x73616d62756e67

// postgresBootstrap creates the table that records applied migrations.
const postgresBootstrap = `CREATE TABLE IF NOT EXISTS schema_migrations (
    version    INTEGER PRIMARY KEY,
    name       TEXT NOT NULL,
    applied_at TIMESTAMPTZ NOT NULL
)`

// PostgreSQL error codes (SQLSTATE) that callers decide on.
const (
	pgUniqueViolation     = "23505"
	pgForeignKeyViolation = "23503"
)

// openPostgres connects to the PostgreSQL database at rawURL, migrates it
// and returns a Store over a pool of at most maxConns connections.
func openPostgres(ctx context.Context, rawURL string, maxConns int, log *slog.Logger) (Store, error) {
	// Checked here so that no parse error can echo a password.
	if _, err := url.Parse(rawURL); err != nil {
		return nil, errors.New("open postgres: the URL does not parse; the form is postgres://user:password@host:port/dbname?options")
	}
	where := redactURL(rawURL)
	migs, err := loadMigrations(migrationFiles, "migrations/postgres")
	if err != nil {
		return nil, fmt.Errorf("open postgres %s: %w", where, err)
	}
	cfg, err := pgxpool.ParseConfig(rawURL)
	if err != nil {
		return nil, fmt.Errorf("open postgres %s: %w", where, err)
	}
	cfg.MaxConns = int32(min(maxConns, 1<<20))
	if err := migratePostgres(ctx, cfg.ConnConfig.Copy(), migs, log.With("db", where)); err != nil {
		return nil, fmt.Errorf("open postgres %s: %w", where, err)
	}
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("open postgres %s: %w", where, err)
	}
	return &db{engine: &postgresEngine{pgQuerier: pgQuerier{pool}, pool: pool}}, nil
}

// migratePostgres runs migrate on a connection of its own that holds the
// migration lock throughout. Closing the connection would release the lock
// too, should the explicit unlock fail.
func migratePostgres(ctx context.Context, cc *pgx.ConnConfig, migs []migration, log *slog.Logger) error {
	conn, err := pgx.ConnectConfig(ctx, cc)
	if err != nil {
		return err
	}
	defer func() {
		cctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
		defer cancel()
		_ = conn.Close(cctx)
	}()
	if _, err := conn.Exec(ctx, "SELECT pg_advisory_lock($1)", migrationLockKey); err != nil {
		return fmt.Errorf("take the migration lock: %w", err)
	}
	defer func() {
		uctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
		defer cancel()
		_, _ = conn.Exec(uctx, "SELECT pg_advisory_unlock($1)", migrationLockKey)
	}()
	return migrate(ctx, pgQuerier{conn}, postgresBootstrap, migs, log)
}

// postgresEngine is a PostgreSQL database through a pgx pool.
type postgresEngine struct {
	pgQuerier
	pool *pgxpool.Pool
}

func (e *postgresEngine) name() string                   { return "postgres" }
func (e *postgresEngine) ping(ctx context.Context) error { return e.pool.Ping(ctx) }

func (e *postgresEngine) close() error {
	e.pool.Close()
	return nil
}

func (e *postgresEngine) violation(err error) violation {
	var pe *pgconn.PgError
	if !errors.As(err, &pe) {
		return noViolation
	}
	switch pe.Code {
	case pgUniqueViolation:
		return uniqueViolation
	case pgForeignKeyViolation:
		return foreignKeyViolation
	}
	return noViolation
}

// pgRunner is what a pool, a connection and a transaction have in common.
type pgRunner interface {
	Exec(ctx context.Context, sql string, args ...any) (pgconn.CommandTag, error)
	Query(ctx context.Context, sql string, args ...any) (pgx.Rows, error)
	QueryRow(ctx context.Context, sql string, args ...any) pgx.Row
	Begin(ctx context.Context) (pgx.Tx, error)
}

// pgQuerier runs the PostgreSQL spelling of queries. pgx runs a query
// without arguments, such as a migration, over the simple protocol, which
// allows several statements in one string.
type pgQuerier struct{ r pgRunner }

func (q pgQuerier) exec(ctx context.Context, qu query, args ...any) (int64, error) {
	tag, err := q.r.Exec(ctx, qu.postgres, args...)
	if err != nil {
		return 0, err
	}
	return tag.RowsAffected(), nil
}

func (q pgQuerier) query(ctx context.Context, qu query, args ...any) (rows, error) {
	rs, err := q.r.Query(ctx, qu.postgres, args...)
	if err != nil {
		return nil, err
	}
	return rs, nil
}

func (q pgQuerier) queryRow(ctx context.Context, qu query, args ...any) row {
	return q.r.QueryRow(ctx, qu.postgres, args...)
}

func (q pgQuerier) inTx(ctx context.Context, fn func(querier) error) error {
	return pgx.BeginFunc(ctx, q.r, func(tx pgx.Tx) error { return fn(pgQuerier{tx}) })
}
