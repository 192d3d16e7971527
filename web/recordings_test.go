package web

import (
	"bytes"
	"context"
	"encoding/json"
	"math"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/sambung/sambung/recordings"
	"github.com/sambung/sambung/store"
)

// recordedCall stores a call taken by agentID, with a recording of
// frames 20 ms frames in dir (a tone on the caller's side), and returns
// the WAV's bytes.
func recordedCall(t *testing.T, h *harness, dir, id string, agentID int64, frames int) []byte {
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
	path := filepath.Join(dir, filepath.FromSlash(name))
	w, err := recordings.NewWriter(path, recordings.WriterConfig{})
	if err != nil {
		t.Fatal(err)
	}
	var loud, quiet [160]int16
	for i := range loud {
		loud[i] = int16(8000 * math.Sin(2*math.Pi*440*float64(i)/8000))
	}
	for range frames { // the caller speaks, the other side is silent
		if err := w.WriteFrame(loud[:], quiet[:]); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	wav, err := os.ReadFile(path)
	if err != nil {
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
	mine := recordedCall(t, h, dir, "c1", h.users[store.RoleAgent].ID, 100)
	recordedCall(t, h, dir, "c2", h.users[store.RoleSupervisor].ID, 10)

	resp, b := ag.do("GET", "/api/v1/calls/c1/recording", nil, "Range", "bytes=0-")
	if resp.StatusCode != http.StatusPartialContent || !bytes.Equal(b, mine) || resp.Header.Get("Content-Type") != "audio/wav" {
		t.Errorf("the agent's own recording: %d, %s, %d bytes", resp.StatusCode, resp.Header.Get("Content-Type"), len(b))
	}
	resp, b = ag.do("GET", "/api/v1/calls/c1/recording", nil, "Range", "bytes=30000-30999")
	if resp.StatusCode != http.StatusPartialContent || !bytes.Equal(b, mine[30000:31000]) {
		t.Errorf("a seek: %d, %d bytes", resp.StatusCode, len(b))
	}
	if resp, b := ag.do("GET", "/api/v1/calls/c1", nil); resp.StatusCode != http.StatusOK {
		t.Errorf("the agent's own call: %d %s", resp.StatusCode, b)
	}
	if resp, b := ag.do("GET", "/api/v1/calls/c2", nil); resp.StatusCode != http.StatusForbidden {
		t.Errorf("another agent's call: %d %s, want 403", resp.StatusCode, b)
	}
	if resp, b := ag.do("GET", "/api/v1/calls/c2/recording", nil); resp.StatusCode != http.StatusForbidden {
		t.Errorf("another agent's call: %d %s, want 403", resp.StatusCode, b)
	}
	if resp, b := qa.do("GET", "/api/v1/calls/c2/recording", nil); resp.StatusCode != http.StatusOK || len(b) != 44+10*640 {
		t.Errorf("QA: %d, %d bytes", resp.StatusCode, len(b))
	}
	var peaks struct {
		DurationMs int64       `json:"duration_ms"`
		Channels   [][]float64 `json:"channels"`
	}
	resp, b = ag.do("GET", "/api/v1/calls/c1/recording/peaks?n=20", nil)
	if err := json.Unmarshal(b, &peaks); resp.StatusCode != 200 || err != nil || peaks.DurationMs != 2000 ||
		len(peaks.Channels) != 2 || len(peaks.Channels[0]) != 20 || peaks.Channels[0][7] < 7000 || peaks.Channels[1][7] != 0 {
		t.Errorf("the peaks: %d %s", resp.StatusCode, b)
	}
	if resp, _ := ag.do("GET", "/api/v1/calls/c2/recording/peaks", nil); resp.StatusCode != http.StatusForbidden {
		t.Errorf("another agent's peaks: %d, want 403", resp.StatusCode)
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
