package webrtc

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"math"
	"net"
	"os"
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
// microphone in the codec the answer put first, with RFC 4733 events on
// one SSRC with one sequence space, and its host candidates are plain IPs
// (as Chromium's are once the page has microphone permission).

type clientOpts struct {
	// codecs the client offers, in its order: "PCMU" (the default),
	// "opus", "G722" (which it cannot send: offered, to be refused).
	codecs   []string
	eventPT  uint8 // telephone-event/8000's payload type (default 101; Chromium uses 126)
	noAudio  bool  // offer a data channel only
	cuttable bool  // run ICE over a socket the test can cut (Client.cut)
}

// clientCodecs are what the client can offer, with Chromium's payload
// types, each with its telephone-event (0: none).
var clientCodecs = map[string]struct {
	capability pion.RTPCodecCapability
	pt         uint8
	eventPT    uint8
}{
	"PCMU": {pion.RTPCodecCapability{MimeType: pion.MimeTypePCMU, ClockRate: 8000, Channels: 1}, 0, 101},
	"opus": {pion.RTPCodecCapability{MimeType: pion.MimeTypeOpus, ClockRate: 48000, Channels: 2, SDPFmtpLine: "minptime=10;useinbandfec=1"}, 111, 110},
	"G722": {pion.RTPCodecCapability{MimeType: pion.MimeTypeG722, ClockRate: 8000, Channels: 1}, 9, 0},
}

// requireOpus skips a test of Opus in a build without it, and fails it
// where the tests must run everything (SAMBUNG_REQUIRE_PEERS, as in make
// test, which builds with libopus).
func requireOpus(t testing.TB) {
	t.Helper()
	if media.OpusAvailable {
		return
	}
	if os.Getenv("SAMBUNG_REQUIRE_PEERS") != "" {
		t.Fatal("this build has no Opus (build tag opus, from scripts/tags.sh), and SAMBUNG_REQUIRE_PEERS is set")
	}
	t.Skip("this build has no Opus: build with the opus tag where libopus-dev is installed")
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
	if len(o.codecs) == 0 {
		o.codecs = []string{"PCMU"}
	}
	me := &pion.MediaEngine{}
	for _, name := range o.codecs {
		cc := clientCodecs[name]
		codecs := []pion.RTPCodecParameters{{RTPCodecCapability: cc.capability, PayloadType: pion.PayloadType(cc.pt)}}
		if ept := cc.eventPT; ept != 0 {
			if cc.capability.ClockRate == 8000 {
				ept = o.eventPT
			}
			codecs = append(codecs, pion.RTPCodecParameters{
				RTPCodecCapability: pion.RTPCodecCapability{MimeType: mimeTelephoneEvent, ClockRate: cc.capability.ClockRate, SDPFmtpLine: "0-15"},
				PayloadType:        pion.PayloadType(ept)})
		}
		for _, c := range codecs {
			if err := me.RegisterCodec(c, pion.RTPCodecTypeAudio); err != nil {
				t.Fatal(err)
			}
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
		c.mic = &micTrack{t: t}
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
	codec := tr.Codec()
	var dec media.Decoder = media.PCMU
	if strings.EqualFold(codec.MimeType, pion.MimeTypeOpus) {
		d, err := media.NewOpusDecoder()
		if err != nil {
			c.t.Errorf("the leg sends Opus: %v", err)
			return
		}
		dec = d
	}
	for {
		n, _, err := tr.Read(buf)
		if err != nil {
			if errors.Is(err, io.EOF) || errors.Is(err, io.ErrClosedPipe) {
				return
			}
			continue
		}
		if c.discard.Load() || p.Unmarshal(buf[:n]) != nil || p.PayloadType != uint8(codec.PayloadType) {
			continue
		}
		f := make([]int16, media.FrameSamples)
		if dec.Decode(f, p.Payload) != media.FrameSamples {
			c.t.Errorf("a packet of %d bytes from the leg did not decode to one 20 ms frame", len(p.Payload))
			continue
		}
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

// micTrack is the client's microphone: the first audio codec of the
// answer, with RFC 4733 events at its clock rate under the same SSRC and
// sequence numbers, as Chromium sends them.
type micTrack struct {
	t       testing.TB
	mu      sync.Mutex
	stream  pion.TrackLocalWriter
	hdr     rtp.Header
	codec   pion.RTPCodecParameters
	enc     media.Encoder
	eventPT uint8
}

func (m *micTrack) Bind(ctx pion.TrackLocalContext) (pion.RTPCodecParameters, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	params := ctx.CodecParameters()
	for _, p := range params {
		if strings.EqualFold(p.MimeType, mimeTelephoneEvent) {
			continue
		}
		switch {
		case strings.EqualFold(p.MimeType, pion.MimeTypePCMU):
			m.enc = media.PCMU
		case strings.EqualFold(p.MimeType, pion.MimeTypeOpus):
			enc, err := media.NewOpusEncoder()
			if err != nil {
				return pion.RTPCodecParameters{}, err
			}
			m.enc = enc
		default:
			continue
		}
		for _, e := range params {
			if strings.EqualFold(e.MimeType, mimeTelephoneEvent) && e.ClockRate == p.ClockRate {
				m.eventPT = uint8(e.PayloadType)
			}
		}
		m.codec = p
		m.stream = ctx.WriteStream()
		m.hdr = rtp.Header{Version: 2, SSRC: uint32(ctx.SSRC()), SequenceNumber: 1000, Timestamp: 5000}
		return p, nil
	}
	return pion.RTPCodecParameters{}, pion.ErrUnsupportedCodec
}

// step is the RTP timestamp's advance per 20 ms frame.
func (m *micTrack) step() uint32 { return m.codec.ClockRate / 50 }

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
		m.hdr.Timestamp += m.step()
	}
}

func (m *micTrack) sendFrame(f []int16) {
	m.mu.Lock()
	enc, pt := m.enc, uint8(m.codec.PayloadType)
	m.mu.Unlock()
	if enc == nil {
		return
	}
	payload := make([]byte, media.MaxPayload)
	n := enc.Encode(payload, f)
	if n == 0 {
		m.t.Errorf("the client could not encode a frame")
		return
	}
	m.send(pt, 0, payload[:n], true)
}

// sendKey sends one RFC 4733 key press of frames packets plus the end,
// sent three times, each on a tick of its own.
func (m *micTrack) sendKey(ctx context.Context, event uint8, frames int) {
	m.mu.Lock()
	ts, step, pt := m.hdr.Timestamp, m.step(), m.eventPT
	m.mu.Unlock()
	tick := time.NewTicker(media.FrameDuration)
	defer tick.Stop()
	for i := range frames + 3 {
		ev := media.TelephoneEvent{Event: event, Volume: 10, Duration: uint16(min(i+1, frames) * int(step)), End: i >= frames}
		b := make([]byte, 4)
		_, _ = ev.MarshalTo(b)
		m.send(pt, ts, b, false)
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
	}
	m.mu.Lock()
	m.hdr.Timestamp += uint32(frames+3) * step
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
