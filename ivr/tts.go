package ivr

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sync"

	"github.com/sambung/sambung/media"
)

// TTS turns prompt text into audio. Flows may give a WAV file or text per
// language; text goes through a TTS, cached (see Cache), so a prompt is
// rendered once, not once per call.
type TTS interface {
	// Name identifies the engine and its voice settings in cache keys:
	// changing either must change the name.
	Name() string
	// Speak renders text in the flow language lang ("en", "id", "zh", "yue"...).
	Speak(ctx context.Context, lang, text string) ([]byte, error)
}

// ErrNoTTS means no TTS engine is available on this machine.
var ErrNoTTS = errors.New("no TTS engine")

// espeakVoices maps flow languages to espeak-ng voices. Mandarin is "cmn"
// and Cantonese "yue" in espeak-ng.
var espeakVoices = map[string]string{
	"en": "en-us", "id": "id", "ms": "ms", "zh": "cmn", "yue": "yue", "tr": "tr",
}

// Espeak is a TTS on espeak-ng (Debian package espeak-ng): robotic but
// intelligible in every language of the demo, and free of any network.
type Espeak struct {
	bin   string
	speed int // words per minute
}

// NewEspeak finds espeak-ng. speed is words per minute (0: 150).
func NewEspeak(speed int) (*Espeak, error) {
	bin, err := exec.LookPath("espeak-ng")
	if err != nil {
		return nil, fmt.Errorf("%w: espeak-ng is not installed (apt-get install espeak-ng), or give WAV prompts", ErrNoTTS)
	}
	if speed == 0 {
		speed = 150
	}
	return &Espeak{bin: bin, speed: speed}, nil
}

// Name identifies the engine and speed.
func (e *Espeak) Name() string { return fmt.Sprintf("espeak-ng/%d", e.speed) }

// Speak returns a WAV of text, in the voice of lang.
func (e *Espeak) Speak(ctx context.Context, lang, text string) ([]byte, error) {
	voice, ok := espeakVoices[lang]
	if !ok {
		return nil, fmt.Errorf("espeak-ng: no voice for language %q (have en, id, ms, zh, yue, tr)", lang)
	}
	var out, errOut bytes.Buffer
	// The text goes on standard input, never on the command line, so no
	// prompt text can be read as an option.
	cmd := exec.CommandContext(ctx, e.bin, "-v", voice, "-s", fmt.Sprint(e.speed), "--stdout")
	cmd.Stdin = bytes.NewBufferString(text)
	cmd.Stdout, cmd.Stderr = &out, &errOut
	if err := cmd.Run(); err != nil {
		return nil, fmt.Errorf("espeak-ng %s: %v: %s", voice, err, bytes.TrimSpace(errOut.Bytes()))
	}
	return out.Bytes(), nil
}

// Cache renders each (engine, language, text) once: in memory for this
// process, and on disk under Dir so a restart does not render again. It is
// safe for concurrent use; concurrent requests for one prompt render it once.
type Cache struct {
	TTS TTS
	Dir string // empty: memory only

	mu       sync.Mutex
	prompts  map[string]*media.Prompt
	inflight map[string]*sync.WaitGroup
}

// Prompt returns the rendered prompt for text in lang.
func (c *Cache) Prompt(ctx context.Context, lang, text string) (*media.Prompt, error) {
	key := c.key(lang, text)
	for {
		c.mu.Lock()
		if c.prompts == nil {
			c.prompts, c.inflight = map[string]*media.Prompt{}, map[string]*sync.WaitGroup{}
		}
		if p, ok := c.prompts[key]; ok {
			c.mu.Unlock()
			return p, nil
		}
		if wg, busy := c.inflight[key]; busy {
			c.mu.Unlock()
			wg.Wait() // someone else is rendering it; then look again
			continue
		}
		wg := &sync.WaitGroup{}
		wg.Add(1)
		c.inflight[key] = wg
		c.mu.Unlock()

		p, err := c.render(ctx, key, lang, text)
		c.mu.Lock()
		delete(c.inflight, key)
		if err == nil {
			c.prompts[key] = p
		}
		c.mu.Unlock()
		wg.Done()
		return p, err
	}
}

func (c *Cache) key(lang, text string) string {
	h := sha256.Sum256([]byte(c.TTS.Name() + "\x00" + lang + "\x00" + text))
	return hex.EncodeToString(h[:])
}

// render loads the prompt from disk, or synthesises and stores it.
func (c *Cache) render(ctx context.Context, key, lang, text string) (*media.Prompt, error) {
	path := ""
	if c.Dir != "" {
		path = filepath.Join(c.Dir, key[:2], key+".wav")
		if p, err := media.LoadPromptFile(path); err == nil {
			return p, nil
		}
	}
	wav, err := c.TTS.Speak(ctx, lang, text)
	if err != nil {
		return nil, err
	}
	p, err := media.LoadPrompt(bytes.NewReader(wav))
	if err != nil {
		return nil, fmt.Errorf("%s rendered %q in %s as audio we cannot read: %w", c.TTS.Name(), text, lang, err)
	}
	if path != "" {
		// Written whole under a temporary name, then renamed: a crash leaves
		// no half-written prompt to be loaded next time.
		if err := os.MkdirAll(filepath.Dir(path), 0o750); err == nil {
			tmp := path + ".tmp"
			if os.WriteFile(tmp, wav, 0o640) == nil {
				_ = os.Rename(tmp, path)
			}
		}
	}
	return p, nil
}
