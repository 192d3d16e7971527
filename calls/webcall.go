package calls

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/netip"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/sambung/sambung/media"
	"github.com/sambung/sambung/media/webrtc"
)

// WebLine is a number that callers on the web may call, and the name the
// click-to-call page shows for it.
type WebLine struct {
	Number string `json:"number"`
	Name   string `json:"name"`
}

// WebCallConfig configures calls from web pages (docs/webcall.md).
type WebCallConfig struct {
	// Lines are the numbers web callers may call; the first is the page's
	// default. Required.
	Lines []WebLine
	// MaxCalls bounds the web calls in progress on this node (default 20).
	MaxCalls int
	// PerMinute bounds the calls one client address may place in a minute
	// on this node (default 6).
	PerMinute int
	// WebRTC configures the callers' browser legs.
	WebRTC webrtc.Config
}

// WebCaller is the number a web call comes from: the caller is not
// identified (docs/webcall.md).
const WebCaller = "web"

// WebCalls takes calls from web pages: each page's WebRTC leg becomes an
// inbound call to one of the configured lines, through the same flow,
// queue, agents and recording as a phone call.
type WebCalls struct {
	cfg    WebCallConfig
	sb     *Switchboard
	log    *slog.Logger
	active atomic.Int32

	limitMu sync.Mutex
	recent  map[string][]time.Time // by client address: the calls of the last minute
}

func newWebCalls(cfg WebCallConfig, sb *Switchboard, log *slog.Logger) (*WebCalls, error) {
	if len(cfg.Lines) == 0 {
		return nil, errors.New("calls: web calls need at least one line to call")
	}
	for i, l := range cfg.Lines {
		if l.Number == "" {
			return nil, fmt.Errorf("calls: web line %d has no number", i+1)
		}
		if l.Name == "" {
			cfg.Lines[i].Name = l.Number
		}
	}
	if cfg.MaxCalls <= 0 {
		cfg.MaxCalls = 20
	}
	if cfg.PerMinute <= 0 {
		cfg.PerMinute = 6
	}
	return &WebCalls{cfg: cfg, sb: sb, log: log, recent: map[string][]time.Time{}}, nil
}

// maxClients bounds how many client addresses the rate limit remembers;
// past it, those with no call in the last minute are forgotten.
const maxClients = 10000

// allow counts a call from client and says whether it is within
// PerMinute.
func (w *WebCalls) allow(client string, now time.Time) bool {
	w.limitMu.Lock()
	defer w.limitMu.Unlock()
	since := now.Add(-time.Minute)
	keep := func(ts []time.Time) []time.Time {
		i := 0
		for i < len(ts) && !ts[i].After(since) {
			i++
		}
		return ts[i:]
	}
	if len(w.recent) >= maxClients {
		for k, ts := range w.recent {
			if len(keep(ts)) == 0 {
				delete(w.recent, k)
			}
		}
	}
	ts := keep(w.recent[client])
	if len(ts) >= w.cfg.PerMinute {
		w.recent[client] = ts
		return false
	}
	w.recent[client] = append(ts, now)
	return true
}

// WebCallSession is one page's socket: at most one call.
type WebCallSession struct {
	w      *WebCalls
	client string
	out    chan []byte
	mu     sync.Mutex
	leg    *webLeg // the call, once placed
	shut   bool    // Close has run: out is closed
	done   chan struct{}
	once   sync.Once
}

// Open starts a session for one page, from the client address client
// (what the rate limit counts by); the first message out is hello.
func (w *WebCalls) Open(client string) *WebCallSession {
	s := &WebCallSession{w: w, client: client, out: make(chan []byte, deskBuffer), done: make(chan struct{})}
	var ice []map[string]any
	for _, sv := range w.cfg.WebRTC.ICEServers {
		ice = append(ice, map[string]any{"urls": sv.URLs, "username": sv.Username, "credential": sv.Credential})
	}
	s.push(map[string]any{"type": "hello", "lines": w.cfg.Lines, "ice_servers": ice})
	return s
}

// Out carries the messages for the page; it is closed when the session
// ends.
func (s *WebCallSession) Out() <-chan []byte { return s.out }

// Close ends the session: the page went away, and its call with it.
func (s *WebCallSession) Close() {
	s.once.Do(func() {
		s.mu.Lock()
		leg := s.leg
		s.shut = true
		close(s.done)
		close(s.out)
		s.mu.Unlock()
		if leg != nil {
			leg.end("hangup")
		}
	})
}

