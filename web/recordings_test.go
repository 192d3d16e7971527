package web

import (
	"bytes"
	"context"
	"encoding/binary"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/sambung/sambung/recordings"
	"github.com/sambung/sambung/store"
)

// recordedCall stores a call taken by agentID, with a recording of n
// bytes of audio in dir, and returns the WAV's bytes.
func recordedCall(t *testing.T, h *harness, dir, id string, agentID int64, n int) []byte {
	t.Helper()
	ctx := context.Background()
	if err := h.st.CreateCall(ctx, store.Call{ID: id, Direction: store.Inbound, From: "ayu", To: "support", Node: "n1"}); err != nil {
		t.Fatal(err)
	}
	if _, err := h.st.AppendCallEvent(ctx, store.CallEvent{CallID: id, Kind: "agent.connected",
		Data: []byte(`{"agent_id":` + strconv.FormatInt(agentID, 10) + `}`)}); err != nil {
		t.Fatal(err)
	}
	name := "2026/12/06/" + id + ".wav"
	wav := make([]byte, 44+n)
	copy(wav, "RIFF")
	binary.LittleEndian.PutUint32(wav[40:], uint32(n))
	for i := 44; i < len(wav); i++ {
		wav[i] = byte(i * 7)
	}
	if err := os.MkdirAll(filepath.Join(dir, "2026/12/06"), 0o750); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, filepath.FromSlash(name)), wav, 0o640); err != nil {
		t.Fatal(err)
	}
	if _, err := h.st.CreateRecording(ctx, store.Recording{CallID: id, Path: name, Format: "wav", Channels: 2,
		SampleRate: 8000, StartedAt: time.Now()}); err != nil {
		t.Fatal(err)
	}
	return wav
}

// TestPlayRecording: the agent who took a call plays its recording, with
// ranges (seeking); another agent gets 403, QA gets it too; a playback is
// audited once however many ranges it asks for, and a refusal is audited.
func TestPlayRecording(t *testing.T) {
	h := newHarness(t)
	dir := t.TempDir()
	ag, qa := h.signIn(store.RoleAgent), h.signIn(store.RoleQA)
	if resp, b := ag.do("GET", "/api/v1/calls/c1/recording", nil); resp.StatusCode != http.StatusServiceUnavailable {
		t.Errorf("without recordings: %d %s, want 503", resp.StatusCode, b)
	}
	h.srv.SetRecordings(recordings.Dir{Path: dir})
	mine := recordedCall(t, h, dir, "c1", h.users[store.RoleAgent].ID, 64000)
	recordedCall(t, h, dir, "c2", h.users[store.RoleSupervisor].ID, 1000)

	resp, b := ag.do("GET", "/api/v1/calls/c1/recording", nil, "Range", "bytes=0-")
	if resp.StatusCode != http.StatusPartialContent || !bytes.Equal(b, mine) || resp.Header.Get("Content-Type") != "audio/wav" {
		t.Errorf("the agent's own recording: %d, %s, %d bytes", resp.StatusCode, resp.Header.Get("Content-Type"), len(b))
	}
	resp, b = ag.do("GET", "/api/v1/calls/c1/recording", nil, "Range", "bytes=30000-30999")
	if resp.StatusCode != http.StatusPartialContent || !bytes.Equal(b, mine[30000:31000]) {
		t.Errorf("a seek: %d, %d bytes", resp.StatusCode, len(b))
	}
	if resp, b := ag.do("GET", "/api/v1/calls/c2/recording", nil); resp.StatusCode != http.StatusForbidden {
		t.Errorf("another agent's call: %d %s, want 403", resp.StatusCode, b)
	}
	if resp, b := qa.do("GET", "/api/v1/calls/c2/recording", nil); resp.StatusCode != http.StatusOK || len(b) != 1044 {
		t.Errorf("QA: %d, %d bytes", resp.StatusCode, len(b))
	}
	if err := os.Remove(filepath.Join(dir, "2026/12/06/c2.wav")); err != nil {
		t.Fatal(err)
	}
	if resp, b := qa.do("GET", "/api/v1/calls/c2/recording", nil); resp.StatusCode != http.StatusNotFound ||
		!bytes.Contains(b, []byte("no longer kept")) {
		t.Errorf("a recording deleted: %d %s", resp.StatusCode, b)
	}
	if resp, _ := qa.do("GET", "/api/v1/calls/c9/recording", nil); resp.StatusCode != http.StatusNotFound {
		t.Errorf("no call: %d", resp.StatusCode)
	}
	key := func(e store.AuditEvent) string { return e.Action + " " + e.Target + " " + e.Outcome }
	if got := auditCountsOf(t, h, "agent", key); got["recording.play c1 ok"] != 1 || got["recording.play c2 denied"] != 1 {
		t.Errorf("the agent's audit entries: %v", got)
	}
	if got := auditCountsOf(t, h, "qa", key); got["recording.play c2 ok"] != 1 {
		t.Errorf("QA's audit entries: %v", got)
	}
}
