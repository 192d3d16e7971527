package ivr

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"strings"
	"sync"
	"unicode"

	"github.com/sambung/sambung/media"
)

// PromptVoice is the Voice of phone calls. Text is said, in order of
// preference: from Seed, recordings rendered ahead of time (the demo ships
// them so `make run` needs no TTS); whole, through Cache's TTS; or, with no
// TTS, piece by piece from Seed, values spoken digit by digit. WAV prompts
// are loaded once per file.
type PromptVoice struct {
	Cache *Cache // nil or with a nil TTS: no TTS on this machine
	Seed  fs.FS  // pre-rendered prompts, named by SeedName; may be nil

	mu    sync.Mutex
	files map[string]*media.Prompt
}

// SeedName is the file name of the pre-rendered recording of text in lang.
func SeedName(lang, text string) string {
	h := sha256.Sum256([]byte(lang + "\x00" + text))
	return hex.EncodeToString(h[:16]) + ".wav"
}

// Speak returns the audio of text in lang.
func (v *PromptVoice) Speak(ctx context.Context, lang, text string, pieces []Piece) ([]*media.Prompt, error) {
	if p := v.seed(lang, text); p != nil {
		return []*media.Prompt{p}, nil
	}
	if v.Cache != nil && v.Cache.TTS != nil {
		p, err := v.Cache.Prompt(ctx, lang, text)
		if err != nil {
			return nil, err
		}
		return []*media.Prompt{p}, nil
	}
	if len(pieces) == 0 {
		pieces = []Piece{{Text: text}}
	}
	var out []*media.Prompt
	for _, pc := range pieces {
		part := strings.TrimSpace(pc.Text)
		if part == "" {
			continue
		}
		if p := v.seed(lang, part); p != nil {
			out = append(out, p)
			continue
		}
		if !pc.Value {
			return nil, fmt.Errorf("%w, and %q in %s was not rendered ahead of time (install espeak-ng, or run scripts/prompts.sh)", ErrNoTTS, part, lang)
		}
		// A value: its digits one by one, anything else is left out.
		for _, r := range part {
			if unicode.IsDigit(r) {
				if p := v.seed(lang, string(r)); p != nil {
					out = append(out, p)
				}
			}
		}
	}
	return out, nil
}

func (v *PromptVoice) seed(lang, text string) *media.Prompt {
	if v.Seed == nil {
		return nil
	}
	name := SeedName(lang, text)
	v.mu.Lock()
	p, ok := v.files["seed:"+name]
	v.mu.Unlock()
	if ok {
		return p
	}
	f, err := v.Seed.Open(name)
	if err != nil {
		return nil
	}
	defer f.Close()
	p, err = media.LoadPrompt(f)
	if err != nil {
		return nil
	}
	v.remember("seed:"+name, p)
	return p
}

func (v *PromptVoice) remember(key string, p *media.Prompt) {
	v.mu.Lock()
	defer v.mu.Unlock()
	if v.files == nil {
		v.files = map[string]*media.Prompt{}
	}
	v.files[key] = p
}

// File loads the WAV prompt at path, once.
func (v *PromptVoice) File(path string) (*media.Prompt, error) {
	v.mu.Lock()
	p, ok := v.files[path]
	v.mu.Unlock()
	if ok {
		return p, nil
	}
	p, err := media.LoadPromptFile(path)
	if err != nil {
		return nil, err
	}
	v.remember(path, p)
	return p, nil
}

// Prepare renders every text prompt of f (and its sub-flows) that has no
// template values, in every language, so the first caller does not wait
// for the TTS and a missing voice is found at load, not on a call. It
// returns every prompt it could not render.
func (v *PromptVoice) Prepare(ctx context.Context, f *Flow) error {
	var errs []error
	seen := map[*Flow]bool{}
	var walk func(f *Flow)
	walk = func(f *Flow) {
		if seen[f] {
			return
		}
		seen[f] = true
		for _, text := range fixedTexts(f) {
			if _, err := v.Speak(ctx, text[0], text[1], nil); err != nil {
				errs = append(errs, fmt.Errorf("flow %s: %w", f.Name, err))
			}
		}
		for _, path := range mapKeys(f.Steps) {
			s := f.Steps[path]
			for _, p := range stepPrompts(s) {
				for _, wav := range p.WAV {
					if _, err := v.File(resolveIn(f, wav)); err != nil {
						errs = append(errs, fmt.Errorf("flow %s step %s: %w", f.Name, s.Name, err))
					}
				}
			}
		}
		for _, sf := range f.Subflows {
			walk(sf)
		}
	}
	walk(f)
	return errors.Join(errs...)
}

