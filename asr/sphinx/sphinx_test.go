//go:build pocketsphinx

package sphinx

import (
	"context"
	"errors"
	"fmt"
	"math"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/sambung/sambung/asr"
)

// The issue asks for phrases recognised at least 90% of the time and other
// speech accepted under 5% of the time, and calls listen with the demo
// flow's whole grammar (202 English phrases), not only the 21 phrases. On
// this corpus, with the 21 phrases, the engine recognises 19 of them
// (90.5%) and accepts none of the 33 other English and none of the 48
// foreign sentences. With the flow's grammar it recognises 18 of the 20
// phrases in it (90%; it does not list "where is my order") and all 32
// held-out phrases (heldOut) and all 32 of the second held-out set
// (heldOutSecond), and accepts 1 of the English sentences (3.0%, "my
// brother lives in London" as "when do i get my refund") and none of the
// foreign. The two phrases it misses, "customer service" and "this is
// terrible service", lose their /s/ sounds to the telephone band even
// after bandwidth extension (see extend). minHeldOut leaves the held-out
// phrases one miss.
//
// Every rejection set is held to the limit, maxFalseAccept: the
// second (outOfGrammarHeld, foreignHeld) and third sets, never tuned on
// before the word loop, were over it before (English 9.7% and 10.0% with
// the flow's grammar, foreign 8.3% with the 21 phrases) and are tuned on
// now; the fourth, written before the word loop and measured once, after
// it, was never tuned on (see TestFourthSet). With the word loop: second
// set English 0 of 31 with the 21 phrases and 1 with the flow's grammar
// (3.2%), foreign 0 and 1 of 24 (4.2%); third set none; fourth set
// English 0 and 1 of 40 (2.5%), foreign none of 25.
//
// The minimums guard what is reached, so a regression fails: the test
// audio (sox -R) and the decoding (TestSameAudioSameResult) repeat exactly,
// so the figures do not move from run to run.
const (
	minRecognition   = 0.9
	minHeldOut       = 0.95
	minHeldOutSecond = 0.95
	maxFalseAccept   = 0.05
)

var (
	engineOnce sync.Once
	engine     *Engine
	engineErr  error
)

// testEngine is one Engine per test binary, with the default Config.
func testEngine(t testing.TB) *Engine {
	t.Helper()
	// Open vocabulary on: the bench measures it as the baseline.
	engineOnce.Do(func() { engine, engineErr = New(Config{OpenVocabulary: true}) })
	if engineErr != nil {
		t.Fatal(engineErr)
	}
	return engine
}

var en = asr.Options{Language: "en", Phrases: demoPhrases}

// score transcribes clips concurrently (as calls do) and returns the
// results in order.
func score(t testing.TB, e *Engine, clips []clip, opts asr.Options) []asr.Result {
	t.Helper()
	out := make([]asr.Result, len(clips))
	errs := make([]error, len(clips))
	var wg sync.WaitGroup
	sem := make(chan struct{}, 4)
	for i, c := range clips {
		wg.Go(func() {
			sem <- struct{}{}
			defer func() { <-sem }()
			out[i], errs[i] = e.Transcribe(context.Background(), c.pcm, opts)
		})
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		t.Fatal(err)
	}
	return out
}

func want(c clip) string { return strings.Join(normalize(c.text), " ") }

// recognition is the share of clips recognised exactly with opts.
func recognition(t testing.TB, e *Engine, clips []clip, opts asr.Options) float64 {
	t.Helper()
	rs := score(t, e, clips, opts)
	n := 0
	for i, r := range rs {
		if r.Text == want(clips[i]) {
			n++
		} else {
			t.Logf("%v: heard %q (confidence %.2f)", clips[i], r.Text, r.Confidence)
		}
	}
	return float64(n) / float64(len(rs))
}

// falseAccepts is the share of clips, none of them a phrase, accepted with
// the 21 phrases.
func falseAccepts(t testing.TB, e *Engine, clips []clip) float64 {
	t.Helper()
	return falseAcceptsWith(t, e, clips, en)
}

