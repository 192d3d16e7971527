package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/sambung/sambung/internal/testenv"
	"github.com/sambung/sambung/media"
	"github.com/sambung/sambung/media/webrtc"
)

// binary is the sambung binary built once for the tests that run it whole.
var binary string

func TestMain(m *testing.M) {
	// A test run again in its own network namespace (testenv.InNetns)
	// uses the binary its parent built.
	if b := os.Getenv("SAMBUNG_TEST_BINARY"); b != "" {
		binary = b
		os.Exit(m.Run())
	}
	dir, err := os.MkdirTemp("", "sambung-bin")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	binary = filepath.Join(dir, "sambung")
	if out, err := exec.Command("go", "build", "-o", binary, ".").CombinedOutput(); err != nil {
		fmt.Fprintf(os.Stderr, "build sambung: %v\n%s", err, out)
		os.Exit(1)
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// freePorts moves the demo's web and SIP listeners to free ports, so the
// tests cannot collide with anything else on the machine.
var freePorts = []string{"--listen", "127.0.0.1:0", "--sip.udp", "127.0.0.1:0", "--sip.tcp", "127.0.0.1:0"}

// cleanEnv is the environment without SAMBUNG_ variables, as on a machine
// that has never seen Sambung.
func cleanEnv() []string {
	var out []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "SAMBUNG_") {
			out = append(out, kv)
		}
	}
	return out
}

// server is a running `sambung serve` process.
type server struct {
	cmd    *exec.Cmd
	url    string
	logins map[string]string // name -> password, as printed
	stdout *testenv.Output
	stderr *testenv.Output
	exited chan struct{} // closed when the process has exited
	err    error         // its exit error, set before exited closes
}

var (
	upLine    = regexp.MustCompile(`is up: (http://\S+/)`)
	loginLine = regexp.MustCompile(`^\s+(agent|supervisor|qa|admin)\s+(\S+)\s+(\S+)$`)
)

// start runs cmd and waits for it to say it is up, collecting printed logins.
func start(t *testing.T, cmd *exec.Cmd) *server {
	t.Helper()
	s := &server{cmd: cmd, logins: map[string]string{}, stdout: &testenv.Output{}, stderr: &testenv.Output{}, exited: make(chan struct{})}
	pr, pw := io.Pipe()
	// The buffer first: when the pipe's reader sees a line, it is in the buffer.
	cmd.Stdout = io.MultiWriter(s.stdout, pw)
	cmd.Stderr = s.stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { s.err = cmd.Wait(); close(s.exited); pw.Close() }()
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		<-s.exited
	})
	found := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(pr)
		sent := false
		for sc.Scan() {
			if m := loginLine.FindStringSubmatch(sc.Text()); m != nil {
				s.logins[m[2]] = m[3]
			}
			if m := upLine.FindStringSubmatch(sc.Text()); m != nil && !sent {
				found <- m[1]
				sent = true
			}
		}
		_, _ = io.Copy(io.Discard, pr)
	}()
	select {
	case s.url = <-found:
	case <-s.exited:
		t.Fatalf("server exited before it was up: %v\nstdout:\n%s\nstderr:\n%s", s.err, s.stdout, s.stderr)
	case <-time.After(60 * time.Second):
		t.Fatalf("server not up after 60 s\nstdout:\n%s\nstderr:\n%s", s.stdout, s.stderr)
	}
	return s
}

// stop sends SIGTERM to the process group and returns the exit error.
func (s *server) stop(t *testing.T) error {
	t.Helper()
	_ = syscall.Kill(-s.cmd.Process.Pid, syscall.SIGTERM)
	select {
	case <-s.exited:
		return s.err
	case <-time.After(30 * time.Second):
		t.Fatalf("no exit 30 s after SIGTERM\nstderr:\n%s", s.stderr)
		return nil
	}
}

