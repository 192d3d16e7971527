package asr

// Endpointing: where an utterance starts and ends in a call's audio. The
// start stops an interruptible prompt (barge-in) and the end hands the
// utterance to a Batch engine (see FromBatch), so the detector runs on
// every frame of every call that listens, and must be cheap, allocate
// nothing, and decide the start quickly.
//
// The detector looks at two features of each 20 ms frame, both taken after
// a high-pass filter at 200 Hz (below the telephone band, where mains hum,
// its first harmonics and handset rumble live):
//
//   - the band level in dBFS, compared with an adaptive noise floor: the
//     floor follows the quiet frames down at once and creeps up slowly, so
//     it settles on the line's steady noise (hiss, fan, hum getting louder)
//     but not on speech, whose pauses keep pulling it back down;
//   - the zero-crossing rate, a cheap proxy for where the frame's energy
//     sits in the spectrum. It is tracked for the noise as well, and a frame
//     only a little above the floor still counts as speech when its
//     crossing rate is far from the noise's: the weak fricatives and
//     breathy ends of words, which are spectrally unlike the noise under
//     them, keep an utterance going where the level alone would drop it.
//     It only ever extends an utterance, never starts one. On the espeak-ng
//     tests it moves no boundary (their consonants are either loud enough
//     for the level alone or buried under the noise): it is a cheap
//     second cue, to be kept only if real calls show it earns its place.
//
// Speech starts on a frame well above the floor (StartSNR) followed by
// enough frames above the lower keep threshold to make MinSpeech; it ends
// after Silence without any such frame, or at MaxUtterance.

import (
	"math"
	"time"

	"github.com/sambung/sambung/media"
)

// EndpointConfig tunes an Endpointer. The zero value gives the defaults.
type EndpointConfig struct {
	// Silence is how long a pause ends an utterance (default 400 ms).
	Silence time.Duration
	// MinSpeech is how much speech starts an utterance (default 80 ms),
	// counted from the first speech frame to the frame that reports the
	// start. It is what keeps a click, a tap on the handset or a line
	// glitch from starting one: a 40 ms click touches at most three
	// frames, and four are needed. It is also the barge-in delay: the
	// start is reported at most MinSpeech plus one frame after the speech
	// began, which leaves the rest of a 150 ms barge-in budget for
	// stopping the prompt. A cough usually lasts longer and does start an
	// utterance; the recognizer then hears no words.
	MinSpeech time.Duration
	// MaxUtterance ends an utterance that goes on this long (default
	// 15 s); if the caller is still talking, the next one starts at once.
	MaxUtterance time.Duration
	// PreRoll is how much audio before the start AppendLead hands on
	// (default 200 ms): the onset of a word is often below the threshold.
	PreRoll time.Duration
	// StartSNR is how far above the noise floor, in dB, the first frame
	// of speech must be (default 9).
	StartSNR float64
	// KeepSNR is how far above the noise floor, in dB, a frame must be to
	// count as speech once it has begun (default 5): lower than StartSNR,
	// so an utterance does not flicker on and off at its quiet parts.
	KeepSNR float64
	// MinLevel is the band level in dBFS below which nothing is speech
	// (default -55), however quiet the line: on a digitally silent line
	// the floor would otherwise let a whisper of noise through.
	MinLevel float64
	// Early, in a FromBatch stream, starts transcribing an utterance as
	// soon as its audio is complete (PreRoll of quiet after the last
	// speech) instead of when Silence confirms its end, and throws the
	// result away if the caller speaks again first. The engine hears
	// exactly the same audio either way; the caller waits up to
	// Silence - PreRoll less, at the cost of a wasted transcription for
	// each pause between PreRoll and Silence long. For engines whose
	// work is cheap, local CPU; not for one billed per request.
	Early bool
}

func (c EndpointConfig) withDefaults() EndpointConfig {
	if c.Silence <= 0 {
		c.Silence = 400 * time.Millisecond
	}
	if c.MinSpeech <= 0 {
		c.MinSpeech = 80 * time.Millisecond
	}
	if c.MaxUtterance <= 0 {
		c.MaxUtterance = 15 * time.Second
	}
	if c.PreRoll <= 0 {
		c.PreRoll = 200 * time.Millisecond
	}
	if c.StartSNR == 0 {
		c.StartSNR = 9
	}
	if c.KeepSNR == 0 {
		c.KeepSNR = 5
	}
	if c.MinLevel == 0 {
		c.MinLevel = -55
	}
	return c
}

// An EndpointEvent is what a frame changed.
type EndpointEvent int

// The events Push reports.
const (
	EndpointNone  EndpointEvent = iota // nothing changed
	EndpointStart                      // speech started (MinSpeech ago, plus up to a frame)
	EndpointEnd                        // the utterance ended (Silence after its last speech)
)

func (ev EndpointEvent) String() string {
	switch ev {
	case EndpointStart:
		return "start"
	case EndpointEnd:
		return "end"
	}
	return "none"
}

