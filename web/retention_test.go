package web

import (
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/sambung/sambung/recordings"
	"github.com/sambung/sambung/store"
)

// TestHoldAndErase: an admin holds a call, and the erasure of its caller
// is refused, naming it, with nothing erased; released, the caller's calls
// and recording files go, another caller's stay, and each step is in the
// audit trail, the caller named by a digest only.
func TestHoldAndErase(t *testing.T) {
	h := newHarness(t)
	dir := t.TempDir()
	h.srv.SetRecordings(recordings.Dir{Path: dir})
	admin, qa := h.signIn(store.RoleAdmin), h.signIn(store.RoleQA)
	agentID := h.users[store.RoleAgent].ID
	recordedCall(t, h, dir, "c1", agentID, 10) // from ayu
	recordedCall(t, h, dir, "c2", agentID, 10) // from ayu
	file := filepath.Join(dir, "2026/12/06/c1.wav")

	if resp, b := admin.do("POST", "/api/v1/calls/c1/hold", map[string]any{"on": true}); resp.StatusCode != http.StatusBadRequest {
		t.Errorf("a hold without a reason: %d %s", resp.StatusCode, b)
	}
	if resp, b := admin.do("POST", "/api/v1/calls/c1/hold", map[string]any{"on": true, "reason": "case 42"}); resp.StatusCode != 200 {
		t.Fatalf("hold: %d %s", resp.StatusCode, b)
	}
	if resp, b := admin.do("POST", "/api/v1/erasures", map[string]any{"caller": "ayu"}); resp.StatusCode != http.StatusConflict ||
		!strings.Contains(string(b), "c1") {
		t.Errorf("erasing a caller with a held call: %d %s", resp.StatusCode, b)
	}
	if _, err := os.Stat(file); err != nil {
		t.Errorf("a refused erasure deleted the recording: %v", err)
	}
	if resp, _ := qa.do("POST", "/api/v1/erasures", map[string]any{"caller": "ayu"}); resp.StatusCode != http.StatusForbidden {
		t.Errorf("QA erased a caller: %d", resp.StatusCode)
	}
	if resp, b := admin.do("POST", "/api/v1/calls/c1/hold", map[string]any{"on": false}); resp.StatusCode != 200 {
		t.Fatalf("release: %d %s", resp.StatusCode, b)
	}
	resp, b := admin.do("POST", "/api/v1/erasures", map[string]any{"caller": "ayu"})
	if resp.StatusCode != 200 || !strings.Contains(string(b), `"calls":2`) || !strings.Contains(string(b), `"files":2`) {
		t.Fatalf("erase: %d %s", resp.StatusCode, b)
	}
	if _, err := os.Stat(file); !os.IsNotExist(err) {
		t.Errorf("the erased caller's recording is still there: %v", err)
	}
	if resp, _ := qa.do("GET", "/api/v1/calls/c1", nil); resp.StatusCode != http.StatusNotFound {
		t.Errorf("the erased call: %d", resp.StatusCode)
	}
	got := auditCountsOf(t, h, "admin", func(e store.AuditEvent) string { return e.Action + " " + e.Target + " " + e.Outcome })
	ref := recordings.CallerRef("ayu")
	for k, n := range map[string]int{"call.hold c1 ok": 1, "call.hold c1 failed": 1, "call.release c1 ok": 1,
		"caller.erase " + ref + " failed": 1, "caller.erase " + ref + " ok": 1} {
		if got[k] != n {
			t.Errorf("audit %q: %d, want %d (all: %v)", k, got[k], n, got)
		}
	}
}