func (s *WebCallSession) push(m map[string]any) {
	raw, err := json.Marshal(m)
	if err != nil {
		s.w.log.Error("calls: web call message not encodable", "type", m["type"], "err", err)
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.shut {
		return
	}
	select {
	case s.out <- raw:
	default: // the page is far behind; it will see the call end
	}
}

func (s *WebCallSession) fail(ref, msg string) {
	s.push(map[string]any{"type": "error", "ref": ref, "message": msg})
}

// Handle acts on one message from the page.
func (s *WebCallSession) Handle(ctx context.Context, raw []byte) {
	var m struct {
		Type   string `json:"type"`
		SDP    string `json:"sdp"`
		Line   string `json:"line"`
		Digits string `json:"digits"`
	}
	if err := json.Unmarshal(raw, &m); err != nil || m.Type == "" {
		s.fail("", "That message is not JSON with a type; see docs/webcall.md.")
		return
	}
	s.mu.Lock()
	leg := s.leg
	s.mu.Unlock()
	switch m.Type {
	case "call":
		if err := s.call(ctx, m.SDP, m.Line); err != nil {
			s.fail("call", err.Error())
		}
	case "dtmf":
		if leg == nil || !leg.isAnswered() {
			s.fail("dtmf", "There is no call to send keys to yet.")
		} else if m.Digits == "" || len(m.Digits) > 32 || strings.Trim(m.Digits, "0123456789*#") != "" {
			s.fail("dtmf", fmt.Sprintf("Keys are 0-9, * and #, at most 32; got %q.", m.Digits))
		} else if err := leg.gw.SendDTMF(m.Digits, 0); err != nil {
			s.fail("dtmf", err.Error())
		}
	case "hangup":
		if leg != nil {
			leg.end("hangup")
		}
	default:
		s.fail(m.Type, fmt.Sprintf("Unknown message type %q.", m.Type))
	}
}

// line finds the line a page asked for; "" is the first.
func (w *WebCalls) line(number string) (WebLine, bool) {
	if number == "" {
		return w.cfg.Lines[0], true
	}
	for _, l := range w.cfg.Lines {
		if l.Number == number {
			return l, true
		}
	}
	return WebLine{}, false
}

// call answers the page's offer and runs the call on the switchboard, as
// an inbound call from WebCaller to the line.
func (s *WebCallSession) call(ctx context.Context, offer, number string) error {
	w := s.w
	line, ok := w.line(number)
	if !ok {
		return fmt.Errorf("there is no line %q to call from the web", number)
	}
	s.mu.Lock()
	placed := s.leg != nil
	s.mu.Unlock()
	if placed {
		return errors.New("this page has placed its call; open a new connection for another")
	}
	if !w.allow(s.client, time.Now()) {
		return fmt.Errorf("you have called %d times in the last minute; please wait a minute and try again", w.cfg.PerMinute)
	}
	if n := w.active.Add(1); int(n) > w.cfg.MaxCalls {
		w.active.Add(-1)
		return errors.New("too many people are calling from the web right now; please try again in a few minutes")
	}
	leg, err := w.newWebLeg(ctx, line.Number, offer, s)
	if err != nil {
		w.active.Add(-1)
		return err
	}
	s.mu.Lock()
	if s.shut {
		s.mu.Unlock()
		w.active.Add(-1)
		leg.end("hangup")
		return errors.New("the page went away")
	}
	s.leg = leg
	s.mu.Unlock()
	go func() {
		defer w.active.Add(-1)
		w.sb.HandleInbound(leg)
		leg.end("completed")
		s.push(map[string]any{"type": "ended", "call_id": leg.callID(), "reason": leg.EndReason()})
		s.Close()
	}()
	return nil
}

// webLeg is a web caller's WebRTC leg as a call's Leg. The call's own RTP
// session talks to a second session on loopback (the gateway), which
// plays the browser's audio to it and hands what it sends back to the
// browser: the call sees a phone caller like any other.
type webLeg struct {
	to     string
	sigID  string
	rtc    *webrtc.Leg
	gw     *media.Session
	page   *WebCallSession
	cancel context.CancelFunc
	ctx    context.Context

	mu       sync.Mutex
	id       string
	answered bool
	ended    bool
	reason   string
	done     chan struct{}
	once     sync.Once
	fwd      sync.WaitGroup
}

func (w *WebCalls) newWebLeg(ctx context.Context, to, offer string, page *WebCallSession) (*webLeg, error) {
	sctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	rtc, answer, err := webrtc.Answer(sctx, w.cfg.WebRTC, offer, w.log.With("web_call", true))
	if err != nil {
		return nil, fmt.Errorf("your browser's audio: %w", err)
	}
	mc := w.sb.cfg.Media
	gw, err := media.NewSession(media.SessionConfig{BindIP: netip.MustParseAddr("127.0.0.1"), PortMin: mc.PortMin,
		PortMax: mc.PortMax, MediaTimeout: -1}, w.log)
	if err != nil {
		_ = rtc.Close()
		return nil, fmt.Errorf("no media ports for the call: %w", err)
	}
	b := make([]byte, 8)
	_, _ = rand.Read(b)
	lctx, lcancel := context.WithCancel(context.Background())
	l := &webLeg{to: to, sigID: "web-" + hex.EncodeToString(b), rtc: rtc, gw: gw, page: page,
		ctx: lctx, cancel: lcancel, done: make(chan struct{})}
	go func() {
		select {
		case <-rtc.Done():
			l.end("media_failed")
		case <-l.done:
		}
	}()
	page.push(map[string]any{"type": "answer", "sdp": answer})
	return l, nil
}

func (l *webLeg) From() string { return WebCaller }

// fromWeb says whether the caller is a web page (a webLeg).
func (c *Call) fromWeb() bool {
	_, ok := c.leg.(*webLeg)
	return ok
}
func (l *webLeg) To() string           { return l.to }
func (l *webLeg) SignallingID() string { return l.sigID }

// Remote is the gateway's side, as if it were the caller's phone.
func (l *webLeg) Remote() RemoteMedia {
	return RemoteMedia{Addr: l.gw.LocalAddr(), Codecs: []media.Codec{media.PCMU}, DTMFPayloadType: webDTMFType,
		Direction: media.SendRecv}
}

// webDTMFType is the RFC 4733 payload type between the gateway and the
// call; both ends are ours.
const webDTMFType = 101

func (l *webLeg) setCallID(id string) {
	l.mu.Lock()
	l.id = id
	l.mu.Unlock()
}

func (l *webLeg) callID() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.id
}