// Noise floor tracking, in dB per 20 ms frame. The floor falls a third of
// the way to a quieter frame at once, and rises a fiftieth of the way to a
// louder one, by at most floorRiseCap: 5 dB a second, fast enough to follow
// hum or a fan that swells by a few dB a second, slow enough that it rises
// by well under the start threshold over MinSpeech of speech. Inside an
// utterance it rises at most a fifth as fast (1 dB a second), and the pauses
// between words pull it down again; a steady noise mistaken for speech
// still wins the floor back within MaxUtterance. The first warmupFrames
// take the line's level quickly, so a stream that opens on a noisy line
// does not take its noise for speech.
const (
	floorFall         = 1.0 / 3
	floorRise         = 1.0 / 50
	floorRiseCap      = 0.1
	floorRiseCapInUtt = 0.02
	floorMin          = -75.0 // a G.711 line's idle noise is quieter than this
	warmupFrames      = 10    // 200 ms
	warmupRise        = 0.5

	// A frame between KeepSNR and fricativeSNR above the floor counts as
	// speech only if its zero-crossing rate (per sample) differs from the
	// noise's by more than fricativeZCR.
	fricativeSNR = 2.5
	fricativeZCR = 0.15
	zcrAdapt     = 0.05

	// candidateGap is how many quiet frames a run of speech not yet
	// started may hold.
	candidateGap = 1

	hpCutoff = 200.0 // Hz
)

// An Endpointer finds the utterances in a stream of 20 ms frames. It is
// not safe for concurrent use; each stream owns one.
type Endpointer struct {
	cfg EndpointConfig

	// Lengths in frames.
	silence, minSpeech, maxUtterance, preRoll int

	// High-pass biquad (RBJ cookbook, Q = 1/√2) and its state.
	b0, b1, b2, a1, a2 float64
	x1, x2, y1, y2     float64

	frames    int64   // frames pushed
	level     float64 // band level of the last frame, dBFS
	zcr       float64 // its zero crossings per sample
	floor     float64 // noise floor, dBFS
	noiseZCR  float64 // zero crossings per sample of the noise
	inSpeech  bool
	candidate int   // frames of a run of speech not yet long enough to start
	onset     int64 // first frame of the current (or last) utterance
	last      int64 // last speech frame of the current (or last) utterance

	// ring holds the last len(ring)/FrameSamples frames for AppendLead.
	ring []int16
}

// NewEndpointer makes an Endpointer; zero fields of cfg take their defaults.
func NewEndpointer(cfg EndpointConfig) *Endpointer {
	cfg = cfg.withDefaults()
	frames := func(d time.Duration) int {
		return max(1, int((d+media.FrameDuration-1)/media.FrameDuration))
	}
	e := &Endpointer{
		cfg:          cfg,
		silence:      frames(cfg.Silence),
		minSpeech:    frames(cfg.MinSpeech),
		maxUtterance: frames(cfg.MaxUtterance),
		preRoll:      frames(cfg.PreRoll),
		floor:        floorMin,
		noiseZCR:     -1,
	}
	e.ring = make([]int16, (e.preRoll+e.minSpeech)*media.FrameSamples)

	w := 2 * math.Pi * hpCutoff / media.Rate
	alpha := math.Sin(w) / math.Sqrt2 // sin(w)/(2Q)
	cw := math.Cos(w)
	a0 := 1 + alpha
	e.b0 = (1 + cw) / 2 / a0
	e.b1 = -(1 + cw) / a0
	e.b2 = e.b0
	e.a1 = -2 * cw / a0
	e.a2 = (1 - alpha) / a0
	return e
}

// Config returns the configuration in use, defaults filled in.
func (e *Endpointer) Config() EndpointConfig { return e.cfg }

// Push takes the next 20 ms frame (media.FrameSamples samples) and reports
// what changed. It allocates nothing.
func (e *Endpointer) Push(frame []int16) EndpointEvent {
	e.measure(frame)
	slot := int(e.frames % int64(len(e.ring)/media.FrameSamples))
	copy(e.ring[slot*media.FrameSamples:(slot+1)*media.FrameSamples], frame)
	n := e.frames
	e.frames++

	start := e.level > e.floor+e.cfg.StartSNR && e.level > e.cfg.MinLevel
	keep := e.level > e.cfg.MinLevel &&
		(e.level > e.floor+e.cfg.KeepSNR ||
			e.level > e.floor+fricativeSNR && e.noiseZCR >= 0 && math.Abs(e.zcr-e.noiseZCR) > fricativeZCR)

	ev := EndpointNone
	switch {
	case e.inSpeech:
		if keep {
			e.last = n
		}
		switch {
		case n-e.onset+1 >= int64(e.maxUtterance):
			e.last = n
			e.inSpeech = false
			ev = EndpointEnd
		case n-e.last >= int64(e.silence):
			e.inSpeech = false
			ev = EndpointEnd
		}
	case e.candidate > 0 && keep, e.candidate == 0 && start:
		if e.candidate == 0 {
			e.onset = n
		}
		e.candidate++
		e.last = n
		if e.candidate >= e.minSpeech {
			e.candidate = 0
			e.inSpeech = true
			ev = EndpointStart
		}
	case e.candidate > 0 && n-e.last <= candidateGap:
		// A short word's vowels come between consonants that noise can
		// hide: one quiet frame does not end a run, nor count in it.
	default:
		e.candidate = 0
	}
	e.adapt(keep)
	return ev
}

