package sip

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"time"

	sipmsg "github.com/emiago/sipgo/sip"

	"github.com/sambung/sambung/internal/testenv"
	"github.com/sambung/sambung/media"
)

// ourOffer is the media Dial offers in these tests.
var ourOffer = MediaAnswer{Addr: netip.MustParseAddrPort("127.0.0.1:41000"), Codec: media.PCMA, DTMFPayloadType: 101}

// calleeURI is the address of user on callee s over transport.
func calleeURI(s *Server, user, transport string) string {
	if transport == "tcp" {
		return fmt.Sprintf("sip:%s@%s;transport=tcp", user, s.Addrs().TCP[0])
	}
	return fmt.Sprintf("sip:%s@%s", user, s.Addrs().UDP[0])
}

// waitOutbound waits for an outbound call to end and returns its reason.
func waitOutbound(t testing.TB, c *OutboundCall, d time.Duration) string {
	t.Helper()
	select {
	case <-c.Done():
		return c.EndReason()
	case <-time.After(d):
		t.Fatalf("outbound call %s did not end within %v", c.CallID(), d)
		return ""
	}
}

func TestDialAnsweredAndHungUp(t *testing.T) {
	for _, transport := range []string{"udp", "tcp"} {
		for _, side := range []string{"we hang up", "callee hangs up"} {
			t.Run(transport+"/"+side, func(t *testing.T) {
				calls := make(chan *InboundCall, 1)
				// The callee answers once we have seen its 180: sipgo hands
				// responses over in goroutines of their own, so a 200 sent
				// right after the 180 may overtake it.
				rang := make(chan struct{})
				callee := startServer(t, Config{}, func(ctx context.Context, c *InboundCall) {
					calls <- c
					c.Ring(ctx)
					select {
					case <-rang:
					case <-ctx.Done():
						return
					}
					o := c.Offer()
					if err := c.Answer(ctx, MediaAnswer{Addr: netip.MustParseAddrPort("127.0.0.1:40000"), Codec: o.Codecs[0], DTMFPayloadType: o.DTMFPayloadType}); err != nil {
						return
					}
					if side == "callee hangs up" {
						c.Hangup(ctx)
						return
					}
					<-ctx.Done()
				})
				dialer := startServer(t, Config{}, nil)
				ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
				defer cancel()
				rings := 0
				oc, err := dialer.Dial(ctx, DialRequest{
					To: calleeURI(callee, "bob", transport), From: "alice", FromDisplay: `Alice "A"`,
					Offer: ourOffer, Headers: map[string]string{"X-Campaign": "spring"},
					OnRinging: func() { rings++; close(rang) },
				})
				if err != nil {
					t.Fatalf("Dial: %v", err)
				}
				in := recvCall(t, calls)

				// What the callee saw of our offer.
				o := in.Offer()
				if o.Addr != ourOffer.Addr || len(o.Codecs) != 2 || o.Codecs[0].Name != "PCMA" || o.Codecs[1].Name != "PCMU" || o.DTMFPayloadType != 101 {
					t.Errorf("callee got offer %+v, want %s with PCMA then PCMU and telephone-event 101", o, ourOffer.Addr)
				}
				if in.From() != "alice" || in.FromDisplay() != `Alice "A"` || in.To() != "bob" {
					t.Errorf("callee saw From %q display %q To %q", in.From(), in.FromDisplay(), in.To())
				}
				// What we read of its answer.
				a := oc.Answer()
				if a.Addr != netip.MustParseAddrPort("127.0.0.1:40000") || len(a.Codecs) == 0 || a.Codecs[0].Name != "PCMA" || a.DTMFPayloadType != 101 || a.Direction != SendRecv {
					t.Errorf("Answer() = %+v, want 127.0.0.1:40000 PCMA, telephone-event 101, sendrecv", a)
				}
				if oc.CallID() != in.CallID() {
					t.Errorf("CallID %q, callee's %q", oc.CallID(), in.CallID())
				}
				select {
				case <-oc.Ringing():
				default:
					t.Error("Ringing() not closed after 180")
				}
				if rings != 1 {
					t.Errorf("OnRinging called %d times, want 1", rings)
				}
				if side == "we hang up" {
					if n := dialer.ActiveCalls(); n != 1 {
						t.Errorf("dialer ActiveCalls() = %d during the call, want 1", n)
					}
					if err := oc.Hangup(ctx); err != nil {
						t.Errorf("Hangup: %v", err)
					}
					if got := oc.EndReason(); got != EndServerBye {
						t.Errorf("EndReason() = %q, want %q", got, EndServerBye)
					}
					if got := waitDone(t, in, 5*time.Second); got != EndCallerBye {
						t.Errorf("callee's call ended %q, want %q", got, EndCallerBye)
					}
				} else {
					if got := waitOutbound(t, oc, 5*time.Second); got != EndCalleeBye {
						t.Errorf("EndReason() = %q, want %q", got, EndCalleeBye)
					}
					// Its BYE answered, before the servers stop.
					if got := waitDone(t, in, 5*time.Second); got != EndServerBye {
						t.Errorf("callee's call ended %q, want %q", got, EndServerBye)
					}
				}
				if n := dialer.ActiveCalls(); n != 0 {
					t.Errorf("dialer ActiveCalls() = %d after the call, want 0", n)
				}
			})
		}
	}
}

