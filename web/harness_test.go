package web

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/cookiejar"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/sambung/sambung/audit"
	"github.com/sambung/sambung/store"
)

// testPassword is every harness user's password.
const testPassword = "correct horse battery"

// harness is a real server (real SQLite store, real audit file) on a
// loopback port, with one user per role named after the role.
type harness struct {
	t         testing.TB
	srv       *Server
	st        store.Store
	url       string
	auditPath string
	cancel    context.CancelFunc
	done      chan error
	users     map[store.Role]store.User
	clock     *fakeClock

	stopOnce sync.Once
	stopErr  error
}

func newHarness(t testing.TB) *harness {
	t.Helper()
	return newHarnessWith(t, nil)
}

// newHarnessWith lets a test wrap the store (to slow it down or break it).
func newHarnessWith(t testing.TB, wrap func(store.Store) store.Store) *harness {
	t.Helper()
	dir := t.TempDir()
	ctx := context.Background()
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	if testing.Verbose() {
		log = slog.New(slog.NewTextHandler(testWriter{t}, nil))
	}
	st, err := store.Open(ctx, store.Config{DataDir: dir}, log)
	if err != nil {
		t.Fatal(err)
	}
	auditPath := filepath.Join(dir, "audit.log")
	al, err := audit.New(st, auditPath, log)
	if err != nil {
		t.Fatal(err)
	}
	h := &harness{t: t, st: st, auditPath: auditPath, users: map[store.Role]store.User{}}
	acc := Accounts{Store: st, Audit: al}
	for _, r := range store.Roles {
		u, err := acc.Add(ctx, Actor{Name: "test"}, string(r), "", r, testPassword)
		if err != nil {
			t.Fatal(err)
		}
		h.users[r] = u
	}
	served := st
	if wrap != nil {
		served = wrap(st)
	}
	h.srv, err = New(Config{Node: "test-node", Version: "test", ShutdownTimeout: 5 * time.Second}, served, al, log)
	if err != nil {
		t.Fatal(err)
	}
	h.clock = &fakeClock{now: time.Now().UTC()}
	h.srv.now = h.clock.Now
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	h.url = "http://" + ln.Addr().String()
	sctx, cancel := context.WithCancel(ctx)
	h.cancel, h.done = cancel, make(chan error, 1)
	go func() { h.done <- h.srv.Serve(sctx, ln) }()
	t.Cleanup(func() {
		h.stop()
		_ = al.Close()
		_ = st.Close()
	})
	return h
}

// stop shuts the server down (once) and returns Serve's error.
func (h *harness) stop() error {
	h.stopOnce.Do(func() {
		h.cancel()
		h.stopErr = <-h.done
	})
	return h.stopErr
}

// fakeClock is the server's clock in tests: it moves only when told, or
// follows the real clock after Real.
type fakeClock struct {
	mu   sync.Mutex
	now  time.Time
	real bool
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.real {
		return time.Now().UTC()
	}
	return c.now
}

// Real makes the clock follow real time from now on.
func (c *fakeClock) Real() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.real = true
}

func (c *fakeClock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

type testWriter struct{ t testing.TB }

func (w testWriter) Write(p []byte) (int, error) {
	w.t.Log(strings.TrimRight(string(p), "\n"))
	return len(p), nil
}

// client is a browser-like API client: a cookie jar, the CSRF token from
// sign-in, and a same-origin Origin header on unsafe requests.
type client struct {
	h    *harness
	http *http.Client
	csrf string
}

func (h *harness) anonymous() *client {
	jar, _ := cookiejar.New(nil)
	return &client{h: h, http: &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error {
		return http.ErrUseLastResponse
	}}}
}

// signIn returns a client signed in as the user of role r.
func (h *harness) signIn(r store.Role) *client {
	h.t.Helper()
	c := h.anonymous()
	resp, body := c.do("POST", "/api/v1/login", map[string]string{"name": string(r), "password": testPassword})
	if resp.StatusCode != http.StatusOK {
		h.t.Fatalf("sign in as %s: %d %s", r, resp.StatusCode, body)
	}
	var s sessionJSON
	if err := json.Unmarshal(body, &s); err != nil {
		h.t.Fatal(err)
	}
	c.csrf = s.CSRFToken
	return c
}

// do sends a request with an optional JSON body and returns the response
// and its body.
func (c *client) do(method, path string, body any, headers ...string) (*http.Response, []byte) {
	c.h.t.Helper()
	var rd io.Reader
	if body != nil {
		b, _ := json.Marshal(body)
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequest(method, c.h.url+path, rd)
	if err != nil {
		c.h.t.Fatal(err)
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if !isSafeMethod(method) {
		req.Header.Set("Origin", c.h.url)
		if c.csrf != "" {
			req.Header.Set("X-CSRF-Token", c.csrf)
		}
	}
	for i := 0; i+1 < len(headers); i += 2 {
		if headers[i+1] == "" {
			req.Header.Del(headers[i])
		} else {
			req.Header.Set(headers[i], headers[i+1])
		}
	}
	resp, err := c.http.Do(req)
	if err != nil {
		c.h.t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp, b
}

// errCode extracts error.code from an API error body.
func errCode(body []byte) string {
	var e struct {
		Error struct {
			Code string `json:"code"`
		} `json:"error"`
	}
	_ = json.Unmarshal(body, &e)
	return e.Error.Code
}
