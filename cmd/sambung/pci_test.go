package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/sambung/sambung/internal/testenv"
	"github.com/sambung/sambung/media"
)

// cardNumber is a test card number, keyed during the pause.
const cardNumber = "4111111111111111"

// TestCardDetailsArePaused: baresip reaches the agent in Chromium, who
// presses Pause recording; baresip keys a card number; the agent resumes.
// The number is nowhere: not in any file of the data directory (database,
// recording, audit trail), not in the server's log, not on the timeline,
// whose key presses of the pause are masked; and the recording is silent
// on both channels for the pause, with both voices before and after.
func TestCardDetailsArePaused(t *testing.T) {
	testenv.NeedPeers(t, "baresip, espeak-ng, sox, Chromium and a network namespace")
	if testenv.InNetns(t, 3*time.Minute, "SAMBUNG_TEST_BINARY="+binary) {
		return
	}
	tp := startLine(t, queueFlow)
	pci := filepath.Join(t.TempDir(), "pci")
	agent := make(chan int, 1)
	go func() {
		agent <- testenv.BrowserScript(t, "../../web/e2e", "agent.mjs", "agent-pauses-for-card-details",
			"SAMBUNG_URL="+strings.TrimSuffix(tp.url, "/"), "SAMBUNG_AGENT_NAME=agent", "SAMBUNG_AGENT_PASSWORD="+tp.logins["agent"],
			"SAMBUNG_AGENT_WAV="+microphone(t, agentSays), "SAMBUNG_DISPOSITION=resolved", "SAMBUNG_RING_TIMEOUT_MS=60000",
			"SAMBUNG_TALK_MS=4000", "SAMBUNG_TRANSFER_CHECK=0", "SAMBUNG_PCI_FILE="+pci)
	}()
	tp.waitAgentState(t, tp.userID(t, "agent"), "available", 60*time.Second)
	b := testenv.StartBaresip(t, testenv.BaresipCall{Mic: callerSaying(t, callerSays), Dial: "sip:support@" + tp.sip, User: "ayu", Quit: 120 * time.Second})
	b.WaitOutput("Call established", 15*time.Second)
	id := tp.lastCall(t)
	waitFile(t, pci, 60*time.Second)
	b.Command("/sndcode " + cardNumber)
	deadline := time.Now().Add(30 * time.Second)
	for n := 0; n < len(cardNumber); n = strings.Count(timelineOf(t, tp, id), `"masked":true`) {
		if time.Now().After(deadline) {
			t.Fatalf("%d masked key presses on the timeline, want %d:\n%s", n, len(cardNumber), timelineOf(t, tp, id))
		}
		time.Sleep(100 * time.Millisecond)
	}
	time.Sleep(time.Second)
	if err := os.WriteFile(pci+".done", nil, 0o644); err != nil {
		t.Fatal(err)
	}
	tp.waitEvent(t, id, 60*time.Second, kind("call.ended"))
	b.WaitOutput("terminated", 15*time.Second)
	b.Quit()
	b.Wait(15 * time.Second)
	if passed := <-agent; !t.Failed() && passed < 8 {
		t.Errorf("the agent's page stopped early: %d checks passed", passed)
	}

	// Nowhere: the data directory, the log, the timeline.
	if held := testenv.FilesHolding(t, tp.dir, cardNumber); len(held) > 0 {
		t.Errorf("files holding the card number: %v", held)
	}
	if strings.Contains(tp.stderr.String(), cardNumber) {
		t.Error("the server's log holds the card number")
	}
	tl := timelineOf(t, tp, id)
	if strings.Contains(tl, `dtmf{"digit"`) {
		t.Errorf("a key of the card number is on the timeline:\n%s", tl)
	}

	// The recording: silent in the pause, both voices around it.
	paused := tp.waitEvent(t, id, time.Second, kind("pci.paused"))
	resumed := tp.waitEvent(t, id, time.Second, kind("pci.resumed"))
	recs, err := tp.st.CallRecordings(t.Context(), id)
	if err != nil || len(recs) != 1 {
		t.Fatalf("recordings: %v %v", recs, err)
	}
	wav := testenv.ReadWAV(t, filepath.Join(tp.dir, "recordings", recs[0].Path))
	level := func(ch int, from, to time.Time) float64 {
		a := max(int(from.Sub(recs[0].StartedAt).Seconds()*float64(wav.Rate)), 0)
		b := min(int(to.Sub(recs[0].StartedAt).Seconds()*float64(wav.Rate)), len(wav.Channels[ch]))
		if b <= a {
			t.Fatalf("the recording (%d samples) has nothing from %v to %v", len(wav.Channels[ch]), from, to)
		}
		return media.DBFS(wav.Channels[ch][a:b])
	}
	margin := 300 * time.Millisecond
	t.Logf("paused for %v", resumed.At.Sub(paused.At))
	for ch, who := range []string{"the caller", "the agent"} {
		if l := level(ch, paused.At.Add(margin), resumed.At.Add(-margin)); l > -60 {
			t.Errorf("%s is in the recording during the pause: %.1f dBFS", who, l)
		}
	}
	// The agent speaks every few seconds throughout; the caller too, with
	// the IVR's prompt first.
	if l := level(1, resumed.At.Add(margin), resumed.At.Add(3*time.Second)); l < -45 {
		t.Errorf("after the pause the recording does not have the agent: %.1f dBFS", l)
	}
	if l := level(0, recs[0].StartedAt, paused.At); l < -45 {
		t.Errorf("before the pause the recording does not have the caller: %.1f dBFS", l)
	}
	var by struct{ By string }
	_ = json.Unmarshal(resumed.Data, &by)
	if by.By != "agent" {
		t.Errorf("the pause was ended by %q, want the agent", by.By)
	}
}

// timelineOf is a call's timeline as one string: each entry's kind and
// data, a line each.
func timelineOf(t *testing.T, tp *telephone, id string) string {
	t.Helper()
	evs, err := tp.st.CallEvents(t.Context(), id)
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
