package webrtc

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"runtime"
	"runtime/pprof"
	"strings"
	"testing"
	"time"

	"github.com/pion/rtp"
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

// codecCases are the two codecs a leg speaks, each as a client that
// offers PCMU first (as the agent page does) and the leg's default
// preference: Opus when the build has it.
type codecCase struct {
	codec  string
	client []string
	// minPayload is the least a 20 ms packet carries: PCMU's 160 bytes,
	// or Opus's at its bitrate and 8 kHz.
	minPayload uint64
}

var codecCases = []codecCase{
	{CodecPCMU, []string{"PCMU"}, media.FrameSamples},
	{CodecOpus, []string{"PCMU", "opus"}, 20},
}

// eachCodec runs test once for each codec case, as a subtest named after
// the codec.
func eachCodec(t *testing.T, test func(t *testing.T, cc codecCase)) {
	for _, cc := range codecCases {
		t.Run(cc.codec, func(t *testing.T) {
			if cc.codec == CodecOpus {
				requireOpus(t)
			}
			test(t, cc)
		})
	}
}

func TestAudioBothWays(t *testing.T) { eachCodec(t, testAudioBothWays) }

func testAudioBothWays(t *testing.T, cc codecCase) {
	codec, minPayload := cc.codec, cc.minPayload
	leg, c, answer := connect(t, Config{}, clientOpts{codecs: cc.client})
	if got := leg.Codec(); got != codec {
		t.Fatalf("the leg speaks %q, want %q; answer:\n%s", got, codec, answer)
	}
	ac, _ := parseAudio(answer)
	f, _ := formatNamed(codec)
	wantNames := []string{f.sdpName(), fmt.Sprintf("telephone-event/%d", f.clock())}
	if len(ac.names) != 2 || !strings.HasPrefix(ac.names[0], wantNames[0]) || ac.names[1] != wantNames[1] {
		t.Errorf("the answer's audio formats are %v, want %v alone", ac.names, wantNames)
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
	if st.PacketsIn < 80 || st.BytesIn < 80*minPayload || st.PacketsOut < 100 || st.BytesOut < 100*minPayload {
		t.Errorf("stats = %+v", st)
	}
	t.Logf("%s: stats %+v; 440 Hz frames %d/50, silent %d/50, 1 kHz at the browser %d/120", codec, st, toneFrames, quiet, got)
}

// TestCodecPreference: the leg's order wins over the browser's, and a
// leg told to speak PCMU only answers an Opus-first offer with PCMU.
func TestCodecPreference(t *testing.T) {
	requireOpus(t)
	for _, tc := range []struct {
		cfg  []string
		want string
	}{{nil, CodecOpus}, {[]string{"pcmu"}, CodecPCMU}, {[]string{"PCMU", "opus"}, CodecPCMU}} {
		t.Run(fmt.Sprint(tc.cfg), func(t *testing.T) {
			leg, c, answer := connect(t, Config{Codecs: tc.cfg}, clientOpts{codecs: []string{"opus", "PCMU"}})
			if leg.Codec() != tc.want {
				t.Errorf("Codecs %v: the leg speaks %q, want %q", tc.cfg, leg.Codec(), tc.want)
			}
			other := map[string]string{CodecOpus: "PCMU/8000", CodecPCMU: "opus/48000"}[tc.want]
			if strings.Contains(answer, other) {
				t.Errorf("the answer still offers %s:\n%s", other, answer)
			}
			frames, played := exchange(leg, c, 30, func(k int) []int16 { return tone(k, 440, -10) }, nil)
			if n := countTone(frames, played, 440); n < 15 {
				t.Errorf("440 Hz in %d of 30 frames", n)
			}
		})
	}
}

func TestDTMFFromTheBrowser(t *testing.T) {
	for _, tc := range []struct {
		name   string
		o      clientOpts
		answer string
	}{
		// Chromium's payload type, not the one the leg would pick.
		{"PCMU", clientOpts{eventPT: 126}, "a=rtpmap:126 telephone-event/8000"},
		// With Opus the events run on its 48 kHz clock.
		{"opus", clientOpts{codecs: []string{"opus"}}, "a=rtpmap:110 telephone-event/48000"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if tc.name == "opus" {
				requireOpus(t)
			}
			testDTMF(t, tc.o, tc.answer)
		})
	}
}