func TestDialRefused(t *testing.T) {
	callee := startServer(t, Config{}, func(ctx context.Context, c *InboundCall) {
		c.Reject(486, "")
	})
	dialer := startServer(t, Config{}, nil)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	_, err := dialer.Dial(ctx, DialRequest{To: calleeURI(callee, "bob", "udp"), Offer: ourOffer})
	var de *DialError
	if !errors.As(err, &de) || de.Code != 486 || de.Reason != "Busy Here" {
		t.Fatalf("Dial error = %v, want DialError 486 Busy Here", err)
	}
}

func TestDialCancelled(t *testing.T) {
	for _, how := range []string{"ring timeout", "context"} {
		t.Run(how, func(t *testing.T) {
			calls := make(chan *InboundCall, 1)
			callee := startServer(t, Config{}, func(ctx context.Context, c *InboundCall) {
				c.Ring(ctx)
				calls <- c
				<-ctx.Done() // never answers
			})
			dialer := startServer(t, Config{}, nil)
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			d := DialRequest{To: calleeURI(callee, "bob", "udp"), Offer: ourOffer}
			want := ErrNoAnswer
			if how == "ring timeout" {
				d.RingTimeout = 300 * time.Millisecond
			} else {
				dctx, dcancel := context.WithCancel(ctx)
				defer dcancel()
				d.OnRinging = dcancel
				ctx, want = dctx, context.Canceled
			}
			start := time.Now()
			_, err := dialer.Dial(ctx, d)
			if !errors.Is(err, want) {
				t.Fatalf("Dial error = %v, want %v", err, want)
			}
			if time.Since(start) > 5*time.Second {
				t.Errorf("Dial took %v to give up", time.Since(start))
			}
			in := recvCall(t, calls)
			if got := waitDone(t, in, 5*time.Second); got != EndCallerCancel {
				t.Errorf("callee's call ended %q, want %q (a CANCEL)", got, EndCallerCancel)
			}
		})
	}
}

func TestDialRegisteredUser(t *testing.T) {
	calls := make(chan *InboundCall, 1)
	callee := startServer(t, Config{}, answerWith(calls))
	dialer := startServer(t, Config{Realm: "example.test", Registrar: RegistrarConfig{Enabled: true}}, nil)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if _, err := dialer.Dial(ctx, DialRequest{To: "sip:carol@example.test", Offer: ourOffer}); !errors.Is(err, ErrNotRegistered) {
		t.Fatalf("Dial to an unregistered user: %v, want ErrNotRegistered", err)
	}
	b := NewMemoryBindings()
	dialer.SetBindings(b)
	contact := "sip:carol@" + callee.Addrs().UDP[0].String()
	if err := b.Put(ctx, "sip:carol@example.test", Binding{Contact: contact, Expires: time.Now().Add(time.Hour), Transport: "UDP"}); err != nil {
		t.Fatal(err)
	}
	oc, err := dialer.Dial(ctx, DialRequest{To: "sip:carol@example.test", Offer: ourOffer})
	if err != nil {
		t.Fatalf("Dial: %v", err)
	}
	in := recvCall(t, calls)
	if in.To() != "carol" {
		t.Errorf("callee saw To %q, want carol", in.To())
	}
	oc.Hangup(ctx)
	waitDone(t, in, 5*time.Second)

	// Our host at another port is another agent, not our registrar's
	// user: dialled directly.
	oc, err = dialer.Dial(ctx, DialRequest{To: "sip:dave@" + callee.Addrs().UDP[0].String(), Offer: ourOffer})
	if err != nil {
		t.Fatalf("Dial to our host at another port: %v, want it dialled directly", err)
	}
	if in := recvCall(t, calls); in.To() != "dave" {
		t.Errorf("callee saw To %q, want dave", in.To())
	}
	oc.Hangup(ctx)
}

