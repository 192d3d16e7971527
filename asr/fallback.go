package asr

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"sync"
	"time"
)

// Fallback makes one Recognizer of two: what a call hears with when the
// engine chosen for it fails. A server engine may be down, slow or drop
// its connection in the middle of a call; the fallback (typically the
// embedded engine) then takes over, so the caller can still be heard.
//
// When both are Batch engines behind FromBatch, the fallback works per
// utterance: an utterance the primary fails on (an error, or no answer
// within its own timeout) goes to the fallback, and the next one to the
// primary again. The stream endpoints with the primary's settings.
//
// Otherwise (a streaming primary such as vosk) it works per stream: a
// stream the primary cannot open opens on the fallback, and when the
// primary's stream ends on its own (its connection dropped: its last
// Result carries the Err) the rest of the call's audio goes to a new
// stream on the fallback.
//
// A rejection (an empty Text with no Err) is an answer, not a failure: it
// is not asked again. log, if not nil, hears of each failure handed over.
func Fallback(primary, fallback Recognizer, log *slog.Logger) Recognizer {
	if log == nil {
		log = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	p, pok := primary.(*batchRecognizer)
	f, fok := fallback.(*batchRecognizer)
	if pok && fok {
		cfg := p.cfg
		cfg.Timeout = p.cfg.Timeout + f.cfg.Timeout
		return &batchRecognizer{b: &fallbackBatch{p: p.b, f: f.b, timeout: p.cfg.Timeout, log: log}, cfg: cfg, ep: p.ep}
	}
	return &fallbackRecognizer{p: primary, f: fallback, log: log}
}

// fallbackName names a pair on the call's timeline and in logs.
func fallbackName(primary, fallback string) string {
	return primary + " (fallback " + fallback + ")"
}

// fallbackBatch asks p, within timeout, and f when p fails.
type fallbackBatch struct {
	p, f    Batch
	timeout time.Duration
	log     *slog.Logger
}

func (b *fallbackBatch) Name() string { return fallbackName(b.p.Name(), b.f.Name()) }

// CheckLanguage refuses a language neither engine hears.
func (b *fallbackBatch) CheckLanguage(lang string) error {
	perr := checkLanguage(b.p, lang)
	if perr == nil {
		return nil
	}
	if ferr := checkLanguage(b.f, lang); ferr != nil {
		return fmt.Errorf("%w; then %w", perr, ferr)
	}
	return nil
}

// checkLanguage is b's refusal of lang, if b is a LanguageChecker.
func checkLanguage(b Batch, lang string) error {
	if lc, ok := b.(LanguageChecker); ok {
		return lc.CheckLanguage(lang)
	}
	return nil
}

func (b *fallbackBatch) Transcribe(ctx context.Context, pcm []int16, opts Options) (Result, error) {
	pctx, cancel := context.WithTimeout(ctx, b.timeout)
	res, err := safeTranscribe(pctx, b.p, pcm, opts)
	cancel()
	if err == nil || ctx.Err() != nil {
		return res, err // an answer, or the stream itself is over
	}
	if errors.Is(pctx.Err(), context.DeadlineExceeded) && !errors.Is(err, context.DeadlineExceeded) {
		err = fmt.Errorf("%w: %w", pctx.Err(), err)
	}
	if errors.Is(err, context.DeadlineExceeded) {
		err = fmt.Errorf("no answer within %s: %w", b.timeout, err)
	}
	b.log.Warn("asr: engine failed on an utterance; the fallback hears it", "engine", b.p.Name(), "fallback", b.f.Name(), "err", err)
	res, ferr := safeTranscribe(ctx, b.f, pcm, opts)
	if ferr != nil {
		return res, fmt.Errorf("%s: %w; then %s: %w", b.p.Name(), err, b.f.Name(), ferr)
	}
	return res, nil
}

// safeTranscribe runs b, turning a panic in it into an error: a bug in the
// primary engine is one more reason to ask the fallback.
func safeTranscribe(ctx context.Context, b Batch, pcm []int16, opts Options) (res Result, err error) {
	defer func() {
		if p := recover(); p != nil {
			err = fmt.Errorf("engine panicked: %v", p)
		}
	}()
	return b.Transcribe(ctx, pcm, opts)
}

// fallbackRecognizer falls back per stream.
type fallbackRecognizer struct {
	p, f Recognizer
	log  *slog.Logger
}

func (r *fallbackRecognizer) Name() string { return fallbackName(r.p.Name(), r.f.Name()) }

func (r *fallbackRecognizer) Stream(ctx context.Context, opts Options) (Stream, error) {
	ctx, cancel := context.WithCancel(ctx)
	s := &fallbackStream{r: r, ctx: ctx, cancel: cancel, opts: opts, results: make(chan Result, resultBuffer)}
	st, perr := r.p.Stream(ctx, opts)
	if perr != nil {
		r.log.Warn("asr: engine cannot open a stream; the fallback hears the call", "engine", r.p.Name(), "fallback", r.f.Name(), "err", perr)
		var err error
		if st, err = r.f.Stream(ctx, opts); err != nil {
			cancel()
			return nil, fmt.Errorf("%s: %w; then %s: %w", r.p.Name(), perr, r.f.Name(), err)
		}
		s.onFallback = true
	}
	s.cur = st
	go s.pump(st)
	return s, nil
}

// fallbackStream forwards frames to the current stream and its results to
// Results, moving to the fallback once when the primary's stream ends.
type fallbackStream struct {
	r       *fallbackRecognizer
	ctx     context.Context
	cancel  context.CancelFunc
	opts    Options
	results chan Result

	mu         sync.Mutex
	cur        Stream // nil between the primary's end and the fallback's start
	onFallback bool
	closed     bool
}

// pump forwards st's results; when st ends before Close, it opens the
// fallback and forwards that instead. It closes Results at the very end.
func (s *fallbackStream) pump(st Stream) {
	defer close(s.results)
	defer s.cancel()
	for {
		for r := range st.Results() {
			select {
			case s.results <- r:
			case <-s.ctx.Done():
				return
			}
		}
		s.mu.Lock()
		if s.closed || s.onFallback || s.ctx.Err() != nil {
			s.mu.Unlock()
			return
		}
		s.onFallback, s.cur = true, nil
		s.mu.Unlock()
		s.r.log.Warn("asr: engine's stream ended in the middle of a call; the fallback hears the rest", "engine", s.r.p.Name(), "fallback", s.r.f.Name())
		next, err := s.r.f.Stream(s.ctx, s.opts)
		if err != nil {
			s.r.log.Warn("asr: the fallback cannot open a stream either; keys only", "fallback", s.r.f.Name(), "err", err)
			return
		}
		s.mu.Lock()
		if s.closed {
			s.mu.Unlock()
			_ = next.Close()
			st = next
			continue // its last results, then Results closes
		}
		s.cur = next
		s.mu.Unlock()
		st = next
	}
}

// Write hands frame to the current stream. Frames that arrive while the
// fallback is starting, or after both failed, are dropped: the caller's
// audio path never waits.
func (s *fallbackStream) Write(frame []int16) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return ErrStreamClosed
	}
	if s.cur == nil {
		return nil
	}
	if err := s.cur.Write(frame); err != nil && s.onFallback {
		return err
	}
	return nil // the primary's failure shows when its results end
}

func (s *fallbackStream) Results() <-chan Result { return s.results }

func (s *fallbackStream) Close() error {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return nil
	}
	s.closed = true
	cur := s.cur
	s.mu.Unlock()
	if cur != nil {
		return cur.Close()
	}
	return nil
}
