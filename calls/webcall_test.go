package calls

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/netip"
	"path/filepath"
	"testing"
	"time"

	"github.com/sambung/sambung/ivr"
	"github.com/sambung/sambung/media"
	"github.com/sambung/sambung/media/webrtc"
	"github.com/sambung/sambung/store"
)

// webPage is a click-to-call page as the test drives it: its session and
// its browser leg, which says a tone and keeps what it hears.
type webPage struct {
	t       *testing.T
	s       *WebCallSession
	browser *webrtc.Leg
	heard   chan []int16
	stop    chan struct{}
}

func (p *webPage) next(typ string, timeout time.Duration) map[string]any {
	p.t.Helper()
	deadline := time.After(timeout)
	for {
		select {
		case raw, ok := <-p.s.Out():
			if !ok {
				p.t.Fatalf("the session ended waiting for %s", typ)
			}
			var m map[string]any
			if err := json.Unmarshal(raw, &m); err != nil {
				p.t.Fatalf("not JSON: %s", raw)
			}
			if m["type"] == typ {
				return m
			}
			if m["type"] == "error" {
				p.t.Fatalf("error waiting for %s: %v", typ, m)
			}
		case <-deadline:
			p.t.Fatalf("no %s message within %s", typ, timeout)
		}
	}
}

func (p *webPage) send(m map[string]any) {
	raw, _ := json.Marshal(m)
	p.s.Handle(context.Background(), raw)
}

// dial places a call to line from a new page whose microphone says freq.
func dialWeb(t *testing.T, w *WebCalls, line string, freq float64) *webPage {
	t.Helper()
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	p := &webPage{t: t, s: w.Open("198.51.100.7"), heard: make(chan []int16, 1), stop: make(chan struct{})}
	if hello := p.next("hello", time.Second); len(hello["lines"].([]any)) == 0 {
		t.Fatalf("hello %v", hello)
	}
	browser, sdp, err := webrtc.Offer(context.Background(), webrtc.Config{LoopbackOnly: true}, log)
	if err != nil {
		t.Fatal(err)
	}
	p.browser = browser
	p.send(map[string]any{"type": "call", "sdp": sdp, "line": line})
	if err := browser.Accept(p.next("answer", 10*time.Second)["sdp"].(string)); err != nil {
		t.Fatal(err)
	}
	go func() {
		tone := media.NewTone(media.ToneSpec{Freqs: []float64{freq}, Level: -12})
		var out, in media.Frame
		var got []int16
		tick := time.NewTicker(media.FrameDuration)
		defer tick.Stop()
		for {
			select {
			case <-p.stop:
				p.heard <- got
				return
			case <-tick.C:
				tone.ReadFrame(out[:])
				_ = browser.WriteFrame(out[:])
				if browser.Playout(in[:]) == media.PlayedAudio {
					got = append(got, in[:]...)
				}
			}
		}
	}()
	t.Cleanup(func() { p.hangUp(); p.s.Close(); _ = browser.Close() })
	return p
}

// hangUp stops the microphone and returns what the page heard.
func (p *webPage) hangUp() []int16 {
	select {
	case <-p.stop:
		return nil
	default:
	}
	close(p.stop)
	return <-p.heard
}

func newWebSwitchboard(t *testing.T, maxCalls int) (*Switchboard, store.Store) {
	t.Helper()
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	dir := t.TempDir()
	st, err := store.Open(context.Background(), store.Config{DataDir: dir}, log)
	if err != nil {
		t.Fatal(err)
	}
	f, diags := ivr.Parse("keys.yaml", []byte(keysFlow))
	if diags.HasErrors() {
		t.Fatal(diags)
	}
	lines := &ivr.Lines{}
	lines.Set(map[string]*ivr.Flow{"support": f}, nil) // "echo" has no flow: the echo test
	sb, err := NewSwitchboard(Config{Lines: lines, IVR: &ivr.Runtime{Voice: toneVoice{}},
		Media:         media.SessionConfig{BindIP: netip.MustParseAddr("127.0.0.1")},
		RecordingsDir: filepath.Join(dir, "recordings"),
		Web: &WebCallConfig{Lines: []WebLine{{Number: "support", Name: "Support"}, {Number: "echo"}},
			MaxCalls: maxCalls, PerMinute: 2, WebRTC: webrtc.Config{LoopbackOnly: true}}}, st, log)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if err := sb.Wait(ctx); err != nil {
			t.Error(err)
		}
		st.Close()
	})
	return sb, st
}

