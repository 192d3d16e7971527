package ivr

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"math"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/sambung/sambung/internal/testenv"
	"github.com/sambung/sambung/media"
)

// level plays p and returns its duration and level in dBFS.
func level(p *media.Prompt) (time.Duration, float64) {
	pl := p.Player()
	var all []int16
	frame := make([]int16, media.FrameSamples)
	for pl.ReadFrame(frame) {
		all = append(all, frame...)
	}
	return p.Duration(), media.DBFS(all)
}

func TestEspeakSpeaksEveryDemoLanguage(t *testing.T) {
	testenv.LookPath(t, "espeak-ng", "Debian package espeak-ng")
	e, err := NewEspeak(0)
	if err != nil {
		t.Fatal(err)
	}
	c := &Cache{TTS: e}
	for lang, text := range map[string]string{
		"en": "Where is my order?", "id": "Di mana pesanan saya?", "zh": "我的订单在哪里", "yue": "我嘅訂單喺邊度",
	} {
		p, err := c.Prompt(context.Background(), lang, text)
		if err != nil {
			t.Fatalf("%s: %v", lang, err)
		}
		d, dbfs := level(p)
		if d < 300*time.Millisecond || d > 10*time.Second || dbfs < -40 {
			t.Errorf("%s: %s at %.1f dBFS; want a second or two of speech", lang, d, dbfs)
		}
	}
	if _, err := e.Speak(context.Background(), "xx", "hello"); err == nil {
		t.Error("a language with no voice was spoken")
	}
	// Text that looks like an option is spoken, not obeyed.
	if p, err := c.Prompt(context.Background(), "en", "--version"); err != nil || p.Duration() < 300*time.Millisecond {
		t.Errorf("option-like text: %v", err)
	}
}

// fakeTTS returns a 1 kHz tone WAV per request and counts them.
type fakeTTS struct {
	name  string
	calls atomic.Int64
	fail  error
	delay time.Duration
}

func (f *fakeTTS) Name() string { return f.name }
func (f *fakeTTS) Speak(context.Context, string, string) ([]byte, error) {
	f.calls.Add(1)
	time.Sleep(f.delay) // a slow engine, so concurrent requests overlap
	if f.fail != nil {
		return nil, f.fail
	}
	return toneWAV(500 * time.Millisecond), nil
}

// toneWAV is a 16-bit mono 8 kHz WAV of a 1 kHz tone.
func toneWAV(d time.Duration) []byte {
	n := int(d.Seconds() * 8000)
	var b bytes.Buffer
	b.WriteString("RIFF")
	_ = binary.Write(&b, binary.LittleEndian, uint32(36+2*n))
	b.WriteString("WAVEfmt ")
	for _, v := range []any{uint32(16), uint16(1), uint16(1), uint32(8000), uint32(16000), uint16(2), uint16(16)} {
		_ = binary.Write(&b, binary.LittleEndian, v)
	}
	b.WriteString("data")
	_ = binary.Write(&b, binary.LittleEndian, uint32(2*n))
	for i := range n {
		_ = binary.Write(&b, binary.LittleEndian, int16(8000*math.Sin(2*math.Pi*1000*float64(i)/8000)))
	}
	return b.Bytes()
}

func TestCacheRendersEachPromptOnce(t *testing.T) {
	dir := t.TempDir()
	f := &fakeTTS{name: "fake/1", delay: 50 * time.Millisecond}
	c := &Cache{TTS: f, Dir: dir}
	ctx := context.Background()
	var wg sync.WaitGroup
	for range 10 {
		wg.Go(func() {
			if _, err := c.Prompt(ctx, "en", "hello"); err != nil {
				t.Error(err)
			}
		})
	}
	wg.Wait()
	if n := f.calls.Load(); n != 1 {
		t.Errorf("10 concurrent requests rendered %d times, want 1", n)
	}
	p, _ := c.Prompt(ctx, "en", "hello")
	if d, dbfs := level(p); d != 500*time.Millisecond || dbfs < -20 {
		t.Errorf("cached prompt: %s at %.1f dBFS", d, dbfs)
	}
	c.Prompt(ctx, "id", "hello")  // another language
	c.Prompt(ctx, "en", "hello!") // other text
	if n := f.calls.Load(); n != 3 {
		t.Errorf("renders after two new prompts: %d, want 3", n)
	}
	// A new process (a new Cache) finds them on disk.
	f2 := &fakeTTS{name: "fake/1"}
	if _, err := (&Cache{TTS: f2, Dir: dir}).Prompt(ctx, "en", "hello"); err != nil || f2.calls.Load() != 0 {
		t.Errorf("restart rendered again: %d calls, %v", f2.calls.Load(), err)
	}
	// Another engine or voice setting renders anew.
	f3 := &fakeTTS{name: "fake/2"}
	if _, err := (&Cache{TTS: f3, Dir: dir}).Prompt(ctx, "en", "hello"); err != nil || f3.calls.Load() != 1 {
		t.Errorf("another engine: %d calls, %v", f3.calls.Load(), err)
	}
}

func TestCacheDoesNotKeepFailures(t *testing.T) {
	f := &fakeTTS{name: "fake/1", fail: errors.New("engine down")}
	c := &Cache{TTS: f}
	if _, err := c.Prompt(context.Background(), "en", "hi"); err == nil {
		t.Fatal("a failed render succeeded")
	}
	f.fail = nil
	if _, err := c.Prompt(context.Background(), "en", "hi"); err != nil || f.calls.Load() != 2 {
		t.Errorf("retry after failure: %v, %d calls", err, f.calls.Load())
	}
}
