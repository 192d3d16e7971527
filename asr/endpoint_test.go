package asr

import (
	"math"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/sambung/sambung/internal/testenv"
	"github.com/sambung/sambung/media"
)

// The endpointer is tested on real speech (espeak-ng), put on a telephone
// line: a level, the line's noise, and a G.711 round trip. True onsets and
// ends come from the sample energy of the speech alone, before it meets the
// line, so they do not depend on the detector's own measures.

const samplesPerMs = media.Rate / 1000

// voice is one espeak-ng utterance, trimmed to its sound and measured.
type voice struct {
	pcm    []int16
	active float64 // level of its speech frames, dBFS
}

// speak renders text with espeak-ng and trims the silence around it.
func speak(t testing.TB, lang, text string) voice {
	t.Helper()
	a := testenv.ReadWAV(t, testenv.Speech(t, lang, text, 0))
	if a.Rate != media.Rate {
		t.Fatalf("espeak-ng speech at %d Hz, want %d", a.Rate, media.Rate)
	}
	pcm := a.Channels[0]
	on, off := soundSpan(pcm, -60)
	if on < 0 {
		t.Fatalf("espeak-ng %s %q: no sound", lang, text)
	}
	pcm = pcm[on:off]
	// Its active level: the power of the 20 ms windows within 30 dB of the
	// loudest, as a speech level meter does.
	var peak float64 = media.SilenceDBFS
	for i := 0; i+media.FrameSamples <= len(pcm); i += media.FrameSamples {
		peak = max(peak, media.DBFS(pcm[i:i+media.FrameSamples]))
	}
	var sum float64
	n := 0
	for i := 0; i+media.FrameSamples <= len(pcm); i += media.FrameSamples {
		f := pcm[i : i+media.FrameSamples]
		if media.DBFS(f) > peak-30 {
			r := media.RMS(f)
			sum += r * r
			n++
		}
	}
	return voice{pcm: pcm, active: 20 * math.Log10(math.Sqrt(sum/float64(n))/(math.MaxInt16/math.Sqrt2))}
}

// at returns the voice scaled to an active level of dbfs.
func (v voice) at(dbfs float64) []int16 {
	g := math.Pow(10, (dbfs-v.active)/20)
	out := make([]int16, len(v.pcm))
	for i, s := range v.pcm {
		out[i] = sat(float64(s) * g)
	}
	return out
}

func sat(v float64) int16 {
	return int16(max(math.MinInt16, min(math.MaxInt16, math.Round(v))))
}

// soundSpan finds the first and last sample (end exclusive) of pcm's sound:
// where a 5 ms window sliding by 1 ms is louder than dbfs. on is -1 for none.
func soundSpan(pcm []int16, dbfs float64) (on, off int) {
	const win = 5 * samplesPerMs
	on, off = -1, -1
	for i := 0; i+win <= len(pcm); i += samplesPerMs {
		if media.DBFS(pcm[i:i+win]) > dbfs {
			if on < 0 {
				on = i
			}
			off = i + win
		}
	}
	return on, off
}

// line assembles a call's audio: pieces laid end to end.
type line struct {
	pcm []int16
	// spans are the true [on, off) sample ranges of the speech placed.
	spans [][2]int
}

func (l *line) silence(d time.Duration) *line {
	l.pcm = append(l.pcm, make([]int16, int(d.Milliseconds())*samplesPerMs)...)
	return l
}

// speech lays down pcm (already at its level) and records its true span,
// by sample energy 50 dB under its active level.
func (l *line) speech(v voice, dbfs float64) *line {
	pcm := v.at(dbfs)
	on, off := soundSpan(pcm, dbfs-50)
	l.spans = append(l.spans, [2]int{len(l.pcm) + on, len(l.pcm) + off})
	l.pcm = append(l.pcm, pcm...)
	return l
}

// noise adds (mixes) noise at dbfs over all the line so far, and pads it
// to at least d.
func (l *line) noise(kind string, dbfs float64, d time.Duration) *line {
	if n := int(d.Milliseconds()) * samplesPerMs; len(l.pcm) < n {
		l.pcm = append(l.pcm, make([]int16, n-len(l.pcm))...)
	}
	nz := noise(kind, len(l.pcm), dbfs)
	for i := range l.pcm {
		l.pcm[i] = sat(float64(l.pcm[i]) + nz[i])
	}
	return l
}

