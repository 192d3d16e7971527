package media

import (
	"math"
	"testing"
)

func TestG711KnownValues(t *testing.T) {
	cases := []struct {
		c    Codec
		code byte
		pcm  int16
	}{
		{PCMU, 0xFF, 0}, {PCMU, 0x80, 32124}, {PCMU, 0x00, -32124}, {PCMU, 0xFE, 8}, {PCMU, 0x7E, -8},
		{PCMA, 0xD5, 8}, {PCMA, 0x55, -8}, {PCMA, 0xAA, 32256}, {PCMA, 0x2A, -32256},
	}
	for _, cs := range cases {
		var pcm [1]int16
		cs.c.Decode(pcm[:], []byte{cs.code})
		if pcm[0] != cs.pcm {
			t.Errorf("%s decode %#02x = %d, want %d", cs.c.Name, cs.code, pcm[0], cs.pcm)
		}
	}
	enc := []struct {
		c    Codec
		pcm  int16
		code byte
	}{
		{PCMU, 0, 0xFF}, {PCMU, 32767, 0x80}, {PCMU, -32768, 0x00},
		{PCMA, 0, 0xD5}, {PCMA, 32767, 0xAA}, {PCMA, -32768, 0x2A},
	}
	for _, cs := range enc {
		var b [1]byte
		cs.c.Encode(b[:], []int16{cs.pcm})
		if b[0] != cs.code {
			t.Errorf("%s encode %d = %#02x, want %#02x", cs.c.Name, cs.pcm, b[0], cs.code)
		}
	}
}

// Every code decodes to a level that encodes back to the same code (the two
// µ-law zeros aside), and decoding is monotonic in the level.
func TestG711RoundTripAndOrder(t *testing.T) {
	for _, c := range Codecs {
		for code := range 256 {
			var pcm [1]int16
			var back [1]byte
			c.Decode(pcm[:], []byte{byte(code)})
			c.Encode(back[:], pcm[:])
			if back[0] != byte(code) && !(c.Name == "PCMU" && code == 0x7F) {
				t.Errorf("%s: %#02x -> %d -> %#02x", c.Name, code, pcm[0], back[0])
			}
		}
		// Quantisation error stays within half a step of the segment:
		// about 1/32 of the level (plus the bias) above the first segments.
		var worst float64
		for s := -32768; s < 32768; s += 7 {
			var b [1]byte
			var d [1]int16
			c.Encode(b[:], []int16{int16(s)})
			c.Decode(d[:], b[:])
			if a := math.Abs(float64(s)); a > 1024 {
				worst = max(worst, math.Abs(float64(int(d[0])-s))/a)
			}
		}
		if worst > 0.035 {
			t.Errorf("%s: worst relative error %.4f", c.Name, worst)
		}
	}
}

func TestG711AllocatesNothing(t *testing.T) {
	pcm := make([]int16, FrameSamples)
	wire := make([]byte, FrameSamples)
	for i := range pcm {
		pcm[i] = int16(8000 * math.Sin(float64(i)/5))
	}
	if n := testing.AllocsPerRun(100, func() {
		PCMU.Encode(wire, pcm)
		PCMU.Decode(pcm, wire)
	}); n != 0 {
		t.Errorf("G.711 encode+decode of a frame allocates %v times", n)
	}
}

func BenchmarkG711Frame(b *testing.B) {
	pcm := make([]int16, FrameSamples)
	wire := make([]byte, FrameSamples)
	b.ReportAllocs()
	for b.Loop() {
		PCMU.Encode(wire, pcm)
		PCMU.Decode(pcm, wire)
	}
}
