package media

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"log/slog"
	"math"
	"net"
	"net/netip"
	"runtime"
	"testing"
	"time"

	"github.com/pion/rtp"
)

// Helpers shared by the session's tests: sessions and peers on 127.0.0.1,
// a sine source, levels measured here (the DSP helpers may change), and
// waiting on the session's own ticks rather than on sleeps.

var loopback = netip.MustParseAddr("127.0.0.1")

// expectNoSessionGoroutines fails the test if any session goroutine
// outlives it. Call it first: cleanups run last-in first-out, so it runs
// after every session's Close. Close has waited for the goroutines, which
// may still be returning from their last deferred call: the check yields
// to them (no sleeping) for up to a second. The tests of this package do
// not run in parallel.
func expectNoSessionGoroutines(t *testing.T) {
	t.Helper()
	t.Cleanup(func() {
		buf := make([]byte, 1<<20)
		for deadline := time.Now().Add(time.Second); ; runtime.Gosched() {
			n := runtime.Stack(buf, true)
			if !bytes.Contains(buf[:n], []byte("media.(*Session)")) {
				return
			}
			if time.Now().After(deadline) {
				t.Errorf("session goroutines outlived the test:\n%s", buf[:n])
				return
			}
		}
	})
}

func newTestSession(t testing.TB, cfg SessionConfig) *Session {
	t.Helper()
	if !cfg.BindIP.IsValid() {
		cfg.BindIP = loopback
	}
	s, err := NewSession(cfg, slog.New(slog.NewTextHandler(t.Output(), &slog.HandlerOptions{Level: slog.LevelWarn})))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = s.Close() })
	return s
}

// sessAddr is where to reach s: its port on 127.0.0.1.
func sessAddr(s *Session) netip.AddrPort { return netip.AddrPortFrom(loopback, s.LocalAddr().Port()) }

// waitTicks reads s's ticks through sub until cond holds, or fails after
// maxTicks ticks (the session's own 20 ms clock).
func waitTicks(t testing.TB, sub *Subscription, maxTicks int, what string, cond func(Tick) bool) Tick {
	t.Helper()
	for range maxTicks {
		tk, ok := <-sub.C()
		if !ok {
			t.Fatalf("waiting for %s: the session ended", what)
		}
		if cond(tk) {
			return tk
		}
	}
	t.Fatalf("waiting for %s: not within %d ticks", what, maxTicks)
	return Tick{}
}

// sessSine is an endless (or frames long) sine Source.
type sessSine struct {
	freq, amp float64
	frames    int // 0: endless
	n, phase  int
}

func (s *sessSine) ReadFrame(f []int16) bool {
	if s.frames > 0 && s.n >= s.frames {
		clear(f)
		return false
	}
	s.n++
	for i := range f {
		f[i] = int16(s.amp * math.Sin(2*math.Pi*s.freq*float64(s.phase)/Rate))
		s.phase++
	}
	return true
}

// sessLoop replays precomputed frames, for benchmarks: a Source as cheap
// as a prompt's copy, so the figures are the engine's, not math.Sin's.
type sessLoop struct {
	frames []Frame
	i      int
}

func newSessLoop(freq, amp float64) *sessLoop {
	l := &sessLoop{frames: make([]Frame, 50)}
	src := &sessSine{freq: freq, amp: amp}
	for i := range l.frames {
		src.ReadFrame(l.frames[i][:])
	}
	return l
}

func (l *sessLoop) ReadFrame(f []int16) bool {
	copy(f, l.frames[l.i%len(l.frames)][:])
	l.i++
	return true
}

// sessSilence is a Source of explicit zeros, never ending.
type sessSilence struct{}

func (sessSilence) ReadFrame(f []int16) bool { clear(f); return true }

func sessRMS(frames ...[]int16) float64 {
	var sum float64
	var n int
	for _, f := range frames {
		for _, v := range f {
			sum += float64(v) * float64(v)
		}
		n += len(f)
	}
	if n == 0 {
		return 0
	}
	return math.Sqrt(sum / float64(n))
}

// sessGoertzel is the power of freq in x, normalised so that a sine of
// amplitude a gives about a²/4.
func sessGoertzel(x []int16, freq float64) float64 {
	w := 2 * math.Pi * freq / Rate
	c := 2 * math.Cos(w)
	var s1, s2 float64
	for _, v := range x {
		s1, s2 = float64(v)+c*s1-s2, s1
	}
	p := s1*s1 + s2*s2 - c*s1*s2
	n := float64(len(x))
	return p / (n * n)
}

