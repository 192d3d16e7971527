package media

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io/fs"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/go-audio/audio"
	"github.com/go-audio/wav"
)

// encodeWAV writes a WAV file with go-audio/wav: bits-deep PCM at rate, one
// channel per slice of chans (int16 samples, scaled to the depth).
func encodeWAV(t testing.TB, rate, bits int, chans ...[]int16) []byte {
	t.Helper()
	path := filepath.Join(t.TempDir(), "prompt.wav")
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	enc := wav.NewEncoder(f, rate, bits, len(chans), wavPCM)
	enc.Metadata = &wav.Metadata{Title: "test prompt"} // a LIST chunk after the data
	buf := &audio.IntBuffer{Format: &audio.Format{NumChannels: len(chans), SampleRate: rate}, SourceBitDepth: bits}
	for i := range chans[0] {
		for _, c := range chans {
			v := int(c[i])
			switch bits {
			case 8:
				v = v>>8 + 128
			case 24:
				v <<= 8
			case 32:
				v <<= 16
			}
			buf.Data = append(buf.Data, v)
		}
	}
	if err := enc.Write(buf); err != nil {
		t.Fatal(err)
	}
	if err := enc.Close(); err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// riffChunk is a RIFF chunk: id, little-endian size, body, padding.
func riffChunk(id string, body []byte) []byte {
	b := append([]byte(id), binary.LittleEndian.AppendUint32(nil, uint32(len(body)))...)
	b = append(b, body...)
	if len(body)%2 == 1 {
		b = append(b, 0)
	}
	return b
}

// craftWAV builds a WAV file by hand from chunks.
func craftWAV(chunks ...[]byte) []byte {
	body := []byte("WAVE")
	for _, c := range chunks {
		body = append(body, c...)
	}
	return append(append([]byte("RIFF"), binary.LittleEndian.AppendUint32(nil, uint32(len(body)))...), body...)
}

// fmtBody is the body of a fmt chunk; ext, if any, is the extension after
// the 16 bytes every format has.
func fmtBody(format uint16, chans, rate, bits int, ext ...byte) []byte {
	b := binary.LittleEndian.AppendUint16(nil, format)
	b = binary.LittleEndian.AppendUint16(b, uint16(chans))
	b = binary.LittleEndian.AppendUint32(b, uint32(rate))
	b = binary.LittleEndian.AppendUint32(b, uint32(rate*chans*bits/8))
	b = binary.LittleEndian.AppendUint16(b, uint16(chans*bits/8))
	b = binary.LittleEndian.AppendUint16(b, uint16(bits))
	return append(b, ext...)
}

// extensible is the 24-byte extension of WAVE_FORMAT_EXTENSIBLE naming sub.
func extensible(sub uint16, bits int) []byte {
	b := binary.LittleEndian.AppendUint16(nil, 22) // cbSize
	b = binary.LittleEndian.AppendUint16(b, uint16(bits))
	b = binary.LittleEndian.AppendUint32(b, 0) // channel mask
	b = binary.LittleEndian.AppendUint16(b, sub)
	// The rest of the KSDATAFORMAT_SUBTYPE GUID.
	return append(b, 0x00, 0x00, 0x00, 0x00, 0x10, 0x00, 0x80, 0x00, 0x00, 0xAA, 0x00, 0x38, 0x9B, 0x71)
}

// pcm16 is samples as 16-bit little-endian PCM.
func pcm16(samples []int16) []byte {
	var b []byte
	for _, s := range samples {
		b = binary.LittleEndian.AppendUint16(b, uint16(s))
	}
	return b
}

// playAll plays a prompt to its end and returns what it played, checking
// that every frame but the first false one reports true.
func playAll(t *testing.T, p *Prompt) []int16 {
	t.Helper()
	pl := p.Player()
	var out []int16
	frame := make([]int16, FrameSamples)
	for pl.ReadFrame(frame) {
		out = append(out, frame...)
		if len(out) > 10*Rate*60 {
			t.Fatal("prompt never ends")
		}
	}
	return out
}

func TestLoadPrompt(t *testing.T) {
	type wavCase struct {
		name  string
		file  []byte
		level float64 // of the 1 kHz tone after loading, dBFS
		dur   time.Duration
	}
	var cases []wavCase
	const dur = 500 * time.Millisecond
	for _, rate := range []int{8000, 16000, 22050, 44100, 48000} {
		n := rate / 2
		tone := sineDBFS(n, rate, 1000, -6)
		for _, bits := range []int{16, 24} {
			cases = append(cases,
				wavCase{fmt.Sprintf("%d Hz %d-bit mono", rate, bits), encodeWAV(t, rate, bits, tone), -6, dur},
				// A tone on the left and nothing on the right mix down
				// to the tone at half the amplitude.
				wavCase{fmt.Sprintf("%d Hz %d-bit stereo", rate, bits), encodeWAV(t, rate, bits, tone, make([]int16, n)), -12, dur})
		}
	}
	tone8k := sineDBFS(4000, 8000, 1000, -6)
	tone48k := sineDBFS(24000, 48000, 1000, -6)
	ulaw := make([]byte, len(tone8k))
	PCMU.Encode(ulaw, tone8k)
	alaw := make([]byte, len(tone8k))
	PCMA.Encode(alaw, tone8k)
	var float32s, float64s []byte
	for _, s := range tone48k {
		float32s = binary.LittleEndian.AppendUint32(float32s, math.Float32bits(float32(s)/32768))
		float64s = binary.LittleEndian.AppendUint64(float64s, math.Float64bits(float64(s)/32768))
	}
	streamed := craftWAV(riffChunk("fmt ", fmtBody(wavPCM, 1, 8000, 16)), riffChunk("data", pcm16(tone8k)))
	binary.LittleEndian.PutUint32(streamed[40:], 0xFFFFFFFF) // size unknown when the header was written
	cases = append(cases,
		wavCase{"8000 Hz 8-bit mono", encodeWAV(t, 8000, 8, tone8k), -6, dur},
		wavCase{"44100 Hz 32-bit stereo", encodeWAV(t, 44100, 32, sineDBFS(22050, 44100, 1000, -6), sineDBFS(22050, 44100, 1000, -6)), -6, dur},
		wavCase{"µ-law", craftWAV(riffChunk("fmt ", fmtBody(wavULaw, 1, 8000, 8)), riffChunk("data", ulaw)), -6, dur},
		wavCase{"A-law", craftWAV(riffChunk("fmt ", fmtBody(wavALaw, 1, 8000, 8)), riffChunk("data", alaw)), -6, dur},
		wavCase{"float32 48 kHz", craftWAV(riffChunk("fmt ", fmtBody(wavFloat, 1, 48000, 32)), riffChunk("data", float32s)), -6, dur},
		wavCase{"float64 48 kHz", craftWAV(riffChunk("fmt ", fmtBody(wavFloat, 1, 48000, 64)), riffChunk("data", float64s)), -6, dur},
		wavCase{"extensible PCM 16-bit", craftWAV(riffChunk("fmt ", fmtBody(wavExtensible, 1, 8000, 16, extensible(wavPCM, 16)...)), riffChunk("data", pcm16(tone8k))), -6, dur},
		wavCase{"metadata before fmt, odd-sized chunk", craftWAV(
			// A LIST whose entry claims 4 GiB: go-audio/wav would
			// try to allocate that; the loader never shows it.
			riffChunk("LIST", append([]byte("INFOINAM"), 0xFF, 0xFF, 0xFF, 0xFF, 'x')),
			riffChunk("junk", []byte{1, 2, 3}),
			riffChunk("fmt ", fmtBody(wavPCM, 1, 8000, 16)),
			riffChunk("fact", []byte{0, 0, 0, 0}),
			riffChunk("data", pcm16(tone8k))), -6, dur},
		wavCase{"data size left unknown", streamed, -6, dur},
		wavCase{"odd length, one sample", craftWAV(riffChunk("fmt ", fmtBody(wavPCM, 1, 8000, 8)), riffChunk("data", []byte{200})), 0, time.Second / Rate},
	)
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			p, err := LoadPrompt(bytes.NewReader(c.file))
			if err != nil {
				t.Fatal(err)
			}
			if d := p.Duration(); d < c.dur || d > c.dur+FrameDuration {
				t.Errorf("Duration = %v, want %v (within a frame)", d, c.dur)
			}
			if c.dur < 100*time.Millisecond {
				return
			}
			out := playAll(t, p)
			// 8-bit and G.711 audio is noisier: -48 and about -38 dB.
			floor := 50.0
			if strings.Contains(c.name, "8-bit") || strings.Contains(c.name, "law") {
				floor = 30
			}
			assertPureTone(t, out[400:len(out)-400], Rate, 1000, c.level, 0.3, floor)
		})
	}
}

