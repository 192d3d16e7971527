package webrtc

import (
	"context"
	"errors"
	"regexp"
	"runtime"
	"runtime/pprof"
	"strings"
	"testing"
	"time"

	pion "github.com/pion/webrtc/v4"

	"github.com/sambung/sambung/media"
)

// Bounds on waiting for things that happen in well under a second on an
// idle machine; generous because the machine is shared. They bound
// failure, they are not what is tested.
const (
	connectWait = 15 * time.Second
	endWait     = 30 * time.Second
)

// connect answers a new client's offer and waits until both sides are up.
func connect(t testing.TB, cfg Config, o clientOpts) (*Leg, *client, string) {
	t.Helper()
	if testing.Short() {
		t.Skip("starts two real WebRTC peers on 127.0.0.1; skipped under -short")
	}
	// Registered first, so it runs last: after the leg and the client are
	// closed, nothing of theirs may still run.
	before := runtime.NumGoroutine()
	t.Cleanup(func() { waitGoroutines(t, before) })
	c := newClient(t, o)
	cfg.LoopbackOnly = true
	ctx, cancel := context.WithTimeout(context.Background(), connectWait)
	defer cancel()
	leg, answer, err := Answer(ctx, cfg, c.offer(false), testLogger(t))
	if err != nil {
		t.Fatalf("Answer: %v", err)
	}
	t.Cleanup(func() { _ = leg.Close() })
	c.accept(answer)
	for _, ch := range []<-chan struct{}{leg.Connected(), c.connected} {
		select {
		case <-ch:
		case <-leg.Done():
			t.Fatalf("the leg ended before connecting: %v", leg.Err())
		case <-time.After(connectWait):
			t.Fatal("not connected")
		}
	}
	return leg, c, answer
}

// exchange runs n ticks of 20 ms: on each, the client sends what send
// gives (nothing for nil), the leg sends what legSend gives, and the leg
// plays out a frame. It returns what the leg played and how.
func exchange(leg *Leg, c *client, n int, send, legSend func(k int) []int16) (frames [][]int16, played []media.Played) {
	tick := time.NewTicker(media.FrameDuration)
	defer tick.Stop()
	for k := range n {
		if send != nil {
			if f := send(k); f != nil {
				c.mic.sendFrame(f)
			}
		}
		if legSend != nil {
			_ = leg.WriteFrame(legSend(k))
		}
		f := make([]int16, media.FrameSamples)
		played = append(played, leg.Playout(f))
		frames = append(frames, f)
		<-tick.C
	}
	return frames, played
}

func countTone(frames [][]int16, played []media.Played, freq float64) int {
	n := 0
	for i, f := range frames {
		if played[i] == media.PlayedAudio && dominant(f, freq) {
			n++
		}
	}
	return n
}

func TestAudioBothWays(t *testing.T) {
	leg, c, answer := connect(t, Config{}, clientOpts{})
	if !strings.Contains(answer, "PCMU/8000") || !strings.Contains(answer, "telephone-event/8000") {
		t.Errorf("the answer lacks PCMU or telephone-event:\n%s", answer)
	}
	// No interceptors: no retransmission or congestion feedback is offered.
	for _, fb := range []string{"nack", "transport-cc", "goog-remb"} {
		if strings.Contains(answer, fb) {
			t.Errorf("the answer offers %s feedback:\n%s", fb, answer)
		}
	}
	// One second of 440 Hz, then one of silence (the control); meanwhile
	// the leg sends 1 kHz.
	send := func(k int) []int16 {
		if k < 50 {
			return tone(k, 440, -10)
		}
		if k < 100 {
			return make([]int16, media.FrameSamples)
		}
		return nil
	}
	frames, played := exchange(leg, c, 120, send, func(k int) []int16 { return tone(k, 1000, -10) })

	toneFrames, lastTone, firstQuiet, quiet := 0, -1, -1, 0
	for i, f := range frames {
		switch {
		case played[i] != media.PlayedAudio:
		case dominant(f, 440):
			toneFrames++
			lastTone = i
		case media.DBFS(f) < -60:
			quiet++
			if firstQuiet < 0 {
				firstQuiet = i
			}
		}
	}
	if toneFrames < 35 {
		t.Errorf("%d of the 50 frames of 440 Hz the browser sent came out of ReadFrame as 440 Hz", toneFrames)
	}
	if quiet < 35 {
		t.Errorf("%d of the 50 silent frames the browser sent came out silent", quiet)
	}
	if firstQuiet >= 0 && lastTone > firstQuiet {
		t.Errorf("440 Hz at frame %d, after the silence began at frame %d", lastTone, firstQuiet)
	}

	got := 0
	for len(c.frames) > 0 {
		if dominant(<-c.frames, 1000) {
			got++
		}
	}
	if got < 80 {
		t.Errorf("the browser heard 1 kHz in %d of the 120 frames the leg wrote", got)
	}
	st := leg.Stats()
	if st.PacketsIn < 80 || st.BytesIn < 80*media.FrameSamples || st.PacketsOut < 100 || st.BytesOut < 100*media.FrameSamples {
		t.Errorf("stats = %+v", st)
	}
	t.Logf("stats %+v; 440 Hz frames %d/50, silent %d/50, 1 kHz at the browser %d/120", st, toneFrames, quiet, got)
}

