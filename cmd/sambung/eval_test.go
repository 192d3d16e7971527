package main

import (
	"context"
	bin "encoding/binary"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/sambung/sambung/asr"
	"github.com/sambung/sambung/internal/testenv"
	"github.com/sambung/sambung/media"
)

const (
	devSet     = "../../testdata/intents/dev.tsv"
	heldoutSet = "../../testdata/intents/heldout.tsv"
	blindSet   = "../../testdata/intents/blind2.tsv"
)

// What the demo flow must score on its development set, which the
// classifier was tuned on, and on its two held-out sets, which it was not:
// each written blind, by a writer who saw neither the flow, the other sets
// nor the classifier (see testdata/intents/README.md). The floors are the
// figures measured, less a small margin: a change that makes
// understanding worse fails, one that makes it better raises the floor.
// The goal is 95% intent accuracy in every language, and every floor of
// the held-out sets is at it or above.
//
// Language identification is scored as a call would do it: the classifier
// told the call's language (the row's), and wrong when it would switch the
// call to another. From the text alone, with no call language, it is
// reported too, with its own floor. Cantonese from the text alone stays
// near 93%, and no classifier can do much better: rows such as 你好呀, 真人,
// 客服客服客服 or 我要refund呀 are written exactly as a Mandarin caller
// writes them, with no Cantonese word and no character only Traditional
// script uses, so the text says nothing of the language. Sambung never has
// to decide from the text alone: a call has a language, and such text
// keeps the call's (98% and more in a call in Cantonese).
const (
	goalIntentAccuracy = 0.95
	wantLanguageID     = 0.98 // with the call's language
)

var intentSets = []struct {
	path    string
	perCell int                // utterances per intent per language
	intent  map[string]float64 // floor of intent accuracy, by language
	text    map[string]float64 // floor of language identification from the text alone
}{
	// Measured: intent en 98.9, id 98.9, zh 96.8, yue 97.8%; language from
	// the text alone 98.9, 98.9, 100.0 and 92.5%.
	{devSet, 26,
		map[string]float64{"en": 0.97, "id": 0.97, "zh": 0.95, "yue": 0.96},
		map[string]float64{"en": 0.97, "id": 0.97, "zh": 0.98, "yue": 0.91}},
	// Measured: intent en 95.8, id 96.7, zh 95.8, yue 97.5% (94.2% before
	// the training file's second set of Cantonese rows, written to cover
	// the kinds of its misses); language from the text alone 100.0, 100.0,
	// 100.0 and 93.3%.
	{heldoutSet, 20,
		map[string]float64{"en": 0.95, "id": 0.95, "zh": 0.95, "yue": 0.95},
		map[string]float64{"en": 0.99, "id": 0.99, "zh": 0.99, "yue": 0.91}},
	// The second blind set (blind2.tsv), written at the same time as those
	// rows by another writer, and scored before and after them with
	// nothing else changed. Measured: intent en 100.0, id 98.1, zh 96.7,
	// yue 97.1% (94.2% before them); language from the text alone 99.0,
	// 98.1, 100.0 and 97.1%. 87 of its 480 rows were the flow's examples
	// or rows of the other sets, and are dropped, so a cell has 9 to 20.
	{blindSet, 9,
		map[string]float64{"en": 0.97, "id": 0.96, "zh": 0.95, "yue": 0.95},
		map[string]float64{"en": 0.97, "id": 0.96, "zh": 0.99, "yue": 0.94}},
}

func evalIntentsJSON(t *testing.T, args ...string) intentReport {
	t.Helper()
	code, out, errOut := runCLI(t, "", append([]string{"eval", "intents", "--json"}, args...)...)
	if code != exitOK {
		t.Fatalf("eval intents %v: exit %d\n%s", args, code, errOut)
	}
	var rep intentReport
	if err := json.Unmarshal([]byte(out), &rep); err != nil {
		t.Fatalf("eval intents --json does not parse: %v\n%s", err, out)
	}
	return rep
}

