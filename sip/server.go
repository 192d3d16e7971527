// Package sip owns SIP on emiago/sipgo: the listeners (UDP, TCP, TLS), the
// validation every request passes before a handler sees it, and inbound
// calls: an INVITE becomes an InboundCall that the OnInvite handler rings,
// answers with a MediaAnswer, and hangs up. It may import media only.
//
// sipgo stays inside this package (imported as sipgo and sipmsg, since its
// message package is also called sip): callers see Config, Server,
// InboundCall, MediaOffer and MediaAnswer.
//
// With Config.Registrar enabled it is also a registrar (RFC 3261 §10.3)
// with digest authentication (RFC 7616: SHA-256 and MD5, expiring
// single-use nonces) against accounts the caller provides.
//
// Server.Dial places outbound calls (outbound.go): an INVITE with our
// offer, CANCEL on timeout, and once answered an OutboundCall on the same
// dialog machinery as inbound calls.
//
// Not here yet: WebSocket listeners.
package sip

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/netip"
	"runtime/debug"
	"sync"
	"sync/atomic"
	"time"

	"github.com/emiago/sipgo"
	sipmsg "github.com/emiago/sipgo/sip"
)

// Config configures a Server. The zero value listens on UDP and TCP port
// 5060 on all addresses with the defaults below.
type Config struct {
	// UDP, TCP and TLS are listen addresses, host:port. Port 0 picks a free
	// port (see Server.Addrs). With none of the three set, UDP and TCP
	// listen on 0.0.0.0:5060.
	UDP, TCP []string
	TLS      []string
	// TLSCert and TLSKey are PEM files, required when TLS is set.
	TLSCert, TLSKey string
	// MaxMessageSize is the largest SIP message accepted, in bytes
	// (default 32 KiB, also the most sipgo reads from one datagram).
	// Larger ones are refused: 513 over UDP when they can be answered, the
	// connection closed over TCP.
	MaxMessageSize int
	// TCPReadTimeout closes a TCP or TLS connection that sends nothing for
	// this long (default 2 minutes), so half-sent messages cannot hold it.
	TCPReadTimeout time.Duration
	// MaxConnsPerIP caps the TCP and TLS connections from one address
	// (default 32; negative: no cap).
	MaxConnsPerIP int
	// MaxCalls caps the calls in progress; INVITEs over it are answered 503
	// (default 1000; negative: no cap).
	MaxCalls int
	// MaxCallDuration ends a call's context after this long (default 4
	// hours), so a forgotten call cannot run forever.
	MaxCallDuration time.Duration
	// UserAgent names the server in Server and User-Agent header fields
	// (default "Sambung").
	UserAgent string
	// MediaIP is the address put in SDP answers, when the RTP sockets are
	// bound to an address the caller cannot reach (0.0.0.0, or behind NAT).
	// The zero value (or 0.0.0.0) uses the MediaAnswer's own address, or,
	// when that is unspecified too, the local address the INVITE came in
	// on. It is also the host of our Contact when a listener is bound to
	// all addresses.
	MediaIP netip.Addr
	// Realm is our SIP domain: the realm of digest challenges and the host
	// of registered addresses-of-record. Required by the registrar.
	Realm string
	// Registrar configures the REGISTER service (off by default).
	Registrar RegistrarConfig
}

// Defaults, filled in by withDefaults and nowhere else.
const (
	defaultPort            = "5060"
	defaultMaxMessageSize  = 32 << 10
	defaultTCPReadTimeout  = 2 * time.Minute
	defaultMaxConnsPerIP   = 32
	defaultMaxCalls        = 1000
	defaultMaxCallDuration = 4 * time.Hour
	defaultUserAgent       = "Sambung"
)

func (c Config) withDefaults() Config {
	if len(c.UDP) == 0 && len(c.TCP) == 0 && len(c.TLS) == 0 {
		c.UDP = []string{"0.0.0.0:" + defaultPort}
		c.TCP = []string{"0.0.0.0:" + defaultPort}
	}
	if c.MaxMessageSize <= 0 {
		c.MaxMessageSize = defaultMaxMessageSize
	}
	if c.TCPReadTimeout <= 0 {
		c.TCPReadTimeout = defaultTCPReadTimeout
	}
	if c.MaxConnsPerIP == 0 {
		c.MaxConnsPerIP = defaultMaxConnsPerIP
	}
	if c.MaxCalls == 0 {
		c.MaxCalls = defaultMaxCalls
	}
	if c.MaxCallDuration <= 0 {
		c.MaxCallDuration = defaultMaxCallDuration
	}
	if c.UserAgent == "" {
		c.UserAgent = defaultUserAgent
	}
	c.Registrar = c.Registrar.withDefaults()
	return c
}