func TestLoadPromptErrors(t *testing.T) {
	pcmFmt := riffChunk("fmt ", fmtBody(wavPCM, 1, 8000, 16))
	cases := []struct {
		name string
		file []byte
		want string // the whole message, or a part of it
	}{
		{"empty input", nil, "prompt: the file is empty, not a WAV file"},
		{"junk", []byte("<html>404 not found</html>"), `prompt: not a WAV file: it starts with "<html>404 no", not RIFF....WAVE`},
		{"MP3 file", []byte("ID3\x04\x00\x00\x00\x00\x00\x00"), "prompt: not a WAV file: an MP3 file; convert with sox in.wav -e signed -b 16 out.wav"},
		{"Ogg file", []byte("OggS\x00\x02"), "an Ogg file"},
		{"RIFF but not WAVE", []byte("RIFF\x04\x00\x00\x00AVI "), "not a WAV file"},
		{"MP3 in a WAV", craftWAV(riffChunk("fmt ", fmtBody(0x55, 1, 8000, 0)), riffChunk("data", []byte{1, 2, 3, 4})),
			"prompt: WAV format 85 (MP3) is not PCM; convert with sox in.wav -e signed -b 16 out.wav"},
		{"ADPCM in extensible WAV", craftWAV(riffChunk("fmt ", fmtBody(wavExtensible, 1, 8000, 4, extensible(2, 4)...)), riffChunk("data", []byte{1, 2})),
			"WAV format 2 (Microsoft ADPCM) is not PCM"},
		{"unknown format", craftWAV(riffChunk("fmt ", fmtBody(0x4242, 1, 8000, 16)), riffChunk("data", []byte{1, 2})), "WAV format 16962 is not PCM"},
		{"12-bit PCM", craftWAV(riffChunk("fmt ", fmtBody(wavPCM, 1, 8000, 12)), riffChunk("data", []byte{1, 2})), "12-bit samples"},
		{"no audio", craftWAV(pcmFmt, riffChunk("data", nil)), "prompt: WAV has no audio: its data chunk is empty"},
		{"half a sample", craftWAV(pcmFmt, riffChunk("data", []byte{1})), "no audio"},
		{"no data chunk", craftWAV(pcmFmt), "no data chunk"},
		{"no fmt chunk", craftWAV(riffChunk("data", []byte{1, 2})), "before the fmt chunk"},
		{"fmt chunk cut short", craftWAV(riffChunk("fmt ", fmtBody(wavPCM, 1, 8000, 16)[:12])), "fmt chunk of 12 bytes, want at least 16"},
		{"fmt chunk past the end", craftWAV(riffChunk("fmt ", fmtBody(wavPCM, 1, 8000, 16)))[:30], "fmt chunk of 16 bytes, but the file ends 10 bytes into it"},
		{"short extensible", craftWAV(riffChunk("fmt ", fmtBody(wavExtensible, 1, 8000, 16, 0, 0)), riffChunk("data", []byte{1, 2})), "want 40"},
		{"no channels", craftWAV(riffChunk("fmt ", fmtBody(wavPCM, 0, 8000, 16)), riffChunk("data", []byte{1, 2})), "0 channels"},
		{"rate 0", craftWAV(riffChunk("fmt ", fmtBody(wavPCM, 1, 0, 16)), riffChunk("data", []byte{1, 2})), "sample rate 0 Hz is out of range"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			p, err := LoadPrompt(bytes.NewReader(c.file))
			if err == nil {
				t.Fatalf("loaded a prompt of %v", p.Duration())
			}
			if !strings.Contains(err.Error(), c.want) {
				t.Errorf("error %q, want %q", err, c.want)
			}
		})
	}
	// An empty WAV as go-audio/wav writes it.
	if _, err := LoadPrompt(bytes.NewReader(encodeWAV(t, 16000, 16, nil))); err == nil || !strings.Contains(err.Error(), "no audio") {
		t.Errorf("empty WAV: %v", err)
	}
}