// measure sets e.level and e.zcr from frame, through the high-pass filter.
func (e *Endpointer) measure(frame []int16) {
	b0, b1, b2, a1, a2 := e.b0, e.b1, e.b2, e.a1, e.a2
	x1, x2, y1, y2 := e.x1, e.x2, e.y1, e.y2
	var sum float64
	crossings := 0
	for _, s := range frame {
		x := float64(s)
		y := b0*x + b1*x1 + b2*x2 - a1*y1 - a2*y2
		x2, x1 = x1, x
		// Count a crossing when the sign flips; y1 still holds the last
		// output here.
		if (y < 0) != (y1 < 0) {
			crossings++
		}
		y2, y1 = y1, y
		sum += y * y
	}
	// Keep the filter out of denormals on digital silence.
	if math.Abs(y1) < 1e-9 && math.Abs(y2) < 1e-9 {
		y1, y2 = 0, 0
	}
	e.x1, e.x2, e.y1, e.y2 = x1, x2, y1, y2
	if len(frame) == 0 {
		e.level, e.zcr = media.SilenceDBFS, 0
		return
	}
	ms := sum / float64(len(frame))
	// 0 dBFS is a full-scale sine (AES17), as in media.DBFS.
	const fullScaleSinePower = math.MaxInt16 * math.MaxInt16 / 2.0
	if ms <= 0 {
		e.level = media.SilenceDBFS
	} else {
		e.level = max(10*math.Log10(ms/fullScaleSinePower), media.SilenceDBFS)
	}
	e.zcr = float64(crossings) / float64(len(frame))
}

// adapt moves the noise floor and the noise's crossing rate after a frame.
func (e *Endpointer) adapt(speech bool) {
	d := e.level - e.floor
	switch {
	case e.frames <= warmupFrames:
		if e.frames == 1 || d < 0 {
			e.floor = e.level
		} else {
			e.floor += d * warmupRise
		}
	case d < 0:
		e.floor += d * floorFall
	default:
		riseCap := floorRiseCap
		if e.inSpeech {
			riseCap = floorRiseCapInUtt
		}
		e.floor += min(d*floorRise, riseCap)
	}
	e.floor = max(e.floor, floorMin)
	if !speech && !e.inSpeech && e.candidate == 0 {
		if e.noiseZCR < 0 {
			e.noiseZCR = e.zcr
		} else {
			e.noiseZCR += (e.zcr - e.noiseZCR) * zcrAdapt
		}
	}
}

// InSpeech reports whether an utterance is under way (started, not ended).
func (e *Endpointer) InSpeech() bool { return e.inSpeech }

// Level is the band level of the last frame pushed, in dBFS.
func (e *Endpointer) Level() float64 { return e.level }

// Floor is the noise floor, in dBFS.
func (e *Endpointer) Floor() float64 { return e.floor }

// Elapsed is the audio pushed so far.
func (e *Endpointer) Elapsed() time.Duration {
	return time.Duration(e.frames) * media.FrameDuration
}

// SpeechStart is the offset, from the first frame pushed, of the first
// speech frame of the current or last utterance: where EndpointStart dates
// the speech, MinSpeech before it was reported.
func (e *Endpointer) SpeechStart() time.Duration {
	return time.Duration(e.onset) * media.FrameDuration
}

// SpeechEnd is the offset of the end of the last speech frame of the
// current or last utterance; after EndpointEnd, Silence before it was
// reported (or where MaxUtterance cut it).
func (e *Endpointer) SpeechEnd() time.Duration {
	return time.Duration(e.last+1) * media.FrameDuration
}

// AppendLead appends to dst the audio the endpointer holds of the current
// utterance, from PreRoll before its first speech frame (or the first frame
// pushed, if later) to the frame just pushed, and returns it. Called on
// EndpointStart, it is the utterance so far; the caller keeps the frames
// that follow. It allocates only if dst must grow.
func (e *Endpointer) AppendLead(dst []int16) []int16 {
	slots := int64(len(e.ring) / media.FrameSamples)
	from := max(e.onset-int64(e.preRoll), e.frames-slots, 0)
	for f := from; f < e.frames; f++ {
		slot := int(f % slots)
		dst = append(dst, e.ring[slot*media.FrameSamples:(slot+1)*media.FrameSamples]...)
	}
	return dst
}
