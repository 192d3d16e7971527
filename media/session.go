package media

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"net"
	"net/netip"
	"runtime/debug"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/pion/rtp"
)

// An RTP session is one call leg's audio: a pair of UDP sockets (ports.go),
// one reader goroutine per socket and one sender goroutine paced by a 20 ms
// ticker. Each tick the sender plays a frame out of the jitter buffer
// (jitter.go), reads a frame from the playing Source, sends it (or an RFC
// 4733 event, dtmf.go), and hands both frames to the subscribers. RTCP
// reports go out from the same loop (rtcp.go).
//
// Pacing is a time.Ticker, not Sleep: a ticker does not accumulate the
// loop's own run time, and the loop counts ticks against the wall clock,
// so a tick the runtime could not deliver (a stall, a loaded machine) is
// made up at once, up to maxCatchUp frames, and beyond that skipped by
// advancing the RTP timestamp: the timestamp keeps telling real time.
// Measured at a peer over 250 packets (2-core container, go1.26): mean
// interval 20.001 ms, p99 20.43 ms, worst 20.44 ms; under -race, worst
// 24.3 ms.
//
// Measured costs (same machine, go test -bench, all allocation-free): the
// receive path (parse, source check, statistics, jitter buffer, G.711
// decode, a frame played out) 0.13 µs a packet; the send path (source,
// encode, marshal) 0.13 µs; a whole tick with its sendto 3.6 µs; through
// loopback sockets one reader goroutine takes about 220,000 packets/s
// (BenchmarkLoopback), over 4,000 times a leg's 50 packets/s. A started
// session holds 3 goroutines and about 35 KiB (TestSessionFootprint). So
// a socket pair and three goroutines per leg (ports.go) leave the packet
// path far from any limit; a shared port would save descriptors, not time.

// Errors a session ends with (see Session.Err).
var (
	ErrMediaTimeout  = errors.New("media: no RTP from the peer within the media timeout")
	ErrSessionClosed = errors.New("media: session closed")
)

// SessionConfig configures an RTP session. The zero value is usable; the
// defaults are filled in by fillDefaults.
type SessionConfig struct {
	// BindIP is the address the sockets bind to; the zero value binds every
	// IPv4 address (0.0.0.0). LocalAddr reports it as bound, so the address
	// put in SDP is the caller's to choose.
	BindIP netip.Addr
	// PortMin and PortMax bound the RTP ports; RTCP takes the odd port
	// above each even RTP port. Both zero means 16384-32767.
	PortMin, PortMax int
	// MediaTimeout ends the session with ErrMediaTimeout when no RTP has
	// come from the peer for this long while the peer may send to us
	// (default 30 s; negative disables it).
	MediaTimeout time.Duration
	// JitterDelay is how far playout of the peer's audio trails its
	// arrival (default 60 ms), in whole 20 ms frames from 20 to 500 ms.
	JitterDelay time.Duration
	// LearnPackets is how many in-sequence packets with one SSRC a new
	// source address must send, while the current one is quiet, before we
	// take it as the peer (symmetric RTP; default 3).
	LearnPackets int
	// RTCPInterval is the mean time between our RTCP reports (default 5 s);
	// each interval is drawn from 0.5 to 1.5 times it (RFC 3550 §6.3.1).
	RTCPInterval time.Duration
}

// fillDefaults fills in the defaults, in this one place, and checks the
// port range.
func (c *SessionConfig) fillDefaults() error {
	if !c.BindIP.IsValid() {
		c.BindIP = netip.IPv4Unspecified()
	}
	if c.PortMin == 0 && c.PortMax == 0 {
		c.PortMin, c.PortMax = DefaultPortMin, DefaultPortMax
	}
	if c.PortMin < 1 || c.PortMax > 65535 || c.PortMin >= c.PortMax {
		return fmt.Errorf("media: RTP port range %d-%d: expected 1 <= PortMin < PortMax <= 65535", c.PortMin, c.PortMax)
	}
	if c.MediaTimeout == 0 {
		c.MediaTimeout = 30 * time.Second
	}
	if c.JitterDelay == 0 {
		c.JitterDelay = 60 * time.Millisecond
	}
	if c.LearnPackets <= 0 {
		c.LearnPackets = 3
	}
	if c.RTCPInterval <= 0 {
		c.RTCPInterval = 5 * time.Second
	}
	return nil
}