func TestLoadPromptFile(t *testing.T) {
	dir := t.TempDir()
	good := filepath.Join(dir, "welcome.wav")
	if err := os.WriteFile(good, encodeWAV(t, 16000, 16, sineDBFS(16000, 16000, 1000, -6)), 0o644); err != nil {
		t.Fatal(err)
	}
	p, err := LoadPromptFile(good)
	if err != nil {
		t.Fatal(err)
	}
	if p.Duration() != time.Second {
		t.Errorf("Duration = %v, want 1s", p.Duration())
	}

	mp3 := filepath.Join(dir, "greeting.wav")
	if err := os.WriteFile(mp3, craftWAV(riffChunk("fmt ", fmtBody(0x55, 1, 8000, 0)), riffChunk("data", []byte{1, 2})), 0o644); err != nil {
		t.Fatal(err)
	}
	_, err = LoadPromptFile(mp3)
	want := fmt.Sprintf("prompt %s: WAV format 85 (MP3) is not PCM; convert with sox %s -e signed -b 16 out.wav", mp3, mp3)
	if err == nil || err.Error() != want {
		t.Errorf("error %q,\nwant  %q", err, want)
	}
	// LoadPrompt on the open file names it too.
	f, err := os.Open(mp3)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if _, err := LoadPrompt(f); err == nil || err.Error() != want {
		t.Errorf("LoadPrompt(file): %q,\nwant %q", err, want)
	}

	missing := filepath.Join(dir, "missing.wav")
	_, err = LoadPromptFile(missing)
	if err == nil || !errors.Is(err, fs.ErrNotExist) || !strings.HasPrefix(err.Error(), "prompt "+missing+": ") {
		t.Errorf("missing file: %v", err)
	}
}

