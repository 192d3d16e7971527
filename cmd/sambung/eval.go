package main

// sambung eval: how well the IVR understands callers, measured on labelled
// data. `eval intents` scores a flow's intent classifier and language
// identification on a TSV of utterances; `eval asr` scores a speech
// recognition engine on recordings with reference transcripts.

import (
	"bufio"
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"
	"unicode"

	"golang.org/x/text/unicode/norm"

	"github.com/sambung/sambung/asr"
	"github.com/sambung/sambung/asr/intent"
	"github.com/sambung/sambung/demo"
	"github.com/sambung/sambung/ivr"
	"github.com/sambung/sambung/media"
)

const evalUsage = `
Usage:
  sambung eval intents [--flow FILE] [--json] [--worst N] [--hint LANG|row] FILE.tsv
  sambung eval asr --engine NAME [--url URL] [--model M] [--lang LANG] [--json] DIR

intents classifies every row of FILE.tsv with the flow's intent classifier
(the demo flow's unless --flow names one), as the IVR's listen step does,
and prints the intent accuracy and the language identification accuracy
per language, a confusion matrix (rows: the label; columns: the result) and
the worst mistakes: confident wrong answers first. FILE.tsv is a header
line naming the columns text, language and intent, then one utterance a
row; lines starting with # are comments. The intents are the flow's, human
and none (nothing the flow handles); the languages are the flow's.
testdata/intents/dev.tsv is the demo flow's held-out development set.

asr transcribes every WAV file in DIR with the engine and compares it with
the reference transcript beside it (name.wav and name.txt), printing the
word error rate per language (the character error rate for zh and yue,
which are written without spaces) and the real-time factor (processing
time over audio duration). A file's language comes from DIR/manifest.tsv
(lines of file<TAB>language), else from a suffix of its name
(order.id.wav), else from --lang. scripts/devaudio.sh renders the English
and Indonesian rows of testdata/intents/*.tsv into such a directory with
espeak-ng.

Both exit with status 1 when a score is below --min-accuracy (intents) or
above --max-wer (asr), so they fit in a CI job.
`

func (e *env) eval(ctx context.Context, args []string) int {
	if len(args) == 0 || strings.HasPrefix(args[0], "-") {
		fs := e.flagSet("eval", evalUsage)
		if err := fs.Parse(args); err != nil {
			return parseErr(err)
		}
		fs.Usage()
		return exitUsage
	}
	switch args[0] {
	case "intents":
		return e.evalIntents(args[1:])
	case "asr":
		return e.evalASR(ctx, args[1:])
	}
	fmt.Fprintf(e.stderr, "sambung eval: unknown command %q; run 'sambung help eval'\n", args[0])
	return exitUsage
}

// hintRow, as --hint, passes each row's own language as the call's.
const hintRow = "row"

func (e *env) evalIntents(args []string) int {
	fs := e.flagSet("eval intents", evalUsage)
	flowPath := fs.String("flow", "", "the flow `file` whose classifier to score (default: the demo flow)")
	asJSON := fs.Bool("json", false, "print the report as JSON")
	worst := fs.Int("worst", 15, "how many of the worst mistakes to list")
	hint := fs.String("hint", "", "the call's `language` the classifier is told: none by default, so the language is identified from the text alone; \"row\" for each row's own")
	minAcc := fs.Float64("min-accuracy", 0, "exit with status 1 when a language's intent accuracy is below this `fraction`")
	pos, err := parseInterleaved(fs, args)
	if err != nil {
		return parseErr(err)
	}
	if len(pos) != 1 {
		fs.Usage()
		return exitUsage
	}
	f, err := evalFlow(*flowPath)
	if err != nil {
		fmt.Fprintf(e.stderr, "sambung eval intents: %v\n", err)
		return exitError
	}
	rows, err := readIntentRows(pos[0], f)
	if err != nil {
		fmt.Fprintf(e.stderr, "sambung eval intents: %v\n", err)
		return exitUsage
	}
	rep := scoreIntents(f, rows, *hint, *worst)
	rep.File = pos[0]
	if *asJSON {
		enc := json.NewEncoder(e.stdout)
		enc.SetIndent("", "  ")
		if err := enc.Encode(rep); err != nil {
			fmt.Fprintf(e.stderr, "sambung eval intents: %v\n", err)
			return exitError
		}
	} else {
		rep.print(e.stdout)
	}
	for _, l := range rep.Languages {
		if l.Accuracy < *minAcc {
			fmt.Fprintf(e.stderr, "sambung eval intents: %s: intent accuracy %.1f%%, below --min-accuracy %.1f%%\n", l.Language, 100*l.Accuracy, 100**minAcc)
			return exitError
		}
	}
	return exitOK
}

