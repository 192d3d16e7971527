package main

import (
	"fmt"
	"log/slog"
	"slices"
	"strings"

	"github.com/sambung/sambung/asr"
)

// recognizers builds the configured speech recognizers, one per engine,
// and returns what the switchboard asks per call language: the engine
// named for that language in asr.languages, else asr.engine, else none.
func recognizers(cfg ASRConfig, log *slog.Logger) (func(lang string) asr.Recognizer, error) {
	ac := asr.Config{URL: cfg.URL, APIKey: cfg.APIKey, Model: cfg.Model, Timeout: cfg.Timeout, Silence: cfg.Silence}
	built := map[string]asr.Recognizer{}
	get := func(name string) (asr.Recognizer, error) {
		if name == "none" || name == "" {
			return nil, nil
		}
		if r, ok := built[name]; ok {
			return r, nil
		}
		r, err := asr.New(name, ac)
		if err != nil {
			return nil, err
		}
		built[name] = r
		return r, nil
	}
	fallback := cfg.Engine
	if fallback == "auto" {
		fallback = "none"
		if slices.Contains(asr.Engines(), "pocketsphinx") {
			fallback = "pocketsphinx"
		}
	}
	def, err := get(fallback)
	if err != nil {
		return nil, fmt.Errorf("asr.engine: %w", err)
	}
	byLang := map[string]asr.Recognizer{}
	for _, l := range cfg.Languages {
		lang, engine, _ := strings.Cut(l, "=")
		r, err := get(engine)
		if err != nil {
			return nil, fmt.Errorf("asr.languages %s: %w", l, err)
		}
		byLang[lang] = r
	}
	log.Info("asr: speech recognition", "default", fallback, "languages", cfg.Languages, "engines_in_this_build", asr.Engines())
	return func(lang string) asr.Recognizer {
		if r, ok := byLang[lang]; ok {
			return r
		}
		return def
	}, nil
}