// falseAcceptsWith is the share of clips, none of them a phrase, accepted
// with opts.
func falseAcceptsWith(t testing.TB, e *Engine, clips []clip, opts asr.Options) float64 {
	t.Helper()
	rs := score(t, e, clips, opts)
	n := 0
	for i, r := range rs {
		if r.Text != "" {
			n++
			t.Logf("%v: accepted as %q (confidence %.2f)", clips[i], r.Text, r.Confidence)
		}
	}
	return float64(n) / float64(len(rs))
}

// flowOptions listens for the demo flow's whole English grammar, as its
// calls do.
func flowOptions(t testing.TB) asr.Options {
	return asr.Options{Language: "en", Phrases: flowPhrases(t)}
}

// inFlow is the clips of c.inGrammar whose phrase is in the flow's
// grammar: all but "where is my order", which the flow does not list.
func inFlow(t testing.TB, c *corpus) []clip {
	t.Helper()
	in := map[string]bool{}
	for _, p := range flowPhrases(t) {
		in[strings.Join(normalize(p), " ")] = true
	}
	var clips []clip
	for _, cl := range c.inGrammar {
		if in[want(cl)] {
			clips = append(clips, cl)
		}
	}
	return clips
}

func TestRecognisesPhrases(t *testing.T) {
	c := loadCorpus(t)
	e := testEngine(t)
	rate := recognition(t, e, c.inGrammar, en)
	t.Logf("in-grammar recognition: %.1f%% of %d phrases", 100*rate, len(c.inGrammar))
	if rate < minRecognition {
		t.Errorf("recognised %.1f%% of the phrases exactly, want at least %.0f%% (the issue's goal is 90%%)", 100*rate, 100*minRecognition)
	}
}

// TestRecognisesHeldOut: phrases the engine was not tuned on, against the
// demo flow's whole English grammar.
func TestRecognisesHeldOut(t *testing.T) {
	c := loadCorpus(t)
	rate := recognition(t, testEngine(t), c.heldOut, asr.Options{Language: "en", Phrases: flowPhrases(t)})
	t.Logf("held-out recognition: %.1f%% of %d phrases", 100*rate, len(c.heldOut))
	if rate < minHeldOut {
		t.Errorf("recognised %.1f%% of the held-out phrases exactly, want at least %.0f%%", 100*rate, 100*minHeldOut)
	}
}

// TestRefundInTheFlowGrammar: the refund phrases that cmd/sambung's
// end-to-end test (TestSpokenRefundWithBaresip) and the demo's callers
// say are heard in the flow's whole grammar, not only in the 21 phrases.
func TestRefundInTheFlowGrammar(t *testing.T) {
	c := loadCorpus(t)
	var clips []clip
	for _, cl := range c.inGrammar {
		switch cl.text {
		case "refund", "how do I get my money back", "I want to return this":
			clips = append(clips, cl)
		}
	}
	if len(clips) != 3 {
		t.Fatalf("%d refund phrases in the corpus, want 3", len(clips))
	}
	phrases := flowPhrases(t)
	if len(phrases) < 150 {
		t.Fatalf("the demo flow has %d English phrases; this test wants a big grammar (150 or more)", len(phrases))
	}
	if rate := recognition(t, testEngine(t), clips, asr.Options{Language: "en", Phrases: phrases}); rate < 1 {
		t.Errorf("recognised %.0f%% of the refund phrases in the %d-phrase grammar, want all", 100*rate, len(phrases))
	}
}

func TestRejectsOtherEnglish(t *testing.T) {
	c := loadCorpus(t)
	rate := falseAccepts(t, testEngine(t), c.outOfGrammar)
	t.Logf("out-of-grammar English accepted: %.1f%% of %d sentences", 100*rate, len(c.outOfGrammar))
	if rate >= maxFalseAccept {
		t.Errorf("accepted %.1f%% of out-of-grammar English sentences, want under %.0f%%", 100*rate, 100*maxFalseAccept)
	}
}

func TestRejectsOtherLanguages(t *testing.T) {
	c := loadCorpus(t)
	all := c.foreign
	rate := falseAccepts(t, testEngine(t), all)
	t.Logf("foreign speech accepted: %.1f%% of %d sentences", 100*rate, len(all))
	if rate >= maxFalseAccept {
		t.Errorf("accepted %.1f%% of sentences in %s, want under %.0f%%", 100*rate, strings.Join(foreignVoices, ", "), 100*maxFalseAccept)
	}
}

