package media

import (
	"math"
	"slices"
	"testing"
)

// constFrame is a frame holding v throughout.
func constFrame(v int16) []int16 {
	f := make([]int16, FrameSamples)
	for i := range f {
		f[i] = v
	}
	return f
}

func TestMixSaturates(t *testing.T) {
	cases := []struct {
		name string
		srcs [][]int16
		want int16
	}{
		{"nothing is silence", nil, 0},
		{"one source copies", [][]int16{constFrame(1234)}, 1234},
		{"sum", [][]int16{constFrame(1000), constFrame(-300), constFrame(20)}, 720},
		{"clips at the top", [][]int16{constFrame(30000), constFrame(30000)}, math.MaxInt16},
		{"clips at the bottom", [][]int16{constFrame(-30000), constFrame(-30000)}, math.MinInt16},
		{"clips only the sum", [][]int16{constFrame(math.MaxInt16), constFrame(math.MaxInt16), constFrame(math.MinInt16)}, math.MaxInt16 - 1},
		{"extremes cancel", [][]int16{constFrame(math.MinInt16), constFrame(math.MaxInt16)}, -1},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			dst := constFrame(999) // overwritten, not added to
			Mix(dst, c.srcs...)
			for i, v := range dst {
				if v != c.want {
					t.Fatalf("sample %d = %d, want %d", i, v, c.want)
				}
			}
		})
	}
}

func TestMixShortSourceAndInPlace(t *testing.T) {
	dst := constFrame(100)
	Mix(dst, dst, constFrame(50)[:10])
	for i, v := range dst {
		want := int16(100)
		if i < 10 {
			want = 150
		}
		if v != want {
			t.Fatalf("sample %d = %d, want %d", i, v, want)
		}
	}
}

// Two loud talkers at once clip; they must not wrap around into the
// opposite sign, which sounds like a burst of noise.
func TestMixLoudTonesClipWithoutWrapping(t *testing.T) {
	a := sineDBFS(8000, Rate, 440, -1)
	b := sineDBFS(8000, Rate, 440, -1)
	dst := make([]int16, len(a))
	Mix(dst, a, b)
	for i := range dst {
		sum := int(a[i]) + int(b[i])
		if sum > 0 && dst[i] < 0 || sum < 0 && dst[i] > 0 {
			t.Fatalf("sample %d: %d + %d mixed to %d", i, a[i], b[i], dst[i])
		}
	}
	if got := DBFS(dst); got < 1 {
		t.Errorf("two tones at -1 dBFS mix to %.1f dBFS, want loud and clipped (> +1)", got)
	}
}

func TestMixMinusThreeParticipants(t *testing.T) {
	// Each participant speaks a tone of their own; each hears the other
	// two and not themself.
	freqs := []float64{500, 1000, 1500}
	var ins, outs [][]int16
	for _, f := range freqs {
		ins = append(ins, sineDBFS(8000, Rate, f, -12))
		outs = append(outs, make([]int16, 8000))
	}
	MixMinus(outs, ins)
	for i, out := range outs {
		for j, f := range freqs {
			got := toneDB(out, Rate, f)
			if i == j && got > -80 {
				t.Errorf("participant %d hears their own voice at %.1f dBFS", i, got)
			}
			if i != j && math.Abs(got+12) > 0.2 {
				t.Errorf("participant %d hears participant %d at %.1f dBFS, want -12", i, j, got)
			}
		}
	}

	// Sample by sample: sums, saturation, an extra source heard by all and
	// a listener who does not speak.
	a, b, c := constFrame(1000), constFrame(-250), constFrame(30000)
	prompt := constFrame(7)
	outs = [][]int16{make([]int16, FrameSamples), make([]int16, FrameSamples), make([]int16, FrameSamples), make([]int16, FrameSamples)}
	MixMinus(outs[:3], [][]int16{a, b, c, prompt})
	MixMinus(outs[3:], nil)
	want := []int16{-250 + 30000 + 7, 1000 + 30000 + 7, 1000 - 250 + 7, 0}
	for i, out := range outs {
		if out[0] != want[i] || out[FrameSamples-1] != want[i] {
			t.Errorf("out %d = %d, want %d", i, out[0], want[i])
		}
	}
	// Saturation: participants 0 and 1 hear ±20000 from each other and
	// ∓20000 from participant 2, who hears ±40000, clipped.
	for _, c := range []struct {
		v            int16
		want0, want2 int16
	}{{20000, 0, math.MaxInt16}, {-20000, 0, math.MinInt16}} {
		ins := [][]int16{constFrame(c.v), constFrame(c.v), constFrame(-c.v)}
		outs := [][]int16{make([]int16, FrameSamples), make([]int16, FrameSamples), make([]int16, FrameSamples)}
		MixMinus(outs, ins)
		if outs[0][5] != c.want0 || outs[1][5] != c.want0 || outs[2][5] != c.want2 {
			t.Errorf("talkers at %d, %d, %d hear %d, %d, %d; want %d, %d, %d",
				c.v, c.v, -c.v, outs[0][5], outs[1][5], outs[2][5], c.want0, c.want0, c.want2)
		}
	}

	// In place: each participant's frame replaced by what they hear.
	ins = [][]int16{constFrame(1), constFrame(2), constFrame(4)}
	MixMinus(ins, ins)
	for i, want := range []int16{6, 5, 3} {
		if !slices.Equal(ins[i], constFrame(want)) {
			t.Errorf("in place, out %d = %d, want %d", i, ins[i][0], want)
		}
	}
}

func TestMixAllocatesNothing(t *testing.T) {
	a, b, c := constFrame(1), constFrame(2), constFrame(3)
	dst := make([]int16, FrameSamples)
	ins := [][]int16{a, b, c}
	outs := [][]int16{make([]int16, FrameSamples), make([]int16, FrameSamples), make([]int16, FrameSamples)}
	if n := testing.AllocsPerRun(100, func() {
		Mix(dst, a, b, c)
		MixMinus(outs, ins)
	}); n != 0 {
		t.Errorf("%.1f allocations per mix, want 0", n)
	}
}

func BenchmarkMix3(b *testing.B) {
	b.ReportAllocs()
	x, y, z := sineDBFS(FrameSamples, Rate, 500, -10), sineDBFS(FrameSamples, Rate, 700, -10), sineDBFS(FrameSamples, Rate, 900, -10)
	dst := make([]int16, FrameSamples)
	for b.Loop() {
		Mix(dst, x, y, z)
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N), "ns/frame")
}

func BenchmarkMixMinus5(b *testing.B) {
	b.ReportAllocs()
	var ins, outs [][]int16
	for i := range 5 {
		ins = append(ins, sineDBFS(FrameSamples, Rate, 300+200*float64(i), -10))
		outs = append(outs, make([]int16, FrameSamples))
	}
	for b.Loop() {
		MixMinus(outs, ins)
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N), "ns/frame")
}
