package web

import (
	"context"
	"encoding/json"
	"errors"
	"net"
	"net/http"
	"net/http/httptest"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"github.com/sambung/sambung/store"
)

// dialLive opens the live-events socket as c, with the given Origin.
func (c *client) dialLive(origin string) (*websocket.Conn, *http.Response, error) {
	u, _ := http.NewRequest("GET", c.h.url, nil)
	hdr := http.Header{}
	for _, ck := range c.http.Jar.Cookies(u.URL) {
		hdr.Add("Cookie", ck.Name+"="+ck.Value)
	}
	if origin != "" {
		hdr.Set("Origin", origin)
	}
	d := websocket.Dialer{HandshakeTimeout: 5 * time.Second}
	return d.Dial("ws"+strings.TrimPrefix(c.h.url, "http")+"/api/v1/events", hdr)
}

// next reads the next event, failing the test after 5 s.
func next(t *testing.T, conn *websocket.Conn) Event {
	t.Helper()
	_ = conn.SetReadDeadline(time.Now().Add(5 * time.Second))
	var ev struct {
		Event
		Data json.RawMessage `json:"data"`
	}
	if err := conn.ReadJSON(&ev); err != nil {
		t.Fatalf("read live event: %v", err)
	}
	ev.Event.Data = ev.Data
	return ev.Event
}

func TestLiveEventsNeedASessionAndTheSameOrigin(t *testing.T) {
	h := newHarness(t)
	if _, resp, err := h.anonymous().dialLive(h.url); err == nil || resp == nil || resp.StatusCode != http.StatusUnauthorized {
		t.Errorf("anonymous socket: err=%v resp=%v, want 401", err, resp)
	}
	agentC := h.signIn(store.RoleAgent)
	if _, resp, err := agentC.dialLive("http://evil.example"); err == nil || resp == nil || resp.StatusCode != http.StatusForbidden {
		t.Errorf("cross-origin socket: err=%v resp=%v, want 403", err, resp)
	}
	conn, _, err := agentC.dialLive(h.url)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	hello := next(t, conn)
	if hello.Type != "hello" || !strings.Contains(string(hello.Data.(json.RawMessage)), `"name":"agent"`) {
		t.Errorf("first event: %+v", hello)
	}
}

func TestLiveEventsGoToTheRightRoles(t *testing.T) {
	h := newHarness(t)
	adminConn, _, err := h.signIn(store.RoleAdmin).dialLive(h.url)
	if err != nil {
		t.Fatal(err)
	}
	defer adminConn.Close()
	agentConn, _, err := h.signIn(store.RoleAgent).dialLive(h.url)
	if err != nil {
		t.Fatal(err)
	}
	defer agentConn.Close()
	next(t, adminConn) // hello
	next(t, agentConn) // hello

	// A sign-in is audited, and audit events go to admins only.
	h.signIn(store.RoleQA)
	h.srv.Hub().Publish(Event{Type: "marker", At: time.Now()})

	ev := next(t, adminConn)
	if ev.Type != "audit" || !strings.Contains(string(ev.Data.(json.RawMessage)), `"action":"login.success"`) {
		t.Errorf("admin's next event: %+v", ev)
	}
	if ev := next(t, agentConn); ev.Type != "marker" {
		t.Errorf("agent got %q before the marker: audit events leak to agents", ev.Type)
	}
}

func TestLiveSocketClosesOnLogoutAndShutdown(t *testing.T) {
	h := newHarness(t)
	c := h.signIn(store.RoleSupervisor)
	conn, _, err := c.dialLive(h.url)
	if err != nil {
		t.Fatal(err)
	}
	next(t, conn)
	c.do("POST", "/api/v1/logout", nil)
	_ = conn.SetReadDeadline(time.Now().Add(5 * time.Second))
	_, _, err = conn.ReadMessage()
	if !websocket.IsCloseError(err, websocket.ClosePolicyViolation) {
		t.Errorf("after logout: %v, want close 1008", err)
	}

	conn2, _, err := h.signIn(store.RoleQA).dialLive(h.url)
	if err != nil {
		t.Fatal(err)
	}
	next(t, conn2)
	if err := h.stop(); err != nil {
		t.Fatalf("shutdown: %v", err)
	}
	_ = conn2.SetReadDeadline(time.Now().Add(5 * time.Second))
	_, _, err = conn2.ReadMessage()
	if !websocket.IsCloseError(err, websocket.CloseGoingAway) {
		t.Errorf("after shutdown: %v, want close 1001", err)
	}
}

func TestLiveSocketGoroutinesEnd(t *testing.T) {
	h := newHarness(t)
	before := runtime.NumGoroutine()
	c := h.signIn(store.RoleAgent)
	for range 5 {
		conn, _, err := c.dialLive(h.url)
		if err != nil {
			t.Fatal(err)
		}
		next(t, conn)
		conn.Close()
	}
	if err := h.stop(); err != nil {
		t.Fatal(err)
	}
	c.http.CloseIdleConnections()
	// Goroutines exit asynchronously after their sockets close; wait for the
	// count to settle rather than for a fixed time.
	deadline := time.Now().Add(5 * time.Second)
	for runtime.NumGoroutine() > before && time.Now().Before(deadline) {
		runtime.Gosched()
	}
	if n := runtime.NumGoroutine(); n > before {
		buf := make([]byte, 1<<16)
		t.Errorf("goroutines: %d before, %d after shutdown\n%s", before, n, buf[:runtime.Stack(buf, true)])
	}
}

// slowStore blocks UserByName until released, to hold a request in flight.
type slowStore struct {
	store.Store
	entered chan struct{}
	release chan struct{}
	once    sync.Once
}

