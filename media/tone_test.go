package media

import (
	"math"
	"testing"
	"time"
)

// readFrames reads n frames from s, concatenated, and how many reported true.
func readFrames(s Source, n int) ([]int16, int) {
	out := make([]int16, n*FrameSamples)
	ok := 0
	for i := range n {
		if s.ReadFrame(out[i*FrameSamples : (i+1)*FrameSamples]) {
			ok++
		}
	}
	return out, ok
}

func TestRingbackCadence(t *testing.T) {
	cases := []struct {
		region  string
		freqs   []float64
		level   float64 // dBFS of each frequency
		on, off time.Duration
	}{
		{"us", []float64{440, 480}, -22.17, 2 * time.Second, 4 * time.Second},
		{"US", []float64{440, 480}, -22.17, 2 * time.Second, 4 * time.Second},
		{"id", []float64{425}, -13.17, time.Second, 4 * time.Second},
		{"", []float64{425}, -13.17, time.Second, 4 * time.Second},
		{"fr", []float64{425}, -13.17, time.Second, 4 * time.Second},
	}
	for _, c := range cases {
		t.Run(c.region, func(t *testing.T) {
			period := c.on + c.off
			frames := int(2 * period / FrameDuration) // two cycles
			pcm, ok := readFrames(Ringback(c.region), frames)
			if ok != frames {
				t.Fatalf("ringback ended after %d frames", ok)
			}
			onFrames := int(c.on / FrameDuration)
			perFrames := int(period / FrameDuration)
			// Every frame on or off at the right time.
			for k := range frames {
				frame := pcm[k*FrameSamples : (k+1)*FrameSamples]
				level := DBFS(frame)
				if k%perFrames < onFrames {
					// Inside the on time; the first and last frames fade.
					edge := k%perFrames == 0 || k%perFrames == onFrames-1
					want := c.level + 10*math.Log10(float64(len(c.freqs)))
					if !edge && math.Abs(level-want) > 1 || edge && level < want-6 {
						t.Fatalf("frame %d (%v in): %.1f dBFS, want %.1f", k, time.Duration(k)*FrameDuration, level, want)
					}
				} else if level != SilenceDBFS {
					t.Fatalf("frame %d (%v in), in the off time: %.1f dBFS, want silence", k, time.Duration(k)*FrameDuration, level)
				}
			}
			// Each frequency at its level over each on time, and nothing
			// between or beside them.
			for cycle := range 2 {
				start := cycle * perFrames * FrameSamples
				on := pcm[start : start+onFrames*FrameSamples]
				for _, f := range c.freqs {
					if got := toneDB(on, Rate, f); math.Abs(got-c.level) > 0.5 {
						t.Errorf("cycle %d: %g Hz at %.1f dBFS, want %.1f", cycle, f, got, c.level)
					}
				}
				for _, f := range []float64{350, 460, 620, 1000} {
					if got := toneDB(on, Rate, f); got > c.level-40 {
						t.Errorf("cycle %d: %g Hz at %.1f dBFS, want nothing", cycle, f, got)
					}
				}
			}
		})
	}
}

func TestBeepEndsAfterTenFrames(t *testing.T) {
	b := Beep()
	pcm, ok := readFrames(b, 10)
	if ok != 10 {
		t.Fatalf("beep lasted %d frames, want 10", ok)
	}
	if got := toneDB(pcm, Rate, 1000); math.Abs(got-(-13.17)) > 0.5 {
		t.Errorf("beep at %.1f dBFS, want -13.2", got)
	}
	if got := toneDB(pcm, Rate, 1500); got > -60 {
		t.Errorf("beep has 1500 Hz at %.1f dBFS", got)
	}
	// It fades out at its end instead of stopping with a click.
	last := pcm[len(pcm)-8:]
	for _, s := range last {
		if math.Abs(float64(s)) > 2000 {
			t.Errorf("beep ends at %v, not faded out", last)
			break
		}
	}
	for range 3 {
		frame := constFrame(77)
		if b.ReadFrame(frame) {
			t.Fatal("beep still playing after 10 frames")
		}
		if DBFS(frame) != SilenceDBFS {
			t.Fatal("ended beep did not leave the frame silent")
		}
	}
}

