package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/sambung/sambung/internal/testenv"
	"github.com/sambung/sambung/store"
)

// telephone is a running `sambung serve` with SIP on free ports, and the
// store it writes, opened alongside it (SQLite in WAL mode allows that).
type telephone struct {
	*server
	dir  string
	sip  string // host:port of SIP over UDP
	st   store.Store
	args []string
}

var sipLine = regexp.MustCompile(`SIP/UDP sip:echo@(\S+) `)

func startTelephone(t *testing.T, extra ...string) *telephone {
	t.Helper()
	dir := t.TempDir()
	args := append(append([]string{"serve"}, freePorts...), "--data-dir", dir, "--log.format", "json")
	args = append(args, extra...)
	cmd := exec.Command(binary, args...)
	cmd.Env = cleanEnv()
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	s := start(t, cmd)
	m := sipLine.FindStringSubmatch(s.stdout.String())
	if m == nil {
		t.Fatalf("no SIP address printed:\n%s", s.stdout)
	}
	st, err := store.Open(context.Background(), store.Config{DataDir: dir}, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	return &telephone{server: s, dir: dir, sip: m[1], st: st, args: args}
}

// startLine starts the server with flow as the line "support" (a flows
// directory of its own), its log shown if the test fails.
func startLine(t *testing.T, flow string, extra ...string) *telephone {
	t.Helper()
	flows := t.TempDir()
	if err := os.WriteFile(filepath.Join(flows, "support.yaml"), []byte(flow), 0o644); err != nil {
		t.Fatal(err)
	}
	tp := startTelephone(t, append([]string{"--ivr.flows", flows}, extra...)...)
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("server log:\n%s", tp.stderr.String())
		}
	})
	return tp
}