// ListenAddrs are the addresses a Server is bound to, per transport.
type ListenAddrs struct {
	UDP, TCP, TLS []netip.AddrPort
}

// Stats counts what the server refused or survived.
type Stats struct {
	// Dropped counts messages dropped without an answer: unparsable, too
	// large, too broken to answer safely, ACKs that fail validation, and
	// responses that match no transaction.
	Dropped uint64
	// Rejected counts requests refused by validation, statelessly or not.
	Rejected uint64
	// RefusedConns counts TCP and TLS connections closed at once for
	// MaxConnsPerIP.
	RefusedConns uint64
	// Panics counts bugs a recover() turned into an error response or a
	// hung-up call.
	Panics uint64
	// Calls counts INVITEs handed to the OnInvite handler.
	Calls uint64
	// AuthFailures counts requests whose digest credentials were refused:
	// wrong, unknown user, disabled account, tampered or replayed nonce.
	AuthFailures uint64
}

// Server is a SIP server for inbound calls. Create it with New, set the
// call handler with OnInvite, then Serve.
type Server struct {
	cfg Config
	log *slog.Logger

	ua     *sipgo.UserAgent
	srv    *sipgo.Server
	client *sipgo.Client
	parser *sipmsg.Parser

	udp []net.PacketConn
	tcp []net.Listener
	tls []net.Listener

	registrar *registrar // nil unless Config.Registrar.Enabled

	handler  atomic.Pointer[func(context.Context, *InboundCall)]
	draining atomic.Bool
	serving  atomic.Bool
	closed   sync.Once

	// base is the parent of every call's context; cancelled when Serve
	// stops.
	base       context.Context
	baseCancel context.CancelFunc
	// work tracks the goroutines this server starts or holds: call
	// handlers and INVITE transactions waiting for their ACK.
	work sync.WaitGroup

	mu       sync.Mutex
	calls    map[string]*InboundCall // by dialogKey
	merged   map[string]string       // Call-ID, From tag, CSeq of a call's INVITE -> its Via branch
	active   int                     // calls not yet ended
	stopping bool                    // Serve is stopping: no new work

	stats struct {
		dropped, rejected, refused, panics, calls, authFailures atomic.Uint64
	}

	// Timers, shortened by tests.
	ackTimeout  time.Duration // 64*T1: how long a 2xx waits for its ACK (RFC 3261 §13.3.1.4)
	t1, t2      time.Duration // 2xx retransmission interval, start and cap
	byeTimeout  time.Duration // how long teardown waits for a BYE's answer
	stopTimeout time.Duration // how long Serve waits for calls to end when stopping
}

// New checks cfg, binds every listener and returns a Server ready to
// Serve. log may be nil.
func New(cfg Config, log *slog.Logger) (*Server, error) {
	cfg = cfg.withDefaults()
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	if !validHeaderValue(cfg.UserAgent) {
		return nil, errors.New("sip config: UserAgent contains CR, LF or NUL")
	}
	var tlsConf *tls.Config
	if len(cfg.TLS) > 0 {
		if cfg.TLSCert == "" || cfg.TLSKey == "" {
			return nil, errors.New("sip config: TLS listeners need TLSCert and TLSKey")
		}
		cert, err := tls.LoadX509KeyPair(cfg.TLSCert, cfg.TLSKey)
		if err != nil {
			return nil, fmt.Errorf("sip config: load TLS key pair %s, %s: %w", cfg.TLSCert, cfg.TLSKey, err)
		}
		tlsConf = &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12}
	}

	s := &Server{
		cfg:         cfg,
		log:         log,
		calls:       make(map[string]*InboundCall),
		merged:      make(map[string]string),
		ackTimeout:  64 * sipmsg.T1,
		t1:          sipmsg.T1,
		t2:          sipmsg.T2,
		byeTimeout:  5 * time.Second,
		stopTimeout: 10 * time.Second,
	}
	s.base, s.baseCancel = context.WithCancel(context.Background())
	if cfg.Registrar.Enabled {
		r, err := newRegistrar(s, cfg)
		if err != nil {
			s.baseCancel()
			return nil, err
		}
		s.registrar = r
	}
	s.parser = sipmsg.NewParser()
	s.parser.MaxMessageLength = cfg.MaxMessageSize

	sipgoLogger := slog.New(&sipgoLog{next: log.Handler(), dropped: func() { s.stats.dropped.Add(1) }}).With("component", "sipgo")
	ua, err := sipgo.NewUA(
		sipgo.WithUserAgent(cfg.UserAgent),
		sipgo.WithUserAgentParser(s.parser),
		sipgo.WithUserAgentTransportLayerOptions(
			sipmsg.WithTransportLayerLogger(sipgoLogger),
			sipmsg.WithTransportLayerReadFilter(s.readFilter),
		),
		sipgo.WithUserAgentTransactionLayerOptions(
			sipmsg.WithTransactionLayerLogger(sipgoLogger),
			sipmsg.WithTransactionLayerUnhandledResponseHandler(func(*sipmsg.Response) { s.stats.dropped.Add(1) }),
		),
	)
	if err != nil {
		return nil, fmt.Errorf("sip: user agent: %w", err)
	}
	s.ua = ua
	if s.srv, err = sipgo.NewServer(ua, sipgo.WithServerLogger(sipgoLogger)); err != nil {
		ua.Close()
		return nil, fmt.Errorf("sip: server: %w", err)
	}
	if s.client, err = sipgo.NewClient(ua, sipgo.WithClientLogger(sipgoLogger)); err != nil {
		ua.Close()
		return nil, fmt.Errorf("sip: client: %w", err)
	}
	// Every method goes to one entry point, which validates first.
	s.srv.OnNoRoute(s.serveRequest)

	if err := s.listen(tlsConf); err != nil {
		s.Close()
		return nil, err
	}
	return s, nil
}