// testPeer is the test's own RTP endpoint: an even/odd socket pair on
// 127.0.0.1 from the default range, so RTCP sent to port+1 reaches it.
type testPeer struct {
	t         testing.TB
	rtp, rtcp *net.UDPConn
	addr      netip.AddrPort
	ssrc      uint32
	seq       uint16
	ts        uint32
	sine      sessSine
	out       []byte
}

func newTestPeer(t testing.TB) *testPeer {
	t.Helper()
	a, b, err := listenPair(loopback, DefaultPortMin, DefaultPortMax)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = a.Close(); _ = b.Close() })
	return &testPeer{t: t, rtp: a, rtcp: b, addr: a.LocalAddr().(*net.UDPAddr).AddrPort(),
		ssrc: 0x5EED0001, seq: 65530, ts: 1000, sine: sessSine{freq: 1000, amp: 8000}, out: make([]byte, 1500)}
}

func (p *testPeer) send(to netip.AddrPort, h rtp.Header, payload []byte) {
	p.t.Helper()
	h.Version = 2
	pkt := rtp.Packet{Header: h, Payload: payload}
	n, err := pkt.MarshalTo(p.out)
	if err != nil {
		p.t.Fatal(err)
	}
	if _, err := p.rtp.WriteToUDPAddrPort(p.out[:n], to); err != nil {
		p.t.Fatal(err)
	}
}

// sendAudio sends the next 20 ms of the peer's sine as PCMU.
func (p *testPeer) sendAudio(to netip.AddrPort) {
	p.t.Helper()
	var f Frame
	var enc [FrameSamples]byte
	p.sine.ReadFrame(f[:])
	PCMU.Encode(enc[:], f[:])
	p.send(to, rtp.Header{PayloadType: PCMU.PayloadType, SequenceNumber: p.seq, Timestamp: p.ts, SSRC: p.ssrc}, enc[:])
	p.seq++
	p.ts += FrameSamples
}

// sendEvent sends one RFC 4733 packet.
func (p *testPeer) sendEvent(to netip.AddrPort, pt uint8, ts uint32, ev TelephoneEvent, marker bool) {
	p.t.Helper()
	var b [4]byte
	_, _ = ev.MarshalTo(b[:])
	p.send(to, rtp.Header{PayloadType: pt, SequenceNumber: p.seq, Timestamp: ts, SSRC: p.ssrc, Marker: marker}, b[:])
	p.seq++
}

// readRTP returns the next RTP packet sent to the peer, failing after
// timeout.
func (p *testPeer) readRTP(timeout time.Duration) rtp.Packet {
	p.t.Helper()
	pkt, ok := p.tryReadRTP(timeout)
	if !ok {
		p.t.Fatalf("peer %s: no RTP within %v", p.addr, timeout)
	}
	return pkt
}

func (p *testPeer) tryReadRTP(timeout time.Duration) (rtp.Packet, bool) {
	p.t.Helper()
	buf := make([]byte, 1500)
	_ = p.rtp.SetReadDeadline(time.Now().Add(timeout))
	n, err := p.rtp.Read(buf)
	if err != nil {
		return rtp.Packet{}, false
	}
	var pkt rtp.Packet
	if err := pkt.Unmarshal(buf[:n]); err != nil {
		p.t.Fatalf("peer got a packet that is not RTP: %v", err)
	}
	return pkt, true
}

// queued reports whether an RTP packet is waiting at the peer, without
// waiting: sends on loopback are queued at the receiver before sendto
// returns.
func (p *testPeer) queued() bool {
	_, ok := p.tryReadRTP(time.Microsecond)
	return ok
}

// drain reads what is queued. Each read may wait 5 ms (a quarter of the
// sessions' packet interval, so a stream still flowing ends it too): a
// read whose deadline has passed by the time it runs, on a busy machine,
// reports a timeout without looking, and would leave packets behind.
func (p *testPeer) drain() {
	for range 1000 {
		if _, ok := p.tryReadRTP(5 * time.Millisecond); !ok {
			return
		}
	}
}

