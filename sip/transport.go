package sip

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"net"
	"net/netip"
	"sync"
	"time"

	sipmsg "github.com/emiago/sipgo/sip"
)

// What stands between the sockets and sipgo's transport layer: a TCP
// listener that caps connections per address and puts a deadline on every
// read, a UDP read filter that counts (and, when it safely can, answers)
// datagrams sipgo would drop, and a log handler that keeps sipgo's per
// message logging out of the server's log.

// sipgo refuses to write a UDP message larger than UDPMTUSize-200 bytes:
// RFC 3261 §18.1.1 has a request that large go over TCP instead, but sipgo
// applies the rule to responses too, which must go back over the transport
// the request came on whatever their size (§18.2.2). A 200 OK echoing a
// long Via and Record-Route chain, with SDP, easily passes 1300 bytes; it
// would be lost. The limit becomes the largest datagram.
func init() {
	sipmsg.UDPMTUSize = 65535 + 200
}

// tcpListener caps connections per remote IP and gives every connection a
// read deadline, so a peer that stops sending mid-message (or never sends)
// cannot hold a connection and its parser buffer forever. TLS listeners wrap
// it, so the cap and the deadline apply to the TCP under TLS.
type tcpListener struct {
	net.Listener
	maxPerIP    int // <= 0: no cap
	readTimeout time.Duration
	refused     func()

	mu    sync.Mutex
	perIP map[netip.Addr]int
}

func newTCPListener(l net.Listener, maxPerIP int, readTimeout time.Duration, refused func()) *tcpListener {
	return &tcpListener{Listener: l, maxPerIP: maxPerIP, readTimeout: readTimeout, refused: refused, perIP: make(map[netip.Addr]int)}
}

// Accept returns the next connection under the cap. Connections over it are
// closed at once. Temporary failures (out of file descriptors) back off and
// retry rather than stop the listener, as net/http does.
func (l *tcpListener) Accept() (net.Conn, error) {
	var delay time.Duration
	for {
		c, err := l.Listener.Accept()
		if err != nil {
			if errors.Is(err, net.ErrClosed) {
				return nil, err
			}
			delay = min(max(2*delay, 5*time.Millisecond), time.Second)
			time.Sleep(delay)
			continue
		}
		delay = 0
		ip := remoteIP(c)
		l.mu.Lock()
		if l.maxPerIP > 0 && l.perIP[ip] >= l.maxPerIP {
			l.mu.Unlock()
			c.Close()
			l.refused()
			continue
		}
		l.perIP[ip]++
		l.mu.Unlock()
		return &tcpConn{Conn: c, l: l, ip: ip}, nil
	}
}

func (l *tcpListener) release(ip netip.Addr) {
	l.mu.Lock()
	if l.perIP[ip]--; l.perIP[ip] <= 0 {
		delete(l.perIP, ip)
	}
	l.mu.Unlock()
}

func remoteIP(c net.Conn) netip.Addr {
	if a, ok := c.RemoteAddr().(*net.TCPAddr); ok {
		return a.AddrPort().Addr().Unmap()
	}
	return netip.Addr{}
}

type tcpConn struct {
	net.Conn
	l    *tcpListener
	ip   netip.Addr
	once sync.Once
}

func (c *tcpConn) Read(b []byte) (int, error) {
	if c.l.readTimeout > 0 {
		if err := c.Conn.SetReadDeadline(time.Now().Add(c.l.readTimeout)); err != nil {
			return 0, err
		}
	}
	return c.Conn.Read(b)
}

func (c *tcpConn) Close() error {
	c.once.Do(func() { c.l.release(c.ip) })
	return c.Conn.Close()
}