// telephone passes the line through G.711 µ-law and back.
func (l *line) telephone() []int16 {
	enc := make([]byte, len(l.pcm))
	media.PCMU.Encode(enc, l.pcm)
	out := make([]int16, len(l.pcm))
	media.PCMU.Decode(out, enc)
	return out
}

// noise makes n samples of white or pink noise at dbfs (AES17, as
// media.DBFS), from a fixed seed.
func noise(kind string, n int, dbfs float64) []float64 {
	r := rand.New(rand.NewPCG(1, uint64(len(kind))))
	out := make([]float64, n)
	var b0, b1, b2, b3, b4, b5, b6 float64
	for i := range out {
		w := r.NormFloat64()
		switch kind {
		case "white":
			out[i] = w
		case "pink": // Paul Kellet's refined filter, -3 dB/octave
			b0 = 0.99886*b0 + w*0.0555179
			b1 = 0.99332*b1 + w*0.0750759
			b2 = 0.96900*b2 + w*0.1538520
			b3 = 0.86650*b3 + w*0.3104856
			b4 = 0.55000*b4 + w*0.5329522
			b5 = -0.7616*b5 - w*0.0168980
			out[i] = b0 + b1 + b2 + b3 + b4 + b5 + b6 + w*0.5362
			b6 = w * 0.115926
		default:
			panic("noise " + kind)
		}
	}
	var sum float64
	for _, v := range out {
		sum += v * v
	}
	g := math.Pow(10, dbfs/20) * (math.MaxInt16 / math.Sqrt2) / math.Sqrt(sum/float64(n))
	for i := range out {
		out[i] *= g
	}
	return out
}

// utterance is what the endpointer reported, in samples: when it said
// start and end, and the span it dated the speech to.
type utterance struct {
	startAt, endAt int // the end of the frame that reported it; endAt -1 if none
	on, off        int // SpeechStart and SpeechEnd
}

// endpoint runs pcm through an Endpointer frame by frame.
func endpoint(t testing.TB, cfg EndpointConfig, pcm []int16) []utterance {
	t.Helper()
	e := NewEndpointer(cfg)
	var us []utterance
	for i := 0; i+media.FrameSamples <= len(pcm); i += media.FrameSamples {
		switch e.Push(pcm[i : i+media.FrameSamples]) {
		case EndpointStart:
			us = append(us, utterance{startAt: i + media.FrameSamples, endAt: -1, on: samples(e.SpeechStart())})
		case EndpointEnd:
			if len(us) == 0 || us[len(us)-1].endAt >= 0 {
				t.Fatalf("end at %s without a start", ms(i))
			}
			u := &us[len(us)-1]
			u.endAt, u.off = i+media.FrameSamples, samples(e.SpeechEnd())
		}
	}
	return us
}

func samples(d time.Duration) int { return int(d.Milliseconds()) * samplesPerMs }

func ms(samples int) time.Duration {
	return time.Duration(samples) * time.Second / media.Rate
}

func TestEndpointerOnsetAndEnd(t *testing.T) {
	const frame = media.FrameSamples
	for _, tc := range []struct{ lang, text string }{
		{"en", "I want a refund for my order"},
		{"en", "Sixty five"}, // starts on a fricative
		{"id", "Saya mau pengembalian dana untuk pesanan saya"},
		{"zh", "我想要退款"},
	} {
		t.Run(tc.lang+"/"+tc.text, func(t *testing.T) {
			v := speak(t, tc.lang, tc.text)
			// 1013 ms: the onset falls inside a frame, as it does on a call.
			l := (&line{}).silence(1013*time.Millisecond).speech(v, -20).silence(1500*time.Millisecond).
				noise("white", -70, 0)
			us := endpoint(t, EndpointConfig{}, l.telephone())
			if len(us) != 1 {
				t.Fatalf("%d utterances %+v, want 1", len(us), us)
			}
			u, span := us[0], l.spans[0]
			lag := ms(u.startAt - span[0])
			endLag := ms(u.endAt - span[1])
			t.Logf("true speech %s..%s; start reported %s after onset (dated %s), end %s after the true end (dated %s)",
				ms(span[0]), ms(span[1]), lag, ms(u.on-span[0]), endLag, ms(u.off-span[1]))
			if lag < 0 || lag > 100*time.Millisecond {
				t.Errorf("start reported %s after the onset, want 0..100ms", lag)
			}
			if d := u.on - span[0]; d < -frame || d > frame {
				t.Errorf("start dated %s from the onset, want within a frame", ms(d))
			}
			if want := 400 * time.Millisecond; endLag < want-40*time.Millisecond || endLag > want+40*time.Millisecond {
				t.Errorf("end reported %s after the true end, want %s ± 2 frames", endLag, want)
			}
		})
	}
}