func (s *Server) listen(tlsConf *tls.Config) error {
	refused := func() { s.stats.refused.Add(1) }
	for _, addr := range s.cfg.UDP {
		c, err := net.ListenPacket("udp", addr)
		if err != nil {
			return fmt.Errorf("sip: listen udp %s: %w", addr, err)
		}
		s.udp = append(s.udp, c)
	}
	for _, addr := range s.cfg.TCP {
		l, err := net.Listen("tcp", addr)
		if err != nil {
			return fmt.Errorf("sip: listen tcp %s: %w", addr, err)
		}
		s.tcp = append(s.tcp, newTCPListener(l, s.cfg.MaxConnsPerIP, s.cfg.TCPReadTimeout, refused))
	}
	for _, addr := range s.cfg.TLS {
		l, err := net.Listen("tcp", addr)
		if err != nil {
			return fmt.Errorf("sip: listen tls %s: %w", addr, err)
		}
		s.tls = append(s.tls, tls.NewListener(newTCPListener(l, s.cfg.MaxConnsPerIP, s.cfg.TCPReadTimeout, refused), tlsConf))
	}
	return nil
}

// Addrs returns the addresses the server is bound to, with port 0 resolved.
func (s *Server) Addrs() ListenAddrs {
	var a ListenAddrs
	for _, c := range s.udp {
		a.UDP = append(a.UDP, addrPort(c.LocalAddr()))
	}
	for _, l := range s.tcp {
		a.TCP = append(a.TCP, addrPort(l.Addr()))
	}
	for _, l := range s.tls {
		a.TLS = append(a.TLS, addrPort(l.Addr()))
	}
	return a
}

func addrPort(a net.Addr) netip.AddrPort {
	switch a := a.(type) {
	case *net.UDPAddr:
		return a.AddrPort()
	case *net.TCPAddr:
		return a.AddrPort()
	}
	ap, _ := netip.ParseAddrPort(a.String())
	return ap
}

// OnInvite sets the handler for new calls. It runs in its own goroutine
// per call and owns the call for as long as it runs: when it returns, a
// call still ringing is rejected with 480 and an answered one is hung up.
// ctx ends when the call ends, the server stops, or Config.MaxCallDuration
// passes; the server then ends the call itself (503 or 480 while ringing,
// BYE once answered) even if the handler goes on. A panic in the handler is
// logged and ends the call with 500 (before the answer) or BYE (after).
func (s *Server) OnInvite(h func(ctx context.Context, c *InboundCall)) {
	s.handler.Store(&h)
}

// Drain stops taking work: from now on OPTIONS and new INVITEs are
// answered 503, so a load balancer moves traffic elsewhere. Calls in
// progress continue.
func (s *Server) Drain() {
	s.draining.Store(true)
}

// ActiveCalls returns the number of calls in progress: from the INVITE
// being accepted to the call's end.
func (s *Server) ActiveCalls() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.active
}