func get(t *testing.T, url string) (int, string) {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatalf("GET %s: %v", url, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

func signIn(t *testing.T, url, name, pw string) int {
	t.Helper()
	body, _ := json.Marshal(map[string]string{"name": name, "password": pw})
	resp, err := http.Post(url+"api/v1/login", "application/json", bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	return resp.StatusCode
}

// A bare start: no config, no environment, an empty directory. The demo
// comes up, prints one login per role once, and stops cleanly on SIGTERM.
func TestServeDemoOnABareStart(t *testing.T) {
	dir := t.TempDir()
	run := func() *server {
		cmd := exec.Command(binary, append([]string{"serve"}, freePorts...)...)
		cmd.Dir, cmd.Env = dir, cleanEnv()
		cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
		return start(t, cmd)
	}
	s := run()
	if code, body := get(t, s.url+"healthz"); code != 200 || !strings.Contains(body, `"status":"ok"`) {
		t.Errorf("healthz: %d %s", code, body)
	}
	if code, body := get(t, s.url+"readyz"); code != 200 {
		t.Errorf("readyz: %d %s", code, body)
	}
	if len(s.logins) != 4 {
		t.Fatalf("printed logins: %v\n%s", s.logins, s.stdout)
	}
	for name, pw := range s.logins {
		if code := signIn(t, s.url, name, pw); code != 200 {
			t.Errorf("demo login %s: %d", name, code)
		}
	}
	for _, f := range []string{"data/sambung.db", "data/audit.log"} {
		if _, err := os.Stat(filepath.Join(dir, f)); err != nil {
			t.Errorf("after a bare start: %v", err)
		}
	}
	if err := s.stop(t); err != nil {
		t.Errorf("exit after SIGTERM: %v\n%s", err, s.stderr)
	}
	if !strings.Contains(s.stderr.String(), "sambung stopped") {
		t.Errorf("no clean-stop line in the log:\n%s", s.stderr)
	}

	// Second start on the same data: the users persist, logins are not
	// printed again, and the old passwords still work.
	s2 := run()
	if len(s2.logins) != 0 {
		t.Errorf("logins printed twice: %v", s2.logins)
	}
	if code := signIn(t, s2.url, "admin", s.logins["admin"]); code != 200 {
		t.Errorf("admin after restart: %d", code)
	}
	if err := s2.stop(t); err != nil {
		t.Errorf("second exit: %v", err)
	}
}

// The README's first command, exactly as written there, with only the port
// moved so the test cannot collide with anything on the machine.
func TestMakeRun(t *testing.T) {
	testenv.NeedPeers(t, "make and a Go build")
	mk := testenv.LookPath(t, "make", "Debian package make")
	root, err := filepath.Abs("../..")
	if err != nil {
		t.Fatal(err)
	}
	readme, err := os.ReadFile(filepath.Join(root, "README.md"))
	if err != nil || !strings.Contains(string(readme), "make run") {
		t.Fatalf("README.md does not tell people to run make run: %v", err)
	}
	// make run builds first. A cold build (-trimpath recompiles every
	// dependency, SQLite among them) beside the rest of the suite can take
	// longer than start allows a server, so it is done, untimed, here; make
	// run below then finds it up to date.
	build := exec.Command(mk, "-C", root, "build")
	build.Env = cleanEnv()
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("make build: %v\n%s", err, out)
	}
	dir := t.TempDir()
	cmd := exec.Command(mk, "-C", root, "run", "ARGS="+strings.Join(freePorts, " ")+" --data-dir "+dir)
	cmd.Env = cleanEnv()
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	s := start(t, cmd)
	if code, _ := get(t, s.url+"healthz"); code != 200 {
		t.Errorf("healthz after make run: %d", code)
	}
	if len(s.logins) != 4 {
		t.Errorf("make run printed %d demo logins, want 4", len(s.logins))
	}
	_ = s.stop(t) // make reports the signal; the server's own exit is checked above
}

// runCLI runs a command in-process with the given stdin.
func runCLI(t *testing.T, stdin string, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	var out, errb bytes.Buffer
	e := &env{stdin: strings.NewReader(stdin), stdout: &out, stderr: &errb, environ: nil}
	code = e.run(context.Background(), args)
	return code, out.String(), errb.String()
}

func TestUserCommands(t *testing.T) {
	dd := "--data-dir=" + t.TempDir()
	steps := []struct {
		stdin      string
		args       []string
		code       int
		stdoutHas  string
		stderrHas  string
		stdoutLack string
	}{
		{"s3cret-pass\n", []string{"user", "add", "siti", "--role", "agent", "--display-name", "Siti Rahma", dd}, 0, "added siti (agent)", "", ""},
		{"", []string{"user", "list", dd}, 0, "Siti Rahma", "", ""},
		{"other-pass\n", []string{"user", "add", "siti", "--role", "qa", dd}, 1, "", `user "siti" already exists`, ""},
		{"x\n", []string{"user", "add", "budi", "--role", "agent", dd}, 1, "", "at least 8 characters", ""},
		{"", []string{"user", "add", "budi", "--role", "boss", dd}, 2, "", "--role must be", ""},
		{"", []string{"user", "disable", "siti", dd}, 0, "disabled siti", "", ""},
		{"", []string{"user", "list", dd}, 0, "disabled", "", "active"},
		{"", []string{"user", "enable", "ghost", dd}, 1, "", `user "ghost" does not exist`, ""},
		{"new-password-1\n", []string{"user", "passwd", "siti", dd}, 0, "password changed", "", ""},
		{"", []string{"user", "frobnicate", dd}, 2, "", "unknown action", ""},
	}
	for _, s := range steps {
		code, out, errOut := runCLI(t, s.stdin, s.args...)
		if code != s.code || !strings.Contains(out, s.stdoutHas) || !strings.Contains(errOut, s.stderrHas) ||
			(s.stdoutLack != "" && strings.Contains(out, s.stdoutLack)) {
			t.Errorf("%v: exit %d, want %d\nstdout: %s\nstderr: %s", s.args, code, s.code, out, errOut)
		}
	}
	// The CLI's changes are audited, with who made them and no password.
	raw, err := os.ReadFile(filepath.Join(strings.TrimPrefix(dd, "--data-dir="), "audit.log"))
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{`"action":"user.add"`, `"action":"user.disable"`, `"action":"user.password"`, `"actor":"cli`} {
		if !strings.Contains(string(raw), want) {
			t.Errorf("audit file lacks %s", want)
		}
	}
	for _, secret := range []string{"s3cret-pass", "new-password-1"} {
		if strings.Contains(string(raw), secret) {
			t.Errorf("audit file holds a password")
		}
	}
}

func TestBadConfigStopsStartup(t *testing.T) {
	code, _, errOut := runCLI(t, "", "serve", "--config", fixtures+"unknown-key.yaml")
	lines := strings.Split(strings.TrimSpace(errOut), "\n")
	if code != exitUsage || len(lines) != 1 || !strings.Contains(lines[0], "unknown-key.yaml:4:3:") {
		t.Errorf("exit %d, stderr %q: want exit 2 and one line with file:line:col", code, errOut)
	}
	code, _, errOut = runCLI(t, "", "serve", "--config", "/nonexistent/sambung.yaml")
	if code != exitUsage || !strings.Contains(errOut, "/nonexistent/sambung.yaml") {
		t.Errorf("missing file: exit %d %q", code, errOut)
	}
}

func TestHelp(t *testing.T) {
	code, out, _ := runCLI(t, "", "help")
	if code != 0 || !strings.Contains(out, "serve") || !strings.Contains(out, "user") || !strings.Contains(out, "SAMBUNG_WEB_LISTEN") {
		t.Errorf("help: %d %s", code, out)
	}
	code, _, errOut := runCLI(t, "", "help", "user")
	if code != 0 || !strings.Contains(errOut, "sambung user add NAME --role ROLE") {
		t.Errorf("help user: %d %s", code, errOut)
	}
	if code, _, errOut := runCLI(t, "", "srve"); code != exitUsage || !strings.Contains(errOut, `unknown command "srve"`) {
		t.Errorf("unknown command: %d %s", code, errOut)
	}
	code, out, _ = runCLI(t, "", "version")
	if code != 0 || !strings.HasPrefix(out, "sambung ") || !strings.Contains(out, "browser audio codecs: "+strings.Join(webrtc.Codecs(), ", ")) {
		t.Errorf("version: %d %s", code, out)
	}
	if media.OpusAvailable != strings.Contains(out, "codecs: opus") {
		t.Errorf("version says %q; this build has Opus: %v", out, media.OpusAvailable)
	}
}

// TestBrowserOnTheDemo signs in to the demo, as a new user would, in
// headless Chromium: each demo role with its printed password reaches its
// landing page with a live connection; a wrong password shows an error;
// ?next= and another role's page behave (see web/e2e/login.mjs).
func TestBrowserOnTheDemo(t *testing.T) {
	testenv.NeedPeers(t, "Chromium")
	cmd := exec.Command(binary, append([]string{"serve"}, freePorts...)...)
	cmd.Dir, cmd.Env = t.TempDir(), cleanEnv()
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	s := start(t, cmd)
	logins := map[string]map[string]string{}
	for name, pw := range s.logins {
		logins[name] = map[string]string{"name": name, "password": pw} // demo users are named after their roles
	}
	if len(logins) != 4 {
		t.Fatalf("demo printed %d logins, want 4", len(logins))
	}
	loginsJSON, _ := json.Marshal(logins)
	passed := testenv.BrowserScript(t, "../../web/e2e", "login.mjs", "demo-sign-in",
		"SAMBUNG_URL="+strings.TrimSuffix(s.url, "/"), "SAMBUNG_LOGINS="+string(loginsJSON))
	// Four roles with several checks each, the wrong password, ?next= and the
	// forbidden page: well over 20 checks when the script ran whole.
	if !t.Failed() && passed < 20 {
		t.Errorf("only %d browser checks ran; the script stopped early", passed)
	}
	if err := s.stop(t); err != nil {
		t.Errorf("exit after SIGTERM: %v", err)
	}
}
