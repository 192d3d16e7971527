// Package testenv decides whether tests that need real peers (PostgreSQL,
// Chromium, SIP clients) run, skip or fail.
//
// Under `go test -short` they skip with a message. Under `make test` the
// Makefile sets SAMBUNG_REQUIRE_PEERS=1, and a missing peer is a failure,
// so a broken install can never pass as a skipped test.
package testenv

import (
	"bytes"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
)

// RequirePeersEnv is set to 1 by `make test`.
const RequirePeersEnv = "SAMBUNG_REQUIRE_PEERS"

// Required reports whether missing peers must fail the run.
func Required() bool { return os.Getenv(RequirePeersEnv) == "1" }

// NeedPeers skips t under -short. what names the peer, for the message.
func NeedPeers(t testing.TB, what string) {
	t.Helper()
	if testing.Short() {
		t.Skipf("needs %s; skipped under -short (make test runs it)", what)
	}
}

// Missing skips t, or fails it when peers are required, saying what is
// missing and how to get it.
func Missing(t testing.TB, what, how string) {
	t.Helper()
	if Required() {
		t.Fatalf("%s is missing (%s); make test installs it: see scripts/deps.sh", what, how)
	}
	t.Skipf("%s is missing (%s); run make test to install it", what, how)
}

// LookPath returns the path of a program a test needs, or skips/fails
// through Missing.
func LookPath(t testing.TB, prog, how string) string {
	t.Helper()
	NeedPeers(t, prog)
	p, err := exec.LookPath(prog)
	if err != nil {
		Missing(t, prog, how)
	}
	return p
}

// FilesHolding lists the files under dir whose bytes contain needle: for
// checking that something secret (a card number) was written nowhere.
func FilesHolding(t testing.TB, dir, needle string) []string {
	t.Helper()
	var out []string
	err := filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := os.ReadFile(path)
		if err == nil && bytes.Contains(b, []byte(needle)) {
			out = append(out, path)
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}
