package sip

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	sipmsg "github.com/emiago/sipgo/sip"
)

// message builds a raw SIP message: {id} becomes a value unique to the
// case, {body} the body, {len} its length.
func message(id, text, body string) []byte {
	text = strings.NewReplacer("{id}", id, "{len}", fmt.Sprint(len(body))).Replace(text)
	text = strings.ReplaceAll(text, "\n", "\r\n")
	return []byte(text + body)
}

const (
	optionsHead = `OPTIONS sip:echo@127.0.0.1 SIP/2.0
Via: SIP/2.0/UDP 192.0.2.1;branch=z9hG4bK-{id}
Max-Forwards: 70
From: <sip:test@example.com>;tag={id}
To: <sip:echo@127.0.0.1>
Call-ID: {id}
CSeq: 1 OPTIONS
Content-Length: 0

`
	inviteHead = `INVITE sip:echo@127.0.0.1 SIP/2.0
Via: SIP/2.0/UDP 192.0.2.1;branch=z9hG4bK-{id}
Max-Forwards: 70
From: <sip:test@example.com>;tag={id}
To: <sip:echo@127.0.0.1>
Call-ID: {id}
CSeq: 1 INVITE
Contact: <sip:test@192.0.2.1>
Content-Type: application/sdp
Content-Length: {len}

`
)

// edit changes a message template: each pair replaces a line's start (up
// to and including ": ", or the whole request line) with a new line, or
// deletes it when the new line is "".
func edit(text string, pairs ...string) string {
	lines := strings.Split(text, "\n")
	for i := 0; i < len(pairs); i += 2 {
		for j, l := range lines {
			if strings.HasPrefix(l, pairs[i]) {
				lines[j] = pairs[i+1]
				if pairs[i+1] == "" {
					lines = append(lines[:j], lines[j+1:]...)
				}
				break
			}
		}
	}
	return strings.Join(lines, "\n")
}

