package calls

import (
	"bytes"
	"embed"
	"fmt"
	"io/fs"
	"strings"

	"github.com/sambung/sambung/media"
)

// The demo's prompts, rendered by scripts/prompts.sh (espeak-ng) and shipped
// in the binary, so the demo speaks on a machine without any TTS.
//
//go:embed prompts/*.wav
var promptFiles embed.FS

// prompts are loaded once and shared by every call.
type prompts struct {
	byName map[string]*media.Prompt
}

func loadPrompts() (*prompts, error) {
	p := &prompts{byName: map[string]*media.Prompt{}}
	err := fs.WalkDir(promptFiles, "prompts", func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		raw, err := promptFiles.ReadFile(path)
		if err != nil {
			return err
		}
		pr, err := media.LoadPrompt(bytes.NewReader(raw))
		if err != nil {
			return fmt.Errorf("built-in %s: %w", path, err)
		}
		p.byName[strings.TrimSuffix(strings.TrimPrefix(path, "prompts/"), ".wav")] = pr
		return nil
	})
	return p, err
}

// get returns a prompt by name; a missing one is a programming error caught
// by the tests, and plays as nothing.
func (p *prompts) get(name string) *media.Prompt { return p.byName[name] }

// digitPrompt names the prompt that speaks a DTMF digit.
func digitPrompt(d rune) string {
	switch d {
	case '*':
		return "digit-star"
	case '#':
		return "digit-hash"
	}
	return "digit-" + string(d)
}
