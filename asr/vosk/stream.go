package vosk

import (
	"context"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gorilla/websocket"

	"github.com/sambung/sambung/asr"
	"github.com/sambung/sambung/media"
)

// ErrClosed is what Write returns after Close.
var ErrClosed = errors.New("vosk: stream closed")

// confidenceUnknown is the confidence of a result without word scores.
const confidenceUnknown = 0.5

// A stream is one connection to the server, with two goroutines: the
// writer, the connection's only writer (gorilla/websocket allows one), which
// batches frames from the queue into audio messages and watches that the
// server answers; and the reader, the only reader, which turns the server's
// messages into Results. Write only copies a frame into the bounded queue,
// so the caller's audio path never waits for the network.
//
// The stream ends when the server has answered the end of audio, when the
// connection fails (a Final Result with Err says why) or when ctx is done.
// The reader closes Results last, once the writer has returned.
type stream struct {
	conn     *websocket.Conn
	server   string
	timeout  time.Duration
	language string

	ctx    context.Context // done: stop at once, the connection is closed
	cancel context.CancelFunc

	queue     chan chunk    // Write -> writer
	closing   chan struct{} // closed by Close: flush the queue, send eof
	closeOnce sync.Once
	closed    atomic.Bool

	ended     chan struct{} // closed when the stream has ended (see end)
	endOnce   sync.Once
	failure   error         // why it ended early; set before ended is closed
	readDone  chan struct{} // the reader has returned from its loop
	writeDone chan struct{} // the writer has returned
	done      chan struct{} // Results is closed

	resMu     sync.RWMutex // guards sending on results against closing it
	resClosed bool
	results   chan asr.Result

	dropped  atomic.Int64 // frames dropped because the queue was full
	dropOnce atomic.Bool  // the drop has been reported
	dropErr  error

	sentSamples atomic.Int64 // samples sent to the server

	mu       sync.Mutex // the watchdog's view of the conversation
	sent     int        // messages that get an answer: audio, eof
	answered int        // messages received
	since    time.Time  // last progress: a message received, or the first unanswered send
	eofSent  bool
}

// chunk is one frame in the queue, by value: Write allocates nothing.
type chunk struct {
	n int
	s [media.FrameSamples]int16
}

// newStream starts a stream on conn, its configuration sent.
func newStream(ctx context.Context, conn *websocket.Conn, server string, timeout time.Duration, language string, queue int) *stream {
	s := makeStream(ctx, conn, server, timeout, language, queue)
	go s.write()
	go s.read()
	return s
}

// makeStream makes a stream without starting its goroutines.
func makeStream(ctx context.Context, conn *websocket.Conn, server string, timeout time.Duration, language string, queue int) *stream {
	s := &stream{
		conn:      conn,
		server:    server,
		timeout:   timeout,
		language:  language,
		queue:     make(chan chunk, queue),
		closing:   make(chan struct{}),
		ended:     make(chan struct{}),
		readDone:  make(chan struct{}),
		writeDone: make(chan struct{}),
		done:      make(chan struct{}),
		results:   make(chan asr.Result, 32),
		dropErr:   fmt.Errorf("vosk server %s falls behind: audio dropped", server),
	}
	s.ctx, s.cancel = context.WithCancel(ctx)
	return s
}

// Write queues one frame of 8 kHz PCM. It never blocks: when the queue is
// full the frame is dropped, and the first drop is reported as a Final
// Result with Err. After the stream has ended it returns an error.
func (s *stream) Write(frame []int16) error {
	if s.closed.Load() {
		return ErrClosed
	}
	select {
	case <-s.ended:
		if s.failure != nil {
			return fmt.Errorf("vosk: stream ended: %w", s.failure)
		}
		return ErrClosed
	default:
	}
	for len(frame) > 0 {
		var c chunk
		c.n = copy(c.s[:], frame)
		frame = frame[c.n:]
		select {
		case s.queue <- c:
		default:
			s.dropped.Add(1)
			if s.dropOnce.CompareAndSwap(false, true) {
				if !s.emit(asr.Result{Final: true, Err: s.dropErr, Language: s.language}, false) {
					s.dropOnce.Store(false) // Results full: report at a later drop
				}
			}
		}
	}
	return nil
}

// Results yields partial and final results; it is closed when the stream
// has ended.
func (s *stream) Results() <-chan asr.Result { return s.results }

