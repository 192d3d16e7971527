package media

// Sample-rate conversion by windowed-sinc FIR filters.
//
// Both converters here use the same low-pass kernel: a sinc whose cut-off is
// resampleCutoff times the Nyquist frequency of the lower of the two rates,
// shaped by a Kaiser window (β = resampleBeta) that spans resampleZeros
// periods of the lower rate on each side of the centre. Kaiser's design
// formula gives, for 2×16 periods and β = 6, a stop band about 63 dB down and
// a transition band 0.13 of the lower rate wide, centred on the cut-off:
// converting to or from 8 kHz, the response is flat to within 0.3 dB up to
// 3.4 kHz (the top of the telephone band, ITU-T G.712) and at least 60 dB down
// from 4.3 kHz. A tone above that (6 kHz recorded at 48 kHz, say) is removed,
// not folded back as a 2 kHz whistle; what does fold (4.0 to 4.3 kHz) lands
// above the telephone band. Converting to or from 16 kHz, the figures double.
//
// Resampler streams between the engine's rates with ratios of small integers
// (2, 3, 6): an exact polyphase filter, coefficients computed once, a
// history of one filter length carried between calls so frame boundaries are
// seamless, and nothing allocated per call. Its kernel is causal, so its
// output lags the input by half the filter: resampleZeros periods of the
// lower rate, 2 ms whenever 8 kHz is one side (see Delay).
//
// ResampleAll converts whole buffers between any two rates (a WAV prompt at
// 44.1 or 22.05 kHz): it evaluates the kernel at each output sample's exact
// position from a finely sampled table (linear interpolation between table
// points), centred, so its output does not lag.

import (
	"fmt"
	"math"
	"time"
)

const (
	resampleZeros  = 16   // kernel half-width, in periods of the lower rate
	resampleCutoff = 0.94 // cut-off, as a fraction of the lower rate's Nyquist frequency
	resampleBeta   = 6.0  // Kaiser window shape: about 63 dB stop band
)

// resampleRates are the rates a streaming Resampler converts between.
var resampleRates = [...]int{8000, 16000, 48000}

// Resampler converts a stream of 16-bit mono PCM from one of the rates 8000,
// 16000 and 48000 Hz to another, one chunk at a time. It keeps the filter's
// history between calls to Process, so a stream cut into 20 ms frames comes
// out as if it had been converted in one piece. A Resampler belongs to one
// stream and is not safe for concurrent use.
type Resampler struct {
	from, to int
	up, down int       // to/from = up/down in lowest terms
	taps     int       // filter taps per output sample (per phase)
	length   int       // filter length, in samples at up*from
	coef     []float32 // up phases of taps coefficients, each reversed so it runs forward over the history
	hist     []float32 // taps-1 past input samples, then input not yet consumed
	phase    int       // phase of the next output sample, 0 <= phase < up
}

// NewResampler returns a Resampler from rate from to rate to, each one of
// 8000, 16000 and 48000 Hz. Equal rates give a Resampler that copies (a
// filter of one tap), so callers need no special case.
func NewResampler(from, to int) (*Resampler, error) {
	for _, r := range [2]int{from, to} {
		if !supportedResampleRate(r) {
			return nil, fmt.Errorf("resample %d Hz to %d Hz: unsupported rate %d Hz (streaming supports 8000, 16000 and 48000 Hz; use ResampleAll for whole buffers)", from, to, r)
		}
	}
	g := gcd(from, to)
	r := &Resampler{from: from, to: to, up: to / g, down: from / g}
	if from == to {
		r.taps, r.length, r.coef = 1, 1, []float32{1}
		r.hist = make([]float32, 0, from/50)
		return r, nil
	}
	// The kernel runs at the up-sampled rate up*from and spans
	// resampleZeros periods of the lower rate each side of its centre.
	high := r.up * from
	step := float64(min(from, to)) / float64(high) // one high-rate sample, in lower-rate periods
	n := 2*resampleZeros*high/min(from, to) + 1
	r.taps = (n + r.up - 1) / r.up
	r.length = n
	centre := float64(n-1) / 2
	r.coef = make([]float32, r.up*r.taps)
	h := make([]float64, r.up*r.taps)
	for i := range n {
		h[i] = resampleKernel((float64(i) - centre) * step)
	}
	// Output sample k of a phase p is sum_j x[q-j] * h[p+j*up]. Each phase
	// is scaled to a gain of exactly 1 at DC, so a constant input comes out
	// constant whatever the phase (no ripple at the up-sampling rate).
	for p := range r.up {
		var sum float64
		for j := range r.taps {
			sum += h[p+j*r.up]
		}
		for j := range r.taps {
			r.coef[p*r.taps+r.taps-1-j] = float32(h[p+j*r.up] / sum)
		}
	}
	// Room for the history and a 20 ms chunk at the input rate; larger
	// chunks grow it once.
	r.hist = make([]float32, r.taps-1, r.taps-1+from/50)
	return r, nil
}