// readFilter sees every datagram before sipgo parses it. sipgo logs and
// drops a datagram it cannot parse; here it is parsed first so the drop is
// counted, and a request that failed late enough to have every header a
// response copies (a bad Content-Length, a missing blank line) gets a
// stateless 400 instead of silence (RFC 3261 §8.2: the UAS answers what it
// can), and one too large for MaxMessageSize or the read buffer a 513.
// The second parse costs about 2 µs and 30 allocations for a 440-byte
// INVITE (BenchmarkReadFilter on the 2-core test machine): per signalling
// message, never per media packet. Stream transports pass through: a parse error there leaves no
// message boundary, and sipgo closes the connection.
func (s *Server) readFilter(info sipmsg.TransportReadProps, data []byte) ([]byte, error) {
	if info.Transport != "UDP" {
		return data, nil
	}
	if len(bytes.Trim(data, "\r\n\x00")) == 0 {
		return data, nil // keep-alive; sipgo ignores it
	}
	// A datagram that filled sipgo's read buffer was probably cut short.
	tooLarge := len(data) > s.cfg.MaxMessageSize || len(data) >= int(sipmsg.TransportBufferReadSize)
	var msg sipmsg.Message
	var err error
	if tooLarge {
		// Parse what came, past MaxMessageSize, only to answer it.
		msg, _ = sipmsg.ParseMessage(data)
	} else if msg, err = s.parser.ParseSIP(data); err == nil {
		return data, nil
	}
	req, _ := msg.(*sipmsg.Request)
	if !answerable(req) || hasLineBreak(req) {
		s.stats.dropped.Add(1)
		return nil, nil
	}
	code, reason := 400, "Bad Request"
	if tooLarge {
		code, reason = 513, "Message Too Large"
	}
	src, ok := info.RemoteAddr.(*net.UDPAddr)
	conn := s.udpConn(info.LocalAddr)
	if !ok || conn == nil {
		s.stats.dropped.Add(1)
		return nil, nil
	}
	req.SetSource(src.String())
	req.SetTransport("UDP")
	res := s.newResponse(req, code, reason, nil)
	s.stats.rejected.Add(1)
	if _, err := conn.WriteTo([]byte(res.String()), src); err != nil {
		s.log.Debug("stateless 400 not sent", "error", err)
	}
	return nil, nil
}

func (s *Server) udpConn(local net.Addr) net.PacketConn {
	if local == nil {
		return nil
	}
	for _, c := range s.udp {
		if c.LocalAddr().String() == local.String() {
			return c
		}
	}
	return nil
}

// sipgoLog is the handler behind the logger handed to sipgo. sipgo logs per
// message (every parse failure with the message's bytes, at Error), which
// would let any peer write into our log; its records go to the server's
// handler at Debug, without the message bytes. A stream parse failure is
// counted as a dropped message on the way.
type sipgoLog struct {
	next    slog.Handler
	dropped func()
}

func (h *sipgoLog) Enabled(ctx context.Context, level slog.Level) bool {
	return level >= slog.LevelError || h.next.Enabled(ctx, slog.LevelDebug)
}

func (h *sipgoLog) Handle(ctx context.Context, r slog.Record) error {
	if r.Level >= slog.LevelError && r.Message == "failed to parse" {
		h.dropped()
	}
	if !h.next.Enabled(ctx, slog.LevelDebug) {
		return nil
	}
	out := slog.NewRecord(r.Time, slog.LevelDebug, r.Message, r.PC)
	out.AddAttrs(slog.String("sipgo_level", r.Level.String()))
	r.Attrs(func(a slog.Attr) bool {
		if a.Key != "data" {
			out.AddAttrs(a)
		}
		return true
	})
	return h.next.Handle(ctx, out)
}

func (h *sipgoLog) WithAttrs(attrs []slog.Attr) slog.Handler {
	return &sipgoLog{next: h.next.WithAttrs(attrs), dropped: h.dropped}
}

func (h *sipgoLog) WithGroup(name string) slog.Handler {
	return &sipgoLog{next: h.next.WithGroup(name), dropped: h.dropped}
}