// A tone played on one session arrives on the other's ticks at its level,
// no sooner than the jitter delay; silence arrives as silence.
func TestSessionsTalk(t *testing.T) {
	expectNoSessionGoroutines(t)
	a := newTestSession(t, SessionConfig{})
	b := newTestSession(t, SessionConfig{})
	a.SetRemote(sessAddr(b), PCMU, 101)
	b.SetRemote(sessAddr(a), PCMU, 101)
	const amp = 10000.0
	a.Play(&sessSine{freq: 1000, amp: amp})
	subA := a.Subscribe(64)
	subB := b.Subscribe(64)
	ctx := t.Context()
	b.Start(ctx)
	a.Start(ctx)

	var in, out [][]int16
	waitTicks(t, subB, 100, "the tone at B", func(tk Tick) bool {
		if !tk.InMissing {
			in = append(in, tk.In[:])
		}
		return len(in) == 10
	})
	for range 10 {
		tk := <-subA.C()
		out = append(out, tk.Out[:])
	}
	want := amp / math.Sqrt2
	if got := sessRMS(in...); math.Abs(got-want)/want > 0.05 {
		t.Errorf("B hears the tone at RMS %.0f, want %.0f ±5%%", got, want)
	}
	if got := sessRMS(out...); math.Abs(got-want)/want > 0.01 {
		t.Errorf("A's ticks say it sent RMS %.0f, want %.0f", got, want)
	}
	flat := make([]int16, 0, 10*FrameSamples)
	for _, f := range in {
		flat = append(flat, f...)
	}
	if on, off := sessGoertzel(flat, 1000), sessGoertzel(flat, 1500); on < 100*off || on < want*want/4 {
		t.Errorf("B does not hear a 1 kHz tone: power at 1 kHz %.0f, at 1.5 kHz %.0f", on, off)
	}

	for _, src := range []Source{sessSilence{}, nil} {
		a.Play(src)
		quiet := 0
		waitTicks(t, subB, 100, "silence at B", func(tk Tick) bool {
			if !tk.InMissing && sessRMS(tk.In[:]) == 0 {
				quiet++
			} else {
				quiet = 0
			}
			return quiet == 10
		})
	}
	if st := b.Stats(); st.Lost != 0 || st.WrongPayloadType != 0 || st.UnknownSource != 0 {
		t.Errorf("B's stats on a clean loopback: %+v", st)
	}
}

// The first packet is played out no sooner than JitterDelay after it came.
func TestSessionPlayoutDelay(t *testing.T) {
	expectNoSessionGoroutines(t)
	s := newTestSession(t, SessionConfig{JitterDelay: 60 * time.Millisecond})
	p := newTestPeer(t)
	s.SetRemote(p.addr, PCMU, 0)
	sub := s.Subscribe(64)
	s.Start(t.Context())
	first := (<-sub.C()).Seq
	p.sendAudio(sessAddr(s)) // after tick `first`: it can be in the buffer for tick first+1 at the earliest
	tk := waitTicks(t, sub, 50, "the first frame", func(tk Tick) bool {
		if tk.InMissing {
			p.sendAudio(sessAddr(s))
		}
		return !tk.InMissing
	})
	if d := tk.Seq - first; d < 1+3 || d > 1+3+10 {
		t.Errorf("first frame played %d ticks after it was sent, want 4 (60 ms of delay) or a little more", d)
	}
}

type rtpClass int

const (
	classSilence rtpClass = iota
	classSrc1
	classSrc2
	classSrc3
)

// classify tells the test's sources apart by level.
func classify(t *testing.T, pkt rtp.Packet) rtpClass {
	var f Frame
	PCMU.Decode(f[:], pkt.Payload)
	switch r := sessRMS(f[:]); {
	case r < 10:
		return classSilence
	case r > 1000 && r < 2000:
		return classSrc1
	case r > 2500 && r < 3500:
		return classSrc2
	case r > 4500 && r < 6500:
		return classSrc3
	default:
		t.Fatalf("packet of RMS %.0f is none of the test's sources", r)
		return 0
	}
}