// TestValidation sends hand-made requests, each breaking one rule, over UDP
// and TCP, and checks the answer (0: none, the message is dropped).
func TestValidation(t *testing.T) {
	sdp := offerSDP(30000, "")
	cases := []struct {
		name   string
		text   string
		body   string
		udp    int // expected final status over UDP
		tcp    int // and over TCP
		header string
	}{
		{"valid OPTIONS", optionsHead, "", 200, 200, "Allow: " + allowedMethods},
		{"version 3.0", edit(optionsHead, "OPTIONS", "OPTIONS sip:echo@127.0.0.1 SIP/3.0"), "", 505, 505, ""},
		{"no Max-Forwards", edit(optionsHead, "Max-Forwards", ""), "", 400, 400, ""},
		{"no Call-ID", edit(optionsHead, "Call-ID", ""), "", 400, 400, ""},
		{"no From", edit(optionsHead, "From", ""), "", 400, 400, ""},
		{"two To", edit(optionsHead, "To", "To: <sip:echo@127.0.0.1>\nTo: <sip:other@127.0.0.1>"), "", 400, 400, ""},
		{"CSeq method mismatch", edit(optionsHead, "CSeq", "CSeq: 1 INVITE"), "", 400, 400, ""},
		{"Max-Forwards 0", edit(optionsHead, "Max-Forwards", "Max-Forwards: 0"), "", 483, 483, ""},
		{"unknown method", strings.ReplaceAll(optionsHead, "OPTIONS", "FROBNICATE"), "", 405, 405, "Allow: " + allowedMethods},
		{"REGISTER", strings.ReplaceAll(optionsHead, "OPTIONS", "REGISTER"), "", 405, 405, ""},
		{"tel URI", edit(optionsHead, "OPTIONS", "OPTIONS tel:+6281234567 SIP/2.0"), "", 416, 416, ""},
		{"<> around Request-URI", edit(optionsHead, "OPTIONS", "OPTIONS <sip:echo@127.0.0.1> SIP/2.0"), "", 0, 0, ""}, // sipgo drops it
		{"headers in Request-URI", edit(optionsHead, "OPTIONS", "OPTIONS sip:echo@127.0.0.1?Route=%3Csip:x%3E SIP/2.0"), "", 400, 400, ""},
		{"Require", edit(optionsHead, "Content-Length", "Require: 100rel, foo\nContent-Length: 0"), "", 420, 420, "Unsupported: 100rel, foo"},
		{"two Content-Length", edit(optionsHead, "Content-Length", "Content-Length: 0\nContent-Length: 0"), "", 400, 400, ""},
		{"CANCEL without INVITE", strings.ReplaceAll(optionsHead, "OPTIONS", "CANCEL"), "", 481, 481, ""},
		{"BYE outside a dialog", edit(strings.ReplaceAll(optionsHead, "OPTIONS", "BYE"), "To", "To: <sip:echo@127.0.0.1>;tag=nosuch"), "", 481, 481, ""},
		{"ACK outside a dialog", edit(strings.ReplaceAll(optionsHead, "OPTIONS", "ACK"), "To", "To: <sip:echo@127.0.0.1>;tag=nosuch"), "", 0, 0, ""},
		{"bad ACK", edit(strings.ReplaceAll(optionsHead, "OPTIONS", "ACK"), "Max-Forwards", ""), "", 0, 0, ""},
		{"INVITE no From tag", edit(inviteHead, "From", "From: <sip:test@example.com>"), sdp, 400, 400, ""},
		{"INVITE no Contact", edit(inviteHead, "Contact", ""), sdp, 400, 400, ""},
		{"INVITE text body", edit(inviteHead, "Content-Type", "Content-Type: text/plain"), "hello", 415, 415, "Accept: application/sdp"},
		{"INVITE gzip body", edit(inviteHead, "Content-Type", "Content-Type: application/sdp\nContent-Encoding: gzip"), sdp, 415, 415, ""},
		{"INVITE Accept text", edit(inviteHead, "Content-Type", "Content-Type: application/sdp\nAccept: text/plain"), sdp, 406, 406, ""},
		{"INVITE no offer", edit(inviteHead, "Content-Type", ""), "", 488, 488, ""},
		{"INVITE G.729 only", inviteHead, sdpText("127.0.0.1", 30000, "", "18", "a=rtpmap:18 G729/8000"), 488, 488, ""},
		{"INVITE SRTP only", inviteHead, strings.ReplaceAll(sdp, "RTP/AVP", "RTP/SAVP"), 488, 488, ""},
		{"INVITE garbage SDP", inviteHead, "this is not sdp\r\n", 400, 400, ""},
		{"INVITE c= hostname", inviteHead, strings.ReplaceAll(sdp, "c=IN IP4 127.0.0.1", "c=IN IP4 media.example.com"), 488, 488, ""},
		{"INVITE e: gzip", edit(inviteHead, "Content-Type", "Content-Type: application/sdp\ne: gzip"), sdp, 415, 415, ""},
		// sipgo cannot parse these; over UDP the read filter answers what
		// it can, over TCP the connection is closed.
		{"Content-Length past the end", edit(optionsHead, "Content-Length", "Content-Length: 50"), "short", 400, 0, ""},
		{"negative Content-Length", edit(optionsHead, "Content-Length", "Content-Length: -1"), "", 400, 0, ""},
		{"bad CSeq number", edit(optionsHead, "CSeq", "CSeq: x OPTIONS"), "", 0, 0, ""},
		{"not SIP", "GET / HTTP/1.1\nHost: example.com\n\n", "", 0, 0, ""},
		{"oversized", edit(optionsHead, "Content-Length", "X-Pad: "+strings.Repeat("a", 40000)+"\nContent-Length: 0"), "", 513, 0, ""},
	}
	s := startServer(t, Config{MaxMessageSize: 32 << 10}, func(ctx context.Context, c *InboundCall) {
		c.Reject(404, "")
	})
	for _, network := range []string{"udp", "tcp"} {
		addr := s.Addrs().UDP[0]
		if network == "tcp" {
			addr = s.Addrs().TCP[0]
		}
		for i, tc := range cases {
			want := tc.udp
			if network == "tcp" {
				want = tc.tcp
			}
			t.Run(network+"/"+tc.name, func(t *testing.T) {
				t.Parallel()
				msg := message(fmt.Sprintf("v%d%s", i, network), tc.text, tc.body)
				if network == "udp" && len(msg) > 65000 {
					t.Skip("larger than a datagram")
				}
				wait := 2 * time.Second
				if want == 0 {
					wait = 500 * time.Millisecond
				}
				rs := exchange(t, network, addr, msg, wait)
				if got := finalCode(rs); got != want {
					t.Fatalf("final status %d, want %d (responses: %v)", got, want, statuses(rs))
				}
				if tc.header != "" {
					name, value, _ := strings.Cut(tc.header, ": ")
					if h := rs[len(rs)-1].GetHeader(name); h == nil || h.Value() != value {
						t.Errorf("%s = %v, want %q", name, h, value)
					}
				}
			})
		}
	}
	t.Cleanup(func() {
		st := s.Stats()
		if st.Dropped == 0 || st.Rejected == 0 {
			t.Errorf("Stats() = %+v: drops and rejections went uncounted", st)
		}
	})
}