// The demo flow understands its development and held-out sets, which it
// never trained on, in every language, and tells the languages apart.
func TestEvalIntentsDemoSets(t *testing.T) {
	f, err := evalFlow("")
	if err != nil {
		t.Fatal(err)
	}
	if len(f.Training) == 0 {
		t.Fatal("the demo flow has no training rows; the check below would cover its intents' examples only")
	}
	examples := map[string]string{} // lower-cased, trimmed example -> where it is
	for _, src := range []struct {
		where string
		ex    map[string]map[string][]string
	}{{"intents", f.Intents}, {"training file", f.Training}} {
		for name, byLang := range src.ex {
			for lang, ex := range byLang {
				for _, e := range ex {
					examples[strings.ToLower(strings.TrimSpace(e))] = fmt.Sprintf("%s %s in %s", src.where, name, lang)
				}
			}
		}
	}
	seen := map[string]string{} // row text -> the set it is in
	for _, set := range intentSets {
		t.Run(filepath.Base(set.path), func(t *testing.T) {
			rep := evalIntentsJSON(t, "--worst", "1000", "--hint", "row", set.path)

			// The set is big enough to say something: every intent in every language.
			rows, err := readIntentRows(set.path, f)
			if err != nil {
				t.Fatal(err)
			}
			cells := map[[2]string]int{}
			for _, r := range rows {
				cells[[2]string{r.language, r.intent}]++
			}
			for _, lang := range f.Languages {
				for _, name := range rep.Labels {
					if n := cells[[2]string{lang, name}]; n < set.perCell {
						t.Errorf("%s %s: %d utterances, want at least %d", lang, name, n, set.perCell)
					}
				}
			}
			// Held out: no row is an example of the flow, written under
			// intents or in a training file, in any language and
			// whatever its case; and the two sets share none.
			for _, r := range rows {
				key := strings.ToLower(strings.TrimSpace(r.text))
				if where, ok := examples[key]; ok {
					t.Errorf("line %d %q is an example of the flow (%s): the set must stay held out", r.line, r.text, where)
				}
				if other, ok := seen[r.text]; ok && other != set.path {
					t.Errorf("line %d %q is in %s too", r.line, r.text, other)
				}
				seen[r.text] = set.path
			}

			if len(rep.Languages) != len(f.Languages) {
				t.Fatalf("languages scored: %+v, want the flow's %v", rep.Languages, f.Languages)
			}
			text := evalIntentsJSON(t, "--hint", "", set.path) // no call language
			for i, l := range rep.Languages {
				lt := text.Languages[i]
				t.Logf("%-4s %d rows: intent %.1f%% (goal %.0f%%), language %.1f%% in a call in it, %.1f%% from the text alone",
					l.Language, l.Rows, 100*l.Accuracy, 100*goalIntentAccuracy, 100*l.LanguageID, 100*lt.LanguageID)
				if floor := set.intent[l.Language]; l.Accuracy < floor {
					t.Errorf("%s: intent accuracy %.1f%%, want at least %.0f%%", l.Language, 100*l.Accuracy, 100*floor)
				}
				if l.LanguageID < wantLanguageID {
					t.Errorf("%s: language identified for %.1f%% in a call in it, want at least %.0f%%", l.Language, 100*l.LanguageID, 100*wantLanguageID)
				}
				if floor := set.text[l.Language]; lt.LanguageID < floor {
					t.Errorf("%s: language identified from the text alone for %.1f%%, down from at least %.0f%%", l.Language, 100*lt.LanguageID, 100*floor)
				}
			}
			if t.Failed() {
				for _, m := range rep.Worst {
					t.Logf("line %d [%s] %q: want %s, got %s (%.2f, best %s)", m.Line, m.Language, m.Text, m.Want, m.Got, m.Confidence, m.Best)
				}
				for _, m := range rep.Language {
					t.Logf("line %d %q: language %s, got %q", m.Line, m.Text, m.Language, m.Detected)
				}
			}
		})
	}
}

