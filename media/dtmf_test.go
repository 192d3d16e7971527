package media

import (
	"errors"
	"net/netip"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/pion/rtp"
)

const testEventPT = 101

func TestTelephoneEventWire(t *testing.T) {
	cases := []struct {
		ev   TelephoneEvent
		wire [4]byte
	}{
		{TelephoneEvent{Event: 1, Volume: 10, Duration: 160}, [4]byte{1, 10, 0, 160}},
		{TelephoneEvent{Event: 11, End: true, Volume: 63, Duration: 800}, [4]byte{11, 0x80 | 63, 3, 32}},
		{TelephoneEvent{Event: 15, End: true, Duration: 0xFFFF}, [4]byte{15, 0x80, 0xFF, 0xFF}},
	}
	for _, c := range cases {
		var b [4]byte
		if n, err := c.ev.MarshalTo(b[:]); err != nil || n != 4 || b != c.wire {
			t.Errorf("marshal %+v = % x, %v; want % x", c.ev, b, err, c.wire)
		}
		var got TelephoneEvent
		if err := got.Unmarshal(c.wire[:]); err != nil || got != c.ev {
			t.Errorf("unmarshal % x = %+v, %v; want %+v", c.wire, got, err, c.ev)
		}
	}
	// The reserved bit is ignored; a short payload is an error.
	var ev TelephoneEvent
	if err := ev.Unmarshal([]byte{5, 0x40 | 7, 0, 80, 0xAA}); err != nil || ev != (TelephoneEvent{Event: 5, Volume: 7, Duration: 80}) {
		t.Errorf("reserved bit set: %+v, %v", ev, err)
	}
	if err := ev.Unmarshal([]byte{1, 2, 3}); err == nil {
		t.Error("a 3-byte payload parsed")
	}
	if _, err := ev.MarshalTo(make([]byte, 3)); err == nil {
		t.Error("marshalled into 3 bytes")
	}
	for i, want := range "0123456789*#ABCD" {
		if d, ok := (TelephoneEvent{Event: uint8(i)}).Digit(); !ok || d != want {
			t.Errorf("event %d is %q, want %q", i, d, want)
		}
		if e, ok := digitEvent(want); !ok || e != uint8(i) {
			t.Errorf("digit %q is event %d", want, e)
		}
	}
	if _, ok := (TelephoneEvent{Event: 16}).Digit(); ok {
		t.Error("event 16 (flash) is a digit")
	}
	if e, ok := digitEvent('c'); !ok || e != 14 {
		t.Error("lower-case c is not C")
	}
}

// dtmfHarness drives a dtmfReceiver with a fake clock.
type dtmfHarness struct {
	t       *testing.T
	r       dtmfReceiver
	dropped atomic.Uint64
	now     time.Time
}

func newDTMFHarness(t *testing.T) *dtmfHarness {
	h := &dtmfHarness{t: t, now: time.Unix(1700000000, 0)}
	h.r = dtmfReceiver{out: make(chan DTMFEvent, 16), dropped: &h.dropped}
	return h
}

func (h *dtmfHarness) packet(ts uint32, digit rune, dur uint16, end bool) {
	ev, _ := digitEvent(digit)
	h.r.receive(TelephoneEvent{Event: ev, End: end, Volume: 10, Duration: dur}, ts, h.now)
	h.now = h.now.Add(FrameDuration)
}

// press sends a whole key press: a start sent twice, updates, three ends.
func (h *dtmfHarness) press(ts uint32, digit rune, frames int) {
	h.packet(ts, digit, FrameSamples, false)
	h.packet(ts, digit, FrameSamples, false) // retransmitted start
	for k := 2; k < frames; k++ {
		h.packet(ts, digit, uint16(k*FrameSamples), false)
	}
	for range 3 {
		h.packet(ts, digit, uint16(frames*FrameSamples), true)
	}
}

func (h *dtmfHarness) expect(want string) []DTMFEvent {
	h.t.Helper()
	var got []DTMFEvent
	var digits strings.Builder
	for {
		select {
		case ev := <-h.r.out:
			got = append(got, ev)
			digits.WriteRune(ev.Digit)
			continue
		default:
		}
		break
	}
	if digits.String() != want {
		h.t.Fatalf("digits %q, want %q", digits.String(), want)
	}
	return got
}

