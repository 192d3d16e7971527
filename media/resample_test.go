package media

import (
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
)

// resampleFrames runs src through r in 20 ms chunks and returns the output.
func resampleFrames(t testing.TB, r *Resampler, src []int16) []int16 {
	t.Helper()
	chunk := r.From() / 50
	var out []int16
	dst := make([]int16, r.To()/50)
	for i := 0; i < len(src); i += chunk {
		in := src[i:min(i+chunk, len(src))]
		want := r.OutLen(len(in))
		n := r.Process(dst, in)
		if n != want {
			t.Fatalf("Process wrote %d samples, OutLen said %d", n, want)
		}
		out = append(out, dst[:n]...)
	}
	return out
}

// settled drops the first and last 100 ms of pcm at rate: the filter's
// start-up and the tail of the test signal.
func settled(pcm []int16, rate int) []int16 {
	return pcm[rate/10 : len(pcm)-rate/10]
}

// assertPureTone checks that pcm at rate holds a tone at freq of level dBFS
// (within tol dB), and nothing else: no more than -floor dB of its level
// anywhere else in the spectrum below 4 kHz.
func assertPureTone(t *testing.T, pcm []int16, rate int, freq, level, tol, floor float64) {
	t.Helper()
	if got := toneDB(pcm, rate, freq); math.Abs(got-level) > tol {
		t.Errorf("%g Hz at %.2f dBFS, want %.2f ± %.1f", freq, got, level, tol)
	}
	if got := DBFS(pcm); math.Abs(got-level) > tol {
		t.Errorf("overall level %.2f dBFS, want %.2f ± %.1f", got, level, tol)
	}
	for f := 100.0; f < 4000; f += 100 {
		if math.Abs(f-freq) < 200 {
			continue
		}
		if got := toneDB(pcm, rate, f); got > level-floor {
			t.Errorf("%g Hz at %.1f dBFS, beside a tone at %g Hz at %.1f", f, got, freq, level)
		}
	}
}

func TestResamplerRoundTrip(t *testing.T) {
	for _, mid := range []int{16000, 48000} {
		t.Run(fmt.Sprintf("8000-%d-8000", mid), func(t *testing.T) {
			in := sineDBFS(Rate, Rate, 1000, -6)
			up, err := NewResampler(Rate, mid)
			if err != nil {
				t.Fatal(err)
			}
			down, err := NewResampler(mid, Rate)
			if err != nil {
				t.Fatal(err)
			}
			high := resampleFrames(t, up, in)
			if len(high) != len(in)*mid/Rate {
				t.Fatalf("up: %d samples, want %d", len(high), len(in)*mid/Rate)
			}
			assertPureTone(t, settled(high, mid), mid, 1000, -6, 0.1, 60)
			// Images of the tone around the 8 kHz rate and its multiples.
			for _, f := range []float64{7000, 9000, 15000, 17000} {
				if f < float64(mid)/2 {
					if got := toneDB(settled(high, mid), mid, f); got > -6-55 {
						t.Errorf("image at %g Hz at %.1f dBFS", f, got)
					}
				}
			}
			back := resampleFrames(t, down, high)
			if len(back) != len(in) {
				t.Fatalf("back: %d samples, want %d", len(back), len(in))
			}
			assertPureTone(t, settled(back, Rate), Rate, 1000, -6, 1, 60)
			// The two passes delay the audio by their filters, no more:
			// noise, whose correlation peaks only where it lines up.
			up.Reset()
			down.Reset()
			noise := make([]int16, Rate/2)
			rng := rand.New(rand.NewPCG(1, 2))
			for i := range noise {
				noise[i] = int16(rng.IntN(16000) - 8000)
			}
			delayed := resampleFrames(t, down, resampleFrames(t, up, noise))
			want := int(math.Round((up.Delay() + down.Delay()).Seconds() * Rate))
			if d := lagSamples(noise, delayed, 100); d != want {
				t.Errorf("round trip lags %d samples, Delay says %d", d, want)
			}
		})
	}
}

// lagSamples finds by how many samples b lags a, up to max, by
// cross-correlation.
func lagSamples(a, b []int16, max int) int {
	best, lag := math.Inf(-1), -1
	for d := 0; d <= max; d++ {
		var sum float64
		for i := max; i < len(a)-max; i++ {
			sum += float64(a[i]) * float64(b[i+d])
		}
		if sum > best {
			best, lag = sum, d
		}
	}
	return lag
}

