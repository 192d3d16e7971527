package sip

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"fmt"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	sipmsg "github.com/emiago/sipgo/sip"
)

// udpPeer is a bare SIP endpoint on a UDP socket, for what sipgo's client
// will not do (record-routing, never ACKing).
type udpPeer struct {
	t    testing.TB
	conn *net.UDPConn
}

func newUDPPeer(t testing.TB) *udpPeer {
	c, err := net.ListenUDP("udp", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return &udpPeer{t: t, conn: c}
}

func (p *udpPeer) port() int { return p.conn.LocalAddr().(*net.UDPAddr).Port }

func (p *udpPeer) send(to net.Addr, msg string) {
	p.t.Helper()
	if _, err := p.conn.WriteTo([]byte(msg), to); err != nil {
		p.t.Fatal(err)
	}
}

// read returns the next message and its sender.
func (p *udpPeer) read() (sipmsg.Message, net.Addr) {
	p.t.Helper()
	buf := make([]byte, 65536)
	p.conn.SetReadDeadline(time.Now().Add(5 * time.Second))
	n, from, err := p.conn.ReadFrom(buf)
	if err != nil {
		p.t.Fatalf("read: %v", err)
	}
	m, err := sipmsg.ParseMessage(buf[:n])
	if err != nil {
		p.t.Fatalf("parse: %v\n%s", err, buf[:n])
	}
	return m, from
}

// TestRouteSet checks that our BYE follows the route set the INVITE's
// Record-Route made (RFC 3261 §12.2.1.1): to the first route, with the
// caller's Contact as Request-URI for loose routers, or the route itself
// as Request-URI (and the Contact last in Route) for a strict one.
func TestRouteSet(t *testing.T) {
	for _, tc := range []struct {
		name        string
		recordRoute func(proxy int) string
		wantURI     func(proxy, caller int) string
		wantRoute   func(proxy, caller int) []string
	}{
		{
			name:        "loose",
			recordRoute: func(proxy int) string { return fmt.Sprintf("<sip:127.0.0.1:%d;lr>, <sip:192.0.2.7;lr>", proxy) },
			wantURI:     func(proxy, caller int) string { return fmt.Sprintf("sip:raw@127.0.0.1:%d", caller) },
			wantRoute: func(proxy, caller int) []string {
				return []string{fmt.Sprintf("<sip:127.0.0.1:%d;lr>", proxy), "<sip:192.0.2.7;lr>"}
			},
		},
		{
			name:        "strict",
			recordRoute: func(proxy int) string { return fmt.Sprintf("<sip:127.0.0.1:%d>", proxy) },
			wantURI:     func(proxy, caller int) string { return fmt.Sprintf("sip:127.0.0.1:%d", proxy) },
			wantRoute: func(proxy, caller int) []string {
				return []string{fmt.Sprintf("<sip:raw@127.0.0.1:%d>", caller)}
			},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			hungUp := make(chan error, 1)
			s := startServer(t, Config{}, func(ctx context.Context, c *InboundCall) {
				if err := answer(ctx, c); err != nil {
					hungUp <- err
					return
				}
				hungUp <- c.Hangup(ctx)
			})
			server := net.UDPAddrFromAddrPort(s.Addrs().UDP[0])
			caller, proxy := newUDPPeer(t), newUDPPeer(t)

			invite := rawInvite(caller.port(), "rr-"+tc.name, offerSDP(30000, ""))
			invite = strings.Replace(invite, "Contact:", "Record-Route: "+tc.recordRoute(proxy.port())+"\r\nContact:", 1)
			caller.send(server, invite)
			var ok *sipmsg.Response
			for ok == nil {
				m, _ := caller.read()
				if res, isRes := m.(*sipmsg.Response); isRes && res.StatusCode == 200 {
					ok = res
				}
			}
			if got := len(ok.GetHeaders("Record-Route")); got != strings.Count(tc.recordRoute(proxy.port()), "<") {
				t.Errorf("200 OK has %d Record-Route, want them copied", got)
			}
			ack := fmt.Sprintf("ACK %s SIP/2.0\r\nVia: SIP/2.0/UDP 127.0.0.1:%d;branch=z9hG4bK-ack-%s\r\nMax-Forwards: 70\r\n"+
				"From: %s\r\nTo: %s\r\nCall-ID: %s\r\nCSeq: 1 ACK\r\nContent-Length: 0\r\n\r\n",
				ok.Contact().Address.String(), caller.port(), tc.name, ok.From().Value(), ok.To().Value(), ok.CallID().Value())
			caller.send(server, ack)

			m, from := proxy.read()
			bye, isReq := m.(*sipmsg.Request)
			if !isReq || bye.Method != sipmsg.BYE {
				t.Fatalf("the first route got %v, want a BYE", m)
			}
			if got, want := bye.Recipient.String(), tc.wantURI(proxy.port(), caller.port()); got != want {
				t.Errorf("BYE Request-URI %s, want %s", got, want)
			}
			var routes []string
			for _, h := range bye.GetHeaders("Route") {
				routes = append(routes, h.Value())
			}
			if got, want := strings.Join(routes, ", "), strings.Join(tc.wantRoute(proxy.port(), caller.port()), ", "); got != want {
				t.Errorf("BYE Route %s, want %s", got, want)
			}
			if tag, _ := bye.To().Params.Get("tag"); tag != "raw-rr-"+tc.name {
				t.Errorf("BYE To tag %q, want the caller's", tag)
			}
			proxy.send(from, sipmsg.NewResponseFromRequest(bye, 200, "OK", nil).String())
			select {
			case err := <-hungUp:
				if err != nil {
					t.Errorf("Hangup: %v", err)
				}
			case <-time.After(5 * time.Second):
				t.Fatal("Hangup did not return")
			}
		})
	}
}

