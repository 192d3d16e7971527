package asr

import (
	"math"
	"math/rand/v2"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/sambung/sambung/internal/testenv"
)

// prosodyTone returns d of a periodic wave at f0 Hz: the given harmonics (1 is
// the fundamental), each at half the amplitude of the one before, scaled
// so the wave peaks near amp.
func prosodyTone(f0, amp float64, d time.Duration, harmonics ...int) []int16 {
	n := int(d.Seconds() * prosodyRate)
	out := make([]int16, n)
	var norm float64
	for i := range harmonics {
		norm += math.Pow(0.5, float64(i))
	}
	for i := range out {
		var v float64
		for k, h := range harmonics {
			v += math.Pow(0.5, float64(k)) * math.Sin(2*math.Pi*f0*float64(h)*float64(i)/prosodyRate)
		}
		out[i] = int16(amp * v / norm)
	}
	return out
}

func pushFrames(p *Prosody, pcm []int16) {
	for i := 0; i+160 <= len(pcm); i += 160 {
		p.Push(pcm[i : i+160])
	}
}

// The pitch of synthetic tones: pure sines, rich harmonic tones, and tones
// without their fundamental, as a telephone line (300-3400 Hz) delivers a
// low voice.
func TestProsodyPitchOfTones(t *testing.T) {
	cases := []struct {
		name      string
		f0        float64
		harmonics []int
	}{
		{"sine 100", 100, []int{1}},
		{"sine 150", 150, []int{1}},
		{"sine 220", 220, []int{1}},
		{"harmonic 100", 100, []int{1, 2, 3, 4, 5}},
		{"harmonic 150", 150, []int{1, 2, 3, 4}},
		{"harmonic 220", 220, []int{1, 2, 3}},
		{"no fundamental 100", 100, []int{3, 4, 5, 6, 7}},
		{"no fundamental 150", 150, []int{2, 3, 4, 5}},
		{"no fundamental 220", 220, []int{2, 3, 4}},
		{"low 65", 65, []int{1, 2, 3}},
		{"high 380", 380, []int{1, 2}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			var p Prosody
			pcm := prosodyTone(c.f0, 8000, time.Second, c.harmonics...)
			worst := 0.0
			frames := 0
			for i := 0; i+160 <= len(pcm); i += 160 {
				p.Push(pcm[i : i+160])
				if p.filled < yinHistory {
					continue
				}
				frames++
				if p.lastF0 == 0 {
					t.Fatalf("frame %d unvoiced", i/160)
				}
				worst = max(worst, math.Abs(p.lastF0-c.f0)/c.f0)
			}
			if frames < 45 {
				t.Fatalf("%d frames measured", frames)
			}
			if worst > 0.03 {
				t.Errorf("worst frame off by %.2f%%, want within 3%%", worst*100)
			}
			cue := p.Utterance()
			if err := math.Abs(cue.PitchHz-c.f0) / c.f0; err > 0.03 {
				t.Errorf("utterance pitch %.1f Hz, want %.0f within 3%%", cue.PitchHz, c.f0)
			}
			t.Logf("worst frame %.2f%%, utterance %.1f Hz", worst*100, cue.PitchHz)
		})
	}
}

// What is not a voice is not voiced: silence, noise, a quiet hum, and
// tones outside 60-400 Hz.
func TestProsodyUnvoiced(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	noise := make([]int16, prosodyRate)
	for i := range noise {
		noise[i] = int16(rng.NormFloat64() * 3000)
	}
	cases := []struct {
		name string
		pcm  []int16
	}{
		{"silence", make([]int16, prosodyRate)},
		{"white noise", noise},
		{"quiet hum", prosodyTone(150, 50, time.Second, 1, 2, 3)}, // about -56 dBFS
		{"too low", prosodyTone(40, 8000, time.Second, 1)},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			var p Prosody
			pushFrames(&p, c.pcm)
			cue := p.Utterance()
			if cue.Voiced > 40*time.Millisecond {
				t.Errorf("Voiced = %v, want 0", cue.Voiced)
			}
			if cue.Raised {
				t.Error("Raised")
			}
		})
	}
}

func TestProsodyLevelAndPitchRelativeToBaseline(t *testing.T) {
	var p Prosody
	pushFrames(&p, prosodyTone(120, 3000, 4*time.Second, 1, 2, 3))
	base := p.Utterance()
	if base.Voiced < 3900*time.Millisecond || base.Raised || math.Abs(base.LoudnessDB) > 0.5 || math.Abs(base.PitchSemitones) > 0.2 {
		t.Fatalf("baseline utterance = %+v, want about 4s voiced, 0 dB, 0 semitones", base)
	}
	cases := []struct {
		name   string
		f0     float64
		amp    float64
		raised bool
	}{
		{"same", 120, 3000, false},
		{"louder only", 120, 12000, false},
		{"higher only", 120 * math.Exp2(4.0/12), 3000, false},
		{"louder and a little higher", 120 * math.Exp2(1.0/12), 12000, false},
		{"louder and higher", 120 * math.Exp2(4.0/12), 12000, true},
		{"quieter and lower", 100, 1000, false},
	}
	for _, c := range cases {
		pushFrames(&p, prosodyTone(c.f0, c.amp, time.Second, 1, 2, 3))
		cue := p.Utterance()
		wantDB := 20 * math.Log10(c.amp/3000)
		wantST := 12 * math.Log2(c.f0/120)
		if math.Abs(cue.LoudnessDB-wantDB) > 0.5 || math.Abs(cue.PitchSemitones-wantST) > 0.3 || cue.Raised != c.raised {
			t.Errorf("%s: cue = %+v, want %.1f dB, %.1f semitones, Raised %v", c.name, cue, wantDB, wantST, c.raised)
		}
	}
}