// TestRecognisesPhrasesInTheFlowGrammar: the 21 phrases (those of them in
// it) against the flow's whole grammar, which calls listen with.
func TestRecognisesPhrasesInTheFlowGrammar(t *testing.T) {
	c := loadCorpus(t)
	clips := inFlow(t, c)
	if len(clips) < 20 {
		t.Fatalf("%d of the %d phrases are in the flow's grammar, want 20 or more", len(clips), len(c.inGrammar))
	}
	rate := recognition(t, testEngine(t), clips, flowOptions(t))
	t.Logf("in-grammar recognition in the flow's grammar: %.1f%% of %d phrases", 100*rate, len(clips))
	if rate < minRecognition {
		t.Errorf("recognised %.1f%% of the phrases exactly in the flow's grammar, want at least %.0f%%", 100*rate, 100*minRecognition)
	}
}

// TestRejectsInTheFlowGrammar: the sentences of TestRejectsOtherEnglish
// and TestRejectsOtherLanguages against the flow's whole grammar, ten
// times the phrases, where more of them find one that fits.
func TestRejectsInTheFlowGrammar(t *testing.T) {
	c := loadCorpus(t)
	e := testEngine(t)
	opts := flowOptions(t)
	for _, set := range []struct {
		name  string
		clips []clip
	}{{"out-of-grammar English", c.outOfGrammar}, {"foreign", c.foreign}} {
		rate := falseAcceptsWith(t, e, set.clips, opts)
		t.Logf("%s accepted in the flow's grammar: %.1f%% of %d sentences", set.name, 100*rate, len(set.clips))
		if rate >= maxFalseAccept {
			t.Errorf("accepted %.1f%% of the %s sentences in the flow's grammar, want under %.0f%%", 100*rate, set.name, 100*maxFalseAccept)
		}
	}
}

// TestRejectsHeldOut: the held-out rejection set (outOfGrammarHeld,
// foreignHeld), which nothing was tuned on until the word loop, with the
// 21 phrases and with the flow's whole grammar.
func TestRejectsHeldOut(t *testing.T) {
	c := loadCorpus(t)
	rejectsSet(t, "held-out", c.outOfGrammarHeld, c.foreignHeld)
}

// TestRejectsThirdSet: the third rejection set (outOfGrammarThird,
// foreignThird), written before the reference pass was tried and tuned on
// first for the word loop, with the 21 phrases and with the flow's whole
// grammar.
func TestRejectsThirdSet(t *testing.T) {
	c := loadCorpus(t)
	rejectsSet(t, "third-set", c.outOfGrammarThird, c.foreignThird)
}

// TestFourthSet: the fourth set, written before the word loop was tried
// and never tuned on: 32 more of the flow's phrases, recognised in its
// whole grammar, and the fourth rejection set (outOfGrammarFourth,
// foreignFourth) with the 21 phrases and with the flow's grammar.
func TestFourthSet(t *testing.T) {
	c := loadCorpus(t)
	rate := recognition(t, testEngine(t), c.heldOutSecond, flowOptions(t))
	t.Logf("second held-out phrases recognised in the flow's grammar: %.1f%% of %d", 100*rate, len(c.heldOutSecond))
	if rate < minHeldOutSecond {
		t.Errorf("recognised %.1f%% of the second held-out phrases in the flow's grammar, want at least %.0f%%", 100*rate, 100*minHeldOutSecond)
	}
	rejectsSet(t, "fourth-set", c.outOfGrammarFourth, c.foreignFourth)
}