// Direction is the SDP media direction (RFC 4566 §6) from our point of
// view: SendOnly means we send and the peer does not.
type Direction string

// The media directions.
const (
	SendRecv Direction = "sendrecv"
	SendOnly Direction = "sendonly"
	RecvOnly Direction = "recvonly"
	Inactive Direction = "inactive"
)

const (
	dirSend uint32 = 1 << iota
	dirRecv
)

// flags reads anything unknown as sendrecv, SDP's default.
func (d Direction) flags() uint32 {
	switch d {
	case SendOnly:
		return dirSend
	case RecvOnly:
		return dirRecv
	case Inactive:
		return 0
	}
	return dirSend | dirRecv
}

// Frame is 20 ms of audio: FrameSamples samples of 16-bit PCM at Rate.
type Frame [FrameSamples]int16

// Tick is one 20 ms step of a session, as its subscribers see it.
type Tick struct {
	In        Frame  // what the peer sent for these 20 ms, after the jitter buffer and concealment
	Out       Frame  // what we sent (silence when we sent none: hold, DTMF)
	InMissing bool   // no packet from the peer was played: In is concealment or silence
	Seq       uint64 // the tick's number since Start; a gap means ticks were skipped under overload
}

// Subscription receives a session's ticks. Delivery never blocks the
// session: a tick that finds the channel full is dropped and counted.
type Subscription struct {
	s       *Session
	ch      chan Tick
	dropped atomic.Uint64
}

// C delivers the ticks. It is closed by Unsubscribe or when the session ends.
func (sub *Subscription) C() <-chan Tick { return sub.ch }

// Dropped is how many ticks were dropped because the channel was full.
func (sub *Subscription) Dropped() uint64 { return sub.dropped.Load() }

// Unsubscribe stops delivery and closes C. It may be called more than once.
func (sub *Subscription) Unsubscribe() {
	s := sub.s
	s.subMu.Lock()
	defer s.subMu.Unlock()
	if i := slices.Index(s.subs, sub); i >= 0 {
		s.subs = slices.Delete(s.subs, i, i+1)
		close(sub.ch)
	}
}

// playItem is one call of Play; a new pointer is a new source.
type playItem struct{ src Source }

// maxCatchUp is how many late ticks the sender makes up at once.
const maxCatchUp = 5

// candidate is an address that sends us RTP but is not (yet) the peer.
type candidate struct {
	addr  netip.AddrPort
	ssrc  uint32
	seq   uint16
	count int
}

// Session is the RTP and RTCP of one call leg. Create it with NewSession,
// point it at the peer with SetRemote, then Start it; Close releases it.
// Its methods are safe for concurrent use.
type Session struct {
	cfg      SessionConfig
	log      *slog.Logger
	rtpConn  *net.UDPConn
	rtcpConn *net.UDPConn
	local    netip.AddrPort
	ssrc     uint32
	cname    string
	epoch    time.Time // the session's monotonic time origin

	life     sync.Mutex
	started  bool
	closed   bool
	closing  chan struct{} // closed by Close
	failed   chan struct{} // closed by fail: a reader cannot go on
	failOnce sync.Once
	failErr  error
	done     chan struct{}
	err      error // written before done is closed
	readers  sync.WaitGroup

	// mu guards the peer, source learning, receive statistics, the jitter
	// buffer and DTMF state: the reader takes it per packet, the sender per
	// tick.
	mu           sync.Mutex
	sdpAddr      netip.AddrPort
	source       netip.AddrPort // where RTP is accepted from and sent to
	rtcpAddr     netip.AddrPort
	codec        Codec
	haveCodec    bool
	dtmfPT       uint8
	cand         candidate
	accepted     bool          // a packet came from source
	lastAccepted time.Duration // since epoch
	rx           rxStats
	peer         peerReport
	jitter       jitterBuffer
	dtmfRx       dtmfReceiver
	dtmfTx       dtmfSender

	dir      atomic.Uint32
	lastRecv atomic.Int64 // since epoch, in ns: the media timeout's clock
	play     atomic.Pointer[playItem]
	st       counters

	subMu      sync.Mutex
	subs       []*Subscription
	subsClosed bool

	dtmfCh  chan DTMFEvent
	keyDown chan rune

	// The sender goroutine's own.
	seq           uint16
	ts            uint32
	ticks         uint64
	cur           *playItem
	srcEnded      bool
	marker        bool
	wasSending    bool
	txPkt         rtp.Packet
	txPayload     [FrameSamples]byte
	txBuf         [1500]byte
	tick          Tick
	report        reportState
	sendErrLogged bool

	// The RTP reader's own.
	rxPkt rtp.Packet
	rxBuf [2048]byte
	// The RTCP reader's own.
	rtcpBuf [1500]byte
}