func TestDialRequestChecks(t *testing.T) {
	s := startServer(t, Config{}, nil)
	for _, d := range []DialRequest{
		{To: "sip:bob@127.0.0.1:9", Offer: ourOffer, Headers: map[string]string{"X-Evil": "a\r\nVia: x"}},
		{To: "sip:bob@127.0.0.1:9", Offer: ourOffer, Headers: map[string]string{"Call-ID": "mine"}},
		{To: "sip:bob@127.0.0.1:9", Offer: ourOffer, FromDisplay: "a\nb"},
		{To: "sip:bob@127.0.0.1:9", Offer: ourOffer, From: "a@b"},
		{To: "tel:+15551234", Offer: ourOffer},
		{To: "sip:bob@127.0.0.1:9", Offer: MediaAnswer{Codec: media.PCMU}},
	} {
		if _, err := s.Dial(context.Background(), d); err == nil {
			t.Errorf("Dial(%+v) succeeded, want an error", d)
		}
	}
}

// stubUAS is a callee written on a raw UDP socket, for what the package's
// own server does not do as a callee: Record-Route, retransmitting its
// 2xx on purpose, re-INVITEs. It answers one INVITE.
type stubUAS struct {
	t      *testing.T
	conn   net.PacketConn
	addr   netip.AddrPort
	reqs   chan *sipmsg.Request  // requests from the dialer (ACK, BYE)
	resps  chan *sipmsg.Response // responses to our requests
	invite *sipmsg.Request
	from   net.Addr // where the INVITE came from
	ok     *sipmsg.Response
}

func newStubUAS(t *testing.T) *stubUAS {
	c, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	u := &stubUAS{t: t, conn: c, addr: addrPort(c.LocalAddr()), reqs: make(chan *sipmsg.Request, 16), resps: make(chan *sipmsg.Response, 16)}
	done := make(chan struct{})
	go func() {
		defer close(done)
		buf := make([]byte, 65536)
		for {
			n, from, err := c.ReadFrom(buf)
			if err != nil {
				return
			}
			m, err := sipmsg.ParseMessage(bytes.Clone(buf[:n]))
			if err != nil {
				t.Errorf("stub UAS: unparsable message: %v", err)
				continue
			}
			switch m := m.(type) {
			case *sipmsg.Request:
				if m.IsInvite() && u.invite == nil {
					u.invite, u.from = m, from
				}
				u.reqs <- m
			case *sipmsg.Response:
				u.resps <- m
			}
		}
	}()
	t.Cleanup(func() { c.Close(); <-done })
	return u
}

func (u *stubUAS) send(m sipmsg.Message, to net.Addr) {
	u.t.Helper()
	if _, err := u.conn.WriteTo([]byte(m.String()), to); err != nil {
		u.t.Fatalf("stub UAS: send: %v", err)
	}
}

func (u *stubUAS) next(method sipmsg.RequestMethod) *sipmsg.Request {
	u.t.Helper()
	timeout := time.After(5 * time.Second)
	for {
		select {
		case r := <-u.reqs:
			if r.Method == method {
				return r
			}
		case <-timeout:
			u.t.Fatalf("stub UAS: no %s within 5s", method)
			return nil
		}
	}
}

// answer waits for the INVITE and answers it 200 with recordRoutes (in
// the order given) and an SDP answer at 127.0.0.1:rtpPort, sent twice:
// the second a retransmission.
func (u *stubUAS) answer(recordRoutes []string, rtpPort int) {
	u.answerWith(recordRoutes, sdpText("127.0.0.1", rtpPort, "", "8 101", "a=rtpmap:8 PCMA/8000", "a=rtpmap:101 telephone-event/8000"))
}

