package main

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/sambung/sambung/internal/testenv"
	"github.com/sambung/sambung/store"
)

// lateFlow is a line outside its hours: it promises a call back.
const lateFlow = `
name: late
languages: [en]
start: late
steps:
  late: {callback: {prompt: {en: "We are closed. We will call you back."}}}
`

const calleeSays = "Oh hello, thank you for calling me back so quickly"

// TestAgentCallsBack: baresip calls a line that is closed as Ayu and is
// promised a call back. When the demo agent, in headless Chromium, goes
// available, their page rings for the call back; they answer, the server
// dials Ayu's phone (a second baresip, answering by itself) over SIP, and
// agent and customer talk. The call back is a call of its own, outbound,
// recorded: the customer's sentence on the left, the agent's on the right
// once they were put through, and the wrap-up on it.
func TestAgentCallsBack(t *testing.T) {
	testenv.NeedPeers(t, "baresip, espeak-ng, sox, Chromium and a network namespace")
	if testenv.InNetns(t, 4*time.Minute, "SAMBUNG_TEST_BINARY="+binary) {
		return
	}
	phone := testenv.StartBaresip(t, testenv.BaresipCall{Mic: repeatedSpeech(t, calleeSays), User: "ayu", Quit: 200 * time.Second})
	flows := t.TempDir()
	if err := os.WriteFile(filepath.Join(flows, "late.yaml"), []byte(lateFlow), 0o644); err != nil {
		t.Fatal(err)
	}
	tp := startTelephone(t, "--ivr.flows", flows,
		"--calls.callback_uri", fmt.Sprintf("sip:{number}@127.0.0.1:%d", phone.SIPPort))
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("server log:\n%s", tp.stderr.String())
		}
	})
	agentID := tp.userID(t, "agent")

	caller := testenv.StartBaresip(t, testenv.BaresipCall{Mic: testenv.Silence(t, 20*time.Second),
		Dial: "sip:late@" + tp.sip, User: "ayu", Quit: 60 * time.Second})
	first := tp.lastCall(t)
	tp.waitEvent(t, first, 30*time.Second, kind("call.callback_requested"))
	tp.waitEvent(t, first, 30*time.Second, kind("call.ended"))
	caller.Quit()

	agentMic := agentMicrophone(t)
	passed := testenv.BrowserScript(t, "../../web/e2e", "agent.mjs", "agent-calls-back",
		"SAMBUNG_URL="+strings.TrimSuffix(tp.url, "/"), "SAMBUNG_AGENT_NAME=agent", "SAMBUNG_AGENT_PASSWORD="+tp.logins["agent"],
		"SAMBUNG_AGENT_WAV="+agentMic, `SAMBUNG_EXPECT={}`, "SAMBUNG_DISPOSITION=resolved",
		"SAMBUNG_RING_TIMEOUT_MS=60000", "SAMBUNG_TALK_MS=12000", "SAMBUNG_TRANSFER_CHECK=0")
	if !t.Failed() && passed < 12 {
		t.Errorf("only %d browser checks passed; the script stopped early", passed)
	}

	calls, err := tp.st.ListCalls(context.Background(), store.CallFilter{Limit: 5})
	if err != nil || len(calls) != 2 {
		t.Fatalf("calls %+v %v, want the promise and the call back", calls, err)
	}
	back := calls[0]
	if back.ID == first {
		back = calls[1]
	}
	if back.Direction != store.Outbound || back.To != "ayu" || back.Disposition != "resolved" || back.AgentID != agentID {
		t.Errorf("the call back's record: %+v", back)
	}
	answered := tp.waitEvent(t, back.ID, time.Second, kind("call.answered"))
	connected := tp.waitEvent(t, back.ID, time.Second, kind("agent.connected"))
	recs, err := tp.st.CallRecordings(context.Background(), back.ID)
	if err != nil || len(recs) != 1 {
		t.Fatalf("recordings of the call back: %v %v", recs, err)
	}
	rec := testenv.ReadWAV(t, filepath.Join(tp.dir, "recordings", recs[0].Path))
	calleeRef := envelopeOf(t, testenv.Speech(t, "en", calleeSays, 0))
	agentRef := envelopeOf(t, agentMic)
	left := envelope(rec.Channels[0])
	right := envelope(cut(rec.Channels[1], rec.Rate, connected.At.Sub(answered.At), 0))
	hears(t, "the call back's left channel", left, "the customer's sentence", calleeRef, "the agent's", agentRef)
	hears(t, "the call back's right channel once put through", right, "the agent's sentence", agentRef, "the customer's", calleeRef)
}

// repeatedSpeech is text said every few seconds for about a minute, as
// 8 kHz mono for baresip's microphone.
func repeatedSpeech(t *testing.T, text string) string {
	t.Helper()
	sox := testenv.LookPath(t, "sox", "Debian package sox")
	once := testenv.SpeechAfter(t, "en", text, 2*time.Second, 2*time.Second)
	args := []string{"-R"}
	for range 12 {
		args = append(args, once)
	}
	out := filepath.Join(t.TempDir(), "repeated.wav")
	if b, err := exec.Command(sox, append(args, out)...).CombinedOutput(); err != nil {
		t.Fatalf("sox: %v\n%s", err, b)
	}
	return out
}
