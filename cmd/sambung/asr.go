package main

import (
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/sambung/sambung/asr"
	"github.com/sambung/sambung/ivr"
)

// A recognizerSpec is one entry of asr.recognizers: a name flows and the
// other asr keys choose by, an engine, and its settings.
type recognizerSpec struct {
	name, engine string
	url, model   string
	apiKeyVar    string // the environment variable holding the API key
	timeout      time.Duration
}

// recognizerSettings are the settings an asr.recognizers entry may give.
var recognizerSettings = []string{"url", "model", "api_key", "timeout"}

// recognizerSpecs parses asr.recognizers, each NAME=ENGINE followed by
// settings KEY=VALUE, separated by spaces.
func (c ASRConfig) recognizerSpecs() ([]recognizerSpec, error) {
	var out []recognizerSpec
	seen := map[string]bool{}
	for _, item := range c.Recognizers {
		fields := strings.Fields(item)
		bad := func(format string, args ...any) error {
			return fmt.Errorf("asr.recognizers %q: %s", item, fmt.Sprintf(format, args...))
		}
		if len(fields) == 0 {
			return nil, bad("expected NAME=ENGINE [url=URL] [model=MODEL] [api_key=env:VARIABLE] [timeout=DURATION]")
		}
		name, engine, ok := strings.Cut(fields[0], "=")
		if !ok || name == "" || engine == "" {
			return nil, bad("expected NAME=ENGINE first, such as cloud=whisper-http")
		}
		if !ivr.RecognizerName.MatchString(name) {
			return nil, bad("name %q: use lower-case letters, digits, '.', '_' and '-'", name)
		}
		if name == "none" || name == "auto" || slices.Contains(asr.Engines(), name) {
			return nil, bad("name %q is taken (none, auto and the engines' own names are); pick another", name)
		}
		if seen[name] {
			return nil, bad("name %q is given twice", name)
		}
		seen[name] = true
		if !slices.Contains(asr.Engines(), engine) {
			return nil, bad("no engine %q in this build (engines: %s)", engine, strings.Join(asr.Engines(), ", "))
		}
		s := recognizerSpec{name: name, engine: engine}
		for _, kv := range fields[1:] {
			k, v, ok := strings.Cut(kv, "=")
			if !ok || v == "" {
				return nil, bad("%q is not KEY=VALUE", kv)
			}
			switch k {
			case "url":
				s.url = v
			case "model":
				s.model = v
			case "api_key":
				ev, ok := strings.CutPrefix(v, "env:")
				if !ok || ev == "" {
					return nil, bad("api_key: expected env:VARIABLE, the environment variable holding the key, so the key stays out of the configuration")
				}
				s.apiKeyVar = ev
			case "timeout":
				d, err := time.ParseDuration(v)
				if err != nil || d < time.Second {
					return nil, bad("timeout: expected a duration of at least 1s, such as 5s, got %q", v)
				}
				s.timeout = d
			default:
				hint := ""
				if near := nearest(k, recognizerSettings); near != "" {
					hint = fmt.Sprintf(" (did you mean %q?)", near)
				}
				return nil, bad("unknown setting %q%s; known: %s", k, hint, strings.Join(recognizerSettings, ", "))
			}
		}
		out = append(out, s)
	}
	return out, nil
}

// checkChoices checks asr.engine, asr.languages and asr.fallback against
// the recognizers there are.
func (c ASRConfig) checkChoices(specs []recognizerSpec) []error {
	var errs []error
	known := knownRecognizers(specs)
	check := func(key, name string) {
		if !slices.Contains(known, name) {
			errs = append(errs, fmt.Errorf("%s: no recognizer %q (known: %s)", key, name, strings.Join(known, ", ")))
		}
	}
	if c.Engine != "auto" {
		check("asr.engine", c.Engine)
	}
	if c.Fallback != "auto" {
		check("asr.fallback", c.Fallback)
	}
	for _, l := range c.Languages {
		lang, name, ok := strings.Cut(l, "=")
		if !ok || lang == "" || name == "" {
			errs = append(errs, fmt.Errorf("asr.languages: %q is not LANG=RECOGNIZER, such as id=whisper-http", l))
			continue
		}
		check("asr.languages "+lang, name)
	}
	return errs
}

// knownRecognizers are the names a choice may use: none, the engines in
// this build, and asr.recognizers.
func knownRecognizers(specs []recognizerSpec) []string {
	known := append([]string{"none"}, asr.Engines()...)
	for _, s := range specs {
		known = append(known, s.name)
	}
	return known
}

// speech is the server's recognizers by name, and its choice among them
// for each call: the flow's choice for the call's language (speech in the
// flow), else asr.languages, else asr.engine; each wrapped with
// asr.fallback, which hears what the chosen one fails on. Recognizers are
// built when first named, once, and kept.
type speech struct {
	cfg      ASRConfig
	specs    map[string]recognizerSpec
	known    []string
	byLang   map[string]string
	def      string // asr.engine, auto resolved
	fallback string // asr.fallback, auto resolved; "none" for none
	environ  []string
	log      *slog.Logger

	mu      sync.Mutex
	built   map[string]asr.Recognizer // by name; nil for none
	wrapped map[string]asr.Recognizer // by name, with the fallback
}