func TestDTMFReceiverPresses(t *testing.T) {
	h := newDTMFHarness(t)
	start := h.now
	for i, d := range "123#" {
		h.press(uint32(1000+i*4000), d, 5)
	}
	evs := h.expect("123#")
	for _, ev := range evs {
		if ev.Duration != 100*time.Millisecond {
			t.Errorf("%q lasted %v, want 100ms", ev.Digit, ev.Duration)
		}
	}
	if !evs[0].At.Equal(start.Add(-FrameDuration)) {
		t.Errorf("first press at %v, want the start of its first packet's duration %v", evs[0].At, start.Add(-FrameDuration))
	}
	// Late retransmissions of any of them change nothing.
	h.packet(1000, '1', 800, true)
	h.packet(1000+3*4000, '#', 160, false)
	h.expect("")
}

func TestDTMFReceiverLostStart(t *testing.T) {
	h := newDTMFHarness(t)
	for range 3 {
		h.packet(5000, '5', 960, true)
	}
	evs := h.expect("5")
	if evs[0].Duration != 120*time.Millisecond {
		t.Errorf("duration %v, want 120ms", evs[0].Duration)
	}
}

func TestDTMFReceiverLostEnd(t *testing.T) {
	h := newDTMFHarness(t)
	// The end of 7 never comes: it is over after dtmfLostEnd of silence.
	h.packet(100, '7', 160, false)
	h.packet(100, '7', 320, false)
	h.r.expire(h.now)
	h.expect("")
	h.r.expire(h.now.Add(dtmfLostEnd + time.Millisecond))
	evs := h.expect("7")
	if evs[0].Duration != 40*time.Millisecond {
		t.Errorf("duration %v, want 40ms (the last update)", evs[0].Duration)
	}
	// The end of 8 never comes either, but 9 begins.
	h.packet(2000, '8', 160, false)
	h.packet(2000, '8', 320, false)
	h.press(4000, '9', 4)
	h.expect("89")
	// A held key updates past the lost-end timeout without ending.
	for k := 1; k <= 30; k++ {
		h.packet(9000, '4', uint16(k*FrameSamples), false)
		h.r.expire(h.now)
	}
	h.expect("")
}

func TestDTMFReceiverDropsWhenFull(t *testing.T) {
	h := newDTMFHarness(t)
	h.r.out = make(chan DTMFEvent, 1)
	h.press(1, '1', 2)
	h.press(2, '2', 2)
	if h.dropped.Load() != 1 {
		t.Errorf("dropped %d, want 1", h.dropped.Load())
	}
	h.expect("1")
}

func TestDTMFSenderSteps(t *testing.T) {
	var d dtmfSender
	d.enqueue(1, 60*time.Millisecond)
	d.enqueue(11, 0) // clamped to the minimum, 40 ms
	ts := uint32(1000)
	type pkt struct {
		ev     TelephoneEvent
		ts     uint32
		marker bool
	}
	var got []pkt
	audio := 0
	for range 20 {
		ev, evTS, marker, ok := d.step(ts)
		if ok {
			got = append(got, pkt{ev, evTS, marker})
		} else if len(got) == 5 {
			audio++ // between the keys
		}
		ts += FrameSamples
	}
	want := []pkt{
		{TelephoneEvent{Event: 1, Volume: 10, Duration: 160}, 1000, true},
		{TelephoneEvent{Event: 1, Volume: 10, Duration: 320}, 1000, false},
		{TelephoneEvent{Event: 1, End: true, Volume: 10, Duration: 480}, 1000, false},
		{TelephoneEvent{Event: 1, End: true, Volume: 10, Duration: 480}, 1000, false},
		{TelephoneEvent{Event: 1, End: true, Volume: 10, Duration: 480}, 1000, false},
		// two ticks of audio
		{TelephoneEvent{Event: 11, Volume: 10, Duration: 160}, 1000 + 7*160, true},
		{TelephoneEvent{Event: 11, End: true, Volume: 10, Duration: 320}, 1000 + 7*160, false},
		{TelephoneEvent{Event: 11, End: true, Volume: 10, Duration: 320}, 1000 + 7*160, false},
		{TelephoneEvent{Event: 11, End: true, Volume: 10, Duration: 320}, 1000 + 7*160, false},
	}
	if len(got) != len(want) {
		t.Fatalf("%d packets, want %d: %+v", len(got), len(want), got)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("packet %d: %+v, want %+v", i, got[i], want[i])
		}
	}
	if audio != dtmfGap {
		t.Errorf("%d ticks of audio between keys, want %d", audio, dtmfGap)
	}
}

