package store

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"os"
	"path/filepath"
	"strings"
)

// defaultMaxConns is the PostgreSQL pool size when Config.MaxConns is zero.
const defaultMaxConns = 10

// Open opens the database cfg names, brings its schema up to date and
// returns the Store over it. The engine follows cfg.URL: empty for the
// SQLite file DataDir/sambung.db (DataDir is created if missing),
// "sqlite:PATH" for another SQLite file, "postgres://" or "postgresql://"
// for PostgreSQL. log may be nil.
func Open(ctx context.Context, cfg Config, log *slog.Logger) (Store, error) {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	switch {
	case cfg.URL == "":
		if cfg.DataDir != "" {
			if err := os.MkdirAll(cfg.DataDir, 0o750); err != nil {
				return nil, fmt.Errorf("open sqlite: create data directory: %w", err)
			}
		}
		return openSQLite(ctx, filepath.Join(cfg.DataDir, "sambung.db"), log)
	case strings.HasPrefix(cfg.URL, "sqlite:"):
		// "sqlite:///abs/x.db" is read as the URL it looks like.
		path := strings.TrimPrefix(strings.TrimPrefix(cfg.URL, "sqlite:"), "//")
		if path == "" {
			return nil, errors.New("open sqlite: the URL names no file; use sqlite:PATH, e.g. sqlite:data/sambung.db")
		}
		return openSQLite(ctx, path, log)
	case strings.HasPrefix(cfg.URL, "postgres://"), strings.HasPrefix(cfg.URL, "postgresql://"):
		maxConns := cfg.MaxConns
		if maxConns <= 0 {
			maxConns = defaultMaxConns
		}
		return openPostgres(ctx, cfg.URL, maxConns, log)
	}
	// Only the scheme is shown: the rest of an unknown URL may hold a password.
	scheme, _, ok := strings.Cut(cfg.URL, ":")
	if !ok || strings.ContainsAny(scheme, "/@= ") {
		return nil, errors.New("open database: the URL has no scheme; use sqlite:PATH, postgres://... or " +
			"postgresql://..., or leave it empty for DataDir/sambung.db")
	}
	return nil, fmt.Errorf("open database: unsupported URL scheme %q; use sqlite:PATH, postgres://... or "+
		"postgresql://..., or leave the URL empty for DataDir/sambung.db", scheme)
}

// redactURL is a database URL fit for errors and logs: the password in
// the userinfo and in a password or sslpassword parameter becomes xxxxx. A
// URL that does not parse is not shown at all.
func redactURL(raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		return "(unparsable URL)"
	}
	q := u.Query()
	changed := false
	for _, k := range []string{"password", "sslpassword"} {
		if q.Has(k) {
			q.Set(k, "xxxxx")
			changed = true
		}
	}
	if changed {
		u.RawQuery = q.Encode()
	}
	return u.Redacted()
}
