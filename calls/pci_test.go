package calls

import (
	"context"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/sambung/sambung/asr"
	"github.com/sambung/sambung/internal/testenv"
	"github.com/sambung/sambung/ivr"
	"github.com/sambung/sambung/media"
	"github.com/sambung/sambung/store"
)

const cardNumber = "4111111111111111"

// TestPCIPause: the agent pauses the recording while the caller keys a
// card number. The keys are on the timeline only as masked presses; no
// file of the data directory (database, recording) holds the number; the
// recording goes on, silent on both channels for the pause; the live
// transcript hears neither side meanwhile. Resuming brings it all back,
// and a pause left on ends with the agent's part of the call.
func TestPCIPause(t *testing.T) {
	rec := &toneRecognizer{words: map[float64]string{440: "caller words", 1000: "agent words"}, opts: make(chan asr.Options, 4)}
	fl := newFloorWith(t, func(c *Config) {
		c.Recognizer = func(_, _ string) asr.Recognizer { return rec }
		c.Desk.Transcripts = TranscriptConfig{AgentCalls: true}
	}, "ana")
	f := fl.f
	pa, hello := fl.open(t, "ana", []string{"language:en"}, true)
	if hello["call"] != nil {
		t.Fatalf("hello %v", hello)
	}
	f.caller.Play(media.NewTone(media.ToneSpec{Freqs: []float64{440}, Level: -12}))
	callID := pa.next("offer", 15*time.Second)["call_id"].(string)
	speakingBrowser(t, pa, callID, 1000)
	pa.next("call.connected", 10*time.Second)
	f.waitEvent("transcript.started", 5*time.Second)
	time.Sleep(1500 * time.Millisecond)

	pa.send(map[string]any{"type": "pci", "call_id": callID, "on": true})
	if m := pa.next("call.pci", 2*time.Second); m["on"] != true {
		t.Fatalf("the page was told %v, want the pause", m)
	}
	paused := f.waitEvent("pci.paused", time.Second)
	if err := f.caller.SendDTMF(cardNumber, 60*time.Millisecond); err != nil {
		t.Fatal(err)
	}
	waitFor(t, 15*time.Second, "every key on the timeline, masked", func() bool {
		return strings.Count(timeline(t, f.st, callID), `"masked":true`) == len(cardNumber)
	})
	time.Sleep(time.Second)
	pa.send(map[string]any{"type": "pci", "call_id": callID, "on": false})
	if m := pa.next("call.pci", 2*time.Second); m["on"] != false {
		t.Fatalf("the page was told %v, want the resume", m)
	}
	resumed := f.waitEvent("pci.resumed", time.Second)
	time.Sleep(1500 * time.Millisecond)

	// A pause left on ends with the agent's part of the call.
	pa.send(map[string]any{"type": "pci", "call_id": callID, "on": true})
	pa.next("call.pci", 2*time.Second)
	pa.send(map[string]any{"type": "hangup", "call_id": callID})
	pa.next("call.ended", 5*time.Second)
	waitFor(t, 5*time.Second, "the pause left on to end", func() bool {
		return strings.Count(timeline(t, f.st, callID), "pci.resumed") == 2
	})
	if tl := timeline(t, f.st, callID); !strings.Contains(tl, `pci.resumed{"by":"ana"`) || !strings.Contains(tl, `pci.resumed{"by":"agent_left"`) {
		t.Errorf("the pauses did not end by ana and then by the agent leaving:\n%s", tl)
	}
	f.leg.end("caller_bye")
	f.waitEvent("recording.finished", 10*time.Second)

	// The keys: masked on the timeline, in no file of the data directory.
	if tl := timeline(t, f.st, callID); strings.Contains(tl, `"digit"`) {
		t.Errorf("a key pressed during the pause is on the timeline: %s", tl)
	}
	if held := testenv.FilesHolding(t, f.dir, cardNumber); len(held) > 0 {
		t.Errorf("files holding the card number: %v", held)
	}

	// The recording: the tones before and after, silence in between.
	recs, err := f.st.CallRecordings(context.Background(), callID)
	if err != nil || len(recs) != 1 {
		t.Fatalf("recordings %v, %v", recs, err)
	}
	wav := testenv.ReadWAV(t, filepath.Join(f.dir, "recordings", recs[0].Path))
	at := func(tm time.Time) int { return int(tm.Sub(recs[0].StartedAt).Seconds() * float64(wav.Rate)) }
	window := func(from, to time.Time) (left, right []int16) {
		a, b := max(at(from), 0), min(at(to), len(wav.Channels[0]))
		if b <= a {
			t.Fatalf("an empty window of the recording: %v to %v", from, to)
		}
		return wav.Channels[0][a:b], wav.Channels[1][a:b]
	}
	margin := 300 * time.Millisecond
	l, r := window(paused.At.Add(margin), resumed.At.Add(-margin))
	if media.DBFS(l) > -70 || media.DBFS(r) > -70 {
		t.Errorf("the pause is not silent in the recording: caller %.1f dBFS, the other side %.1f", media.DBFS(l), media.DBFS(r))
	}
	l, r = window(paused.At.Add(-time.Second), paused.At.Add(-margin))
	if toneDB(l, 440) < -30 || toneDB(r, 1000) < -30 {
		t.Errorf("before the pause the recording has the caller at %.1f dBFS and the agent at %.1f", toneDB(l, 440), toneDB(r, 1000))
	}
	l, r = window(resumed.At.Add(margin), resumed.At.Add(time.Second))
	if toneDB(l, 440) < -30 || toneDB(r, 1000) < -30 {
		t.Errorf("after the pause the recording has the caller at %.1f dBFS and the agent at %.1f", toneDB(l, 440), toneDB(r, 1000))
	}

	// The transcript: lines of both sides around the pause, none in it.
	var before, after int
	for _, ln := range transcriptLines(t, f.st, callID) {
		switch {
		case ln.End.Before(paused.At.Add(margin)):
			before++
		case ln.Start.After(resumed.At.Add(-margin)):
			after++
		default:
			t.Errorf("a line heard during the pause: %+v", ln)
		}
	}
	if before == 0 || after == 0 {
		t.Errorf("%d lines before the pause and %d after, want some of each", before, after)
	}
}

