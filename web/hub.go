package web

import (
	"bytes"
	"context"
	"encoding/json"
	"log/slog"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/gorilla/websocket"

	"github.com/sambung/sambung/store"
)

// Event is one live event pushed to pages over the WebSocket.
type Event struct {
	Type string    `json:"type"`
	At   time.Time `json:"at"`
	Data any       `json:"data,omitempty"`
}

// Live-event socket timing. A ping goes out every pingEvery; a client that
// has not answered anything for readTimeout is dropped. The session is
// checked again at every ping, so a disabled user or a logout elsewhere
// closes the socket within pingEvery.
const (
	pingEvery    = 30 * time.Second
	readTimeout  = 75 * time.Second
	writeTimeout = 10 * time.Second
	sendBuffer   = 64
)

// Hub fans live events out to connected pages.
type Hub struct {
	log     *slog.Logger
	metrics *metrics

	mu      sync.Mutex
	clients map[*wsClient]struct{}
	closed  bool
	wg      sync.WaitGroup
}

type wsClient struct {
	conn    *websocket.Conn
	user    store.User
	session []byte
	send    chan []byte
	stop    chan struct{}
	once    sync.Once
	// closeCode is sent in the close frame when stop is closed.
	closeCode int
	// desk marks an agent's softphone socket, which carries the desk's
	// messages only, not live events.
	desk bool
}

func newHub(log *slog.Logger, m *metrics) *Hub {
	return &Hub{log: log, metrics: m, clients: map[*wsClient]struct{}{}}
}

// Publish sends ev to every connected page whose user has one of roles (all
// pages when roles is empty). It never blocks: a page that cannot keep up
// loses the event, and the loss is counted.
func (h *Hub) Publish(ev Event, roles ...store.Role) {
	msg, err := json.Marshal(ev)
	if err != nil {
		h.log.Error("web: live event not encodable", "type", ev.Type, "err", err)
		return
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	for c := range h.clients {
		if c.desk || len(roles) > 0 && !slices.Contains(roles, c.user.Role) {
			continue
		}
		select {
		case c.send <- msg:
		default:
			h.metrics.wsDropped.Inc()
		}
	}
}

// disconnect closes the sockets that match.
func (h *Hub) disconnect(match func(*wsClient) bool) {
	h.mu.Lock()
	defer h.mu.Unlock()
	for c := range h.clients {
		if match(c) {
			c.shut(websocket.ClosePolicyViolation)
		}
	}
}

func (h *Hub) disconnectSession(tokenHash []byte) {
	h.disconnect(func(c *wsClient) bool { return bytes.Equal(c.session, tokenHash) })
}

// Close says "going away" to every socket and waits for their goroutines.
// It is idempotent.
func (h *Hub) Close() {
	h.mu.Lock()
	h.closed = true
	for c := range h.clients {
		c.shut(websocket.CloseGoingAway)
	}
	h.mu.Unlock()
	h.wg.Wait()
}

func (c *wsClient) shut(code int) {
	c.once.Do(func() {
		c.closeCode = code
		close(c.stop)
	})
}

// upgrader checks the Origin header: same host as the request, or one of the
// configured allowed origins. Browsers always send Origin on WebSockets, so a
// page on another site cannot ride the user's session cookie.
func (s *Server) upgrader() *websocket.Upgrader {
	return &websocket.Upgrader{
		HandshakeTimeout: 10 * time.Second,
		CheckOrigin: func(r *http.Request) bool {
			o := r.Header.Get("Origin")
			if o == "" {
				return true // not a browser; the session cookie still had to match
			}
			if slices.Contains(s.cfg.AllowedOrigins, o) {
				return true
			}
			u, err := url.Parse(o)
			return err == nil && strings.EqualFold(u.Host, r.Host)
		},
		Error: func(w http.ResponseWriter, r *http.Request, status int, reason error) {
			writeError(w, status, "websocket", "Live events: "+reason.Error())
		},
	}
}

func (s *Server) events(w http.ResponseWriter, r *http.Request) {
	p, _ := principalFrom(r.Context())
	conn, err := s.upgrader().Upgrade(w, r, nil)
	if err != nil {
		return // the upgrader has answered
	}
	c := &wsClient{conn: conn, user: p.user, session: p.session.TokenHash,
		send: make(chan []byte, sendBuffer), stop: make(chan struct{})}
	h := s.hub
	h.mu.Lock()
	if h.closed {
		h.mu.Unlock()
		_ = conn.WriteControl(websocket.CloseMessage, websocket.FormatCloseMessage(websocket.CloseGoingAway, "server shutting down"), time.Now().Add(time.Second))
		_ = conn.Close()
		return
	}
	h.clients[c] = struct{}{}
	h.wg.Add(2)
	h.mu.Unlock()
	h.metrics.wsClients.Inc()

	hello, _ := json.Marshal(Event{Type: "hello", At: s.now(), Data: map[string]any{"user": toUserJSON(p.user), "node": s.cfg.Node}})
	c.send <- hello

	stillValid := func() bool {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_, u, err := s.store.SessionUser(ctx, c.session, s.now())
		return err == nil && !u.Disabled
	}
	go func() { defer h.wg.Done(); c.readLoop() }()
	go func() {
		defer h.wg.Done()
		c.writeLoop(stillValid)
		h.mu.Lock()
		delete(h.clients, c)
		h.mu.Unlock()
		h.metrics.wsClients.Dec()
	}()
}

// readLoop reads (and ignores) client messages so pongs and close frames are
// processed; it ends the client when the connection fails.
func (c *wsClient) readLoop() {
	defer c.shut(websocket.CloseNormalClosure)
	c.conn.SetReadLimit(4096)
	_ = c.conn.SetReadDeadline(time.Now().Add(readTimeout))
	c.conn.SetPongHandler(func(string) error { return c.conn.SetReadDeadline(time.Now().Add(readTimeout)) })
	for {
		if _, _, err := c.conn.ReadMessage(); err != nil {
			return
		}
		_ = c.conn.SetReadDeadline(time.Now().Add(readTimeout))
	}
}

// writeLoop is the connection's only writer.
func (c *wsClient) writeLoop(stillValid func() bool) {
	ping := time.NewTicker(pingEvery)
	defer ping.Stop()
	defer c.conn.Close()
	for {
		select {
		case msg := <-c.send:
			_ = c.conn.SetWriteDeadline(time.Now().Add(writeTimeout))
			if err := c.conn.WriteMessage(websocket.TextMessage, msg); err != nil {
				c.shut(websocket.CloseAbnormalClosure)
				return
			}
		case <-ping.C:
			if !stillValid() {
				c.shut(websocket.ClosePolicyViolation)
				continue
			}
			if err := c.conn.WriteControl(websocket.PingMessage, nil, time.Now().Add(writeTimeout)); err != nil {
				c.shut(websocket.CloseAbnormalClosure)
				return
			}
		case <-c.stop:
			reason := map[int]string{websocket.CloseGoingAway: "server shutting down", websocket.ClosePolicyViolation: "session ended"}[c.closeCode]
			_ = c.conn.WriteControl(websocket.CloseMessage, websocket.FormatCloseMessage(c.closeCode, reason), time.Now().Add(time.Second))
			return
		}
	}
}
