package calls

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"math"
	"net/netip"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/sambung/sambung/media"
	"github.com/sambung/sambung/store"
)

// fakeLeg is a signalling leg driven by the test. The caller's media is a
// real media.Session on loopback (see newCaller).
type fakeLeg struct {
	to       string
	remote   RemoteMedia
	answered chan netip.AddrPort
	done     chan struct{}
	updates  chan RemoteMedia

	mu       sync.Mutex
	reason   string
	hungUp   bool
	rejected int
	endOnce  sync.Once
}

func (l *fakeLeg) From() string         { return "tester" }
func (l *fakeLeg) To() string           { return l.to }
func (l *fakeLeg) SignallingID() string { return "sig-1" }
func (l *fakeLeg) Remote() RemoteMedia  { return l.remote }
func (l *fakeLeg) Answer(_ context.Context, local netip.AddrPort, _ media.Codec, _ uint8) error {
	l.answered <- local
	return nil
}
func (l *fakeLeg) Reject(code int, _ string) error {
	l.mu.Lock()
	l.rejected = code
	l.mu.Unlock()
	l.end("rejected")
	return nil
}
func (l *fakeLeg) Hangup(context.Context) error {
	l.mu.Lock()
	l.hungUp = true
	l.mu.Unlock()
	l.end("server_bye")
	return nil
}
func (l *fakeLeg) Done() <-chan struct{}       { return l.done }
func (l *fakeLeg) Updates() <-chan RemoteMedia { return l.updates }
func (l *fakeLeg) EndReason() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.reason
}

// end ends the leg, as a BYE or CANCEL would.
func (l *fakeLeg) end(reason string) {
	l.endOnce.Do(func() {
		l.mu.Lock()
		l.reason = reason
		l.mu.Unlock()
		close(l.done)
	})
}

type fixture struct {
	t      *testing.T
	sb     *Switchboard
	st     store.Store
	dir    string
	leg    *fakeLeg
	caller *media.Session
	ticks  *media.Subscription
	ended  chan struct{}
}

// newFixture starts a call to number, with the caller's RTP session
// already playing silence.
func newFixture(t *testing.T, number string, cfg Config) *fixture {
	t.Helper()
	return newFixtureWith(t, number, func(store.Store) Config { return cfg })
}

// newFixtureWith lets the test make the switchboard's configuration from
// the call's store (to give it an ACD on that store, say).
func newFixtureWith(t *testing.T, number string, mk func(store.Store) Config) *fixture {
	t.Helper()
	before := runtime.NumGoroutine()
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	dir := t.TempDir()
	st, err := store.Open(context.Background(), store.Config{DataDir: dir}, log)
	if err != nil {
		t.Fatal(err)
	}
	local := media.SessionConfig{BindIP: netip.MustParseAddr("127.0.0.1"), MediaTimeout: -1}
	caller, err := media.NewSession(local, log)
	if err != nil {
		t.Fatal(err)
	}
	cfg := mk(st)
	cfg.Media.BindIP = netip.MustParseAddr("127.0.0.1")
	cfg.RecordingsDir = filepath.Join(dir, "recordings")
	sb, err := NewSwitchboard(cfg, st, log)
	if err != nil {
		t.Fatal(err)
	}
	f := &fixture{t: t, sb: sb, st: st, dir: dir, caller: caller, ended: make(chan struct{}),
		leg: &fakeLeg{to: number, answered: make(chan netip.AddrPort, 1), done: make(chan struct{}), updates: make(chan RemoteMedia),
			remote: RemoteMedia{Addr: caller.LocalAddr(), Codecs: []media.Codec{media.PCMU}, DTMFPayloadType: 101, Direction: media.SendRecv}}}
	go func() { defer close(f.ended); sb.HandleInbound(f.leg) }()
	server := <-f.leg.answered
	caller.SetRemote(server, media.PCMU, 101)
	f.ticks = caller.Subscribe(2000)
	ctx, cancel := context.WithCancel(context.Background())
	caller.Start(ctx)
	t.Cleanup(func() {
		f.leg.end("test_over")
		<-f.ended
		cancel()
		caller.Close()
		st.Close()
		// Every goroutine of the call and both sessions has ended.
		deadline := time.Now().Add(5 * time.Second)
		for runtime.NumGoroutine() > before && time.Now().Before(deadline) {
			time.Sleep(10 * time.Millisecond)
		}
		if n := runtime.NumGoroutine(); n > before {
			buf := make([]byte, 1<<16)
			t.Errorf("goroutines: %d before the call, %d after\n%s", before, n, buf[:runtime.Stack(buf, true)])
		}
	})
	return f
}