// Sequence numbers and timestamps run on across sources, one SSRC, and the
// marker bit starts each source, not the silence after a source ends.
func TestSessionSequenceContinuity(t *testing.T) {
	expectNoSessionGoroutines(t)
	s := newTestSession(t, SessionConfig{})
	p := newTestPeer(t)
	s.SetRemote(p.addr, PCMU, 0)
	s.Play(&sessSine{freq: 440, amp: 2000})
	s.Start(t.Context())

	var pkts []rtp.Packet
	var classes []rtpClass
	read := func(class rtpClass, n int) {
		t.Helper()
		got := 0
		for got < n {
			pkt := p.readRTP(2 * time.Second)
			c := classify(t, pkt)
			pkts, classes = append(pkts, pkt), append(classes, c)
			if c == class {
				got++
			}
		}
	}
	read(classSrc1, 5)
	s.Play(&sessSine{freq: 440, amp: 4000, frames: 5}) // ends by itself: silence follows, no marker
	read(classSrc2, 5)
	read(classSilence, 5)
	s.Play(&sessSine{freq: 440, amp: 8000})
	read(classSrc3, 5)
	s.Play(nil)
	read(classSilence, 5)

	var markers []rtpClass
	jumps := 0
	for i, pkt := range pkts {
		if pkt.SSRC != pkts[0].SSRC {
			t.Fatalf("packet %d: SSRC %#x, the first had %#x", i, pkt.SSRC, pkts[0].SSRC)
		}
		if pkt.PayloadType != PCMU.PayloadType || len(pkt.Payload) != FrameSamples {
			t.Fatalf("packet %d: payload type %d, %d bytes", i, pkt.PayloadType, len(pkt.Payload))
		}
		if i > 0 {
			if pkt.SequenceNumber != pkts[i-1].SequenceNumber+1 {
				t.Errorf("packet %d: seq %d after %d", i, pkt.SequenceNumber, pkts[i-1].SequenceNumber)
			}
			// The next frame's timestamp; or, after a stall of the machine
			// longer than maxCatchUp ticks, later by whole frames: the
			// timestamp keeps telling real time (see Session's pacing).
			step := pkt.Timestamp - pkts[i-1].Timestamp
			switch {
			case step == FrameSamples:
			case step > FrameSamples && step%FrameSamples == 0 && step <= 100*FrameSamples:
				t.Logf("packet %d: a stall skipped %d frames", i, step/FrameSamples-1)
				jumps++
			default:
				t.Errorf("packet %d: ts %d after %d", i, pkt.Timestamp, pkts[i-1].Timestamp)
			}
		}
		if pkt.Marker {
			markers = append(markers, classes[i])
			if i > 0 && classes[i] == classes[i-1] {
				t.Errorf("packet %d: marker inside a run of the same source", i)
			}
		}
	}
	want := []rtpClass{classSrc1, classSrc2, classSrc3, classSilence}
	if !equalClasses(markers, want) {
		t.Errorf("markers on the starts of %v, want %v (src1, src2, src3, Play(nil))", markers, want)
	}
	if jumps > 2 {
		t.Errorf("the timestamp jumped %d times in %d packets: the session skips frames without a stall", jumps, len(pkts))
	}
}

func equalClasses(a, b []rtpClass) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// On hold we send nothing, timestamps keep time, and the first packet
// after it carries the marker.
func TestSessionHoldKeepsTime(t *testing.T) {
	expectNoSessionGoroutines(t)
	s := newTestSession(t, SessionConfig{})
	p := newTestPeer(t)
	s.SetRemote(p.addr, PCMU, 0)
	s.Play(&sessSine{freq: 440, amp: 4000})
	sub := s.Subscribe(256)
	s.Start(t.Context())
	last := p.readRTP(2 * time.Second)
	s.SetDirection(Inactive)
	hold := waitTicks(t, sub, 10, "the first tick on hold", func(tk Tick) bool { return sessRMS(tk.Out[:]) == 0 })
	for {
		pkt, ok := p.tryReadRTP(time.Microsecond)
		if !ok {
			break
		}
		last = pkt
	}
	waitTicks(t, sub, 20, "ten ticks on hold", func(tk Tick) bool {
		if sessRMS(tk.Out[:]) != 0 {
			t.Fatalf("tick %d on hold says it sent audio", tk.Seq)
		}
		return tk.Seq >= hold.Seq+10
	})
	if p.queued() {
		t.Fatal("RTP sent on hold")
	}
	s.SetDirection(SendRecv)
	pkt := p.readRTP(2 * time.Second)
	if !pkt.Marker {
		t.Error("no marker on the first packet after hold")
	}
	if pkt.SequenceNumber != last.SequenceNumber+1 {
		t.Errorf("seq %d after hold, %d before", pkt.SequenceNumber, last.SequenceNumber)
	}
	if d := pkt.Timestamp - last.Timestamp; d%FrameSamples != 0 || d < 11*FrameSamples {
		t.Errorf("timestamp advanced by %d over the hold, want a multiple of 160 covering at least 11 ticks", d)
	}
}

