package recordings

import (
	"encoding/binary"
	"math"
	"os"
	"testing"

	"github.com/go-audio/wav"
	"github.com/sambung/sambung/media"
)

// toneAmp is the amplitude of the test tones: about -12 dBFS.
const toneAmp = 8000

// tone fills frame with the n-th 20 ms frame of a continuous sine at freq Hz.
func tone(frame []int16, freq float64, n int) {
	for i := range frame {
		t := float64(n*len(frame)+i) / media.Rate
		frame[i] = int16(math.Round(toneAmp * math.Sin(2*math.Pi*freq*t)))
	}
}

// amplitude estimates the amplitude of the freq Hz component of x with the
// Goertzel algorithm: a pure sine of amplitude A reads A when x holds a whole
// number of its periods.
func amplitude(x []int, freq float64) float64 {
	coeff := 2 * math.Cos(2*math.Pi*freq/media.Rate)
	var s1, s2 float64
	for _, v := range x {
		s1, s2 = float64(v)+coeff*s1-s2, s1
	}
	power := s1*s1 + s2*s2 - coeff*s1*s2
	return 2 * math.Sqrt(math.Max(power, 0)) / float64(len(x))
}

// decoded is a recording read back with go-audio/wav.
type decoded struct {
	channels, rate, bits int
	left, right          []int
}

// decode reads the WAV at path with go-audio/wav's decoder, which stops at
// the data size the header declares.
func decode(t *testing.T, path string) decoded {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	d := wav.NewDecoder(f)
	buf, err := d.FullPCMBuffer()
	if err != nil {
		t.Fatalf("decode %s: %v", path, err)
	}
	out := decoded{channels: int(d.NumChans), rate: int(d.SampleRate), bits: int(d.BitDepth)}
	if out.channels != 2 {
		t.Fatalf("%s: %d channels, want 2", path, out.channels)
	}
	for i := 0; i+1 < len(buf.Data); i += 2 {
		out.left = append(out.left, buf.Data[i])
		out.right = append(out.right, buf.Data[i+1])
	}
	return out
}

// headerSizes reads the RIFF and data sizes the file's header declares, the
// way a player would see them right now.
func headerSizes(t *testing.T, path string) (riff, data uint32) {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var h [headerSize]byte
	if _, err := f.ReadAt(h[:], 0); err != nil {
		t.Fatalf("read header of %s: %v", path, err)
	}
	return binary.LittleEndian.Uint32(h[riffSizeOffset:]), binary.LittleEndian.Uint32(h[dataSizeOffset:])
}

// writeTones records frames frames of a 1 kHz tone on the left and a 500 Hz
// tone on the right to a new file and closes it.
func writeTones(t *testing.T, path string, frames int) {
	t.Helper()
	w, err := NewWriter(path, WriterConfig{})
	if err != nil {
		t.Fatal(err)
	}
	var l, r [media.FrameSamples]int16
	for n := range frames {
		tone(l[:], 1000, n)
		tone(r[:], 500, n)
		if err := w.WriteFrame(l[:], r[:]); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
}