// NewSession binds the sockets of a new session (see SessionConfig). log
// may be nil.
func NewSession(cfg SessionConfig, log *slog.Logger) (*Session, error) {
	if err := cfg.fillDefaults(); err != nil {
		return nil, err
	}
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	rtpConn, rtcpConn, err := listenPair(cfg.BindIP, cfg.PortMin, cfg.PortMax)
	if err != nil {
		return nil, err
	}
	s := &Session{
		cfg: cfg, rtpConn: rtpConn, rtcpConn: rtcpConn,
		ssrc:    rand.Uint32(),
		cname:   fmt.Sprintf("%016x@sambung", rand.Uint64()),
		epoch:   time.Now(),
		closing: make(chan struct{}),
		failed:  make(chan struct{}),
		done:    make(chan struct{}),
		dtmfCh:  make(chan DTMFEvent, 16),
		keyDown: make(chan rune, 4),
		// RFC 3550 §5.1: random initial sequence number and timestamp.
		seq: uint16(rand.Uint32()),
		ts:  rand.Uint32(),
	}
	s.local = unmapAddrPort(rtpConn.LocalAddr().(*net.UDPAddr).AddrPort())
	s.log = log.With("rtp_port", s.local.Port())
	s.jitter.setDelay(int((cfg.JitterDelay + FrameDuration/2) / FrameDuration))
	s.dtmfRx = dtmfReceiver{out: s.dtmfCh, down: s.keyDown, dropped: &s.st.droppedDTMF}
	s.dir.Store(SendRecv.flags())
	s.play.Store(&playItem{})
	s.txPkt.Header = rtp.Header{Version: 2, SSRC: s.ssrc}
	// Room for the most CSRCs a header can list and some extensions, so
	// parsing reuses them.
	s.rxPkt.CSRC = make([]uint32, 0, 15)
	s.rxPkt.Extensions = make([]rtp.Extension, 0, 16)
	return s, nil
}

// LocalAddr is the address and port of the RTP socket.
func (s *Session) LocalAddr() netip.AddrPort { return s.local }

// SetRemote sets where the peer's RTP is (from its SDP), the codec both
// sides agreed on and the peer's telephone-event payload type (0 if none).
// It may be called again for a re-INVITE: a new address replaces any
// source learned before; the same address keeps it.
func (s *Session) SetRemote(addr netip.AddrPort, codec Codec, dtmfPayloadType uint8) {
	addr = unmapAddrPort(addr)
	s.mu.Lock()
	defer s.mu.Unlock()
	if codec.encode == nil || codec.decode == nil {
		s.log.Error("media: SetRemote with a codec the engine cannot encode; keeping the previous one", "codec", codec.Name)
	} else {
		s.codec, s.haveCodec = codec, true
	}
	s.dtmfPT = dtmfPayloadType
	if addr != s.sdpAddr {
		s.sdpAddr, s.source, s.rtcpAddr = addr, addr, rtcpFor(addr)
		s.cand, s.accepted = candidate{}, false
		s.st.learned.Store(nil)
	}
}

// SetDirection sets the media direction from our point of view. We send
// audio only while we may send (hold stops it; timestamps go on), and the
// media timeout is suspended while the peer may not send to us.
func (s *Session) SetDirection(d Direction) { s.dir.Store(d.flags()) }

