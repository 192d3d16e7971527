package main

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/sambung/sambung/ivr"
	"github.com/sambung/sambung/media"
)

// renderPrompts renders every text a flow may say (ivr.Texts) with
// espeak-ng into dir, as 8 kHz µ-law WAV files (what a PCMU caller hears,
// at half the size of 16-bit), named by ivr.SeedName, and removes recordings there
// that the flow no longer says. A server given dir as its prompt seed then
// speaks the flow with no TTS installed. scripts/prompts.sh runs it for
// the demo.
func renderPrompts(ctx context.Context, flowPath, dir string, out io.Writer) error {
	f, err := ivr.Load(flowPath)
	if err != nil {
		return err
	}
	tts, err := ivr.NewEspeak(0)
	if err != nil {
		return err
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	keep := map[string]bool{}
	rendered := 0
	for _, t := range ivr.Texts(f) {
		name := ivr.SeedName(t[0], t[1])
		keep[name] = true
		path := filepath.Join(dir, name)
		if _, err := os.Stat(path); err == nil {
			continue
		}
		wav, err := tts.Speak(ctx, t[0], t[1])
		if err != nil {
			return err
		}
		p, err := media.LoadPrompt(bytes.NewReader(wav))
		if err != nil {
			return fmt.Errorf("%s %q: %w", t[0], t[1], err)
		}
		var buf bytes.Buffer
		if err := p.WriteULawWAV(&buf); err != nil {
			return err
		}
		if err := os.WriteFile(path, buf.Bytes(), 0o644); err != nil {
			return err
		}
		rendered++
	}
	entries, err := os.ReadDir(dir)
	if err != nil {
		return err
	}
	removed := 0
	for _, e := range entries {
		if strings.HasSuffix(e.Name(), ".wav") && !keep[e.Name()] {
			if err := os.Remove(filepath.Join(dir, e.Name())); err != nil {
				return err
			}
			removed++
		}
	}
	fmt.Fprintf(out, "%s: %d prompts, %d rendered now, %d stale removed, in %s\n", flowPath, len(keep), rendered, removed, dir)
	return nil
}
