package sip

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	sipmsg "github.com/emiago/sipgo/sip"
)

// The RFC 4475 torture messages (testdata/sip/rfc4475, byte for byte the
// RFC's Appendix B archive) sent over UDP and TCP to a server with a call
// in progress. The table records what the server does with each: the
// final status it answers, or "dropped" when it answers nothing (sipgo's
// parser refused the message, or it is a response, which matches no
// transaction). INVITEs that pass validation reach the test handler,
// which rejects every call but the one in progress with 404.
//
// Where the RFC asks for a response the server cannot safely give (the
// message does not parse far enough to copy Via, From, To, Call-ID and
// CSeq), dropping it is the documented choice; over TCP a parse error also
// closes the connection, since the stream has lost its framing.
var tortureTable = []struct {
	file     string
	section  string
	udp, tcp string // the final status, or "dropped"; "|" separates outcomes that race
	note     string
}{
	// §3.1.1 Valid messages.
	{"wsinv", "3.1.1.1", "400", "400", "sipgo's transaction layer answers 400: the branch lacks the magic cookie, so it keys the transaction on the From tag, and it does not read \"tag = 98asjd8\" (LWS around =)"},
	{"intmeth", "3.1.1.2", "405", "405", "unknown method made of every token character"},
	{"esc01", "3.1.1.3", "404", "404", "escapes in URIs; To() is sips:user@example.com"},
	{"escnull", "3.1.1.4", "405", "405", "REGISTER (not served) with %00 in URIs"},
	{"esc02", "3.1.1.5", "405", "405", "method with escapes is just an unknown method"},
	{"lwsdisp", "3.1.1.6", "200", "200", "display name without LWS before <"},
	{"longreq", "3.1.1.7", "404", "404", "long values everywhere; reaches the handler"},
	{"dblreq", "3.1.1.8", "405", "405|dropped", "REGISTER with an INVITE after its end: over UDP the INVITE is discarded (§18.3); over TCP it is a second message whose body overruns, and the broken stream closes the connection, racing the 405"},
	{"semiuri", "3.1.1.9", "200", "200", "semicolon in the user part"},
	{"transports", "3.1.1.10", "200", "200", "Via with unknown transports"},
	{"mpart01", "3.1.1.11", "405", "405", "MESSAGE with a binary multipart body"},
	{"unreason", "3.1.1.12", "dropped", "dropped", "response with UTF-8 reason: no transaction"},
	{"noreason", "3.1.1.13", "dropped", "dropped", "response without reason: no transaction"},
	// §3.1.2 Invalid messages.
	{"badinv01", "3.1.2.1", "400", "dropped", "empty parameters in Via and Contact: sipgo fails at Contact, after every header a response needs; stateless 400 over UDP"},
	{"clerr", "3.1.2.2", "400", "dropped", "Content-Length past the end: stateless 400 over UDP; over TCP the server waits for the rest"},
	{"ncl", "3.1.2.3", "400", "dropped", "negative Content-Length: stateless 400 over UDP; over TCP no framing, connection closed"},
	{"scalar02", "3.1.2.4", "dropped", "dropped", "CSeq overflow: the headers after it are lost"},
	{"scalarlg", "3.1.2.5", "dropped", "dropped", "response with overlarge values"},
	{"quotbal", "3.1.2.6", "dropped", "dropped", "unterminated quote in To"},
	{"ltgtruri", "3.1.2.7", "dropped", "dropped", "Request-URI in <>"},
	{"lwsruri", "3.1.2.8", "dropped", "dropped", "LWS in the Request-URI"},
	{"lwsstart", "3.1.2.9", "dropped", "dropped", "two spaces in the request line"},
	{"trws", "3.1.2.10", "dropped", "dropped", "trailing spaces on the request line"},
	{"escruri", "3.1.2.11", "400", "400", "escaped headers in the Request-URI"},
	{"baddate", "3.1.2.12", "404", "404", "non-GMT Date is ignored (allowed by the RFC)"},
	{"regbadct", "3.1.2.13", "405", "405", "REGISTER"},
	{"badaspec", "3.1.2.14", "dropped", "dropped", "spaces inside <> in To: sipgo cannot parse To, so no response can be built"},
	{"baddn", "3.1.2.15", "400", "dropped", "no blank line after the headers: stateless 400 over UDP; over TCP the message never ends"},
	{"badvers", "3.1.2.16", "505", "505", "SIP/7.0"},
	{"mismatch01", "3.1.2.17", "400", "400", "CSeq method mismatch"},
	{"mismatch02", "3.1.2.18", "400", "400", "unknown method and CSeq mismatch"},
	{"bigcode", "3.1.2.19", "dropped", "dropped", "response code out of range"},
	// §3.2 Transaction layer.
	{"badbranch", "3.2.1", "200", "200", "branch of the magic cookie alone: RFC 2543 matching"},
	// §3.3 Application layer.
	{"insuf", "3.3.1", "400", "400", "missing To, From, Call-ID, Max-Forwards"},
	{"unkscm", "3.3.2", "416", "416", "unknown Request-URI scheme"},
	{"novelsc", "3.3.3", "dropped", "dropped", "soap.beep Request-URI: sipgo refuses the scheme (the RFC wants 416)"},
	{"unksm2", "3.3.4", "405", "405", "REGISTER with non-SIP To and From"},
	{"bext01", "3.3.5", "420", "420", "Require with unknown options"},
	{"invut", "3.3.6", "415", "415", "unknown Content-Type"},
	{"regaut01", "3.3.7", "405", "405", "REGISTER with unknown authorization"},
	{"multi01", "3.3.8", "400", "400", "several To, From, Call-ID, CSeq"},
	{"mcl01", "3.3.9", "400", "400|dropped", "two Content-Length: 400 over UDP; over TCP the body framing breaks and the connection closes, racing the 400"},
	{"bcast", "3.3.10", "dropped", "dropped", "response with a broadcast Via"},
	{"zeromf", "3.3.11", "483", "483", "Max-Forwards 0"},
	{"cparam01", "3.3.12", "405", "405", "REGISTER"},
	{"cparam02", "3.3.13", "405", "405", "REGISTER"},
	{"regescrt", "3.3.14", "405", "405", "REGISTER"},
	{"sdp01", "3.3.15", "406", "406", "Accept without application/sdp"},
	// §3.4 Backward compatibility.
	{"inv2543", "3.4.1", "400", "dropped", "RFC 2543 INVITE without branch, From tag or Max-Forwards: sipgo answers 400 (no From tag to key on) and we require RFC 3261 anyway; over TCP there is no Content-Length to frame it"},
}

