package main

import (
	"context"
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/sambung/sambung/internal/testenv"
	"github.com/sambung/sambung/store"
)

// TestAgentOnADeskPhone: the demo agent takes calls on a SIP desk phone
// (baresip, answering by itself, its microphone the agent's sentence)
// instead of the browser. baresip calls the demo line as Ayu and asks for
// someone about her bill; the queued call rings the agent's phone with an
// INVITE, its answer puts the call through, and the server's recording
// has the caller on the left and the agent's phone on the right. The
// phone hanging up is the agent hanging up: they go to wrap-up.
func TestAgentOnADeskPhone(t *testing.T) {
	testenv.NeedPeers(t, "baresip, espeak-ng and sox")
	needEmbeddedEngine(t)
	agentPhone := testenv.StartBaresip(t, testenv.BaresipCall{Mic: repeatedSpeech(t, agentSays), User: "agent", Quit: 150 * time.Second})
	tp := startTelephone(t)
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("server log:\n%s", tp.stderr.String())
		}
	})
	ctx := context.Background()
	agentID := tp.userID(t, "agent")
	// The administrator gives the agent the phone.
	uri := fmt.Sprintf("sip:agent@127.0.0.1:%d", agentPhone.SIPPort)
	if code, out, errOut := runCLI(t, "", "agent", "set", "agent", "--phone", uri, "--data-dir", tp.dir); code != 0 || !strings.Contains(out, uri) {
		t.Fatalf("agent set --phone: %d\n%s%s", code, out, errOut)
	}
	// The agent goes available (as the agent page or a supervisor would):
	// the ACD reads states from the store it shares with other nodes.
	now := time.Now()
	if _, err := tp.st.SetAgentState(ctx, store.AgentStateChange{AgentID: agentID, From: store.AgentOffline,
		To: store.AgentAvailable, Actor: "test", At: now, IdleSince: now}); err != nil {
		t.Fatal(err)
	}

	caller := testenv.StartBaresip(t, testenv.BaresipCall{Mic: callerMicrophone(t), Dial: "sip:demo@" + tp.sip, User: "ayu", Quit: 120 * time.Second})
	caller.WaitOutput("Call established", 15*time.Second)
	id := tp.lastCall(t)
	connected := tp.waitEvent(t, id, 60*time.Second, kind("agent.connected"))
	agentPhone.WaitOutput("Call established", 5*time.Second)
	time.Sleep(15 * time.Second) // they talk
	agentPhone.Command("/hangup")
	ended := tp.waitEvent(t, id, 20*time.Second, kind("agent.ended"))
	if d := string(ended.Data); !strings.Contains(d, `"agent_hangup"`) {
		t.Errorf("the agent's part ended with %s, want agent_hangup", d)
	}
	if a, err := tp.st.AgentByID(ctx, agentID); err != nil || a.State != store.AgentWrapUp {
		t.Errorf("after the phone hung up the agent is %q (%v), want wrap_up", a.State, err)
	}
	tp.waitEvent(t, id, 30*time.Second, kind("call.ended"))

	answered := tp.waitEvent(t, id, time.Second, kind("call.answered"))
	recs, err := tp.st.CallRecordings(ctx, id)
	if err != nil || len(recs) != 1 {
		t.Fatalf("recordings: %v %v", recs, err)
	}
	rec := testenv.ReadWAV(t, filepath.Join(tp.dir, "recordings", recs[0].Path))
	callerRef := envelopeOf(t, testenv.Speech(t, "en", callerSays, 0))
	agentRef := envelopeOf(t, testenv.Speech(t, "en", agentSays, 0))
	left := envelope(rec.Channels[0])
	right := envelope(cut(rec.Channels[1], rec.Rate, connected.At.Sub(answered.At), 0))
	hears(t, "the recording's left channel", left, "the caller's sentence", callerRef, "the agent's", agentRef)
	hears(t, "the recording's right channel once put through", right, "the agent's phone", agentRef, "the caller's sentence", callerRef)
}
