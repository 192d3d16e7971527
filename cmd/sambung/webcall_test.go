package main

import (
	"context"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/sambung/sambung/internal/testenv"
	"github.com/sambung/sambung/media/webrtc"
)

// keypadFlow is the line the web customer calls: the disclosure, a menu
// on the keypad, and 0 queues the call for an agent who speaks English.
const keypadFlow = `
name: keypad
languages: [en]
variables: {key: ""}
start: menu
steps:
  menu:
    gather: {prompt: {en: "Press 0 to speak to a person."}, max_digits: 1, into: key, first_digit_timeout: 20s}
    next: route
  route:
    branch:
      - when: 'key == "0"'
        goto: queue
      - else: menu
  queue:
    queue: {name: support, skills: [language]}
`

const customerSays = "Good morning, I have a question about my order please"

// TestWebCustomerReachesAnAgent: a customer in headless Chromium calls
// from the click-to-call page (its microphone an espeak-ng sentence),
// presses 0 on the page's keypad, and is put through to the demo agent on
// the agent page in a second Chromium. Both hear each other: the server's
// recording has the customer's sentence on the left and, after the agent
// answered, the agent's on the right. The widget script on another page
// opens the click-to-call page.
func TestWebCustomerReachesAnAgent(t *testing.T) {
	testenv.NeedPeers(t, "espeak-ng, sox, Chromium and a network namespace")
	if testenv.InNetns(t, 4*time.Minute, "SAMBUNG_TEST_BINARY="+binary) {
		return
	}
	customerMic := microphone(t, customerSays)
	agentMic := agentMicrophone(t)

	tp := startLine(t, keypadFlow, "--webcall.lines", "support=Support")
	agentID := tp.userID(t, "agent")
	base := strings.TrimSuffix(tp.url, "/")

	agent := make(chan int, 1)
	go func() {
		agent <- testenv.BrowserScript(t, "../../web/e2e", "agent.mjs", "agent-takes-a-web-call",
			"SAMBUNG_URL="+base, "SAMBUNG_AGENT_NAME=agent", "SAMBUNG_AGENT_PASSWORD="+tp.logins["agent"],
			"SAMBUNG_AGENT_WAV="+agentMic, `SAMBUNG_EXPECT={"language":"en"}`, "SAMBUNG_DISPOSITION=resolved",
			"SAMBUNG_RING_TIMEOUT_MS=90000", "SAMBUNG_TALK_MS=10000")
	}()
	tp.waitAgentState(t, agentID, "available", 60*time.Second)

	customer := testenv.BrowserScript(t, "../../web/e2e", "webcall.mjs", "customer-calls-from-the-web",
		"SAMBUNG_URL="+base, "SAMBUNG_CALLER_WAV="+customerMic, "SAMBUNG_LINE=support",
		"SAMBUNG_KEYS=0", "SAMBUNG_KEYS_AFTER_MS=2000", "SAMBUNG_WAIT_END=1", "SAMBUNG_STAY_MS=90000")
	if passed := <-agent; !t.Failed() && (passed < 15 || customer < 6) {
		t.Errorf("the browsers stopped early: %d agent checks, %d customer checks passed", passed, customer)
	}

	id := tp.lastCall(t)
	c, err := tp.st.CallByID(context.Background(), id)
	if err != nil || c.From != "web" || c.To != "support" || c.AgentID != agentID {
		t.Fatalf("the web call's record: %+v %v", c, err)
	}
	answered := tp.waitEvent(t, id, time.Second, kind("call.answered"))
	connected := tp.waitEvent(t, id, time.Second, kind("agent.connected"))
	// A web caller's agent speaks the build's first codec: Opus, with
	// libopus (the caller's own leg is transcoded anyway).
	if want := `"codec":"` + webrtc.Codecs()[0] + `"`; !strings.Contains(string(connected.Data), want) {
		t.Errorf("agent.connected %s, want %s", connected.Data, want)
	}
	since := connected.At.Sub(answered.At)
	recs, err := tp.st.CallRecordings(context.Background(), id)
	if err != nil || len(recs) != 1 {
		t.Fatalf("recordings: %v %v", recs, err)
	}
	rec := testenv.ReadWAV(t, filepath.Join(tp.dir, "recordings", recs[0].Path))
	customerRef := envelopeOf(t, testenv.Speech(t, "en", customerSays, 0))
	agentRef := envelopeOf(t, agentMic)
	left := envelope(rec.Channels[0])
	right := envelope(cut(rec.Channels[1], rec.Rate, since, 0))
	hears(t, "the recording's left channel", left, "the customer's sentence", customerRef, "the agent's", agentRef)
	hears(t, "the recording's right channel after the answer", right, "the agent's sentence", agentRef, "the customer's", customerRef)
	var keyed bool
	evs, _ := tp.st.CallEvents(context.Background(), id)
	for _, e := range evs {
		keyed = keyed || e.Kind == "ivr.gathered" && strings.Contains(string(e.Data), `"0"`)
	}
	if !keyed {
		t.Error("the page's 0 did not reach the flow as a key")
	}
}