// TestTLSOptions checks the TLS listener's plumbing: a certificate from
// files, a handshake, OPTIONS answered over it.
func TestTLSOptions(t *testing.T) {
	dir := t.TempDir()
	certFile, keyFile := filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem")
	writeSelfSigned(t, certFile, keyFile)
	s := startServer(t, Config{TLS: []string{"127.0.0.1:0"}, TLSCert: certFile, TLSKey: keyFile}, nil)
	if len(s.Addrs().TLS) != 1 || s.Addrs().TLS[0].Port() == 0 {
		t.Fatalf("Addrs() = %+v", s.Addrs())
	}
	conn, err := tls.Dial("tcp", s.Addrs().TLS[0].String(), &tls.Config{InsecureSkipVerify: true}) // our own test certificate
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	options := strings.ReplaceAll(string(message("tls1", optionsHead, "")), "SIP/2.0/UDP", "SIP/2.0/TLS")
	if _, err := conn.Write([]byte(options)); err != nil {
		t.Fatal(err)
	}
	if code := readFinal(conn, "tls"); code != 200 {
		t.Errorf("OPTIONS over TLS answered %d", code)
	}
}

func writeSelfSigned(t testing.TB, certFile, keyFile string) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1),
		Subject:      pkix.Name{CommonName: "127.0.0.1"},
		IPAddresses:  []net.IP{net.IPv4(127, 0, 0, 1)},
		NotBefore:    time.Now().Add(-time.Hour),
		NotAfter:     time.Now().Add(time.Hour),
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	keyDER, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(certFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(keyFile, pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: keyDER}), 0o600); err != nil {
		t.Fatal(err)
	}
}

func TestCleanText(t *testing.T) {
	for _, tc := range []struct {
		in   string
		mode int
		want string
	}{
		{"sips%3Auser%40example.com", unescapePercent, "sips:user@example.com"},
		{"null-%00-null", unescapePercent, "null--null"},
		{"%zz%4", unescapePercent, "%zz%4"},
		{`J Rosenberg \\\"`, unescapeQuoted, `J Rosenberg \"`},
		{"BEL:\\\x07 NUL:\\\x00 DEL:\\\x7f", unescapeQuoted, "BEL: NUL: DEL:"},
		{"caf\xc3\xa9 \xff", asIs, "café "},
		{"a\r\nb", asIs, "ab"},
	} {
		if got := cleanText(tc.in, tc.mode); got != tc.want {
			t.Errorf("cleanText(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}