func (u *stubUAS) answerWith(recordRoutes []string, sdp string) {
	u.t.Helper()
	inv := u.next(sipmsg.INVITE)
	u.send(sipmsg.NewResponseFromRequest(inv, 180, "Ringing", nil), u.from)
	res := sipmsg.NewResponseFromRequest(inv, 200, "OK", []byte(sdp))
	res.To().Params.Add("tag", "stubtag")
	for _, rr := range recordRoutes {
		res.AppendHeader(sipmsg.NewHeader("Record-Route", rr))
	}
	res.AppendHeader(sipmsg.NewHeader("Contact", fmt.Sprintf("<sip:stub@%s>", u.addr)))
	res.AppendHeader(sipmsg.NewHeader("Content-Type", "application/sdp"))
	u.ok = res
	u.send(res, u.from)
}

// request sends an in-dialog request to the dialer's Contact and returns
// its final response.
func (u *stubUAS) request(method sipmsg.RequestMethod, cseq uint32, body string) *sipmsg.Response {
	u.t.Helper()
	contact := u.invite.Contact().Address
	req := sipmsg.NewRequest(method, contact)
	req.AppendHeader(sipmsg.NewHeader("Via", fmt.Sprintf("SIP/2.0/UDP %s;branch=z9hG4bK%s", u.addr, randomHex(8))))
	req.AppendHeader(sipmsg.NewHeader("Max-Forwards", "70"))
	req.AppendHeader(sipmsg.NewHeader("From", "<"+u.invite.To().Address.String()+">;tag=stubtag"))
	req.AppendHeader(sipmsg.NewHeader("To", u.invite.From().Value()))
	req.AppendHeader(sipmsg.NewHeader("Call-ID", u.invite.CallID().Value()))
	req.AppendHeader(sipmsg.NewHeader("CSeq", fmt.Sprintf("%d %s", cseq, method)))
	req.AppendHeader(sipmsg.NewHeader("Contact", fmt.Sprintf("<sip:stub@%s>", u.addr)))
	if body != "" {
		req.AppendHeader(sipmsg.NewHeader("Content-Type", "application/sdp"))
	}
	req.SetBody([]byte(body))
	to, err := net.ResolveUDPAddr("udp", net.JoinHostPort(contact.Host, strconv.Itoa(contact.Port)))
	if err != nil {
		u.t.Fatal(err)
	}
	u.send(req, to)
	timeout := time.After(5 * time.Second)
	for {
		select {
		case res := <-u.resps:
			if res.StatusCode >= 200 && res.CSeq().MethodName == method {
				if method == sipmsg.INVITE {
					ack := sipmsg.NewRequest(sipmsg.ACK, contact)
					for _, name := range []string{"Via", "From", "To", "Call-ID"} {
						ack.AppendHeader(req.GetHeader(name))
					}
					ack.AppendHeader(sipmsg.NewHeader("CSeq", fmt.Sprintf("%d ACK", cseq)))
					ack.SetBody(nil)
					u.send(ack, to)
				}
				return res
			}
		case <-timeout:
			u.t.Fatalf("stub UAS: no answer to %s", method)
			return nil
		}
	}
}

func routes(r *sipmsg.Request) []string {
	var out []string
	for _, h := range r.GetHeaders("Route") {
		out = append(out, h.Value())
	}
	return out
}

