package testenv

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"
)

// BrowserScript runs a Node script that drives Debian's Chromium through
// playwright-core (installed in web/e2e/node_modules by make test) and
// reports one JSON line per check: {"check","ok","detail"}. Each failed
// check fails t; the number of passed checks is returned.
//
// dir is the web/e2e directory; env adds variables for the script.
// Screenshots go to $SAMBUNG_ARTIFACTS_DIR/name when that is set (keep
// them), else to a temporary directory.
func BrowserScript(t testing.TB, dir, script, name string, env ...string) int {
	t.Helper()
	node := LookPath(t, "node", "Debian package nodejs")
	chromium := LookPath(t, "chromium", "Debian package chromium")
	if _, err := os.Stat(filepath.Join(dir, "node_modules", "playwright-core")); err != nil {
		Missing(t, "playwright-core", "npm ci in web/e2e")
	}
	artifacts := t.TempDir()
	if d := os.Getenv("SAMBUNG_ARTIFACTS_DIR"); d != "" {
		artifacts = filepath.Join(d, name)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, node, filepath.Join(dir, script))
	cmd.Env = append(append(os.Environ(), "CHROMIUM="+chromium, "SAMBUNG_ARTIFACTS="+artifacts), env...)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, runErr := cmd.Output()

	passed, failed := 0, 0
	sc := bufio.NewScanner(bytes.NewReader(out))
	for sc.Scan() {
		var r struct {
			Check  string `json:"check"`
			OK     bool   `json:"ok"`
			Detail string `json:"detail"`
		}
		if err := json.Unmarshal(sc.Bytes(), &r); err != nil || r.Check == "" {
			t.Logf("browser: %s", sc.Text())
			continue
		}
		if r.OK {
			passed++
		} else {
			failed++
			t.Errorf("browser check %q failed: %s", r.Check, r.Detail)
		}
	}
	if runErr != nil {
		t.Errorf("%s: %v\n%s", script, runErr, stderr.String())
	}
	t.Logf("%d browser checks passed, %d failed; screenshots in %s", passed, failed, artifacts)
	return passed
}
