package web

import (
	"io"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gorilla/websocket"
)

// echoCalls is a web caller's desk that greets with the client address it
// was given and echoes each message.
type echoCalls struct {
	d       *echoDesk
	mu      sync.Mutex
	clients []string
}

func (e *echoCalls) Open(client string) SoftphoneSession {
	e.mu.Lock()
	e.clients = append(e.clients, client)
	e.mu.Unlock()
	s := &echoSession{d: e.d, out: make(chan []byte, 8)}
	s.out <- []byte(`{"type":"hello","client":"` + client + `"}`)
	return s
}

func dialWebCall(url, origin string) (*websocket.Conn, *http.Response, error) {
	d := websocket.Dialer{HandshakeTimeout: 5 * time.Second}
	return d.Dial("ws"+strings.TrimPrefix(url, "http")+"/api/v1/webcall", http.Header{"Origin": {origin}})
}

// TestWebCallSocket: the web call socket needs no sign-in, carries the
// session both ways with the client's address, refuses other sites'
// pages, and closing it closes the session (the call). Without web calls
// it is a 404.
func TestWebCallSocket(t *testing.T) {
	h := newHarness(t)
	if _, resp, err := dialWebCall(h.url, h.url); err == nil || resp.StatusCode != http.StatusNotFound {
		t.Errorf("without web calls: %v %v, want 404", err, resp)
	}
	calls := &echoCalls{d: &echoDesk{}}
	h.srv.SetWebCalls(calls)
	if _, resp, err := dialWebCall(h.url, "https://evil.example"); err == nil || resp.StatusCode != http.StatusForbidden {
		t.Errorf("from another site's page: %v %v, want 403", err, resp)
	}
	conn, _, err := dialWebCall(h.url, h.url)
	if err != nil {
		t.Fatal(err)
	}
	var hello map[string]any
	if err := conn.ReadJSON(&hello); err != nil || hello["type"] != "hello" || hello["client"] != "127.0.0.1" {
		t.Errorf("hello %v %v", hello, err)
	}
	if err := conn.WriteMessage(websocket.TextMessage, []byte(`{"type":"hangup"}`)); err != nil {
		t.Fatal(err)
	}
	var echo map[string]any
	if err := conn.ReadJSON(&echo); err != nil || echo["type"] != "echo" {
		t.Errorf("echo %v %v", echo, err)
	}
	conn.Close()
	deadline := time.Now().Add(5 * time.Second)
	for {
		calls.d.mu.Lock()
		n := calls.d.closed
		calls.d.mu.Unlock()
		if n == 1 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the session was closed %d times after the socket closed, want 1", n)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// TestWidgetScript: /widget.js is public JavaScript that any site may
// load, and the click-to-call page is public.
func TestWidgetScript(t *testing.T) {
	h := newHarness(t)
	resp, err := http.Get(h.url + "/widget.js")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/javascript") ||
		resp.Header.Get("Cross-Origin-Resource-Policy") != "cross-origin" || !strings.Contains(string(body), "/call/") {
		t.Errorf("widget.js: %d %v %.80q", resp.StatusCode, resp.Header, body)
	}
	resp, err = http.Get(h.url + "/call/")
	if err != nil {
		t.Fatal(err)
	}
	body, _ = io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || !strings.Contains(string(body), "/static/js/pages/call.js") {
		t.Errorf("the click-to-call page: %d %.200q", resp.StatusCode, body)
	}
}