// Packets from an address not in the SDP are adopted only after
// LearnPackets in-sequence packets; then we send there.
func TestSessionLearnsSource(t *testing.T) {
	expectNoSessionGoroutines(t)
	s := newTestSession(t, SessionConfig{LearnPackets: 3})
	sdp := newTestPeer(t)   // what the SDP says: never sends
	other := newTestPeer(t) // where the packets really come from (a NAT)
	s.SetRemote(sdp.addr, PCMU, 0)
	sub := s.Subscribe(64)
	s.Start(t.Context())
	sdp.readRTP(2 * time.Second) // we send to the SDP address until we learn better

	sendSeq := func(seq uint16) {
		other.seq = seq
		other.sendAudio(sessAddr(s))
	}
	unknown := func(n uint64) {
		t.Helper()
		waitTicks(t, sub, 50, "packets counted", func(Tick) bool { return s.Stats().UnknownSource == n })
		if st := s.Stats(); st.LearnedSource.IsValid() || st.PacketsReceived != 0 {
			t.Fatalf("after %d packets from %s: learned %v, received %d", n, other.addr, st.LearnedSource, st.PacketsReceived)
		}
	}
	sendSeq(100)
	sendSeq(101)
	unknown(2)
	sendSeq(103) // out of sequence: counting starts again
	sendSeq(104)
	unknown(4)
	sendSeq(105)
	waitTicks(t, sub, 50, "the source learned", func(Tick) bool { return s.Stats().LearnedSource == other.addr })
	if st := s.Stats(); st.PacketsReceived != 1 || st.UnknownSource != 4 {
		t.Errorf("after learning: received %d, unknown %d; want 1 and 4", st.PacketsReceived, st.UnknownSource)
	}
	other.readRTP(2 * time.Second) // replies go there now
	sdp.drain()
	waitTicks(t, sub, 3, "a tick", func(Tick) bool { return true })
	other.readRTP(2 * time.Second)
	if sdp.queued() {
		t.Error("still sending to the SDP address after learning")
	}
}

// While the peer's stream flows, a spoofed packet, or even a quick burst
// of in-sequence ones, never takes it over.
func TestSessionSpoofDoesNotSteal(t *testing.T) {
	expectNoSessionGoroutines(t)
	s := newTestSession(t, SessionConfig{LearnPackets: 3})
	legit := newTestPeer(t)
	spoof := newTestPeer(t)
	spoof.ssrc = legit.ssrc
	s.SetRemote(legit.addr, PCMU, 0)
	sub := s.Subscribe(64)
	s.Start(t.Context())
	to := sessAddr(s)
	ticks := 0
	waitTicks(t, sub, 100, "the legit stream flowing", func(Tick) bool {
		legit.sendAudio(to) // paced by the session's ticks
		ticks++
		switch ticks {
		case 5:
			spoof.seq = legit.seq
			spoof.sendAudio(to)
		case 10:
			spoof.seq = legit.seq + 100
			for range 5 {
				spoof.sendAudio(to)
			}
		}
		return ticks == 20
	})
	st := s.Stats()
	if st.LearnedSource.IsValid() {
		t.Fatalf("the stream was taken over by %v", st.LearnedSource)
	}
	if st.UnknownSource != 6 {
		t.Errorf("unknown-source packets: %d, want 6", st.UnknownSource)
	}
	legit.drain()
	waitTicks(t, sub, 3, "a tick", func(Tick) bool { return true })
	legit.readRTP(2 * time.Second)
	if spoof.queued() {
		t.Error("RTP went to the spoofer")
	}
}

// The session ends with ErrMediaTimeout when the peer stops, not while the
// peer may not send.
func TestSessionMediaTimeout(t *testing.T) {
	expectNoSessionGoroutines(t)
	const timeout = 300 * time.Millisecond
	s := newTestSession(t, SessionConfig{MediaTimeout: timeout})
	p := newTestPeer(t)
	s.SetRemote(p.addr, PCMU, 0)
	sub := s.Subscribe(64)
	s.Start(t.Context())
	sent := time.Now()
	for range 5 {
		p.sendAudio(sessAddr(s))
	}
	waitTicks(t, sub, 50, "the packets", func(Tick) bool { return s.Stats().PacketsReceived == 5 })
	select {
	case <-s.Done():
	case <-time.After(10 * timeout):
		t.Fatal("no media timeout")
	}
	if !errors.Is(s.Err(), ErrMediaTimeout) {
		t.Errorf("Err() = %v, want ErrMediaTimeout", s.Err())
	}
	if d := time.Since(sent); d < timeout {
		t.Errorf("timed out %v after the last packet, before the %v timeout", d, timeout)
	}
}