// TestTorture sends each message, over UDP and over TCP, to a server of its
// own with a call in progress: the messages reuse branch values and sent-by
// hosts (many are "z9hG4bKkdjuw" from host.example.com), so on one server
// they would match each other's transactions (RFC 3261 §17.2.3 matches on
// branch, sent-by and method, whatever the transport) and be absorbed as
// retransmissions.
func TestTorture(t *testing.T) {
	files := tortureFiles(t)
	if len(files) != len(tortureTable) {
		t.Fatalf("%d files in testdata/sip/rfc4475, %d in the table", len(files), len(tortureTable))
	}
	var mu sync.Mutex
	got := make(map[string]int)
	t.Run("messages", func(t *testing.T) {
		for _, tc := range tortureTable {
			msg, err := os.ReadFile(filepath.Join("..", "testdata", "sip", "rfc4475", tc.file+".dat"))
			if err != nil {
				t.Fatal(err)
			}
			for _, network := range []string{"udp", "tcp"} {
				want := tc.udp
				if network == "tcp" {
					want = tc.tcp
				}
				t.Run(tc.file+"/"+network, func(t *testing.T) {
					t.Parallel()
					code := torture(t, network, msg)
					mu.Lock()
					got[tc.file+"/"+network] = code
					mu.Unlock()
					if !slices.Contains(strings.Split(want, "|"), status(code)) {
						t.Errorf("§%s %s over %s: %s, want %s (%s)", tc.section, tc.file, network, status(code), want, tc.note)
					}
				})
			}
		}
	})
	if testing.Verbose() {
		var b strings.Builder
		for _, tc := range tortureTable {
			fmt.Fprintf(&b, "%-11s %-8s udp %-7s tcp %-7s %s\n", tc.file, tc.section, status(got[tc.file+"/udp"]), status(got[tc.file+"/tcp"]), tc.note)
		}
		t.Logf("outcomes:\n%s", b.String())
	}
}

