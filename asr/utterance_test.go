package asr

import (
	"context"
	"errors"
	"fmt"
	"runtime"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/sambung/sambung/media"
)

// fakeBatch is a Batch engine for the logic around it: it records the
// audio it is given and answers through transcribe.
type fakeBatch struct {
	transcribe func(ctx context.Context, pcm []int16) (Result, error)

	mu   sync.Mutex
	got  [][]int16
	opts []Options
}

func (f *fakeBatch) Name() string { return "fake" }

func (f *fakeBatch) Transcribe(ctx context.Context, pcm []int16, opts Options) (Result, error) {
	f.mu.Lock()
	f.got = append(f.got, pcm)
	f.opts = append(f.opts, opts)
	f.mu.Unlock()
	if f.transcribe == nil {
		return Result{Text: fmt.Sprintf("utterance %d", len(f.got))}, nil
	}
	return f.transcribe(ctx, pcm)
}

func (f *fakeBatch) heard() [][]int16 {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([][]int16(nil), f.got...)
}

// checkGoroutines fails t if, at its cleanup, more goroutines run than
// when it was called (waiting a while for ending ones to finish).
func checkGoroutines(t *testing.T) {
	t.Helper()
	before := runtime.NumGoroutine()
	t.Cleanup(func() {
		n := 0
		for range 500 {
			if n = runtime.NumGoroutine(); n <= before {
				return
			}
			time.Sleep(10 * time.Millisecond)
		}
		buf := make([]byte, 1<<16)
		t.Errorf("%d goroutines after the test, %d before:\n%s", n, before, buf[:runtime.Stack(buf, true)])
	})
}

// write writes pcm to s frame by frame from one reused buffer, so a stream
// that kept the caller's slice would hear garbage.
func write(t *testing.T, s Stream, pcm []int16) {
	t.Helper()
	frame := make([]int16, media.FrameSamples)
	for i := 0; i+media.FrameSamples <= len(pcm); i += media.FrameSamples {
		copy(frame, pcm[i:])
		if err := s.Write(frame); err != nil {
			t.Fatalf("write at %s: %v", ms(i), err)
		}
		for j := range frame {
			frame[j] = 0x5a5a
		}
	}
}

// collect reads Results until it is closed.
func collect(t *testing.T, s Stream) (starts, finals []Result) {
	t.Helper()
	for r := range s.Results() {
		switch {
		case r.SpeechStart:
			starts = append(starts, r)
		case r.Final:
			finals = append(finals, r)
		default:
			t.Errorf("result neither a start nor final: %+v", r)
		}
	}
	return starts, finals
}

// twoSentences is a call with two utterances on it.
func twoSentences(t *testing.T) []int16 {
	v := speak(t, "en", "I want a refund for my order")
	w := speak(t, "en", "It never arrived")
	return (&line{}).silence(1013*time.Millisecond).speech(v, -20).silence(time.Second).speech(w, -20).
		silence(time.Second).noise("white", -70, 0).telephone()
}

func TestFromBatchUtterances(t *testing.T) {
	checkGoroutines(t)
	pcm := twoSentences(t)
	want := endpoint(t, EndpointConfig{}, pcm)
	if len(want) != 2 {
		t.Fatalf("endpointer found %d utterances, want 2", len(want))
	}
	f := &fakeBatch{}
	r := FromBatch(f, Config{}, EndpointConfig{})
	s, err := r.Stream(context.Background(), Options{Language: "en"})
	if err != nil {
		t.Fatal(err)
	}
	write(t, s, pcm)
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if err := s.Write(make([]int16, media.FrameSamples)); !errors.Is(err, ErrStreamClosed) {
		t.Errorf("Write after Close: %v, want ErrStreamClosed", err)
	}
	starts, finals := collect(t, s)
	if len(starts) != 2 || len(finals) != 2 {
		t.Fatalf("%d speech starts and %d finals, want 2 and 2", len(starts), len(finals))
	}
	got := f.heard()
	const preRoll = 200 * time.Millisecond
	for i, u := range want {
		on, off := ms(u.on), ms(u.off)
		if starts[i].Start != on {
			t.Errorf("speech start %d at %s, want %s", i, starts[i].Start, on)
		}
		fr := finals[i]
		if fr.Start != on || fr.End != off || fr.Err != nil || fr.Text != fmt.Sprintf("utterance %d", i+1) || fr.Language != "en" {
			t.Errorf("final %d: %+v, want utterance %d at %s..%s in en", i, fr, i+1, on, off)
		}
		// The engine heard the speech and the pre-roll either side.
		from, to := u.on-samples(preRoll), u.off+samples(preRoll)
		if len(got[i]) != to-from {
			t.Errorf("engine got %s for utterance %d, want %s (%s..%s and 200 ms either side)", ms(len(got[i])), i, ms(to-from), on, off)
			continue
		}
		for j, v := range got[i] {
			if v != pcm[from+j] {
				t.Errorf("utterance %d: sample %d is %d, want %d", i, j, v, pcm[from+j])
				break
			}
		}
	}
}

