package web

import (
	"context"
	"net/http"
	"sync"
	"time"

	"github.com/gorilla/websocket"

	"github.com/sambung/sambung/store"
)

// Softphone is the agent desk behind /api/v1/softphone (calls.Desk): the
// server end of docs/softphone.md. The web layer only carries messages; the
// desk decides what they mean.
type Softphone interface {
	// Open starts a softphone session for u, or says why u cannot have one
	// (not an agent). The first message out is "hello".
	Open(ctx context.Context, u store.User) (SoftphoneSession, error)
}

// SoftphoneSession is one page's connection to the desk.
type SoftphoneSession interface {
	// Out carries the messages for the page, each one JSON object. It is
	// closed when the session ends on the desk's side.
	Out() <-chan []byte
	// Handle acts on one message from the page. Failures go back to the
	// page as "error" messages on Out.
	Handle(ctx context.Context, msg []byte)
	// Close ends the session (the page went away). It is idempotent.
	Close()
}

// softphoneReadLimit bounds one message from the page: an SDP offer with
// its candidates is a few kilobytes; wrap-up notes are capped by the desk.
const softphoneReadLimit = 64 << 10

// softphone serves the agent desk's socket: one reader handing the page's
// messages to the desk, one writer carrying the desk's messages and pings.
func (s *Server) softphone(w http.ResponseWriter, r *http.Request) {
	if s.desk == nil {
		writeError(w, http.StatusServiceUnavailable, "no_softphone", "This server takes no calls for agents.")
		return
	}
	p, _ := principalFrom(r.Context())
	ctx, cancel := context.WithCancel(context.WithoutCancel(r.Context()))
	sess, err := s.desk.Open(ctx, p.user)
	if err != nil {
		cancel()
		writeError(w, http.StatusForbidden, "not_an_agent", err.Error())
		return
	}
	conn, err := s.upgrader().Upgrade(w, r, nil)
	if err != nil {
		cancel()
		sess.Close()
		return // the upgrader has answered
	}
	stillValid := func() bool {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_, u, err := s.store.SessionUser(ctx, p.session.TokenHash, s.now())
		return err == nil && !u.Disabled
	}
	// The hub tracks the socket like a live-events page, so a logout or a
	// disabled user closes it, and Close waits for it.
	s.carry(ctx, cancel, conn, sess, p.user, p.session.TokenHash, stillValid, softphoneReadLimit)
}

// carry runs a socket that carries a session's messages (the softphone's,
// a web call's): one reader handing the page's messages to the session,
// one writer carrying the session's messages and pings. The hub tracks
// the socket, so Close waits for it; stillValid is asked at each ping.
func (s *Server) carry(ctx context.Context, cancel context.CancelFunc, conn *websocket.Conn, sess SoftphoneSession,
	user store.User, session []byte, stillValid func() bool, readLimit int64) {
	h := s.hub
	h.mu.Lock()
	if h.closed {
		h.mu.Unlock()
		cancel()
		sess.Close()
		_ = conn.WriteControl(websocket.CloseMessage, websocket.FormatCloseMessage(websocket.CloseGoingAway, "server shutting down"), time.Now().Add(time.Second))
		_ = conn.Close()
		return
	}
	c := &wsClient{conn: conn, user: user, session: session, send: make(chan []byte, sendBuffer), stop: make(chan struct{}), desk: true}
	h.clients[c] = struct{}{}
	h.wg.Add(3)
	h.mu.Unlock()
	h.metrics.wsClients.Inc()

	var once sync.Once
	end := func() {
		once.Do(func() {
			cancel()
			sess.Close()
		})
	}
	// The session's messages go through the client's send queue, so the
	// connection keeps one writer (live events skip these sockets).
	go func() {
		defer h.wg.Done()
		for {
			select {
			case msg, ok := <-sess.Out():
				if !ok {
					c.shut(websocket.CloseNormalClosure)
					return
				}
				select {
				case c.send <- msg:
				case <-c.stop:
					return
				}
			case <-c.stop:
				return
			}
		}
	}()
	go func() {
		defer h.wg.Done()
		defer end()
		defer c.shut(websocket.CloseNormalClosure)
		conn.SetReadLimit(readLimit)
		_ = conn.SetReadDeadline(time.Now().Add(readTimeout))
		conn.SetPongHandler(func(string) error { return conn.SetReadDeadline(time.Now().Add(readTimeout)) })
		for {
			_, msg, err := conn.ReadMessage()
			if err != nil {
				return
			}
			_ = conn.SetReadDeadline(time.Now().Add(readTimeout))
			sess.Handle(ctx, msg)
		}
	}()
	go func() {
		defer h.wg.Done()
		c.writeLoop(stillValid)
		end()
		h.mu.Lock()
		delete(h.clients, c)
		h.mu.Unlock()
		h.metrics.wsClients.Dec()
	}()
}
