package sip

import (
	"bytes"
	"context"
	"net"
	"net/netip"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/sambung/sambung/internal/testenv"
)

// Tests against real SIP stacks: SIPp (Debian package sip-tester) and
// sipsak. They are signalling only: the handlers answer with a made-up
// media address.

func sippPath(t *testing.T) string {
	return testenv.LookPath(t, "sipp", "Debian package sip-tester")
}

// freePort returns a port on 127.0.0.1 that was free a moment ago, for a
// peer that needs a port number rather than port 0.
func freePort(t *testing.T, network string) int {
	t.Helper()
	switch network {
	case "udp":
		c, err := net.ListenPacket("udp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		return c.LocalAddr().(*net.UDPAddr).Port
	default:
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		defer l.Close()
		return l.Addr().(*net.TCPAddr).Port
	}
}

// runSIPp runs sipp against the server over transport ("udp" or "tcp")
// with the built-in scenario or a file of testdata/sip/sipp, placing calls
// calls, and fails the test unless every call succeeded.
func runSIPp(t *testing.T, s *Server, transport, scenario string, calls int) {
	t.Helper()
	bin := sippPath(t)
	target, mode := s.Addrs().UDP[0], "u1"
	if transport == "tcp" {
		target, mode = s.Addrs().TCP[0], "t1"
	}
	errFile := filepath.Join(t.TempDir(), "errors.log")
	args := []string{
		target.String(),
		"-s", "echo",
		"-i", "127.0.0.1", "-bind_local", "-mi", "127.0.0.1",
		"-p", strconv.Itoa(freePort(t, transport)),
		"-mp", strconv.Itoa(freePort(t, "udp")),
		"-t", mode,
		"-m", strconv.Itoa(calls), "-r", "10", "-l", "10",
		"-nostdin", "-timeout", "30s", "-timeout_error",
		"-trace_err", "-error_file", errFile,
	}
	if filepath.Ext(scenario) == ".xml" {
		file, err := filepath.Abs(filepath.Join("..", "testdata", "sip", "sipp", scenario))
		if err != nil {
			t.Fatal(err)
		}
		args = append([]string{"-sf", file}, args...)
	} else {
		args = append([]string{"-sn", scenario}, args...)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 40*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, bin, args...)
	cmd.Dir = t.TempDir()
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	err := cmd.Run()
	if err != nil {
		errors, _ := readFile(errFile)
		t.Fatalf("sipp %s over %s: %v\n%s\nerrors:\n%s", scenario, transport, err, tail(out.String(), 3000), tail(errors, 3000))
	}
	if m := regexp.MustCompile(`Successful call\s*\|\s*\d+\s*\|\s*(\d+)`).FindStringSubmatch(out.String()); m == nil || m[1] != strconv.Itoa(calls) {
		t.Errorf("sipp reports %v successful calls, want %d\n%s", m, calls, tail(out.String(), 3000))
	}
}

func tail(s string, n int) string {
	if len(s) > n {
		return "..." + s[len(s)-n:]
	}
	return s
}

// callLog collects what handlers saw, for tests with many calls.
type callLog struct {
	mu      sync.Mutex
	reasons map[string]int
	errs    []error
	updates []string
}

func (l *callLog) add(reason string, err error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.reasons == nil {
		l.reasons = make(map[string]int)
	}
	l.reasons[reason]++
	if err != nil {
		l.errs = append(l.errs, err)
	}
}

func (l *callLog) count(reason string) int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.reasons[reason]
}

func answer(ctx context.Context, c *InboundCall) error {
	o := c.Offer()
	return c.Answer(ctx, MediaAnswer{Addr: netip.MustParseAddrPort("127.0.0.1:40000"), Codec: o.Codecs[0], DTMFPayloadType: o.DTMFPayloadType})
}