// waitFor polls cond until it holds, failing the test with what after d.
func waitFor(t *testing.T, d time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(d)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("no %s after %v", what, d)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// timeline is a call's timeline as one string, to search.
func timeline(t *testing.T, st store.Store, callID string) string {
	t.Helper()
	evs, err := st.CallEvents(context.Background(), callID)
	if err != nil {
		t.Fatal(err)
	}
	var b strings.Builder
	for _, e := range evs {
		b.WriteString(e.Kind)
		b.Write(e.Data)
		b.WriteByte('\n')
	}
	return b.String()
}

// TestFlowPCIStep: a flow's pci step pauses the call: keys pressed then
// reach nothing (the flow's gather hears none and times out) and are on the
// timeline only as masked; the next pci step resumes it.
func TestFlowPCIStep(t *testing.T) {
	const flow = `
name: pay
languages: [en]
variables: {card: ""}
start: pause
steps:
  pause: {pci: pause, next: ask}
  ask:
    gather: {prompt: {en: "Card number?"}, max_digits: 16, first_digit_timeout: 3s, into: card}
    next: resume
  resume: {pci: resume, next: bye}
  bye: {hangup: {}}
`
	f := newFixture(t, "support", Config{Lines: flowLines(t, flow), IVR: &ivr.Runtime{Voice: quietVoice{}}})
	f.waitEvent("pci.paused", 10*time.Second)
	if err := f.caller.SendDTMF(cardNumber, 60*time.Millisecond); err != nil {
		t.Fatal(err)
	}
	f.waitEvent("call.ended", 20*time.Second)
	tl := timeline(t, f.st, f.callID())
	if n := strings.Count(tl, `"masked":true`); n != len(cardNumber) || strings.Contains(tl, `dtmf{"digit"`) ||
		!strings.Contains(tl, `pci.paused{"by":"flow"}`) || !strings.Contains(tl, `pci.resumed{"by":"flow"`) {
		t.Errorf("%d masked keys; the timeline:\n%s", n, tl)
	}
	if strings.Contains(tl, cardNumber) || strings.Contains(tl, "4111") {
		t.Errorf("the card number is on the timeline:\n%s", tl)
	}
}