// Play makes src what the session sends, from the next tick on, replacing
// whatever played before; nil sends silence. The sender calls
// src.ReadFrame on its own goroutine each tick, also while on hold or
// sending DTMF (what it gives is then not sent), so ReadFrame must not
// block, nor call Close; when it reports the end, silence follows. The
// first packet of each new source carries the marker bit.
func (s *Session) Play(src Source) { s.play.Store(&playItem{src: src}) }

// Subscribe delivers every tick, from the next on, to a channel holding up
// to buffer ticks (at least 1).
func (s *Session) Subscribe(buffer int) *Subscription {
	sub := &Subscription{s: s, ch: make(chan Tick, max(buffer, 1))}
	s.subMu.Lock()
	defer s.subMu.Unlock()
	if s.subsClosed {
		close(sub.ch)
		return sub
	}
	s.subs = append(s.subs, sub)
	return sub
}

// Start starts the readers and the sender. They end when ctx ends, on
// Close, or on a media timeout; Done is then closed and Err says why.
// Calls after the first, or after Close, do nothing.
func (s *Session) Start(ctx context.Context) {
	s.life.Lock()
	defer s.life.Unlock()
	if s.started || s.closed {
		return
	}
	s.started = true
	s.lastRecv.Store(int64(time.Since(s.epoch)))
	s.readers.Add(2)
	go s.readLoop(s.rtpConn, false)
	go s.readLoop(s.rtcpConn, true)
	go s.run(ctx)
}

// Done is closed when the session has ended and its goroutines are gone.
func (s *Session) Done() <-chan struct{} { return s.done }

// Err says why the session ended: ErrMediaTimeout, ErrSessionClosed, the
// context's cause, or an internal failure. It is nil while the session runs.
func (s *Session) Err() error {
	select {
	case <-s.done:
		return s.err
	default:
		return nil
	}
}

// Close ends the session, waits for its goroutines and releases its
// sockets. It may be called more than once.
func (s *Session) Close() error {
	s.life.Lock()
	if !s.closed {
		s.closed = true
		if s.started {
			close(s.closing)
		} else {
			s.err = ErrSessionClosed
			_ = s.rtpConn.Close()
			_ = s.rtcpConn.Close()
			s.closeSubscriptions()
			close(s.done)
		}
	}
	s.life.Unlock()
	<-s.done
	return nil
}

// fail ends the session from a reader.
func (s *Session) fail(err error) {
	s.failOnce.Do(func() {
		s.failErr = err
		close(s.failed)
	})
}

// panicked turns a panic on one of the session's goroutines into the error
// that ends the session: a bug in one call never takes down the others.
func (s *Session) panicked(where string, v any) error {
	s.log.Error("media: session goroutine panicked", "goroutine", where, "panic", v, "stack", string(debug.Stack()))
	return fmt.Errorf("media: %s panicked: %v", where, v)
}

func (s *Session) run(ctx context.Context) {
	err := s.sendLoop(ctx)
	s.finish(err)
}

func (s *Session) finish(err error) {
	s.sendReport(time.Now(), true)
	s.err = err
	_ = s.rtpConn.Close()
	_ = s.rtcpConn.Close()
	s.readers.Wait()
	s.closeSubscriptions()
	switch {
	case errors.Is(err, ErrMediaTimeout):
		s.log.Warn("media: session ended: no RTP from the peer", "timeout", s.cfg.MediaTimeout)
	case !errors.Is(err, ErrSessionClosed) && !errors.Is(err, context.Canceled) && !errors.Is(err, context.DeadlineExceeded):
		s.log.Error("media: session ended", "err", err)
	}
	close(s.done)
}

func (s *Session) closeSubscriptions() {
	s.subMu.Lock()
	defer s.subMu.Unlock()
	for _, sub := range s.subs {
		close(sub.ch)
	}
	s.subs, s.subsClosed = nil, true
}

