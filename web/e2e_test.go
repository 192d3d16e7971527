package web

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

	"github.com/sambung/sambung/internal/testenv"
	"github.com/sambung/sambung/store"
)

// TestBrowserSignIn drives the real pages in headless Chromium (Debian's,
// through playwright-core; see e2e/login.mjs): each role signs in and sees
// its landing page with a live connection, a wrong password shows an error,
// ?next= works, and another role's page is refused.
func TestBrowserSignIn(t *testing.T) {
	node := testenv.LookPath(t, "node", "Debian package nodejs")
	chromium := testenv.LookPath(t, "chromium", "Debian package chromium")
	if _, err := os.Stat("e2e/node_modules/playwright-core"); err != nil {
		testenv.Missing(t, "playwright-core", "npm ci in web/e2e")
	}
	h := newHarness(t)
	// Sign-ins here run on the real clock: the browser's session must not
	// expire against a frozen one, and audit times should read true.
	h.clock.Real()

	logins := map[string]map[string]string{}
	for _, r := range store.Roles {
		logins[string(r)] = map[string]string{"name": string(r), "password": testPassword}
	}
	loginsJSON, _ := json.Marshal(logins)
	artifacts := filepath.Join(os.Getenv("SAMBUNG_ARTIFACTS_DIR"), "browser-sign-in")
	if os.Getenv("SAMBUNG_ARTIFACTS_DIR") == "" {
		artifacts = t.TempDir()
	}

	ctx, cancel := context.WithTimeout(t.Context(), 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, node, "e2e/login.mjs")
	cmd.Env = append(os.Environ(),
		"SAMBUNG_URL="+h.url,
		"SAMBUNG_LOGINS="+string(loginsJSON),
		"SAMBUNG_ARTIFACTS="+artifacts,
		"CHROMIUM="+chromium,
	)
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
		if err := json.Unmarshal(sc.Bytes(), &r); err != nil {
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
		t.Errorf("login.mjs: %v\n%s", runErr, stderr.String())
	}
	// Four roles with several checks each, the wrong password, ?next= and
	// the forbidden page: far more than 20 checks when the script ran whole.
	if failed == 0 && passed < 20 {
		t.Errorf("only %d browser checks ran; the script stopped early\n%s", passed, stderr.String())
	}
	t.Logf("%d browser checks passed; screenshots in %s", passed, artifacts)
}