// A row labelled wrong is the first of the worst mistakes: the classifier
// is sure of the right answer, so the report shows it where a person looks.
func TestEvalIntentsShowsMislabelledRow(t *testing.T) {
	tsv := filepath.Join(t.TempDir(), "small.tsv")
	const data = "# a comment\n" +
		"text\tlanguage\tintent\n" +
		"where is my parcel\ten\torder_status\n" +
		"I want my money back\ten\trefund\n" +
		"where is my order\ten\trefund\n" + // mislabelled: line 5
		"我想退貨\tyue\trefund\n" +
		"tell me a joke\ten\tnone\n"
	if err := os.WriteFile(tsv, []byte(data), 0o644); err != nil {
		t.Fatal(err)
	}
	rep := evalIntentsJSON(t, tsv)
	if rep.Rows != 5 || len(rep.Worst) == 0 {
		t.Fatalf("report: %+v, want 5 rows and a mistake", rep)
	}
	if w := rep.Worst[0]; w.Line != 5 || w.Want != "refund" || w.Got != "order_status" {
		t.Errorf("the worst mistake is %+v, want line 5, labelled refund, classified order_status", w)
	}
	// The confusion matrix has it: refund classified as order_status.
	idx := func(l string) int { return slices.Index(rep.Labels, l) }
	if n := rep.Confusion[idx("refund")][idx("order_status")]; n != 1 {
		t.Errorf("confusion[refund][order_status] = %d, want 1\n%v %v", n, rep.Labels, rep.Confusion)
	}

	// The text report says the same to a person.
	code, out, _ := runCLI(t, "", "eval", "intents", tsv)
	if code != exitOK || !strings.Contains(out, `line 5 [en] "where is my order": want refund, got order_status`) ||
		!strings.Contains(out, "confusion") {
		t.Errorf("text report: exit %d\n%s", code, out)
	}
	// --min-accuracy turns a low score into a failing exit status.
	if code, _, errOut := runCLI(t, "", "eval", "intents", "--min-accuracy", "0.99", tsv); code != exitError || !strings.Contains(errOut, "below --min-accuracy") {
		t.Errorf("--min-accuracy 0.99 on 80%%: exit %d, %s", code, errOut)
	}
}

func TestEvalIntentsBadFile(t *testing.T) {
	dir := t.TempDir()
	for _, tc := range []struct{ name, data, want string }{
		{"noheader.tsv", "where is my order\ten\torder_status\n", `noheader.tsv:1: the header line has no "text" column`},
		{"intent.tsv", "text\tlanguage\tintent\nwhere is my order\ten\tshipping\n", `intent.tsv:2: intent "shipping" is not one of the flow's`},
		{"lang.tsv", "text\tlanguage\tintent\nwhere is my order\tfr\torder_status\n", `lang.tsv:2: language "fr" is not one of the flow's: en, id, zh, yue`},
		{"cols.tsv", "text\tlanguage\tintent\nwhere is my order en order_status\n", `cols.tsv:2: 1 columns, want 3`},
		{"empty.tsv", "text\tlanguage\tintent\n", `no rows after the header`},
	} {
		path := filepath.Join(dir, tc.name)
		if err := os.WriteFile(path, []byte(tc.data), 0o644); err != nil {
			t.Fatal(err)
		}
		code, _, errOut := runCLI(t, "", "eval", "intents", path)
		if code != exitUsage || !strings.Contains(errOut, tc.want) {
			t.Errorf("%s: exit %d, stderr %q; want %d and %q", tc.name, code, errOut, exitUsage, tc.want)
		}
	}
	if code, _, _ := runCLI(t, "", "eval", "intents"); code != exitUsage {
		t.Errorf("eval intents with no file: exit %d, want %d", code, exitUsage)
	}
	if code, _, errOut := runCLI(t, "", "eval", "intents", "--flow", filepath.Join(dir, "missing.yaml"), devSet); code != exitError || !strings.Contains(errOut, "missing.yaml") {
		t.Errorf("a missing --flow: exit %d, %s", code, errOut)
	}
}

// A named flow is scored with its own classifier.
func TestEvalIntentsFlowFlag(t *testing.T) {
	rep := evalIntentsJSON(t, "--flow", "../../demo/flows/default.yaml", "--hint", "row", devSet)
	if rep.Flow != "demo" || rep.Hint != "row" || rep.Rows < 4*6*30 {
		t.Errorf("report of --flow: flow %q, hint %q, %d rows", rep.Flow, rep.Hint, rep.Rows)
	}
}

