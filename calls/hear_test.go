package calls

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/sambung/sambung/asr"
	"github.com/sambung/sambung/ivr"
	"github.com/sambung/sambung/media"
	"github.com/sambung/sambung/store"
)

// loudRecognizer stands in for an engine, for the plumbing only: it
// "hears" its phrase in any stretch of loud audio, with a speech start
// after 100 ms of it and the utterance after 200 ms of quiet.
type loudRecognizer struct {
	phrase string
	opts   chan asr.Options
}

func (l *loudRecognizer) Name() string { return "loud" }

func (l *loudRecognizer) Stream(ctx context.Context, o asr.Options) (asr.Stream, error) {
	l.opts <- o
	s := &loudStream{phrase: l.phrase, out: make(chan asr.Result, 8), frames: make(chan []int16, 64)}
	go s.run(ctx)
	return s, nil
}

type loudStream struct {
	phrase string
	out    chan asr.Result
	frames chan []int16
}

func (s *loudStream) Write(f []int16) error {
	select {
	case s.frames <- append([]int16(nil), f...):
	default:
	}
	return nil
}
func (s *loudStream) Results() <-chan asr.Result { return s.out }
func (s *loudStream) Close() error               { return nil }

func (s *loudStream) run(ctx context.Context) {
	defer close(s.out)
	loud, quiet := 0, 0
	for {
		select {
		case <-ctx.Done():
			return
		case f := <-s.frames:
			if media.DBFS(f) > -30 {
				loud++
				quiet = 0
				if loud == 5 {
					s.out <- asr.Result{SpeechStart: true}
				}
				continue
			}
			quiet++
			if loud >= 5 && quiet == 10 {
				s.out <- asr.Result{Text: s.phrase, Language: "en", Confidence: 0.9, Final: true}
				loud = 0
			}
		}
	}
}

const speechFlow = `
name: speech
languages: [en]
intents:
  refund: {en: ["I want a refund", "money back"]}
escalation: {to: bye}
speech: cloud
start: ask
steps:
  ask:
    listen:
      prompt: {en: "a long question"}
      intents: {refund: refund}
      no_input: bye
      no_match: bye
  refund: {say: {en: "refunds"}, next: bye}
  bye: {hangup: {}}
`

func TestSpeechBargesInAndRoutesByIntent(t *testing.T) {
	rec := &loudRecognizer{phrase: "I want a refund please", opts: make(chan asr.Options, 4)}
	chosen := make(chan string, 4)
	f := newFixture(t, "support", Config{Lines: flowLines(t, speechFlow), IVR: &ivr.Runtime{Voice: toneVoice{}},
		Recognizer: func(engine, lang string) asr.Recognizer {
			chosen <- engine + "/" + lang
			return rec
		}})
	if c := <-chosen; c != "cloud/en" {
		t.Errorf("the call asked for recognizer %q, want the flow's cloud/en", c)
	}
	opts := <-rec.opts
	if opts.Language != "en" || !slices.Contains(opts.Phrases, "I want a refund") || !slices.Contains(opts.Phrases, "agent") {
		t.Errorf("the recognizer was asked for %+v", opts)
	}
	deadline := time.Now().Add(20 * time.Second)
	for !f.hasStep("ask") {
		if time.Now().After(deadline) {
			t.Fatal("the flow never reached the question")
		}
		time.Sleep(20 * time.Millisecond)
	}
	time.Sleep(500 * time.Millisecond)
	f.caller.Play(&tone{}) // the caller speaks over the question
	f.waitEvent("ivr.barge_in", 10*time.Second)
	f.caller.Play(nil)
	heard := f.waitEvent("ivr.heard", 10*time.Second)
	if d := data(heard); d["intent"] != "refund" {
		t.Errorf("heard %v", d)
	}
	f.waitEvent("call.ended", 20*time.Second)
	if b := data(f.waitEvent("ivr.barge_in", time.Second)); b["by"] != "speech" {
		t.Errorf("barge-in by %v, want speech", b["by"])
	}
	if !f.hasStep("refund") {
		t.Error("the flow did not take the refund branch")
	}
	a := data(f.waitEvent("asr.heard", time.Second))
	if a["engine"] != "loud" || a["text"] != "I want a refund please" {
		t.Errorf("asr.heard %v", a)
	}
	if c := f.stored(); c.Resolution != store.ResolutionIVR || c.Intent != "refund" || c.Language != "en" || c.Queue != "" ||
		c.Sentiment == nil {
		t.Errorf("the summary of a call the IVR resolved: %+v", c)
	}
}