func TestFromBatchBlockedEngine(t *testing.T) {
	checkGoroutines(t)
	v := speak(t, "en", "Yes")
	l := (&line{}).silence(300 * time.Millisecond)
	for l.silence(600 * time.Millisecond); len(l.pcm) < 9*media.Rate; l.silence(600 * time.Millisecond) {
		l.speech(v, -20)
	}
	l.silence(time.Second).noise("white", -70, 0)
	pcm := l.telephone()
	if n := len(pcm) / media.FrameSamples; n < 500 {
		t.Fatalf("only %d frames", n)
	}
	want := endpoint(t, EndpointConfig{}, pcm)
	if len(want) < maxPending+3 {
		t.Fatalf("endpointer found %d utterances, want at least %d", len(want), maxPending+3)
	}

	entered, release := make(chan struct{}), make(chan struct{})
	var once sync.Once
	f := &fakeBatch{transcribe: func(ctx context.Context, pcm []int16) (Result, error) {
		once.Do(func() { close(entered) })
		select {
		case <-release:
			return Result{Text: "yes"}, nil
		case <-ctx.Done():
			return Result{}, ctx.Err()
		}
	}}
	s, err := FromBatch(f, Config{}, EndpointConfig{}).Stream(context.Background(), Options{})
	if err != nil {
		t.Fatal(err)
	}
	// Up to the end of the first utterance, then wait for the engine to
	// take it and block.
	first := want[0].endAt
	write(t, s, pcm[:first])
	<-entered
	// All the rest is written while the engine is still blocked: Write does
	// not wait for it.
	write(t, s, pcm[first:])
	if n := len(f.heard()); n != 1 {
		t.Fatalf("engine was called %d times while blocked, want 1", n)
	}
	close(release)
	s.Close()
	starts, finals := collect(t, s)
	t.Logf("%d utterances: %d speech starts, %d finals", len(want), len(starts), len(finals))
	// Nobody read during the writes: the speech starts stop where the
	// places kept for finals begin.
	if n := min(len(want), resultBuffer-finalReserve); len(starts) != n {
		t.Errorf("%d speech starts, want %d", len(starts), n)
	}
	// The first utterance, a backlog result for those dropped, and the
	// last maxPending.
	if len(finals) != 2+maxPending {
		t.Fatalf("%d finals %+v, want %d", len(finals), finals, 2+maxPending)
	}
	backlog := finals[1]
	dropped := len(want) - 1 - maxPending
	if !errors.Is(backlog.Err, ErrBacklog) || backlog.Text != "" ||
		backlog.Start != ms(want[1].on) || backlog.End != ms(want[dropped].off) {
		t.Errorf("backlog result %+v, want ErrBacklog over %s..%s", backlog, ms(want[1].on), ms(want[dropped].off))
	}
	for i, fr := range append(finals[:1:1], finals[2:]...) {
		u := want[0]
		if i > 0 {
			u = want[len(want)-maxPending+i-1]
		}
		if fr.Err != nil || fr.Text != "yes" || fr.Start != ms(u.on) {
			t.Errorf("final %+v, want yes at %s", fr, ms(u.on))
		}
	}
}

func TestFromBatchEngineFails(t *testing.T) {
	pcm := twoSentences(t)
	errDown := errors.New("server down")
	for _, tc := range []struct {
		name       string
		timeout    time.Duration
		transcribe func(ctx context.Context, pcm []int16) (Result, error)
		is         error
	}{
		{"error", 0, func(context.Context, []int16) (Result, error) { return Result{Text: "junk"}, errDown }, errDown},
		{"timeout", 20 * time.Millisecond, func(ctx context.Context, _ []int16) (Result, error) {
			<-ctx.Done()
			return Result{}, ctx.Err()
		}, context.DeadlineExceeded},
		{"panic", 0, func(context.Context, []int16) (Result, error) { panic("bug") }, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			checkGoroutines(t)
			f := &fakeBatch{transcribe: tc.transcribe}
			s, err := FromBatch(f, Config{Timeout: tc.timeout}, EndpointConfig{}).Stream(context.Background(), Options{Language: "id"})
			if err != nil {
				t.Fatal(err)
			}
			write(t, s, pcm)
			s.Close()
			_, finals := collect(t, s)
			if len(finals) != 2 {
				t.Fatalf("%d finals, want 2", len(finals))
			}
			for _, fr := range finals {
				if fr.Err == nil || fr.Text != "" || fr.End <= fr.Start {
					t.Errorf("final %+v, want an error, no text, and its span", fr)
				}
				if tc.is != nil && !errors.Is(fr.Err, tc.is) {
					t.Errorf("final's error %v, want %v", fr.Err, tc.is)
				}
				t.Logf("%v", fr.Err)
			}
		})
	}
}