// rejectsSet fails t when maxFalseAccept or more of english, or of
// foreign, is accepted with the 21 phrases or with the flow's grammar.
func rejectsSet(t *testing.T, set string, english, foreign []clip) {
	t.Helper()
	e := testEngine(t)
	for _, g := range []struct {
		name string
		opts asr.Options
	}{{"the 21 phrases", en}, {"the flow's grammar", flowOptions(t)}} {
		for _, s := range []struct {
			name  string
			clips []clip
		}{{set + " English", english}, {set + " foreign", foreign}} {
			rate := falseAcceptsWith(t, e, s.clips, g.opts)
			t.Logf("%s accepted with %s: %.1f%% of %d sentences", s.name, g.name, 100*rate, len(s.clips))
			if rate >= maxFalseAccept {
				t.Errorf("accepted %.1f%% of the %s sentences with %s, want under %.0f%%", 100*rate, s.name, g.name, 100*maxFalseAccept)
			}
		}
	}
}

// TestWordLoopRejects: the word loop is what rejects the other English
// that the phone loop let through. Without it the same engine accepts 6
// of the 61 English sentences of the second and third sets with the
// flow's grammar (9.8%); with it, 1 (1.6%).
func TestWordLoopRejects(t *testing.T) {
	c := loadCorpus(t)
	clips := append(slices.Clip(c.outOfGrammarHeld), c.outOfGrammarThird...)
	with := falseAcceptsWith(t, testEngine(t), clips, flowOptions(t))
	e, err := New(Config{Decoders: 2})
	if err != nil {
		t.Fatal(err)
	}
	defer e.Close()
	e.common = nil
	without := falseAcceptsWith(t, e, clips, flowOptions(t))
	t.Logf("second and third sets' English accepted with the flow's grammar: %.1f%% with the word loop, %.1f%% without", 100*with, 100*without)
	if with >= maxFalseAccept || without < maxFalseAccept {
		t.Errorf("accepted %.1f%% with the word loop and %.1f%% without; want under %.0f%% with, and the loop to be what does it (over it without)",
			100*with, 100*without, 100*maxFalseAccept)
	}
}

// TestCommonWords: the word loop is the model's commonest words, from its
// own language model, each as likely as the language model says among
// them, together e^wordLoopWeight; and the grammar has it.
func TestCommonWords(t *testing.T) {
	e := testEngine(t)
	if len(e.common) != wordLoopSize {
		t.Fatalf("%d words in the word loop, want %d", len(e.common), wordLoopSize)
	}
	var total float64
	names := map[string]bool{}
	for i, w := range e.common {
		total += w.p
		names[w.word] = true
		if i > 0 && w.p > e.common[i-1].p {
			t.Errorf("%s (%g) after %s (%g): want likeliest first", w.word, w.p, e.common[i-1].word, e.common[i-1].p)
		}
		if strings.ContainsAny(strings.TrimPrefix(w.word, wordPrefix), "'_(") {
			t.Errorf("word loop has %q: want words of letters only", w.word)
		}
	}
	for _, w := range []string{"the", "and", "you", "that"} {
		if !names[wordPrefix+w] {
			t.Errorf("the word loop lacks %q, one of the commonest English words: %v", w, names)
		}
	}
	if math.Abs(total-math.Exp(wordLoopWeight)) > 1e-9 {
		t.Errorf("the word loop's words add up to %g, want e^%g", total, wordLoopWeight)
	}
	g, err := newGrammar(e.dict, []string{"refund"})
	if err != nil {
		t.Fatal(err)
	}
	fsg := g.fsg(1, e.common)
	if !strings.Contains(fsg, " "+wordPrefix+"the\n") || !strings.Contains(fsg, "NUM_STATES 4\n") {
		t.Errorf("the grammar has no word loop:\n%s", fsg)
	}
	if isLoop("i want a refund") || !isLoop(wordPrefix+"the "+loopPrefix+"aa") {
		t.Error("isLoop does not tell a phrase from the loops' words")
	}
}

// TestRejectionCanFail guards the rejection tests above: with rejection
// off the same audio is accepted, so they measure the threshold and not
// an engine that hears nothing.
func TestRejectionCanFail(t *testing.T) {
	c := loadCorpus(t)
	e, err := New(Config{MinMargin: math.Inf(-1), Decoders: 2})
	if err != nil {
		t.Fatal(err)
	}
	defer e.Close()
	if rate := falseAccepts(t, e, c.outOfGrammar[:8]); rate < 0.5 {
		t.Errorf("without rejection, %.0f%% of out-of-grammar English was accepted; want most of it (the grammar hears a phrase in anything)", 100*rate)
	}
}

