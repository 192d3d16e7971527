package media

// Call-progress tones and beeps, generated as Sources.

import (
	"math"
	"strings"
	"time"
)

// ToneSpec describes a tone: one or two frequencies sounding together, at a
// level, switched on and off to a cadence, for a time.
type ToneSpec struct {
	// Freqs are the frequencies in Hz, one or two (a dual-frequency tone
	// such as North American ringback). Each must lie between 0 and the
	// Nyquist frequency, 4000 Hz; others are left out.
	Freqs []float64
	// Level is the level of each frequency, in dBFS with the AES17
	// reference (a sine peaking at full scale is 0 dBFS, as DBFS measures).
	// Two frequencies together measure 3 dB more.
	Level float64
	// Cadence lists on and off times in turn, starting with on, repeated
	// for as long as the tone lasts. Empty: on throughout.
	Cadence []time.Duration
	// Duration is how long the tone lasts, cadence included; 0 is forever.
	Duration time.Duration
}

// toneRamp is how long a tone takes to fade in and out at the edges of each
// on time, in samples (4 ms): a sine switched on at full amplitude starts
// with a step, which the ear hears as a click.
const toneRamp = 32

// Tone is a Source that plays a ToneSpec. Its oscillators run on through
// frame boundaries and off times, so the waveform never jumps.
type Tone struct {
	amp    float64   // peak amplitude of each frequency, in sample units
	steps  []float64 // phase advance per sample of each frequency, in cycles
	phases []float64 // current phase of each frequency, in cycles [0, 1)
	segs   []int     // cadence in samples; even indexes on, odd off
	seg    int       // current cadence segment
	pos    int       // samples played of the current segment (of the tone, without a cadence)
	left   int       // samples left to play; -1 for a tone without end
}

// NewTone returns a Tone playing spec from its start.
func NewTone(spec ToneSpec) *Tone {
	t := &Tone{amp: math.MaxInt16 * math.Pow(10, spec.Level/20), left: -1}
	for _, f := range spec.Freqs {
		if f > 0 && f < Rate/2 {
			t.steps = append(t.steps, f/Rate)
		}
	}
	t.phases = make([]float64, len(t.steps))
	total := 0
	for _, d := range spec.Cadence {
		n := durationSamples(d)
		t.segs = append(t.segs, n)
		total += n
	}
	if total == 0 { // no cadence, or one of zeros: on throughout
		t.segs = nil
	}
	if spec.Duration > 0 {
		t.left = durationSamples(spec.Duration)
	}
	return t
}

// durationSamples converts d to the nearest whole number of samples at Rate
// (one sample is 125 µs exactly, so long durations do not overflow).
func durationSamples(d time.Duration) int {
	const sample = time.Second / Rate
	return int((max(d, 0) + sample/2) / sample)
}

// ReadFrame fills frame with the next samples of the tone. It reports false
// once the tone's Duration is over; a frame in which the tone ends is
// completed with silence and still reports true.
func (t *Tone) ReadFrame(frame []int16) bool {
	if t.left == 0 {
		clear(frame)
		return false
	}
	for i := range frame {
		if t.left == 0 {
			frame[i] = 0
			continue
		}
		on, toEnd := true, math.MaxInt
		if t.segs != nil {
			for t.pos >= t.segs[t.seg] {
				t.pos = 0
				t.seg = (t.seg + 1) % len(t.segs)
			}
			on = t.seg%2 == 0
			toEnd = t.segs[t.seg] - t.pos
		}
		if t.left > 0 {
			toEnd = min(toEnd, t.left)
			t.left--
		}
		var v float64
		if on {
			for _, p := range t.phases {
				v += math.Sin(2 * math.Pi * p)
			}
			// Fade in over the first toneRamp samples of an on time and
			// out over the last ones (toEnd counts this sample).
			v *= t.amp * toneGain(t.pos) * toneGain(toEnd-1)
		}
		frame[i] = sat16(v)
		for k := range t.phases {
			t.phases[k] += t.steps[k]
			if t.phases[k] >= 1 {
				t.phases[k]--
			}
		}
		t.pos++
	}
	return true
}

// toneGain is the raised-cosine ramp: k samples from an edge of an on time.
func toneGain(k int) float64 {
	if k >= toneRamp {
		return 1
	}
	return 0.5 - 0.5*math.Cos(math.Pi*(float64(k)+0.5)/toneRamp)
}

// Levels of the presets. G.711 puts 0 dBm0 (the reference level of the
// telephone network) 3.17 dB below a full-scale sine.
const (
	dBm0ToDBFS  = -3.17
	ringbackUS  = -19 + dBm0ToDBFS // each of 440 and 480 Hz (North American precise tone plan)
	ringbackITU = -10 + dBm0ToDBFS
	beepLevel   = -10 + dBm0ToDBFS
)

// Ringback returns the ringing tone a caller hears while the other side
// rings, in the style of region (case-insensitive):
//
//   - "us": 440 + 480 Hz, 2 s on, 4 s off (North America);
//   - "id" and anything else: 425 Hz, 1 s on, 4 s off (Indonesia, and the
//     usual ITU-T E.180 tone).
//
// It plays until the caller stops reading it.
func Ringback(region string) *Tone {
	if strings.EqualFold(region, "us") {
		return NewTone(ToneSpec{
			Freqs:   []float64{440, 480},
			Level:   ringbackUS,
			Cadence: []time.Duration{2 * time.Second, 4 * time.Second},
		})
	}
	return NewTone(ToneSpec{
		Freqs:   []float64{425},
		Level:   ringbackITU,
		Cadence: []time.Duration{time.Second, 4 * time.Second},
	})
}

// Beep returns a 1000 Hz beep of 200 ms (ten frames), the signal to start
// speaking before a recording; then it ends.
func Beep() *Tone {
	return NewTone(ToneSpec{
		Freqs:    []float64{1000},
		Level:    beepLevel,
		Duration: 200 * time.Millisecond,
	})
}