func TestDTMFFromTheBrowser(t *testing.T) {
	// Chromium's payload type, not the one the leg would pick.
	leg, c, answer := connect(t, Config{}, clientOpts{eventPT: 126})
	if !strings.Contains(answer, "a=rtpmap:126 telephone-event/8000") {
		t.Errorf("the answer does not take telephone-event at the offer's payload type 126:\n%s", answer)
	}
	ctx, cancel := context.WithTimeout(context.Background(), endWait)
	defer cancel()
	keysSent := make(chan struct{})
	go func() {
		defer close(keysSent)
		for _, ev := range []uint8{7, 11} { // '7', '#'
			c.mic.sendKey(ctx, ev, 5)
		}
	}()
	var got []rune
	tick := time.NewTicker(media.FrameDuration)
	defer tick.Stop()
	for len(got) < 2 {
		select {
		case d := <-leg.DTMF():
			got = append(got, d.Digit)
			if d.Duration != 100*time.Millisecond {
				t.Errorf("key %q lasted %v, want the 100 ms sent", d.Digit, d.Duration)
			}
		case <-tick.C:
			leg.ReadFrame(make([]int16, media.FrameSamples)) // the playout clock
		case <-ctx.Done():
			t.Fatalf("keys received %q, want \"7#\"", string(got))
		}
	}
	<-keysSent
	if string(got) != "7#" {
		t.Errorf("keys %q, want \"7#\"", string(got))
	}
}

func TestRefusesOfferWithoutPCMU(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a real WebRTC peer; skipped under -short")
	}
	before := runtime.NumGoroutine()
	for _, tc := range []struct {
		name string
		o    clientOpts
		want []string
	}{
		{"opus only", clientOpts{opusOnly: true}, []string{"opus/48000/2", "not PCMU"}},
		{"no audio", clientOpts{noAudio: true}, []string{"no audio section"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := newClient(t, tc.o)
			leg, answer, err := Answer(context.Background(), Config{LoopbackOnly: true}, c.offer(false), testLogger(t))
			if err == nil {
				leg.Close()
				t.Fatalf("answered an offer without PCMU:\n%s", answer)
			}
			if !errors.Is(err, ErrNoPCMU) {
				t.Errorf("err = %v, want ErrNoPCMU", err)
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("err = %q, want it to name %q", err, w)
				}
			}
			t.Log(err)
		})
	}
	waitGoroutines(t, before)
}

func TestCloseEndsEverything(t *testing.T) {
	before := runtime.NumGoroutine()
	func() {
		leg, c, _ := connect(t, Config{}, clientOpts{})
		exchange(leg, c, 10, func(k int) []int16 { return tone(k, 440, -10) }, func(k int) []int16 { return tone(k, 1000, -10) })
		restart := c.offer(true)
		if err := leg.Close(); err != nil {
			t.Errorf("Close: %v", err)
		}
		select {
		case <-leg.Done():
		default:
			t.Fatal("Done still open after Close returned")
		}
		if err := leg.Close(); err != nil {
			t.Errorf("second Close: %v", err)
		}
		if !errors.Is(leg.Err(), ErrClosed) {
			t.Errorf("Err = %v, want ErrClosed", leg.Err())
		}
		if err := leg.WriteFrame(make([]int16, media.FrameSamples)); !errors.Is(err, ErrClosed) {
			t.Errorf("WriteFrame after Close = %v, want ErrClosed", err)
		}
		f := tone(0, 440, -10)
		if leg.ReadFrame(f) || media.DBFS(f) > media.SilenceDBFS {
			t.Error("ReadFrame after Close: want false and silence")
		}
		if _, err := leg.Restart(context.Background(), restart); !errors.Is(err, ErrClosed) {
			t.Errorf("Restart after Close = %v, want ErrClosed", err)
		}
		c.close()
	}()
	waitGoroutines(t, before)
}