// lastCall waits for a call to appear and returns its id.
func (tp *telephone) lastCall(t *testing.T) string {
	t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for time.Now().Before(deadline) {
		calls, err := tp.st.ListCalls(context.Background(), store.CallFilter{Limit: 1})
		if err == nil && len(calls) == 1 {
			return calls[0].ID
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Fatal("no call was stored")
	return ""
}

// waitEvent polls the call's timeline until match finds an event.
func (tp *telephone) waitEvent(t *testing.T, callID string, timeout time.Duration, match func(store.CallEvent) bool) store.CallEvent {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for time.Now().Before(deadline) {
		evs, err := tp.st.CallEvents(context.Background(), callID)
		if err != nil {
			t.Fatal(err)
		}
		for _, e := range evs {
			if match(e) {
				return e
			}
		}
		time.Sleep(50 * time.Millisecond)
	}
	evs, _ := tp.st.CallEvents(context.Background(), callID)
	t.Fatalf("event not on the timeline within %s; timeline:\n%s", timeout, timelineText(evs))
	return store.CallEvent{}
}

func kind(k string) func(store.CallEvent) bool {
	return func(e store.CallEvent) bool { return e.Kind == k }
}

func prompt(name string) func(store.CallEvent) bool {
	return func(e store.CallEvent) bool { return e.Kind == "prompt" && field(e, "prompt") == name }
}

func field(e store.CallEvent, key string) any {
	var m map[string]any
	_ = json.Unmarshal(e.Data, &m)
	return m[key]
}

func timelineText(evs []store.CallEvent) string {
	var b []byte
	for _, e := range evs {
		b = append(b, e.At.Format("15:04:05.000")+" "+e.Kind+" "+string(e.Data)+"\n"...)
	}
	return string(b)
}

// ivrEvent matches an IVR event whose field key holds a text containing want.
func ivrEvent(k, key, want string) func(store.CallEvent) bool {
	return func(e store.CallEvent) bool {
		v, _ := field(e, key).(string)
		return e.Kind == k && strings.Contains(v, want)
	}
}

// TestDemoFlowWithBaresip is the demo line end to end with a real SIP
// client. Ayu, a VIP in the demo CRM, calls with baresip while speaking an
// espeak-ng sentence: she hears the disclosure, presses 1 during the menu
// (barge-in), types her order number, hears its status read from the demo
// CRM (served by Sambung itself), rates the call 5 and is hung up on after
// goodbye. The timeline holds every step in order with its time, and the
// stereo recording has her speech on the left and the prompts on the right.
func TestDemoFlowWithBaresip(t *testing.T) {
	testenv.NeedPeers(t, "baresip, espeak-ng and sox")
	mic := testenv.Speech(t, "en", "I want to check my order", 90*time.Second)
	tp := startTelephone(t)
	b := testenv.StartBaresip(t, testenv.BaresipCall{Mic: mic, Dial: "sip:demo@" + tp.sip, User: "ayu", Quit: 120 * time.Second})
	b.WaitOutput("Call established", 15*time.Second)
	id := tp.lastCall(t)
	answered := tp.waitEvent(t, id, 5*time.Second, kind("call.answered"))

	menu := tp.waitEvent(t, id, 40*time.Second, ivrEvent("ivr.prompt", "text", "How can I help you today?"))
	time.Sleep(time.Until(menu.At.Add(2 * time.Second)))
	b.Command("/sndcode 1") // during the menu: it stops
	tp.waitEvent(t, id, 10*time.Second, kind("ivr.barge_in"))
	ask := tp.waitEvent(t, id, 20*time.Second, ivrEvent("ivr.prompt", "text", "Please enter your order number"))
	time.Sleep(time.Until(ask.At.Add(4 * time.Second)))
	b.Command("/sndcode 12345#")
	answer := tp.waitEvent(t, id, 30*time.Second, kind("ivr.answer"))
	if got := field(answer, "text"); got != "Order 12345 has shipped and should arrive in 2 days." {
		t.Errorf("the order status said %q", got)
	}
	survey := tp.waitEvent(t, id, 30*time.Second, ivrEvent("ivr.step", "step", "survey"))
	time.Sleep(time.Until(survey.At.Add(3 * time.Second)))
	b.Command("/sndcode 5")
	ended := tp.waitEvent(t, id, 40*time.Second, kind("call.ended"))
	b.WaitOutput("terminated", 10*time.Second)
	b.Quit()
	b.Wait(15 * time.Second)

	evs, err := tp.st.CallEvents(context.Background(), id)
	if err != nil {
		t.Fatal(err)
	}
	var steps, digits []string
	var last time.Time
	var crm, ivrEnded map[string]any
	for _, e := range evs {
		switch e.Kind {
		case "ivr.step":
			// Steps are written one after another, each with its time.
			if e.At.Before(last) || e.At.IsZero() {
				t.Errorf("step %v at %s, before the step ahead of it (%s)", field(e, "step"), e.At, last)
			}
			last = e.At
			steps = append(steps, field(e, "step").(string))
		case "dtmf":
			digits = append(digits, field(e, "digit").(string))
		case "ivr.lookup":
			if crm == nil {
				_ = json.Unmarshal(e.Data, &crm)
			}
		case "ivr.ended":
			_ = json.Unmarshal(e.Data, &ivrEnded)
		}
	}
	want := []string{"crm", "ask", "order_number", "order", "order_state", "shipped", "survey", "goodbye", "end"}
	if !slices.Equal(steps, want) {
		t.Errorf("steps %v, want %v\n%s", steps, want, timelineText(evs))
	}
	if !slices.Equal(digits, []string{"1", "1", "2", "3", "4", "5", "#", "5"}) {
		t.Errorf("digits %v", digits)
	}
	if crm["ok"] != true || !strings.HasSuffix(fmt.Sprint(crm["url"]), "/demo/crm/customers/ayu") {
		t.Errorf("the CRM lookup: %v", crm)
	}
	if ivrEnded["outcome"] != "hangup" {
		t.Errorf("the flow ended %v", ivrEnded)
	}
	if i := slices.IndexFunc(evs, kind("ivr.disclosure")); i < 0 || field(evs[i], "at") == nil || slices.IndexFunc(evs, kind("ivr.step")) < i {
		t.Errorf("the disclosure is not logged, with its time, before the first step\n%s", timelineText(evs))
	}
	if field(ended, "reason") != "completed" || field(ended, "server_hangup") != true {
		t.Errorf("call ended %s, want completed by the server after goodbye", ended.Data)
	}
	c, err := tp.st.CallByID(context.Background(), id)
	if err != nil || c.From != "ayu" || c.Outcome != "completed" || c.EndedAt.IsZero() {
		t.Errorf("call record: %+v %v", c, err)
	}

	// What Ayu heard: speech during the disclosure and during the answer.
	heard := testenv.ReadWAV(t, b.Heard())
	at := func(ts time.Time) time.Duration { return ts.Sub(answered.At) }
	if lvl := heard.DBFS(0, 500*time.Millisecond, 4*time.Second); lvl < -40 {
		t.Errorf("caller heard %.1f dBFS during the disclosure; want speech (> -40)", lvl)
	}
	if lvl := heard.DBFS(0, at(answer.At)+300*time.Millisecond, at(answer.At)+2500*time.Millisecond); lvl < -40 {
		t.Errorf("caller heard %.1f dBFS during the order status; want speech", lvl)
	}

	// The server's recording: caller on the left, prompts on the right.
	recs, err := tp.st.CallRecordings(context.Background(), id)
	if err != nil || len(recs) != 1 {
		t.Fatalf("recordings: %v %v", recs, err)
	}
	rec := testenv.ReadWAV(t, filepath.Join(tp.dir, "recordings", recs[0].Path))
	if len(rec.Channels) != 2 || rec.Rate != 8000 {
		t.Fatalf("recording has %d channels at %d Hz", len(rec.Channels), rec.Rate)
	}
	callLen := ended.At.Sub(answered.At)
	if d := rec.Duration(); d < callLen-time.Second || d > callLen+time.Second {
		t.Errorf("recording lasts %s, the call %s", d, callLen)
	}
	if lvl := rec.DBFS(0, 0, 2*time.Second); lvl < -40 {
		t.Errorf("left channel in the first 2 s: %.1f dBFS; want the caller's sentence", lvl)
	}
	if lvl := rec.DBFS(1, 500*time.Millisecond, 4*time.Second); lvl < -40 {
		t.Errorf("right channel during the disclosure: %.1f dBFS; want the prompt", lvl)
	}
	if err := tp.stop(t); err != nil {
		t.Errorf("exit after SIGTERM: %v", err)
	}
}

// TestKillDuringCall kills the server with SIGKILL in the middle of a call:
// the recording plays in sox up to the kill (within 1 s) without any repair,
// and the next start repairs the file and closes the call's record.
func TestKillDuringCall(t *testing.T) {
	testenv.NeedPeers(t, "baresip, espeak-ng and sox")
	sox := testenv.LookPath(t, "sox", "Debian package sox")
	mic := testenv.Speech(t, "en", "I would like to speak to someone about my bill", 30*time.Second)
	tp := startTelephone(t)
	id, started, killed := killMidCall(t, tp, mic)

	recs, err := tp.st.CallRecordings(context.Background(), id)
	if err != nil || len(recs) != 1 {
		t.Fatalf("recordings: %v %v", recs, err)
	}
	path := filepath.Join(tp.dir, "recordings", recs[0].Path)
	soxDur := soxSeconds(t, sox, path)
	want := killed.Sub(started.At).Seconds()
	if soxDur < want-1.0 || soxDur > want+0.2 {
		t.Errorf("sox reads %.2f s of recording; the call was recorded for %.2f s before the kill", soxDur, want)
	}
	if lvl := testenv.ReadWAV(t, path).DBFS(0, 0, 2*time.Second); lvl < -40 {
		t.Errorf("the caller's speech is not in the recording: %.1f dBFS", lvl)
	}
	if c, _ := tp.st.CallByID(context.Background(), id); !c.EndedAt.IsZero() {
		t.Fatalf("a killed server closed the call record: %+v", c)
	}

	// The next start on the same data closes the orphaned record.
	cmd := exec.Command(binary, tp.args...)
	cmd.Env = cleanEnv()
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	s2 := start(t, cmd)
	c, err := tp.st.CallByID(context.Background(), id)
	if err != nil || c.EndedAt.IsZero() || c.Outcome != "failed" || c.EndReason != "node_restart" {
		t.Errorf("after restart the call record is %+v (%v)", c, err)
	}
	// ... and stores the repaired recording's length.
	recs, _ = tp.st.CallRecordings(context.Background(), id)
	if len(recs) != 1 || recs[0].EndedAt.IsZero() || recs[0].Duration.Seconds() < soxDur-0.05 || recs[0].Bytes < 44 {
		t.Errorf("after restart the recording metadata is %+v; sox read %.2f s", recs, soxDur)
	}
	if err := s2.stop(t); err != nil {
		t.Errorf("exit: %v", err)
	}
}

// killMidCall has baresip call the echo line saying mic, and kills the
// server with SIGKILL 3.5 s into the call's recording. It returns the
// call, its recording.started event and when the server died.
func killMidCall(t *testing.T, tp *telephone, mic string) (string, store.CallEvent, time.Time) {
	t.Helper()
	b := testenv.StartBaresip(t, testenv.BaresipCall{Mic: mic, Dial: "sip:echo@" + tp.sip, Quit: 60 * time.Second})
	b.WaitOutput("Call established", 15*time.Second)
	id := tp.lastCall(t)
	started := tp.waitEvent(t, id, 5*time.Second, kind("recording.started"))
	time.Sleep(time.Until(started.At.Add(3500 * time.Millisecond)))
	if err := tp.cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	<-tp.exited
	killed := time.Now()
	b.Quit()
	return id, started, killed
}

// soxSeconds is how long sox reads the WAV at path to be, in seconds.
func soxSeconds(t *testing.T, sox, path string) float64 {
	t.Helper()
	out, err := exec.Command(sox, "--i", "-D", path).Output()
	if err != nil {
		t.Fatalf("sox cannot read %s: %v", path, err)
	}
	var d float64
	if _, err := fmt.Sscanf(string(out), "%g", &d); err != nil {
		t.Fatalf("sox duration %q: %v", out, err)
	}
	return d
}

// options sends a SIP OPTIONS over UDP and returns the status line.
func options(t *testing.T, addr string) string {
	t.Helper()
	conn, err := net.Dial("udp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	local := conn.LocalAddr().String()
	msg := "OPTIONS sip:" + addr + " SIP/2.0\r\n" +
		"Via: SIP/2.0/UDP " + local + ";branch=z9hG4bK-" + fmt.Sprint(time.Now().UnixNano()) + "\r\n" +
		"Max-Forwards: 70\r\nTo: <sip:" + addr + ">\r\nFrom: <sip:probe@" + local + ">;tag=probe\r\n" +
		"Call-ID: probe-" + fmt.Sprint(time.Now().UnixNano()) + "\r\nCSeq: 1 OPTIONS\r\nContent-Length: 0\r\n\r\n"
	if _, err := conn.Write([]byte(msg)); err != nil {
		t.Fatal(err)
	}
	_ = conn.SetReadDeadline(time.Now().Add(3 * time.Second))
	buf := make([]byte, 4096)
	n, err := conn.Read(buf)
	if err != nil {
		t.Fatalf("OPTIONS to %s: %v", addr, err)
	}
	line, _, _ := strings.Cut(string(buf[:n]), "\r\n")
	return line
}

// TestSIGTERMDrains: on SIGTERM the server refuses new work (OPTIONS and
// /readyz answer 503) while the call in progress goes on; when the caller
// hangs up, the server exits cleanly.
func TestSIGTERMDrains(t *testing.T) {
	testenv.NeedPeers(t, "baresip, espeak-ng and sox")
	mic := testenv.Speech(t, "en", "Hello, is anybody there", 30*time.Second)
	tp := startTelephone(t)
	if line := options(t, tp.sip); line != "SIP/2.0 200 OK" {
		t.Fatalf("OPTIONS before SIGTERM: %q", line)
	}
	b := testenv.StartBaresip(t, testenv.BaresipCall{Mic: mic, Dial: "sip:echo@" + tp.sip, Quit: 60 * time.Second})
	b.WaitOutput("Call established", 15*time.Second)
	id := tp.lastCall(t)
	tp.waitEvent(t, id, 10*time.Second, kind("echo.started"))

	if err := tp.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(5 * time.Second)
	line := options(t, tp.sip)
	for !strings.HasPrefix(line, "SIP/2.0 503") && time.Now().Before(deadline) {
		time.Sleep(50 * time.Millisecond)
		line = options(t, tp.sip)
	}
	if !strings.HasPrefix(line, "SIP/2.0 503") {
		t.Errorf("OPTIONS while draining: %q, want 503", line)
	}
	if code, _ := get(t, tp.url+"readyz"); code != 503 {
		t.Errorf("readyz while draining: %d", code)
	}
	select {
	case <-tp.exited:
		t.Fatalf("the server exited with a call in progress:\n%s", tp.stderr)
	case <-time.After(time.Second):
	}
	if c, _ := tp.st.CallByID(context.Background(), id); !c.EndedAt.IsZero() {
		t.Fatalf("the call in progress was ended by SIGTERM: %+v", c)
	}
	b.Command("/hangup")
	select {
	case <-tp.exited:
	case <-time.After(20 * time.Second):
		t.Fatalf("the server did not exit after its last call ended:\n%s", tp.stderr)
	}
	if tp.err != nil || !strings.Contains(tp.stderr.String(), "sambung stopped") {
		t.Errorf("exit: %v\n%s", tp.err, tp.stderr)
	}
	c, _ := tp.st.CallByID(context.Background(), id)
	if c.Outcome != "completed" || c.EndReason != "caller_bye" {
		t.Errorf("drained call ended %q/%q, want completed by the caller", c.Outcome, c.EndReason)
	}
}

// TestAnnouncementWithLinphone is a call through a second, independent SIP
// and RTP stack to the built-in announcement, which answers when no flow
// does (demo off, no ivr.flows): linphonec speaks, presses 1 2 #, and hears
// them back.
func TestAnnouncementWithLinphone(t *testing.T) {
	testenv.NeedPeers(t, "linphonec, espeak-ng and sox")
	mic := testenv.Speech(t, "en", "Where is my parcel", 30*time.Second)
	tp := startTelephone(t, "--demo=false")
	l := testenv.StartLinphone(t, mic)
	l.Send("call sip:demo@" + tp.sip)
	l.WaitOutput("connected", 15*time.Second)
	id := tp.lastCall(t)
	menu := tp.waitEvent(t, id, 30*time.Second, prompt("demo-menu"))
	time.Sleep(time.Until(menu.At.Add(time.Duration(field(menu, "duration_ms").(float64))*time.Millisecond + time.Second)))
	for _, d := range []string{"1", "2", "#"} {
		l.Send(d)
		time.Sleep(300 * time.Millisecond) // a person's pace between keys
	}
	ended := tp.waitEvent(t, id, 30*time.Second, kind("call.ended"))
	l.WaitOutput("ended", 10*time.Second)
	l.Quit()

	evs, _ := tp.st.CallEvents(context.Background(), id)
	var digits []string
	for _, e := range evs {
		if e.Kind == "dtmf" {
			digits = append(digits, field(e, "digit").(string))
		}
	}
	if !slices.Equal(digits, []string{"1", "2", "#"}) {
		t.Errorf("timeline digits %v, want 1 2 #\n%s", digits, timelineText(evs))
	}
	if d := field(ended, "reason"); d != "completed" {
		t.Errorf("call ended by %v, want the server after goodbye", d)
	}
	heard := testenv.ReadWAV(t, l.Heard)
	if lvl := heard.DBFS(0, 500*time.Millisecond, 5*time.Second); lvl < -40 {
		t.Errorf("linphonec heard %.1f dBFS during the disclosure", lvl)
	}
	recs, _ := tp.st.CallRecordings(context.Background(), id)
	if len(recs) != 1 {
		t.Fatalf("recordings: %v", recs)
	}
	rec := testenv.ReadWAV(t, filepath.Join(tp.dir, "recordings", recs[0].Path))
	if lvl := rec.DBFS(0, 0, 2*time.Second); lvl < -40 {
		t.Errorf("caller's channel: %.1f dBFS; want linphonec's sentence", lvl)
	}
}

// TestPhoneRegisters: a phone added with 'sambung phone add' registers with
// its password through a real client (sipsak; it speaks MD5 digest only, so
// the server offers MD5), the binding lands in the store, and a wrong
// password is refused.
func TestPhoneRegisters(t *testing.T) {
	sipsak := testenv.LookPath(t, "sipsak", "Debian package sipsak")
	tp := startTelephone(t, "--sip.digest_algorithms", "MD5")
	code, out, errOut := runCLI(t, "desk-secret-1\n", "phone", "add", "desk1", "--display-name", "Front desk", "--data-dir", tp.dir)
	if code != 0 {
		t.Fatalf("phone add: %d %s %s", code, out, errOut)
	}
	port := strings.TrimPrefix(tp.sip, "127.0.0.1:")
	register := func(pw string) (string, error) {
		local := fmt.Sprint(testenv.FreeSIPPort(t))
		ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
		defer cancel()
		b, err := exec.CommandContext(ctx, sipsak, "-vv", "-U", "-i", "-H", "127.0.0.1", "-l", local,
			"-C", "sip:desk1@127.0.0.1:"+local, "-x", "300", "-s", "sip:desk1@127.0.0.1:"+port,
			"-u", "desk1", "-a", pw).CombinedOutput()
		return string(b), err
	}
	if out, err := register("wrong-password"); err == nil || !strings.Contains(out, "403") {
		t.Errorf("a wrong password registered: %v\n%s", err, out)
	}
	if out, err := register("desk-secret-1"); err != nil {
		t.Fatalf("register: %v\n%s", err, out)
	}
	bs, err := tp.st.SIPBindings(context.Background(), "sip:desk1@sambung", time.Now())
	if err != nil || len(bs) != 1 || !strings.HasPrefix(bs[0].Contact, "sip:desk1@127.0.0.1:") || bs[0].Node == "" {
		t.Errorf("bindings in the store: %+v %v", bs, err)
	}
	// Nothing but the digest hashes is stored.
	acc, err := tp.st.SIPAccount(context.Background(), "desk1", "sambung")
	if err != nil || acc.HA1MD5 == "" || acc.HA1SHA256 == "" || strings.Contains(acc.HA1MD5+acc.HA1SHA256, "desk-secret-1") {
		t.Errorf("account: %+v %v", acc, err)
	}
}
