//go:build opus

package media

import (
	"testing"
	"time"

	"github.com/pion/rtp"
)

// opusSpeech is frame k of the test signal: 440 Hz for frames 0-19, then
// 1 kHz, at -10 dBFS, continuous across frames (sineDBFS of the whole).
var opusSpeech = func() []int16 {
	a := sineDBFS(20*FrameSamples, Rate, 440, -10)
	b := sineDBFS(40*FrameSamples, Rate, 1000, -10)
	return append(a, b[20*FrameSamples:]...)
}()

func opusFrame(k int) []int16 { return opusSpeech[k*FrameSamples : (k+1)*FrameSamples] }

func TestOpusRoundTrip(t *testing.T) {
	enc, err := NewOpusEncoder()
	if err != nil {
		t.Fatal(err)
	}
	dec, err := NewOpusDecoder()
	if err != nil {
		t.Fatal(err)
	}
	buf := make([]byte, MaxPayload)
	var out Frame
	bytes := 0
	for k := range 40 {
		n := enc.Encode(buf, opusFrame(k))
		if n == 0 || n > 200 {
			t.Fatalf("frame %d: %d bytes", k, n)
		}
		bytes += n
		if got := dec.Decode(out[:], buf[:n]); got != FrameSamples {
			t.Fatalf("frame %d decoded to %d samples", k, got)
		}
		// The codec's delay smears a frame or two after a change.
		want := 440.0
		if k >= 20 {
			want = 1000
		}
		if k%20 >= 2 && toneDB(out[:], Rate, want) < -16 {
			t.Errorf("frame %d: %.1f dB of %.0f Hz after the round trip, want about -13", k, toneDB(out[:], Rate, want), want)
		}
	}
	// 24 kbit/s is 60 bytes a frame on average.
	if avg := bytes / 40; avg < 30 || avg > 90 {
		t.Errorf("%d bytes a frame on average, want about 60 (24 kbit/s)", avg)
	}
	if dec.Decode(out[:], []byte{0xff, 0xff, 0xff}) != 0 {
		t.Error("a malformed packet decoded")
	}
	if enc.Encode(buf[:0], opusFrame(0)) != 0 {
		t.Error("encoded into no room")
	}
	f := opusFrame(3)
	if a := testing.AllocsPerRun(200, func() { dec.Decode(out[:], buf[:enc.Encode(buf, f)]) }); a != 0 {
		t.Errorf("Encode and Decode allocate %.0f times a frame, want 0", a)
	}
}

// TestReceiverRecoversLostOpus loses the first packet of the 1 kHz part:
// the decoder rebuilds it from the next packet's forward error correction,
// so it plays 1 kHz, where concealment would repeat 440 Hz. A packet that
// turns up after all replaces its rebuilt copy.
func TestReceiverRecoversLostOpus(t *testing.T) {
	for _, late := range []bool{false, true} {
		enc, _ := NewOpusEncoder()
		dec, err := NewOpusDecoder()
		if err != nil {
			t.Fatal(err)
		}
		r := NewReceiver(ReceiverConfig{JitterDelay: 60 * time.Millisecond})
		r.SetAudio(111, dec)
		now := time.Now()
		var lost *rtp.Packet
		var out Frame
		var played []Played
		var frames []Frame
		for k := range 40 {
			buf := make([]byte, MaxPayload)
			n := enc.Encode(buf, opusFrame(k))
			p := &rtp.Packet{Header: rtp.Header{Version: 2, PayloadType: 111, SequenceNumber: uint16(500 + k), Timestamp: uint32(k * 960), SSRC: 9}, Payload: buf[:n]}
			switch {
			case k == 20:
				lost = p
			case k == 22 && late:
				r.Receive(p, now)
				r.Receive(lost, now) // two packets late, still ahead of playout
			default:
				r.Receive(p, now)
			}
			played = append(played, r.Play(&out, now))
			frames = append(frames, out)
		}
		// Playout runs three frames behind: frame 20 plays at tick 23.
		f20 := frames[23]
		st := r.Stats()
		if played[23] != PlayedAudio || toneDB(f20[:], Rate, 1000) < -20 || toneDB(f20[:], Rate, 1000) < toneDB(f20[:], Rate, 440)+10 {
			t.Errorf("late=%v: the lost frame played as %v with %.1f dB of 1 kHz and %.1f dB of 440 Hz, want 1 kHz",
				late, played[23], toneDB(f20[:], Rate, 1000), toneDB(f20[:], Rate, 440))
		}
		if st.Recovered != 1 || st.Concealed != 0 || st.Duplicates != 0 {
			t.Errorf("late=%v: stats %+v, want one frame recovered, none concealed, no duplicate", late, st)
		}
	}
}
