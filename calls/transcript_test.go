package calls

import (
	"context"
	"encoding/json"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/sambung/sambung/asr"
	"github.com/sambung/sambung/media"
	"github.com/sambung/sambung/store"
)

// toneRecognizer stands in for an engine, for the plumbing only: every
// half second of loud audio is an utterance, whose text is the words of
// each tone in it (words), so a transcript line shows whose audio it was
// made of, and a mix of two voices shows as both.
type toneRecognizer struct {
	words map[float64]string
	opts  chan asr.Options

	mu      sync.Mutex
	streams []*toneStream
}

func (r *toneRecognizer) Name() string { return "tones" }

func (r *toneRecognizer) Stream(ctx context.Context, o asr.Options) (asr.Stream, error) {
	select {
	case r.opts <- o:
	default:
	}
	s := &toneStream{words: r.words, out: make(chan asr.Result, 16), frames: make(chan []int16, 256), closed: make(chan struct{})}
	r.mu.Lock()
	r.streams = append(r.streams, s)
	r.mu.Unlock()
	go s.run(ctx)
	return s, nil
}

type toneStream struct {
	words  map[float64]string
	out    chan asr.Result
	frames chan []int16
	once   sync.Once
	closed chan struct{}
}

func (s *toneStream) Write(f []int16) error {
	select {
	case s.frames <- slices.Clone(f):
	default:
	}
	return nil
}
func (s *toneStream) Results() <-chan asr.Result { return s.out }
func (s *toneStream) Close() error {
	s.once.Do(func() { close(s.closed) })
	return nil
}

func (s *toneStream) run(ctx context.Context) {
	defer close(s.out)
	var utter []int16
	n := 0
	for {
		select {
		case <-ctx.Done():
			return
		case <-s.closed:
			return
		case f := <-s.frames:
			n++
			if media.DBFS(f) < -30 {
				utter = utter[:0]
				continue
			}
			if utter = append(utter, f...); len(utter) < 25*media.FrameSamples {
				continue
			}
			var said []string
			for _, freq := range slices.Sorted(mapKeys(s.words)) {
				if toneDB(utter, freq) > -30 {
					said = append(said, s.words[freq])
				}
			}
			utter = utter[:0]
			r := asr.Result{Final: true, Text: strings.Join(said, " "), Language: "en", Confidence: 0.8,
				Start: time.Duration(n-25) * media.FrameDuration, End: time.Duration(n) * media.FrameDuration}
			select {
			case s.out <- r:
			case <-ctx.Done():
				return
			}
		}
	}
}

func mapKeys[K comparable, V any](m map[K]V) func(func(K) bool) {
	return func(yield func(K) bool) {
		for k := range m {
			if !yield(k) {
				return
			}
		}
	}
}

// line is one "transcript" event of a call's timeline.
type line struct {
	Speaker, Text string
	Angry         bool
	Start, End    time.Time
}

func transcriptLines(t *testing.T, st store.Store, callID string) []line {
	t.Helper()
	evs, err := st.CallEvents(context.Background(), callID)
	if err != nil {
		t.Fatal(err)
	}
	var out []line
	for _, e := range evs {
		if e.Kind == "transcript" {
			var l line
			if err := json.Unmarshal(e.Data, &l); err != nil {
				t.Fatal(err)
			}
			out = append(out, l)
		}
	}
	return out
}

const (
	angryLine = "I am so frustrated with your terrible service"
	agentLine = "let me check that for you"
)