func TestPromptPlayer(t *testing.T) {
	// 1000 samples: six frames and a quarter.
	file := encodeWAV(t, 8000, 16, sineDBFS(1000, 8000, 1000, -6))
	p, err := LoadPrompt(bytes.NewReader(file))
	if err != nil {
		t.Fatal(err)
	}
	if p.Duration() != 125*time.Millisecond {
		t.Errorf("Duration = %v, want 125ms", p.Duration())
	}
	a, b := p.Player(), p.Player()
	frame := make([]int16, FrameSamples)
	for i := range 7 {
		if !a.ReadFrame(frame) {
			t.Fatalf("player ended after %d frames, want 7", i)
		}
		audible := frame
		if i == 6 {
			// The last frame: 40 samples of the prompt, then silence.
			audible = frame[:40]
			if got := DBFS(frame[40:]); got != SilenceDBFS {
				t.Errorf("padding of the last frame at %.1f dBFS, want silence", got)
			}
		}
		if got := DBFS(audible); math.Abs(got+6) > 0.5 {
			t.Errorf("frame %d at %.1f dBFS, want -6", i, got)
		}
	}
	for range 2 {
		frame := constFrame(5)
		if a.ReadFrame(frame) {
			t.Fatal("player still playing after the prompt's end")
		}
		if DBFS(frame) != SilenceDBFS {
			t.Error("ended player did not leave the frame silent")
		}
	}
	// Another player of the same prompt starts from the beginning.
	if !b.ReadFrame(frame) || math.Abs(DBFS(frame)+6) > 0.5 {
		t.Errorf("second player: first frame at %.1f dBFS", DBFS(frame))
	}
}

