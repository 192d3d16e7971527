package main

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/cookiejar"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/sambung/sambung/internal/testenv"
	"github.com/sambung/sambung/store"
)

// keyFile makes a master key with 'sambung recordings keygen' and keeps
// it in a file only its owner reads.
func keyFile(t *testing.T, dir, id string) string {
	t.Helper()
	code, out, errOut := runCLI(t, "", "recordings", "keygen")
	if code != 0 || len(strings.TrimSpace(out)) != 64 {
		t.Fatalf("recordings keygen: exit %d, %q %q", code, out, errOut)
	}
	path := filepath.Join(dir, id+".key")
	if err := os.WriteFile(path, []byte(out), 0o600); err != nil {
		t.Fatal(err)
	}
	return id + "=file:" + path
}

// TestSealedRecordings: with recordings.encryption.keys set, the server
// seals each recording at rest. Killed with SIGKILL mid-call, it leaves a
// file that sox cannot read, and that 'sambung recordings decrypt' turns
// into a WAV sox plays up to the kill. After a key rotation (a new key
// first, the old one kept), the next call is sealed with the new key, the
// old file still decrypts and plays through the API (QA's player) byte for
// byte, and a keyring without the old key says which key is missing.
func TestSealedRecordings(t *testing.T) {
	testenv.NeedPeers(t, "baresip, espeak-ng and sox")
	sox := testenv.LookPath(t, "sox", "Debian package sox")
	keys := t.TempDir()
	keyA, keyB := keyFile(t, keys, "2026-06"), keyFile(t, keys, "2026-12")
	mic := testenv.Speech(t, "en", "I would like to speak to someone about my bill", 30*time.Second)
	tp := startTelephone(t, "--recordings.encryption.keys", keyA)
	id, started, killed := killMidCall(t, tp, mic)

	recs, err := tp.st.CallRecordings(context.Background(), id)
	if err != nil || len(recs) != 1 || !strings.HasSuffix(recs[0].Path, ".wav.enc") {
		t.Fatalf("recordings: %+v %v", recs, err)
	}
	sealed := filepath.Join(tp.dir, "recordings", recs[0].Path)
	if out, err := exec.Command(sox, "--i", sealed).CombinedOutput(); err == nil {
		t.Errorf("sox reads the sealed file without the key:\n%s", out)
	}
	dataDir := "--data-dir=" + tp.dir
	decrypted := filepath.Join(t.TempDir(), "first.wav")
	if code, _, errOut := runCLI(t, "", "recordings", "decrypt", dataDir, "--recordings.encryption.keys", keyA, sealed, decrypted); code != 0 {
		t.Fatalf("decrypt: exit %d: %s", code, errOut)
	}
	soxDur := soxSeconds(t, sox, decrypted)
	if want := killed.Sub(started.At).Seconds(); soxDur < want-1.0 || soxDur > want+0.2 {
		t.Errorf("sox reads %.2f s of the decrypted recording; the call was recorded for %.2f s before the kill", soxDur, want)
	}
	if lvl := testenv.ReadWAV(t, decrypted).DBFS(0, 0, 2*time.Second); lvl < -40 {
		t.Errorf("the caller's speech is not in the decrypted recording: %.1f dBFS", lvl)
	}

	// Rotation: the new key first, the old kept. The restart finishes the
	// cut-off recording.
	rotated := keyB + "," + keyA
	args := append(append([]string{}, tp.args...), "--recordings.encryption.keys", rotated)
	cmd := exec.Command(binary, args...)
	cmd.Env = cleanEnv()
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	s2 := start(t, cmd)
	defer func() { _ = s2.stop(t) }()
	recs, _ = tp.st.CallRecordings(context.Background(), id)
	if len(recs) != 1 || recs[0].EndedAt.IsZero() || recs[0].Duration.Seconds() < soxDur-0.05 {
		t.Errorf("after restart the cut-off recording's metadata is %+v; sox read %.2f s", recs, soxDur)
	}
	b2 := testenv.StartBaresip(t, testenv.BaresipCall{Mic: mic, Dial: "sip:echo@" + sipAddr(t, s2), Quit: 60 * time.Second})
	b2.WaitOutput("Call established", 15*time.Second)
	id2 := tp.lastCall(t)
	tp.waitEvent(t, id2, 5*time.Second, kind("recording.started"))
	time.Sleep(2 * time.Second)
	b2.Command("/hangup")
	tp.waitEvent(t, id2, 10*time.Second, kind("recording.finished"))
	b2.Quit()
	recs2, err := tp.st.CallRecordings(context.Background(), id2)
	if err != nil || len(recs2) != 1 {
		t.Fatalf("the second call's recordings: %+v %v", recs2, err)
	}
	second := filepath.Join(tp.dir, "recordings", recs2[0].Path)
	if raw, _ := os.ReadFile(second); !bytes.Contains(raw[:64], []byte("2026-12")) {
		t.Errorf("the second recording is not sealed with the new key: header %q", raw[:64])
	}
	if code, _, errOut := runCLI(t, "", "recordings", "decrypt", dataDir, "--recordings.encryption.keys", rotated, second,
		filepath.Join(t.TempDir(), "second.wav")); code != 0 {
		t.Errorf("decrypt the second recording: exit %d: %s", code, errOut)
	}
	if code, _, errOut := runCLI(t, "", "recordings", "decrypt", dataDir, "--recordings.encryption.keys", keyB, sealed,
		filepath.Join(t.TempDir(), "nokey.wav")); code == 0 || !strings.Contains(errOut, "2026-06") {
		t.Errorf("decrypt without the old key: exit %d: %q, want a failure naming key 2026-06", code, errOut)
	}

	// QA plays the old recording through the API, decrypted on the fly.
	jar, _ := cookiejar.New(nil)
	client := &http.Client{Jar: jar}
	url := s2.url
	body, _ := json.Marshal(map[string]string{"name": "qa", "password": tp.logins["qa"]})
	resp, err := client.Post(url+"api/v1/login", "application/json", bytes.NewReader(body))
	if err != nil || resp.StatusCode != 200 {
		t.Fatalf("QA sign-in: %v %v", resp, err)
	}
	resp.Body.Close()
	resp, err = client.Get(url + "api/v1/calls/" + id + "/recording")
	if err != nil {
		t.Fatal(err)
	}
	played, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	want, _ := os.ReadFile(decrypted)
	if resp.StatusCode != 200 || !bytes.Equal(played, want) {
		t.Errorf("QA's playback: %d, %d bytes; the decrypted file has %d", resp.StatusCode, len(played), len(want))
	}
	audit, _ := os.ReadFile(filepath.Join(tp.dir, "audit.log"))
	for _, action := range []string{`"action":"recording.decrypt"`, `"action":"recording.play"`} {
		if !bytes.Contains(audit, []byte(action)) {
			t.Errorf("the audit trail has no %s", action)
		}
	}
}