func TestFromBatchLanguage(t *testing.T) {
	pcm := twoSentences(t)
	n := 0
	f := &fakeBatch{transcribe: func(context.Context, []int16) (Result, error) {
		n++
		if n == 1 {
			return Result{Text: "saya mau refund"}, nil
		}
		return Result{Text: "我想要退款", Language: "zh"}, nil
	}}
	s, err := FromBatch(f, Config{}, EndpointConfig{}).Stream(context.Background(), Options{Language: "id"})
	if err != nil {
		t.Fatal(err)
	}
	write(t, s, pcm)
	s.Close()
	_, finals := collect(t, s)
	if len(finals) != 2 || finals[0].Language != "id" || finals[1].Language != "zh" {
		t.Errorf("finals %+v, want the first in id (the stream's) and the second in zh (the engine's)", finals)
	}
}

func TestFromBatchCloseMidUtterance(t *testing.T) {
	checkGoroutines(t)
	v := speak(t, "en", "I want a refund for my order")
	pcm := (&line{}).silence(time.Second).speech(v, -20).noise("white", -70, 0).telephone()
	entered, release := make(chan struct{}), make(chan struct{})
	f := &fakeBatch{transcribe: func(ctx context.Context, pcm []int16) (Result, error) {
		close(entered)
		<-release
		return Result{Text: "refund"}, nil
	}}
	s, err := FromBatch(f, Config{}, EndpointConfig{}).Stream(context.Background(), Options{})
	if err != nil {
		t.Fatal(err)
	}
	// Close while the caller speaks: the utterance so far goes to the
	// engine, and Close returns while the engine is still at it.
	write(t, s, pcm[:len(pcm)-len(pcm)%media.FrameSamples-media.FrameSamples])
	s.Close()
	<-entered
	select {
	case r, ok := <-s.Results():
		if !ok || !r.SpeechStart {
			t.Fatalf("got %+v (open %v) before the engine answered, want only the speech start", r, ok)
		}
	default:
		t.Fatal("no speech start")
	}
	close(release)
	_, finals := collect(t, s)
	if len(finals) != 1 || finals[0].Text != "refund" {
		t.Fatalf("finals %+v, want the one in flight at Close", finals)
	}
	if got := f.heard()[0]; len(got) < len(v.pcm) {
		t.Errorf("engine got %s, want at least the %s of speech", ms(len(got)), ms(len(v.pcm)))
	}
}

func TestFromBatchCancel(t *testing.T) {
	checkGoroutines(t)
	pcm := twoSentences(t)
	entered := make(chan struct{})
	var once sync.Once
	f := &fakeBatch{transcribe: func(ctx context.Context, pcm []int16) (Result, error) {
		once.Do(func() { close(entered) })
		<-ctx.Done()
		return Result{}, ctx.Err()
	}}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	s, err := FromBatch(f, Config{}, EndpointConfig{}).Stream(ctx, Options{})
	if err != nil {
		t.Fatal(err)
	}
	write(t, s, pcm)
	<-entered
	cancel()
	// Results closes without Close, and without anyone reading before.
	for range s.Results() {
	}
	if err := s.Write(make([]int16, media.FrameSamples)); !errors.Is(err, context.Canceled) {
		t.Errorf("Write after cancel: %v, want context.Canceled", err)
	}
	if err := s.Close(); err != nil {
		t.Errorf("Close after cancel: %v", err)
	}
}

func TestFromBatchSlowReader(t *testing.T) {
	checkGoroutines(t)
	v := speak(t, "en", "Yes")
	l := (&line{}).silence(300 * time.Millisecond)
	for range 12 {
		l.silence(600*time.Millisecond).speech(v, -20)
	}
	pcm := l.silence(time.Second).noise("white", -70, 0).telephone()
	want := endpoint(t, EndpointConfig{}, pcm)
	f := &fakeBatch{}
	s, err := FromBatch(f, Config{}, EndpointConfig{}).Stream(context.Background(), Options{})
	if err != nil {
		t.Fatal(err)
	}
	// Nobody reads until the call is over: Write must not block, and the
	// finals (or a backlog result standing for them) win over speech
	// starts.
	write(t, s, pcm)
	s.Close()
	starts, finals := collect(t, s)
	t.Logf("%d utterances: %d speech starts, %d finals", len(want), len(starts), len(finals))
	if len(starts) > resultBuffer-finalReserve {
		t.Errorf("%d speech starts kept, want at most %d", len(starts), resultBuffer-finalReserve)
	}
	// Every utterance is accounted for by a final: heard, or dropped.
	covered := 0
	for _, u := range want {
		for _, fr := range finals {
			if fr.Start <= ms(u.on) && ms(u.off) <= fr.End {
				covered++
				break
			}
		}
	}
	if covered != len(want) {
		t.Errorf("%d of %d utterances have a final: %+v", covered, len(want), finals)
	}
}