func (s *slowStore) UserByName(ctx context.Context, name string) (store.User, error) {
	s.once.Do(func() {
		close(s.entered)
		<-s.release
	})
	return s.Store.UserByName(ctx, name)
}

func TestShutdownFinishesInFlightRequests(t *testing.T) {
	slow := &slowStore{entered: make(chan struct{}), release: make(chan struct{})}
	h := newHarnessWith(t, func(st store.Store) store.Store { slow.Store = st; return slow })
	type result struct {
		code int
		err  error
	}
	res := make(chan result, 1)
	go func() {
		req, _ := http.NewRequest("POST", h.url+"/api/v1/login", strings.NewReader(`{"name":"agent","password":"`+testPassword+`"}`))
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			res <- result{err: err}
			return
		}
		resp.Body.Close()
		res <- result{code: resp.StatusCode}
	}()
	<-slow.entered // the sign-in is in flight
	h.cancel()     // SIGTERM

	// Draining: readiness fails at once, while the request is still held.
	deadline := time.Now().Add(5 * time.Second)
	for !h.srv.draining.Load() && time.Now().Before(deadline) {
		runtime.Gosched()
	}
	rec := httptest.NewRecorder()
	h.srv.Handler().ServeHTTP(rec, httptest.NewRequest("GET", "/readyz", nil))
	if rec.Code != http.StatusServiceUnavailable || !strings.Contains(rec.Body.String(), "draining") {
		t.Errorf("readyz while draining: %d %s", rec.Code, rec.Body)
	}
	select {
	case err := <-h.done:
		t.Fatalf("Serve returned with a request in flight: %v", err)
	default:
	}
	close(slow.release)
	if r := <-res; r.err != nil || r.code != http.StatusOK {
		t.Fatalf("in-flight sign-in: %+v, want 200", r)
	}
	if err := h.stop(); err != nil {
		t.Fatalf("Serve: %v", err)
	}
	// No longer accepting.
	if conn, err := net.DialTimeout("tcp", strings.TrimPrefix(h.url, "http://"), time.Second); err == nil {
		conn.Close()
		t.Error("still accepting connections after shutdown")
	}
}

// brokenStore fails Ping and panics on ListUsers.
type brokenStore struct{ store.Store }

func (brokenStore) Ping(context.Context) error { return errors.New("connection refused") }
func (brokenStore) ListUsers(context.Context) ([]store.User, error) {
	panic("bug in ListUsers")
}

func TestHealthReadinessAndPanics(t *testing.T) {
	h := newHarnessWith(t, func(st store.Store) store.Store { return brokenStore{st} })
	c := h.signIn(store.RoleAdmin)
	if resp, b := c.do("GET", "/healthz", nil); resp.StatusCode != http.StatusOK || !strings.Contains(string(b), `"status":"ok"`) {
		t.Errorf("healthz: %d %s", resp.StatusCode, b)
	}
	if resp, b := c.do("GET", "/readyz", nil); resp.StatusCode != http.StatusServiceUnavailable || !strings.Contains(string(b), "database unreachable") {
		t.Errorf("readyz with a dead database: %d %s", resp.StatusCode, b)
	}
	resp, b := c.do("GET", "/api/v1/users", nil)
	if resp.StatusCode != http.StatusInternalServerError || errCode(b) != "internal" {
		t.Errorf("panicking handler: %d %s", resp.StatusCode, b)
	}
	// The server carries on.
	if resp, _ := c.do("GET", "/api/v1/me", nil); resp.StatusCode != http.StatusOK {
		t.Errorf("after a panic: %d", resp.StatusCode)
	}
	_, metrics := c.do("GET", "/metrics", nil)
	for _, want := range []string{
		`sambung_http_requests_total{code="500",route="GET /api/v1/users"} 1`,
		`sambung_logins_total{outcome="success"} 1`,
		`sambung_http_requests_total{code="503",route="GET /readyz"} 1`,
	} {
		if !strings.Contains(string(metrics), want) {
			t.Errorf("metrics lack %s", want)
		}
	}
}

func TestPagesAndRedirects(t *testing.T) {
	h := newHarness(t)
	anon := h.anonymous()
	cases := []struct {
		c        *client
		path     string
		code     int
		location string
		body     string
	}{
		{anon, "/", http.StatusSeeOther, "/login", ""},
		{anon, "/login", http.StatusOK, "", "<form"},
		{anon, "/admin/", http.StatusSeeOther, "/login?next=%2Fadmin%2F", ""},
		{h.signIn(store.RoleQA), "/", http.StatusSeeOther, "/qa/", ""},
		{h.signIn(store.RoleAgent), "/admin/", http.StatusForbidden, "", "does not allow"},
		{h.signIn(store.RoleAgent), "/agent/", http.StatusOK, "", "Agent desk"},
		{anon, "/static/app.css", http.StatusOK, "", ""},
		{anon, "/api/v1/nothing", http.StatusNotFound, "", "No such API route"},
	}
	for _, cs := range cases {
		resp, b := cs.c.do("GET", cs.path, nil)
		if resp.StatusCode != cs.code || resp.Header.Get("Location") != cs.location || !strings.Contains(string(b), cs.body) {
			t.Errorf("GET %s: %d Location=%q, want %d %q containing %q", cs.path, resp.StatusCode, resp.Header.Get("Location"), cs.code, cs.location, cs.body)
		}
		if csp := resp.Header.Get("Content-Security-Policy"); !strings.Contains(csp, "default-src 'self'") {
			t.Errorf("GET %s: no CSP", cs.path)
		}
	}
}
