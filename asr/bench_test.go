package asr

import (
	"testing"
	"time"

	"github.com/sambung/sambung/media"
)

// BenchmarkEndpointerPush measures the endpointer on a call's audio
// (speech between pauses, over line noise), per 20 ms frame, against
// media.DBFS of the same frames measured in the same run: the least any
// level-based detector must do.
func BenchmarkEndpointerPush(b *testing.B) {
	v := speak(b, "en", "I want a refund for my order")
	pcm := (&line{}).silence(time.Second).speech(v, -20).silence(time.Second).noise("white", -60, 0).telephone()
	frames := len(pcm) / media.FrameSamples

	var sink float64
	const baseRuns = 200000
	for i := range baseRuns / 10 { // warm up
		sink += media.DBFS(pcm[(i%frames)*media.FrameSamples:][:media.FrameSamples])
	}
	start := time.Now()
	for i := range baseRuns {
		f := (i % frames) * media.FrameSamples
		sink += media.DBFS(pcm[f : f+media.FrameSamples])
	}
	base := time.Since(start) / baseRuns
	if sink == 0 {
		b.Fatal("no level")
	}

	e := NewEndpointer(EndpointConfig{})
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; b.Loop(); i++ {
		f := (i % frames) * media.FrameSamples
		e.Push(pcm[f : f+media.FrameSamples])
	}
	perFrame := float64(b.Elapsed().Nanoseconds()) / float64(b.N)
	b.ReportMetric(perFrame, "ns/frame")
	b.ReportMetric(float64(base.Nanoseconds()), "dbfs-ns/frame")
	b.ReportMetric(perFrame/float64(base.Nanoseconds()), "x-dbfs")
}
