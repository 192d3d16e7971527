package webrtc

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"math"
	"net"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/pion/ice/v4"
	"github.com/pion/rtp"
	pion "github.com/pion/webrtc/v4"

	"github.com/sambung/sambung/media"
)

// The browser in these tests is a second pion PeerConnection on 127.0.0.1
// that behaves as Chromium does where it matters: it offers, sends its
// microphone as PCMU and RFC 4733 events on one SSRC with one sequence
// space, and its host candidates are plain IPs (as Chromium's are once the
// page has microphone permission).

type clientOpts struct {
	eventPT  uint8 // telephone-event's payload type (default 101; Chromium uses 126)
	opusOnly bool  // offer opus and nothing else
	noAudio  bool  // offer a data channel only
	cuttable bool  // run ICE over a socket the test can cut (Client.cut)
}

// client is the test's browser.
type client struct {
	t         testing.TB
	pc        *pion.PeerConnection
	mic       *micTrack
	conn      *cutConn
	connected chan struct{}
	iceDown   chan struct{} // ICE went disconnected
	frames    chan []int16  // the leg's audio, one decoded packet each
	discard   atomic.Bool   // read the leg's packets without keeping them
	readers   sync.WaitGroup
}

func newClient(t testing.TB, o clientOpts) *client {
	t.Helper()
	if o.eventPT == 0 {
		o.eventPT = 101
	}
	me := &pion.MediaEngine{}
	codecs := []pion.RTPCodecParameters{
		{RTPCodecCapability: pcmuCapability, PayloadType: 0},
		{RTPCodecCapability: pion.RTPCodecCapability{MimeType: mimeTelephoneEvent, ClockRate: 8000, SDPFmtpLine: "0-15"}, PayloadType: pion.PayloadType(o.eventPT)},
	}
	if o.opusOnly {
		codecs = []pion.RTPCodecParameters{{RTPCodecCapability: pion.RTPCodecCapability{MimeType: pion.MimeTypeOpus, ClockRate: 48000, Channels: 2}, PayloadType: 111}}
	}
	for _, c := range codecs {
		if err := me.RegisterCodec(c, pion.RTPCodecTypeAudio); err != nil {
			t.Fatal(err)
		}
	}
	var se pion.SettingEngine
	se.SetIncludeLoopbackCandidate(true)
	se.SetIPFilter(func(ip net.IP) bool { return ip.IsLoopback() })
	se.SetICEMulticastDNSMode(ice.MulticastDNSModeDisabled)
	se.SetICETimeouts(time.Second, 30*time.Second, 250*time.Millisecond)
	c := &client{t: t, connected: make(chan struct{}), iceDown: make(chan struct{}), frames: make(chan []int16, 1000)}
	if o.cuttable {
		udp, err := net.ListenUDP("udp4", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
		if err != nil {
			t.Fatal(err)
		}
		c.conn = &cutConn{UDPConn: udp}
		mux := ice.NewUDPMuxDefault(ice.UDPMuxParams{UDPConn: c.conn})
		t.Cleanup(func() { _ = mux.Close() })
		se.SetICEUDPMux(mux)
	}
	pc, err := pion.NewAPI(pion.WithMediaEngine(me), pion.WithSettingEngine(se)).NewPeerConnection(pion.Configuration{})
	if err != nil {
		t.Fatal(err)
	}
	c.pc = pc
	t.Cleanup(c.close)
	var connOnce, downOnce sync.Once
	pc.OnConnectionStateChange(func(s pion.PeerConnectionState) {
		if s == pion.PeerConnectionStateConnected {
			connOnce.Do(func() { close(c.connected) })
		}
	})
	pc.OnICEConnectionStateChange(func(s pion.ICEConnectionState) {
		if s == pion.ICEConnectionStateDisconnected {
			downOnce.Do(func() { close(c.iceDown) })
		}
	})
	pc.OnTrack(func(tr *pion.TrackRemote, _ *pion.RTPReceiver) {
		c.readers.Add(1)
		go c.read(tr)
	})
	switch {
	case o.noAudio:
		if _, err := pc.CreateDataChannel("chat", nil); err != nil {
			t.Fatal(err)
		}
	default:
		c.mic = &micTrack{eventPT: o.eventPT}
		if _, err := pc.AddTrack(c.mic); err != nil {
			t.Fatal(err)
		}
	}
	return c
}

// offer returns the client's offer with its candidates.
func (c *client) offer(restart bool) string {
	c.t.Helper()
	o, err := c.pc.CreateOffer(&pion.OfferOptions{ICERestart: restart})
	if err != nil {
		c.t.Fatal(err)
	}
	if err := c.pc.SetLocalDescription(o); err != nil {
		c.t.Fatal(err)
	}
	select {
	case <-pion.GatheringCompletePromise(c.pc):
	case <-time.After(10 * time.Second):
		c.t.Fatal("the client gathered no candidates in 10 s")
	}
	return c.pc.LocalDescription().SDP
}

func (c *client) accept(answer string) {
	c.t.Helper()
	if err := c.pc.SetRemoteDescription(pion.SessionDescription{Type: pion.SDPTypeAnswer, SDP: answer}); err != nil {
		c.t.Fatal(err)
	}
}

func (c *client) read(tr *pion.TrackRemote) {
	defer c.readers.Done()
	buf := make([]byte, 1500)
	var p rtp.Packet
	for {
		n, _, err := tr.Read(buf)
		if err != nil {
			if errors.Is(err, io.EOF) || errors.Is(err, io.ErrClosedPipe) {
				return
			}
			continue
		}
		if c.discard.Load() || p.Unmarshal(buf[:n]) != nil || p.PayloadType != 0 {
			continue
		}
		f := make([]int16, len(p.Payload))
		media.PCMU.Decode(f, p.Payload)
		select {
		case c.frames <- f:
		default:
		}
	}
}

func (c *client) close() {
	_ = c.pc.GracefulClose()
	c.readers.Wait()
}

// cut drops everything the client sends and receives, as if its network
// were gone; restore brings it back.
func (c *client) cut(on bool) { c.conn.cut.Store(on) }

// micTrack is the client's microphone: PCMU, with RFC 4733 events under
// the same SSRC and sequence numbers, as Chromium sends them.
type micTrack struct {
	eventPT uint8
	mu      sync.Mutex
	stream  pion.TrackLocalWriter
	hdr     rtp.Header
}

func (m *micTrack) Bind(ctx pion.TrackLocalContext) (pion.RTPCodecParameters, error) {
	for _, p := range ctx.CodecParameters() {
		if strings.EqualFold(p.MimeType, pion.MimeTypePCMU) {
			m.mu.Lock()
			defer m.mu.Unlock()
			m.stream = ctx.WriteStream()
			m.hdr = rtp.Header{Version: 2, SSRC: uint32(ctx.SSRC()), SequenceNumber: 1000, Timestamp: 5000}
			return p, nil
		}
	}
	return pion.RTPCodecParameters{}, pion.ErrUnsupportedCodec
}

func (m *micTrack) Unbind(pion.TrackLocalContext) error { return nil }
func (m *micTrack) ID() string                          { return "mic" }
func (m *micTrack) RID() string                         { return "" }
func (m *micTrack) StreamID() string                    { return "browser" }
func (m *micTrack) Kind() pion.RTPCodecType             { return pion.RTPCodecTypeAudio }

// send sends one packet; audio advances the timestamp by a frame.
func (m *micTrack) send(pt uint8, ts uint32, payload []byte, advance bool) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.stream == nil {
		return
	}
	h := m.hdr
	h.PayloadType = pt
	if ts != 0 {
		h.Timestamp = ts
	}
	_, _ = m.stream.WriteRTP(&h, payload)
	m.hdr.SequenceNumber++
	if advance {
		m.hdr.Timestamp += media.FrameSamples
	}
}