func TestFromBatchWriteFrameSize(t *testing.T) {
	s, err := FromBatch(&fakeBatch{}, Config{}, EndpointConfig{}).Stream(context.Background(), Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if err := s.Write(make([]int16, 80)); err == nil {
		t.Error("Write took a 10 ms frame")
	}
}

// With Early, the engine starts on an utterance once its audio is
// complete, a whole Silence - PreRoll before the end is confirmed, with
// exactly the audio it gets without Early; a pause shorter than Silence
// throws the early start away, and the result is still the whole
// utterance's.
func TestFromBatchEarly(t *testing.T) {
	checkGoroutines(t)
	v := speak(t, "en", "I want a refund")
	w := speak(t, "en", "for my order")
	pcm := (&line{}).silence(time.Second).speech(v, -20).silence(300*time.Millisecond).speech(w, -20).
		silence(time.Second).noise("white", -70, 0).telephone()
	want := endpoint(t, EndpointConfig{}, pcm)
	if len(want) != 1 {
		t.Fatalf("endpointer found %d utterances, want 1 over the pause", len(want))
	}
	plain := &fakeBatch{}
	s, err := FromBatch(plain, Config{}, EndpointConfig{}).Stream(context.Background(), Options{})
	if err != nil {
		t.Fatal(err)
	}
	write(t, s, pcm)
	s.Close()
	collect(t, s)

	var mu sync.Mutex
	var cancelled int
	f := &fakeBatch{transcribe: func(ctx context.Context, pcm []int16) (Result, error) {
		if len(pcm) < len(plain.heard()[0]) { // the first part, before the pause
			<-ctx.Done()
			mu.Lock()
			cancelled++
			mu.Unlock()
			return Result{}, ctx.Err()
		}
		return Result{Text: "the whole utterance"}, nil
	}}
	s, err = FromBatch(f, Config{}, EndpointConfig{Early: true}).Stream(context.Background(), Options{})
	if err != nil {
		t.Fatal(err)
	}
	// Up to PreRoll after the speech ends: the engine has it already.
	done := want[0].off + samples(200*time.Millisecond)
	done += (media.FrameSamples - done%media.FrameSamples) % media.FrameSamples
	write(t, s, pcm[:done])
	whole := len(plain.heard()[0])
	// The early starts run on goroutines of their own: as fast as this
	// writes, the one for the whole may reach the engine before the one
	// abandoned at the pause.
	wholeAt := func(h [][]int16) int {
		return slices.IndexFunc(h, func(u []int16) bool { return len(u) == whole })
	}
	complete := func() bool { return wholeAt(f.heard()) >= 0 }
	deadline := time.Now().Add(5 * time.Second)
	for !complete() && time.Now().Before(deadline) {
		time.Sleep(time.Millisecond)
	}
	heard := f.heard()
	if !complete() || len(heard) < 2 {
		t.Fatalf("by the end of the audio it needs, the engine was asked for %d utterances, none the whole; want the pause and then the whole", len(heard))
	}
	select {
	case r := <-s.Results():
		if !r.SpeechStart {
			t.Fatalf("a result %+v before the end was confirmed", r)
		}
	default:
	}
	write(t, s, pcm[done:])
	s.Close()
	_, finals := collect(t, s)
	if len(finals) != 1 || finals[0].Text != "the whole utterance" || finals[0].End != ms(want[0].off) {
		t.Fatalf("finals %+v, want the whole utterance's", finals)
	}
	if early := heard[wholeAt(heard)]; !slices.Equal(early, plain.heard()[0]) {
		t.Errorf("early, the engine heard other audio than without Early (%s)", ms(whole))
	}
	if n := len(f.heard()); n != len(heard) {
		t.Errorf("the engine was asked %d times in all, %d by the end of the audio", n, len(heard))
	}
	mu.Lock()
	defer mu.Unlock()
	if cancelled != len(heard)-1 {
		t.Errorf("%d early starts abandoned of %d before the whole, want all (the caller spoke on)", cancelled, len(heard)-1)
	}
	t.Logf("%d early starts abandoned at pauses", cancelled)
}
