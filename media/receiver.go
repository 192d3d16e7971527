package media

import (
	"sync"
	"sync/atomic"
	"time"

	"github.com/pion/rtp"
)

// A Receiver is the receiving half of an RTP session for a transport that
// delivers packets itself (WebRTC, where SRTP, ICE and the sockets belong
// to the WebRTC stack): it takes the peer's packets as they come, plays
// one frame out per 20 ms tick through the same jitter buffer and
// concealment as a Session (jitter.go), and turns RFC 4733 packets into
// key presses (dtmf.go). What it does not do is the socket side a Session
// adds: source learning, RTCP and the media timeout.

// Played says what a tick of playout gave.
type Played uint8

// What a tick of playout can give.
const (
	PlayedAudio     Played = iota // a frame the peer sent
	PlayedConcealed               // made up from the last frame (packet-loss concealment)
	PlayedSilence                 // nothing to play: silence
)

// ReceiverConfig configures a Receiver. The zero value receives PCMU
// without telephone-event, 60 ms behind the peer.
type ReceiverConfig struct {
	// Codec is the peer's audio codec (PCMU if unset).
	Codec Codec
	// TelephoneEvent is the payload type of the peer's RFC 4733 events;
	// 0 means none was negotiated.
	TelephoneEvent uint8
	// JitterDelay is how far playout trails arrival (default 60 ms), in
	// whole 20 ms frames from 20 to 500 ms.
	JitterDelay time.Duration
}

// ReceiverStats counts what a Receiver was given and what it played.
type ReceiverStats struct {
	Packets, Octets  uint64 // packets taken (audio and events) and their payload bytes
	Duplicates       uint64 // packets received twice
	Late             uint64 // packets too late to play, or dropped to bring the delay back
	WrongPayloadType uint64 // neither the audio codec nor telephone-event
	Concealed        uint64 // ticks played by concealment
	Recovered        uint64 // lost packets rebuilt by the decoder from the next one (Opus: its forward error correction, or its own concealment)
	DroppedDTMF      uint64 // key presses nobody took from DTMF in time
}

// Receiver turns a peer's RTP packets into 20 ms frames and key presses.
// Create it with NewReceiver. Its methods are safe for concurrent use:
// typically one goroutine calls Receive as packets arrive and another
// calls Play once per tick. Nothing in either allocates.
type Receiver struct {
	mu      sync.Mutex
	audioPT uint8
	dec     Decoder
	eventPT uint8
	started bool
	ssrc    uint32
	jitter  jitterBuffer
	dtmfRx  dtmfReceiver

	dtmfCh  chan DTMFEvent
	keyDown chan rune

	packets, octets, duplicates, late, wrongPT, concealed atomic.Uint64
	droppedDTMF, recovered                                atomic.Uint64
}

// NewReceiver returns a Receiver configured by cfg.
func NewReceiver(cfg ReceiverConfig) *Receiver {
	if cfg.Codec.decode == nil {
		cfg.Codec = PCMU
	}
	if cfg.JitterDelay <= 0 {
		cfg.JitterDelay = 60 * time.Millisecond
	}
	r := &Receiver{
		audioPT: cfg.Codec.PayloadType,
		dec:     cfg.Codec,
		eventPT: cfg.TelephoneEvent,
		dtmfCh:  make(chan DTMFEvent, 16),
		keyDown: make(chan rune, 4),
	}
	r.jitter.setDelay(int((cfg.JitterDelay + FrameDuration/2) / FrameDuration))
	r.dtmfRx = dtmfReceiver{out: r.dtmfCh, down: r.keyDown, dropped: &r.droppedDTMF}
	return r
}

// SetAudio changes the payload type of the peer's audio and its decoder,
// once negotiation has chosen them (a dynamic payload type for Opus, with
// a decoder of this stream's own).
func (r *Receiver) SetAudio(pt uint8, dec Decoder) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.audioPT, r.dec = pt, dec
}