// Stats returns the server's counters.
func (s *Server) Stats() Stats {
	return Stats{
		Dropped:      s.stats.dropped.Load(),
		Rejected:     s.stats.rejected.Load(),
		RefusedConns: s.stats.refused.Load(),
		Panics:       s.stats.panics.Load(),
		Calls:        s.stats.calls.Load(),
		AuthFailures: s.stats.authFailures.Load(),
	}
}

// Serve handles SIP on the listeners until ctx is done, then stops: new
// calls are refused, calls in progress are told to end (their handlers'
// contexts are cancelled; answered calls get a BYE), and the listeners
// close. It may be called once.
func (s *Server) Serve(ctx context.Context) error {
	if !s.serving.CompareAndSwap(false, true) {
		return errors.New("sip: Serve called twice")
	}
	defer s.Close()

	errc := make(chan error, len(s.udp)+len(s.tcp)+len(s.tls))
	var listeners sync.WaitGroup
	serve := func(f func() error) {
		listeners.Go(func() { errc <- f() })
	}
	for _, c := range s.udp {
		serve(func() error { return s.srv.ServeUDP(c) })
	}
	for _, l := range s.tcp {
		serve(func() error { return s.srv.ServeTCP(l) })
	}
	for _, l := range s.tls {
		serve(func() error { return s.srv.ServeTLS(l) })
	}
	s.log.Info("sip listening", "udp", s.Addrs().UDP, "tcp", s.Addrs().TCP, "tls", s.Addrs().TLS)

	var err error
	select {
	case <-ctx.Done():
	case err = <-errc:
		err = fmt.Errorf("sip: listener stopped: %w", err)
	}
	s.stop()
	s.closeListeners()
	listeners.Wait()
	return err
}

// stop refuses new calls, cancels every call's context and waits, up to
// stopTimeout, for their handlers and teardown to finish. The listeners
// stay up meanwhile so BYEs and their answers can pass.
func (s *Server) stop() {
	s.draining.Store(true)
	s.mu.Lock()
	s.stopping = true
	s.mu.Unlock()
	s.baseCancel()
	done := make(chan struct{})
	go func() {
		s.work.Wait()
		close(done)
	}()
	select {
	case <-done:
	case <-time.After(s.stopTimeout):
		s.log.Error("sip: calls still running after stop timeout; a call handler ignores its context", "active_calls", s.ActiveCalls())
	}
}

// Close releases the listeners and sipgo's transaction and transport
// layers without waiting for calls. Serve calls it when it stops; use it
// alone for a Server that never served. It is idempotent.
func (s *Server) Close() error {
	s.closed.Do(func() {
		s.baseCancel()
		s.closeListeners()
		s.ua.Close()
	})
	return nil
}

func (s *Server) closeListeners() {
	for _, c := range s.udp {
		c.Close()
	}
	for _, l := range s.tcp {
		l.Close()
	}
	for _, l := range s.tls {
		l.Close()
	}
}

// serveRequest is the one entry point for requests, after sipgo's
// transaction layer: it validates, then dispatches by method. A panic in
// handling one request is logged and answered 500; it does not reach
// sipgo's goroutine (which would end the process).
func (s *Server) serveRequest(req *sipmsg.Request, tx sipmsg.ServerTransaction) {
	defer func() {
		if r := recover(); r != nil {
			s.stats.panics.Add(1)
			s.log.Error("sip: panic handling request", "method", string(req.Method), "call_id", callIDOf(req), "panic", fmt.Sprint(r), "stack", stack())
			if !req.IsAck() {
				s.respondSafely(req, tx, 500, "Server Internal Error")
			}
		}
	}()
	rej := validate(req)
	if rej != nil && rej.code == 405 && req.Method == sipmsg.REGISTER && s.registrar != nil {
		rej = s.registrar.checks(req)
	}
	if rej != nil {
		if req.IsAck() || rej == drop {
			s.stats.dropped.Add(1) // and never answer an ACK (RFC 3261 §17.2.1)
			return
		}
		s.stats.rejected.Add(1)
		s.log.Debug("sip: request rejected", "method", string(req.Method), "call_id", callIDOf(req), "code", rej.code, "reason", rej.reason)
		s.respond(req, tx, rej.code, rej.reason, nil, rej.headers...)
		return
	}
	inDialog := req.To().Params.Has("tag")
	switch req.Method {
	case sipmsg.INVITE:
		if inDialog {
			s.serveReinvite(req, tx)
		} else {
			s.serveInvite(req, tx)
		}
	case sipmsg.ACK:
		s.serveAck(req)
	case sipmsg.BYE:
		s.serveBye(req, tx)
	case sipmsg.CANCEL:
		// A CANCEL matching an INVITE transaction never gets here: sipgo
		// answers it 200 and the INVITE 487 (RFC 3261 §9.2).
		s.respond(req, tx, 481, "Call/Transaction Does Not Exist", nil)
	case sipmsg.OPTIONS:
		s.serveOptions(req, tx)
	case sipmsg.REGISTER:
		s.registrar.serve(req, tx)
	}
}