func statuses(rs []*sipmsg.Response) []int {
	var out []int
	for _, r := range rs {
		out = append(out, r.StatusCode)
	}
	return out
}

func TestTCPConnectionLimits(t *testing.T) {
	s := startServer(t, Config{MaxConnsPerIP: 2, TCPReadTimeout: 300 * time.Millisecond}, nil)
	addr := s.Addrs().TCP[0].String()
	var conns []interface{ Close() error }
	defer func() {
		for _, c := range conns {
			c.Close()
		}
	}()
	for range 3 {
		c, err := dialTCP(addr)
		if err != nil {
			t.Fatal(err)
		}
		conns = append(conns, c)
	}
	waitFor(t, 5*time.Second, "the third connection refused", func() bool { return s.Stats().RefusedConns == 1 })

	// An idle connection is closed after TCPReadTimeout.
	idle, err := dialTCP(addr)
	if err == nil {
		defer idle.Close()
	}
	c, err := dialTCP(addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.SetReadDeadline(time.Now().Add(5 * time.Second))
	start := time.Now()
	if _, err := c.Read(make([]byte, 1)); err == nil {
		t.Fatal("read data from an idle connection")
	}
	if d := time.Since(start); d > 4*time.Second {
		t.Errorf("idle connection still open after %v", d)
	}
}

func TestConfigErrors(t *testing.T) {
	for _, tc := range []struct {
		name string
		cfg  Config
		want string
	}{
		{"bad address", Config{UDP: []string{"nonsense"}}, "listen udp nonsense"},
		{"TLS without key", Config{TLS: []string{"127.0.0.1:0"}}, "TLSCert and TLSKey"},
		{"TLS missing files", Config{TLS: []string{"127.0.0.1:0"}, TLSCert: "/nonexistent.pem", TLSKey: "/nonexistent.key"}, "load TLS key pair"},
		{"CRLF in UserAgent", Config{UDP: []string{"127.0.0.1:0"}, UserAgent: "x\r\nVia: evil"}, "UserAgent"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s, err := New(tc.cfg, nil)
			if err == nil {
				s.Close()
				t.Fatalf("New succeeded")
			}
			if !strings.Contains(err.Error(), tc.want) {
				t.Errorf("error %q does not mention %q", err, tc.want)
			}
		})
	}
}

func TestValidHeaderValue(t *testing.T) {
	for s, want := range map[string]bool{
		"Sambung 1.0": true, "": true, "a\rb": false, "a\nb": false, "a\x00b": false, "é": true,
	} {
		if got := validHeaderValue(s); got != want {
			t.Errorf("validHeaderValue(%q) = %v", s, got)
		}
	}
	c := &InboundCall{callID: "x"}
	if err := c.Reject(486, "Busy\r\nX-Evil: 1"); err == nil {
		t.Error("Reject took a reason with CRLF")
	}
	if err := c.Reject(200, "OK"); err == nil {
		t.Error("Reject took a 200")
	}
}
