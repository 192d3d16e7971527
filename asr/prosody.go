package asr

// Voice cues: how loud and how high a caller speaks, each utterance against
// the caller's own baseline. A raised voice (louder and higher at once) is
// what anger sounds like on a phone line, whatever the words; sentiment from
// the transcript (asr/intent) and these cues together say how a call is going.
//
// Pitch is measured with YIN (de Cheveigné and Kawahara, "YIN, a fundamental
// frequency estimator for speech and music", JASA 111(4), 2002): the
// cumulative mean normalised difference of a 32 ms window against itself
// delayed by each candidate period, the first dip under a threshold taken as
// the period and refined by a parabola. At 8 kHz a period of 60 to 400 Hz is
// 20 to 134 samples; YIN finds the fundamental of telephone speech even
// though the band starts at 300 Hz and the fundamental itself is gone.
//
// Medians, not means, summarise pitch and loudness: an octave error or a
// cough in a few frames moves a mean and leaves a median alone. They are kept
// as histograms (a tenth of a semitone, a quarter of a dB per bin), so a
// Prosody holds a fixed amount of memory however long the call, and Push
// allocates nothing.

import (
	"math"
	"time"

	"github.com/sambung/sambung/media"
)

const (
	prosodyRate = 8000 // Hz: the frame format of package media

	minF0 = 60.0  // Hz: the lowest voice measured
	maxF0 = 400.0 // Hz: the highest

	yinWindow  = 256                      // samples: 32 ms
	yinMinLag  = int(prosodyRate / maxF0) // 20 samples
	yinMaxLag  = 135                      // 8000/60 = 133.3, and room for the parabola around it
	yinHistory = yinWindow + yinMaxLag

	// yinThreshold is the normalised difference under which a lag is taken
	// as the period. YIN's paper uses 0.1 to 0.15 on clean wideband speech;
	// at 8 kHz that leaves half of espeak-ng's voiced speech unvoiced (1.4 s
	// of 5 s at 0.2, 2.4 s at 0.3), and at 0.35 a tone without its
	// fundamental (harmonics 3 to 7 of 100 Hz) is taken an octave high.
	yinThreshold = 0.3

	// voicedFloorDBFS: a frame quieter than this is not speech, whatever
	// its periodicity (line hum, a far-away television).
	voicedFloorDBFS = -50.0

	// baselineVoiced is how much of the caller's voiced speech, from the
	// start of the call, makes their baseline; minBaselineVoiced is how much
	// there must be before an utterance can be said to be raised.
	baselineVoiced    = 3 * time.Second
	minBaselineVoiced = 1 * time.Second

	// RaisedLoudnessDB and RaisedSemitones are how far above the caller's
	// baseline an utterance must be, in loudness and in pitch both, to be
	// Raised: +6 dB is twice the amplitude, +2 semitones a clear lift of
	// the voice; calm speech varies less than that from one utterance to
	// the next.
	RaisedLoudnessDB = 6.0
	RaisedSemitones  = 2.0
	// minRaisedVoiced: an utterance shorter than this ("no!") is too short
	// to measure reliably and is never Raised.
	minRaisedVoiced = 300 * time.Millisecond
)

// Histogram ranges: pitch in semitones above minF0, loudness in dBFS.
const (
	pitchBinsPerSemitone = 10
	pitchBins            = 34 * pitchBinsPerSemitone // 60 Hz to 427 Hz
	loudLo               = -90.0
	loudBinsPerDB        = 4
	loudBins             = 94 * loudBinsPerDB // -90 to +4 dBFS
)

// A VoiceCue summarises one utterance's voice against the caller's baseline.
type VoiceCue struct {
	// LoudnessDB is the utterance's median level over its voiced frames
	// minus the caller's baseline, in dB.
	LoudnessDB float64
	// PitchSemitones is the utterance's median pitch minus the caller's
	// baseline, in semitones (12 to an octave).
	PitchSemitones float64
	// Raised says the caller spoke markedly louder and higher than their
	// baseline: by RaisedLoudnessDB and RaisedSemitones at least, over
	// 300 ms of voiced speech, with a second of baseline behind it.
	Raised bool
	// Voiced is how much of the utterance was voiced speech.
	Voiced time.Duration
	// PitchHz and LevelDBFS are the utterance's median pitch and level as
	// measured, not relative to anything; 0 when nothing was voiced.
	PitchHz, LevelDBFS float64
}

// A Prosody follows one caller's voice: write each 20 ms frame of their
// audio with Push, and call Utterance at the end of each utterance. The
// zero value is ready to use. It is not safe for concurrent use.
//
// The caller's baseline is their median pitch and level over their first
// three seconds of voiced speech, and stays fixed after that: a caller who
// grows angry over the call is measured against how they started, not
// against how they have become. One who starts the call shouting has a
// loud baseline, and is not Raised until they are louder still.
type Prosody struct {
	hist   [yinHistory]float64 // the latest samples, oldest first
	filled int                 // valid samples at the end of hist
	diff   [yinMaxLag + 1]float64

	baseline, utterance voiceStats

	lastF0 float64 // pitch of the last frame pushed, 0 if unvoiced
}