func TestEndpointerPauses(t *testing.T) {
	v := speak(t, "en", "I want a refund for my order")
	w := speak(t, "en", "It never arrived")
	for _, tc := range []struct {
		gap  time.Duration
		want int
	}{
		{1000 * time.Millisecond, 2},
		{200 * time.Millisecond, 1},
		{600 * time.Millisecond, 2}, // Silence is 400 ms
	} {
		t.Run(tc.gap.String(), func(t *testing.T) {
			l := (&line{}).silence(500*time.Millisecond).speech(v, -20).silence(tc.gap).speech(w, -20).
				silence(time.Second).noise("white", -70, 0)
			us := endpoint(t, EndpointConfig{}, l.telephone())
			if len(us) != tc.want {
				t.Fatalf("%d utterances %+v, want %d", len(us), us, tc.want)
			}
			// Together they cover both sentences.
			first, last := us[0], us[len(us)-1]
			if first.on > l.spans[0][0] || last.off < l.spans[1][1] {
				t.Errorf("utterances cover %s..%s, want %s..%s", ms(first.on), ms(last.off), ms(l.spans[0][0]), ms(l.spans[1][1]))
			}
		})
	}
}

func TestEndpointerInNoise(t *testing.T) {
	v := speak(t, "en", "I want a refund for my order")
	for _, kind := range []string{"white", "pink"} {
		t.Run(kind+"/alone", func(t *testing.T) {
			l := (&line{}).noise(kind, -45, 10*time.Second)
			if us := endpoint(t, EndpointConfig{}, l.telephone()); len(us) != 0 {
				t.Errorf("noise alone made %d utterances %+v", len(us), us)
			}
		})
		t.Run(kind+"/speech", func(t *testing.T) {
			l := (&line{}).silence(2013*time.Millisecond).speech(v, -30).silence(2*time.Second).
				noise(kind, -45, 0)
			us := endpoint(t, EndpointConfig{}, l.telephone())
			if len(us) != 1 {
				t.Fatalf("%d utterances %+v, want 1", len(us), us)
			}
			u, span := us[0], l.spans[0]
			t.Logf("start reported %s after onset, end %s after the true end", ms(u.startAt-span[0]), ms(u.endAt-span[1]))
			if lag := ms(u.startAt - span[0]); lag < 0 || lag > 120*time.Millisecond {
				t.Errorf("start reported %s after the onset, want 0..120ms", lag)
			}
			if u.endAt < 0 || u.off < span[1]-4*media.FrameSamples {
				t.Errorf("utterance %s..%s ends before the speech does (%s)", ms(u.on), ms(u.off), ms(span[1]))
			}
		})
	}
}

// click is a 40 ms burst: a decaying resonance, as a handset knock makes.
func click(d time.Duration, dbfs float64) []int16 {
	n := int(d.Milliseconds()) * samplesPerMs
	out := make([]int16, n)
	a := math.Pow(10, dbfs/20) * math.MaxInt16
	for i := range out {
		tt := float64(i) / media.Rate
		out[i] = sat(a * math.Exp(-tt/0.015) * math.Sin(2*math.Pi*900*tt))
	}
	return out
}

func TestEndpointerClick(t *testing.T) {
	for _, tc := range []struct {
		name  string
		burst time.Duration
		want  int
	}{
		{"40ms click", 40 * time.Millisecond, 0},
		// The same burst held longer is speech-like enough: the click is
		// refused for being short, not for being quiet.
		{"150ms burst", 150 * time.Millisecond, 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var b []int16
			if tc.burst <= 40*time.Millisecond {
				b = click(tc.burst, -6)
			} else {
				n := int(tc.burst.Milliseconds()) * samplesPerMs
				b = make([]int16, n)
				for i := range b {
					b[i] = sat(8000 * math.Sin(2*math.Pi*900*float64(i)/media.Rate))
				}
			}
			for _, off := range []time.Duration{1000 * time.Millisecond, 1010 * time.Millisecond, 1007 * time.Millisecond} {
				l := (&line{}).silence(off)
				l.pcm = append(l.pcm, b...)
				l.silence(time.Second).noise("white", -60, 0)
				if us := endpoint(t, EndpointConfig{}, l.telephone()); len(us) != tc.want {
					t.Errorf("burst at %s: %d utterances %+v, want %d", off, len(us), us, tc.want)
				}
			}
		})
	}
}