func TestPromptPlayerAllocatesNothing(t *testing.T) {
	p := &Prompt{samples: sineDBFS(10*Rate, Rate, 1000, -6)}
	pl := p.Player()
	frame := make([]int16, FrameSamples)
	if n := testing.AllocsPerRun(200, func() { pl.ReadFrame(frame) }); n != 0 {
		t.Errorf("%.1f allocations per frame, want 0", n)
	}
}

func FuzzLoadPrompt(f *testing.F) {
	tone := sineDBFS(400, 8000, 1000, -6)
	f.Add(encodeWAV(f, 8000, 16, tone))
	f.Add(encodeWAV(f, 22050, 24, tone, tone))
	f.Add(craftWAV(riffChunk("fmt ", fmtBody(wavExtensible, 2, 16000, 16, extensible(wavPCM, 16)...)), riffChunk("data", pcm16(tone))))
	f.Add(craftWAV(riffChunk("LIST", []byte("INFOINAM\x05\x00\x00\x00hello")), riffChunk("fmt ", fmtBody(wavULaw, 1, 8000, 8)), riffChunk("data", []byte{1, 2, 3})))
	f.Add([]byte("RIFF\x00\x00\x00\x00WAVEfmt "))
	f.Fuzz(func(t *testing.T, file []byte) {
		p, err := LoadPrompt(bytes.NewReader(file))
		if err != nil {
			return
		}
		if p.Duration() <= 0 {
			t.Fatalf("loaded a prompt of %v", p.Duration())
		}
		frame := make([]int16, FrameSamples)
		for pl := p.Player(); pl.ReadFrame(frame); {
		}
	})
}

func BenchmarkPromptPlayerFrame(b *testing.B) {
	b.ReportAllocs()
	p := &Prompt{samples: sineDBFS(60*Rate, Rate, 1000, -6)}
	pl := p.Player()
	frame := make([]int16, FrameSamples)
	for b.Loop() {
		if !pl.ReadFrame(frame) {
			pl = p.Player()
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N), "ns/frame")
}

// BenchmarkLoadPrompt44100 loads a 10 s stereo 16-bit prompt at 44.1 kHz.
func BenchmarkLoadPrompt44100(b *testing.B) {
	b.ReportAllocs()
	tone := sineDBFS(10*44100, 44100, 1000, -6)
	file := encodeWAV(b, 44100, 16, tone, tone)
	for b.Loop() {
		if _, err := LoadPrompt(bytes.NewReader(file)); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.Elapsed().Milliseconds())/float64(b.N), "ms/load")
}

func TestPromptWriteWAVRoundTrips(t *testing.T) {
	p := &Prompt{samples: sineDBFS(1234, Rate, 700, -9)}
	var buf bytes.Buffer
	if err := p.WriteWAV(&buf); err != nil {
		t.Fatal(err)
	}
	if buf.Len() != 44+2*1234 {
		t.Fatalf("%d bytes, want %d", buf.Len(), 44+2*1234)
	}
	back, err := LoadPrompt(bytes.NewReader(buf.Bytes()))
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(back.samples, p.samples) {
		t.Error("the samples read back differ from those written")
	}
	buf.Reset()
	if err := p.WriteULawWAV(&buf); err != nil {
		t.Fatal(err)
	}
	if buf.Len() != 44+1234 {
		t.Fatalf("µ-law: %d bytes, want %d", buf.Len(), 44+1234)
	}
	back, err = LoadPrompt(bytes.NewReader(buf.Bytes()))
	if err != nil {
		t.Fatal(err)
	}
	want := make([]int16, len(p.samples))
	enc := make([]byte, len(p.samples))
	PCMU.Encode(enc, p.samples)
	PCMU.Decode(want, enc)
	if !slices.Equal(back.samples, want) {
		t.Error("µ-law: the samples read back are not the G.711 round trip of those written")
	}
}
