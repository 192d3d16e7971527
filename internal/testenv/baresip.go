package testenv

import (
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"
)

// Baresip is one scripted baresip process placing one call: a real SIP
// user agent and RTP stack for functional tests (see shared/testing/PEERS.md).
type Baresip struct {
	t       testing.TB
	SIPPort int    // where it takes SIP (UDP and TCP) on 127.0.0.1
	RTPLo   int    // its RTP ports are RTPLo to RTPLo+19
	Dir     string // its config directory
	OutDir  string // what it heard: dump-*-dec.wav; what it sent: dump-*-enc.wav
	cons    string // UDP console address for commands
	cmd     *exec.Cmd
	out     Output
	done    chan struct{}
}

// BaresipCall configures a call.
type BaresipCall struct {
	// Mic is the WAV the caller speaks: 16-bit mono at 8 kHz (aufile does
	// not resample). The call ends when it ends, so pad it with silence.
	Mic string
	// Dial is the SIP URI to call, e.g. sip:echo@127.0.0.1:5060. Empty
	// makes it a callee instead: it waits for calls and answers them.
	Dial string
	// User is its user part (default "tester").
	User string
	// Quit ends baresip after this long whatever happens (a hard limit).
	Quit time.Duration
}

// StartBaresip starts baresip placing the call. Its process is killed at
// test cleanup if still running.
func StartBaresip(t testing.TB, c BaresipCall) *Baresip {
	t.Helper()
	bin := LookPath(t, "baresip", "Debian package baresip-core")
	dir := t.TempDir()
	out := filepath.Join(dir, "out")
	if err := os.Mkdir(out, 0o755); err != nil {
		t.Fatal(err)
	}
	sipPort, consPort := FreeSIPPort(t), FreeUDPPort(t)
	rtpLo := FreeUDPRange(t, 20)
	config := fmt.Sprintf(`poll_method epoll
sip_listen 127.0.0.1:%d
net_interface 127.0.0.1
audio_source aufile,%s
audio_player alsa,null
ausrc_srate 8000
auplay_srate 8000
ausrc_channels 1
auplay_channels 1
rtp_ports %d-%d
rtp_timeout 0
module_path /usr/lib/baresip/modules
module cons.so
module g711.so
module sndfile.so
module alsa.so
module aufile.so
module_tmp uuid.so
module_tmp account.so
module_app menu.so
cons_listen 127.0.0.1:%d
snd_path %s
`, sipPort, c.Mic, rtpLo, rtpLo+19, consPort, out)
	if err := os.WriteFile(filepath.Join(dir, "config"), []byte(config), 0o644); err != nil {
		t.Fatal(err)
	}
	// baresip offers telephone-event (RFC 4733) by itself.
	user, answer := c.User, "manual"
	if user == "" {
		user = "tester"
	}
	if c.Dial == "" {
		answer = "auto"
	}
	account := fmt.Sprintf("<sip:%s@127.0.0.1>;regint=0;answermode=%s;audio_codecs=PCMU\n", user, answer)
	if err := os.WriteFile(filepath.Join(dir, "accounts"), []byte(account), 0o644); err != nil {
		t.Fatal(err)
	}
	quit := c.Quit
	if quit == 0 {
		quit = 30 * time.Second
	}
	b := &Baresip{t: t, SIPPort: sipPort, RTPLo: rtpLo, Dir: dir, OutDir: out,
		cons: fmt.Sprintf("127.0.0.1:%d", consPort), done: make(chan struct{})}
	args := []string{"-f", dir, "-t", fmt.Sprint(int(quit.Seconds()))}
	if c.Dial != "" {
		args = append(args, "-e", "/dial "+c.Dial)
	}
	b.cmd = exec.Command(bin, args...)
	b.cmd.Stdout, b.cmd.Stderr = &b.out, &b.out
	if err := b.cmd.Start(); err != nil {
		t.Fatalf("start baresip: %v", err)
	}
	go func() { _ = b.cmd.Wait(); close(b.done) }()
	t.Cleanup(func() {
		_ = b.cmd.Process.Kill()
		<-b.done
		if t.Failed() {
			t.Logf("baresip output:\n%s", b.Output())
		}
	})
	return b
}

// Output is what baresip printed so far.
func (b *Baresip) Output() string { return b.out.String() }

// WaitOutput waits until baresip has printed s, or fails the test.
func (b *Baresip) WaitOutput(s string, timeout time.Duration) {
	b.t.Helper()
	b.out.wait(b.t, "baresip", s, timeout, b.done)
}

// Command sends a console command, e.g. "/sndcode 123#" or "/hangup".
func (b *Baresip) Command(cmd string) {
	b.t.Helper()
	conn, err := net.Dial("udp", b.cons)
	if err != nil {
		b.t.Fatalf("baresip console: %v", err)
	}
	defer conn.Close()
	if _, err := conn.Write([]byte(cmd + "\n")); err != nil {
		b.t.Fatalf("baresip console: %v", err)
	}
}

// Quit asks baresip to exit.
func (b *Baresip) Quit() { b.Command("/quit") }

// Wait waits for baresip to exit (the call over, or its -t limit).
func (b *Baresip) Wait(timeout time.Duration) {
	b.t.Helper()
	select {
	case <-b.done:
	case <-time.After(timeout):
		b.t.Fatalf("baresip still running after %s", timeout)
	}
}

// Heard returns the WAV of what baresip received and decoded.
func (b *Baresip) Heard() string {
	b.t.Helper()
	return b.dump("dec")
}

// Sent returns the WAV of what baresip encoded and sent.
func (b *Baresip) Sent() string {
	b.t.Helper()
	return b.dump("enc")
}

func (b *Baresip) dump(kind string) string {
	m, _ := filepath.Glob(filepath.Join(b.OutDir, "dump-*-"+kind+".wav"))
	if len(m) != 1 {
		b.t.Fatalf("baresip wrote %d %s dumps in %s, want 1", len(m), kind, b.OutDir)
	}
	return m[0]
}

// FreeUDPPort returns a UDP port on 127.0.0.1 that was free a moment ago.
func FreeUDPPort(t testing.TB) int {
	t.Helper()
	c, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	return c.LocalAddr().(*net.UDPAddr).Port
}

// FreeSIPPort returns a port free for both UDP and TCP on 127.0.0.1 a
// moment ago: SIP user agents listen on both.
func FreeSIPPort(t testing.TB) int {
	t.Helper()
	for range 50 {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		port := l.Addr().(*net.TCPAddr).Port
		c, err := net.ListenPacket("udp", fmt.Sprintf("127.0.0.1:%d", port))
		l.Close()
		if err == nil {
			c.Close()
			return port
		}
	}
	t.Fatal("no port free for both UDP and TCP on 127.0.0.1")
	return 0
}

// FreeUDPRange returns the first of n consecutive UDP ports on 127.0.0.1
// that were all free a moment ago.
func FreeUDPRange(t testing.TB, n int) int {
	t.Helper()
	for range 50 {
		lo := FreeUDPPort(t) &^ 1
		if lo+n > 65535 {
			continue
		}
		var held []net.PacketConn
		ok := true
		for p := lo; p < lo+n; p++ {
			c, err := net.ListenPacket("udp", fmt.Sprintf("127.0.0.1:%d", p))
			if err != nil {
				ok = false
				break
			}
			held = append(held, c)
		}
		for _, c := range held {
			c.Close()
		}
		if ok {
			return lo
		}
	}
	t.Fatalf("no %d free consecutive UDP ports on 127.0.0.1", n)
	return 0
}
