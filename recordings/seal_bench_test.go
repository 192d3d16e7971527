package recordings

import (
	"path/filepath"
	"testing"

	"github.com/sambung/sambung/media"
)

// BenchmarkSealedWriteFrame measures one 20 ms stereo frame written to a
// sealed file, in BenchmarkWriteFrame's terms, and when that ran first in
// the same run (make bench runs both) how many times the Writer's time it
// takes: the cost of encryption at rest.
func BenchmarkSealedWriteFrame(b *testing.B) {
	b.ReportAllocs()
	var l, r [media.FrameSamples]int16
	tone(l[:], 1000, 0)
	tone(r[:], 500, 0)
	kr := testKeyring(b, newKeys(b, "bench"), "bench", "bench")
	w, err := NewSealedWriter(filepath.Join(b.TempDir(), "w"+SealedExt), kr, WriterConfig{})
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
	ns := float64(b.Elapsed().Nanoseconds()) / float64(n)
	b.ReportMetric(ns, "ns/frame")
	if writerNsPerFrame > 0 {
		b.ReportMetric(ns/writerNsPerFrame, "x-Writer-time")
	}
	if err := w.Close(); err != nil {
		b.Fatal(err)
	}
}
