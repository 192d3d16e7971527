//go:build pocketsphinx

package sphinx

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math"
	"path/filepath"
	"runtime"
	"strings"
	"sync"

	"github.com/sambung/sambung/asr"
	"github.com/sambung/sambung/media"
)

// Name is the engine's name in the asr registry.
const Name = "pocketsphinx"

// DefaultModel is where Debian's pocketsphinx-en-us puts the US-English model.
const DefaultModel = "/usr/share/pocketsphinx/model/en-us"

// DefaultMinMargin is Config.MinMargin's default, measured on the demo
// flow's phrases (see BenchmarkGrammar and the held-out set in
// corpus_test.go), before the word loop: a loop phone e^-7 times as
// likely as one of the 39 chosen at random. With the checks of the path
// (maxUnexplained, maxStretch) the engine then recognised 19 of the 21
// phrases, 18 of the 20 of them in the flow's 202-phrase grammar and all
// 32 held-out ones in it; it accepted none of the 33 other English
// sentences and 48 foreign ones with the 21 phrases, and 1 of each with
// the flow's grammar. The loop itself rejects few of them: phone by phone
// it costs more than the silence model, which the checks catch instead. A
// stronger loop does not separate them: the English false accepts of the
// flow's grammar stayed until e^0, where it took 6 of the 21 phrases and
// 4 of the 32 held-out ones; e^-4 already took one of the 21. A weaker one
// (-10) changed no figure. The word loop's phones are weighted the same.
// Results are the same run after run (TestSameAudioSameResult), so these
// figures are too.
const DefaultMinMargin = -7.0

// ErrLanguage is the error for a call in a language other than English:
// the model knows only US English, and the caller is better served by the
// keypad than by English words forced onto other speech. It is an
// asr.ErrUnsupportedLanguage, so a stream in another language is refused
// as it opens (see CheckLanguage).
var ErrLanguage = fmt.Errorf("pocketsphinx speaks only en: %w", asr.ErrUnsupportedLanguage)

// ErrNoPhrases is returned for an utterance with no phrases to listen for
// when Config.OpenVocabulary is off: the engine listens for what the flow
// expects, in grammar mode.
var ErrNoPhrases = errors.New("pocketsphinx needs the phrases to listen for (grammar mode); open vocabulary is off")

// ErrClosed is the error Transcribe returns after Close.
var ErrClosed = errors.New("pocketsphinx: engine closed")

// Config configures an Engine. The zero value is ready to use.
type Config struct {
	// Model is the model directory: the acoustic model in en-us/, the
	// dictionary cmudict-en-us.dict and the language model en-us.lm.bin
	// (default DefaultModel).
	Model string
	// MinMargin is the rejection threshold: the natural log of how
	// likely each phone of the free loop of phones that the search tries
	// beside the phrases is, against a phone chosen at random (default
	// DefaultMinMargin). Audio that the loop fits better than any phrase,
	// its phones weighted so, is rejected: higher rejects more.
	// math.Inf(-1) rejects nothing: no loops (neither of phones nor of
	// words, see commonWords), and no check for unexplained speech (see
	// maxUnexplained).
	MinMargin float64
	// Decoders is how many idle decoders each grammar keeps for the next
	// utterance (default GOMAXPROCS). More may run at once; the extra ones
	// are freed when they finish.
	Decoders int
	// Grammars is how many phrase sets keep their decoders (default 16);
	// the least recently used goes first.
	Grammars int
	// OpenVocabulary allows Transcribe with no phrases, decoding with the
	// language model. It is off by default: it is poor on telephone speech
	// (see Transcribe), and it crashed inside libpocketsphinx while being
	// measured by 'sambung eval asr', which a call must never risk.
	OpenVocabulary bool
	// Logger receives what the engine has to say about a flow's phrases
	// (words the dictionary lacks). Nil discards it.
	Logger *slog.Logger
}

const defaultGrammars = 16