// TestWebCallEchoes: a page calls the echo line and hears its own tone
// back, through the WebRTC leg, the gateway and the call's RTP session.
func TestWebCallEchoes(t *testing.T) {
	sb, st := newWebSwitchboard(t, 4)
	p := dialWeb(t, sb.WebCalls(), "echo", 700)
	id := p.next("answered", 10*time.Second)["call_id"].(string)
	deadline := time.Now().Add(20 * time.Second)
	for {
		evs, _ := st.CallEvents(context.Background(), id)
		if hasEvent(evs, "echo.started", "") {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the echo never started")
		}
		time.Sleep(20 * time.Millisecond)
	}
	time.Sleep(1500 * time.Millisecond)
	heard := p.hangUp()
	tail := heard[max(0, len(heard)-media.Rate):]
	if lvl := toneDB(tail, 700); len(heard) == 0 || lvl < -30 {
		t.Errorf("the page did not hear its tone echoed: %d samples, 700 Hz at %.1f dBFS", len(heard), lvl)
	}
	p.send(map[string]any{"type": "hangup"})
	if ended := p.next("ended", 10*time.Second); ended["reason"] != "hangup" || ended["call_id"] != id {
		t.Errorf("ended %v", ended)
	}
	c, err := st.CallByID(context.Background(), id)
	if err != nil || c.From != WebCaller || c.To != "echo" {
		t.Errorf("call record %+v %v", c, err)
	}
}

// TestWebCallRunsTheFlow: a page calls a flow's line, hears its prompt,
// and its keypad's keys reach the flow as RFC 4733 events; the flow hangs
// up and the page is told.
func TestWebCallRunsTheFlow(t *testing.T) {
	sb, st := newWebSwitchboard(t, 4)
	p := dialWeb(t, sb.WebCalls(), "", 440) // the first line: support
	id := p.next("answered", 10*time.Second)["call_id"].(string)
	deadline := time.Now().Add(20 * time.Second)
	for {
		evs, _ := st.CallEvents(context.Background(), id)
		if hasEvent(evs, "ivr.step", "menu") {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the flow never reached the menu")
		}
		time.Sleep(20 * time.Millisecond)
	}
	p.send(map[string]any{"type": "dtmf", "digits": "42#"})
	ended := p.next("ended", 30*time.Second)
	if ended["reason"] != "completed" {
		t.Errorf("ended %v", ended)
	}
	heard := p.hangUp()
	if lvl := toneDB(heard, 1000); lvl < -30 {
		t.Errorf("the page did not hear the flow's prompts (1 kHz at %.1f dBFS)", lvl)
	}
	evs, _ := st.CallEvents(context.Background(), id)
	var told string
	for _, e := range evs {
		if e.Kind == "ivr.answer" {
			told, _ = data(e)["text"].(string)
		}
	}
	if told != "Order 42 has shipped." {
		t.Errorf("the flow answered %q; the keys did not arrive", told)
	}
}

func hasEvent(evs []store.CallEvent, kind, step string) bool {
	for _, e := range evs {
		if e.Kind == kind && (step == "" || data(e)["step"] == step) {
			return true
		}
	}
	return false
}

// TestWebCallLimits: a line that is not offered, a second call on one
// page, calls over the node's limit and keys before the answer are
// refused with a reason; a page that goes away hangs up its call.
func TestWebCallLimits(t *testing.T) {
	sb, st := newWebSwitchboard(t, 1)
	w := sb.WebCalls()

	s := w.Open("198.51.100.8")
	bad := &webPage{t: t, s: s}
	bad.next("hello", time.Second)
	bad.send(map[string]any{"type": "call", "sdp": "v=0", "line": "nowhere"})
	if e := bad.next("error", time.Second); e["ref"] != "call" {
		t.Errorf("a call to a line not offered: %v", e)
	}
	bad.send(map[string]any{"type": "dtmf", "digits": "1"})
	bad.next("error", time.Second)
	s.Close()

	p := dialWeb(t, w, "echo", 500)
	id := p.next("answered", 10*time.Second)["call_id"].(string)
	p.send(map[string]any{"type": "call", "sdp": "v=0"})
	p.next("error", time.Second)
	p.send(map[string]any{"type": "dtmf", "digits": "12a"})
	p.next("error", time.Second)

	over := &webPage{t: t, s: w.Open("198.51.100.9")}
	over.next("hello", time.Second)
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	b2, sdp, err := webrtc.Offer(context.Background(), webrtc.Config{LoopbackOnly: true}, log)
	if err != nil {
		t.Fatal(err)
	}
	defer b2.Close()
	over.send(map[string]any{"type": "call", "sdp": sdp})
	if e := over.next("error", time.Second); e["ref"] != "call" {
		t.Errorf("a call over the limit: %v", e)
	}
	over.s.Close()

	// One address may place PerMinute calls a minute, counted whether
	// they were answered or not.
	for i := range 3 {
		if !w.allow("203.0.113.1", time.Now()) && i < 2 {
			t.Fatalf("call %d of 2 allowed was refused", i+1)
		}
	}
	if w.allow("203.0.113.1", time.Now()) || !w.allow("203.0.113.1", time.Now().Add(61*time.Second)) {
		t.Error("the per-minute limit does not hold, or does not lift after a minute")
	}

	// The page goes away: its call ends.
	p.s.Close()
	deadline := time.Now().Add(10 * time.Second)
	for {
		c, err := st.CallByID(context.Background(), id)
		if err == nil && !c.EndedAt.IsZero() {
			if c.EndReason != "hangup" {
				t.Errorf("the call ended with %q, want hangup", c.EndReason)
			}
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the call went on after its page went away")
		}
		time.Sleep(50 * time.Millisecond)
	}
}
