package main

import (
	"context"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/sambung/sambung/internal/testenv"
	"github.com/sambung/sambung/store"
)

// queueFlow puts every caller straight through to an English-speaking
// agent, after the disclosure.
const queueFlow = `
name: straight-to-agents
languages: [en]
start: queue
steps:
  queue:
    queue: {name: support, skills: [language]}
`

const supervisorSays = "Hello, this is the duty supervisor. I can take this call from here."

// TestAgentConsultsAnotherAgent: a warm transfer between two agent pages
// in headless Chromium. baresip calls and reaches the demo agent, who
// consults the supervisor (signed in to the agent desk; without the
// language skill the call could not ring them otherwise): the
// supervisor's page rings as a consult, the two hear each other while the
// caller holds, and the agent completes the transfer. The supervisor's
// page then has the caller (heard, and the buttons work), and hangs up.
// The server's recording has the supervisor's sentence on its right
// channel after the transfer, and the call record is the supervisor's.
func TestAgentConsultsAnotherAgent(t *testing.T) {
	testenv.NeedPeers(t, "baresip, espeak-ng, sox, Chromium and a network namespace")
	if testenv.InNetns(t, 4*time.Minute, "SAMBUNG_TEST_BINARY="+binary) {
		return
	}
	callerMic := callerMicrophone(t)
	agentMic := agentMicrophone(t)
	supervisorMic := microphone(t, supervisorSays)

	tp := startLine(t, queueFlow)
	agentID, supervisorID := tp.userID(t, "agent"), tp.userID(t, "supervisor")
	base := strings.TrimSuffix(tp.url, "/")

	agent, supervisor := make(chan int, 1), make(chan int, 1)
	go func() {
		agent <- testenv.BrowserScript(t, "../../web/e2e", "agent.mjs", "agent-consults",
			"SAMBUNG_URL="+base, "SAMBUNG_AGENT_NAME=agent", "SAMBUNG_AGENT_PASSWORD="+tp.logins["agent"],
			"SAMBUNG_AGENT_WAV="+agentMic, "SAMBUNG_DISPOSITION=escalated", "SAMBUNG_RING_TIMEOUT_MS=90000",
			"SAMBUNG_TALK_MS=4000", "SAMBUNG_CONSULT_AGENT=supervisor")
	}()
	go func() {
		supervisor <- testenv.BrowserScript(t, "../../web/e2e", "agent.mjs", "supervisor-is-consulted",
			"SAMBUNG_URL="+base, "SAMBUNG_AGENT_NAME=supervisor", "SAMBUNG_AGENT_PASSWORD="+tp.logins["supervisor"],
			"SAMBUNG_LANDING=/supervisor/", "SAMBUNG_AGENT_WAV="+supervisorMic, "SAMBUNG_DISPOSITION=resolved",
			"SAMBUNG_RING_TIMEOUT_MS=120000", "SAMBUNG_TALK_MS=8000", "SAMBUNG_CONSULTED=1", "SAMBUNG_TRANSFER_CHECK=0",
			"SAMBUNG_E2E_TIMEOUT_MS=240000")
	}()
	tp.waitAgentState(t, agentID, "available", 60*time.Second)
	tp.waitAgentState(t, supervisorID, "available", 60*time.Second)

	b := testenv.StartBaresip(t, testenv.BaresipCall{Mic: callerMic, Dial: "sip:support@" + tp.sip, User: "ayu", Quit: 180 * time.Second})
	b.WaitOutput("Call established", 15*time.Second)
	id := tp.lastCall(t)
	tp.waitEvent(t, id, 60*time.Second, kind("agent.consult_answered"))
	transferred := tp.waitEvent(t, id, 90*time.Second, kind("agent.transferred"))
	tp.waitEvent(t, id, 90*time.Second, kind("call.ended"))
	b.WaitOutput("terminated", 15*time.Second)
	b.Quit()
	b.Wait(15 * time.Second)
	if a, s := <-agent, <-supervisor; !t.Failed() && (a < 12 || s < 13) {
		t.Errorf("the browsers stopped early: %d agent checks, %d supervisor checks passed", a, s)
	}
	if !strings.Contains(string(transferred.Data), `"consulted":true`) || !strings.Contains(string(transferred.Data), `"to_agent":"supervisor"`) {
		t.Errorf("agent.transferred: %s", transferred.Data)
	}

	// The supervisor's wrap-up is the call's (saved after the agent's).
	deadline := time.Now().Add(30 * time.Second)
	var c store.Call
	for time.Now().Before(deadline) {
		var err error
		if c, err = tp.st.CallByID(context.Background(), id); err == nil && c.Disposition == "resolved" {
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	if c.Disposition != "resolved" || c.AgentID != supervisorID || !strings.Contains(string(c.Contact), `"consulted":true`) {
		t.Errorf("call record: disposition %q agent %d contact %s", c.Disposition, c.AgentID, c.Contact)
	}

	// After the transfer the caller heard the supervisor (the right
	// channel), not the agent.
	answered := tp.waitEvent(t, id, time.Second, kind("call.answered"))
	recs, err := tp.st.CallRecordings(context.Background(), id)
	if err != nil || len(recs) != 1 {
		t.Fatalf("recordings: %v %v", recs, err)
	}
	rec := testenv.ReadWAV(t, filepath.Join(tp.dir, "recordings", recs[0].Path))
	right := envelope(cut(rec.Channels[1], rec.Rate, transferred.At.Sub(answered.At), 0))
	hears(t, "the recording's right channel after the transfer", right, "the supervisor's sentence", envelopeOf(t, supervisorMic), "the agent's", envelopeOf(t, agentMic))
}
