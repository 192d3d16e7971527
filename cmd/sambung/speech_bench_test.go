//go:build pocketsphinx

package main

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/sambung/sambung/asr"
	"github.com/sambung/sambung/asr/sphinx"
	"github.com/sambung/sambung/demo"
	"github.com/sambung/sambung/internal/testenv"
	"github.com/sambung/sambung/ivr"
	"github.com/sambung/sambung/media"
)

// BenchmarkEndOfSpeechToIntent measures what a caller waits for after
// they stop speaking: the endpointer's silence, PocketSphinx on the
// utterance with the demo flow's English phrases, and the intent
// classifier. The caller's audio is written in real time, 20 ms a frame,
// as a call's would be, and the results are read as they come. Reported:
// the p50 and p95 latency from the last frame of speech to the intent
// (goal: p95 under 600 ms); the endpointer's silence (the floor no result
// waiting for it can beat) as the baseline; and the same engine starting
// each utterance only when its end is confirmed (without
// asr.EndpointConfig.Early, as server engines do), measured in the same
// run.
func BenchmarkEndOfSpeechToIntent(b *testing.B) {
	f, diags := demo.ParseFlow()
	if diags.HasErrors() {
		b.Fatal(diags)
	}
	cfg := asr.Config{Silence: 400 * time.Millisecond}
	rec, err := asr.New("pocketsphinx", cfg)
	if err != nil {
		b.Fatal(err)
	}
	e, err := sphinx.New(sphinx.Config{})
	if err != nil {
		b.Fatal(err)
	}
	late := asr.FromBatch(e, cfg, asr.EndpointConfig{})
	speech := testenv.ReadWAV(b, testenv.Speech(b, "en", "How do I get my money back", 300*time.Millisecond)).Channels[0]
	// As a PCMU call delivers it: through G.711 mu-law and back.
	enc := make([]byte, len(speech))
	media.PCMU.Encode(enc, speech)
	media.PCMU.Decode(speech, enc)
	// Once each first: a grammar's first decoders take a while to start.
	untilIntent(b, rec, f, speech)
	untilIntent(b, late, f, speech)
	var early, waited []time.Duration
	b.ResetTimer()
	for b.Loop() {
		// Enough utterances per round for a p95 from one round (make
		// bench's default -benchtime runs one).
		for range 10 {
			early = append(early, untilIntent(b, rec, f, speech))
			waited = append(waited, untilIntent(b, late, f, speech))
		}
	}
	b.StopTimer()
	p := func(lat []time.Duration, q float64) float64 {
		slices.Sort(lat)
		return float64(lat[min(len(lat)-1, int(q*float64(len(lat))))]) / float64(time.Millisecond)
	}
	b.ReportMetric(p(early, 0.50), "ms-p50")
	b.ReportMetric(p(early, 0.95), "ms-p95")
	b.ReportMetric(400, "ms-silence-floor")
	b.ReportMetric(p(early, 0.95)/400, "x-floor-p95")
	b.ReportMetric(p(waited, 0.95), "ms-p95-at-confirmed-end")
	b.ReportMetric(p(early, 0.95)/p(waited, 0.95), "x-early/confirmed-p95")
}

// untilIntent streams speech (8 kHz) to rec in real time, after half a
// second of silence and followed by silence, and returns the time from
// its last frame of speech (the last above -45 dBFS) to the intent.
func untilIntent(b *testing.B, rec asr.Recognizer, f *ivr.Flow, speech []int16) time.Duration {
	last := 0
	for i := 0; i+media.FrameSamples <= len(speech); i += media.FrameSamples {
		if media.DBFS(speech[i:i+media.FrameSamples]) > -45 {
			last = i + media.FrameSamples
		}
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	st, err := rec.Stream(ctx, asr.Options{Language: "en", Phrases: f.Phrases("en")})
	if err != nil {
		b.Fatal(err)
	}
	defer st.Close()
	type heard struct {
		r      asr.Result
		intent string
		at     time.Time
	}
	// The results are read as they come, while the audio goes on: the
	// clip's own trailing quiet is longer than some answers take.
	done := make(chan heard, 1)
	go func() {
		for r := range st.Results() {
			if r.Final {
				done <- heard{r, f.Classify(r.Text, "en").Intent, time.Now()}
				return
			}
		}
	}()
	silence := make([]int16, media.FrameSamples)
	tick := time.NewTicker(media.FrameDuration)
	defer tick.Stop()
	for range 25 {
		<-tick.C
		_ = st.Write(silence)
	}
	var end time.Time
	for i := 0; ; i += media.FrameSamples {
		<-tick.C
		select {
		case h := <-done:
			if h.intent != "refund" {
				b.Errorf("heard %q (%.3f, %v, %s-%s) as %q, want refund", h.r.Text, h.r.Confidence, h.r.Err, h.r.Start, h.r.End, h.intent)
			}
			return h.at.Sub(end)
		default:
		}
		frame := silence
		if i+media.FrameSamples <= len(speech) {
			frame = speech[i : i+media.FrameSamples]
		}
		_ = st.Write(frame)
		if i+media.FrameSamples == last {
			end = time.Now()
		}
		if i > len(speech)+10*media.Rate {
			b.Fatal("no result")
		}
	}
}