// Processing a stream in chunks of any size gives what processing it in one
// piece gives: the filter state carries across calls, so frame boundaries
// leave no trace.
func TestResamplerChunksAreSeamless(t *testing.T) {
	for _, pr := range [][2]int{{8000, 16000}, {16000, 8000}, {8000, 48000}, {48000, 8000}, {16000, 48000}, {48000, 16000}} {
		from, to := pr[0], pr[1]
		t.Run(fmt.Sprintf("%d-%d", from, to), func(t *testing.T) {
			in := sineDBFS(from/2, from, 1000, -3)
			whole, _ := NewResampler(from, to)
			want := make([]int16, whole.OutLen(len(in)))
			want = want[:whole.Process(want, in)]

			// Frames, then chunks of awkward sizes.
			r, _ := NewResampler(from, to)
			got := resampleFrames(t, r, in)
			r.Reset()
			var odd []int16
			dst := make([]int16, 4096)
			for i, k := 0, 0; i < len(in); k++ {
				n := []int{1, 7, 13, 160, 333, 2, 961}[k%7]
				chunk := in[i:min(i+n, len(in))]
				i += len(chunk)
				odd = append(odd, dst[:r.Process(dst, chunk)]...)
			}
			for name, g := range map[string][]int16{"20 ms frames": got, "odd chunks": odd} {
				if len(g) != len(want) {
					t.Fatalf("%s: %d samples, whole buffer %d", name, len(g), len(want))
				}
				var worst float64
				for i := range g {
					worst = max(worst, math.Abs(float64(g[i])-float64(want[i])))
				}
				if worst > 1 {
					t.Errorf("%s differ from the whole buffer by up to %.0f", name, worst)
				}
			}
			// And the chunked output is a clean tone: a glitch at each
			// frame boundary would spread energy across the spectrum.
			assertPureTone(t, settled(got, to), to, 1000, -3, 0.1, 60)
		})
	}
}

// A destination too short for a chunk's output loses nothing: the rest
// comes out first on the next call.
func TestResamplerShortDestination(t *testing.T) {
	in := sineDBFS(4800, 48000, 700, -6)
	full, _ := NewResampler(48000, 16000)
	want := make([]int16, 1600)
	want = want[:full.Process(want, in)]

	r, _ := NewResampler(48000, 16000)
	var got []int16
	dst := make([]int16, 100)
	for i := 0; i < len(in); i += 960 {
		got = append(got, dst[:r.Process(dst, in[i:i+960])]...)
	}
	for len(got) < len(want) {
		n := r.Process(dst, nil)
		if n == 0 {
			break
		}
		got = append(got, dst[:n]...)
	}
	if len(got) != len(want) {
		t.Fatalf("%d samples through a short destination, want %d", len(got), len(want))
	}
	for i := range got {
		if math.Abs(float64(got[i])-float64(want[i])) > 1 {
			t.Fatalf("sample %d = %d, want %d", i, got[i], want[i])
		}
	}
}

func TestResamplerFilters(t *testing.T) {
	cases := []struct {
		from, to int
		freq     float64
		pass     bool // passes at its level, or is removed (40 dB down at least)
	}{
		// A tone above the output's Nyquist frequency would fold back:
		// 6 kHz at 48 kHz into 8 kHz would come out at 2 kHz.
		{48000, 8000, 6000, false},
		{48000, 8000, 4500, false},
		{16000, 8000, 6000, false},
		{16000, 8000, 4500, false},
		{48000, 16000, 12000, false},
		{48000, 16000, 9000, false},
		// The telephone band passes.
		{16000, 8000, 3000, true},
		{16000, 8000, 300, true},
		{48000, 8000, 3000, true},
		{48000, 8000, 3400, true},
		{48000, 16000, 6000, true},
	}
	for _, c := range cases {
		t.Run(fmt.Sprintf("%g Hz %d-%d", c.freq, c.from, c.to), func(t *testing.T) {
			in := sineDBFS(c.from/2, c.from, c.freq, -3)
			r, err := NewResampler(c.from, c.to)
			if err != nil {
				t.Fatal(err)
			}
			out := settled(resampleFrames(t, r, in), c.to)
			got := DBFS(out)
			if c.pass {
				if math.Abs(got+3) > 0.5 {
					t.Errorf("passed at %.2f dBFS, want -3 ± 0.5", got)
				}
				if l := toneDB(out, c.to, c.freq); math.Abs(l+3) > 0.5 {
					t.Errorf("%g Hz at %.2f dBFS, want -3", c.freq, l)
				}
			} else if got > -3-40 {
				alias := math.Abs(c.freq - float64(c.to))
				t.Errorf("output at %.1f dBFS, want at least 40 dB below the input's -3 (alias at %g Hz: %.1f dBFS)",
					got, alias, toneDB(out, c.to, alias))
			}
		})
	}
}