// newSpeech checks the choices and builds the ones the configuration
// makes (asr.engine, asr.languages, asr.fallback), so a broken one shows at
// start-up; recognizers only flows name are built as the flows load.
func newSpeech(cfg ASRConfig, environ []string, log *slog.Logger) (*speech, error) {
	specs, err := cfg.recognizerSpecs()
	if err != nil {
		return nil, err
	}
	if errs := cfg.checkChoices(specs); len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	s := &speech{cfg: cfg, specs: map[string]recognizerSpec{}, known: knownRecognizers(specs), byLang: map[string]string{},
		environ: environ, log: log, built: map[string]asr.Recognizer{}, wrapped: map[string]asr.Recognizer{}}
	for _, sp := range specs {
		s.specs[sp.name] = sp
	}
	embedded := "none"
	if slices.Contains(asr.Engines(), "pocketsphinx") {
		embedded = "pocketsphinx"
	}
	s.def, s.fallback = cfg.Engine, cfg.Fallback
	if s.def == "auto" {
		s.def = embedded
	}
	if s.fallback == "auto" {
		s.fallback = embedded
	}
	if _, err := s.build(s.def); err != nil {
		return nil, fmt.Errorf("asr.engine %s: %w", s.def, err)
	}
	if _, err := s.build(s.fallback); err != nil {
		return nil, fmt.Errorf("asr.fallback %s: %w", s.fallback, err)
	}
	for _, l := range cfg.Languages {
		lang, name, _ := strings.Cut(l, "=")
		if _, err := s.build(name); err != nil {
			return nil, fmt.Errorf("asr.languages %s: %w", l, err)
		}
		s.byLang[lang] = name
	}
	log.Info("asr: speech recognition", "default", s.def, "languages", cfg.Languages, "fallback", s.fallback,
		"recognizers", cfg.Recognizers, "engines_in_this_build", asr.Engines())
	return s, nil
}

// build returns the recognizer called name, making it the first time; nil
// for none.
func (s *speech) build(name string) (asr.Recognizer, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.buildLocked(name)
}

func (s *speech) buildLocked(name string) (asr.Recognizer, error) {
	if name == "none" || name == "" {
		return nil, nil
	}
	if r, ok := s.built[name]; ok {
		return r, nil
	}
	ac := asr.Config{URL: s.cfg.URL, APIKey: s.cfg.APIKey, Model: s.cfg.Model, Timeout: s.cfg.Timeout, Silence: s.cfg.Silence,
		Logger: s.log.With("recognizer", name)}
	engine := name
	if sp, ok := s.specs[name]; ok {
		engine = sp.engine
		if sp.url != "" {
			ac.URL = sp.url
		}
		if sp.model != "" {
			ac.Model = sp.model
		}
		if sp.timeout > 0 {
			ac.Timeout = sp.timeout
		}
		if sp.apiKeyVar != "" {
			if ac.APIKey = envLookup(s.environ, sp.apiKeyVar); ac.APIKey == "" {
				return nil, fmt.Errorf("its api_key is in the environment variable %s, which is not set", sp.apiKeyVar)
			}
		}
	} else if !slices.Contains(asr.Engines(), name) {
		return nil, fmt.Errorf("no recognizer %q on this server (known: %s; asr.recognizers names more)", name, strings.Join(s.known, ", "))
	}
	r, err := asr.New(engine, ac)
	if err != nil {
		return nil, err
	}
	s.built[name] = r
	return r, nil
}

// For returns the recognizer for a call in lang whose flow chose engine
// ("" for no choice), with the fallback behind it; nil for keys only.
func (s *speech) For(engine, lang string) asr.Recognizer {
	name := engine
	if name == "" {
		name = s.def
		if n, ok := s.byLang[lang]; ok {
			name = n
		}
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if r, ok := s.wrapped[name]; ok {
		return r
	}
	r, err := s.buildLocked(name)
	if err != nil {
		// Flows' names are checked as they load; this is a name that
		// stopped building since (an environment variable gone).
		s.log.Error("asr: recognizer unavailable; callers use keys", "recognizer", name, "err", err)
		return nil
	}
	if r != nil && s.fallback != "none" && s.fallback != name {
		fb, err := s.buildLocked(s.fallback)
		if err == nil && fb != nil {
			r = asr.Fallback(r, fb, s.log)
		}
	}
	if _, ok := s.specs[name]; ok && r != nil {
		r = named{r, name + ": " + r.Name()}
	}
	s.wrapped[name] = r
	return r
}

// named is a recognizer under the name asr.recognizers gives it, so the
// call's timeline says which server heard the caller ("cloud:
// whisper-http (fallback pocketsphinx)"), not only which engine.
type named struct {
	asr.Recognizer
	name string
}

func (n named) Name() string { return n.name }

// Check makes sure the recognizers f (and its sub-flows) name exist on
// this server and start, each error at the name's place in the file.
func (s *speech) Check(f *ivr.Flow) error {
	var errs []error
	seen := map[*ivr.Flow]bool{}
	var walk func(f *ivr.Flow)
	walk = func(f *ivr.Flow) {
		if seen[f] {
			return
		}
		seen[f] = true
		names := make([]string, 0, len(f.Speech.Names))
		for n := range f.Speech.Names {
			names = append(names, n)
		}
		slices.Sort(names)
		for _, n := range names {
			if _, err := s.build(n); err != nil {
				p := f.Speech.Names[n]
				errs = append(errs, fmt.Errorf("%s:%d:%d: speech: recognizer %q: %w", f.File, p.Line, p.Column, n, err))
			}
		}
		for _, sub := range f.Subflows {
			walk(sub)
		}
	}
	walk(f)
	return errors.Join(errs...)
}
