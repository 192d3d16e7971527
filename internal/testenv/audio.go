package testenv

import (
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/go-audio/wav"
)

// Audio is a decoded WAV: one slice of samples per channel.
type Audio struct {
	Rate     int
	Channels [][]int16
}

// ReadWAV decodes a 16-bit PCM WAV file.
func ReadWAV(t testing.TB, path string) Audio {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	d := wav.NewDecoder(f)
	buf, err := d.FullPCMBuffer()
	if err != nil {
		t.Fatalf("decode %s: %v", path, err)
	}
	if d.BitDepth != 16 {
		t.Fatalf("%s: %d-bit, want 16", path, d.BitDepth)
	}
	n := buf.Format.NumChannels
	a := Audio{Rate: buf.Format.SampleRate, Channels: make([][]int16, n)}
	for i, v := range buf.Data {
		a.Channels[i%n] = append(a.Channels[i%n], int16(v))
	}
	return a
}

// Duration is the audio's length.
func (a Audio) Duration() time.Duration {
	if len(a.Channels) == 0 {
		return 0
	}
	return time.Duration(len(a.Channels[0])) * time.Second / time.Duration(a.Rate)
}

// DBFS is the level of channel ch between from and to, in dB relative to
// full scale (a full-scale square wave is 0; silence is -100).
func (a Audio) DBFS(ch int, from, to time.Duration) float64 {
	s := a.Channels[ch]
	lo := min(len(s), int(from.Seconds()*float64(a.Rate)))
	hi := min(len(s), int(to.Seconds()*float64(a.Rate)))
	return dbfs(s[lo:hi])
}

func dbfs(s []int16) float64 {
	if len(s) == 0 {
		return -100
	}
	var sum float64
	for _, v := range s {
		sum += float64(v) * float64(v)
	}
	rms := math.Sqrt(sum / float64(len(s)))
	if rms < 1 {
		return -100
	}
	return 20 * math.Log10(rms/32768)
}

// Voiced is how long channel ch carries sound: the total of its 20 ms
// windows louder than threshold dBFS.
func (a Audio) Voiced(ch int, threshold float64) time.Duration {
	s := a.Channels[ch]
	w := a.Rate / 50
	var n int
	for i := 0; i+w <= len(s); i += w {
		if dbfs(s[i:i+w]) > threshold {
			n++
		}
	}
	return time.Duration(n) * 20 * time.Millisecond
}

// Speech renders text with espeak-ng as 8 kHz 16-bit mono, followed by pad
// of silence (baresip's call ends when its microphone file does).
func Speech(t testing.TB, voice, text string, pad time.Duration) string {
	t.Helper()
	return SpeechAfter(t, voice, text, 0, pad)
}

// SpeechAfter is Speech with lead of silence before the words: a caller
// who listens first, then speaks.
func SpeechAfter(t testing.TB, voice, text string, lead, pad time.Duration) string {
	t.Helper()
	espeak := LookPath(t, "espeak-ng", "Debian package espeak-ng")
	sox := LookPath(t, "sox", "Debian package sox")
	dir := t.TempDir()
	raw, out := filepath.Join(dir, "raw.wav"), filepath.Join(dir, "speech.wav")
	if b, err := exec.Command(espeak, "-v", voice, "-w", raw, text).CombinedOutput(); err != nil {
		t.Fatalf("espeak-ng: %v\n%s", err, b)
	}
	// -R: sox dithers when it resamples, from a new seed each run unless
	// told to repeat; the same words must make the same samples, or a
	// recognizer's score on them moves from one run to the next.
	args := []string{"-R", raw, "-r", "8000", "-c", "1", "-b", "16", "-e", "signed-integer", out}
	if pad > 0 || lead > 0 {
		args = append(args, "pad", strconv.FormatFloat(lead.Seconds(), 'f', 3, 64), strconv.FormatFloat(pad.Seconds(), 'f', 3, 64))
	}
	if b, err := exec.Command(sox, args...).CombinedOutput(); err != nil {
		t.Fatalf("sox: %v\n%s", err, b)
	}
	return out
}

// Silence is a WAV of d of silence at 8 kHz 16-bit mono: a caller who says
// nothing.
func Silence(t testing.TB, d time.Duration) string {
	t.Helper()
	sox := LookPath(t, "sox", "Debian package sox")
	out := filepath.Join(t.TempDir(), "silence.wav")
	if b, err := exec.Command(sox, "-n", "-r", "8000", "-c", "1", "-b", "16", "-e", "signed-integer", out,
		"trim", "0", strconv.FormatFloat(d.Seconds(), 'f', 3, 64)).CombinedOutput(); err != nil {
		t.Fatalf("sox: %v\n%s", err, b)
	}
	return out
}
