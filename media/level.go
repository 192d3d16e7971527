package media

// Audio measurement: how loud a buffer is, and how much of one frequency it
// holds. Tests across the project check audio with these (by what it sounds
// like, never byte by byte), and voice activity detection builds on them.
// Nothing here allocates.

import "math"

// SilenceDBFS is the level DBFS reports for digital silence, and the floor
// below which it reports nothing quieter.
const SilenceDBFS = -100.0

// fullScaleSineRMS is the RMS of a sine that peaks at full scale: the 0 dBFS
// reference of AES17.
const fullScaleSineRMS = math.MaxInt16 / math.Sqrt2

// RMS returns the root mean square of samples, in sample units: 0 for
// silence, about 23170 for a sine peaking at full scale, 32767 at most.
func RMS(samples []int16) float64 {
	if len(samples) == 0 {
		return 0
	}
	var sum float64
	for _, s := range samples {
		v := float64(s)
		sum += v * v
	}
	return math.Sqrt(sum / float64(len(samples)))
}

// DBFS returns the level of samples in dB relative to full scale, by RMS,
// with the AES17 reference: a sine peaking at full scale is 0 dBFS (so a
// full-scale square wave is +3 dBFS, and a tone generated at L dBFS measures
// L). Silence, and anything quieter than SilenceDBFS, gives SilenceDBFS.
func DBFS(samples []int16) float64 {
	rms := RMS(samples)
	if rms == 0 {
		return SilenceDBFS
	}
	return max(20*math.Log10(rms/fullScaleSineRMS), SilenceDBFS)
}

// ToneLevel measures the component of samples (at rate Hz) at frequency freq
// by the Goertzel algorithm over a Hann window, and returns its power
// relative to a full-scale sine: about 1.0 for a sine at freq peaking at full
// scale, 0.01 for one 20 dB down (10*log10 of the result is its level in
// dBFS), near 0 for other frequencies. The window keeps a strong tone from
// leaking into frequencies more than 2*rate/len(samples) Hz away (100 Hz
// over a 20 ms frame at 8 kHz): to tell apart tones closer than that, such
// as 440 and 480 Hz, measure a longer buffer.
func ToneLevel(samples []int16, rate int, freq float64) float64 {
	n := len(samples)
	if n < 2 || rate <= 0 {
		return 0
	}
	// Goertzel: s[i] = x[i] + 2cos(ω) s[i-1] - s[i-2]; afterwards
	// |X(ω)|² = s1² + s2² - 2cos(ω) s1 s2. The Hann window
	// w[i] = (1 - cos(2πi/(n-1)))/2 comes from a second recurrence of the
	// same kind (c[i+1] = 2cos(θ) c[i] - c[i-1] for c[i] = cos(θi)), so no
	// sine is evaluated per sample.
	coeff := 2 * math.Cos(2*math.Pi*freq/float64(rate))
	theta := 2 * math.Pi / float64(n-1)
	wcoeff := 2 * math.Cos(theta)
	cPrev, c := math.Cos(-theta), 1.0
	var s1, s2, wsum float64
	for _, x := range samples {
		w := 0.5 - 0.5*c
		wsum += w
		s := w*float64(x)/math.MaxInt16 + coeff*s1 - s2
		s2, s1 = s1, s
		cPrev, c = c, wcoeff*c-cPrev
	}
	power := s1*s1 + s2*s2 - coeff*s1*s2
	// A sine of amplitude A at freq gives |X| = A * sum(w) / 2.
	return max(power, 0) * 4 / (wsum * wsum)
}
