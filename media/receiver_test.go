package media

import (
	"testing"
	"time"

	"github.com/pion/rtp"
)

// receiverPacket encodes one frame of a 1 kHz tone (or silence) as PCMU.
func receiverPacket(seq uint16, ts uint32, ssrc uint32, tone bool) *rtp.Packet {
	payload := make([]byte, FrameSamples)
	var f Frame
	if tone {
		copy(f[:], sineDBFS(FrameSamples, Rate, 1000, -6))
	}
	PCMU.Encode(payload, f[:])
	return &rtp.Packet{Header: rtp.Header{Version: 2, PayloadType: 0, SequenceNumber: seq, Timestamp: ts, SSRC: ssrc}, Payload: payload}
}

func TestReceiverPlaysWithDelayAndConceals(t *testing.T) {
	r := NewReceiver(ReceiverConfig{JitterDelay: 40 * time.Millisecond})
	now := time.Now()
	var out Frame
	var got []Played
	for i := range 8 {
		if i != 4 { // packet 4 is lost
			r.Receive(receiverPacket(uint16(100+i), uint32(i*FrameSamples), 7, true), now)
		}
		got = append(got, r.Play(&out, now))
		if got[i] == PlayedAudio && toneDB(out[:], Rate, 1000) < -12 {
			t.Errorf("tick %d: played audio without the tone the peer sent", i)
		}
	}
	// Two ticks of delay, then the frames; the lost one concealed.
	want := []Played{PlayedSilence, PlayedSilence, PlayedAudio, PlayedAudio, PlayedAudio, PlayedAudio, PlayedConcealed, PlayedAudio}
	for i := range want {
		if got[i] != want[i] {
			t.Fatalf("ticks = %v, want %v", got, want)
		}
	}
	if st := r.Stats(); st.Packets != 7 || st.Concealed != 1 || st.Octets != 7*FrameSamples {
		t.Errorf("stats = %+v", st)
	}
}

func TestReceiverDTMFAndPayloadTypes(t *testing.T) {
	r := NewReceiver(ReceiverConfig{TelephoneEvent: 101})
	now := time.Now()
	ev := func(seq uint16, dur uint16, end bool) *rtp.Packet {
		b := make([]byte, 4)
		_, _ = TelephoneEvent{Event: 5, End: end, Duration: dur}.MarshalTo(b)
		return &rtp.Packet{Header: rtp.Header{Version: 2, PayloadType: 101, SequenceNumber: seq, Timestamp: 800, SSRC: 7}, Payload: b}
	}
	r.Receive(receiverPacket(1, 0, 7, false), now)
	r.Receive(ev(2, 160, false), now)
	r.Receive(ev(3, 320, true), now)
	r.Receive(ev(4, 320, true), now) // the repeated end
	r.Receive(&rtp.Packet{Header: rtp.Header{Version: 2, PayloadType: 8, SequenceNumber: 5, SSRC: 7}, Payload: make([]byte, 160)}, now)
	select {
	case k := <-r.KeyDown():
		if k != '5' {
			t.Errorf("key down %q, want '5'", k)
		}
	default:
		t.Error("no key down")
	}
	select {
	case d := <-r.DTMF():
		if d.Digit != '5' || d.Duration != 40*time.Millisecond {
			t.Errorf("DTMF %+v, want 5 for 40ms", d)
		}
	default:
		t.Error("no DTMF event")
	}
	select {
	case d := <-r.DTMF():
		t.Errorf("a second event %+v for one press", d)
	default:
	}
	if st := r.Stats(); st.WrongPayloadType != 1 {
		t.Errorf("PCMA packet not counted as a wrong payload type: %+v", st)
	}
	r.SetTelephoneEvent(0, 0)
	r.Receive(ev(6, 160, false), now)
	if st := r.Stats(); st.WrongPayloadType != 2 {
		t.Errorf("events taken after SetTelephoneEvent(0): %+v", st)
	}
}

func TestReceiverAllocations(t *testing.T) {
	r := NewReceiver(ReceiverConfig{})
	p := receiverPacket(0, 0, 9, true)
	now := time.Now()
	var out Frame
	allocs := testing.AllocsPerRun(500, func() {
		p.SequenceNumber++
		p.Timestamp += FrameSamples
		r.Receive(p, now)
		r.Play(&out, now)
	})
	if allocs != 0 {
		t.Errorf("Receive+Play allocate %.1f times per frame, want 0", allocs)
	}
}