// maxUnexplained is how many 10 ms frames of speech the phrase's path may
// spend in silence or noise (fillerEdge frames at each end of a silence
// not counted). Forced onto speech that is none of the phrases, the
// grammar fits a phrase to part of it and lets the silence model take the
// rest: 21 to 173 frames of speech on most of the other English and
// foreign sentences, but 15 to 20 on four of them in the flow's grammar,
// all accepted at the earlier limit of 20 (16 rejects three; the
// durations two of them too), and 10 on one (Mandarin "我想退货", which
// maxStretch rejects). The phrases, said,
// leave none (21 phrases), at most 6 (held-out set) and 13 (espeak-ng's
// British voice, "i want to speak to someone about my bill", in
// cmd/sambung's TestDitherSteadiesTheMargin): the limit leaves room above
// them. "Speech" is by energy (see slot.speech).
const maxUnexplained = 16

// maxStretch and minFinal bound how long, in 10 ms frames per phone, the
// best path holds the phrase's words (their frames over their phones, a
// word of one phone counted as two): a word but the last for at most
// maxStretch, the last for at least minFinal (the model's phones last 3
// frames at the least). A phrase forced onto other speech bends its words
// to cover it: in the flow's grammar "I need to buy new shoes" was "let me
// talk to a human" with "a" held 36 frames, Cantonese "唔該晒" "who are
// you" with "are" held 41 and "you" squeezed into 6. Said, the phrases'
// words but the last took 3.5 to 11 frames per phone (the 21 phrases and
// the 32 held-out ones), the last 7.1 to 15 (lengthened before the pause).
// Of the 10 false accepts in the flow's grammar the two bounds reject 7
// (12.25 to 28 frames a phone held, or 3.7 squeezed), and the one with
// the 21 phrases. One phone counts as two because espeak-ng's British
// voice holds "I" for 14 frames (cmd/sambung's TestDitherSteadiesTheMargin);
// it costs the held-out rejection set two sentences in the flow's grammar
// ("a" and "i" held long). Relative to the utterance's mean frames per
// phone (so a slow speaker is not held against) the stretch separated
// worse: the phrases reached 1.48 times it, a false accept 1.25.
const (
	maxStretch = 12.0
	minFinal   = 5.0
)

// unexplainedScale spreads the unexplained speech over Confidence: 0.5 just
// above maxUnexplained, 0.76 at 13 frames, 0.92 at 9, near 1 with none.
const unexplainedScale = 3.0

// grammarArgs widen the search beams in grammar mode. With PocketSphinx's
// defaults (1e-48, at most 30,000 HMMs a frame) a phrase whose first words
// fit badly is pruned, and nothing reaches the grammar's final state: on
// telephone-band audio (nothing above 4 kHz, where the model expects
// fricatives up to 6.8 kHz) 3 of the demo's 21 phrases came out empty.
// The word loop (see commonWords) needs them too: at 1e-60 it was pruned
// where it should have won, and twice as many other English sentences
// were accepted. At 1e-70 (1e-60 for word exits) every figure is what it
// is at 1e-100 and 1e-80, for less: word exits are most of the search's
// own cost. Most of the time goes to the acoustic model's densities, which
// the beams hardly change, so the one search (the phrases and both loops
// together) is what keeps it cheap.
var grammarArgs = []string{"-beam", "1e-70", "-pbeam", "1e-70", "-wbeam", "1e-60", "-maxhmmpf", "-1"}

// Engine is PocketSphinx 0.8 as an asr.Batch engine: with phrases, a
// grammar decoder that rejects what is not one of them; without, the
// open-vocabulary language model. It is safe for concurrent use.
type Engine struct {
	cfg    Config
	dict   dictionary
	common []loopWord // the word loop (see commonWords)
	log    *slog.Logger

	mu     sync.Mutex
	pools  map[string]*pool // by the Options.Phrases as given, joined
	tick   uint64           // use counter, for least-recently-used eviction
	closed bool
}