// TestDialRecordRoute checks the UAC's route set (RFC 3261 §12.1.2): the
// 2xx's Record-Route reversed goes in the ACK's and BYE's Route, and a
// strict router moves into the Request-URI. Both "proxies" are the stub's
// own address, so every request still reaches it. It also checks the 2xx
// retransmission gets a second ACK.
func TestDialRecordRoute(t *testing.T) {
	for _, tc := range []struct {
		name       string
		strict     bool
		wantRURI   func(stub string) string
		wantRoutes func(stub string) []string
	}{
		{
			name:     "loose",
			wantRURI: func(stub string) string { return "sip:stub@" + stub },
			wantRoutes: func(stub string) []string {
				return []string{"<sip:" + stub + ";lr;n=p2>", "<sip:" + stub + ";lr;n=p1>"}
			},
		},
		{
			name:     "strict",
			strict:   true,
			wantRURI: func(stub string) string { return "sip:" + stub + ";n=p2" },
			wantRoutes: func(stub string) []string {
				return []string{"<sip:" + stub + ";lr;n=p1>", "<sip:stub@" + stub + ">"}
			},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			stub := newStubUAS(t)
			a := stub.addr.String()
			// Record-Route as the callee sends it: nearest proxy (p1) last.
			rr := []string{"<sip:" + a + ";lr;n=p1>", "<sip:" + a + ";lr;n=p2>"}
			if tc.strict {
				rr[1] = "<sip:" + a + ";n=p2>"
			}
			dialer := startServer(t, Config{}, nil)
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			go stub.answer(rr, 42000)
			oc, err := dialer.Dial(ctx, DialRequest{To: "sip:stub@" + a, Offer: ourOffer})
			if err != nil {
				t.Fatalf("Dial: %v", err)
			}
			if got := oc.Answer().Addr; got != netip.MustParseAddrPort("127.0.0.1:42000") {
				t.Errorf("Answer().Addr = %s, want 127.0.0.1:42000", got)
			}
			ack := stub.next(sipmsg.ACK)
			check := func(r *sipmsg.Request) {
				t.Helper()
				if got := r.Recipient.String(); got != tc.wantRURI(a) {
					t.Errorf("%s Request-URI %s, want %s", r.Method, got, tc.wantRURI(a))
				}
				if got, want := routes(r), tc.wantRoutes(a); strings.Join(got, ",") != strings.Join(want, ",") {
					t.Errorf("%s Route %q, want %q", r.Method, got, want)
				}
				if tag, _ := r.To().Params.Get("tag"); tag != "stubtag" {
					t.Errorf("%s To tag %q, want stubtag", r.Method, tag)
				}
			}
			check(ack)
			if ack.CSeq().SeqNo != stub.invite.CSeq().SeqNo {
				t.Errorf("ACK CSeq %d, INVITE's %d", ack.CSeq().SeqNo, stub.invite.CSeq().SeqNo)
			}
			// The 2xx again: the ACK again (RFC 3261 §13.2.2.4).
			stub.send(stub.ok, stub.from)
			check(stub.next(sipmsg.ACK))

			go oc.Hangup(ctx)
			bye := stub.next(sipmsg.BYE)
			check(bye)
			if bye.CSeq().SeqNo != ack.CSeq().SeqNo+1 {
				t.Errorf("BYE CSeq %d after INVITE %d", bye.CSeq().SeqNo, ack.CSeq().SeqNo)
			}
			stub.send(sipmsg.NewResponseFromRequest(bye, 200, "OK", nil), stub.from)
			if got := waitOutbound(t, oc, 5*time.Second); got != EndServerBye {
				t.Errorf("EndReason() = %q, want %q", got, EndServerBye)
			}
		})
	}
}

// TestDialCalleeReinvite has the callee put the call on hold and take it
// off again with re-INVITEs, then hang up.
func TestDialCalleeReinvite(t *testing.T) {
	stub := newStubUAS(t)
	dialer := startServer(t, Config{}, nil)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	go stub.answer(nil, 42000)
	oc, err := dialer.Dial(ctx, DialRequest{To: "sip:stub@" + stub.addr.String(), Offer: ourOffer, Headers: map[string]string{"X-Campaign": "spring"}})
	if err != nil {
		t.Fatalf("Dial: %v", err)
	}
	stub.next(sipmsg.ACK)
	if h := stub.invite.GetHeader("X-Campaign"); h == nil || h.Value() != "spring" {
		t.Errorf("INVITE X-Campaign = %v, want spring", h)
	}
	for i, dir := range []string{SendOnly, SendRecv} {
		res := stub.request(sipmsg.INVITE, uint32(10+i), sdpText("127.0.0.1", 42000, dir, "8 101", "a=rtpmap:101 telephone-event/8000"))
		if res.StatusCode != 200 {
			t.Fatalf("re-INVITE %s answered %d", dir, res.StatusCode)
		}
		if want := "a=" + answerDirection(dir); !strings.Contains(string(res.Body()), want) || !strings.Contains(string(res.Body()), "RTP/AVP 8 101") {
			t.Errorf("re-INVITE %s answered with\n%s\nwant %s, PCMA and telephone-event", dir, res.Body(), want)
		}
		select {
		case o := <-oc.Updates():
			if o.Direction != dir {
				t.Errorf("Updates() delivered %s, want %s", o.Direction, dir)
			}
		case <-time.After(5 * time.Second):
			t.Fatalf("no update for the %s re-INVITE", dir)
		}
	}
	if res := stub.request(sipmsg.BYE, 20, ""); res.StatusCode != 200 {
		t.Errorf("BYE answered %d", res.StatusCode)
	}
	if got := waitOutbound(t, oc, 5*time.Second); got != EndCalleeBye {
		t.Errorf("EndReason() = %q, want %q", got, EndCalleeBye)
	}
}

