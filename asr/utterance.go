package asr

// FromBatch turns a Batch engine into a streaming Recognizer: the stream
// endpoints the call's audio itself and hands each utterance, as it ends,
// to the engine. The call's media path writes frames into the stream, so
// nothing here may make it wait for the engine: transcription runs on the
// stream's own goroutine, one utterance at a time, behind a short queue
// that drops its oldest utterance when the engine falls behind.

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/sambung/sambung/media"
)

// ErrStreamClosed is what Write returns after Close.
var ErrStreamClosed = errors.New("asr: stream closed")

// ErrBacklog is the Err of a final Result that stands for utterances a
// stream dropped unheard because its engine was falling behind; its Start
// and End span them.
var ErrBacklog = errors.New("asr: utterances dropped: the engine is falling behind")

// Bounds of a FromBatch stream.
const (
	// maxPending is how many ended utterances may wait while one is being
	// transcribed; a further one drops the oldest.
	maxPending = 3
	// resultBuffer is the capacity of Results. Speech starts are sent
	// only while more than finalReserve places are free, so a slow reader
	// loses speech starts before it loses a final.
	resultBuffer = 16
	finalReserve = 8

	defaultBatchTimeout = 10 * time.Second
)

// FromBatch makes a streaming Recognizer of a Batch engine: each stream
// endpoints the audio written to it (ep; its Silence defaults to
// cfg.Silence) and transcribes each utterance as it ends, within
// cfg.Timeout (default 10 s) per utterance.
//
// A stream reports a Result with SpeechStart when speech starts and a Final
// Result when the engine has transcribed the utterance, with Start and End
// at the speech's first and last frame. The engine gets the utterance with
// ep.PreRoll of audio either side (less where the stream began, or
// MaxUtterance cut it). When the engine fails or times out, the Final
// Result has Err set and no text.
func FromBatch(b Batch, cfg Config, ep EndpointConfig) Recognizer {
	if ep.Silence <= 0 {
		ep.Silence = cfg.Silence
	}
	if cfg.Timeout <= 0 {
		cfg.Timeout = defaultBatchTimeout
	}
	return &batchRecognizer{b: b, cfg: cfg, ep: ep}
}

type batchRecognizer struct {
	b   Batch
	cfg Config
	ep  EndpointConfig
}

func (r *batchRecognizer) Name() string { return r.b.Name() }

// Stream starts a stream; its goroutine ends when the last Result is
// delivered after Close, or when ctx is done.
func (r *batchRecognizer) Stream(ctx context.Context, opts Options) (Stream, error) {
	if err := checkLanguage(r.b, opts.Language); err != nil {
		return nil, err
	}
	ctx, cancel := context.WithCancel(ctx)
	s := &batchStream{
		b:       r.b,
		timeout: r.cfg.Timeout,
		opts:    opts,
		ctx:     ctx,
		ep:      NewEndpointer(r.ep),
		results: make(chan Result, resultBuffer),
		wake:    make(chan struct{}, 1),
	}
	s.tail = s.ep.Config().PreRoll
	go func() {
		defer cancel()
		s.run(ctx)
	}()
	return s, nil
}

// utteranceJob is an ended utterance waiting for the engine.
type utteranceJob struct {
	pcm        []int16
	start, end time.Duration
	early      *earlyJob // its transcription, begun before it ended (EndpointConfig.Early)
}

// earlyJob is an utterance being transcribed before its end is confirmed.
type earlyJob struct {
	end    time.Duration // the speech end it was taken at
	cancel context.CancelFunc
	done   chan struct{} // closed when res is set
	res    Result
}

type batchStream struct {
	b       Batch
	timeout time.Duration
	opts    Options
	ctx     context.Context
	tail    time.Duration // audio kept after the speech's end
	results chan Result
	wake    chan struct{} // a job is pending, or the stream closed

	mu            sync.Mutex
	ep            *Endpointer
	utt           []int16       // the utterance under way, pre-roll included
	uttFrom       time.Duration // offset of utt[0]
	closed        bool
	resultsClosed bool
	pending       []utteranceJob
	dropped       int // utterances dropped since the last ErrBacklog result
	droppedSpan   [2]time.Duration
	early         *earlyJob // the utterance under way, transcribed early
}

// Write endpoints the next frame (media.FrameSamples samples), keeping a
// copy of it while an utterance is under way. It never waits for the
// engine.
func (s *batchStream) Write(frame []int16) error {
	if len(frame) != media.FrameSamples {
		return fmt.Errorf("asr: frame of %d samples, want %d (20 ms at 8 kHz)", len(frame), media.FrameSamples)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return ErrStreamClosed
	}
	if err := s.ctx.Err(); err != nil {
		return err
	}
	switch s.ep.Push(frame) {
	case EndpointStart:
		s.utt = s.ep.AppendLead(make([]int16, 0, 4*media.Rate))
		s.uttFrom = s.ep.Elapsed() - samplesDuration(len(s.utt))
		s.sendStart(Result{SpeechStart: true, Start: s.ep.SpeechStart()})
	case EndpointEnd:
		s.utt = append(s.utt, frame...)
		s.endUtterance()
	default:
		if s.ep.InSpeech() {
			s.utt = append(s.utt, frame...)
			s.transcribeEarly()
		}
	}
	return nil
}