// TestSameAudioSameResult: a clip's result does not depend on which
// decoder takes it, what that decoder heard before, or what the others
// decode beside it. The clips go through twice, concurrently, the second
// time in the opposite order; every result and confidence (a function of
// the unexplained speech, set on rejected clips too) must repeat exactly.
// A decoder that kept its noise estimate from one utterance to the next
// failed this.
func TestSameAudioSameResult(t *testing.T) {
	c := loadCorpus(t)
	e, err := New(Config{Decoders: 2})
	if err != nil {
		t.Fatal(err)
	}
	defer e.Close()
	clips := append(append([]clip{}, c.outOfGrammar[:6]...), c.inGrammar[:6]...)
	clips = append(clips, c.foreign[:6]...)
	first := score(t, e, clips, en)
	slices.Reverse(clips)
	second := score(t, e, clips, en)
	slices.Reverse(second)
	slices.Reverse(clips)
	for i, r := range first {
		if r != second[i] {
			t.Errorf("%v: %q (confidence %v), then %q (confidence %v)", clips[i], r.Text, r.Confidence, second[i].Text, second[i].Confidence)
		}
	}
}

func TestConfidence(t *testing.T) {
	c := loadCorpus(t)
	e := testEngine(t)
	for i, r := range score(t, e, c.inGrammar, en) {
		if r.Confidence < 0 || r.Confidence > 1 {
			t.Errorf("%v: confidence %v, want 0..1", c.inGrammar[i], r.Confidence)
		}
		if r.Text != "" && r.Confidence < 0.5 {
			t.Errorf("%v: accepted %q with confidence %.2f, want at least 0.5 (the threshold)", c.inGrammar[i], r.Text, r.Confidence)
		}
		if !r.Final || (r.Text != "" && r.Language != "en") {
			t.Errorf("%v: Final %v Language %q, want a final English result", c.inGrammar[i], r.Final, r.Language)
		}
	}
}

func TestOnlyEnglish(t *testing.T) {
	e := testEngine(t)
	rec, err := asr.New(Name, asr.Config{})
	if err != nil {
		t.Fatal(err)
	}
	pcm := make([]int16, 8000)
	for _, lang := range []string{"id", "zh", "yue", "tr"} {
		_, err := e.Transcribe(context.Background(), pcm, asr.Options{Language: lang, Phrases: demoPhrases})
		if !errors.Is(err, ErrLanguage) {
			t.Errorf("language %q: error %v, want ErrLanguage", lang, err)
		}
		if err != nil && !strings.Contains(err.Error(), "pocketsphinx speaks only en") {
			t.Errorf("language %q: error %q does not say why", lang, err)
		}
		// Through the registry, the stream is refused as it opens.
		if _, err := rec.Stream(context.Background(), asr.Options{Language: lang, Phrases: demoPhrases}); !errors.Is(err, asr.ErrUnsupportedLanguage) {
			t.Errorf("a %q stream: %v, want asr.ErrUnsupportedLanguage", lang, err)
		}
	}
	for _, lang := range []string{"", "en", "en-GB"} {
		if _, err := e.Transcribe(context.Background(), pcm, asr.Options{Language: lang, Phrases: demoPhrases}); err != nil {
			t.Errorf("language %q: %v", lang, err)
		}
	}
}

func TestSilenceIsNothing(t *testing.T) {
	e := testEngine(t)
	for _, n := range []int{0, 160, 16000} {
		r, err := e.Transcribe(context.Background(), make([]int16, n), en)
		if err != nil {
			t.Fatalf("%d samples of silence: %v", n, err)
		}
		if r.Text != "" {
			t.Errorf("%d samples of silence heard as %q", n, r.Text)
		}
	}
}

