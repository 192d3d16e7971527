//go:build pocketsphinx

package main

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/sambung/sambung/asr"
	"github.com/sambung/sambung/demo"
	"github.com/sambung/sambung/internal/testenv"
	"github.com/sambung/sambung/media"
)

// BenchmarkEndOfSpeechToIntent measures what a caller waits for after
// they stop speaking: the endpointer's silence, PocketSphinx on the
// utterance with the demo flow's English phrases, and the intent
// classifier. The caller's audio is written in real time, 20 ms a frame,
// as a call's would be. Reported: the p50 and p95 latency from the last
// frame of speech to the intent (goal: p95 under 600 ms), and the
// endpointer's silence (the floor no result can beat) as the baseline.
func BenchmarkEndOfSpeechToIntent(b *testing.B) {
	f, diags := demo.ParseFlow()
	if diags.HasErrors() {
		b.Fatal(diags)
	}
	phrases := f.Phrases("en")
	rec, err := asr.New("pocketsphinx", asr.Config{Silence: 400 * time.Millisecond})
	if err != nil {
		b.Fatal(err)
	}
	speech := testenv.ReadWAV(b, testenv.Speech(b, "en", "How do I get my money back", 300*time.Millisecond)).Channels[0]
	// As a PCMU call delivers it: through G.711 mu-law and back.
	enc := make([]byte, len(speech))
	media.PCMU.Encode(enc, speech)
	media.PCMU.Decode(speech, enc)
	// Where the speech ends: the last frame above -45 dBFS.
	last := 0
	for i := 0; i+media.FrameSamples <= len(speech); i += media.FrameSamples {
		if media.DBFS(speech[i:i+media.FrameSamples]) > -45 {
			last = i + media.FrameSamples
		}
	}
	silence := make([]int16, media.FrameSamples)
	var lat []time.Duration
	b.ResetTimer()
	for b.Loop() {
		ctx, cancel := context.WithCancel(context.Background())
		st, err := rec.Stream(ctx, asr.Options{Language: "en", Phrases: phrases})
		if err != nil {
			b.Fatal(err)
		}
		tick := time.NewTicker(media.FrameDuration)
		lead := 25 // half a second of silence first
		for range lead {
			<-tick.C
			_ = st.Write(silence)
		}
		var end time.Time
		for i := 0; i+media.FrameSamples <= len(speech); i += media.FrameSamples {
			<-tick.C
			_ = st.Write(speech[i : i+media.FrameSamples])
			if i+media.FrameSamples == last {
				end = time.Now()
			}
		}
		var got asr.Result
	wait:
		for {
			select {
			case <-tick.C:
				_ = st.Write(silence)
			case r := <-st.Results():
				if r.Final {
					got = r
					break wait
				}
			case <-time.After(10 * time.Second):
				b.Fatal("no result")
			}
		}
		out := f.Classify(got.Text, "en").Intent
		lat = append(lat, time.Since(end))
		tick.Stop()
		cancel()
		_ = st.Close()
		if out != "refund" {
			b.Errorf("heard %q (%.3f, %v, %s-%s) as %q, want refund", got.Text, got.Confidence, got.Err, got.Start, got.End, out)
		}
	}
	b.StopTimer()
	slices.Sort(lat)
	p := func(q float64) float64 {
		return float64(lat[min(len(lat)-1, int(q*float64(len(lat))))]) / float64(time.Millisecond)
	}
	b.ReportMetric(p(0.50), "ms-p50")
	b.ReportMetric(p(0.95), "ms-p95")
	b.ReportMetric(400, "ms-silence-floor")
	b.ReportMetric(p(0.95)/400, "x-floor-p95")
}