func TestSessionNoTimeoutOnHold(t *testing.T) {
	for _, d := range []Direction{SendOnly, Inactive} {
		t.Run(string(d), func(t *testing.T) {
			expectNoSessionGoroutines(t)
			const timeout = 200 * time.Millisecond
			s := newTestSession(t, SessionConfig{MediaTimeout: timeout})
			p := newTestPeer(t)
			s.SetRemote(p.addr, PCMU, 0)
			s.SetDirection(d)
			sub := s.Subscribe(64)
			s.Start(t.Context())
			// 30 ticks: three times the timeout without a packet.
			waitTicks(t, sub, 30, "30 ticks", func(tk Tick) bool { return tk.Seq >= 29 })
			select {
			case <-s.Done():
				t.Fatalf("the session ended on hold: %v", s.Err())
			default:
			}
			if d == Inactive && p.queued() {
				t.Error("RTP sent while inactive")
			}
			s.SetDirection(SendRecv)
			select {
			case <-s.Done():
			case <-time.After(10 * timeout):
				t.Fatal("no media timeout after the hold ended")
			}
			if !errors.Is(s.Err(), ErrMediaTimeout) {
				t.Errorf("Err() = %v", s.Err())
			}
		})
	}
}

// Close is idempotent, ends the goroutines, closes subscriptions; Start
// after Close does nothing; the context ends a session too.
func TestSessionLifecycle(t *testing.T) {
	expectNoSessionGoroutines(t)
	s := newTestSession(t, SessionConfig{})
	sub := s.Subscribe(4)
	s.Start(t.Context())
	s.Start(t.Context())
	<-sub.C()
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if !errors.Is(s.Err(), ErrSessionClosed) {
		t.Errorf("Err() after Close = %v", s.Err())
	}
	for range sub.C() {
	}
	sub.Unsubscribe()
	sub.Unsubscribe()
	if _, ok := <-s.Subscribe(1).C(); ok {
		t.Error("a subscription after the end is open")
	}

	never := newTestSession(t, SessionConfig{})
	if err := never.Close(); err != nil {
		t.Fatal(err)
	}
	never.Start(t.Context())
	<-never.Done()

	ctx, cancel := context.WithCancel(t.Context())
	c := newTestSession(t, SessionConfig{})
	c.Start(ctx)
	cancel()
	<-c.Done()
	if !errors.Is(c.Err(), context.Canceled) {
		t.Errorf("Err() after cancel = %v", c.Err())
	}

	// A subscriber that does not read loses ticks, counted; the others
	// are not held up.
	u := newTestSession(t, SessionConfig{})
	slow, gone, clock := u.Subscribe(1), u.Subscribe(1), u.Subscribe(64)
	gone.Unsubscribe()
	u.Start(t.Context())
	if _, ok := <-gone.C(); ok {
		t.Error("an unsubscribed channel delivered a tick")
	}
	waitTicks(t, clock, 10, "5 ticks", func(tk Tick) bool { return tk.Seq >= 4 })
	if d := slow.Dropped(); d < 3 || u.Stats().DroppedTicks != d {
		t.Errorf("slow subscriber: %d dropped, stats say %d; want at least 3, the same", d, u.Stats().DroppedTicks)
	}
	if tk := <-slow.C(); tk.Seq != 0 {
		t.Errorf("the slow subscriber's buffered tick is %d, want the first", tk.Seq)
	}
}

// receivePathHarness feeds a session (not started: the test plays the
// reader and the sender) one packet at a time, as the RTP reader would,
// and plays a frame out after each, as the sender would.
type receivePathHarness struct {
	s    *Session
	from netip.AddrPort
	buf  []byte
	seq  uint16
	now  time.Time
	out  Frame
}

func newReceivePathHarness(t testing.TB) *receivePathHarness {
	s := newTestSession(t, SessionConfig{})
	from := netip.AddrPortFrom(loopback, 40000)
	s.SetRemote(from, PCMU, testEventPT)
	var f Frame
	var enc [FrameSamples]byte
	(&sessSine{freq: 1000, amp: 8000}).ReadFrame(f[:])
	PCMU.Encode(enc[:], f[:])
	pkt := rtp.Packet{Header: rtp.Header{Version: 2, PayloadType: PCMU.PayloadType, SSRC: 42}, Payload: enc[:]}
	buf, err := pkt.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	h := &receivePathHarness{s: s, from: from, buf: buf, now: time.Now()}
	for range 50 { // past the delay
		h.packet()
	}
	return h
}

