package sip

import (
	"context"
	"os"
	"sync"
	"testing"

	sipmsg "github.com/emiago/sipgo/sip"
)

// fakeTx is a server transaction that records what is sent through it.
// onRespond, when set, runs first on every response.
type fakeTx struct {
	onRespond func(*sipmsg.Response)

	mu        sync.Mutex
	responses []*sipmsg.Response
	done      chan struct{}
	once      sync.Once
}

func newFakeTx() *fakeTx { return &fakeTx{done: make(chan struct{})} }

func (tx *fakeTx) Respond(res *sipmsg.Response) error {
	if tx.onRespond != nil {
		tx.onRespond(res)
	}
	tx.mu.Lock()
	defer tx.mu.Unlock()
	tx.responses = append(tx.responses, res)
	return nil
}
func (tx *fakeTx) Acks() <-chan *sipmsg.Request          { return nil }
func (tx *fakeTx) OnCancel(sipmsg.FnTxCancel) bool       { return true }
func (tx *fakeTx) OnTerminate(sipmsg.FnTxTerminate) bool { return true }
func (tx *fakeTx) Done() <-chan struct{}                 { return tx.done }
func (tx *fakeTx) Err() error                            { return nil }
func (tx *fakeTx) Terminate()                            { tx.once.Do(func() { close(tx.done) }) }
func (tx *fakeTx) lastLocked() *sipmsg.Response          { return tx.responses[len(tx.responses)-1] }

var _ sipmsg.ServerTransaction = (*fakeTx)(nil)

// FuzzRequest feeds raw bytes through sipgo's parser and, for a request,
// through the whole request path (validation, INVITE checks, the SDP offer,
// a call that the handler rejects): nothing may panic (the recover in
// serveRequest would hide it, so the panic counter must stay 0), every
// request but ACK gets a final response, and no response carries CR or LF
// inside a header field.
func FuzzRequest(f *testing.F) {
	for _, file := range tortureFiles(f) {
		msg, err := os.ReadFile(file)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(msg)
	}
	f.Add(message("fuzz", inviteHead, offerSDP(30000, "")))
	f.Add(message("fuzz", optionsHead, ""))
	f.Add([]byte(" A:0 SIP\r\nT:A:0\n0\r\n\r\n0")) // a bare LF in To

	s, err := New(Config{UDP: []string{"127.0.0.1:0"}}, nil)
	if err != nil {
		f.Fatal(err)
	}
	f.Cleanup(func() { s.Close() })
	s.OnInvite(func(ctx context.Context, c *InboundCall) { c.Reject(404, "") })

	f.Fuzz(func(t *testing.T, data []byte) {
		msg, err := s.parser.ParseSIP(data)
		if err != nil {
			// What the UDP read filter answers statelessly.
			if req, ok := msg.(*sipmsg.Request); ok && answerable(req) && !hasLineBreak(req) {
				if err := s.checkOutgoing(s.newResponse(req, 400, "Bad Request", nil)); err != nil {
					t.Fatalf("stateless 400: %v", err)
				}
			}
			return
		}
		req, ok := msg.(*sipmsg.Request)
		if !ok {
			return
		}
		req.SetTransport("UDP")
		req.SetSource("127.0.0.1:5070")
		tx := newFakeTx()
		s.serveRequest(req, tx)
		if n := s.Stats().Panics; n != 0 {
			t.Fatalf("request handling panicked (%d)", n)
		}
		if req.IsAck() || hasLineBreak(req) {
			if len(tx.responses) > 0 {
				t.Fatalf("answered a request that cannot be answered safely")
			}
			return
		}
		tx.mu.Lock()
		defer tx.mu.Unlock()
		if len(tx.responses) == 0 || tx.lastLocked().StatusCode < 200 {
			t.Fatalf("%s got no final response", req.Method)
		}
		for _, res := range tx.responses {
			if err := s.checkOutgoing(res); err != nil {
				t.Fatalf("response %d: %v", res.StatusCode, err)
			}
		}
	})
}

// TestRecoverPerRequest makes handling one request panic (its first
// response blows up): the panic is counted, the request is answered 500,
// and the server goes on.
func TestRecoverPerRequest(t *testing.T) {
	s := startServer(t, Config{}, nil)
	msg, err := s.parser.ParseSIP(message("boom", optionsHead, ""))
	if err != nil {
		t.Fatal(err)
	}
	tx := newFakeTx()
	tx.onRespond = func(res *sipmsg.Response) {
		if res.StatusCode == 200 {
			panic("bug while answering")
		}
	}
	s.serveRequest(msg.(*sipmsg.Request), tx)
	if got := s.Stats().Panics; got != 1 {
		t.Errorf("Stats().Panics = %d, want 1", got)
	}
	if len(tx.responses) != 1 || tx.responses[0].StatusCode != 500 {
		t.Errorf("responses %v, want one 500", statuses(tx.responses))
	}
	p := newPhone(t, s, "udp")
	if res := p.request(context.Background(), sipmsg.OPTIONS, ""); res.StatusCode != 200 {
		t.Errorf("OPTIONS after the panic answered %d", res.StatusCode)
	}
}