func TestSIPpCalls(t *testing.T) {
	sippPath(t)
	for _, transport := range []string{"udp", "tcp"} {
		t.Run(transport, func(t *testing.T) {
			var log callLog
			s := startServer(t, Config{}, func(ctx context.Context, c *InboundCall) {
				if c.To() != "echo" {
					c.Reject(404, "")
					return
				}
				c.Ring(ctx)
				if err := answer(ctx, c); err != nil {
					log.add("answer failed", err)
					return
				}
				<-c.Done()
				log.add(c.EndReason(), nil)
			})
			runSIPp(t, s, transport, "uac", 20)
			waitFor(t, 5*time.Second, "20 calls ended by the caller", func() bool {
				if log.count(EndCallerBye) == 20 {
					return true
				}
				log.mu.Lock()
				t.Logf("ends so far %v, errors %v", log.reasons, log.errs)
				log.mu.Unlock()
				return false
			})
			if s.ActiveCalls() != 0 || s.Stats().Calls != 20 {
				t.Errorf("ActiveCalls() = %d, Stats() = %+v", s.ActiveCalls(), s.Stats())
			}
		})
	}
}

func TestSIPpCancel(t *testing.T) {
	sippPath(t)
	var log callLog
	s := startServer(t, Config{}, func(ctx context.Context, c *InboundCall) {
		c.Ring(ctx)
		<-c.Done() // never answers
		log.add(c.EndReason(), nil)
	})
	runSIPp(t, s, "udp", "uac_cancel.xml", 5)
	waitFor(t, 5*time.Second, "5 calls cancelled", func() bool { return log.count(EndCallerCancel) == 5 })
}

func TestSIPpServerHangsUp(t *testing.T) {
	sippPath(t)
	for _, transport := range []string{"udp", "tcp"} {
		t.Run(transport, func(t *testing.T) {
			var log callLog
			s := startServer(t, Config{}, func(ctx context.Context, c *InboundCall) {
				if err := answer(ctx, c); err != nil {
					log.add("answer failed", err)
					return
				}
				err := c.Hangup(ctx)
				log.add(c.EndReason(), err)
			})
			runSIPp(t, s, transport, "uac_server_bye.xml", 5)
			waitFor(t, 5*time.Second, "5 calls hung up", func() bool { return log.count(EndServerBye) == 5 })
			if len(log.errs) > 0 {
				t.Errorf("Hangup errors: %v", log.errs)
			}
		})
	}
}

func TestSIPpHold(t *testing.T) {
	sippPath(t)
	var log callLog
	s := startServer(t, Config{}, func(ctx context.Context, c *InboundCall) {
		if err := answer(ctx, c); err != nil {
			log.add("answer failed", err)
			return
		}
		var dirs string
		for {
			select {
			case o := <-c.Updates():
				dirs += o.Direction + " "
			case <-c.Done():
				log.mu.Lock()
				log.updates = append(log.updates, dirs)
				log.mu.Unlock()
				log.add(c.EndReason(), nil)
				return
			}
		}
	})
	runSIPp(t, s, "udp", "uac_hold.xml", 3)
	waitFor(t, 5*time.Second, "3 calls ended", func() bool { return log.count(EndCallerBye) == 3 })
	for _, u := range log.updates {
		if u != "sendonly sendrecv " {
			t.Errorf("Updates delivered %q, want sendonly then sendrecv", u)
		}
	}
}

// TestSipsakOptions probes the server with sipsak's OPTIONS, as a load
// balancer would: 200 while serving, 503 once draining.
func TestSipsakOptions(t *testing.T) {
	bin := testenv.LookPath(t, "sipsak", "Debian package sipsak")
	s := startServer(t, Config{}, nil)
	probe := func() string {
		t.Helper()
		ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
		defer cancel()
		port := s.Addrs().UDP[0].Port()
		cmd := exec.CommandContext(ctx, bin, "-vv", "-H", "127.0.0.1", "-l", strconv.Itoa(freePort(t, "udp")),
			"-s", "sip:ping@127.0.0.1:"+strconv.Itoa(int(port)))
		out, _ := cmd.CombinedOutput() // exit status 1 for a non-2xx
		m := regexp.MustCompile(`SIP/2\.0 (\d{3})`).FindStringSubmatch(string(out))
		if m == nil {
			t.Fatalf("sipsak got no response:\n%s", out)
		}
		return m[1]
	}
	if got := probe(); got != "200" {
		t.Errorf("OPTIONS answered %s, want 200", got)
	}
	s.Drain()
	if got := probe(); got != "503" {
		t.Errorf("OPTIONS while draining answered %s, want 503", got)
	}
}