// A peer sends "123#" with retransmitted starts and triple ends between
// audio packets, then a lost start, a lost end: each press comes out once.
func TestSessionReceivesDTMF(t *testing.T) {
	expectNoSessionGoroutines(t)
	s := newTestSession(t, SessionConfig{})
	p := newTestPeer(t)
	s.SetRemote(p.addr, PCMU, testEventPT)
	s.Start(t.Context())
	to := sessAddr(s)
	event := func(ts uint32, digit rune, dur uint16, end, marker bool) {
		ev, _ := digitEvent(digit)
		p.sendEvent(to, testEventPT, ts, TelephoneEvent{Event: ev, End: end, Volume: 10, Duration: dur}, marker)
	}
	recv := func(want string, dur time.Duration) {
		t.Helper()
		for _, d := range want {
			select {
			case ev := <-s.DTMF():
				if ev.Digit != d || ev.Duration != dur {
					t.Fatalf("got %q (%v), want %q (%v)", ev.Digit, ev.Duration, d, dur)
				}
				if since := time.Since(ev.At); since < 0 || since > 5*time.Second {
					t.Errorf("%q pressed %v ago", ev.Digit, since)
				}
			case <-time.After(3 * time.Second):
				t.Fatalf("no %q", d)
			}
		}
	}
	for _, d := range "123#D" { // D marks the end: nothing may come between
		p.sendAudio(to)
		ts := p.ts
		event(ts, d, 160, false, true)
		event(ts, d, 160, false, true) // retransmitted start
		for k := uint16(2); k <= 4; k++ {
			event(ts, d, k*160, false, false)
		}
		for range 3 {
			event(ts, d, 800, true, false)
		}
		p.ts += 5 * FrameSamples
		p.sendAudio(to)
	}
	recv("123#D", 100*time.Millisecond)

	// Lost start: only the ends of 5 arrive.
	p.ts += 1000
	for range 3 {
		event(p.ts, '5', 480, true, false)
	}
	recv("5", 60*time.Millisecond)

	// Lost end: 7 stops after two packets; the session's clock ends it.
	p.ts += 1000
	event(p.ts, '7', 160, false, true)
	event(p.ts, '7', 320, false, false)
	recv("7", 40*time.Millisecond)
	select {
	case ev := <-s.DTMF():
		t.Errorf("extra key %q", ev.Digit)
	default:
	}
	if st := s.Stats(); st.WrongPayloadType != 0 || st.DroppedDTMF != 0 {
		t.Errorf("stats: %+v", st)
	}
}