func (s *Session) sendLoop(ctx context.Context) (err error) {
	defer func() {
		if v := recover(); v != nil {
			err = s.panicked("sender", v)
		}
	}()
	start := time.Now()
	ticker := time.NewTicker(FrameDuration)
	defer ticker.Stop()
	s.report.next = start.Add(s.rtcpInterval() / 2) // RFC 3550 §6.2: the first report comes sooner
	for {
		select {
		case <-ctx.Done():
			return context.Cause(ctx)
		case <-s.closing:
			return ErrSessionClosed
		case <-s.failed:
			return s.failErr
		case now := <-ticker.C:
			due := uint64(now.Sub(start) / FrameDuration)
			if due > s.ticks+maxCatchUp {
				skip := due - s.ticks - maxCatchUp
				s.ticks += skip
				s.ts += uint32(skip) * FrameSamples
			}
			for s.ticks < due {
				s.step(now)
			}
			if err := s.checkTimeout(now); err != nil {
				return err
			}
			if !now.Before(s.report.next) {
				s.sendReport(now, false)
				s.report.next = now.Add(s.rtcpInterval())
			}
		}
	}
}

// checkTimeout reports ErrMediaTimeout when the peer, allowed to send,
// has not for MediaTimeout.
func (s *Session) checkTimeout(now time.Time) error {
	if s.cfg.MediaTimeout <= 0 {
		return nil
	}
	at := now.Sub(s.epoch)
	if s.dir.Load()&dirRecv == 0 {
		s.lastRecv.Store(int64(at)) // the clock starts again when the peer may send
		return nil
	}
	if at-time.Duration(s.lastRecv.Load()) > s.cfg.MediaTimeout {
		return ErrMediaTimeout
	}
	return nil
}

// step runs one 20 ms tick: play out, read the source, send, publish.
func (s *Session) step(now time.Time) {
	t := &s.tick
	t.Seq = s.ticks
	s.ticks++
	p := s.plan(now, &t.In)
	if p.res == popConcealed {
		s.st.concealed.Add(1)
	}
	if p.dropped > 0 {
		s.st.late.Add(uint64(p.dropped))
	}
	t.InMissing = p.res != popAudio

	s.readSource(&t.Out)
	switch {
	case p.isEvent:
		t.Out = Frame{}
		s.send(s.buildEvent(p.ev, p.evTS, p.dtmfPT, p.evMarker), p.to, 4)
	case p.canSend:
		s.send(s.buildAudio(&t.Out, p.codec, s.marker || !s.wasSending), p.to, FrameSamples)
		s.marker = false
	default:
		t.Out = Frame{}
	}
	s.wasSending = p.canSend
	s.ts += FrameSamples
	s.publish(t)
}

// tickPlan is what a tick learns under the lock.
type tickPlan struct {
	res      popResult
	dropped  int
	to       netip.AddrPort
	codec    Codec
	dtmfPT   uint8
	canSend  bool
	ev       TelephoneEvent
	evTS     uint32
	evMarker bool
	isEvent  bool
}

// plan plays the peer's next frame out into in and decides what to send.
func (s *Session) plan(now time.Time, in *Frame) (p tickPlan) {
	s.mu.Lock()
	defer s.mu.Unlock()
	p.res, p.dropped = s.jitter.pop(in)
	s.dtmfRx.expire(now)
	p.to, p.codec, p.dtmfPT = s.source, s.codec, s.dtmfPT
	p.canSend = s.dir.Load()&dirSend != 0 && s.haveCodec && sendable(p.to)
	if p.canSend && p.dtmfPT != 0 {
		p.ev, p.evTS, p.evMarker, p.isEvent = s.dtmfTx.step(s.ts)
	} else {
		s.dtmfTx.abort()
	}
	return p
}

// readSource fills out from the playing source, or with silence.
func (s *Session) readSource(out *Frame) {
	if it := s.play.Load(); it != s.cur {
		s.cur, s.srcEnded, s.marker = it, false, true
	}
	if s.cur.src == nil || s.srcEnded {
		*out = Frame{}
		return
	}
	if !s.cur.src.ReadFrame(out[:]) {
		s.srcEnded = true
		*out = Frame{}
	}
}

func (s *Session) buildAudio(frame *Frame, codec Codec, marker bool) []byte {
	n := codec.Encode(s.txPayload[:], frame[:])
	return s.marshal(codec.PayloadType, marker, s.ts, s.txPayload[:n])
}