// sipAddr is the SIP address a server printed.
func sipAddr(t *testing.T, s *server) string {
	t.Helper()
	m := sipLine.FindStringSubmatch(s.stdout.String())
	if m == nil {
		t.Fatalf("no SIP address printed:\n%s", s.stdout)
	}
	return m[1]
}

// TestHoldAndEraseCommands: a call on hold stops the erasure of its
// caller; released, the caller's calls go, another's stay.
func TestHoldAndEraseCommands(t *testing.T) {
	dir := t.TempDir()
	dd := "--data-dir=" + dir
	if code, _, errOut := runCLI(t, "", "user", "list", dd); code != 0 { // creates the database
		t.Fatalf("user list: %d %s", code, errOut)
	}
	ctx := context.Background()
	st, err := store.Open(ctx, store.Config{DataDir: dir}, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	for id, from := range map[string]string{"c1": "+62811", "c2": "+62811", "c3": "+62899"} {
		if err := st.CreateCall(ctx, store.Call{ID: id, Direction: store.Inbound, From: from, To: "support", Node: "n1"}); err != nil {
			t.Fatal(err)
		}
	}
	steps := []struct {
		args []string
		code int
		out  string
	}{
		{[]string{"recordings", "hold", "c1", dd}, 1, "Reason is empty"},
		{[]string{"recordings", "hold", "c1", "--reason", "case 42", dd}, 0, "c1: on legal hold"},
		{[]string{"recordings", "erase", "--caller", "+62811", dd}, 1, "c1"},
		{[]string{"recordings", "release", "c1", dd}, 0, "c1: released"},
		{[]string{"recordings", "erase", "--caller", "+62811", dd}, 0, "erased 2 calls"},
	}
	for _, s := range steps {
		code, out, errOut := runCLI(t, "", s.args...)
		if code != s.code || !strings.Contains(out+errOut, s.out) {
			t.Errorf("%v: exit %d, %q %q; want %d and %q", s.args, code, out, errOut, s.code, s.out)
		}
	}
	if calls, _ := st.CallsFrom(ctx, "+62811"); len(calls) != 0 {
		t.Errorf("%d calls of the erased caller left", len(calls))
	}
	if calls, _ := st.CallsFrom(ctx, "+62899"); len(calls) != 1 {
		t.Errorf("the other caller has %d calls", len(calls))
	}
}
