package asr

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"
)

// namedBatch gives a fakeBatch a name of its own.
type namedBatch struct {
	*fakeBatch
	name string
}

func (n namedBatch) Name() string { return n.name }

func TestFallbackPerUtterance(t *testing.T) {
	pcm := twoSentences(t)
	errDown := errors.New("server down")
	for _, tc := range []struct {
		name string
		// primary answers the first utterance (n 1) and the second (n 2).
		primary  func(ctx context.Context, n int) (Result, error)
		fallback func(ctx context.Context) (Result, error)
		want     []string // each final's text, or "err:" and what its error says
		asked    int      // utterances the fallback was asked
	}{
		{"error then answer", func(_ context.Context, n int) (Result, error) {
			if n == 1 {
				return Result{}, errDown
			}
			return Result{Text: "primary"}, nil
		}, nil, []string{"fallback", "primary"}, 1},
		{"slow", func(ctx context.Context, _ int) (Result, error) {
			<-ctx.Done()
			return Result{}, ctx.Err()
		}, nil, []string{"fallback", "fallback"}, 2},
		{"panic", func(context.Context, int) (Result, error) { panic("bug") }, nil, []string{"fallback", "fallback"}, 2},
		{"rejection is an answer", func(context.Context, int) (Result, error) { return Result{}, nil }, nil, []string{"", ""}, 0},
		{"both fail", func(context.Context, int) (Result, error) { return Result{}, errDown },
			func(context.Context) (Result, error) { return Result{}, errors.New("speaks only en") },
			[]string{"err:cloud: server down; then embedded: speaks only en", "err:speaks only en"}, 2},
	} {
		t.Run(tc.name, func(t *testing.T) {
			checkGoroutines(t)
			var mu sync.Mutex
			n := 0
			p := namedBatch{&fakeBatch{transcribe: func(ctx context.Context, _ []int16) (Result, error) {
				mu.Lock()
				n++
				k := n
				mu.Unlock()
				return tc.primary(ctx, k)
			}}, "cloud"}
			f := namedBatch{&fakeBatch{transcribe: func(ctx context.Context, _ []int16) (Result, error) {
				if tc.fallback != nil {
					return tc.fallback(ctx)
				}
				return Result{Text: "fallback", Confidence: 0.9}, nil
			}}, "embedded"}
			r := Fallback(FromBatch(p, Config{Timeout: 50 * time.Millisecond}, EndpointConfig{}),
				FromBatch(f, Config{Timeout: time.Second}, EndpointConfig{}), nil)
			if r.Name() != "cloud (fallback embedded)" {
				t.Errorf("name %q", r.Name())
			}
			s, err := r.Stream(context.Background(), Options{Language: "en"})
			if err != nil {
				t.Fatal(err)
			}
			write(t, s, pcm)
			s.Close()
			_, finals := collect(t, s)
			if len(finals) != len(tc.want) {
				t.Fatalf("%d finals, want %d", len(finals), len(tc.want))
			}
			for i, fr := range finals {
				if want, ok := strings.CutPrefix(tc.want[i], "err:"); ok {
					if fr.Err == nil || !strings.Contains(fr.Err.Error(), want) {
						t.Errorf("final %d: %+v, want an error saying %q", i, fr, want)
					}
					continue
				}
				if fr.Err != nil || fr.Text != tc.want[i] {
					t.Errorf("final %d: %+v, want %q", i, fr, tc.want[i])
				}
			}
			if got := len(f.heard()); got != tc.asked {
				t.Errorf("the fallback was asked %d times, want %d", got, tc.asked)
			}
			for _, u := range f.heard() {
				if len(u) < samples(time.Second) {
					t.Errorf("the fallback got %s of audio, not the utterance", ms(len(u)))
				}
			}
		})
	}
}

// streamEngine is a streaming Recognizer for the fallback's logic: each
// stream counts the frames written to it, and can be made to fail.
type streamEngine struct {
	name    string
	openErr error
	// endAfter ends a stream (as a dropped connection does: a final with
	// Err, then Results closes) after that many frames; 0 never.
	endAfter int

	mu      sync.Mutex
	streams []*countStream
}

func (e *streamEngine) Name() string { return e.name }

func (e *streamEngine) Stream(ctx context.Context, _ Options) (Stream, error) {
	if e.openErr != nil {
		return nil, e.openErr
	}
	s := &countStream{e: e, results: make(chan Result, 4), done: make(chan struct{})}
	e.mu.Lock()
	e.streams = append(e.streams, s)
	e.mu.Unlock()
	go func() {
		select {
		case <-ctx.Done():
		case <-s.done:
		}
		s.mu.Lock()
		s.results <- Result{Final: true, Text: e.name + " heard " + itoa(s.frames), Err: s.err}
		close(s.results)
		s.mu.Unlock()
	}()
	return s, nil
}

func itoa(n int) string { return strings.Repeat("|", n/50) }

type countStream struct {
	e       *streamEngine
	results chan Result
	done    chan struct{}
	once    sync.Once

	mu     sync.Mutex
	frames int
	err    error
}

