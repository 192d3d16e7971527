package testenv

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"net/url"
	"os"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
)

// PostgresEnv names the variable that holds the admin URL of a PostgreSQL
// cluster for tests, such as the one scripts/testpg.sh prints:
// postgres://sambung@/postgres?host=/tmp/x/sock&port=5432.
const PostgresEnv = "SAMBUNG_TEST_POSTGRES"

// Postgres returns the URL of a fresh, empty database for t on the cluster
// that PostgresEnv names. The database is dropped when t ends.
func Postgres(t testing.TB) string {
	t.Helper()
	admin := PostgresAdmin(t)
	u, err := url.Parse(admin)
	if err != nil || (u.Scheme != "postgres" && u.Scheme != "postgresql") {
		t.Fatalf("%s must be a postgres:// URL, such as scripts/testpg.sh prints", PostgresEnv)
	}

	var suffix [6]byte
	_, _ = rand.Read(suffix[:])
	name := fmt.Sprintf("sambung_test_%d_%s", os.Getpid(), hex.EncodeToString(suffix[:]))
	adminExec(t, admin, "CREATE DATABASE "+pgx.Identifier{name}.Sanitize())
	t.Cleanup(func() {
		adminExec(t, admin, "DROP DATABASE IF EXISTS "+pgx.Identifier{name}.Sanitize()+" WITH (FORCE)")
	})

	u.Path = "/" + name
	return u.String()
}

// PostgresAdmin returns the admin URL from PostgresEnv, or skips or fails t
// through NeedPeers and Missing. Tests that open many databases call it
// once up front, so that a missing cluster is reported once.
func PostgresAdmin(t testing.TB) string {
	t.Helper()
	NeedPeers(t, "PostgreSQL")
	admin := os.Getenv(PostgresEnv)
	if admin == "" {
		Missing(t, "PostgreSQL", "set "+PostgresEnv+" or run make test")
	}
	return admin
}

// adminExec runs one statement on the admin database, failing t if it fails.
func adminExec(t testing.TB, admin, stmt string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	conn, err := pgx.Connect(ctx, admin)
	if err != nil {
		t.Fatalf("connect to the test cluster (%s): %v", PostgresEnv, err)
	}
	defer func() { _ = conn.Close(ctx) }()
	if _, err := conn.Exec(ctx, stmt); err != nil {
		t.Fatalf("%s: %v", stmt, err)
	}
}