// TestDialLeavesNoGoroutines places calls and stops the dialer with one
// still up: it gets a BYE, and no goroutine is left behind.
func TestDialLeavesNoGoroutines(t *testing.T) {
	before := runtime.NumGoroutine()
	t.Run("calls", func(t *testing.T) {
		calls := make(chan *InboundCall, 2)
		callee := startServer(t, Config{}, answerWith(calls))
		dialer, stop := startStoppableServer(t, Config{}, nil)
		t.Cleanup(stop)
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		oc, err := dialer.Dial(ctx, DialRequest{To: calleeURI(callee, "bob", "udp"), Offer: ourOffer})
		if err != nil {
			t.Fatalf("Dial: %v", err)
		}
		in := recvCall(t, calls)
		oc.Hangup(ctx)
		waitDone(t, in, 5*time.Second)
		oc, err = dialer.Dial(ctx, DialRequest{To: calleeURI(callee, "bob", "udp"), Offer: ourOffer})
		if err != nil {
			t.Fatalf("Dial: %v", err)
		}
		in = recvCall(t, calls)
		stop()
		if got := waitOutbound(t, oc, time.Second); got != EndShutdown {
			t.Errorf("call up at stop ended %q, want %q", got, EndShutdown)
		}
		if got := waitDone(t, in, 5*time.Second); got != EndCallerBye {
			t.Errorf("callee's call ended %q, want %q", got, EndCallerBye)
		}
	})
	deadline := time.Now().Add(5 * time.Second)
	for runtime.NumGoroutine() > before {
		if time.Now().After(deadline) {
			buf := make([]byte, 1<<20)
			t.Fatalf("%d goroutines before, %d after:\n%s", before, runtime.NumGoroutine(), buf[:runtime.Stack(buf, true)])
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// TestDialSIPp calls SIPp's built-in UAS, which answers and waits for our
// BYE.
func TestDialSIPp(t *testing.T) {
	bin := sippPath(t)
	port := freePort(t, "udp")
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, bin, "-sn", "uas", "-i", "127.0.0.1", "-p", strconv.Itoa(port), "-m", "1", "-nostdin", "-timeout", "15s", "-timeout_error")
	cmd.Dir = t.TempDir()
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	dialer := startServer(t, Config{}, nil)
	// SIPp needs a moment to bind; an INVITE before that is lost and
	// retransmitted by the transaction (T1), so one Dial suffices.
	oc, err := dialer.Dial(ctx, DialRequest{To: fmt.Sprintf("sip:service@127.0.0.1:%d", port), Offer: ourOffer, RingTimeout: 10 * time.Second})
	if err != nil {
		cancel()
		<-exited
		t.Fatalf("Dial: %v\n%s", err, tail(out.String(), 3000))
	}
	if a := oc.Answer(); !a.Addr.IsValid() || len(a.Codecs) == 0 {
		t.Errorf("Answer() = %+v", a)
	}
	if err := oc.Hangup(ctx); err != nil {
		t.Errorf("Hangup: %v", err)
	}
	select {
	case err := <-exited:
		if err != nil {
			t.Errorf("sipp: %v\n%s", err, tail(out.String(), 3000))
		}
	case <-time.After(10 * time.Second):
		t.Errorf("sipp still running after the call")
		cancel()
		<-exited
	}
}

// TestDialBaresip calls baresip with answermode=auto: it answers, its SDP
// answer names a port of its RTP range, and both sides can hang up.
func TestDialBaresip(t *testing.T) {
	for _, side := range []string{"we hang up", "baresip hangs up"} {
		t.Run(side, func(t *testing.T) {
			b := startBaresipCallee(t)
			dialer := startServer(t, Config{}, nil)
			ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
			defer cancel()
			oc, err := dialer.Dial(ctx, DialRequest{To: fmt.Sprintf("sip:callee@127.0.0.1:%d", b.SIPPort), From: "sambung", Offer: MediaAnswer{Addr: ourOffer.Addr, Codec: media.PCMU, DTMFPayloadType: 101}})
			if err != nil {
				t.Fatalf("Dial: %v\n%s", err, b.Output())
			}
			a := oc.Answer()
			if p := int(a.Addr.Port()); p < b.RTPLo || p >= b.RTPLo+20 || a.Addr.Addr() != netip.MustParseAddr("127.0.0.1") {
				t.Errorf("Answer().Addr = %s, want 127.0.0.1 and a port in baresip's %d-%d", a.Addr, b.RTPLo, b.RTPLo+19)
			}
			if len(a.Codecs) == 0 || a.Codecs[0].Name != "PCMU" {
				t.Errorf("Answer() codecs %v, want PCMU", a.Codecs)
			}
			if side == "we hang up" {
				if err := oc.Hangup(ctx); err != nil {
					t.Errorf("Hangup: %v", err)
				}
				b.WaitOutput("session closed", 5*time.Second) // baresip reports our BYE so
				return
			}
			b.Command("/hangup")
			if got := waitOutbound(t, oc, 5*time.Second); got != EndCalleeBye {
				t.Errorf("EndReason() = %q, want %q", got, EndCalleeBye)
			}
		})
	}
}

// startBaresipCallee starts baresip answering every call, speaking silence.
func startBaresipCallee(t *testing.T) *testenv.Baresip {
	t.Helper()
	mic := filepath.Join(t.TempDir(), "silence.wav")
	if err := os.WriteFile(mic, silenceWAV(10*time.Second), 0o644); err != nil {
		t.Fatal(err)
	}
	b := testenv.StartBaresip(t, testenv.BaresipCall{Mic: mic, User: "callee", Quit: 30 * time.Second})
	b.WaitOutput("baresip is ready.", 10*time.Second)
	return b
}

// silenceWAV is a WAV file of d of silence, 16-bit mono at 8 kHz.
func silenceWAV(d time.Duration) []byte {
	n := int(d.Seconds() * 8000 * 2)
	var b bytes.Buffer
	b.WriteString("RIFF")
	binary.Write(&b, binary.LittleEndian, uint32(36+n))
	b.WriteString("WAVEfmt ")
	for _, v := range []any{uint32(16), uint16(1), uint16(1), uint32(8000), uint32(16000), uint16(2), uint16(16)} {
		binary.Write(&b, binary.LittleEndian, v)
	}
	b.WriteString("data")
	binary.Write(&b, binary.LittleEndian, uint32(n))
	b.Write(make([]byte, n))
	return b.Bytes()
}

// TestDialUnusableAnswer has the callee answer with a codec we did not
// offer: the 2xx is acknowledged, then hung up (RFC 3261 §13.2.2.4), and
// Dial fails.
func TestDialUnusableAnswer(t *testing.T) {
	stub := newStubUAS(t)
	dialer := startServer(t, Config{}, nil)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	byes := make(chan *sipmsg.Request, 1)
	go func() {
		stub.answerWith(nil, sdpText("127.0.0.1", 42000, "", "18", "a=rtpmap:18 G729/8000"))
		stub.next(sipmsg.ACK)
		bye := stub.next(sipmsg.BYE)
		stub.send(sipmsg.NewResponseFromRequest(bye, 200, "OK", nil), stub.from)
		byes <- bye
	}()
	_, err := dialer.Dial(ctx, DialRequest{To: "sip:stub@" + stub.addr.String(), Offer: ourOffer})
	if !errors.Is(err, ErrNoCompatibleCodec) {
		t.Fatalf("Dial error = %v, want ErrNoCompatibleCodec", err)
	}
	select {
	case <-byes:
	case <-time.After(5 * time.Second):
		t.Fatal("no BYE for the refused answer")
	}
	if n := dialer.ActiveCalls(); n != 0 {
		t.Errorf("ActiveCalls() = %d, want 0", n)
	}
}
