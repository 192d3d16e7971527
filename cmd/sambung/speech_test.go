package main

import (
	"context"
	"encoding/json"
	"fmt"
	"net"
	"os"
	"os/exec"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/sambung/sambung/internal/testenv"
	"github.com/sambung/sambung/store"
)

// needEmbeddedEngine skips (or, where peers are required, fails) when the
// binary under test was built without PocketSphinx.
func needEmbeddedEngine(t *testing.T) {
	t.Helper()
	out, err := exec.Command(binary, "version").Output()
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(out), "pocketsphinx") || strings.Contains(string(out), "no embedded engine") {
		if os.Getenv("SAMBUNG_REQUIRE_PEERS") != "" {
			t.Fatalf("the binary has no embedded speech engine (build with -tags pocketsphinx and libpocketsphinx-dev):\n%s", out)
		}
		t.Skipf("no embedded speech engine in this build:\n%s", out)
	}
}

func (tp *telephone) timeline(t *testing.T, id string) []store.CallEvent {
	evs, err := tp.st.CallEvents(context.Background(), id)
	if err != nil {
		t.Fatal(err)
	}
	return evs
}

// callSaying calls number with baresip, playing mic into the call, and
// returns the call's id and what the flow understood (ivr.heard), once the
// call has ended. baresip hangs up after quit at the latest.
func (tp *telephone) callSaying(t *testing.T, number, mic string, quit time.Duration) (string, store.CallEvent) {
	t.Helper()
	b := testenv.StartBaresip(t, testenv.BaresipCall{Mic: mic, Dial: "sip:" + number + "@" + tp.sip, Quit: quit})
	b.WaitOutput("Call established", 15*time.Second)
	id := tp.lastCall(t)
	heard := tp.waitEvent(t, id, 40*time.Second, kind("ivr.heard"))
	tp.waitEvent(t, id, 60*time.Second, kind("call.ended"))
	b.Quit()
	b.Wait(15 * time.Second)
	return id, heard
}

// TestSpokenRefundWithBaresip: a caller says, in espeak-ng English during
// the demo's menu, how to get their money back. PocketSphinx,
// built in, hears it; the intent is refund and the flow answers with the
// return policy. The caller's speech stops the menu (barge-in).
func TestSpokenRefundWithBaresip(t *testing.T) {
	testenv.NeedPeers(t, "baresip, espeak-ng and sox")
	needEmbeddedEngine(t)
	mic := testenv.SpeechAfter(t, "en", "How do I get my money back", 9*time.Second, 40*time.Second)
	tp := startTelephone(t)
	id, heard := tp.callSaying(t, "demo", mic, 90*time.Second)

	evs := tp.timeline(t, id)
	var asrHeard map[string]any
	var steps []string
	for _, e := range evs {
		switch e.Kind {
		case "asr.heard":
			if asrHeard == nil {
				_ = json.Unmarshal(e.Data, &asrHeard)
			}
		case "ivr.step":
			steps = append(steps, field(e, "step").(string))
		}
	}
	if asrHeard["engine"] != "pocketsphinx" || !strings.Contains(fmt.Sprint(asrHeard["text"]), "money back") {
		t.Errorf("the recognizer heard %v\n%s", asrHeard, timelineText(evs))
	}
	if field(heard, "intent") != "refund" {
		t.Errorf("understood %v, want refund\n%s", heard.Data, timelineText(evs))
	}
	if !slices.Contains(steps, "returns") {
		t.Errorf("the flow did not take the refund branch: %v", steps)
	}
	if i := slices.IndexFunc(evs, kind("ivr.barge_in")); i < 0 || field(evs[i], "by") != "speech" {
		t.Errorf("the caller's speech did not stop the menu\n%s", timelineText(evs))
	}
}