// packet receives the next packet: parse, source check, statistics,
// jitter buffer, decode; then one frame is played out.
func (h *receivePathHarness) packet() {
	binary.BigEndian.PutUint16(h.buf[2:], h.seq)
	binary.BigEndian.PutUint32(h.buf[4:], uint32(h.seq)*FrameSamples)
	h.s.receive(h.buf, h.from, h.now)
	h.s.jitter.pop(&h.out)
	h.seq++
	h.now = h.now.Add(FrameDuration)
}

func TestReceivePathAllocatesNothing(t *testing.T) {
	h := newReceivePathHarness(t)
	if n := testing.AllocsPerRun(1000, h.packet); n != 0 {
		t.Errorf("receiving a packet allocates %v times", n)
	}
	if st := h.s.Stats(); st.PacketsReceived < 1000 || st.Lost != 0 || st.Late != 0 {
		t.Errorf("the packets did not go through: %+v", st)
	}
	// Packets that are turned away allocate nothing either.
	stranger := netip.AddrPortFrom(loopback, 40002)
	if n := testing.AllocsPerRun(100, func() { h.s.receive(h.buf, stranger, h.now) }); n != 0 {
		t.Errorf("a packet from elsewhere allocates %v times", n)
	}
	h.buf[1] = 99
	if n := testing.AllocsPerRun(100, func() { h.s.receive(h.buf, h.from, h.now) }); n != 0 {
		t.Errorf("a packet of the wrong payload type allocates %v times", n)
	}
	if n := testing.AllocsPerRun(100, func() { h.s.receive(h.buf[:5], h.from, h.now) }); n != 0 {
		t.Errorf("a runt allocates %v times", n)
	}
	// And RFC 4733 events.
	h.buf[1] = testEventPT
	copy(h.buf[12:], []byte{5, 10, 0, 160})
	if n := testing.AllocsPerRun(1000, h.packet); n != 0 {
		t.Errorf("receiving an event packet allocates %v times", n)
	}
}

// sendPathHarness drives the sender's steps of a session that is not
// started, with a real socket write to a peer.
func newSendPathHarness(t testing.TB) (*Session, *testPeer) {
	s := newTestSession(t, SessionConfig{})
	p := newTestPeer(t)
	s.SetRemote(p.addr, PCMU, testEventPT)
	s.Play(newSessLoop(1000, 8000))
	return s, p
}

func TestSendPathAllocatesNothing(t *testing.T) {
	s, p := newSendPathHarness(t)
	var f Frame
	build := func() {
		s.readSource(&f)
		s.buildAudio(&f, PCMU, false)
	}
	if n := testing.AllocsPerRun(1000, build); n != 0 {
		t.Errorf("source, encode and marshal allocate %v times a packet", n)
	}
	// The whole tick: playout, source, encode, marshal, the socket write,
	// a tick handed to a subscriber by value (and one dropped).
	sub, full := s.Subscribe(4), s.Subscribe(1)
	now := time.Now()
	tick := func() {
		s.step(now)
		<-sub.C()
		now = now.Add(FrameDuration)
	}
	tick()
	if n := testing.AllocsPerRun(1000, tick); n != 0 {
		t.Errorf("a tick allocates %v times", n)
	}
	if full.Dropped() < 1000 {
		t.Errorf("the full subscription dropped %d ticks", full.Dropped())
	}
	if pkt := p.readRTP(time.Second); pkt.PayloadType != PCMU.PayloadType {
		t.Errorf("the ticks sent %+v", pkt.Header)
	}
	// Ticks that send RFC 4733 events instead.
	if err := s.SendDTMF("1", 8*time.Second); err != nil {
		t.Fatal(err)
	}
	tick()
	if n := testing.AllocsPerRun(300, tick); n != 0 {
		t.Errorf("a tick sending an event allocates %v times", n)
	}
}

func BenchmarkReceivePath(b *testing.B) {
	h := newReceivePathHarness(b)
	base := unmarshalBaseline()
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		h.packet()
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N), "ns/packet")
	reportRatio(b, base, "rtp-unmarshal")
}

func BenchmarkSendPath(b *testing.B) {
	s, _ := newSendPathHarness(b)
	base := marshalBaseline()
	var f Frame
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		s.readSource(&f)
		s.buildAudio(&f, PCMU, false)
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N), "ns/packet")
	reportRatio(b, base, "rtp-marshal")
}

// BenchmarkTick is a whole sender tick, socket write included.
func BenchmarkTick(b *testing.B) {
	s, _ := newSendPathHarness(b)
	base := sendtoBaseline(b)
	now := time.Now()
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		s.step(now)
		now = now.Add(FrameDuration)
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N), "ns/packet")
	reportRatio(b, base, "udp-sendto")
}

