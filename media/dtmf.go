package media

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"sync/atomic"
	"time"
)

// DTMF as RFC 4733 named telephone events: keys travel as RTP packets of
// their own payload type (negotiated as "telephone-event/8000"), not as
// tones in the audio.

// ErrNoTelephoneEvent reports that the peer did not negotiate RFC 4733
// telephone-event, so digits cannot be sent in RTP.
var ErrNoTelephoneEvent = errors.New("media: the remote did not negotiate telephone-event (RFC 4733)")

var errShortEvent = errors.New("media: telephone-event payload shorter than 4 bytes")

// dtmfDigits maps RFC 4733 §3.2 event codes 0-15 to keys.
const dtmfDigits = "0123456789*#ABCD"

// TelephoneEvent is the payload of an RFC 4733 §2.3 named event packet.
type TelephoneEvent struct {
	Event    uint8  // 0-9, 10 '*', 11 '#', 12-15 'A'-'D'
	End      bool   // the E bit: the last packet(s) of the event
	Volume   uint8  // power level in -dBm0, 0-63
	Duration uint16 // since the event began, in RTP timestamp units
}

// Unmarshal parses b.
func (e *TelephoneEvent) Unmarshal(b []byte) error {
	//  0                   1                   2                   3
	//  0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
	// |     event     |E|R| volume    |          duration             |
	if len(b) < 4 {
		return errShortEvent
	}
	e.Event = b[0]
	e.End = b[1]&0x80 != 0
	e.Volume = b[1] & 0x3F
	e.Duration = binary.BigEndian.Uint16(b[2:])
	return nil
}

// MarshalTo writes the 4-byte payload into b and returns its length.
func (e TelephoneEvent) MarshalTo(b []byte) (int, error) {
	if len(b) < 4 {
		return 0, io.ErrShortBuffer
	}
	b[0] = e.Event
	b[1] = e.Volume & 0x3F
	if e.End {
		b[1] |= 0x80
	}
	binary.BigEndian.PutUint16(b[2:], e.Duration)
	return 4, nil
}

// Digit is the key of the event, or false for events that are not keys
// (flash, tones).
func (e TelephoneEvent) Digit() (rune, bool) {
	if int(e.Event) >= len(dtmfDigits) {
		return 0, false
	}
	return rune(dtmfDigits[e.Event]), true
}

func digitEvent(r rune) (uint8, bool) {
	if r >= 'a' && r <= 'd' {
		r -= 'a' - 'A'
	}
	for i := range len(dtmfDigits) {
		if rune(dtmfDigits[i]) == r {
			return uint8(i), true
		}
	}
	return 0, false
}

// eventDuration converts an event's duration from RTP timestamp units at
// rate Hz (0: 8000) to time.
func eventDuration(samples uint16, rate int) time.Duration {
	if rate <= 0 {
		rate = Rate
	}
	return time.Duration(samples) * time.Second / time.Duration(rate)
}

// DTMFEvent is one key press received from the peer.
type DTMFEvent struct {
	Digit    rune          // '0'-'9', '*', '#', 'A'-'D'
	Duration time.Duration // how long the key was held, as the peer reported it
	At       time.Time     // when the press began
}

// dtmfLostEnd is how long after its last packet an event whose end never
// arrived counts as over. Senders update at least every 50 ms (RFC 4733
// §2.5.1.2 recommends it), so several updates must go missing first.
const dtmfLostEnd = 300 * time.Millisecond

// dtmfReceiver turns RFC 4733 packets into one DTMFEvent per key press. An
// event is identified by its RTP timestamp (RFC 4733 §2.5.1.1: all packets
// of an event carry the timestamp of its start), which de-duplicates the
// repeated end packets and any retransmission. A lost start is harmless
// (the first packet seen starts the event, an end alone is a whole press);
// a lost end is detected by a new event or by dtmfLostEnd of silence.
// Not locked: the session guards it.
type dtmfReceiver struct {
	out     chan DTMFEvent
	down    chan rune // a key began to be pressed
	dropped *atomic.Uint64
	rate    int // the RTP clock rate of the events' timestamps (0: 8000)

	active   bool
	ts       uint32
	event    uint8
	duration uint16
	at       time.Time
	lastSeen time.Time

	ended  [8]uint32 // timestamps of the last events delivered
	nEnded int
}

func (r *dtmfReceiver) receive(ev TelephoneEvent, ts uint32, now time.Time) {
	if _, ok := ev.Digit(); !ok || r.wasEnded(ts) {
		return
	}
	if r.active && ts != r.ts {
		r.finish() // its end was lost
	}
	if !r.active {
		r.active, r.ts, r.event, r.duration = true, ts, ev.Event, ev.Duration
		r.at = now.Add(-eventDuration(ev.Duration, r.rate))
		select {
		case r.down <- rune(dtmfDigits[ev.Event]):
		default: // nobody is waiting to barge in
		}
	}
	r.duration = max(r.duration, ev.Duration)
	r.lastSeen = now
	if ev.End {
		r.finish()
	}
}