func TestProsodyNoBaselineNoRaise(t *testing.T) {
	var p Prosody
	pushFrames(&p, prosodyTone(120, 2000, 500*time.Millisecond, 1, 2))
	p.Utterance()
	pushFrames(&p, prosodyTone(200, 16000, time.Second, 1, 2))
	if cue := p.Utterance(); cue.Raised {
		t.Errorf("raised against half a second of baseline: %+v", cue)
	}
}

func TestProsodyPushAllocatesNothing(t *testing.T) {
	var p Prosody
	pcm := prosodyTone(150, 8000, time.Second, 1, 2, 3)
	i := 0
	allocs := testing.AllocsPerRun(200, func() {
		p.Push(pcm[i : i+160])
		i = (i + 160) % (len(pcm) - 160)
	})
	if allocs != 0 {
		t.Errorf("Push allocates %v times per frame, want 0", allocs)
	}
}

func BenchmarkProsodyPush(b *testing.B) {
	var p Prosody
	pcm := prosodyTone(150, 8000, time.Second, 1, 2, 3)
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		p.Push(pcm[i : i+160])
		i = (i + 160) % (len(pcm) - 160)
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/20e6*100, "%cpu/call")
}

// prosodySpeech renders text with espeak-ng at the given pitch (0-99, 50 is the
// voice's own), as 8 kHz mono, scaled by gain.
func prosodySpeech(t *testing.T, text string, pitch string, gain float64) []int16 {
	t.Helper()
	espeak := testenv.LookPath(t, "espeak-ng", "Debian package espeak-ng")
	sox := testenv.LookPath(t, "sox", "Debian package sox")
	dir := t.TempDir()
	raw, out := filepath.Join(dir, "raw.wav"), filepath.Join(dir, "speech.wav")
	if b, err := exec.Command(espeak, "-v", "en", "-p", pitch, "-w", raw, text).CombinedOutput(); err != nil {
		t.Fatalf("espeak-ng: %v\n%s", err, b)
	}
	if b, err := exec.Command(sox, raw, "-r", "8000", "-c", "1", "-b", "16", "-e", "signed-integer", out).CombinedOutput(); err != nil {
		t.Fatalf("sox: %v\n%s", err, b)
	}
	a := testenv.ReadWAV(t, out)
	pcm := a.Channels[0]
	if a.Rate != prosodyRate {
		t.Fatalf("rate %d", a.Rate)
	}
	for i, s := range pcm {
		pcm[i] = int16(max(min(float64(s)*gain, math.MaxInt16), math.MinInt16))
	}
	return pcm
}

// A caller's calm speech, then the same words louder and higher, as
// espeak-ng says them: raised; again calm: not raised.
func TestProsodySpeech(t *testing.T) {
	testenv.NeedPeers(t, "espeak-ng and sox")
	const (
		calmText  = "Hello, I would like to check the status of my order please. It was placed last week and has not arrived."
		againText = "I have been waiting for my parcel for two weeks now and nobody has called me back about it."
	)
	var p Prosody
	pushFrames(&p, prosodySpeech(t, calmText, "40", 0.3))
	base := p.Utterance()
	t.Logf("baseline: %+v", base)
	if base.Voiced < 1500*time.Millisecond {
		t.Fatalf("baseline voiced %v, want over 1.5s of 5s of speech", base.Voiced)
	}

	calm := prosodySpeech(t, againText, "40", 0.3)
	pushFrames(&p, calm)
	same := p.Utterance()
	t.Logf("same level: %+v", same)
	if same.Raised || math.Abs(same.LoudnessDB) > 3 || math.Abs(same.PitchSemitones) > 1.5 {
		t.Errorf("same voice: %+v, want not raised, within 3 dB and 1.5 semitones", same)
	}

	pushFrames(&p, prosodySpeech(t, againText, "90", 1.2))
	raised := p.Utterance()
	t.Logf("raised: %+v", raised)
	if !raised.Raised {
		t.Errorf("louder and higher: %+v, want Raised", raised)
	}

	pushFrames(&p, prosodySpeech(t, againText, "40", 1.2))
	louder := p.Utterance()
	t.Logf("louder only: %+v", louder)
	if louder.Raised || louder.LoudnessDB < 9 {
		t.Errorf("louder only: %+v, want about +12 dB and not raised", louder)
	}

	pushFrames(&p, make([]int16, 2*prosodyRate))
	if silent := p.Utterance(); silent.Voiced != 0 || silent.Raised {
		t.Errorf("silence: %+v, want nothing voiced", silent)
	}
}