// New loads the dictionary and checks that a decoder starts (so a missing
// model shows at start-up, not on the first call).
func New(cfg Config) (*Engine, error) {
	if cfg.Model == "" {
		cfg.Model = DefaultModel
	}
	if cfg.MinMargin == 0 {
		cfg.MinMargin = DefaultMinMargin
	}
	if cfg.Decoders <= 0 {
		cfg.Decoders = runtime.GOMAXPROCS(0)
	}
	if cfg.Grammars <= 0 {
		cfg.Grammars = defaultGrammars
	}
	log := cfg.Logger
	if log == nil {
		log = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	dict, err := readDictionary(filepath.Join(cfg.Model, "cmudict-en-us.dict"))
	if err != nil {
		return nil, fmt.Errorf("pocketsphinx: %w (install the Debian package pocketsphinx-en-us, or set the model directory)", err)
	}
	common, err := commonWords(dict, filepath.Join(cfg.Model, "en-us.lm.bin"), wordLoopSize)
	if err != nil {
		return nil, fmt.Errorf("%w (the word loop of rejection takes its words from it)", err)
	}
	e := &Engine{cfg: cfg, dict: dict, common: common, log: log, pools: map[string]*pool{}}
	g, err := newGrammar(dict, []string{"yes"})
	if err != nil {
		return nil, fmt.Errorf("pocketsphinx: %w", err)
	}
	d, err := e.newDecoder(g)
	if err != nil {
		return nil, err
	}
	d.free()
	return e, nil
}

// Name returns "pocketsphinx".
func (e *Engine) Name() string { return Name }

// Missing returns the words of phrases that the dictionary lacks, which
// the grammar leaves out: a flow's author can spell them differently.
func (e *Engine) Missing(phrases []string) []string {
	g, err := newGrammar(e.dict, phrases)
	if err != nil {
		var all []string
		for _, p := range phrases {
			all = append(all, normalize(p)...)
		}
		return all
	}
	return g.missing
}

// Transcribe recognises pcm, one utterance of 8 kHz 16-bit mono.
//
// With opts.Phrases it returns one of them, normalised (lower case, only
// the words the dictionary knows), or an empty Text when the audio fits a
// free loop of phones, or of common words, better than any phrase (see
// commonWords), the phrase leaves more than 160 ms of the speech to
// silence, or its words are held or squeezed beyond what speech takes
// (see maxStretch): other English, other languages, noise. Without
// phrases it returns what the open-vocabulary language model makes of the
// audio, unrejected: poor on synthetic speech, about one word in four
// wrong on read speech.
//
// Confidence is 0.5 at the limit of unexplained speech and grows towards
// 1 as less of the speech is left unexplained (see maxUnexplained); 0 when
// the phone loop won or the words were bent. opts.Language must be "en",
// an English variant ("en-GB") or empty; any other language is
// ErrLanguage.
func (e *Engine) Transcribe(ctx context.Context, pcm []int16, opts asr.Options) (asr.Result, error) {
	if err := ctx.Err(); err != nil {
		return asr.Result{}, err
	}
	if err := e.CheckLanguage(opts.Language); err != nil {
		return asr.Result{}, err
	}
	if len(opts.Phrases) == 0 && !e.cfg.OpenVocabulary {
		return asr.Result{}, ErrNoPhrases
	}
	p, err := e.pool(opts.Phrases)
	if err != nil {
		return asr.Result{}, err
	}
	s, err := p.get(e)
	if err != nil {
		return asr.Result{}, err
	}
	defer p.put(s)
	h, err := s.recognise(ctx, pcm, p.g)
	if err != nil {
		return asr.Result{}, err
	}
	res := asr.Result{Language: "en", Final: true}
	if h.text == "" {
		return res, nil
	}
	if h.loop {
		return res, nil // the loop's phones: no phrase was heard
	}
	if p.g == nil || math.IsInf(e.cfg.MinMargin, -1) {
		res.Text = h.text // nothing rejects
		return res, nil
	}
	if h.stretched > maxStretch || h.squeezed < minFinal {
		return res, nil // a phrase's words bent to fit other speech
	}
	res.Confidence = 1 / (1 + math.Exp((float64(h.unexplained)-maxUnexplained-0.5)/unexplainedScale))
	if h.unexplained <= maxUnexplained {
		res.Text = h.text
	}
	return res, nil
}

// CheckLanguage refuses every language but English (lang "en", an English
// variant such as "en-GB", or "" for unknown) with ErrLanguage: an
// asr.LanguageChecker.
func (e *Engine) CheckLanguage(lang string) error {
	if lang != "" && lang != "en" && !strings.HasPrefix(lang, "en-") {
		return fmt.Errorf("recognise %q speech: %w", lang, ErrLanguage)
	}
	return nil
}

// Close frees the idle decoders, and the busy ones as they finish.
// Transcribe fails with ErrClosed after it. Close is idempotent.
func (e *Engine) Close() error {
	e.mu.Lock()
	pools := e.pools
	e.pools, e.closed = nil, true
	e.mu.Unlock()
	for _, p := range pools {
		p.close()
	}
	return nil
}

// newDecoder starts a decoder for g, or for the language model if g is nil.
// Its input is dithered first (see dither), so PocketSphinx's own dither,
// which draws on one random generator shared by every decoder in the
// process, stays off.
func (e *Engine) newDecoder(g *grammar) (*decoder, error) {
	args := []string{"-hmm", filepath.Join(e.cfg.Model, "en-us")}
	if g == nil {
		args = append(args, "-dict", filepath.Join(e.cfg.Model, "cmudict-en-us.dict"),
			"-lm", filepath.Join(e.cfg.Model, "en-us.lm.bin"))
		return newDecoder(args, nil, "")
	}
	// The decoder's dictionary holds only the grammar's words, added
	// after it starts: reading all of CMUdict would cost most of a second.
	args = append(args, "-dict", "/dev/null")
	args = append(args, grammarArgs...)
	loop := math.Exp(e.cfg.MinMargin) // 0 for -Inf: no loops
	words := append(g.words[:len(g.words):len(g.words)], loopWords...)
	for _, w := range e.common {
		words = append(words, w.entry)
	}
	return newDecoder(args, words, g.fsg(loop, e.common))
}

// pool returns the decoders for phrases, making the pool if it is new.
func (e *Engine) pool(phrases []string) (*pool, error) {
	key := strings.Join(phrases, "\x00")
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.closed {
		return nil, ErrClosed
	}
	e.tick++
	if p, ok := e.pools[key]; ok {
		p.used = e.tick
		return p, p.err
	}
	p := &pool{max: e.cfg.Decoders, used: e.tick}
	if len(phrases) > 0 {
		p.g, p.err = newGrammar(e.dict, phrases)
		if p.err != nil {
			p.err = fmt.Errorf("pocketsphinx: %w", p.err)
		} else if len(p.g.missing) > 0 {
			e.log.Warn("pocketsphinx: words not in the dictionary are left out of the grammar; spell them differently",
				"words", strings.Join(p.g.missing, ", "))
		}
	}
	if len(e.pools) >= e.cfg.Grammars {
		var oldest string
		for k, q := range e.pools {
			if oldest == "" || q.used < e.pools[oldest].used {
				oldest = k
			}
		}
		e.pools[oldest].close()
		delete(e.pools, oldest)
	}
	e.pools[key] = p
	return p, p.err
}

// A pool keeps idle decoders for one grammar (or the language model, g
// nil). Decoders are costly to start and not safe for concurrent use: one
// Transcribe takes one, and gives it back.
type pool struct {
	g    *grammar
	err  error  // why the grammar cannot be built
	used uint64 // Engine.tick when last asked for

	mu     sync.Mutex
	idle   []*slot
	max    int
	closed bool
}

// A slot is a decoder with what one utterance needs beside it: an 8 to
// 16 kHz resampler (the model takes only 16 kHz) and its output buffer,
// and the buffers of speech, so that a reused slot allocates nothing for
// the audio.
type slot struct {
	d   *decoder
	rs  *media.Resampler
	buf []int16

	energy []float64 // per frame: see speech
	flags  []uint8   // per frame: 1 for speech
	timing timing    // the best path's words: see durations
}

func (p *pool) get(e *Engine) (*slot, error) {
	p.mu.Lock()
	if n := len(p.idle); n > 0 {
		s := p.idle[n-1]
		p.idle = p.idle[:n-1]
		p.mu.Unlock()
		return s, nil
	}
	p.mu.Unlock()
	d, err := e.newDecoder(p.g)
	if err != nil {
		return nil, err
	}
	rs, err := media.NewResampler(8000, 16000)
	if err != nil {
		d.free()
		return nil, err
	}
	return &slot{d: d, rs: rs}, nil
}

func (p *pool) put(s *slot) {
	p.mu.Lock()
	if !p.closed && len(p.idle) < p.max {
		p.idle = append(p.idle, s)
		s = nil
	}
	p.mu.Unlock()
	if s != nil {
		s.d.free()
	}
}

func (p *pool) close() {
	p.mu.Lock()
	idle := p.idle
	p.idle, p.closed = nil, true
	p.mu.Unlock()
	for _, s := range idle {
		s.d.free()
	}
}

// flush is the silence that pushes the last samples through the
// resampler's filter (its delay is 2 ms: 16 samples at 8 kHz).
var flush [16]int16

// upsample converts pcm to 16 kHz into the slot's buffer, aligned (the
// filter's delay cut off), with the high band added (extend) and dither.
func (s *slot) upsample(pcm []int16) []int16 {
	s.rs.Reset()
	n := s.rs.OutLen(len(pcm)) + 2*len(flush)
	if cap(s.buf) < n {
		s.buf = make([]int16, n)
	}
	buf := s.buf[:n]
	w := s.rs.Process(buf, pcm)
	w += s.rs.Process(buf[w:], flush[:])
	lag := int(s.rs.Delay().Microseconds() * 16 / 1000)
	out := buf[min(lag, w):w]
	extend(out)
	dither(out)
	return out
}

// Bandwidth extension: the model was trained on 16 kHz speech and its
// filter bank reaches 6.8 kHz, but a telephone line carries nothing above
// 4 kHz, where fricatives (/s/, /sh/, /z/, "ch", "j") have most of their
// energy. Left empty, that band looks the same in every frame, and the
// phrases with those sounds fitted badly: extend adds noise there, shaped
// by how loud the 2 to 4 kHz band is at that moment (loud in fricatives,
// quiet in vowels). Without it, in the single search with the check for
// unexplained speech, 18 of the 21 phrases and 30 of the 32 held-out ones
// were recognised and 2 of the 48 foreign sentences accepted; with it 19,
// 32 and none (measured with a limit of 10 frames, silences' edges
// counted). Half the
// band's level fitted better than a level equal to it, and than folding
// the 0 to 4 kHz spectrum over 4 kHz.
const (
	extendGain = 0.5   // the noise's level against the 2 to 4 kHz band
	extendTau  = 0.002 // seconds: how fast its envelope follows the band
)

// A biquad is a second-order IIR filter section (direct form I).
type biquad struct {
	b0, b1, b2, a1, a2 float64
	x1, x2, y1, y2     float64
}

// highpass returns a second-order high-pass filter: corner fc Hz at a
// sample rate of fs, quality q (RBJ's audio-EQ cookbook).
func highpass(fc, fs, q float64) biquad {
	w := 2 * math.Pi * fc / fs
	alpha := math.Sin(w) / (2 * q)
	c := math.Cos(w)
	a0 := 1 + alpha
	return biquad{b0: (1 + c) / 2 / a0, b1: -(1 + c) / a0, b2: (1 + c) / 2 / a0, a1: -2 * c / a0, a2: (1 - alpha) / a0}
}

func (f *biquad) step(x float64) float64 {
	y := f.b0*x + f.b1*f.x1 + f.b2*f.x2 - f.a1*f.y1 - f.a2*f.y2
	f.x2, f.x1 = f.x1, x
	f.y2, f.y1 = f.y1, y
	return y
}

// extend adds the high band to pcm (16 kHz, nothing above 4 kHz), in
// place. Like dither, its noise comes from a generator seeded afresh for
// each utterance, so the same audio always decodes the same.
func extend(pcm []int16) {
	// The 2 to 4 kHz band: fourth-order high-pass at 2 kHz (the
	// upsampler already cut everything above 4 kHz).
	b1, b2 := highpass(2000, 16000, 0.54), highpass(2000, 16000, 1.31)
	// The noise kept above 4.2 kHz: fourth-order Butterworth high-pass.
	h1, h2 := highpass(4200, 16000, 0.54), highpass(4200, 16000, 1.31)
	a := 1 - math.Exp(-1/(16000*extendTau))
	env := 0.0
	x := uint32(88172645) // xorshift32's state
	for i, v := range pcm {
		s := float64(v)
		env += a * (math.Abs(b2.step(b1.step(s))) - env)
		x ^= x << 13
		x ^= x >> 17
		x ^= x << 5
		// Uniform in -1..1, times 1.7 (about √3: unit variance) times
		// the band's mean level.
		n := env * 1.7 * float64(int32(x)) / (1 << 31)
		y := s + extendGain*h2.step(h1.step(n))
		pcm[i] = int16(max(math.MinInt16, min(math.MaxInt16, math.Round(y))))
	}
}

// dither adds 1 to about one sample in four, drawn from a generator
// seeded afresh for every utterance: the same audio always gets the same
// noise, in whichever decoder and beside whichever other calls.
//
// Without it, stretches of digital silence (zeros, which a G.711 encoder
// may or may not round the quiet parts of a call to) have no energy at
// all, and the scores of the phrase search and the phone loop swing wildly
// on them. The same sentence through baresip's µ-law encoder and through
// ours, one quantisation step apart in 8% of samples, scored margins of
// -6.6 and +9.8 per frame undithered, against a phone loop decoded
// separately (TestDitherSteadiesTheMargin in cmd/sambung, on the demo
// grammar; the engine rejected by that margin then). PocketSphinx's own
// -dither did the same, but from one generator shared by every decoder in
// the process, so a clip's result depended on what the other calls were
// decoding.
func dither(pcm []int16) {
	x := uint32(2463534242) // xorshift32's state; any non-zero seed
	for i, v := range pcm {
		x ^= x << 13
		x ^= x >> 17
		x ^= x << 5
		if x&3 == 0 && v < math.MaxInt16 {
			pcm[i] = v + 1
		}
	}
}

// A hearing is what the search made of one utterance.
type hearing struct {
	text        string  // the phrase, or the phone loop's words
	loop        bool    // the phone loop fitted better than any phrase
	unexplained int     // frames of speech the phrase's path spends in silence or noise
	stretched   float64 // most frames per phone of a word but the last
	squeezed    float64 // frames per phone of the last word
}

// recognise decodes pcm (8 kHz) and says how well its words explain it.
func (s *slot) recognise(ctx context.Context, pcm []int16, g *grammar) (hearing, error) {
	audio := s.upsample(pcm)
	d, err := s.d.decode(audio)
	if err != nil || d.Hyp == "" {
		return hearing{}, err
	}
	h := hearing{text: d.Hyp, loop: isLoop(d.Hyp)}
	if !h.loop {
		h.unexplained = s.d.unexplained(s.speech(pcm, d.Frames))
		if g != nil {
			h.stretched, h.squeezed = s.durations(g)
		}
	}
	return h, nil
}

// durations returns the most frames per phone of the best path's words
// but the last, and the last word's frames per phone (see maxStretch).
func (s *slot) durations(g *grammar) (stretched, squeezed float64) {
	t := &s.timing
	s.d.words(t)
	for i := range t.n {
		n := g.phones[t.name(i)]
		if n == 0 {
			continue
		}
		frames := float64(t.ef[i] - t.sf[i] + 1)
		if i == t.n-1 {
			squeezed = frames / float64(n)
		} else {
			// A word of one phone is a syllable, often a long vowel
			// ("I"): it is held as long as two phones may be.
			stretched = max(stretched, frames/float64(max(n, 2)))
		}
	}
	return stretched, squeezed
}

// speech flags, for each of frames 10 ms frames of pcm (8 kHz), whether it
// is speech: within 30 dB of the loudest frame, and 10 dB above the
// quietest (the line's noise).
func (s *slot) speech(pcm []int16, frames int) []uint8 {
	if cap(s.energy) < frames {
		s.energy = make([]float64, frames)
		s.flags = make([]uint8, frames)
	}
	energy, flags := s.energy[:frames], s.flags[:frames]
	loud, quiet := 0.0, math.Inf(1)
	for f := range energy {
		// A frame's window is 25.6 ms from its start (205 samples at 8 kHz).
		var e float64
		for _, v := range pcm[min(f*80, len(pcm)):min(f*80+205, len(pcm))] {
			e += float64(v) * float64(v)
		}
		energy[f] = e
		loud, quiet = max(loud, e), min(quiet, e)
	}
	floor := max(loud/1000, quiet*10)
	for f, e := range energy {
		flags[f] = 0
		if e > floor {
			flags[f] = 1
		}
	}
	return flags
}