func (s *Session) buildEvent(ev TelephoneEvent, ts uint32, pt uint8, marker bool) []byte {
	n, _ := ev.MarshalTo(s.txPayload[:])
	return s.marshal(pt, marker, ts, s.txPayload[:n])
}

// marshal builds the next packet in the session's own buffer.
func (s *Session) marshal(pt uint8, marker bool, ts uint32, payload []byte) []byte {
	h := &s.txPkt
	h.PayloadType, h.Marker, h.Timestamp, h.SequenceNumber = pt, marker, ts, s.seq
	h.Payload = payload
	s.seq++
	n, err := h.MarshalTo(s.txBuf[:])
	if err != nil {
		return nil // cannot happen: the buffer holds any packet built here
	}
	return s.txBuf[:n]
}

func (s *Session) send(b []byte, to netip.AddrPort, payloadLen int) {
	if _, err := s.rtpConn.WriteToUDPAddrPort(b, to); err != nil {
		s.st.sendErrors.Add(1)
		if !s.sendErrLogged {
			s.sendErrLogged = true
			s.log.Warn("media: cannot send RTP; further failures are only counted", "remote", to, "err", err)
		}
		return
	}
	s.st.packetsSent.Add(1)
	s.st.octetsSent.Add(uint64(payloadLen))
	s.report.sent = true
}

// publish hands the tick to every subscriber that has room.
func (s *Session) publish(t *Tick) {
	s.subMu.Lock()
	defer s.subMu.Unlock()
	for _, sub := range s.subs {
		select {
		case sub.ch <- *t:
		default:
			sub.dropped.Add(1)
			s.st.droppedTicks.Add(1)
		}
	}
}

func (s *Session) readLoop(conn *net.UDPConn, isRTCP bool) {
	defer s.readers.Done()
	where := "RTP reader"
	buf := s.rxBuf[:]
	if isRTCP {
		where, buf = "RTCP reader", s.rtcpBuf[:]
	}
	defer func() {
		if v := recover(); v != nil {
			s.fail(s.panicked(where, v))
		}
	}()
	errs := 0
	for {
		n, from, err := conn.ReadFromUDPAddrPort(buf)
		if err != nil {
			if errors.Is(err, net.ErrClosed) {
				return
			}
			// Transient (an ICMP error surfacing); a socket that only
			// fails is broken.
			if errs++; errs > 100 {
				s.fail(fmt.Errorf("media: %s: %w", where, err))
				return
			}
			continue
		}
		errs = 0
		from = unmapAddrPort(from)
		if isRTCP {
			s.receiveRTCP(buf[:n], from, time.Now(), true)
		} else {
			s.receive(buf[:n], from, time.Now())
		}
	}
}

// receive handles one datagram from the RTP socket.
func (s *Session) receive(b []byte, from netip.AddrPort, now time.Time) {
	// RFC 5761 §4: RTCP packet types 192-223 are distinct from RTP payload
	// types; a peer multiplexing RTCP onto the RTP port is understood.
	if len(b) >= 2 && b[1] >= 192 && b[1] <= 223 {
		s.receiveRTCP(b, from, now, false)
		return
	}
	p := &s.rxPkt
	if !rtpHeaderFits(b) || p.Unmarshal(b) != nil {
		s.st.invalid.Add(1)
		return
	}
	at := now.Sub(s.epoch)

	s.mu.Lock()
	defer s.mu.Unlock()
	audio := s.haveCodec && p.PayloadType == s.codec.PayloadType
	event := s.dtmfPT != 0 && p.PayloadType == s.dtmfPT
	if from != s.source {
		if !(audio || event) || !s.learn(p, from, at) {
			s.st.unknownSource.Add(1)
			return
		}
	} else if !audio && !event {
		s.st.wrongPayloadType.Add(1)
		return
	}
	s.accepted, s.lastAccepted = true, at
	s.lastRecv.Store(int64(at))

	switch {
	case !s.rx.started || (audio && p.SSRC != s.rx.ssrc):
		s.rx.init(p.SSRC, p.SequenceNumber)
		s.jitter.reset()
		s.dtmfRx.reset()
	case p.SSRC != s.rx.ssrc:
		// Events under an SSRC of their own: keys, not the stream.
		s.st.packetsReceived.Add(1)
		s.st.octetsReceived.Add(uint64(len(p.Payload)))
		s.receiveEvent(p, now)
		return
	default:
		switch s.rx.update(p.SequenceNumber) {
		case seqInvalid:
			s.st.invalid.Add(1)
			return
		case seqRestarted:
			s.jitter.reset()
		}
	}
	s.st.packetsReceived.Add(1)
	s.st.octetsReceived.Add(uint64(len(p.Payload)))
	if audio {
		s.rx.arrival(at, p.Timestamp)
		s.st.jitter.Store(s.rx.jitter >> 4)
	}
	s.st.lost.Store(s.rx.lost())

	f, res := s.jitter.insert(p.SequenceNumber, audio)
	switch res {
	case insertDuplicate:
		s.st.duplicates.Add(1)
	case insertLate:
		s.st.late.Add(1)
	}
	if f != nil {
		n := s.codec.Decode(f[:], p.Payload)
		clear(f[n:])
	}
	if event {
		s.receiveEvent(p, now)
	}
}