func TestEvalASRUnknownEngine(t *testing.T) {
	code, _, errOut := runCLI(t, "", "eval", "asr", "--engine", "no-such-engine", t.TempDir())
	if code != exitUsage || !strings.Contains(errOut, `no engine "no-such-engine" in this build; engines in this build: `) {
		t.Errorf("an engine the build lacks: exit %d, %s", code, errOut)
	}
	if code, _, errOut := runCLI(t, "", "eval", "asr", t.TempDir()); code != exitUsage || !strings.Contains(errOut, "engines in this build:") {
		t.Errorf("no --engine: exit %d, %s", code, errOut)
	}
}

// fakeEngine "hears" a fixed text per whole second of audio: it lets the
// scoring be checked without a recognizer.
type fakeEngine struct{ heard func(seconds int) string }

func (fakeEngine) Name() string { return fakeEngineName }

func (f fakeEngine) Stream(ctx context.Context, opts asr.Options) (asr.Stream, error) {
	return &fakeStream{heard: f.heard, results: make(chan asr.Result, 1)}, nil
}

type fakeStream struct {
	heard   func(int) string
	samples int
	results chan asr.Result
}

func (s *fakeStream) Write(frame []int16) error  { s.samples += len(frame); return nil }
func (s *fakeStream) Results() <-chan asr.Result { return s.results }
func (s *fakeStream) Close() error {
	s.results <- asr.Result{Final: true, Text: s.heard(s.samples / media.Rate)}
	close(s.results)
	return nil
}

const fakeEngineName = "eval-test-fake"

var registerFake = sync.OnceFunc(func() {
	asr.Register(fakeEngineName, func(asr.Config) (asr.Recognizer, error) {
		return fakeEngine{heard: func(seconds int) string {
			return map[int]string{1: "Where is my order?", 2: "where is my parcel", 3: "我想退货呀"}[seconds]
		}}, nil
	})
})

// writeWAV writes seconds of a quiet tone as 8 kHz 16-bit mono.
func writeWAV(t *testing.T, path string, seconds int) {
	t.Helper()
	n := seconds * media.Rate
	b := make([]byte, 44+2*n)
	copy(b, "RIFF")
	bin.LittleEndian.PutUint32(b[4:], uint32(36+2*n))
	copy(b[8:], "WAVEfmt ")
	bin.LittleEndian.PutUint32(b[16:], 16)
	bin.LittleEndian.PutUint16(b[20:], 1) // PCM
	bin.LittleEndian.PutUint16(b[22:], 1) // mono
	bin.LittleEndian.PutUint32(b[24:], media.Rate)
	bin.LittleEndian.PutUint32(b[28:], 2*media.Rate)
	bin.LittleEndian.PutUint16(b[32:], 2)
	bin.LittleEndian.PutUint16(b[34:], 16)
	copy(b[36:], "data")
	bin.LittleEndian.PutUint32(b[40:], uint32(2*n))
	for i := range n {
		bin.LittleEndian.PutUint16(b[44+2*i:], uint16(int16(1000*((i/10)%2*2-1))))
	}
	if err := os.WriteFile(path, b, 0o644); err != nil {
		t.Fatal(err)
	}
}