func TestToneEndsInsideAFrame(t *testing.T) {
	tone := NewTone(ToneSpec{Freqs: []float64{600}, Level: -6, Duration: 30 * time.Millisecond})
	pcm, ok := readFrames(tone, 3)
	if ok != 2 {
		t.Fatalf("a 30 ms tone reported %d frames, want 2", ok)
	}
	if got := DBFS(pcm[FrameSamples : FrameSamples+60]); math.Abs(got+6) > 1 {
		t.Errorf("first half of the second frame at %.1f dBFS, want -6", got)
	}
	if got := DBFS(pcm[FrameSamples+FrameSamples/2 : 2*FrameSamples]); got != SilenceDBFS {
		t.Errorf("second half of the second frame at %.1f dBFS, want silence", got)
	}
}

// The waveform never jumps: no step between two samples, frame boundaries
// and on/off edges included, is larger than the steepest step of the
// continuous tone itself. A generator that restarted its phase each frame,
// or switched on at full amplitude, would step by up to the amplitude.
func TestTonePhaseContinuity(t *testing.T) {
	cases := []struct {
		name  string
		spec  ToneSpec
		chunk int // samples per read, to cut the stream at odd places too
	}{
		{"1 kHz, frames", ToneSpec{Freqs: []float64{1000}, Level: 0}, FrameSamples},
		{"1 kHz, odd chunks", ToneSpec{Freqs: []float64{1000}, Level: 0}, 37},
		{"440+480, odd chunks", ToneSpec{Freqs: []float64{440, 480}, Level: -6}, 53},
		{"697 Hz, cadence 90/30 ms", ToneSpec{Freqs: []float64{697}, Level: -3, Cadence: []time.Duration{90 * time.Millisecond, 30 * time.Millisecond}}, FrameSamples},
		{"US ringback cadence", ToneSpec{Freqs: []float64{440, 480}, Level: -22.17, Cadence: []time.Duration{2 * time.Second, 4 * time.Second}}, FrameSamples},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			tone := NewTone(c.spec)
			amp := math.MaxInt16 * math.Pow(10, c.spec.Level/20)
			var bound float64 // steepest step of the continuous sum of sines
			for _, f := range c.spec.Freqs {
				bound += amp * 2 * math.Sin(math.Pi*f/Rate)
			}
			bound += 2 // rounding
			pcm := make([]int16, 3*Rate)
			for i := 0; i < len(pcm); i += c.chunk {
				tone.ReadFrame(pcm[i:min(i+c.chunk, len(pcm))])
			}
			var worst float64
			for i := 1; i < len(pcm); i++ {
				worst = max(worst, math.Abs(float64(pcm[i])-float64(pcm[i-1])))
			}
			if worst > bound {
				t.Errorf("largest step %.0f, continuous tone steps at most %.0f", worst, bound)
			}
			if worst < bound/2 {
				t.Errorf("largest step %.0f: is the tone playing at all? (bound %.0f)", worst, bound)
			}
		})
	}
}

func TestToneLeavesOutFrequenciesAboveNyquist(t *testing.T) {
	tone := NewTone(ToneSpec{Freqs: []float64{440, 5000, -3}, Level: -10})
	pcm, _ := readFrames(tone, 50)
	if got := DBFS(pcm); math.Abs(got+10) > 0.5 {
		t.Errorf("tone at %.1f dBFS, want only 440 Hz at -10", got)
	}
}

func TestToneAllocatesNothing(t *testing.T) {
	tone := Ringback("us")
	frame := make([]int16, FrameSamples)
	if n := testing.AllocsPerRun(100, func() { tone.ReadFrame(frame) }); n != 0 {
		t.Errorf("%.1f allocations per frame, want 0", n)
	}
}

func BenchmarkRingbackFrame(b *testing.B) {
	b.ReportAllocs()
	tone := Ringback("us")
	frame := make([]int16, FrameSamples)
	for b.Loop() {
		tone.ReadFrame(frame)
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N), "ns/frame")
}