// Close sends what is queued and the end of audio, and waits for the
// server's last result (which Results still yields) or, at most, for the
// Timeout. It is idempotent.
func (s *stream) Close() error {
	s.closeOnce.Do(func() {
		s.closed.Store(true)
		close(s.closing)
	})
	// The writer's watchdog gives up on a silent server after the Timeout;
	// the bound here is for a consumer that stopped reading Results.
	t := time.NewTimer(2*s.timeout + time.Second)
	defer t.Stop()
	select {
	case <-s.done:
	case <-t.C:
		s.cancel()
		<-s.done
	}
	return nil
}

// emit sends r on Results, waiting (until the stream is stopped) if block,
// and reports whether it went.
func (s *stream) emit(r asr.Result, block bool) bool {
	s.resMu.RLock()
	defer s.resMu.RUnlock()
	if s.resClosed {
		return false
	}
	if block {
		select {
		case s.results <- r:
			return true
		case <-s.ctx.Done():
			return false
		}
	}
	select {
	case s.results <- r:
		return true
	default:
		return false
	}
}

// end ends the stream: it takes no more audio and the connection is
// closed. A non-nil err, unless ctx is done, is reported as a Final Result
// with Err (after the connection is closed, so that nothing the server
// still says follows it).
func (s *stream) end(err error) {
	s.endOnce.Do(func() {
		if err != nil && s.ctx.Err() == nil {
			s.failure = err
		}
		close(s.ended)
		s.conn.Close()
		if s.failure != nil {
			s.emit(asr.Result{Final: true, Err: s.failure, Language: s.language}, true)
		}
	})
}

// stopped reports whether the stream has ended or ctx is done: a
// connection error then is the consequence, not news.
func (s *stream) stopped() bool {
	if s.ctx.Err() != nil {
		return true
	}
	select {
	case <-s.ended:
		return true
	default:
		return false
	}
}

// write is the writer goroutine.
func (s *stream) write() {
	defer close(s.writeDone)
	buf := make([]byte, 0, batchFrames*media.FrameSamples*2)
	frames := 0
	tick := time.NewTicker(min(max(s.timeout/4, 10*time.Millisecond), time.Second))
	defer tick.Stop()
	closing := s.closing
	for {
		select {
		case <-s.ctx.Done():
			s.conn.Close() // unblocks the reader
			return
		case <-s.readDone:
			return
		case c := <-s.queue:
			buf = appendPCM(buf, c.s[:c.n])
			if frames++; frames == batchFrames {
				if !s.send(websocket.BinaryMessage, buf) {
					return
				}
				buf, frames = buf[:0], 0
			}
		case <-closing:
			closing = nil
			for more := true; more; {
				select {
				case c := <-s.queue:
					buf = appendPCM(buf, c.s[:c.n])
					frames++
				default:
					more = false
				}
				if frames == batchFrames || !more && frames > 0 {
					if !s.send(websocket.BinaryMessage, buf) {
						return
					}
					buf, frames = buf[:0], 0
				}
			}
			if !s.send(websocket.TextMessage, []byte(eofMessage)) {
				return
			}
		case now := <-tick.C:
			s.mu.Lock()
			stuck := s.answered < s.sent && now.Sub(s.since) > s.timeout
			eof := s.eofSent
			s.mu.Unlock()
			if stuck {
				what := "no answer"
				if eof {
					what = "no last result"
				}
				s.end(fmt.Errorf("vosk server %s: %s within %s", s.server, what, s.timeout))
				return
			}
		}
	}
}

// send writes one message that the server answers; false if the stream is
// over.
func (s *stream) send(kind int, msg []byte) bool {
	s.mu.Lock()
	if s.answered >= s.sent {
		s.since = time.Now()
	}
	s.sent++
	if kind == websocket.TextMessage {
		s.eofSent = true
	}
	s.mu.Unlock()
	_ = s.conn.SetWriteDeadline(time.Now().Add(s.timeout))
	if err := s.conn.WriteMessage(kind, msg); err != nil {
		if !s.stopped() {
			s.end(fmt.Errorf("vosk server %s: send audio: %w", s.server, err))
		}
		return false
	}
	if kind == websocket.BinaryMessage {
		s.sentSamples.Add(int64(len(msg) / 2))
	}
	return true
}