// TestLiveTranscript: with live transcripts on, a caller (440 Hz) and an
// agent (1 kHz) each get lines of their own on the call's timeline, made
// of their own audio only: the agent's is taken before a barging
// supervisor (600 Hz) is mixed in, the caller's is what the caller sent.
// The caller's angry words raise the angry-caller alert and show on the
// floor as the caller's mood. The agent's hang-up closes both streams.
func TestLiveTranscript(t *testing.T) {
	rec := &toneRecognizer{words: map[float64]string{440: angryLine, 1000: agentLine, 600: "supervisor here"},
		opts: make(chan asr.Options, 4)}
	alerts := make(chan Alert, 16)
	fl := newFloorWith(t, func(c *Config) {
		c.Recognizer = func(_, _ string) asr.Recognizer { return rec }
		c.Desk.Transcripts = TranscriptConfig{AgentCalls: true, Phrases: []string{agentLine}}
		c.Desk.Alerts.Publish = func(a Alert) {
			select {
			case alerts <- a:
			default:
			}
		}
	}, "ana")
	f, d := fl.f, fl.f.sb.Desk()
	sup, err := f.st.CreateUser(context.Background(), store.User{Name: "sari", Role: store.RoleSupervisor, PasswordHash: "x"})
	if err != nil {
		t.Fatal(err)
	}
	pa, _ := fl.open(t, "ana", []string{"language:en"}, true)
	f.caller.Play(media.NewTone(media.ToneSpec{Freqs: []float64{440}, Level: -12}))
	callID := pa.next("offer", 15*time.Second)["call_id"].(string)
	if len(rec.opts) != 0 {
		t.Fatal("recognition began before an agent took the call")
	}
	speakingBrowser(t, pa, callID, 1000)
	pa.next("call.connected", 10*time.Second)
	f.waitEvent("transcript.started", 5*time.Second)
	for range 2 {
		o := <-rec.opts
		if o.Language != "en" || !slices.Contains(o.Phrases, agentLine) {
			t.Errorf("a stream was opened with %+v, want English and the configured phrase", o)
		}
	}

	monitoring(t, d, sup, callID, "barge", 600)
	f.waitEvent("supervisor.joined", 5*time.Second)
	barged := time.Now()
	// Lines of both sides said after the supervisor barged in.
	deadline := time.Now().Add(10 * time.Second)
	var lines []line
	for time.Now().Before(deadline) {
		lines = transcriptLines(t, f.st, callID)
		var caller, agent bool
		for _, l := range lines {
			if l.Start.After(barged) {
				caller = caller || l.Speaker == "caller"
				agent = agent || l.Speaker == "agent"
			}
		}
		if caller && agent {
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	var callerLines, agentLines int
	for _, l := range lines {
		switch {
		case l.Speaker == "caller" && l.Text == angryLine && l.Angry:
			callerLines++
		case l.Speaker == "agent" && l.Text == agentLine && !l.Angry:
			agentLines++
		default:
			t.Errorf("a line not made of its speaker's audio alone, or not felt right: %+v", l)
		}
		if l.End.Sub(l.Start) != 500*time.Millisecond || l.Start.Before(time.Now().Add(-time.Minute)) {
			t.Errorf("line said from %v to %v", l.Start, l.End)
		}
	}
	if callerLines == 0 || agentLines == 0 {
		t.Fatalf("%d caller and %d agent lines: %+v", callerLines, agentLines, lines)
	}

	select {
	case a := <-alerts:
		if a.Kind != AlertAngryCaller || a.CallID != callID || !strings.Contains(a.Text, "frustrated") {
			t.Errorf("alert %+v, want the angry caller", a)
		}
	case <-time.After(5 * time.Second):
		t.Error("no alert for the angry caller")
	}
	if lc := d.LiveCalls(context.Background()); len(lc) != 1 || !lc[0].Sentiment.Angry || lc[0].Sentiment.Score >= 0 ||
		len(lc[0].Sentiment.Trend) == 0 {
		t.Errorf("the floor shows the caller's mood as %+v", lc)
	}

	pa.send(map[string]any{"type": "hangup", "call_id": callID})
	pa.next("call.ended", 5*time.Second)
	rec.mu.Lock()
	streams := slices.Clone(rec.streams)
	rec.mu.Unlock()
	for i, s := range streams {
		select {
		case <-s.closed:
		case <-time.After(5 * time.Second):
			t.Errorf("stream %d was not closed when the agent hung up", i)
		}
	}
	f.leg.end("caller_bye")
	if c := f.stored(); c.Resolution != store.ResolutionAgent || c.Queue != "support" || !c.Angry || c.Sentiment == nil || *c.Sentiment >= 0 {
		t.Errorf("the summary of a call an agent took: %+v", c)
	}
}