func supportedResampleRate(rate int) bool {
	for _, r := range resampleRates {
		if r == rate {
			return true
		}
	}
	return false
}

// From returns the input rate in Hz.
func (r *Resampler) From() int { return r.from }

// To returns the output rate in Hz.
func (r *Resampler) To() int { return r.to }

// Delay returns how far the output lags the input: half the filter's length.
func (r *Resampler) Delay() time.Duration {
	// The kernel is symmetric about its centre, (length-1)/2 samples in.
	return time.Duration(r.length-1) * time.Second / time.Duration(2*r.up*r.from)
}

// OutLen returns how many samples the next call to Process will write for
// n input samples, given room for them.
func (r *Resampler) OutLen(n int) int {
	// Outputs are produced while their input position q (in the history)
	// stays below the end of the input; q starts at taps-1 with r.phase.
	avail := len(r.hist) - (r.taps - 1) + n // input samples not yet consumed
	// Output k lies at input index (phase + k*down) / up; count k with
	// that index < avail.
	if avail <= 0 {
		return 0
	}
	return (avail*r.up - r.phase + r.down - 1) / r.down
}

// Reset forgets the stream so far, as if the Resampler were new.
func (r *Resampler) Reset() {
	r.hist = r.hist[:r.taps-1]
	clear(r.hist)
	r.phase = 0
}

// Process converts the chunk src, which continues the stream of earlier
// calls, into dst and returns the number of samples written. For src of n
// samples that is about n*to/from (exactly, for 20 ms frames); OutLen tells
// the figure in advance. If dst is shorter, the rest is not lost: it comes
// out first on the next call. The Resampler's buffer starts with room for
// 20 ms of input and grows, once, to the most it has had to hold; after that
// Process allocates nothing.
func (r *Resampler) Process(dst, src []int16) int {
	for _, s := range src {
		r.hist = append(r.hist, float32(s))
	}
	k := r.taps
	q := k - 1 // index in hist of the newest input sample the next output uses
	w := 0
	for w < len(dst) && q < len(r.hist) {
		xs := r.hist[q-k+1 : q+1]
		cs := r.coef[r.phase*k : r.phase*k+k]
		cs = cs[:len(xs)]
		// Four partial sums break the chain of dependent additions.
		var a0, a1, a2, a3 float32
		i := 0
		for ; i+4 <= len(xs); i += 4 {
			a0 += cs[i] * xs[i]
			a1 += cs[i+1] * xs[i+1]
			a2 += cs[i+2] * xs[i+2]
			a3 += cs[i+3] * xs[i+3]
		}
		for ; i < len(xs); i++ {
			a0 += cs[i] * xs[i]
		}
		dst[w] = sat16(float64((a0 + a1) + (a2 + a3)))
		w++
		r.phase += r.down
		q += r.phase / r.up
		r.phase %= r.up
	}
	// Keep taps-1 samples of history before the next output's position,
	// and whatever input that position has not reached yet.
	n := copy(r.hist, r.hist[q-k+1:])
	r.hist = r.hist[:n]
	return w
}