func TestEvalASRScores(t *testing.T) {
	registerFake()
	dir := t.TempDir()
	files := []struct {
		name, ref string
		seconds   int
	}{
		{"a.en", "where is my order", 1},   // heard right, but for case and punctuation: 0 of 4
		{"b.en", "where is my package", 2}, // one word wrong: 1 of 4
		{"c", "我想退貨", 3},                   // language from the manifest; 2 of 4 characters wrong
	}
	for _, f := range files {
		writeWAV(t, filepath.Join(dir, f.name+".wav"), f.seconds)
		if err := os.WriteFile(filepath.Join(dir, f.name+".txt"), []byte(f.ref+"\n"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.WriteFile(filepath.Join(dir, "manifest.tsv"), []byte("c.wav\tyue\n"), 0o644); err != nil {
		t.Fatal(err)
	}

	code, out, errOut := runCLI(t, "", "eval", "asr", "--engine", fakeEngineName, "--json", dir)
	if code != exitOK {
		t.Fatalf("exit %d\n%s%s", code, out, errOut)
	}
	var rep asrReport
	if err := json.Unmarshal([]byte(out), &rep); err != nil {
		t.Fatalf("eval asr --json does not parse: %v\n%s", err, out)
	}
	want := map[string]struct {
		unit           string
		errors, units  int
		files, failing int
	}{
		"en":  {"word", 1, 8, 2, 0},
		"yue": {"character", 2, 4, 1, 0},
	}
	if len(rep.Languages) != len(want) {
		t.Fatalf("languages %+v, want en and yue", rep.Languages)
	}
	for _, l := range rep.Languages {
		w := want[l.Language]
		if l.Unit != w.unit || l.Errors != w.errors || l.Reference != w.units || l.Files != w.files || l.Failed != w.failing {
			t.Errorf("%s: %+v, want %+v", l.Language, l, w)
		}
		if l.RTF <= 0 {
			t.Errorf("%s: real-time factor %v, want above 0", l.Language, l.RTF)
		}
	}

	code, out, _ = runCLI(t, "", "eval", "asr", "--engine", fakeEngineName, dir)
	if code != exitOK || !strings.Contains(out, "12.5% WER") || !strings.Contains(out, "50.0% CER") {
		t.Errorf("text report: exit %d\n%s", code, out)
	}
	if code, _, errOut := runCLI(t, "", "eval", "asr", "--engine", fakeEngineName, "--max-wer", "0.2", dir); code != exitError || !strings.Contains(errOut, "yue: error rate 50.0%") {
		t.Errorf("--max-wer 0.2: exit %d, %s", code, errOut)
	}
}

// scripts/devaudio.sh renders the development set's English and Indonesian
// rows into a directory that eval asr reads.
func TestEvalASRDevAudio(t *testing.T) {
	testenv.LookPath(t, "espeak-ng", "Debian package espeak-ng")
	testenv.LookPath(t, "sox", "Debian package sox")
	registerFake()
	dir := t.TempDir()
	if b, err := exec.Command("bash", "../../scripts/devaudio.sh", dir, "3").CombinedOutput(); err != nil {
		t.Fatalf("devaudio.sh: %v\n%s", err, b)
	}
	code, out, errOut := runCLI(t, "", "eval", "asr", "--engine", fakeEngineName, "--json", dir)
	if code != exitOK {
		t.Fatalf("exit %d\n%s%s", code, out, errOut)
	}
	var rep asrReport
	if err := json.Unmarshal([]byte(out), &rep); err != nil {
		t.Fatal(err)
	}
	if len(rep.Files) != 6 || len(rep.Languages) != 2 || rep.Languages[0].Language != "en" || rep.Languages[1].Language != "id" {
		t.Fatalf("files %d, languages %+v; want 3 each of en and id", len(rep.Files), rep.Languages)
	}
	for _, f := range rep.Files {
		if f.Seconds < 0.5 || f.Reference == "" || f.Err != "" {
			t.Errorf("%s: %.2f s of speech, reference %q, error %q", f.File, f.Seconds, f.Reference, f.Err)
		}
	}
}

func TestErrorUnits(t *testing.T) {
	for _, tc := range []struct {
		ref, hyp string
		units    int
		errors   int
	}{
		{"Where's my order?", "wheres my order", 3, 0},
		{"where is my order", "where is my parcel", 4, 1},
		{"where is my order", "where is my order", 4, 0},
		{"where is my order", "", 4, 4},
		{"", "hello", 0, 1},
		{"我想退貨", "我想退货", 4, 1},
		{"我想 refund", "我想refund", 3, 0}, // Han characters and Latin words, spaces or not
		{"ｒｅｆｕｎｄ", "refund", 1, 0},
	} {
		ref, hyp := errorUnits(tc.ref), errorUnits(tc.hyp)
		if len(ref) != tc.units || levenshtein(ref, hyp) != tc.errors {
			t.Errorf("%q vs %q: %d units %q, %d errors; want %d, %d", tc.ref, tc.hyp, len(ref), ref, levenshtein(ref, hyp), tc.units, tc.errors)
		}
	}
}