func TestBrowserDisappears(t *testing.T) {
	leg, c, _ := connect(t, Config{Timeout: 3 * time.Second}, clientOpts{cuttable: true})
	exchange(leg, c, 10, func(k int) []int16 { return tone(k, 440, -10) }, nil)
	c.cut(true)
	select {
	case <-leg.Done():
	case <-time.After(endWait):
		t.Fatalf("the leg still runs %v after the browser vanished (timeout 3 s)", endWait)
	}
	err := leg.Err()
	if !errors.Is(err, ErrICEFailed) && !errors.Is(err, media.ErrMediaTimeout) {
		t.Errorf("Err = %v, want ErrICEFailed or a media timeout", err)
	}
	t.Logf("the leg ended: %v", err)
}

func TestBrowserHangsUp(t *testing.T) {
	leg, c, _ := connect(t, Config{}, clientOpts{})
	c.close() // RTCPeerConnection.close(): DTLS close_notify
	select {
	case <-leg.Done():
	case <-time.After(endWait):
		t.Fatal("the leg still runs after the browser closed")
	}
	if err := leg.Err(); !errors.Is(err, ErrRemoteClosed) {
		t.Errorf("Err = %v, want ErrRemoteClosed", err)
	}
}

var ufrag = regexp.MustCompile(`a=ice-ufrag:(\S+)`)

func TestICERestartKeepsAudio(t *testing.T) {
	leg, c, answer := connect(t, Config{Timeout: 20 * time.Second}, clientOpts{cuttable: true})
	send := func(k int) []int16 { return tone(k, 440, -10) }
	legSend := func(k int) []int16 { return tone(k, 1000, -10) }
	frames, played := exchange(leg, c, 25, send, legSend)
	if n := countTone(frames, played, 440); n < 10 {
		t.Fatalf("before the restart, 440 Hz in %d of 25 frames", n)
	}

	// A network blip: the browser sees ICE disconnected, restarts ICE, and
	// the network comes back.
	c.cut(true)
	select {
	case <-c.iceDown:
	case <-time.After(endWait):
		t.Fatal("the client never saw ICE disconnected")
	}
	ctx, cancel := context.WithTimeout(context.Background(), connectWait)
	defer cancel()
	answer2, err := leg.Restart(ctx, c.offer(true))
	if err != nil {
		t.Fatalf("Restart: %v", err)
	}
	if u1, u2 := ufrag.FindStringSubmatch(answer), ufrag.FindStringSubmatch(answer2); u1 == nil || u2 == nil || u1[1] == u2[1] {
		t.Errorf("ICE credentials did not change: %v then %v", u1, u2)
	}
	if !strings.Contains(answer2, "a=candidate") {
		t.Errorf("the restart's answer carries no candidates:\n%s", answer2)
	}
	c.accept(answer2)
	for len(c.frames) > 0 {
		<-c.frames
	}
	c.cut(false)

	frames, played = exchange(leg, c, 100, send, legSend)
	if n := countTone(frames, played, 440); n < 40 {
		t.Errorf("after the restart, 440 Hz in %d of 100 frames", n)
	}
	got := 0
	for len(c.frames) > 0 {
		if dominant(<-c.frames, 1000) {
			got++
		}
	}
	if got < 40 {
		t.Errorf("after the restart, the browser heard 1 kHz in %d of 100 frames", got)
	}
	if err := leg.Err(); err != nil {
		t.Errorf("the leg ended: %v", err)
	}
}

