package sip

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/netip"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/emiago/sipgo"
	sipmsg "github.com/emiago/sipgo/sip"
)

// testLog is the log tests give the server: quiet unless SIP_TEST_LOG is
// set.
func testLog(t testing.TB) *slog.Logger {
	if os.Getenv("SIP_TEST_LOG") == "" {
		return slog.New(slog.DiscardHandler)
	}
	return slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelDebug})).With("test", t.Name())
}

// startServer starts a server on 127.0.0.1 port 0 (UDP and TCP) with
// handler, and stops it at cleanup.
func startServer(t testing.TB, cfg Config, handler func(context.Context, *InboundCall)) *Server {
	t.Helper()
	s, stop := startStoppableServer(t, cfg, handler)
	t.Cleanup(stop)
	return s
}

// startStoppableServer is startServer for a test that stops the server
// itself, before its cleanups run (stop is idempotent).
func startStoppableServer(t testing.TB, cfg Config, handler func(context.Context, *InboundCall)) (*Server, func()) {
	t.Helper()
	if len(cfg.UDP) == 0 && len(cfg.TCP) == 0 {
		cfg.UDP = []string{"127.0.0.1:0"}
		cfg.TCP = []string{"127.0.0.1:0"}
	}
	s, err := New(cfg, testLog(t))
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	s.stopTimeout = 5 * time.Second
	if handler != nil {
		s.OnInvite(handler)
	}
	ctx, cancel := context.WithCancel(context.Background())
	served := make(chan error, 1)
	go func() { served <- s.Serve(ctx) }()
	var once sync.Once
	return s, func() {
		once.Do(func() {
			cancel()
			select {
			case err := <-served:
				if err != nil {
					t.Errorf("Serve: %v", err)
				}
			case <-time.After(15 * time.Second):
				t.Errorf("Serve did not return after its context ended")
			}
		})
	}
}

// answerWith returns a handler that answers every call with a made-up
// media address and waits for the call to end.
func answerWith(calls chan<- *InboundCall) func(context.Context, *InboundCall) {
	return func(ctx context.Context, c *InboundCall) {
		if calls != nil {
			calls <- c
		}
		ans := MediaAnswer{Addr: netip.MustParseAddrPort("127.0.0.1:40000"), Codec: c.Offer().Codecs[0], DTMFPayloadType: c.Offer().DTMFPayloadType}
		if err := c.Answer(ctx, ans); err != nil {
			return
		}
		<-ctx.Done()
	}
}

// offerSDP is a caller's offer: PCMU, PCMA and telephone-event at
// 127.0.0.1:port.
func offerSDP(port int, direction string) string {
	return sdpText("127.0.0.1", port, direction, "0 8 101", "a=rtpmap:101 telephone-event/8000", "a=fmtp:101 0-16")
}

func sdpText(ip string, port int, direction, formats string, attrs ...string) string {
	lines := []string{
		"v=0",
		"o=caller 1 1 IN IP4 " + ip,
		"s=-",
		"c=IN IP4 " + ip,
		"t=0 0",
		fmt.Sprintf("m=audio %d RTP/AVP %s", port, formats),
	}
	lines = append(lines, attrs...)
	if direction != "" {
		lines = append(lines, "a="+direction)
	}
	return strings.Join(lines, "\r\n") + "\r\n"
}

// phone is a SIP caller built on sipgo's client and dialog API, listening
// on 127.0.0.1 for the server's in-dialog requests.
type phone struct {
	t         testing.TB
	ua        *sipgo.UserAgent
	client    *sipgo.Client
	dialogs   *sipgo.DialogClientCache
	transport string // "udp" or "tcp"
	server    netip.AddrPort

	mu   sync.Mutex
	byes []*sipmsg.Request
	bye  chan struct{} // gets a value per BYE received
}