func testDTMF(t *testing.T, o clientOpts, wantAnswer string) {
	leg, c, answer := connect(t, Config{}, o)
	if !strings.Contains(answer, wantAnswer) {
		t.Errorf("the answer lacks %q:\n%s", wantAnswer, answer)
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

func TestRefusesOfferWithoutItsCodecs(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a real WebRTC peer; skipped under -short")
	}
	before := runtime.NumGoroutine()
	for _, tc := range []struct {
		name  string
		o     clientOpts
		codec []string
		want  []string
	}{
		{"G722 only", clientOpts{codecs: []string{"G722"}}, nil, []string{"G722/8000", "PCMU/8000"}},
		{"opus to a PCMU leg", clientOpts{codecs: []string{"opus"}}, []string{"PCMU"}, []string{"opus/48000/2", "none of PCMU/8000"}},
		{"no audio", clientOpts{noAudio: true}, nil, []string{"no audio section"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := newClient(t, tc.o)
			leg, answer, err := Answer(context.Background(), Config{LoopbackOnly: true, Codecs: tc.codec}, c.offer(false), testLogger(t))
			if err == nil {
				leg.Close()
				t.Fatalf("answered an offer without the leg's codecs:\n%s", answer)
			}
			if !errors.Is(err, ErrNoCodec) {
				t.Errorf("err = %v, want ErrNoCodec", err)
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

func TestOfferToBrowser(t *testing.T) { eachCodec(t, testOfferToBrowser) }

func testOfferToBrowser(t *testing.T, cc codecCase) {
	codec := cc.codec
	if testing.Short() {
		t.Skip("starts two real WebRTC peers on 127.0.0.1; skipped under -short")
	}
	ctx, cancel := context.WithTimeout(context.Background(), connectWait)
	defer cancel()
	leg, offer, err := Offer(ctx, Config{LoopbackOnly: true, Codecs: []string{codec}}, testLogger(t))
	if err != nil {
		t.Fatalf("Offer: %v", err)
	}
	defer leg.Close()
	if ac, _ := parseAudio(offer); len(ac.names) != 2 || leg.Codec() != codec {
		t.Errorf("the leg speaks %q and offers %v, want %s and its telephone-event alone", leg.Codec(), ac.names, codec)
	}
	c := newClient(t, clientOpts{codecs: cc.client})
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
	eachCodec(t, testAllocations)
}

func testAllocations(t *testing.T, cc codecCase) {
	leg, c, _ := connect(t, Config{Timeout: time.Minute}, clientOpts{codecs: cc.client, cuttable: true})
	if leg.Codec() != cc.codec {
		t.Fatalf("the leg speaks %q, want %q", leg.Codec(), cc.codec)
	}
	// The client sends a second of audio, so ReadFrame decodes some.
	exchange(leg, c, 50, func(k int) []int16 { return tone(k, 440, -10) }, func(k int) []int16 { return tone(k, 1000, -10) })
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
	// AllocsPerRun rounds down; count exactly. The whole process is
	// counted, so what pion's ICE timers (both sides) allocate meanwhile
	// is measured over as long again with the leg idle, and taken off.
	for _, m := range []struct {
		name string
		f    func()
	}{{"WriteFrame", write}, {"ReadFrame", read}} {
		var before, after, idle runtime.MemStats
		runtime.ReadMemStats(&before)
		start := time.Now()
		for range 5000 {
			m.f()
		}
		took := time.Since(start)
		runtime.ReadMemStats(&after)
		time.Sleep(took)
		runtime.ReadMemStats(&idle)
		n, background := after.Mallocs-before.Mallocs, idle.Mallocs-after.Mallocs
		t.Logf("%s: %d allocations in 5000 frames (%v), the whole process; %d in as long idle", m.name, n, took, background)
		if n > 50+2*background {
			t.Errorf("%s: %d allocations in 5000 frames, and %d in as long idle: want next to none", m.name, n, background)
		}
	}
	if st := leg.Stats(); st.WriteErrors != 0 || st.PacketsOut < 1000 || st.PacketsIn < 40 {
		t.Errorf("stats = %+v", st)
	}
}

// BenchmarkFrame is the leg's cost per 20 ms frame in each codec:
// WriteFrame (encode, SRTP, sendto), ReadFrame (jitter buffer playout),
// Receive (decode one packet into the jitter buffer), and write, read and
// receive together, as a SIP bridge spends them each tick. Opus's
// WriteReadReceive also reports itself as a multiple of PCMU's, measured
// just before (x-PCMU): what Opus costs a call.
func BenchmarkFrame(b *testing.B) {
	var pcmu float64 // PCMU's WriteReadReceive, ns a frame
	for _, cc := range codecCases {
		b.Run(cc.codec, func(b *testing.B) {
			if cc.codec == CodecOpus {
				requireOpus(b)
			}
			benchmarkFrame(b, cc.client, &pcmu)
		})
	}
}

func benchmarkFrame(b *testing.B, offered []string, pcmu *float64) {
	leg, c, _ := connect(b, Config{Timeout: time.Minute}, clientOpts{codecs: offered, cuttable: true})
	exchange(leg, c, 5, nil, func(k int) []int16 { return tone(k, 1000, -10) })
	c.cut(true) // the client's side of the wire costs nothing from here
	out, in := tone(0, 1000, -10), make([]int16, media.FrameSamples)
	// A packet as the browser sends it, received straight into the jitter
	// buffer, a new sequence number each time.
	enc := c.mic.enc
	payload := make([]byte, media.MaxPayload)
	pkt := rtp.Packet{Header: rtp.Header{Version: 2, PayloadType: uint8(c.mic.codec.PayloadType), SSRC: 42}}
	pkt.Payload = payload[:enc.Encode(payload, tone(0, 440, -10))]
	for _, bc := range []struct {
		name                 string
		write, read, receive bool
	}{{"Write", true, false, false}, {"Read", false, true, false}, {"Receive", false, false, true}, {"WriteReadReceive", true, true, true}} {
		b.Run(bc.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if bc.write {
					if err := leg.WriteFrame(out); err != nil {
						b.Fatal(err)
					}
				}
				if bc.receive {
					pkt.SequenceNumber++
					pkt.Timestamp += c.mic.step()
					leg.rx.Receive(&pkt, time.Now())
				}
				if bc.read {
					leg.ReadFrame(in)
				}
			}
			ns := float64(b.Elapsed().Nanoseconds()) / float64(b.N)
			b.ReportMetric(ns, "ns/frame")
			if bc.name == "WriteReadReceive" {
				if leg.Codec() == CodecPCMU {
					*pcmu = ns
				} else if *pcmu > 0 {
					b.ReportMetric(ns / *pcmu, "x-PCMU")
				}
			}
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