// evalFlow loads the flow at path, or the demo flow when path is empty.
func evalFlow(path string) (*ivr.Flow, error) {
	if path != "" {
		return ivr.Load(path)
	}
	f, diags := demo.ParseFlow()
	if err := diags.Err(); err != nil {
		return nil, err
	}
	return f, nil
}

// An intentRow is one labelled utterance.
type intentRow struct {
	line                   int
	text, language, intent string
}

// readIntentRows reads a TSV of labelled utterances, checking every label
// against the flow. Its errors say file:line and what to fix.
func readIntentRows(path string, f *ivr.Flow) ([]intentRow, error) {
	fh, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer fh.Close()
	intents := []string{intent.Human, intent.None}
	for name := range f.Intents {
		if !slices.Contains(intents, name) {
			intents = append(intents, name)
		}
	}
	slices.Sort(intents)

	var (
		rows []intentRow
		col  map[string]int // column name -> index, from the header
		errs []error
		sc   = bufio.NewScanner(fh)
		n    = 0
	)
	for sc.Scan() {
		n++
		line := strings.TrimRight(sc.Text(), "\r")
		if strings.TrimSpace(line) == "" || strings.HasPrefix(line, "#") {
			continue
		}
		fields := strings.Split(line, "\t")
		if col == nil {
			col = map[string]int{}
			for i, name := range fields {
				col[strings.ToLower(strings.TrimSpace(name))] = i
			}
			for _, want := range []string{"text", "language", "intent"} {
				if _, ok := col[want]; !ok {
					return nil, fmt.Errorf("%s:%d: the header line has no %q column; it names the columns text, language and intent, separated by tabs", path, n, want)
				}
			}
			continue
		}
		if len(fields) != len(col) {
			errs = append(errs, fmt.Errorf("%s:%d: %d columns, want %d as in the header (tab-separated)", path, n, len(fields), len(col)))
			continue
		}
		r := intentRow{line: n, text: fields[col["text"]],
			language: strings.TrimSpace(fields[col["language"]]), intent: strings.TrimSpace(fields[col["intent"]])}
		switch {
		case strings.TrimSpace(r.text) == "":
			errs = append(errs, fmt.Errorf("%s:%d: the text is empty", path, n))
		case !slices.Contains(f.Languages, r.language):
			errs = append(errs, fmt.Errorf("%s:%d: language %q is not one of the flow's: %s", path, n, r.language, strings.Join(f.Languages, ", ")))
		case !slices.Contains(intents, r.intent):
			errs = append(errs, fmt.Errorf("%s:%d: intent %q is not one of the flow's: %s", path, n, r.intent, strings.Join(intents, ", ")))
		default:
			rows = append(rows, r)
		}
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	if len(rows) == 0 {
		return nil, fmt.Errorf("%s: no rows after the header", path)
	}
	return rows, nil
}

// An intentReport is the score of a classifier on a set of utterances.
type intentReport struct {
	Flow       string          `json:"flow"`
	File       string          `json:"file"`
	Hint       string          `json:"hint"`
	Rows       int             `json:"rows"`
	Accuracy   float64         `json:"accuracy"`    // of the intent, over all rows
	LanguageID float64         `json:"language_id"` // of the language, over all rows
	Languages  []languageScore `json:"languages"`
	// Labels name the rows and columns of Confusion: Confusion[i][j] rows
	// labelled Labels[i] were classified as Labels[j].
	Labels    []string     `json:"labels"`
	Confusion [][]int      `json:"confusion"`
	Worst     []intentMiss `json:"worst"`             // intent mistakes, confident ones first
	Language  []intentMiss `json:"language_mistakes"` // language mistakes
}

type languageScore struct {
	Language   string  `json:"language"`
	Rows       int     `json:"rows"`
	Correct    int     `json:"correct"`
	Accuracy   float64 `json:"accuracy"`
	Identified int     `json:"identified"` // rows whose language was identified right
	LanguageID float64 `json:"language_id"`
}

type intentMiss struct {
	Line       int     `json:"line"`
	Text       string  `json:"text"`
	Language   string  `json:"language"`
	Want       string  `json:"want"`
	Got        string  `json:"got"`
	Best       string  `json:"best"`
	Confidence float64 `json:"confidence"`
	Detected   string  `json:"detected_language"`
}

// scoreIntents classifies every row as the IVR's listen step would: the
// flow's classifier, with hint as the call's language.
func scoreIntents(f *ivr.Flow, rows []intentRow, hint string, worst int) *intentReport {
	c := intent.Train(f.ClassifierExamples(), intent.Options{})
	rep := &intentReport{Flow: f.Name, Hint: hint, Rows: len(rows)}
	labels := map[string]int{}
	for _, r := range rows {
		labels[r.intent] = 0
	}
	for name := range f.Intents {
		labels[name] = 0
	}
	labels[intent.Human], labels[intent.None] = 0, 0
	rep.Labels = slices.Sorted(maps.Keys(labels))
	for i, l := range rep.Labels {
		labels[l] = i
	}
	rep.Confusion = make([][]int, len(rep.Labels))
	for i := range rep.Confusion {
		rep.Confusion[i] = make([]int, len(rep.Labels))
	}

	byLang := map[string]*languageScore{}
	var misses, langMisses []intentMiss
	var correct, identified int
	for _, r := range rows {
		h := hint
		if h == hintRow {
			h = r.language
		}
		res := c.Classify(r.text, h)
		ls := byLang[r.language]
		if ls == nil {
			ls = &languageScore{Language: r.language}
			byLang[r.language] = ls
		}
		ls.Rows++
		rep.Confusion[labels[r.intent]][labels[res.Intent]]++
		m := intentMiss{Line: r.line, Text: r.text, Language: r.language, Want: r.intent,
			Got: res.Intent, Best: res.Best, Confidence: res.Confidence, Detected: res.Language}
		if res.Intent == r.intent {
			ls.Correct++
			correct++
		} else {
			misses = append(misses, m)
		}
		if res.Language == r.language {
			ls.Identified++
			identified++
		} else {
			langMisses = append(langMisses, m)
		}
	}
	rep.Accuracy = float64(correct) / float64(len(rows))
	rep.LanguageID = float64(identified) / float64(len(rows))
	for _, lang := range slices.Sorted(maps.Keys(byLang)) {
		ls := byLang[lang]
		ls.Accuracy = float64(ls.Correct) / float64(ls.Rows)
		ls.LanguageID = float64(ls.Identified) / float64(ls.Rows)
		rep.Languages = append(rep.Languages, *ls)
	}
	// The worst mistake is a confident one: the IVR acts on it. A miss
	// that fell to none below the threshold only asks the caller again.
	slices.SortStableFunc(misses, func(a, b intentMiss) int {
		return cmp.Or(cmp.Compare(missRank(b), missRank(a)), cmp.Compare(a.Line, b.Line))
	})
	rep.Worst = misses[:min(len(misses), max(worst, 0))]
	rep.Language = langMisses[:min(len(langMisses), max(worst, 0))]
	if rep.Worst == nil {
		rep.Worst = []intentMiss{}
	}
	if rep.Language == nil {
		rep.Language = []intentMiss{}
	}
	return rep
}

// missRank orders mistakes: a wrong intent acted on is worse than a
// wrong none, and a confident one worse than a doubtful one.
func missRank(m intentMiss) float64 {
	if m.Got != intent.None {
		return 1 + m.Confidence
	}
	return m.Confidence
}

func (rep *intentReport) print(w io.Writer) {
	hint := rep.Hint
	if hint == "" {
		hint = "none"
	}
	fmt.Fprintf(w, "flow %q on %s: %d utterances, call language hint: %s\n\n", rep.Flow, rep.File, rep.Rows, hint)
	fmt.Fprintf(w, "%-9s %6s %9s %12s\n", "language", "rows", "intent", "language id")
	for _, l := range rep.Languages {
		fmt.Fprintf(w, "%-9s %6d %8.1f%% %11.1f%%\n", l.Language, l.Rows, 100*l.Accuracy, 100*l.LanguageID)
	}
	fmt.Fprintf(w, "%-9s %6d %8.1f%% %11.1f%%\n\n", "all", rep.Rows, 100*rep.Accuracy, 100*rep.LanguageID)

	fmt.Fprintln(w, "confusion (rows: label, columns: result):")
	width := 6
	for _, l := range rep.Labels {
		width = max(width, len(l))
	}
	fmt.Fprintf(w, "%-*s", width+2, "")
	for _, l := range rep.Labels {
		fmt.Fprintf(w, " %*s", width, l)
	}
	fmt.Fprintln(w)
	for i, l := range rep.Labels {
		fmt.Fprintf(w, "%-*s", width+2, l)
		for _, n := range rep.Confusion[i] {
			fmt.Fprintf(w, " %*d", width, n)
		}
		fmt.Fprintln(w)
	}

	fmt.Fprintf(w, "\nworst intent mistakes (%d shown):\n", len(rep.Worst))
	for _, m := range rep.Worst {
		fmt.Fprintf(w, "  line %d [%s] %q: want %s, got %s (%.2f, best %s)\n", m.Line, m.Language, m.Text, m.Want, m.Got, m.Confidence, m.Best)
	}
	fmt.Fprintf(w, "\nlanguage mistakes (%d shown):\n", len(rep.Language))
	for _, m := range rep.Language {
		got := m.Detected
		if got == "" {
			got = "none"
		}
		fmt.Fprintf(w, "  line %d %q: want %s, got %s\n", m.Line, m.Text, m.Language, got)
	}
}

func (e *env) evalASR(ctx context.Context, args []string) int {
	fs := e.flagSet("eval asr", evalUsage)
	engine := fs.String("engine", "", "the ASR engine `name`, one of asr.Engines() in this build")
	url := fs.String("url", "", "server engines: the server's `URL`")
	model := fs.String("model", "", "the engine's model `name or path`")
	lang := fs.String("lang", "", "the `language` of files the manifest and their names leave unsaid")
	timeout := fs.Duration("timeout", time.Minute, "the longest one file may take")
	asJSON := fs.Bool("json", false, "print the report as JSON")
	maxWER := fs.Float64("max-wer", 0, "exit with status 1 when a language's error rate is above this `fraction` (0: never)")
	flowPath := fs.String("flow", "", "the flow `file` whose phrases the engine listens for, as on a call (default: the demo flow)")
	pos, err := parseInterleaved(fs, args)
	if err != nil {
		return parseErr(err)
	}
	if len(pos) != 1 || *engine == "" {
		fs.Usage()
		fmt.Fprintf(e.stderr, "\nengines in this build: %s\n", enginesList())
		return exitUsage
	}
	if !slices.Contains(asr.Engines(), *engine) {
		fmt.Fprintf(e.stderr, "sambung eval asr: no engine %q in this build; engines in this build: %s\n", *engine, enginesList())
		return exitUsage
	}
	clips, err := readClips(pos[0], *lang)
	if err != nil {
		fmt.Fprintf(e.stderr, "sambung eval asr: %v\n", err)
		return exitUsage
	}
	rec, err := asr.New(*engine, asr.Config{URL: *url, Model: *model, Timeout: *timeout})
	if err != nil {
		fmt.Fprintf(e.stderr, "sambung eval asr: engine %s: %v\n", *engine, err)
		return exitError
	}
	f, err := evalFlow(*flowPath)
	if err != nil {
		fmt.Fprintf(e.stderr, "sambung eval asr: %v\n", err)
		return exitUsage
	}
	rep := &asrReport{Engine: *engine, Dir: pos[0], Files: []asrFile{}}
	for _, cl := range clips {
		rep.Files = append(rep.Files, transcribeClip(ctx, rec, cl, f.Phrases(cl.language), *timeout))
	}
	rep.total()
	if *asJSON {
		enc := json.NewEncoder(e.stdout)
		enc.SetIndent("", "  ")
		if err := enc.Encode(rep); err != nil {
			fmt.Fprintf(e.stderr, "sambung eval asr: %v\n", err)
			return exitError
		}
	} else {
		rep.print(e.stdout)
	}
	for _, l := range rep.Languages {
		if *maxWER > 0 && l.ErrorRate > *maxWER {
			fmt.Fprintf(e.stderr, "sambung eval asr: %s: error rate %.1f%%, above --max-wer %.1f%%\n", l.Language, 100*l.ErrorRate, 100**maxWER)
			return exitError
		}
	}
	return exitOK
}

func enginesList() string {
	if names := asr.Engines(); len(names) > 0 {
		return strings.Join(names, ", ")
	}
	return "none (this binary was built without a speech recognition engine; build one in, e.g. go build -tags pocketsphinx ./cmd/sambung)"
}

// A clip is a recording with its reference transcript.
type clip struct {
	wav, language, reference string
}

// readClips finds the WAV files of dir and their transcripts and languages.
func readClips(dir, defaultLang string) ([]clip, error) {
	manifest := map[string]string{}
	if data, err := os.ReadFile(filepath.Join(dir, "manifest.tsv")); err == nil {
		for i, line := range strings.Split(string(data), "\n") {
			line = strings.TrimSpace(line)
			if line == "" || strings.HasPrefix(line, "#") {
				continue
			}
			file, lang, ok := strings.Cut(line, "\t")
			if !ok {
				return nil, fmt.Errorf("%s:%d: want file<TAB>language", filepath.Join(dir, "manifest.tsv"), i+1)
			}
			manifest[strings.TrimSpace(file)] = strings.TrimSpace(lang)
		}
	} else if !errors.Is(err, os.ErrNotExist) {
		return nil, err
	}
	wavs, err := filepath.Glob(filepath.Join(dir, "*.wav"))
	if err != nil {
		return nil, err
	}
	if len(wavs) == 0 {
		return nil, fmt.Errorf("%s: no .wav files; scripts/devaudio.sh makes a directory of them", dir)
	}
	var clips []clip
	for _, w := range wavs {
		base := strings.TrimSuffix(w, ".wav")
		ref, err := os.ReadFile(base + ".txt")
		if err != nil {
			return nil, fmt.Errorf("%s has no reference transcript: %w", w, err)
		}
		lang, ok := manifest[filepath.Base(w)]
		if !ok {
			lang = defaultLang
			if ext := filepath.Ext(base); len(ext) >= 3 && len(ext) <= 4 {
				lang = ext[1:]
			}
		}
		clips = append(clips, clip{wav: w, language: lang, reference: strings.TrimSpace(string(ref))})
	}
	return clips, nil
}

type asrReport struct {
	Engine    string         `json:"engine"`
	Dir       string         `json:"dir"`
	Languages []asrLangScore `json:"languages"`
	Files     []asrFile      `json:"files"`
}

type asrLangScore struct {
	Language string `json:"language"`
	Files    int    `json:"files"`
	Failed   int    `json:"failed"` // files the engine returned an error for
	// Unit is what errors are counted in: "word", or "character" for
	// languages written without spaces.
	Unit      string  `json:"unit"`
	Errors    int     `json:"errors"`
	Reference int     `json:"reference"` // units in the references
	ErrorRate float64 `json:"error_rate"`
	// RTF is the real-time factor: processing time over audio duration.
	RTF float64 `json:"rtf"`

	audio, took time.Duration
}

type asrFile struct {
	File       string  `json:"file"`
	Language   string  `json:"language"`
	Reference  string  `json:"reference"`
	Hypothesis string  `json:"hypothesis"`
	Errors     int     `json:"errors"`
	Units      int     `json:"units"`
	Seconds    float64 `json:"seconds"`
	RTF        float64 `json:"rtf"`
	Err        string  `json:"error,omitempty"`

	audio, took time.Duration
}

// transcribeClip streams one recording to the recognizer as a call would,
// in 20 ms frames of 8 kHz PCM, and scores what comes back.
func transcribeClip(ctx context.Context, rec asr.Recognizer, cl clip, phrases []string, timeout time.Duration) asrFile {
	out := asrFile{File: filepath.Base(cl.wav), Language: cl.language, Reference: cl.reference}
	ref := errorUnits(cl.reference)
	out.Units = len(ref)
	fail := func(err error) asrFile {
		out.Err = err.Error()
		out.Errors = len(ref)
		return out
	}
	p, err := media.LoadPromptFile(cl.wav)
	if err != nil {
		return fail(err)
	}
	out.audio = p.Duration()
	out.Seconds = out.audio.Seconds()

	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	start := time.Now()
	st, err := rec.Stream(ctx, asr.Options{Language: cl.language, Phrases: phrases})
	if err != nil {
		return fail(err)
	}
	// The results are read while the audio is written, so an engine whose
	// results channel fills never waits on us.
	type collected struct {
		text []string
		err  error
	}
	done := make(chan collected, 1)
	go func() {
		var c collected
		for r := range st.Results() {
			if !r.Final {
				continue
			}
			if r.Err != nil && c.err == nil {
				c.err = r.Err
			}
			if t := strings.TrimSpace(r.Text); t != "" {
				c.text = append(c.text, t)
			}
		}
		done <- c
	}()
	pl := p.Player()
	frame := make([]int16, media.FrameSamples)
	var werr error
	for pl.ReadFrame(frame) && werr == nil {
		werr = st.Write(frame)
	}
	cerr := st.Close()
	var c collected
	select {
	case c = <-done:
	case <-ctx.Done():
		// The engine never closed its results; what it said so far is lost.
		return fail(fmt.Errorf("no end of results within %v", timeout))
	}
	out.took = time.Since(start)
	if out.audio > 0 {
		out.RTF = out.took.Seconds() / out.audio.Seconds()
	}
	out.Hypothesis = strings.Join(c.text, " ")
	out.Errors = levenshtein(ref, errorUnits(out.Hypothesis))
	if err := cmp.Or(werr, c.err, cerr); err != nil {
		out.Err = err.Error()
	}
	return out
}

func (rep *asrReport) total() {
	byLang := map[string]*asrLangScore{}
	for _, f := range rep.Files {
		l := byLang[f.Language]
		if l == nil {
			l = &asrLangScore{Language: f.Language, Unit: "word"}
			if cjkLanguage(f.Language) {
				l.Unit = "character"
			}
			byLang[f.Language] = l
		}
		l.Files++
		if f.Err != "" {
			l.Failed++
		}
		l.Errors += f.Errors
		l.Reference += f.Units
		l.audio += f.audio
		l.took += f.took
	}
	rep.Languages = []asrLangScore{}
	for _, lang := range slices.Sorted(maps.Keys(byLang)) {
		l := byLang[lang]
		if l.Reference > 0 {
			l.ErrorRate = float64(l.Errors) / float64(l.Reference)
		}
		if l.audio > 0 {
			l.RTF = l.took.Seconds() / l.audio.Seconds()
		}
		rep.Languages = append(rep.Languages, *l)
	}
}

func (rep *asrReport) print(w io.Writer) {
	fmt.Fprintf(w, "engine %s on %s: %d files\n\n", rep.Engine, rep.Dir, len(rep.Files))
	fmt.Fprintf(w, "%-9s %6s %7s %11s %8s\n", "language", "files", "failed", "error rate", "RTF")
	for _, l := range rep.Languages {
		name := l.Language
		if name == "" {
			name = "(unsaid)"
		}
		unit := "WER"
		if l.Unit == "character" {
			unit = "CER"
		}
		fmt.Fprintf(w, "%-9s %6d %7d %5.1f%% %s %8.2f\n", name, l.Files, l.Failed, 100*l.ErrorRate, unit, l.RTF)
	}
	var bad []asrFile
	for _, f := range rep.Files {
		if f.Errors > 0 || f.Err != "" {
			bad = append(bad, f)
		}
	}
	slices.SortStableFunc(bad, func(a, b asrFile) int { return cmp.Compare(b.Errors, a.Errors) })
	fmt.Fprintf(w, "\nfiles with errors (%d):\n", len(bad))
	for _, f := range bad[:min(len(bad), 20)] {
		fmt.Fprintf(w, "  %s: %d of %d wrong\n    ref: %s\n    hyp: %s\n", f.File, f.Errors, f.Units, f.Reference, f.Hypothesis)
		if f.Err != "" {
			fmt.Fprintf(w, "    error: %s\n", f.Err)
		}
	}
}

// cjkLanguage reports whether lang is written without spaces, so that its
// error rate counts characters.
func cjkLanguage(lang string) bool {
	switch lang {
	case "zh", "yue", "ja", "cmn":
		return true
	}
	return strings.HasPrefix(lang, "zh-") || strings.HasPrefix(lang, "yue-")
}

// errorUnits splits a transcript into what its error rate counts: each Han
// or kana character on its own (a language written without spaces is scored
// by characters), and every other run of letters and digits as a word, in
// lower case and with punctuation dropped: "Where's my order?" and
// "wheres my order" are the same words.
func errorUnits(s string) []string {
	s = norm.NFKC.String(s)
	var units []string
	var word []rune
	flush := func() {
		if len(word) > 0 {
			units = append(units, string(word))
			word = word[:0]
		}
	}
	for _, r := range s {
		switch {
		case unicode.Is(unicode.Han, r) || unicode.Is(unicode.Hiragana, r) || unicode.Is(unicode.Katakana, r):
			flush()
			units = append(units, string(r))
		case unicode.IsLetter(r) || unicode.IsDigit(r) || unicode.Is(unicode.Mn, r):
			word = append(word, unicode.ToLower(r))
		case r == '\'' || r == '’':
			// an apostrophe joins a word: where's
		default:
			flush()
		}
	}
	flush()
	return units
}