// SetTelephoneEvent changes the payload type of the peer's RFC 4733
// events (0: none) and their RTP clock rate, which is the audio's
// (8000 with G.711, 48000 with Opus; 0 means 8000).
func (r *Receiver) SetTelephoneEvent(pt uint8, clockRate int) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.eventPT = pt
	r.dtmfRx.rate = clockRate
}

// Receive takes one packet from the peer, received at now. It keeps
// nothing of p: the packet and its payload may be reused at once.
func (r *Receiver) Receive(p *rtp.Packet, now time.Time) {
	r.mu.Lock()
	defer r.mu.Unlock()
	audio := p.PayloadType == r.audioPT
	event := r.eventPT != 0 && p.PayloadType == r.eventPT
	if !audio && !event {
		r.wrongPT.Add(1)
		return
	}
	switch {
	case !r.started || (audio && p.SSRC != r.ssrc):
		// A new stream: what was buffered belongs to the old one.
		r.started, r.ssrc = true, p.SSRC
		r.jitter.reset()
		r.dtmfRx.reset()
	case p.SSRC != r.ssrc:
		// Events under an SSRC of their own: keys, not the stream.
		r.count(p)
		r.receiveEvent(p, now)
		return
	}
	r.count(p)
	f, res := r.jitter.insert(p.SequenceNumber, audio)
	switch res {
	case insertDuplicate:
		r.duplicates.Add(1)
	case insertLate:
		r.late.Add(1)
	}
	if f != nil {
		// A lost packet before this one is rebuilt first: the decoder's
		// state runs in sequence order.
		if rd, ok := r.dec.(RecoveringDecoder); ok {
			if sl := r.jitter.missingBefore(p.SequenceNumber); sl != nil {
				if n := rd.Recover(sl.frame[:], p.Payload); n > 0 {
					clear(sl.frame[n:])
					sl.state = slotRecovered
					r.recovered.Add(1)
				}
			}
		}
		n := r.dec.Decode(f[:], p.Payload)
		clear(f[n:])
	}
	if event {
		r.receiveEvent(p, now)
	}
}

func (r *Receiver) count(p *rtp.Packet) {
	r.packets.Add(1)
	r.octets.Add(uint64(len(p.Payload)))
}

func (r *Receiver) receiveEvent(p *rtp.Packet, now time.Time) {
	var ev TelephoneEvent
	if ev.Unmarshal(p.Payload) == nil {
		r.dtmfRx.receive(ev, p.Timestamp, now)
	}
}

// Play writes the frame for this tick into out: the caller calls it once
// per 20 ms, and that call is the playout clock. now also ends a key
// press whose end packet was lost.
func (r *Receiver) Play(out *Frame, now time.Time) Played {
	r.mu.Lock()
	defer r.mu.Unlock()
	res, dropped := r.jitter.pop(out)
	r.dtmfRx.expire(now)
	if dropped > 0 {
		r.late.Add(uint64(dropped))
	}
	switch res {
	case popAudio:
		return PlayedAudio
	case popConcealed:
		r.concealed.Add(1)
		return PlayedConcealed
	}
	return PlayedSilence
}

// DTMF delivers the keys the peer presses, one event per press. It holds
// up to 16 events; more are dropped and counted. It is never closed.
func (r *Receiver) DTMF() <-chan DTMFEvent { return r.dtmfCh }

// KeyDown delivers each key as its first packet arrives, before the press
// is over (for barge-in). Keys nobody takes are dropped.
func (r *Receiver) KeyDown() <-chan rune { return r.keyDown }

// Stats returns the counters so far.
func (r *Receiver) Stats() ReceiverStats {
	return ReceiverStats{
		Packets:          r.packets.Load(),
		Octets:           r.octets.Load(),
		Duplicates:       r.duplicates.Load(),
		Late:             r.late.Load(),
		WrongPayloadType: r.wrongPT.Load(),
		Concealed:        r.concealed.Load(),
		Recovered:        r.recovered.Load(),
		DroppedDTMF:      r.droppedDTMF.Load(),
	}
}