func TestOfferToBrowser(t *testing.T) {
	if testing.Short() {
		t.Skip("starts two real WebRTC peers on 127.0.0.1; skipped under -short")
	}
	ctx, cancel := context.WithTimeout(context.Background(), connectWait)
	defer cancel()
	leg, offer, err := Offer(ctx, Config{LoopbackOnly: true}, testLogger(t))
	if err != nil {
		t.Fatalf("Offer: %v", err)
	}
	defer leg.Close()
	c := newClient(t, clientOpts{})
	if err := c.pc.SetRemoteDescription(pion.SessionDescription{Type: pion.SDPTypeOffer, SDP: offer}); err != nil {
		t.Fatal(err)
	}
	answer, err := c.pc.CreateAnswer(nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := c.pc.SetLocalDescription(answer); err != nil {
		t.Fatal(err)
	}
	select {
	case <-pion.GatheringCompletePromise(c.pc):
	case <-time.After(connectWait):
		t.Fatal("the client gathered no candidates")
	}
	if err := leg.Accept(c.pc.LocalDescription().SDP); err != nil {
		t.Fatalf("Accept: %v", err)
	}
	select {
	case <-leg.Connected():
	case <-time.After(connectWait):
		t.Fatal("not connected")
	}
	frames, played := exchange(leg, c, 50, func(k int) []int16 { return tone(k, 440, -10) }, nil)
	if n := countTone(frames, played, 440); n < 20 {
		t.Errorf("440 Hz in %d of 50 frames", n)
	}
}

// raceEnabled is set by race_test.go.
var raceEnabled bool

func TestAllocations(t *testing.T) {
	if raceEnabled {
		// Under -race, sync.Pool drops a share of what is put back, so the
		// packets pion pools on the send path are allocated again.
		t.Skip("allocation counts are measured without -race: the race detector makes sync.Pool drop items")
	}
	leg, c, _ := connect(t, Config{Timeout: time.Minute}, clientOpts{cuttable: true})
	exchange(leg, c, 5, nil, func(k int) []int16 { return tone(k, 1000, -10) })
	c.cut(true) // the client's side of the wire costs nothing from here
	f := tone(0, 1000, -10)
	write := func() { _ = leg.WriteFrame(f) }
	read := func() { leg.ReadFrame(f) }
	if a := testing.AllocsPerRun(1000, write); a != 0 {
		t.Errorf("WriteFrame allocates %.0f times per frame, want 0", a)
	}
	if a := testing.AllocsPerRun(1000, read); a != 0 {
		t.Errorf("ReadFrame allocates %.0f times per frame, want 0", a)
	}
	// AllocsPerRun rounds down; count exactly, background goroutines
	// (pion's ICE timers, both sides) included.
	for _, m := range []struct {
		name string
		f    func()
	}{{"WriteFrame", write}, {"ReadFrame", read}} {
		var before, after runtime.MemStats
		runtime.ReadMemStats(&before)
		for range 5000 {
			m.f()
		}
		runtime.ReadMemStats(&after)
		n := after.Mallocs - before.Mallocs
		t.Logf("%s: %d allocations in 5000 frames, the whole process", m.name, n)
		if n > 50 {
			t.Errorf("%s: %d allocations in 5000 frames, want next to none", m.name, n)
		}
	}
	if st := leg.Stats(); st.WriteErrors != 0 || st.PacketsOut < 1000 {
		t.Errorf("stats = %+v", st)
	}
}

// BenchmarkFrame is the leg's cost per 20 ms frame: WriteFrame (encode,
// SRTP, sendto), ReadFrame (jitter buffer playout), and both, as a SIP
// bridge spends them each tick.
func BenchmarkFrame(b *testing.B) {
	leg, c, _ := connect(b, Config{Timeout: time.Minute}, clientOpts{cuttable: true})
	exchange(leg, c, 5, nil, func(k int) []int16 { return tone(k, 1000, -10) })
	c.cut(true) // the client's side of the wire costs nothing from here
	out, in := tone(0, 1000, -10), make([]int16, media.FrameSamples)
	for _, bc := range []struct {
		name        string
		write, read bool
	}{{"Write", true, false}, {"Read", false, true}, {"WriteRead", true, true}} {
		b.Run(bc.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if bc.write {
					if err := leg.WriteFrame(out); err != nil {
						b.Fatal(err)
					}
				}
				if bc.read {
					leg.ReadFrame(in)
				}
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N), "ns/frame")
		})
	}
}

// waitGoroutines waits until no more goroutines run than before, and
// fails with their stacks if that does not happen.
func waitGoroutines(t testing.TB, before int) {
	t.Helper()
	deadline := time.Now().Add(endWait)
	tick := time.NewTicker(20 * time.Millisecond)
	defer tick.Stop()
	for runtime.NumGoroutine() > before {
		if time.Now().After(deadline) {
			var sb strings.Builder
			_ = pprof.Lookup("goroutine").WriteTo(&sb, 1)
			t.Fatalf("%d goroutines, %d before:\n%s", runtime.NumGoroutine(), before, sb.String())
		}
		<-tick.C
	}
}