// expire ends an event whose packets stopped without an end.
func (r *dtmfReceiver) expire(now time.Time) {
	if r.active && now.Sub(r.lastSeen) > dtmfLostEnd {
		r.finish()
	}
}

func (r *dtmfReceiver) finish() {
	r.active = false
	r.ended[r.nEnded%len(r.ended)] = r.ts
	r.nEnded++
	ev := DTMFEvent{Digit: rune(dtmfDigits[r.event]), Duration: eventDuration(r.duration, r.rate), At: r.at}
	select {
	case r.out <- ev:
	default:
		r.dropped.Add(1)
	}
}

func (r *dtmfReceiver) wasEnded(ts uint32) bool {
	for i := range min(r.nEnded, len(r.ended)) {
		if r.ended[i] == ts {
			return true
		}
	}
	return false
}

// reset forgets events of a previous stream (a new SSRC).
func (r *dtmfReceiver) reset() {
	r.active, r.nEnded = false, 0
}

// dtmfTone is one key to send, held for frames ticks.
type dtmfTone struct {
	event  uint8
	frames int
}

// RFC 4733 sending: the event's packets all carry the timestamp of the
// tick it starts on, with a duration that grows by a frame per packet; the
// first has the marker bit; the last is sent dtmfEndRepeats times, one per
// tick (§2.5.1.4). Audio is muted meanwhile. dtmfGap ticks of audio follow
// before the next key, so two equal keys read as two presses.
const (
	dtmfEndRepeats   = 3
	dtmfGap          = 2
	dtmfVolume       = 10 // -10 dBm0
	defaultDTMFTime  = 100 * time.Millisecond
	minDTMFFrames    = 2
	maxDTMFFrames    = 0xFFFF / FrameSamples // the duration field is 16 bits
	dtmfQueueInitCap = 32
)

// dtmfSender steps queued keys into one packet per tick. Not locked: the
// session guards it.
type dtmfSender struct {
	queue  []dtmfTone
	cur    dtmfTone
	active bool
	ts     uint32
	sent   int
	gap    int
}

// step returns the event packet to send on the tick whose audio timestamp
// is ts, if a key is being sent.
func (d *dtmfSender) step(ts uint32) (ev TelephoneEvent, evTS uint32, marker, ok bool) {
	if !d.active {
		if d.gap > 0 {
			d.gap--
			return ev, 0, false, false
		}
		if len(d.queue) == 0 {
			return ev, 0, false, false
		}
		d.cur = d.queue[0]
		d.queue = d.queue[:copy(d.queue, d.queue[1:])]
		d.active, d.ts, d.sent = true, ts, 0
	}
	k := d.sent
	d.sent++
	ev = TelephoneEvent{Event: d.cur.event, Volume: dtmfVolume, Duration: uint16(min(k+1, d.cur.frames) * FrameSamples)}
	if k >= d.cur.frames-1 {
		ev.End = true
		if k == d.cur.frames-1+dtmfEndRepeats-1 {
			d.active, d.gap = false, dtmfGap
		}
	}
	return ev, d.ts, k == 0, true
}

// abort drops the key being sent (we may no longer send); queued keys wait.
func (d *dtmfSender) abort() { d.active = false }

func (d *dtmfSender) enqueue(event uint8, each time.Duration) {
	if d.queue == nil {
		d.queue = make([]dtmfTone, 0, dtmfQueueInitCap)
	}
	frames := int((each + FrameDuration/2) / FrameDuration)
	d.queue = append(d.queue, dtmfTone{event: event, frames: min(max(frames, minDTMFFrames), maxDTMFFrames)})
}

// DTMF delivers the keys the peer presses, one event per press. It holds
// up to 16 events; more are dropped and counted (Stats.DroppedDTMF). The
// channel is never closed: watch Done as well.
func (s *Session) DTMF() <-chan DTMFEvent { return s.dtmfCh }

// KeyDown delivers each key as its first packet arrives, before the press
// is over: what barge-in needs, since a press lasts 100 ms or more. The
// whole press still arrives on DTMF. Keys nobody takes are dropped.
func (s *Session) KeyDown() <-chan rune { return s.keyDown }

// SendDTMF queues digits (0-9 * # A-D) to send as RFC 4733 events, each
// held for each (100 ms if zero; 40 ms to 8 s). It returns at once; the
// sender sends one packet per tick, muting audio during each key, and
// starts the next key after a short gap. It fails if the peer did not
// negotiate telephone-event or a digit is not a key.
func (s *Session) SendDTMF(digits string, each time.Duration) error {
	if each == 0 {
		each = defaultDTMFTime
	}
	events := make([]uint8, 0, len(digits))
	for _, r := range digits {
		ev, ok := digitEvent(r)
		if !ok {
			return fmt.Errorf("media: send DTMF %q: %q is not a key (0-9 * # A-D)", digits, r)
		}
		events = append(events, ev)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.dtmfPT == 0 {
		return ErrNoTelephoneEvent
	}
	for _, ev := range events {
		s.dtmfTx.enqueue(ev, each)
	}
	return nil
}