// serveOptions answers OPTIONS (RFC 3261 §11.2); load balancers probe with
// it, so it turns 503 while draining.
func (s *Server) serveOptions(req *sipmsg.Request, tx sipmsg.ServerTransaction) {
	if s.draining.Load() {
		s.respond(req, tx, 503, "Service Unavailable", nil)
		return
	}
	allow := allowedMethods
	if s.registrar != nil {
		allow += ", REGISTER"
	}
	s.respond(req, tx, 200, "OK", nil,
		sipmsg.NewHeader("Allow", allow),
		sipmsg.NewHeader("Accept", "application/sdp"),
	)
}

// respond sends a response built from req through tx.
func (s *Server) respond(req *sipmsg.Request, tx sipmsg.ServerTransaction, code int, reason string, body []byte, headers ...sipmsg.Header) {
	res := s.newResponse(req, code, reason, body, headers...)
	if err := s.checkOutgoing(res); err != nil {
		s.log.Error("sip: response not sent", "call_id", callIDOf(req), "code", code, "error", err)
		return
	}
	if err := tx.Respond(res); err != nil {
		s.log.Debug("sip: response not sent", "call_id", callIDOf(req), "code", code, "error", err)
	}
}

// respondSafely is respond for the recover path, which must not panic again.
func (s *Server) respondSafely(req *sipmsg.Request, tx sipmsg.ServerTransaction, code int, reason string) {
	defer func() { _ = recover() }()
	s.respond(req, tx, code, reason, nil)
}

// newResponse builds a response (RFC 3261 §8.2.6) with our Server header.
// Over UDP it goes back to the address and port the request came from,
// whatever its Via says: symmetric response routing (RFC 3581 §4, applied
// to every request, as Kamailio's force_rport does), which reaches phones
// behind NAT. The top Via gets "received" when its host is not the source
// address (RFC 3261 §18.2.1).
func (s *Server) newResponse(req *sipmsg.Request, code int, reason string, body []byte, headers ...sipmsg.Header) *sipmsg.Response {
	res := sipmsg.NewResponseFromRequest(req, code, reason, body)
	res.AppendHeader(sipmsg.NewHeader("Server", s.cfg.UserAgent))
	for _, h := range headers {
		res.AppendHeader(h)
	}
	src := req.Source()
	if host, _, err := net.SplitHostPort(src); err == nil {
		if via := res.Via(); via != nil && via.Host != host && !via.Params.Has("received") {
			via.Params.Add("received", host)
		}
		if req.Transport() == "UDP" {
			res.SetDestination(src)
		}
	}
	return res
}

// checkOutgoing refuses a message with CR or LF inside a header field: the
// last guard against header injection from data we copied or built.
func (s *Server) checkOutgoing(m sipmsg.Message) error {
	var bad error
	check := func(what, v string) {
		if bad == nil && (containsCRLF(v)) {
			bad = fmt.Errorf("%s contains CR or LF", what)
		}
	}
	switch m := m.(type) {
	case *sipmsg.Response:
		check("reason phrase", m.Reason)
	case *sipmsg.Request:
		check("request line", m.StartLine())
	}
	for _, h := range headersOf(m) {
		check(h.Name(), h.Value())
	}
	return bad
}

func headersOf(m sipmsg.Message) []sipmsg.Header {
	switch m := m.(type) {
	case *sipmsg.Response:
		return m.Headers()
	case *sipmsg.Request:
		return m.Headers()
	}
	return nil
}

func containsCRLF(s string) bool {
	for i := range len(s) {
		if s[i] == '\r' || s[i] == '\n' {
			return true
		}
	}
	return false
}

func stack() string { return string(debug.Stack()) }

func callIDOf(m sipmsg.Message) string {
	if h := m.CallID(); h != nil {
		return h.Value()
	}
	return ""
}

var _ io.Closer = (*Server)(nil)