// ResampleAll converts a whole buffer of 16-bit mono PCM from rate from to
// rate to, any two positive rates (11025, 22050 and 44100 Hz included), and
// returns a new buffer of len(src)*to/from samples, rounded up (nil if a
// rate is not positive). The output is aligned with the input (no filter
// delay). It is meant for audio loaded once
// (prompts), not for the real-time path: see Resampler.
func ResampleAll(src []int16, from, to int) []int16 {
	x := make([]float32, len(src))
	for i, s := range src {
		x[i] = float32(s)
	}
	y := resampleFloats(x, from, to)
	if y == nil {
		return nil
	}
	out := make([]int16, len(y))
	for i, v := range y {
		out[i] = sat16(float64(v))
	}
	return out
}

// resampleTableRes is how many points per lower-rate period the kernel table
// of resampleFloats holds. Linear interpolation between points that close
// errs by less than 1e-5 of full scale, far under the 16-bit step.
const resampleTableRes = 512

// resampleFloats is ResampleAll on float samples (in int16 units), so that
// prompts of 24 or 32 bits are filtered before they are rounded to 16.
func resampleFloats(x []float32, from, to int) []float32 {
	if from <= 0 || to <= 0 || len(x) == 0 {
		return nil
	}
	if from == to {
		return append([]float32(nil), x...)
	}
	table := make([]float64, resampleZeros*resampleTableRes+2)
	for i := range table {
		table[i] = resampleKernel(float64(i) / resampleTableRes)
	}
	// A time t in input samples is (t * low / from) periods of the lower
	// rate; the kernel covers resampleZeros of those each side.
	low := min(from, to)
	scale := float64(low) / float64(from) // lower-rate periods per input sample
	reach := int(math.Ceil(resampleZeros / scale))
	nOut := int((int64(len(x))*int64(to) + int64(from) - 1) / int64(from))
	y := make([]float32, nOut)
	for n := range y {
		// Output n sits at input time n*from/to = q + frac, exactly.
		num := int64(n) * int64(from)
		q := int(num / int64(to))
		frac := float64(num%int64(to)) / float64(to)
		var acc, wsum float64
		for k := q - reach; k <= q+reach+1; k++ {
			u := math.Abs(float64(k-q)-frac) * scale * resampleTableRes
			i := int(u)
			if i >= len(table)-1 {
				continue
			}
			f := u - float64(i)
			w := table[i] + f*(table[i+1]-table[i])
			// Samples beyond the ends are silence; their weight still
			// counts in wsum so the edges are not boosted.
			wsum += w
			if k >= 0 && k < len(x) {
				acc += w * float64(x[k])
			}
		}
		// Dividing by the sum of the weights makes the gain at DC exactly
		// 1 at every fractional position.
		y[n] = float32(acc / wsum)
	}
	return y
}

// resampleKernel is the windowed sinc at u periods of the lower rate from
// its centre: cut-off at resampleCutoff of the lower Nyquist frequency,
// Kaiser window over |u| <= resampleZeros, zero beyond.
func resampleKernel(u float64) float64 {
	if math.Abs(u) >= resampleZeros {
		return 0
	}
	x := u / resampleZeros
	w := besselI0(resampleBeta*math.Sqrt(1-x*x)) / besselI0(resampleBeta)
	a := math.Pi * resampleCutoff * u
	if a == 0 {
		return w
	}
	return w * math.Sin(a) / a
}

// besselI0 is the modified Bessel function of the first kind, order 0, by
// its power series (converges quickly for the β of a Kaiser window).
func besselI0(x float64) float64 {
	sum, term := 1.0, 1.0
	for k := 1; k < 50; k++ {
		term *= (x / (2 * float64(k))) * (x / (2 * float64(k)))
		sum += term
		if term < sum*1e-17 {
			break
		}
	}
	return sum
}

func gcd(a, b int) int {
	for b != 0 {
		a, b = b, a%b
	}
	return a
}

// sat16 rounds v to the nearest int16, clipping at the ends of the range.
func sat16(v float64) int16 {
	switch {
	case v >= math.MaxInt16:
		return math.MaxInt16
	case v <= math.MinInt16:
		return math.MinInt16
	}
	return int16(math.Round(v))
}
