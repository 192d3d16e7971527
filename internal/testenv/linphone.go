package testenv

import (
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"
)

// Linphone is linphonec, the second independent SIP stack for functional
// tests, driven by console lines on its standard input.
type Linphone struct {
	t     testing.TB
	Heard string // the WAV it records of the call
	in    io.WriteCloser
	cmd   *exec.Cmd
	out   Output
	done  chan struct{}
}

// StartLinphone starts linphonec with mic as its microphone (a WAV, 16-bit
// mono), recording what it hears, bound to 127.0.0.1 on free ports.
func StartLinphone(t testing.TB, mic string) *Linphone {
	t.Helper()
	bin := LookPath(t, "linphonec", "Debian package linphone-cli")
	dir := t.TempDir()
	home := filepath.Join(dir, "home")
	if err := os.MkdirAll(filepath.Join(home, ".local", "share", "linphone"), 0o755); err != nil {
		t.Fatal(err)
	}
	rtp := FreeUDPRange(t, 20)
	rc := fmt.Sprintf("[sip]\nbind_address=127.0.0.1\nsip_port=%d\nsip_tcp_port=-1\ndefault_proxy=-1\nuse_rfc2833=1\nuse_info=0\n"+
		"[rtp]\nbind_address=127.0.0.1\naudio_rtp_port=%d-%d\n[sound]\nechocancellation=0\n", FreeSIPPort(t), rtp, rtp+19)
	rcPath := filepath.Join(dir, "rc")
	if err := os.WriteFile(rcPath, []byte(rc), 0o644); err != nil {
		t.Fatal(err)
	}
	l := &Linphone{t: t, Heard: filepath.Join(dir, "heard.wav"), done: make(chan struct{})}
	l.cmd = exec.Command(bin, "-c", rcPath)
	l.cmd.Env = append(os.Environ(), "HOME="+home)
	l.cmd.Stdout, l.cmd.Stderr = &l.out, &l.out
	var err error
	if l.in, err = l.cmd.StdinPipe(); err != nil {
		t.Fatal(err)
	}
	if err := l.cmd.Start(); err != nil {
		t.Fatalf("start linphonec: %v", err)
	}
	go func() { _ = l.cmd.Wait(); close(l.done) }()
	t.Cleanup(func() {
		_ = l.cmd.Process.Kill()
		<-l.done
		if t.Failed() {
			t.Logf("linphonec output:\n%s", l.Output())
		}
	})
	l.Send("soundcard use files")
	l.Send("play " + mic)
	l.Send("record " + l.Heard)
	return l
}

// Output is what linphonec printed so far.
func (l *Linphone) Output() string { return l.out.String() }

// Send types one console line: "call sip:...", a digit, "terminate", "quit".
func (l *Linphone) Send(line string) {
	l.t.Helper()
	if _, err := io.WriteString(l.in, line+"\n"); err != nil {
		l.t.Fatalf("linphonec: %v", err)
	}
}

// WaitOutput waits until linphonec has printed s, or fails the test.
func (l *Linphone) WaitOutput(s string, timeout time.Duration) {
	l.t.Helper()
	l.out.wait(l.t, "linphonec", s, timeout, l.done)
}

// Quit ends linphonec and waits for it.
func (l *Linphone) Quit() {
	l.t.Helper()
	l.Send("quit")
	_ = l.in.Close()
	select {
	case <-l.done:
	case <-time.After(15 * time.Second):
		l.t.Fatal("linphonec did not quit")
	}
}