// BenchmarkLoopback sends packets from one session's send path to another,
// started, session through loopback sockets, at most 64 in flight so none
// is lost, and reports what the receiving reader goroutine takes.
func BenchmarkLoopback(b *testing.B) {
	dst := newTestSession(b, SessionConfig{})
	src := newTestSession(b, SessionConfig{})
	src.SetRemote(sessAddr(dst), PCMU, 0)
	dst.SetRemote(sessAddr(src), PCMU, 0)
	src.Play(newSessLoop(1000, 8000))
	dst.Start(b.Context())
	var f Frame
	to := sessAddr(dst)
	sent := uint64(0)
	b.ReportAllocs()
	for b.Loop() {
		for sent >= dst.Stats().PacketsReceived+64 {
			runtime.Gosched()
		}
		src.readSource(&f)
		src.send(src.buildAudio(&f, PCMU, false), to, FrameSamples)
		sent++
	}
	for dst.Stats().PacketsReceived < sent {
		runtime.Gosched()
	}
	b.ReportMetric(float64(sent)/b.Elapsed().Seconds(), "packets/s")
}

// TestSessionFootprint measures what a running session holds: its
// goroutines (exactly three) and its memory (logged; the figure in
// session.go comes from here).
func TestSessionFootprint(t *testing.T) {
	expectNoSessionGoroutines(t)
	const n = 20
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	g0 := runtime.NumGoroutine()
	for range n {
		s := newTestSession(t, SessionConfig{})
		s.SetRemote(netip.AddrPortFrom(loopback, 9), PCMU, 0)
		s.SetDirection(RecvOnly)
		s.Start(t.Context())
	}
	g1 := runtime.NumGoroutine()
	runtime.GC()
	runtime.ReadMemStats(&after)
	if d := g1 - g0; d != 3*n {
		t.Errorf("%d sessions started %d goroutines, want %d", n, d, 3*n)
	}
	per := (int64(after.HeapAlloc) - int64(before.HeapAlloc)) / n
	t.Logf("a started session: 3 goroutines, %d KiB of heap", per/1024)
	if per > 256<<10 {
		t.Errorf("a session holds %d KiB", per/1024)
	}
}

// A re-INVITE moves the stream to a new address and codec; sequence
// numbers and the SSRC run on.
func TestSessionReinvite(t *testing.T) {
	expectNoSessionGoroutines(t)
	s := newTestSession(t, SessionConfig{})
	p1, p2 := newTestPeer(t), newTestPeer(t)
	s.SetRemote(p1.addr, PCMU, 0)
	s.Start(t.Context())
	before := p1.readRTP(2 * time.Second)
	s.SetRemote(p2.addr, PCMA, 0)
	after := p2.readRTP(2 * time.Second)
	if after.PayloadType != PCMA.PayloadType {
		t.Fatalf("PT %d at the new address, want PCMA's", after.PayloadType)
	}
	for p1.queued() {
		before.SequenceNumber++ // what p1 got between
	}
	if after.SSRC != before.SSRC || after.SequenceNumber != before.SequenceNumber+1 {
		t.Errorf("after the re-INVITE: SSRC %#x seq %d; before: %#x %d", after.SSRC, after.SequenceNumber, before.SSRC, before.SequenceNumber)
	}
	// Old style hold: c=0.0.0.0 sends nothing.
	sub := s.Subscribe(8)
	s.SetRemote(netip.AddrPortFrom(netip.IPv4Unspecified(), p2.addr.Port()), PCMA, 0)
	<-sub.C() // may have been sent before the change
	<-sub.C() // after it
	p2.drain()
	waitTicks(t, sub, 3, "a tick", func(Tick) bool { return true })
	if p2.queued() {
		t.Error("RTP sent to 0.0.0.0's port")
	}
}

type panicSource struct{}

func (panicSource) ReadFrame([]int16) bool { panic("a bug in a source") }

// A panicking Source ends its session with an error, not the process.
func TestSessionSurvivesPanic(t *testing.T) {
	expectNoSessionGoroutines(t)
	s, err := NewSession(SessionConfig{BindIP: loopback}, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	s.Play(panicSource{})
	s.Start(t.Context())
	select {
	case <-s.Done():
	case <-time.After(2 * time.Second):
		t.Fatal("the session did not end")
	}
	if err := s.Err(); err == nil || !bytes.Contains([]byte(err.Error()), []byte("panicked")) {
		t.Errorf("Err() = %v", err)
	}
}