// appendPCM appends samples as 16-bit little-endian PCM.
func appendPCM(b []byte, pcm []int16) []byte {
	for _, v := range pcm {
		b = binary.LittleEndian.AppendUint16(b, uint16(v))
	}
	return b
}

// message is one of the server's answers.
type message struct {
	Partial *string `json:"partial"`
	Text    *string `json:"text"`
	Result  []word  `json:"result"`
	// Alternatives replace text and result when max_alternatives > 0 (a
	// server started with VOSK_ALTERNATIVES, should it ignore the config).
	Alternatives []struct {
		Text   string `json:"text"`
		Result []word `json:"result"`
	} `json:"alternatives"`
}

type word struct {
	Word  string  `json:"word"`
	Start float64 `json:"start"` // seconds from the stream's start
	End   float64 `json:"end"`
	Conf  float64 `json:"conf"` // 0..1
}

// read is the reader goroutine, and the one that closes Results.
func (s *stream) read() {
	defer func() {
		close(s.readDone)
		<-s.writeDone
		s.conn.Close()
		s.resMu.Lock()
		s.resClosed = true
		close(s.results)
		s.resMu.Unlock()
		s.cancel()
		close(s.done)
	}()
	var (
		speaking bool          // a SpeechStart has gone out for this utterance
		start    time.Duration // and when
	)
	for {
		kind, raw, err := s.conn.ReadMessage()
		if err != nil {
			s.mu.Lock()
			finished := s.eofSent
			s.mu.Unlock()
			switch {
			case s.stopped():
			case errors.Is(err, websocket.ErrReadLimit):
				s.end(fmt.Errorf("vosk server %s: answer larger than %d bytes: %w", s.server, maxMessage, err))
			case finished && !speaking:
				// The server closes the connection once it has answered
				// the end of audio, and nothing was left to answer.
				s.end(nil)
			default:
				s.end(fmt.Errorf("vosk server %s: connection lost: %w", s.server, err))
			}
			return
		}
		s.mu.Lock()
		s.answered++
		s.since = time.Now()
		last := s.eofSent && s.answered >= s.sent
		s.mu.Unlock()

		var m message
		if kind != websocket.TextMessage || json.Unmarshal(raw, &m) != nil {
			s.end(fmt.Errorf("vosk server %s: answer is not Vosk's JSON: %s", s.server, excerpt(raw)))
			return
		}
		if len(m.Alternatives) > 0 && m.Text == nil {
			m.Text, m.Result = &m.Alternatives[0].Text, m.Alternatives[0].Result
		}
		now := time.Duration(s.sentSamples.Load()) * time.Second / media.Rate
		switch {
		case m.Partial != nil && *m.Partial != "":
			if !speaking {
				speaking, start = true, now
				if !s.emit(asr.Result{SpeechStart: true, Start: start}, true) {
					return
				}
			}
			s.emit(asr.Result{Text: *m.Partial, Language: s.language, Start: start, End: now}, false)
		case m.Text != nil && (*m.Text != "" || speaking):
			r := asr.Result{Text: *m.Text, Language: s.language, Final: true, Start: start, End: now}
			if !speaking && r.Text != "" {
				r.Start = now
				if !s.emit(asr.Result{SpeechStart: true, Start: now}, true) {
					return
				}
			}
			score(&r, m.Result)
			speaking = false
			if !s.emit(r, true) {
				return
			}
		}
		if last {
			// The answer to the end of audio: the server closes now.
			s.end(nil)
			return
		}
	}
}

// score sets a final result's confidence, the mean of its words', and its
// times from theirs.
func score(r *asr.Result, words []word) {
	if r.Text == "" {
		return
	}
	if len(words) == 0 {
		r.Confidence = confidenceUnknown
		return
	}
	var sum float64
	for _, w := range words {
		sum += min(max(w.Conf, 0), 1)
	}
	r.Confidence = sum / float64(len(words))
	r.Start = seconds(words[0].Start)
	r.End = seconds(words[len(words)-1].End)
}

func seconds(f float64) time.Duration { return time.Duration(f * float64(time.Second)) }

// excerpt quotes the start of a message for an error.
func excerpt(raw []byte) string {
	const n = 120
	if len(raw) > n {
		return fmt.Sprintf("%q...", raw[:n])
	}
	return fmt.Sprintf("%q", raw)
}
