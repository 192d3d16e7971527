package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"
)

// query is one SQL statement, written once in PostgreSQL's spelling with
// $1..$n placeholders. Its SQLite spelling is worked out once, when the
// package loads, so no call pays for the rewrite.
type query struct {
	postgres string
	sqlite   string
}

// newQuery makes a query from its PostgreSQL text.
func newQuery(text string) query {
	return query{postgres: text, sqlite: sqlitePlaceholders(text)}
}

// script is SQL that each engine runs as written, such as a migration file:
// it is not rewritten and takes no arguments.
func script(text string) query {
	return query{postgres: text, sqlite: text}
}

// sqlitePlaceholders rewrites PostgreSQL's $N placeholders as SQLite's ?N. Both
// bind the Nth argument, so a placeholder may appear more than once. Quoted
// literals and identifiers are copied as they are.
func sqlitePlaceholders(text string) string {
	var b strings.Builder
	b.Grow(len(text))
	var quote byte // the quote character we are inside, or 0
	for i := 0; i < len(text); i++ {
		c := text[i]
		switch {
		case quote != 0:
			if c == quote {
				quote = 0
			}
		case c == '\'' || c == '"':
			quote = c
		case c == '$' && i+1 < len(text) && text[i+1] >= '1' && text[i+1] <= '9':
			c = '?'
		}
		b.WriteByte(c)
	}
	return b.String()
}

// querier runs queries. The engines and their transactions satisfy it.
type querier interface {
	// exec runs q and says how many rows it changed.
	exec(ctx context.Context, q query, args ...any) (int64, error)
	// query runs q and returns its rows; the caller closes them.
	query(ctx context.Context, q query, args ...any) (rows, error)
	// queryRow runs q for at most one row. Its Scan gives an error that
	// matches sql.ErrNoRows when there is none.
	queryRow(ctx context.Context, q query, args ...any) row
}

// rows is the result of a query, read with Next and Scan.
type rows interface {
	Next() bool
	Scan(dest ...any) error
	Err() error
	Close()
}

// row is a single row; rows satisfy it too.
type row interface {
	Scan(dest ...any) error
}

// runner is a querier that can also start a write transaction.
type runner interface {
	querier
	// inTx runs fn in a write transaction: committed if fn returns nil,
	// rolled back otherwise.
	inTx(ctx context.Context, fn func(querier) error) error
}

// violation names a broken constraint that callers decide on.
type violation int

const (
	noViolation violation = iota
	uniqueViolation
	foreignKeyViolation
)

// engine is one database behind the shared queries.
type engine interface {
	runner
	// violation says which constraint, if any, err reports broken.
	violation(err error) violation
	name() string
	ping(ctx context.Context) error
	close() error
}

// db implements Store over either engine with the one set of queries.
type db struct {
	engine
	closeOnce sync.Once
	closeErr  error
}

var _ Store = (*db)(nil)

// Engine names the engine: "sqlite" or "postgres".
func (d *db) Engine() string { return d.name() }

var qSchemaVersion = newQuery(`SELECT COALESCE(MAX(version), 0) FROM schema_migrations`)

// SchemaVersion is the highest migration applied.
func (d *db) SchemaVersion(ctx context.Context) (int, error) {
	var v int
	if err := d.queryRow(ctx, qSchemaVersion).Scan(&v); err != nil {
		return 0, fmt.Errorf("read schema version: %w", err)
	}
	return v, nil
}

// Ping checks that the database answers.
func (d *db) Ping(ctx context.Context) error {
	if err := d.ping(ctx); err != nil {
		return fmt.Errorf("ping %s: %w", d.name(), err)
	}
	return nil
}

// Close releases the connections. It is idempotent.
func (d *db) Close() error {
	d.closeOnce.Do(func() { d.closeErr = d.close() })
	return d.closeErr
}

// utc is how every time goes into the database: UTC, truncated to the
// microsecond that PostgreSQL keeps, so both engines give back the same.
func utc(t time.Time) time.Time { return t.UTC().Truncate(time.Microsecond) }

// utcOrNow is utc(t), or now for the zero time.
func utcOrNow(t time.Time) time.Time {
	if t.IsZero() {
		return utc(time.Now())
	}
	return utc(t)
}

// nullTime stores the zero time as NULL: a call not yet answered has no
// answered_at.
func nullTime(t time.Time) any {
	if t.IsZero() {
		return nil
	}
	return utc(t)
}

// Bounds that stand in for an unset time in a filter, so that each filter
// is one fixed query rather than SQL assembled per call. Both engines store
// every time between them.
var (
	minTime = time.Date(1, 1, 1, 0, 0, 0, 0, time.UTC)
	maxTime = time.Date(9999, 12, 31, 23, 59, 59, 999999000, time.UTC)
)

// bound is a filter's time as stored, or def when the filter leaves it zero.
func bound(t, def time.Time) time.Time {
	if t.IsZero() {
		return def
	}
	return utc(t)
}

// sqliteTimeLayout is how SQLite stores times: fixed width, so that the
// strings sort and compare in time order.
const sqliteTimeLayout = "2006-01-02T15:04:05.000000Z"

// timeDest scans a time column of either engine into *t, in UTC. SQLite
// gives the stored text, PostgreSQL a time.Time; NULL gives the zero time.
func timeDest(t *time.Time) sql.Scanner { return (*timeScanner)(t) }

type timeScanner time.Time

func (s *timeScanner) Scan(src any) error {
	var t time.Time
	switch v := src.(type) {
	case nil:
	case time.Time:
		t = v.UTC()
	case string:
		return s.parse(v)
	case []byte:
		return s.parse(string(v))
	default:
		return fmt.Errorf("scan %T as a time", src)
	}
	*s = timeScanner(t)
	return nil
}

func (s *timeScanner) parse(v string) error {
	t, err := time.Parse(time.RFC3339Nano, v)
	if err != nil {
		return fmt.Errorf("parse stored time: %w", err)
	}
	*s = timeScanner(t.UTC())
	return nil
}

// queryAll runs qu and reads every row with scan.
func queryAll[T any](ctx context.Context, q querier, qu query, scan func(row) (T, error), args ...any) ([]T, error) {
	rs, err := q.query(ctx, qu, args...)
	if err != nil {
		return nil, err
	}
	defer rs.Close()
	var out []T
	for rs.Next() {
		v, err := scan(rs)
		if err != nil {
			return nil, err
		}
		out = append(out, v)
	}
	if err := rs.Err(); err != nil {
		return nil, err
	}
	return out, nil
}

// notFound turns "no rows" into ErrNotFound, naming what was looked for.
func notFound(err error, what string) error {
	if errors.Is(err, sql.ErrNoRows) {
		return fmt.Errorf("%s: %w", what, ErrNotFound)
	}
	return fmt.Errorf("read %s: %w", what, err)
}

// jsonObject checks that data is one JSON object, the only shape a data or
// detail column holds; nil means the empty object.
func jsonObject(data json.RawMessage) (string, error) {
	if data == nil {
		return "{}", nil
	}
	var obj map[string]json.RawMessage
	if err := json.Unmarshal(data, &obj); err != nil || obj == nil {
		return "", fmt.Errorf("data must be a JSON object: %s", truncate(data, 40))
	}
	return string(data), nil
}

func truncate(b []byte, n int) string {
	if len(b) > n {
		return string(b[:n]) + "..."
	}
	return string(b)
}