func (m *micTrack) sendFrame(f []int16) {
	payload := make([]byte, media.FrameSamples)
	media.PCMU.Encode(payload, f)
	m.send(0, 0, payload, true)
}

// sendKey sends one RFC 4733 key press of frames packets plus the end,
// sent three times, each on a tick of its own.
func (m *micTrack) sendKey(ctx context.Context, event uint8, frames int) {
	m.mu.Lock()
	ts := m.hdr.Timestamp
	m.mu.Unlock()
	tick := time.NewTicker(media.FrameDuration)
	defer tick.Stop()
	for i := range frames + 3 {
		ev := media.TelephoneEvent{Event: event, Volume: 10, Duration: uint16(min(i+1, frames) * media.FrameSamples), End: i >= frames}
		b := make([]byte, 4)
		_, _ = ev.MarshalTo(b)
		m.send(m.eventPT, ts, b, false)
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
	}
	m.mu.Lock()
	m.hdr.Timestamp += uint32((frames + 3) * media.FrameSamples)
	m.mu.Unlock()
}

// cutConn is a UDP socket that drops everything while cut.
type cutConn struct {
	*net.UDPConn
	cut atomic.Bool
}

func (c *cutConn) ReadFrom(b []byte) (int, net.Addr, error) {
	for {
		if c.cut.Load() {
			// Without allocating, so the allocation tests see only the leg.
			if _, _, err := c.ReadFromUDPAddrPort(b); err != nil {
				return 0, nil, err
			}
			continue
		}
		n, addr, err := c.UDPConn.ReadFrom(b)
		if err != nil || !c.cut.Load() {
			return n, addr, err
		}
	}
}

func (c *cutConn) WriteTo(b []byte, addr net.Addr) (int, error) {
	if c.cut.Load() {
		return len(b), nil
	}
	return c.UDPConn.WriteTo(b, addr)
}

// tone returns frame k of a sine at freq Hz, level dBFS, continuous across
// frames.
func tone(k int, freq, level float64) []int16 {
	amp := math.MaxInt16 * math.Pow(10, level/20)
	f := make([]int16, media.FrameSamples)
	for i := range f {
		n := float64(k*media.FrameSamples + i)
		f[i] = int16(math.Round(amp * math.Sin(2*math.Pi*freq*n/media.Rate)))
	}
	return f
}

// dominant reports whether freq is the strongest of a set of probe
// frequencies in f by 20 dB, at a level above -30 dBFS: a real tone, not
// just packets.
func dominant(f []int16, freq float64) bool {
	want := media.ToneLevel(f, media.Rate, freq)
	if 10*math.Log10(want+1e-20) < -30 {
		return false
	}
	for _, other := range []float64{250, 440, 700, 1000, 1500, 2200, 3000} {
		if math.Abs(other-freq) < 150 {
			continue
		}
		if media.ToneLevel(f, media.Rate, other)*100 > want {
			return false
		}
	}
	return true
}

func testLogger(t testing.TB) *slog.Logger {
	return slog.New(slog.NewTextHandler(testWriter{t}, &slog.HandlerOptions{Level: slog.LevelInfo}))
}

type testWriter struct{ t testing.TB }

func (w testWriter) Write(b []byte) (int, error) {
	w.t.Log(strings.TrimSpace(string(b)))
	return len(b), nil
}