func (f *fixture) callID() string {
	calls, err := f.st.ListCalls(context.Background(), store.CallFilter{Limit: 1})
	if err != nil || len(calls) != 1 {
		f.t.Fatalf("calls: %v %v", calls, err)
	}
	return calls[0].ID
}

// waitEvent waits for an event of kind on the timeline.
func (f *fixture) waitEvent(kind string, timeout time.Duration) store.CallEvent {
	f.t.Helper()
	deadline := time.Now().Add(timeout)
	for time.Now().Before(deadline) {
		evs, _ := f.st.CallEvents(context.Background(), f.callID())
		for _, e := range evs {
			if e.Kind == kind {
				return e
			}
		}
		time.Sleep(20 * time.Millisecond)
	}
	f.t.Fatalf("no %s event within %s", kind, timeout)
	return store.CallEvent{}
}

func data(e store.CallEvent) map[string]any {
	var m map[string]any
	_ = json.Unmarshal(e.Data, &m)
	return m
}

// drain discards what the caller received so far, so heard measures what
// comes next.
func (f *fixture) drain() {
	for {
		select {
		case <-f.ticks.C():
		default:
			return
		}
	}
}

// hearsNow is what the caller hears once what was under way has settled:
// a second of it, after 700 ms.
func (f *fixture) hearsNow() []int16 {
	time.Sleep(700 * time.Millisecond)
	f.drain()
	return f.heard(time.Second)
}

// received empties sub and returns the audio it carried, oldest first.
func received(sub *media.Subscription) []int16 {
	var got []int16
	for len(sub.C()) > 0 {
		tk := <-sub.C()
		got = append(got, tk.In[:]...)
	}
	return got
}

// heard collects what the caller receives for d.
func (f *fixture) heard(d time.Duration) []int16 {
	var out []int16
	timeout := time.After(d + 5*time.Second)
	for n := int(d / media.FrameDuration); n > 0; n-- {
		select {
		case tk := <-f.ticks.C():
			out = append(out, tk.In[:]...)
		case <-timeout:
			f.t.Fatal("caller's session stopped ticking")
		}
	}
	return out
}

func TestDemoCallCollectsDigitsAndEnds(t *testing.T) {
	f := newFixture(t, "demo", Config{})
	// The disclosure plays: the caller hears speech.
	if lvl := media.DBFS(f.heard(2 * time.Second)); lvl < -40 {
		t.Errorf("caller heard %.1f dBFS during the disclosure", lvl)
	}
	if err := f.caller.SendDTMF("42#", 100*time.Millisecond); err != nil {
		t.Fatal(err)
	}
	digits := f.waitEvent("digits", 30*time.Second)
	if data(digits)["digits"] != "42" {
		t.Errorf("collected %v, want 42", data(digits)["digits"])
	}
	ended := f.waitEvent("call.ended", 20*time.Second)
	if d := data(ended); d["outcome"] != "completed" || d["reason"] != "completed" || d["server_hangup"] != true {
		t.Errorf("ended: %v", d)
	}
	f.leg.mu.Lock()
	hungUp := f.leg.hungUp
	f.leg.mu.Unlock()
	if !hungUp {
		t.Error("the server did not hang up after goodbye")
	}
	evs, _ := f.st.CallEvents(context.Background(), f.callID())
	var kinds, prompts, dtmf []string
	for _, e := range evs {
		kinds = append(kinds, e.Kind)
		switch e.Kind {
		case "prompt":
			prompts = append(prompts, data(e)["prompt"].(string))
		case "dtmf":
			dtmf = append(dtmf, data(e)["digit"].(string))
		}
	}
	if !slices.Equal(dtmf, []string{"4", "2", "#"}) {
		t.Errorf("dtmf on the timeline: %v", dtmf)
	}
	if want := []string{"disclosure", "demo-menu", "you-entered", "digit-4", "digit-2", "goodbye"}; !slices.Equal(prompts, want) {
		t.Errorf("prompts %v, want %v", prompts, want)
	}
	for _, k := range []string{"call.offered", "call.answered", "recording.started", "recording.finished", "call.ended"} {
		if !slices.Contains(kinds, k) {
			t.Errorf("timeline lacks %s: %v", k, kinds)
		}
	}
	c, _ := f.st.CallByID(context.Background(), f.callID())
	if c.Outcome != "completed" || c.EndReason != "completed" || c.EndedAt.IsZero() {
		t.Errorf("call record: %+v", c)
	}
	recs, _ := f.st.CallRecordings(context.Background(), f.callID())
	if len(recs) != 1 || recs[0].Duration < 10*time.Second || recs[0].Bytes < 44 {
		t.Fatalf("recording metadata: %+v", recs)
	}
	fi, err := os.Stat(filepath.Join(f.dir, "recordings", recs[0].Path))
	if err != nil || fi.Size() != recs[0].Bytes {
		t.Errorf("recording file: %v size %d, stored %d", err, fi.Size(), recs[0].Bytes)
	}
}