// TestSilentCallerWithBaresip: the same call with a caller who says
// nothing takes the no-input branch twice, and the escalation puts them
// through to a person.
func TestSilentCallerWithBaresip(t *testing.T) {
	testenv.NeedPeers(t, "baresip and sox")
	needEmbeddedEngine(t)
	mic := testenv.Silence(t, 80*time.Second)
	tp := startTelephone(t)
	b := testenv.StartBaresip(t, testenv.BaresipCall{Mic: mic, Dial: "sip:demo@" + tp.sip, Quit: 100 * time.Second})
	b.WaitOutput("Call established", 15*time.Second)
	id := tp.lastCall(t)
	tp.waitEvent(t, id, 80*time.Second, kind("ivr.ended"))
	b.Quit()
	b.Wait(15 * time.Second)

	evs := tp.timeline(t, id)
	var reasons, steps []string
	for _, e := range evs {
		switch e.Kind {
		case "ivr.failure":
			reasons = append(reasons, field(e, "reason").(string))
		case "ivr.step":
			steps = append(steps, field(e, "step").(string))
		case "asr.heard":
			t.Errorf("the recognizer heard something in silence: %s", e.Data)
		}
	}
	if !slices.Equal(reasons, []string{"no_input", "no_input"}) {
		t.Errorf("failures %v, want two no_input\n%s", reasons, timelineText(evs))
	}
	if !slices.Contains(steps, "agent") || slices.Contains(steps, "returns") {
		t.Errorf("steps %v, want the no-input branch to a person", steps)
	}
	if slices.IndexFunc(evs, kind("asr.started")) < 0 {
		t.Errorf("no recognizer listened\n%s", timelineText(evs))
	}
}

// fallbackFlow chooses the recognizer "cloud" for its callers.
const fallbackFlow = `
name: fallback
languages: [en]
speech: cloud
intents:
  refund: {en: ["how do I get my money back", "refund"]}
  order: {en: ["where is my order"]}
escalation: {to: bye}
start: ask
steps:
  ask: {listen: {prompt: {en: "How can I help?"}, intents: {refund: refund, order: bye}, no_input: bye, no_match: bye}}
  refund: {say: {en: "Refunds take five days."}, next: bye}
  bye: {hangup: {}}
`

// TestFlowsRecognizerFallsBack: a flow chooses the recognizer "cloud", a
// Whisper server (asr.recognizers) that drops every connection. The
// caller's espeak-ng English goes to it, fails, and the embedded engine,
// asr.fallback's default, hears it: the flow takes the refund branch.
func TestFlowsRecognizerFallsBack(t *testing.T) {
	testenv.NeedPeers(t, "baresip, espeak-ng and sox")
	needEmbeddedEngine(t)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	var dropped atomic.Int32
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			dropped.Add(1)
			c.Close() // the connection drops before any answer
		}
	}()
	mic := testenv.SpeechAfter(t, "en", "How do I get my money back", 7*time.Second, 30*time.Second)
	tp := startLine(t, fallbackFlow, "--asr.recognizers", "cloud=whisper-http url=http://"+ln.Addr().String())
	id, heard := tp.callSaying(t, "support", mic, 60*time.Second)

	evs := tp.timeline(t, id)
	const engine = "cloud: whisper-http (fallback pocketsphinx)"
	if i := slices.IndexFunc(evs, kind("asr.started")); i < 0 || field(evs[i], "engine") != engine {
		t.Errorf("the call did not listen with the flow's recognizer behind the fallback\n%s", timelineText(evs))
	}
	i := slices.IndexFunc(evs, kind("asr.heard"))
	if i < 0 || field(evs[i], "engine") != engine || !strings.Contains(fmt.Sprint(field(evs[i], "text")), "money back") || field(evs[i], "error") != nil {
		t.Errorf("heard %v, want the fallback's text and no error\n%s", evs[max(i, 0)].Data, timelineText(evs))
	}
	if field(heard, "intent") != "refund" {
		t.Errorf("understood %v, want refund", heard.Data)
	}
	if slices.IndexFunc(evs, func(e store.CallEvent) bool { return e.Kind == "ivr.step" && field(e, "step") == "refund" }) < 0 {
		t.Errorf("the flow did not take the refund branch\n%s", timelineText(evs))
	}
	if dropped.Load() == 0 {
		t.Error("the flow's recognizer was never asked")
	}
	if !strings.Contains(tp.stderr.String(), "the fallback hears it") {
		t.Errorf("the server did not log the failure handed over:\n%s", tp.stderr)
	}
}