func (s *Session) receiveEvent(p *rtp.Packet, now time.Time) {
	var ev TelephoneEvent
	if ev.Unmarshal(p.Payload) == nil {
		s.dtmfRx.receive(ev, p.Timestamp, now)
	}
}

// learn counts a packet from an address that is not the peer's. The
// address becomes the peer's (we send there too: symmetric RTP) after
// LearnPackets in-sequence packets with one SSRC, and only if the current
// source has been quiet as long: a stream that is flowing is never taken
// over, whatever is sent from elsewhere.
func (s *Session) learn(p *rtp.Packet, from netip.AddrPort, at time.Duration) bool {
	c := &s.cand
	if c.count > 0 && c.addr == from && c.ssrc == p.SSRC && p.SequenceNumber == c.seq+1 {
		c.count++
	} else {
		*c = candidate{addr: from, ssrc: p.SSRC, count: 1}
	}
	c.seq = p.SequenceNumber
	if c.count < s.cfg.LearnPackets {
		return false
	}
	if s.accepted && at-s.lastAccepted < time.Duration(s.cfg.LearnPackets)*FrameDuration {
		return false
	}
	s.source, s.rtcpAddr, s.cand = from, rtcpFor(from), candidate{}
	learned := from
	s.st.learned.Store(&learned)
	s.log.Info("media: RTP now comes from another address; sending there too", "source", from, "sdp", s.sdpAddr)
	return true
}

// rtpHeaderFits checks the version and that the fixed header, the CSRCs and
// any extension header fit in b: what a stray datagram usually fails, and
// checked here because the parser's errors for it allocate.
func rtpHeaderFits(b []byte) bool {
	if len(b) < 12 || b[0]>>6 != 2 {
		return false
	}
	n := 12 + 4*int(b[0]&0x0F)
	if b[0]&0x10 != 0 {
		if len(b) < n+4 {
			return false
		}
		n += 4 + 4*int(binary.BigEndian.Uint16(b[n+2:]))
	}
	return len(b) >= n
}

func rtcpFor(rtp netip.AddrPort) netip.AddrPort {
	if rtp.Port() == 0 || rtp.Port() == 65535 {
		return netip.AddrPort{}
	}
	return netip.AddrPortFrom(rtp.Addr(), rtp.Port()+1)
}

func unmapAddrPort(a netip.AddrPort) netip.AddrPort {
	return netip.AddrPortFrom(a.Addr().Unmap(), a.Port())
}

// sendable is an address we may send to: not unset, not 0.0.0.0 (an old
// style hold), not port 0.
func sendable(a netip.AddrPort) bool {
	return a.Addr().IsValid() && !a.Addr().IsUnspecified() && a.Port() != 0
}

func (s *Session) rtcpInterval() time.Duration {
	return time.Duration(float64(s.cfg.RTCPInterval) * (0.5 + rand.Float64()))
}