func (s *countStream) Write([]int16) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.err != nil {
		return s.err
	}
	s.frames++
	if s.e.endAfter > 0 && s.frames == s.e.endAfter {
		s.err = errors.New("connection dropped")
		s.once.Do(func() { close(s.done) })
	}
	return nil
}

func (s *countStream) Results() <-chan Result { return s.results }

func (s *countStream) Close() error {
	s.once.Do(func() { close(s.done) })
	return nil
}

func TestFallbackPerStream(t *testing.T) {
	frame := make([]int16, 160)
	t.Run("primary cannot open", func(t *testing.T) {
		checkGoroutines(t)
		p := &streamEngine{name: "vosk", openErr: errors.New("connection refused")}
		f := &streamEngine{name: "embedded"}
		s, err := Fallback(p, f, nil).Stream(context.Background(), Options{})
		if err != nil {
			t.Fatal(err)
		}
		for range 100 {
			if err := s.Write(frame); err != nil {
				t.Fatal(err)
			}
		}
		s.Close()
		_, finals := collect(t, s)
		if len(finals) != 1 || finals[0].Text != "embedded heard ||" {
			t.Errorf("finals %+v, want the fallback's, having heard all 100 frames", finals)
		}
	})
	t.Run("primary drops mid-call", func(t *testing.T) {
		checkGoroutines(t)
		p := &streamEngine{name: "vosk", endAfter: 50}
		f := &streamEngine{name: "embedded"}
		s, err := Fallback(p, f, nil).Stream(context.Background(), Options{})
		if err != nil {
			t.Fatal(err)
		}
		for range 50 {
			s.Write(frame)
		}
		// The fallback starts on the pump's goroutine; write on until it has.
		deadline := time.Now().Add(5 * time.Second)
		for {
			f.mu.Lock()
			started := len(f.streams) > 0
			f.mu.Unlock()
			if started || time.Now().After(deadline) {
				break
			}
			time.Sleep(time.Millisecond)
		}
		for range 200 {
			if err := s.Write(frame); err != nil {
				t.Fatal(err)
			}
		}
		s.Close()
		_, finals := collect(t, s)
		if len(finals) != 2 || finals[0].Err == nil || finals[1].Text != "embedded heard ||||" || finals[1].Err != nil {
			t.Errorf("finals %+v, want the primary's error and then the fallback having heard 200 frames", finals)
		}
	})
	t.Run("both cannot open", func(t *testing.T) {
		p := &streamEngine{name: "vosk", openErr: errors.New("connection refused")}
		f := &streamEngine{name: "embedded", openErr: errors.New("speaks only en")}
		_, err := Fallback(p, f, nil).Stream(context.Background(), Options{})
		if err == nil || !strings.Contains(err.Error(), "connection refused") || !strings.Contains(err.Error(), "speaks only en") {
			t.Errorf("error %v, want both engines' reasons", err)
		}
	})
	t.Run("cancel", func(t *testing.T) {
		checkGoroutines(t)
		ctx, cancel := context.WithCancel(context.Background())
		s, err := Fallback(&streamEngine{name: "vosk"}, &streamEngine{name: "embedded"}, nil).Stream(ctx, Options{})
		if err != nil {
			t.Fatal(err)
		}
		cancel()
		for range s.Results() {
		}
	})
}

// englishOnly is a Batch engine that hears only English.
type englishOnly struct{ namedBatch }

func (englishOnly) CheckLanguage(lang string) error {
	if lang != "en" {
		return fmt.Errorf("%q: %w", lang, ErrUnsupportedLanguage)
	}
	return nil
}

// A stream in a language its engine cannot hear is refused at once, so the
// call offers the keypad rather than forcing words onto the speech; behind
// a fallback, only when neither hears it.
func TestStreamRefusesUnsupportedLanguage(t *testing.T) {
	embedded := FromBatch(englishOnly{namedBatch{&fakeBatch{}, "embedded"}}, Config{}, EndpointConfig{})
	if _, err := embedded.Stream(context.Background(), Options{Language: "yue"}); !errors.Is(err, ErrUnsupportedLanguage) {
		t.Errorf("a yue stream on an English-only engine: %v, want ErrUnsupportedLanguage", err)
	}
	s, err := embedded.Stream(context.Background(), Options{Language: "en"})
	if err != nil {
		t.Fatalf("an en stream: %v", err)
	}
	s.Close()
	collect(t, s)

	cloud := FromBatch(namedBatch{&fakeBatch{}, "cloud"}, Config{}, EndpointConfig{})
	s, err = Fallback(cloud, embedded, nil).Stream(context.Background(), Options{Language: "yue"})
	if err != nil {
		t.Fatalf("a yue stream on a server engine with an English-only fallback: %v", err)
	}
	s.Close()
	collect(t, s)
	other := FromBatch(englishOnly{namedBatch{&fakeBatch{}, "other"}}, Config{}, EndpointConfig{})
	if _, err := Fallback(other, embedded, nil).Stream(context.Background(), Options{Language: "yue"}); !errors.Is(err, ErrUnsupportedLanguage) {
		t.Errorf("neither hears yue: %v, want ErrUnsupportedLanguage", err)
	}
}