// fixedTexts lists (language, text) of every prompt of f with no template
// value, the disclosure first.
func fixedTexts(f *Flow) [][2]string {
	var out [][2]string
	for _, lang := range f.Languages {
		out = append(out, [2]string{lang, f.Disclosure[lang]})
		if f.BuiltinDisclosure {
			out = append(out, [2]string{lang, builtinUnrecorded[lang]})
		}
	}
	add := func(t *Template, lang string) {
		if t == nil {
			return
		}
		for _, p := range t.Parts {
			if p.Expr != nil {
				return
			}
		}
		out = append(out, [2]string{lang, t.Source})
	}
	for _, name := range mapKeys(f.Steps) {
		for _, p := range stepPrompts(f.Steps[name]) {
			for _, lang := range f.Languages {
				add(p.Text[lang], lang)
			}
		}
	}
	for _, name := range mapKeys(f.Knowledge) {
		for _, lang := range f.Languages {
			add(f.Knowledge[name][lang], lang)
		}
	}
	return out
}

// Texts lists every (language, text) a Voice may be asked to say for f and
// its sub-flows: fixed prompts whole, templated ones as their literal
// pieces, and the digits 0-9 in every language (values are said digit by
// digit when there is no TTS). scripts/prompts.sh renders these into the
// demo's seed.
func Texts(f *Flow) [][2]string {
	seen := map[[2]string]bool{}
	var out [][2]string
	add := func(lang, text string) {
		text = strings.TrimSpace(text)
		k := [2]string{lang, text}
		if text != "" && !seen[k] {
			seen[k] = true
			out = append(out, k)
		}
	}
	flows := map[*Flow]bool{}
	var walk func(f *Flow)
	walk = func(f *Flow) {
		if flows[f] {
			return
		}
		flows[f] = true
		for _, t := range fixedTexts(f) {
			add(t[0], t[1])
		}
		templ := func(t *Template, lang string) {
			if t == nil {
				return
			}
			for _, p := range t.Parts {
				if p.Expr == nil {
					add(lang, p.Text)
				}
			}
		}
		for _, name := range mapKeys(f.Steps) {
			for _, p := range stepPrompts(f.Steps[name]) {
				for lang, t := range p.Text {
					templ(t, lang)
				}
			}
		}
		for _, name := range mapKeys(f.Knowledge) {
			for lang, t := range f.Knowledge[name] {
				templ(t, lang)
			}
		}
		for _, lang := range f.Languages {
			for d := '0'; d <= '9'; d++ {
				add(lang, string(d))
			}
		}
		for _, sf := range f.Subflows {
			walk(sf)
		}
	}
	walk(f)
	return out
}

// stepPrompts lists the prompts a step may say.
func stepPrompts(s *Step) []Prompt {
	var out []Prompt
	switch s.Kind {
	case KindSay:
		out = append(out, s.Say.Prompt)
	case KindListen:
		out = append(out, s.Listen.Prompt)
		if s.Listen.Reprompt != nil {
			out = append(out, *s.Listen.Reprompt)
		}
	case KindGather:
		out = append(out, s.Gather.Prompt)
	case KindSurvey:
		out = append(out, s.Survey.Prompt)
	case KindVoicemail:
		if s.Voicemail.Prompt != nil {
			out = append(out, *s.Voicemail.Prompt)
		}
	case KindCallback:
		if s.Callback.Prompt != nil {
			out = append(out, *s.Callback.Prompt)
		}
	}
	return out
}
