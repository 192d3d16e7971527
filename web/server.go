// Package web is Sambung's HTTP face: the JSON API under /api/v1, the
// WebSocket of live events, login sessions and roles, health and metrics,
// and the agent, supervisor, QA and admin pages (embedded static files).
//
// Who may use what is declared in one table (routes.go); every request
// passes the same checks in the same order (handle in routes.go) before a
// handler sees it.
package web

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"sync/atomic"
	"time"

	"github.com/sambung/sambung/audit"
	"github.com/sambung/sambung/recordings"
	"github.com/sambung/sambung/store"
)

// Config configures the web server. Zero values are usable.
type Config struct {
	// SessionTTL ends a session after this long without activity (default 12h).
	SessionTTL time.Duration
	// InsecureCookies drops the Secure cookie flag (plain HTTP off localhost).
	InsecureCookies bool
	// AllowedOrigins are extra origins trusted for state-changing requests
	// and the live-events WebSocket, e.g. "https://wallboard.example.com".
	AllowedOrigins []string
	// ShutdownTimeout bounds how long in-flight requests may finish (default 30s).
	ShutdownTimeout time.Duration
	// TLS, when set, serves HTTPS.
	TLS *tls.Config
	// Node and Version are reported by /api/v1/me and /healthz.
	Node    string
	Version string
	// DemoCRM, if set, serves /demo/crm/: the demo line's customers and
	// orders, for its lookups.
	DemoCRM http.Handler
}

func (c *Config) fillDefaults() {
	if c.SessionTTL == 0 {
		c.SessionTTL = 12 * time.Hour
	}
	if c.ShutdownTimeout == 0 {
		c.ShutdownTimeout = 30 * time.Second
	}
}

// Server serves Sambung's HTTP API, live events and pages.
type Server struct {
	cfg      Config
	store    store.Store
	audit    *audit.Log
	accounts Accounts
	log      *slog.Logger
	hub      *Hub
	metrics  *metrics
	xorigin  *http.CrossOriginProtection
	throttle throttle
	handler  http.Handler
	// webCalls takes the calls of /api/v1/webcall, set once before
	// Serve; nil turns them off.
	webCalls WebCaller
	// desk is the agent desk behind /api/v1/softphone, set once
	// before Serve (the desk is built after the web server).
	desk Softphone
	// supervision is the desk's side for supervisors, set once before
	// Serve like desk.
	supervision Supervision
	// recordings is where the recordings are kept, for playback; set once
	// before Serve.
	recordings recordings.Storage
	draining   atomic.Bool

	// now is the clock, replaceable in tests.
	now func() time.Time
}

// New returns a Server over st, auditing to al.
func New(cfg Config, st store.Store, al *audit.Log, log *slog.Logger) (*Server, error) {
	cfg.fillDefaults()
	s := &Server{
		cfg:      cfg,
		store:    st,
		audit:    al,
		accounts: Accounts{Store: st, Audit: al},
		log:      log,
		metrics:  newMetrics(),
		xorigin:  http.NewCrossOriginProtection(),
		now:      func() time.Time { return time.Now().UTC() },
	}
	for _, o := range cfg.AllowedOrigins {
		if err := s.xorigin.AddTrustedOrigin(o); err != nil {
			return nil, fmt.Errorf("web: allowed origin %q: %w", o, err)
		}
	}
	s.hub = newHub(log, s.metrics)
	s.throttle = throttle{audit: st, now: func() time.Time { return s.now() }}
	al.OnRecord = func(e store.AuditEvent) {
		s.hub.Publish(Event{Type: "audit", At: e.At, Data: auditJSON(e)}, store.RoleAdmin)
	}
	s.handler = s.buildHandler()
	return s, nil
}

// Handler returns the server's HTTP handler.
func (s *Server) Handler() http.Handler { return s.handler }

// Hub returns the live-events hub, for publishing.
func (s *Server) Hub() *Hub { return s.hub }

// SetSoftphone gives the server the agent desk that /api/v1/softphone
// carries messages to. Call it before Serve; without it the socket answers
// 503.
func (s *Server) SetSoftphone(sp Softphone) { s.desk = sp }

// Drain marks the server as draining: /readyz answers 503 so load balancers
// send no new work, while everything else keeps serving (agents' pages stay
// up for the calls still in progress). Serve's shutdown follows later.
func (s *Server) Drain() { s.draining.Store(true) }

// Serve serves on ln until ctx is cancelled, then drains: /readyz turns 503,
// no new connections are accepted, in-flight requests get ShutdownTimeout to
// finish, and live-event sockets are closed with "going away".
func (s *Server) Serve(ctx context.Context, ln net.Listener) error {
	if s.cfg.TLS != nil {
		ln = tls.NewListener(ln, s.cfg.TLS)
	}
	srv := &http.Server{
		Handler:           s.handler,
		ReadHeaderTimeout: 10 * time.Second,
		IdleTimeout:       2 * time.Minute,
		MaxHeaderBytes:    64 << 10,
		ErrorLog:          slog.NewLogLogger(s.log.Handler(), slog.LevelWarn),
		BaseContext:       func(net.Listener) context.Context { return context.WithoutCancel(ctx) },
	}
	srv.RegisterOnShutdown(s.hub.Close)
	sweepCtx, stopSweep := context.WithCancel(ctx)
	swept := make(chan struct{})
	go func() { defer close(swept); s.sweepSessionsEvery(sweepCtx, sessionSweepEvery) }()
	defer func() { stopSweep(); <-swept }()

	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	select {
	case err := <-errc:
		s.hub.Close()
		return fmt.Errorf("web: serve: %w", err)
	case <-ctx.Done():
	}
	s.draining.Store(true)
	s.log.Info("web: draining", "timeout", s.cfg.ShutdownTimeout.String())
	sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), s.cfg.ShutdownTimeout)
	defer cancel()
	err := srv.Shutdown(sctx)
	s.hub.Close() // RegisterOnShutdown runs it in a goroutine; make sure it is done
	if serr := <-errc; serr != nil && !errors.Is(serr, http.ErrServerClosed) {
		err = errors.Join(err, serr)
	}
	if err != nil {
		return fmt.Errorf("web: shutdown: %w", err)
	}
	return nil
}

// sessionSweepEvery is how often expired sessions are deleted. Expired
// sessions already fail to authenticate; the sweep only keeps the table small.
const sessionSweepEvery = 10 * time.Minute

func (s *Server) sweepSessionsEvery(ctx context.Context, every time.Duration) {
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		s.sweepSessions(ctx)
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// sweepSessions deletes expired sessions and says how many went.
func (s *Server) sweepSessions(ctx context.Context) int64 {
	n, err := s.store.DeleteExpiredSessions(ctx, s.now())
	if err != nil && ctx.Err() == nil {
		s.log.Warn("web: expired-session sweep failed", "err", err)
	}
	if n > 0 {
		s.log.Debug("web: expired sessions deleted", "count", n)
	}
	return n
}