// tone is a 1 kHz sine Source.
type tone struct{ n int }

func (s *tone) ReadFrame(frame []int16) bool {
	for i := range frame {
		frame[i] = int16(8000 * math.Sin(2*math.Pi*1000*float64(s.n)/media.Rate))
		s.n++
	}
	return true
}

func TestEchoReturnsWhatTheCallerSays(t *testing.T) {
	f := newFixture(t, "echo", Config{})
	f.waitEvent("echo.started", 20*time.Second)
	f.caller.Play(&tone{})
	f.drain()
	f.heard(500 * time.Millisecond) // let the echo settle
	got := f.heard(time.Second)
	if lvl := media.ToneLevel(got, media.Rate, 1000); lvl < 0.01 {
		t.Errorf("1 kHz in the echo: level %.4f; the echo does not return the caller's audio", lvl)
	}
	f.caller.Play(nil)
	f.drain()
	f.heard(500 * time.Millisecond)
	if lvl := media.DBFS(f.heard(time.Second)); lvl > -60 {
		t.Errorf("echo of silence is %.1f dBFS", lvl)
	}
	f.leg.end("caller_bye")
	ended := f.waitEvent("call.ended", 5*time.Second)
	if d := data(ended); d["reason"] != "caller_bye" || d["server_hangup"] != false {
		t.Errorf("ended: %v", d)
	}
}

func TestMediaTimeoutHangsUp(t *testing.T) {
	f := newFixture(t, "echo", Config{Media: media.SessionConfig{MediaTimeout: 500 * time.Millisecond}})
	f.waitEvent("call.answered", 5*time.Second)
	f.caller.Close() // the caller's RTP stops
	ended := f.waitEvent("call.ended", 10*time.Second)
	if d := data(ended); d["outcome"] != "failed" || d["reason"] != "media_timeout" || d["server_hangup"] != true {
		t.Errorf("ended: %v", d)
	}
}

func TestHoldAndUnholdAreOnTheTimeline(t *testing.T) {
	f := newFixture(t, "echo", Config{})
	f.waitEvent("call.answered", 5*time.Second)
	hold := f.leg.remote
	hold.Direction = media.SendOnly
	f.leg.updates <- hold
	f.waitEvent("call.hold", 5*time.Second)
	f.leg.updates <- f.leg.remote
	f.waitEvent("call.unhold", 5*time.Second)
}

func TestShutdownEndsCalls(t *testing.T) {
	f := newFixture(t, "echo", Config{})
	f.waitEvent("call.answered", 5*time.Second)
	f.sb.Shutdown()
	ended := f.waitEvent("call.ended", 5*time.Second)
	if d := data(ended); d["reason"] != "server_shutdown" || d["server_hangup"] != true {
		t.Errorf("ended: %v", d)
	}
	if err := f.sb.Wait(context.Background()); err != nil || f.sb.Active() != 0 {
		t.Errorf("after shutdown: %v, %d active", err, f.sb.Active())
	}
}

func TestNoCommonCodecIsRefused(t *testing.T) {
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	st, err := store.Open(context.Background(), store.Config{DataDir: t.TempDir()}, log)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	sb, err := NewSwitchboard(Config{}, st, log)
	if err != nil {
		t.Fatal(err)
	}
	leg := &fakeLeg{to: "demo", done: make(chan struct{}), updates: make(chan RemoteMedia)}
	sb.HandleInbound(leg)
	if leg.rejected != 488 {
		t.Errorf("rejected with %d, want 488", leg.rejected)
	}
	calls, _ := st.ListCalls(context.Background(), store.CallFilter{})
	if len(calls) != 1 || calls[0].Outcome != "failed" {
		t.Errorf("call record: %+v", calls)
	}
}

func TestEveryPromptLoads(t *testing.T) {
	p, err := loadPrompts()
	if err != nil {
		t.Fatal(err)
	}
	names := []string{"disclosure", "demo-menu", "you-entered", "no-digits", "goodbye", "echo", "digit-star", "digit-hash"}
	for d := '0'; d <= '9'; d++ {
		names = append(names, digitPrompt(d))
	}
	for _, n := range names {
		pr := p.get(n)
		if pr == nil || pr.Duration() < 200*time.Millisecond {
			t.Errorf("prompt %s missing or empty", n)
		}
	}
}
