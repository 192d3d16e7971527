package media

import (
	"math"
	"testing"
)

// sineDBFS returns n samples at rate of a sine at freq Hz whose level is
// level dBFS (AES17: 0 dBFS peaks at full scale).
func sineDBFS(n, rate int, freq, level float64) []int16 {
	amp := math.MaxInt16 * math.Pow(10, level/20)
	out := make([]int16, n)
	for i := range out {
		out[i] = int16(math.Round(amp * math.Sin(2*math.Pi*freq*float64(i)/float64(rate))))
	}
	return out
}

// toneDB is ToneLevel in dB: the level of the component at freq in dBFS,
// or -200 if there is none at all.
func toneDB(samples []int16, rate int, freq float64) float64 {
	l := ToneLevel(samples, rate, freq)
	if l <= 0 {
		return -200
	}
	return 10 * math.Log10(l)
}

func TestRMSAndDBFS(t *testing.T) {
	square := make([]int16, 160)
	for i := range square {
		square[i] = math.MaxInt16
		if i%8 < 4 {
			square[i] = -math.MaxInt16
		}
	}
	cases := []struct {
		name     string
		samples  []int16
		rms, dbs float64
	}{
		{"empty", nil, 0, SilenceDBFS},
		{"silence", make([]int16, 160), 0, SilenceDBFS},
		{"full-scale sine", sineDBFS(8000, 8000, 1000, 0), 23170, 0},
		{"sine at -20 dBFS", sineDBFS(8000, 8000, 440, -20), 2317, -20},
		{"sine at -60 dBFS", sineDBFS(8000, 8000, 1000, -60), 23.17, -60},
		{"full-scale square", square, 32767, 3.01},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if got := RMS(c.samples); math.Abs(got-c.rms) > 0.01*c.rms+0.5 {
				t.Errorf("RMS = %.2f, want %.2f", got, c.rms)
			}
			if got := DBFS(c.samples); math.Abs(got-c.dbs) > 0.1 {
				t.Errorf("DBFS = %.2f, want %.2f", got, c.dbs)
			}
		})
	}
	// The floor holds for the faintest sound there is.
	lsb := make([]int16, 8000)
	lsb[0] = 1
	if got := DBFS(lsb); got != SilenceDBFS {
		t.Errorf("DBFS of one LSB in a second = %.1f, want the floor %v", got, SilenceDBFS)
	}
}

func TestToneLevel(t *testing.T) {
	cases := []struct {
		name     string
		samples  []int16
		rate     int
		freq     float64 // measured
		min, max float64 // dB
	}{
		{"full scale, one frame", sineDBFS(FrameSamples, 8000, 1000, 0), 8000, 1000, -0.1, 0.1},
		{"-20 dBFS, one frame", sineDBFS(FrameSamples, 8000, 1000, -20), 8000, 1000, -20.1, -19.9},
		{"-20 dBFS, 697 Hz, one frame", sineDBFS(FrameSamples, 8000, 697, -20), 8000, 697, -20.1, -19.9},
		{"-20 dBFS at 16 kHz", sineDBFS(320, 16000, 5000, -20), 16000, 5000, -20.1, -19.9},
		{"2 kHz looked for at 1 kHz", sineDBFS(FrameSamples, 8000, 2000, 0), 8000, 1000, -200, -60},
		{"1.2 kHz looked for at 1 kHz", sineDBFS(FrameSamples, 8000, 1200, 0), 8000, 1000, -200, -40},
		{"480 Hz looked for at 440 Hz over 1 s", sineDBFS(8000, 8000, 480, 0), 8000, 440, -200, -60},
		{"silence", make([]int16, FrameSamples), 8000, 1000, -200, -200},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if got := toneDB(c.samples, c.rate, c.freq); got < c.min || got > c.max {
				t.Errorf("level at %g Hz = %.2f dB, want %.1f to %.1f", c.freq, got, c.min, c.max)
			}
		})
	}
	if got := ToneLevel(nil, 8000, 1000); got != 0 {
		t.Errorf("ToneLevel(nil) = %v", got)
	}
}

func TestLevelAllocatesNothing(t *testing.T) {
	frame := sineDBFS(FrameSamples, Rate, 1000, -10)
	if n := testing.AllocsPerRun(100, func() {
		_ = RMS(frame)
		_ = DBFS(frame)
		_ = ToneLevel(frame, Rate, 1000)
	}); n != 0 {
		t.Errorf("%.1f allocations per measurement, want 0", n)
	}
}

func BenchmarkToneLevel(b *testing.B) {
	b.ReportAllocs()
	frame := sineDBFS(FrameSamples, Rate, 1000, -10)
	for b.Loop() {
		_ = ToneLevel(frame, Rate, 1000)
	}
}