func (l *webLeg) isAnswered() bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.answered
}

// Answer starts the gateway: the browser's audio goes to the call's
// session at local, and what the call sends goes to the browser.
func (l *webLeg) Answer(_ context.Context, local netip.AddrPort, codec media.Codec, dtmf uint8) error {
	if local.Addr().IsUnspecified() {
		local = netip.AddrPortFrom(netip.MustParseAddr("127.0.0.1"), local.Port())
	}
	// Under mu, so that end, which takes mu first, never closes the
	// gateway while it starts.
	l.mu.Lock()
	if l.ended {
		l.mu.Unlock()
		return errors.New("the web caller has gone")
	}
	l.gw.SetRemote(local, codec, dtmf)
	l.gw.Start(l.ctx)
	l.gw.Play(l.rtc)
	sub := l.gw.Subscribe(16)
	l.fwd.Add(1)
	l.answered = true
	id := l.id
	l.mu.Unlock()
	go func() {
		defer l.fwd.Done()
		defer sub.Unsubscribe()
		for {
			select {
			case tick, ok := <-sub.C():
				if !ok {
					return
				}
				_ = l.rtc.WriteFrame(tick.In[:])
			case <-l.done:
				return
			}
		}
	}()
	l.page.push(map[string]any{"type": "answered", "call_id": id})
	return nil
}

// Reject refuses the call before it is answered.
func (l *webLeg) Reject(code int, reason string) error {
	l.end("rejected")
	return nil
}

// Hangup ends the call from our side.
func (l *webLeg) Hangup(context.Context) error {
	l.end("completed")
	return nil
}

func (l *webLeg) Done() <-chan struct{}       { return l.done }
func (l *webLeg) Updates() <-chan RemoteMedia { return nil }

// EndReason is why the leg ended: hangup (the page), completed (our
// side), media_failed or rejected.
func (l *webLeg) EndReason() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.reason
}

// end ends the leg once, for reason: the browser's connection and the
// gateway close, and Done is closed.
func (l *webLeg) end(reason string) {
	l.once.Do(func() {
		l.mu.Lock()
		l.reason, l.ended = reason, true
		l.mu.Unlock()
		close(l.done)
		l.cancel()
		l.fwd.Wait()
		l.gw.Close()
		_ = l.rtc.Close()
	})
}
