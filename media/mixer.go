package media

// Mixing: adding voices into one frame. Sums are formed in int32 and clipped
// to the int16 range at the end (saturation), so two loud talkers distort
// the way an overdriven line does instead of wrapping around into a burst of
// noise. Nothing here allocates.

import "math"

// Mix writes into dst the sum of srcs, sample by sample, clipped to the
// int16 range. A source shorter than dst counts as silence past its end; dst
// may itself be one of srcs (to add into it, pass it as a source).
func Mix(dst []int16, srcs ...[]int16) {
	for i := range dst {
		var sum int32
		for _, s := range srcs {
			if i < len(s) {
				sum += int32(s[i])
			}
		}
		dst[i] = clip16(sum)
	}
}

// MixMinus writes what each participant of a conference hears: outs[i] gets
// the sum of all ins except ins[i] (their own voice, which would echo back),
// clipped to the int16 range. An in without an out (a prompt played to the
// whole room) is heard by everyone; an out without an in (a listener who
// does not speak) hears everyone. Frames shorter than an out count as silence
// past their end, and outs[i] may be ins[i] itself.
func MixMinus(outs [][]int16, ins [][]int16) {
	n := 0
	for _, o := range outs {
		n = max(n, len(o))
	}
	for t := range n {
		// Everyone's sum once, then each participant's own voice taken out:
		// a conference of k costs 2k additions per sample, not k².
		var total int32
		for _, in := range ins {
			if t < len(in) {
				total += int32(in[t])
			}
		}
		for i, out := range outs {
			if t >= len(out) {
				continue
			}
			v := total
			if i < len(ins) && t < len(ins[i]) {
				v -= int32(ins[i][t])
			}
			out[t] = clip16(v)
		}
	}
}

// clip16 saturates a sum of samples to the int16 range.
func clip16(v int32) int16 {
	return int16(max(math.MinInt16, min(v, math.MaxInt16)))
}
