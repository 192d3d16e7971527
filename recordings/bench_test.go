package recordings

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/go-audio/audio"
	"github.com/go-audio/wav"
	"github.com/sambung/sambung/media"
)

// writerNsPerFrame carries the Writer's figure to the encoder's sub-benchmark,
// which reports how many times slower it is.
var writerNsPerFrame float64

// BenchmarkWriteFrame measures one 20 ms stereo frame written to a file, by
// the Writer and by go-audio/wav's Encoder (the alternative it was measured
// against), in the same run. Both write to a real file in a temp dir.
func BenchmarkWriteFrame(b *testing.B) {
	var l, r [media.FrameSamples]int16
	tone(l[:], 1000, 0)
	tone(r[:], 500, 0)

	b.Run("Writer", func(b *testing.B) {
		b.ReportAllocs()
		w, err := NewWriter(filepath.Join(b.TempDir(), "w.wav"), WriterConfig{})
		if err != nil {
			b.Fatal(err)
		}
		n := 0
		for b.Loop() {
			if err := w.WriteFrame(l[:], r[:]); err != nil {
				b.Fatal(err)
			}
			n++
		}
		writerNsPerFrame = float64(b.Elapsed().Nanoseconds()) / float64(n)
		b.ReportMetric(writerNsPerFrame, "ns/frame")
		if err := w.Close(); err != nil {
			b.Fatal(err)
		}
	})

	b.Run("GoAudioEncoder", func(b *testing.B) {
		b.ReportAllocs()
		f, err := os.Create(filepath.Join(b.TempDir(), "e.wav"))
		if err != nil {
			b.Fatal(err)
		}
		defer f.Close()
		enc := wav.NewEncoder(f, media.Rate, 16, 2, 1)
		buf := &audio.IntBuffer{
			Format:         &audio.Format{NumChannels: 2, SampleRate: media.Rate},
			Data:           make([]int, 2*media.FrameSamples),
			SourceBitDepth: 16,
		}
		n := 0
		for b.Loop() {
			// The same work the Writer does: interleave, then encode.
			for i := range media.FrameSamples {
				buf.Data[2*i], buf.Data[2*i+1] = int(l[i]), int(r[i])
			}
			if err := enc.Write(buf); err != nil {
				b.Fatal(err)
			}
			n++
		}
		ns := float64(b.Elapsed().Nanoseconds()) / float64(n)
		b.ReportMetric(ns, "ns/frame")
		if writerNsPerFrame > 0 {
			b.ReportMetric(ns/writerNsPerFrame, "x-Writer-time")
		}
		if err := enc.Close(); err != nil {
			b.Fatal(err)
		}
	})
}
