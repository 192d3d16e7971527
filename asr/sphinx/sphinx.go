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
// flow's phrases (see BenchmarkGrammar): at -0.1 it recognises 17 of the
// 21 and lets through 1 of 33 other English sentences ("we should paint
// the kitchen blue", margin 0.8) and 1 of 48 foreign ones. Margins are the
// same run after run (TestSameAudioSameResult), so these figures are too;
// 14 of the 17 recognised phrases score above 2, the rest of the other
// English -1 or below.
const DefaultMinMargin = -0.1

// ErrLanguage is the error for a call in a language other than English:
// the model knows only US English, and the caller is better served by the
// keypad than by English words forced onto other speech.
var ErrLanguage = errors.New("pocketsphinx speaks only en")

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
	// MinMargin is the rejection threshold: how much worse, per 10 ms
	// frame, the best phrase may fit the audio than a free loop of phones
	// before the result is rejected (default DefaultMinMargin). Higher
	// rejects more. math.Inf(-1) rejects nothing.
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

// marginScale spreads the margin over Confidence: a margin this far above
// MinMargin gives 0.73, this far below 0.27.
const marginScale = 2.0

// grammarArgs widen the search beams in grammar mode. With PocketSphinx's
// defaults (1e-48, at most 30,000 HMMs a frame) a phrase whose first words
// fit badly is pruned, and nothing reaches the grammar's final state: on
// telephone-band audio (nothing above 4 kHz, where the model expects
// fricatives up to 6.8 kHz) 3 of the demo's 21 phrases came out empty.
// A grammar is small, so the wide beam costs little.
var grammarArgs = []string{"-beam", "1e-100", "-pbeam", "1e-100", "-wbeam", "1e-80", "-maxhmmpf", "-1"}

// Engine is PocketSphinx 0.8 as an asr.Batch engine: with phrases, a
// grammar decoder that rejects what is not one of them; without, the
// open-vocabulary language model. It is safe for concurrent use.
type Engine struct {
	cfg  Config
	dict dictionary
	log  *slog.Logger

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
	e := &Engine{cfg: cfg, dict: dict, log: log, pools: map[string]*pool{}}
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
// free loop of phones clearly better than any phrase: other English, other
// languages, noise. Without phrases it returns what the open-vocabulary
// language model makes of the audio, unrejected: poor on synthetic speech,
// about one word in four wrong on read speech.
//
// Confidence is 0.5 at the rejection threshold and grows with the margin
// (see Config.MinMargin). opts.Language must be "en", an English variant
// ("en-GB") or empty; any other language is ErrLanguage.
func (e *Engine) Transcribe(ctx context.Context, pcm []int16, opts asr.Options) (asr.Result, error) {
	if err := ctx.Err(); err != nil {
		return asr.Result{}, err
	}
	if l := opts.Language; l != "" && l != "en" && !strings.HasPrefix(l, "en-") {
		return asr.Result{}, fmt.Errorf("recognise %q speech: %w", l, ErrLanguage)
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
	text, margin, err := s.recognise(ctx, pcm)
	if err != nil {
		return asr.Result{}, err
	}
	res := asr.Result{Language: "en", Final: true}
	if text == "" {
		return res, nil
	}
	res.Confidence = 1 / (1 + math.Exp(-(margin-e.cfg.MinMargin)/marginScale))
	if p.g == nil || margin >= e.cfg.MinMargin {
		res.Text = text
	}
	return res, nil
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
		return newDecoder(args, loopWords, "", loopFSG)
	}
	// The decoder's dictionary holds only the grammar's words, added
	// after it starts: reading all of CMUdict would cost most of a second.
	args = append(args, "-dict", "/dev/null")
	args = append(args, grammarArgs...)
	return newDecoder(args, append(g.words[:len(g.words):len(g.words)], loopWords...), g.fsg, loopFSG)
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
// 16 kHz resampler (the model takes only 16 kHz) and its output buffer.
type slot struct {
	d   *decoder
	rs  *media.Resampler
	buf []int16
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
// filter's delay cut off).
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
	dither(out)
	return out
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
// -6.6 and +9.8 undithered (TestDitherSteadiesTheMargin in cmd/sambung, on
// the demo grammar). PocketSphinx's own -dither did the same, but from one
// generator shared by every decoder in the process, so a clip's margin
// depended on what the other calls were decoding.
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

// recognise decodes pcm (8 kHz) with the main search and the phone loop,
// and returns the main search's words and the margin: its score less the
// loop's, per frame.
func (s *slot) recognise(ctx context.Context, pcm []int16) (string, float64, error) {
	audio := s.upsample(pcm)
	main, err := s.d.decode(false, audio)
	if err != nil || main.Hyp == "" {
		return "", 0, err
	}
	if err := ctx.Err(); err != nil {
		return "", 0, err
	}
	loop, err := s.d.decode(true, audio)
	if err != nil {
		return "", 0, err
	}
	return main.Hyp, float64(main.Score-loop.Score) / float64(max(main.Frames, 1)), nil
}
