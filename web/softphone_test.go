package web

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"github.com/sambung/sambung/store"
)

// echoDesk is a desk that greets, then answers each message with an echo:
// enough to see the socket carry both ways, for the right people.
type echoDesk struct {
	mu     sync.Mutex
	closed int
}

type echoSession struct {
	d    *echoDesk
	out  chan []byte
	once sync.Once
}

func (d *echoDesk) Open(_ context.Context, u store.User) (SoftphoneSession, error) {
	if u.Role != store.RoleAgent {
		return nil, errors.New("not an agent")
	}
	s := &echoSession{d: d, out: make(chan []byte, 8)}
	s.out <- []byte(`{"type":"hello","agent":"` + u.Name + `"}`)
	return s, nil
}

func (s *echoSession) Out() <-chan []byte { return s.out }
func (s *echoSession) Handle(_ context.Context, msg []byte) {
	s.out <- append([]byte(`{"type":"echo","got":`), append(msg, '}')...)
}
func (s *echoSession) Close() {
	s.once.Do(func() {
		s.d.mu.Lock()
		s.d.closed++
		s.d.mu.Unlock()
		close(s.out)
	})
}

func (c *client) dialSoftphone() (*websocket.Conn, *http.Response, error) {
	u, _ := http.NewRequest("GET", c.h.url, nil)
	hdr := http.Header{"Origin": {c.h.url}}
	for _, ck := range c.http.Jar.Cookies(u.URL) {
		hdr.Add("Cookie", ck.Name+"="+ck.Value)
	}
	d := websocket.Dialer{HandshakeTimeout: 5 * time.Second}
	return d.Dial("ws"+strings.TrimPrefix(c.h.url, "http")+"/api/v1/softphone", hdr)
}

// TestSoftphoneSocketCarriesTheDesk: an agent's socket gets the desk's
// hello and its answers, never the live events of other pages; roles
// without calls are refused; closing the socket closes the session.
func TestSoftphoneSocketCarriesTheDesk(t *testing.T) {
	h := newHarness(t)
	if _, resp, err := h.signIn(store.RoleAgent).dialSoftphone(); err == nil || resp.StatusCode != http.StatusServiceUnavailable {
		t.Errorf("without a desk: %v %v, want 503", err, resp)
	}
	d := &echoDesk{}
	h.srv.SetSoftphone(d)
	if _, resp, err := h.signIn(store.RoleQA).dialSoftphone(); err == nil || resp.StatusCode != http.StatusForbidden {
		t.Errorf("QA: %v %v, want 403", err, resp)
	}
	if _, resp, err := h.signIn(store.RoleSupervisor).dialSoftphone(); err == nil || resp.StatusCode != http.StatusForbidden {
		t.Errorf("a supervisor the desk refuses: %v %v, want 403", err, resp)
	}
	conn, _, err := h.signIn(store.RoleAgent).dialSoftphone()
	if err != nil {
		t.Fatal(err)
	}
	read := func() string {
		t.Helper()
		_ = conn.SetReadDeadline(time.Now().Add(5 * time.Second))
		_, msg, err := conn.ReadMessage()
		if err != nil {
			t.Fatalf("read: %v", err)
		}
		return string(msg)
	}
	if got := read(); got != `{"type":"hello","agent":"agent"}` {
		t.Errorf("first message %s", got)
	}
	// A live event for every page is not for the softphone.
	h.srv.Hub().Publish(Event{Type: "call.event", At: time.Now()})
	if err := conn.WriteMessage(websocket.TextMessage, []byte(`{"type":"state","state":"available"}`)); err != nil {
		t.Fatal(err)
	}
	if got := read(); got != `{"type":"echo","got":{"type":"state","state":"available"}}` {
		t.Errorf("answer %s", got)
	}
	conn.Close()
	deadline := time.Now().Add(5 * time.Second)
	for time.Now().Before(deadline) {
		d.mu.Lock()
		n := d.closed
		d.mu.Unlock()
		if n == 1 {
			return
		}
		time.Sleep(10 * time.Millisecond)
	}
	t.Error("the desk session was not closed with the socket")
}