func TestResamplerUnsupportedRates(t *testing.T) {
	for _, pr := range [][2]int{{44100, 8000}, {8000, 11025}, {0, 8000}, {8000, -16000}, {22050, 44100}} {
		r, err := NewResampler(pr[0], pr[1])
		if err == nil || r != nil {
			t.Errorf("NewResampler(%d, %d) = %v, %v; want an error", pr[0], pr[1], r, err)
			continue
		}
		bad := pr[0]
		if supportedResampleRate(bad) {
			bad = pr[1]
		}
		if !strings.Contains(err.Error(), fmt.Sprintf("unsupported rate %d Hz", bad)) {
			t.Errorf("NewResampler(%d, %d): %v; want it to name %d Hz", pr[0], pr[1], err, bad)
		}
	}
	// Equal rates copy, without delay, and a short destination loses
	// nothing there either.
	r, err := NewResampler(16000, 16000)
	if err != nil {
		t.Fatal(err)
	}
	in := sineDBFS(320, 16000, 1000, -6)
	out := make([]int16, 400)
	n := r.Process(out[:300], in)
	n += r.Process(out[n:], nil)
	if n != 320 || !slices.Equal(out[:n], in) || r.Delay() != 0 {
		t.Errorf("16000-16000 wrote %d samples, delay %v: not a copy", n, r.Delay())
	}
}

func TestResamplerAllocatesNothing(t *testing.T) {
	for _, pr := range [][2]int{{8000, 16000}, {16000, 8000}, {8000, 48000}, {48000, 8000}, {16000, 48000}, {48000, 16000}} {
		r, _ := NewResampler(pr[0], pr[1])
		in := sineDBFS(pr[0]/50, pr[0], 1000, -6)
		out := make([]int16, pr[1]/50)
		if n := testing.AllocsPerRun(100, func() { r.Process(out, in) }); n != 0 {
			t.Errorf("%d-%d: %.1f allocations per 20 ms frame, want 0", pr[0], pr[1], n)
		}
	}
}

func TestResampleAll(t *testing.T) {
	cases := []struct {
		from, to int
	}{
		{8000, 8000}, {11025, 8000}, {16000, 8000}, {22050, 8000}, {32000, 8000},
		{44100, 8000}, {48000, 8000}, {96000, 8000}, {8000, 16000}, {8000, 44100}, {7999, 8000},
	}
	for _, c := range cases {
		t.Run(fmt.Sprintf("%d-%d", c.from, c.to), func(t *testing.T) {
			n := c.from / 2 // 500 ms
			out := ResampleAll(sineDBFS(n, c.from, 1000, -6), c.from, c.to)
			if want := (n*c.to + c.from - 1) / c.from; len(out) != want {
				t.Fatalf("%d samples, want %d", len(out), want)
			}
			assertPureTone(t, settled(out, c.to), c.to, 1000, -6, 0.1, 60)
			// No filter delay: the output is the input, in time.
			ref := sineDBFS(len(out), c.to, 1000, -6)
			var worst float64
			for i, v := range settled(out, c.to) {
				worst = max(worst, math.Abs(float64(v)-float64(ref[i+c.to/10])))
			}
			if worst > 0.01*16423 { // 1% of the amplitude at -6 dBFS
				t.Errorf("output strays from the input, in time, by up to %.0f", worst)
			}
		})
	}
	// Above the output's Nyquist frequency, nothing comes through.
	for _, from := range []int{44100, 22050, 48000} {
		out := ResampleAll(sineDBFS(from/2, from, 6000, -3), from, 8000)
		if got := DBFS(settled(out, 8000)); got > -3-40 {
			t.Errorf("6 kHz at %d Hz to 8000 Hz: %.1f dBFS, want at least 40 dB below -3", from, got)
		}
	}
	if out := ResampleAll(nil, 44100, 8000); len(out) != 0 {
		t.Errorf("ResampleAll(nil) = %d samples", len(out))
	}
	if out := ResampleAll(make([]int16, 10), 0, 8000); len(out) != 0 {
		t.Errorf("ResampleAll from 0 Hz = %d samples", len(out))
	}
}

func BenchmarkResampler(b *testing.B) {
	for _, pr := range [][2]int{{8000, 16000}, {16000, 8000}, {8000, 48000}, {48000, 8000}} {
		b.Run(fmt.Sprintf("%dto%d", pr[0], pr[1]), func(b *testing.B) {
			b.ReportAllocs()
			r, _ := NewResampler(pr[0], pr[1])
			in := sineDBFS(pr[0]/50, pr[0], 1000, -6)
			out := make([]int16, pr[1]/50)
			for b.Loop() {
				r.Process(out, in)
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N), "ns/frame")
		})
	}
}

// BenchmarkResampleAll44100 converts a 10 s prompt recorded at 44.1 kHz.
func BenchmarkResampleAll44100(b *testing.B) {
	b.ReportAllocs()
	in := sineDBFS(10*44100, 44100, 1000, -6)
	for b.Loop() {
		ResampleAll(in, 44100, 8000)
	}
	b.ReportMetric(float64(b.Elapsed().Milliseconds())/float64(b.N)/10, "ms/prompt-second")
}