// voiceStats are histograms of the pitch and level of voiced frames.
type voiceStats struct {
	pitch   [pitchBins]uint32
	loud    [loudBins]uint32
	frames  int
	samples int
}

func (v *voiceStats) add(semitones, dbfs float64, samples int) {
	v.pitch[clampBin(semitones*pitchBinsPerSemitone, pitchBins)]++
	v.loud[clampBin((dbfs-loudLo)*loudBinsPerDB, loudBins)]++
	v.frames++
	v.samples += samples
}

func clampBin(x float64, n int) int {
	return min(max(int(x), 0), n-1)
}

// histMedian returns the bin holding the median of counts, as its centre.
func histMedian(counts []uint32, total int) float64 {
	half := (total + 1) / 2
	seen := 0
	for i, c := range counts {
		seen += int(c)
		if seen >= half {
			return float64(i) + 0.5
		}
	}
	return float64(len(counts)) - 0.5
}

func (v *voiceStats) medians() (semitones, dbfs float64) {
	semitones = histMedian(v.pitch[:], v.frames) / pitchBinsPerSemitone
	dbfs = histMedian(v.loud[:], v.frames)/loudBinsPerDB + loudLo
	return semitones, dbfs
}

func (v *voiceStats) duration() time.Duration {
	return time.Duration(v.samples) * time.Second / prosodyRate
}

// Push analyses the next frame of the caller's audio, 8 kHz 16-bit PCM
// (any length; 20 ms frames are 160 samples). It allocates nothing.
func (p *Prosody) Push(frame []int16) {
	n := len(frame)
	if n == 0 {
		return
	}
	if n >= yinHistory {
		for i, s := range frame[n-yinHistory:] {
			p.hist[i] = float64(s)
		}
	} else {
		copy(p.hist[:], p.hist[n:])
		for i, s := range frame {
			p.hist[yinHistory-n+i] = float64(s)
		}
	}
	p.filled = min(p.filled+n, yinHistory)

	p.lastF0 = 0
	level := media.DBFS(frame)
	if level < voicedFloorDBFS || p.filled < yinHistory {
		return
	}
	f0 := p.pitch()
	if f0 == 0 {
		return
	}
	p.lastF0 = f0
	st := 12 * math.Log2(f0/minF0)
	p.utterance.add(st, level, n)
	if p.baseline.duration() < baselineVoiced {
		p.baseline.add(st, level, n)
	}
}

// pitch returns the fundamental frequency of the latest yinWindow samples
// by YIN, or 0 if they are not periodic in 60-400 Hz.
func (p *Prosody) pitch() float64 {
	x := p.hist[:]
	d := p.diff[:]
	// Steps 2 and 3 of YIN: the difference function of the window (the
	// newest samples) against itself tau samples earlier, and its
	// cumulative mean normalised form d'(tau) = d(tau) * tau / sum d(1..tau).
	d[0] = 1
	var sum float64
	for tau := 1; tau <= yinMaxLag; tau++ {
		var dt float64
		for j := yinHistory - yinWindow; j < yinHistory; j++ {
			v := x[j] - x[j-tau]
			dt += v * v
		}
		sum += dt
		if sum == 0 {
			d[tau] = 1
		} else {
			d[tau] = dt * float64(tau) / sum
		}
	}
	// Step 4: the first lag under the threshold, then down to the bottom
	// of its dip.
	tau := 0
	for t := yinMinLag; t < yinMaxLag; t++ {
		if d[t] < yinThreshold {
			for t+1 < yinMaxLag && d[t+1] < d[t] {
				t++
			}
			tau = t
			break
		}
	}
	if tau == 0 {
		return 0
	}
	// Step 5: a parabola through the dip and its neighbours places the
	// period between samples.
	a, b, c := d[tau-1], d[tau], d[tau+1]
	period := float64(tau)
	if den := a - 2*b + c; den > 0 {
		period += (a - c) / (2 * den)
	}
	f0 := prosodyRate / period
	if f0 < minF0 || f0 > maxF0 {
		return 0
	}
	return f0
}

// Utterance returns the summary of the voice since the last call to
// Utterance (or since the start), and starts the next utterance. The
// baseline carries on.
func (p *Prosody) Utterance() VoiceCue {
	u := &p.utterance
	cue := VoiceCue{Voiced: u.duration()}
	if u.frames > 0 {
		st, level := u.medians()
		cue.PitchHz = minF0 * math.Exp2(st/12)
		cue.LevelDBFS = level
		if p.baseline.frames > 0 {
			bst, blevel := p.baseline.medians()
			cue.PitchSemitones = st - bst
			cue.LoudnessDB = level - blevel
			cue.Raised = p.baseline.duration() >= minBaselineVoiced &&
				cue.Voiced >= minRaisedVoiced &&
				cue.LoudnessDB >= RaisedLoudnessDB && cue.PitchSemitones >= RaisedSemitones
		}
	}
	*u = voiceStats{}
	return cue
}