// torture sends msg to a fresh server with a call in progress and returns
// the final status it answered, 0 if it dropped the message. Then it
// checks that the call in progress is unharmed: OPTIONS still answers and
// the call hangs up cleanly.
func torture(t *testing.T, network string, msg []byte) int {
	calls := make(chan *InboundCall, 1)
	s := startServer(t, Config{}, func(ctx context.Context, c *InboundCall) {
		if c.To() != "main" {
			c.Reject(404, "")
			return
		}
		calls <- c
		answerWith(nil)(ctx, c)
	})
	p := newPhone(t, s, "udp")
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	sess, res, err := p.call(ctx, "main", offerSDP(30000, ""))
	if err != nil || res.StatusCode != 200 {
		t.Fatalf("call in progress: %v %v", res, err)
	}
	main := recvCall(t, calls)

	addr := s.Addrs().UDP[0]
	if network == "tcp" {
		addr = s.Addrs().TCP[0]
	}
	conn, err := net.Dial(network, addr.String())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	dropped := s.Stats().Dropped
	if _, err := conn.Write(msg); err != nil {
		t.Fatal(err)
	}
	final := make(chan int, 1)
	go func() { final <- readFinal(conn, network) }()
	code := -1
	deadline := time.After(5 * time.Second)
	quiet := time.After(time.Second) // for a message that never ends
	for code < 0 {
		select {
		case code = <-final:
		case <-time.After(5 * time.Millisecond):
			if s.Stats().Dropped > dropped {
				code = 0
			}
		case <-quiet:
			if network == "tcp" && incomplete(msg) {
				code = 0 // the server waits for the rest of a message that never ends
			}
		case <-deadline:
			t.Fatal("no response and no drop counted")
		}
	}

	select {
	case <-main.Done():
		t.Fatalf("the call in progress ended: %s", main.EndReason())
	default:
	}
	if res := p.request(ctx, sipmsg.OPTIONS, ""); res.StatusCode != 200 {
		t.Errorf("OPTIONS afterwards answered %d", res.StatusCode)
	}
	if err := sess.Bye(ctx); err != nil {
		t.Fatalf("BYE of the call in progress: %v", err)
	}
	if got := waitDone(t, main, 5*time.Second); got != EndCallerBye {
		t.Errorf("call in progress ended %q", got)
	}
	if st := s.Stats(); st.Panics != 0 {
		t.Errorf("Stats() = %+v: a panic", st)
	}
	return code
}

// readFinal reads responses from conn until a final one and returns its
// status, or 0 when the connection ends first.
func readFinal(conn net.Conn, network string) int {
	buf := make([]byte, 65536)
	stream := sipmsg.NewParser().NewSIPStream()
	for {
		n, err := conn.Read(buf)
		if err != nil {
			return 0
		}
		var msgs []sipmsg.Message
		if network == "udp" {
			if m, err := sipmsg.ParseMessage(buf[:n]); err == nil {
				msgs = append(msgs, m)
			}
		} else if err := stream.ParseSIPStream(buf[:n], func(m sipmsg.Message) { msgs = append(msgs, m) }); err != nil && !errors.Is(err, sipmsg.ErrParseSipPartial) {
			return 0
		}
		for _, m := range msgs {
			if res, ok := m.(*sipmsg.Response); ok && res.StatusCode >= 200 {
				return res.StatusCode
			}
		}
	}
}

// incomplete reports whether a stream parser would still be waiting for
// more of msg: the blank line after the headers, or the body Content-Length
// promises.
func incomplete(msg []byte) bool {
	err := sipmsg.NewParser().NewSIPStream().ParseSIPStream(msg, func(sipmsg.Message) {})
	return errors.Is(err, sipmsg.ErrParseSipPartial)
}

func status(code int) string {
	if code == 0 {
		return "dropped"
	}
	return strconv.Itoa(code)
}