// hum is mains buzz: 50 Hz and its odd harmonics to 1 kHz, at a level
// going from `from` to `to` dBFS over its length.
func hum(d time.Duration, from, to float64) []int16 {
	n := int(d.Milliseconds()) * samplesPerMs
	out := make([]int16, n)
	// The sum of harmonics 1/k has an RMS of about 1.2 times one unit sine.
	for i := range out {
		tt := float64(i) / media.Rate
		lvl := from + (to-from)*float64(i)/float64(n)
		a := math.Pow(10, lvl/20) * math.MaxInt16 / 1.2
		var v float64
		for k := 1; k*50 <= 1000; k += 2 {
			v += math.Sin(2*math.Pi*float64(50*k)*tt) / float64(k)
		}
		out[i] = sat(a * v)
	}
	return out
}

func TestEndpointerRisingHum(t *testing.T) {
	for _, tc := range []struct {
		name string
		pcm  []int16
		want int
	}{
		// 2 s at -55 dBFS for the floor to settle, then 3 dB a second up
		// to -25 dBFS: the floor follows.
		{"rising", append(hum(2*time.Second, -55, -55), hum(10*time.Second, -55, -25)...), 0},
		// The same hum jumping 25 dB at once is taken for speech (and
		// kept until the floor wins it back): the test can fail.
		{"jump", append(hum(2*time.Second, -55, -55), hum(10*time.Second, -30, -30)...), 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			l := &line{pcm: tc.pcm}
			us := endpoint(t, EndpointConfig{}, l.telephone())
			if len(us) != tc.want {
				t.Errorf("%d utterances %+v, want %d", len(us), us, tc.want)
			}
		})
	}
}

func TestEndpointerMaxUtterance(t *testing.T) {
	v := speak(t, "en", "one two three four five six seven eight nine ten")
	l := (&line{}).silence(500 * time.Millisecond)
	for range 3 {
		l.speech(v, -20)
	}
	l.silence(time.Second).noise("white", -70, 0)
	cfg := EndpointConfig{MaxUtterance: 2 * time.Second}
	us := endpoint(t, cfg, l.telephone())
	if len(us) < 3 {
		t.Fatalf("%d utterances %+v over %s of speech, want it cut every 2s", len(us), us, ms(len(l.pcm)))
	}
	for _, u := range us[:len(us)-1] {
		if d := ms(u.off - u.on); d != cfg.MaxUtterance {
			t.Errorf("utterance %s..%s lasts %s, want %s", ms(u.on), ms(u.off), d, cfg.MaxUtterance)
		}
	}
}

func TestEndpointerLead(t *testing.T) {
	v := speak(t, "en", "I want a refund for my order")
	l := (&line{}).silence(time.Second).speech(v, -20).silence(time.Second).noise("white", -70, 0)
	pcm := l.telephone()
	e := NewEndpointer(EndpointConfig{})
	for i := 0; i+media.FrameSamples <= len(pcm); i += media.FrameSamples {
		if e.Push(pcm[i:i+media.FrameSamples]) != EndpointStart {
			continue
		}
		lead := e.AppendLead(nil)
		end := i + media.FrameSamples
		from := samples(e.SpeechStart() - 200*time.Millisecond)
		if len(lead) != end-from {
			t.Fatalf("lead of %s, want %s (200 ms pre-roll to the start)", ms(len(lead)), ms(end-from))
		}
		for j := range lead {
			if lead[j] != pcm[from+j] {
				t.Fatalf("lead sample %d is %d, want %d", j, lead[j], pcm[from+j])
			}
		}
		return
	}
	t.Fatal("no start")
}

func TestEndpointerPushAllocs(t *testing.T) {
	v := speak(t, "en", "I want a refund for my order")
	pcm := (&line{}).silence(time.Second).speech(v, -20).silence(time.Second).telephone()
	e := NewEndpointer(EndpointConfig{})
	i := 0
	allocs := testing.AllocsPerRun(len(pcm)/media.FrameSamples, func() {
		if i+media.FrameSamples > len(pcm) {
			i = 0
		}
		e.Push(pcm[i : i+media.FrameSamples])
		i += media.FrameSamples
	})
	if allocs != 0 {
		t.Errorf("Push allocates %v times per frame, want 0", allocs)
	}
}