func TestMissingWords(t *testing.T) {
	e := testEngine(t)
	if got := e.Missing([]string{"refund", "Talk to a Zorblaxian!"}); fmt.Sprint(got) != "[zorblaxian]" {
		t.Errorf("Missing = %q, want [zorblaxian]", got)
	}
	g, err := newGrammar(e.dict, []string{"Refund!", "refund", "talk to a zorblaxian", "qqqq"})
	if err != nil {
		t.Fatal(err)
	}
	if fmt.Sprint(g.phrases) != "[refund talk to a]" || fmt.Sprint(g.missing) != "[qqqq zorblaxian]" {
		t.Errorf("phrases %q missing %q; want [refund talk to a] and [qqqq zorblaxian]", g.phrases, g.missing)
	}
	if _, err := e.Transcribe(context.Background(), make([]int16, 800), asr.Options{Phrases: []string{"qqqq zzzz"}}); err == nil {
		t.Error("phrases with no known word: no error")
	}
}

func TestCancelled(t *testing.T) {
	e := testEngine(t)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := e.Transcribe(ctx, make([]int16, 800), en); !errors.Is(err, context.Canceled) {
		t.Errorf("cancelled context: error %v, want context.Canceled", err)
	}
}

func TestClose(t *testing.T) {
	c := loadCorpus(t)
	e, err := New(Config{Decoders: 1, Grammars: 1})
	if err != nil {
		t.Fatal(err)
	}
	// Two phrase sets with room for one: the first pool is evicted and
	// freed, and still answers when asked again.
	other := asr.Options{Phrases: []string{"yes", "no"}}
	for _, o := range []asr.Options{en, other, en} {
		if _, err := e.Transcribe(context.Background(), c.inGrammar[0].pcm, o); err != nil {
			t.Fatal(err)
		}
	}
	if err := e.Close(); err != nil {
		t.Fatal(err)
	}
	if err := e.Close(); err != nil {
		t.Fatalf("second Close: %v", err)
	}
	if _, err := e.Transcribe(context.Background(), c.inGrammar[0].pcm, en); !errors.Is(err, ErrClosed) {
		t.Errorf("after Close: error %v, want ErrClosed", err)
	}
}

// TestSteadyStateAllocations: a decoder reused for an utterance allocates
// only the result's strings, not the audio (the 16 kHz buffer is the
// slot's).
func TestSteadyStateAllocations(t *testing.T) {
	c := loadCorpus(t)
	e := testEngine(t)
	pcm := c.inGrammar[0].pcm
	if _, err := e.Transcribe(context.Background(), pcm, en); err != nil {
		t.Fatal(err)
	}
	allocs := testing.AllocsPerRun(5, func() {
		if _, err := e.Transcribe(context.Background(), pcm, en); err != nil {
			t.Fatal(err)
		}
	})
	if allocs > 10 {
		t.Errorf("%.0f allocations per utterance, want at most 10", allocs)
	}
}

// TestRegistered: the engine is in the registry and recognises a phrase
// written frame by frame to a stream, through asr.FromBatch.
func TestRegistered(t *testing.T) {
	c := loadCorpus(t)
	if !slices.Contains(asr.Engines(), Name) {
		t.Fatalf("asr.Engines() = %q, want %q in it", asr.Engines(), Name)
	}
	r, err := asr.New(Name, asr.Config{})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	s, err := r.Stream(ctx, en)
	if err != nil {
		t.Fatal(err)
	}
	pcm := append(make([]int16, 4000), c.inGrammar[0].pcm...)
	pcm = append(pcm, make([]int16, 8000)...)
	for i := 0; i+160 <= len(pcm); i += 160 {
		if err := s.Write(pcm[i : i+160]); err != nil {
			t.Fatal(err)
		}
	}
	s.Close()
	var got []string
	for res := range s.Results() {
		if res.Final {
			got = append(got, res.Text)
		}
	}
	if !slices.Contains(got, want(c.inGrammar[0])) {
		t.Errorf("stream heard %q, want %q", got, want(c.inGrammar[0]))
	}
}

func TestNoPhrasesNeedsOpenVocabulary(t *testing.T) {
	e, err := New(Config{})
	if err != nil {
		t.Fatal(err)
	}
	defer e.Close()
	if _, err := e.Transcribe(context.Background(), make([]int16, 8000), asr.Options{Language: "en"}); !errors.Is(err, ErrNoPhrases) {
		t.Errorf("no phrases: %v, want ErrNoPhrases", err)
	}
}