// transcribeEarly starts transcribing the utterance under way once its
// audio is complete, before its end is confirmed, and abandons that if the
// caller spoke again since (EndpointConfig.Early); s.mu held. The audio is
// what endUtterance will queue: the same slice of s.utt, whose first
// samples later appends never touch.
func (s *batchStream) transcribeEarly() {
	if !s.ep.Config().Early {
		return
	}
	end := s.ep.SpeechEnd()
	if s.early != nil {
		if s.early.end == end {
			return
		}
		s.early.cancel() // the caller spoke again
		s.early = nil
	}
	if s.ep.Elapsed()-end < s.tail {
		return
	}
	job := utteranceJob{pcm: s.utt[:s.uttLen(end)], start: s.ep.SpeechStart(), end: end}
	ctx, cancel := context.WithCancel(s.ctx)
	e := &earlyJob{end: end, cancel: cancel, done: make(chan struct{})}
	s.early = e
	go func() {
		defer close(e.done)
		defer cancel()
		e.res = s.transcribe(ctx, job)
	}()
}

// uttLen is how much of s.utt an utterance ending at end hands the
// engine: up to tail after the speech; s.mu held.
func (s *batchStream) uttLen(end time.Duration) int {
	return min(len(s.utt), int((end+s.tail-s.uttFrom)*media.Rate/time.Second))
}

func samplesDuration(n int) time.Duration {
	return time.Duration(n) * time.Second / media.Rate
}

// sendStart sends a speech start if Results has room to spare; s.mu held.
func (s *batchStream) sendStart(r Result) {
	if s.resultsClosed || len(s.results) >= cap(s.results)-finalReserve {
		return
	}
	select {
	case s.results <- r:
	default:
	}
}

// endUtterance queues the utterance under way for the engine, dropping the
// oldest waiting one if the queue is full; s.mu held.
func (s *batchStream) endUtterance() {
	start, end := s.ep.SpeechStart(), s.ep.SpeechEnd()
	job := utteranceJob{pcm: s.utt[:s.uttLen(end)], start: start, end: end}
	s.utt = nil
	if e := s.early; e != nil {
		if e.end == end {
			job.early = e
		} else {
			e.cancel() // cut by MaxUtterance or Close: other audio
		}
		s.early = nil
	}
	if len(s.pending) == maxPending {
		old := s.pending[0]
		if old.early != nil {
			old.early.cancel()
		}
		if s.dropped == 0 {
			s.droppedSpan[0] = old.start
		}
		s.dropped++
		s.droppedSpan[1] = old.end
		s.pending[0] = utteranceJob{}
		s.pending = s.pending[1:]
	}
	s.pending = append(s.pending, job)
	s.signal()
}

func (s *batchStream) signal() {
	select {
	case s.wake <- struct{}{}:
	default:
	}
}

func (s *batchStream) Results() <-chan Result { return s.results }

// Close stops the stream taking audio and ends the utterance under way.
// It returns at once: the utterances already ended are still transcribed,
// their results delivered, and then Results is closed. Cancel the
// stream's context to abandon them.
func (s *batchStream) Close() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return nil
	}
	s.closed = true
	if s.ep.InSpeech() {
		s.endUtterance()
	}
	s.signal()
	return nil
}

// run transcribes the utterances in turn and delivers their results, until
// the stream is closed and nothing is left, or ctx is done.
func (s *batchStream) run(ctx context.Context) {
	defer func() {
		s.mu.Lock()
		s.resultsClosed = true
		close(s.results)
		s.mu.Unlock()
	}()
	for {
		s.mu.Lock()
		var backlog *Result
		if s.dropped > 0 {
			backlog = &Result{Final: true, Start: s.droppedSpan[0], End: s.droppedSpan[1],
				Language: s.opts.Language,
				Err:      fmt.Errorf("%w (%d unheard)", ErrBacklog, s.dropped)}
			s.dropped = 0
		}
		var job utteranceJob
		have := len(s.pending) > 0
		if have {
			job = s.pending[0]
			s.pending[0] = utteranceJob{}
			s.pending = s.pending[1:]
		}
		closed := s.closed
		s.mu.Unlock()

		if backlog != nil && !s.deliver(ctx, *backlog) {
			return
		}
		if have {
			var r Result
			if job.early != nil {
				select {
				case <-job.early.done:
					r = job.early.res
				case <-ctx.Done():
					return
				}
			} else {
				r = s.transcribe(ctx, job)
			}
			if !s.deliver(ctx, r) {
				return
			}
			continue
		}
		if backlog != nil {
			continue
		}
		if closed {
			return
		}
		select {
		case <-s.wake:
		case <-ctx.Done():
			return
		}
	}
}

func (s *batchStream) deliver(ctx context.Context, r Result) bool {
	select {
	case s.results <- r:
		return true
	case <-ctx.Done():
		return false
	}
}

// transcribe has the engine transcribe one utterance, within the timeout.
func (s *batchStream) transcribe(ctx context.Context, job utteranceJob) Result {
	tctx, cancel := context.WithTimeout(ctx, s.timeout)
	defer cancel()
	res, err := s.call(tctx, job.pcm)
	out := Result{Final: true, Start: job.start, End: job.end, Language: s.opts.Language}
	if err != nil {
		if errors.Is(tctx.Err(), context.DeadlineExceeded) && !errors.Is(err, context.DeadlineExceeded) {
			err = fmt.Errorf("%w: %w", tctx.Err(), err)
		}
		if errors.Is(err, context.DeadlineExceeded) {
			err = fmt.Errorf("no answer within %s: %w", s.timeout, err)
		}
		out.Err = fmt.Errorf("asr %s: utterance at %s: %w", s.b.Name(), job.start, err)
		return out
	}
	out.Text, out.Confidence = res.Text, res.Confidence
	if res.Language != "" {
		out.Language = res.Language
	}
	return out
}

// call runs the engine, turning a panic in it into an error so that one
// bad utterance does not take the call down.
func (s *batchStream) call(ctx context.Context, pcm []int16) (res Result, err error) {
	defer func() {
		if p := recover(); p != nil {
			err = fmt.Errorf("engine panicked: %v", p)
		}
	}()
	return s.b.Transcribe(ctx, pcm, s.opts)
}