func newPhone(t testing.TB, s *Server, transport string) *phone {
	t.Helper()
	ua, err := sipgo.NewUA(
		sipgo.WithUserAgent("test-phone"),
		sipgo.WithUserAgentHostname("127.0.0.1"),
		sipgo.WithUserAgentTransportLayerOptions(sipmsg.WithTransportLayerLogger(slog.New(slog.DiscardHandler))),
		sipgo.WithUserAgentTransactionLayerOptions(
			sipmsg.WithTransactionLayerLogger(slog.New(slog.DiscardHandler)),
			sipmsg.WithTransactionLayerUnhandledResponseHandler(func(*sipmsg.Response) {}),
		),
	)
	if err != nil {
		t.Fatal(err)
	}
	srv, err := sipgo.NewServer(ua, sipgo.WithServerLogger(slog.New(slog.DiscardHandler)))
	if err != nil {
		t.Fatal(err)
	}
	p := &phone{t: t, ua: ua, transport: transport, bye: make(chan struct{}, 16)}
	var port int
	var closer func()
	switch transport {
	case "udp":
		c, err := net.ListenPacket("udp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		port = c.LocalAddr().(*net.UDPAddr).Port
		go srv.ServeUDP(c)
		closer = func() { c.Close() }
		p.server = s.Addrs().UDP[0]
	case "tcp":
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		port = l.Addr().(*net.TCPAddr).Port
		go srv.ServeTCP(l)
		closer = func() { l.Close() }
		p.server = s.Addrs().TCP[0]
	default:
		t.Fatalf("transport %q", transport)
	}
	p.client, err = sipgo.NewClient(ua, sipgo.WithClientHostname("127.0.0.1"), sipgo.WithClientLogger(slog.New(slog.DiscardHandler)))
	if err != nil {
		t.Fatal(err)
	}
	contact := sipmsg.ContactHeader{Address: sipmsg.Uri{Scheme: "sip", User: "caller", Host: "127.0.0.1", Port: port}}
	if transport == "tcp" {
		contact.Address.UriParams = sipmsg.HeaderParams{{K: "transport", V: "tcp"}}
	}
	p.dialogs = sipgo.NewDialogClientCache(p.client, contact)
	srv.OnBye(func(req *sipmsg.Request, tx sipmsg.ServerTransaction) {
		p.mu.Lock()
		p.byes = append(p.byes, req)
		p.mu.Unlock()
		if err := p.dialogs.ReadBye(req, tx); err != nil {
			tx.Respond(sipmsg.NewResponseFromRequest(req, 481, "Call/Transaction Does Not Exist", nil))
		}
		p.bye <- struct{}{}
	})
	t.Cleanup(func() {
		closer()
		ua.Close()
	})
	return p
}

// uri is the server's address for user, over the phone's transport.
func (p *phone) uri(user string) sipmsg.Uri {
	u := sipmsg.Uri{Scheme: "sip", User: user, Host: p.server.Addr().String(), Port: int(p.server.Port())}
	if p.transport == "tcp" {
		u.UriParams = sipmsg.HeaderParams{{K: "transport", V: "tcp"}}
	}
	return u
}

// call sends an INVITE with body to user and waits for the answer, sending
// the ACK for a 2xx. It returns the session and the final response.
func (p *phone) call(ctx context.Context, user, body string, headers ...sipmsg.Header) (*sipgo.DialogClientSession, *sipmsg.Response, error) {
	headers = append(headers, sipmsg.NewHeader("Content-Type", "application/sdp"))
	sess, err := p.dialogs.Invite(ctx, p.uri(user), []byte(body), headers...)
	if err != nil {
		return nil, nil, err
	}
	err = sess.WaitAnswer(ctx, sipgo.AnswerOptions{})
	if err != nil {
		var re *sipgo.ErrDialogResponse
		if asDialogResponse(err, &re) {
			return sess, re.Res, nil
		}
		return sess, nil, err
	}
	if err := sess.Ack(ctx); err != nil {
		return sess, sess.InviteResponse, err
	}
	return sess, sess.InviteResponse, nil
}

func asDialogResponse(err error, out **sipgo.ErrDialogResponse) bool {
	for e := err; e != nil; {
		if r, ok := e.(*sipgo.ErrDialogResponse); ok {
			*out = r
			return true
		}
		u, ok := e.(interface{ Unwrap() error })
		if !ok {
			return false
		}
		e = u.Unwrap()
	}
	return false
}

// request sends an out-of-dialog request (OPTIONS and the like) and
// returns the final response.
func (p *phone) request(ctx context.Context, method sipmsg.RequestMethod, user string, headers ...sipmsg.Header) *sipmsg.Response {
	p.t.Helper()
	req := sipmsg.NewRequest(method, p.uri(user))
	req.SetTransport(strings.ToUpper(p.transport))
	for _, h := range headers {
		req.AppendHeader(h)
	}
	res, err := p.client.Do(ctx, req)
	if err != nil {
		p.t.Fatalf("%s: %v", method, err)
	}
	return res
}

// waitBye waits for the server's BYE.
func (p *phone) waitBye(t testing.TB, d time.Duration) *sipmsg.Request {
	t.Helper()
	select {
	case <-p.bye:
	case <-time.After(d):
		t.Fatalf("no BYE from the server within %v", d)
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.byes[len(p.byes)-1]
}

// waitDone waits for a call to end and returns its reason.
func waitDone(t testing.TB, c *InboundCall, d time.Duration) string {
	t.Helper()
	select {
	case <-c.Done():
		return c.EndReason()
	case <-time.After(d):
		t.Fatalf("call %s did not end within %v", c.CallID(), d)
		return ""
	}
}

// waitFor polls cond until it holds or d passes; for state that has no
// channel to wait on (counters).
func waitFor(t testing.TB, d time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(d)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func recvCall(t testing.TB, calls <-chan *InboundCall) *InboundCall {
	t.Helper()
	select {
	case c := <-calls:
		return c
	case <-time.After(5 * time.Second):
		t.Fatal("the handler got no call")
		return nil
	}
}

func sipmsgHeader(name, value string) sipmsg.Header { return sipmsg.NewHeader(name, value) }

// exchange sends msg to addr from a fresh socket ("udp" or "tcp") and
// returns the responses that come back, up to the first final one or
// until wait passes. A request with no response returns none.
func exchange(t testing.TB, network string, addr netip.AddrPort, msg []byte, wait time.Duration) []*sipmsg.Response {
	t.Helper()
	conn, err := net.Dial(network, addr.String())
	if err != nil {
		t.Fatalf("dial %s %s: %v", network, addr, err)
	}
	defer conn.Close()
	if _, err := conn.Write(msg); err != nil {
		t.Fatalf("write: %v", err)
	}
	conn.SetReadDeadline(time.Now().Add(wait))
	var out []*sipmsg.Response
	buf := make([]byte, 65536)
	stream := sipmsg.NewParser().NewSIPStream()
	for {
		n, err := conn.Read(buf)
		if err != nil {
			return out
		}
		var msgs []sipmsg.Message
		if network == "udp" {
			m, err := sipmsg.ParseMessage(buf[:n])
			if err != nil {
				t.Errorf("unparsable datagram from the server: %v\n%s", err, buf[:n])
				continue
			}
			msgs = append(msgs, m)
		} else {
			err := stream.ParseSIPStream(buf[:n], func(m sipmsg.Message) { msgs = append(msgs, m) })
			if err != nil && !errors.Is(err, sipmsg.ErrParseSipPartial) {
				t.Errorf("unparsable stream from the server: %v", err)
				return out
			}
		}
		for _, m := range msgs {
			res, ok := m.(*sipmsg.Response)
			if !ok {
				continue // a request from the server (a BYE for a torture call)
			}
			out = append(out, res)
			if res.StatusCode >= 200 {
				return out
			}
		}
	}
}

// finalCode is the status of the last response, 0 for none.
func finalCode(rs []*sipmsg.Response) int {
	if len(rs) == 0 || rs[len(rs)-1].StatusCode < 200 {
		return 0
	}
	return rs[len(rs)-1].StatusCode
}

func dialTCP(addr string) (net.Conn, error) { return net.Dial("tcp", addr) }

func readFile(name string) (string, error) {
	b, err := os.ReadFile(name)
	return string(b), err
}