// SendDTMF sends RFC 4733 packets a receiver can parse: growing durations,
// the end three times, one timestamp and one marker per key, audio muted
// meanwhile, sequence numbers running on.
func TestSessionSendsDTMF(t *testing.T) {
	expectNoSessionGoroutines(t)
	s := newTestSession(t, SessionConfig{})
	p := newTestPeer(t)
	s.SetRemote(p.addr, PCMU, testEventPT)
	s.Play(&sessSine{freq: 440, amp: 4000})
	s.Start(t.Context())
	first := p.readRTP(2 * time.Second)
	if err := s.SendDTMF("1#", 100*time.Millisecond); err != nil {
		t.Fatal(err)
	}
	pkts := []rtp.Packet{first}
	events := 0
	for events < 2*(5+2) || pkts[len(pkts)-1].PayloadType == testEventPT {
		pkt := p.readRTP(2 * time.Second)
		pkts = append(pkts, pkt)
		if pkt.PayloadType == testEventPT {
			events++
		}
		if len(pkts) > 200 {
			t.Fatal("the digits never went out")
		}
	}
	var digits []rune
	var cur []TelephoneEvent
	var curTS uint32
	for i := 1; i < len(pkts); i++ {
		pkt, prev := pkts[i], pkts[i-1]
		if pkt.SequenceNumber != prev.SequenceNumber+1 || pkt.SSRC != prev.SSRC {
			t.Fatalf("packet %d: seq %d SSRC %#x after %d %#x", i, pkt.SequenceNumber, pkt.SSRC, prev.SequenceNumber, prev.SSRC)
		}
		if pkt.PayloadType != testEventPT {
			if len(cur) > 0 {
				t.Fatalf("audio in the middle of a key: %d packets of it so far", len(cur))
			}
			continue
		}
		var ev TelephoneEvent
		if err := ev.Unmarshal(pkt.Payload); err != nil || len(pkt.Payload) != 4 {
			t.Fatalf("packet %d: %v", i, err)
		}
		if len(cur) == 0 {
			curTS = pkt.Timestamp
			if !pkt.Marker {
				t.Errorf("packet %d: no marker on a key's first packet", i)
			}
			if prev.PayloadType != testEventPT && pkt.Timestamp != prev.Timestamp+FrameSamples {
				t.Errorf("packet %d: key at ts %d, the audio before it at %d", i, pkt.Timestamp, prev.Timestamp)
			}
		} else if pkt.Marker {
			t.Errorf("packet %d: marker inside a key", i)
		}
		if pkt.Timestamp != curTS {
			t.Errorf("packet %d: ts %d within a key that began at %d", i, pkt.Timestamp, curTS)
		}
		cur = append(cur, ev)
		if len(cur) < 7 {
			continue
		}
		d, _ := cur[0].Digit()
		digits = append(digits, d)
		for k, e := range cur {
			wantDur, wantEnd := uint16(min(k+1, 5)*FrameSamples), k >= 4
			if e.Duration != wantDur || e.End != wantEnd || e.Event != cur[0].Event || e.Volume != dtmfVolume {
				t.Errorf("key %q packet %d: %+v, want duration %d end %v", d, k, e, wantDur, wantEnd)
			}
		}
		if next := pkts[i+1]; next.PayloadType != PCMU.PayloadType || next.Timestamp != curTS+7*FrameSamples || next.Marker {
			t.Errorf("after key %q: %+v, want audio at ts %d without marker", d, next.Header, curTS+7*FrameSamples)
		}
		cur = cur[:0]
	}
	if string(digits) != "1#" {
		t.Errorf("keys sent: %q, want \"1#\"", string(digits))
	}
}

func TestSendDTMFErrors(t *testing.T) {
	expectNoSessionGoroutines(t)
	s := newTestSession(t, SessionConfig{})
	s.SetRemote(netip.AddrPortFrom(loopback, 9), PCMU, 0)
	if err := s.SendDTMF("1", 0); !errors.Is(err, ErrNoTelephoneEvent) {
		t.Errorf("without telephone-event: %v", err)
	}
	s.SetRemote(netip.AddrPortFrom(loopback, 9), PCMU, testEventPT)
	if err := s.SendDTMF("12x", 0); err == nil || !strings.Contains(err.Error(), `'x'`) {
		t.Errorf("bad digit: %v", err)
	}
	if err := s.SendDTMF("0123456789*#ABCDabcd", 0); err != nil {
		t.Errorf("every key: %v", err)
	}
}

func TestDTMFKeyDownComesWithTheFirstPacket(t *testing.T) {
	h := newDTMFHarness(t)
	h.r.down = make(chan rune, 4)
	h.packet(500, '7', FrameSamples, false)
	select {
	case d := <-h.r.down:
		if d != '7' {
			t.Errorf("key down %q, want 7", d)
		}
	default:
		t.Fatal("no key down after the first packet of a press")
	}
	h.expect("") // the press itself is not over
	h.packet(500, '7', 2*FrameSamples, false)
	h.packet(500, '7', 3*FrameSamples, true)
	h.expect("7")
	if len(h.r.down) != 0 {
		t.Error("more than one key down for one press")
	}
}
