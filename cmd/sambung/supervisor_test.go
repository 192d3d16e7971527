package main

import (
	"encoding/json"
	"fmt"
	"io"
	"math"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/sambung/sambung/internal/testenv"
	"github.com/sambung/sambung/store"
)

// band is a stretch of the spectrum, in Hz. Each voice of the supervisor
// test is filtered to a band of its own, so that in a mix of two or three
// each can be told apart: the caller low, the agent in the middle, the
// supervisor high. Each is still a spoken sentence, only band-limited.
type band struct{ lo, hi int }

var (
	callerBand     = band{200, 700}
	agentBand      = band{1100, 1700}
	supervisorBand = band{2200, 3200}
)

func (b band) sinc() string { return fmt.Sprintf("%d-%d", b.lo, b.hi) }

// bandSpeech is text said in English, filtered to b and normalised, at
// rate Hz: the sentence a voice's presence is checked against.
func bandSpeech(t *testing.T, text string, b band, rate int) string {
	t.Helper()
	sox := testenv.LookPath(t, "sox", "Debian package sox")
	out := filepath.Join(t.TempDir(), "band.wav")
	cmd := exec.Command(sox, "-R", testenv.Speech(t, "en", text, 0), "-r", strconv.Itoa(rate), out,
		"sinc", b.sinc(), "gain", "-n", "-3", "pad", "0", "1")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("sox: %v\n%s", err, out)
	}
	return out
}

// looped is wav said n times over, for a microphone that must not run out.
func looped(t *testing.T, wav string, n int) string {
	t.Helper()
	sox := testenv.LookPath(t, "sox", "Debian package sox")
	args := make([]string, 0, n+1)
	for range n {
		args = append(args, wav)
	}
	out := filepath.Join(t.TempDir(), "looped.wav")
	if b, err := exec.Command(sox, append(args, out)...).CombinedOutput(); err != nil {
		t.Fatalf("sox: %v\n%s", err, b)
	}
	return out
}

// bandEnvelope is the envelope of wav's band b from from to to (to 0:
// the end), at 8 kHz.
func bandEnvelope(t *testing.T, wav string, b band, from, to time.Duration) []float64 {
	t.Helper()
	sox := testenv.LookPath(t, "sox", "Debian package sox")
	out := filepath.Join(t.TempDir(), "cut.wav")
	args := []string{"-R", wav, "-r", "8000", "-c", "1", "-b", "16", out, "trim", fmt.Sprintf("%.3f", from.Seconds())}
	if to > 0 {
		args = append(args, fmt.Sprintf("=%.3f", to.Seconds()))
	}
	args = append(args, "sinc", b.sinc())
	if o, err := exec.Command(sox, args...).CombinedOutput(); err != nil {
		t.Fatalf("sox %v: %v\n%s", args, err, o)
	}
	return envelope(testenv.ReadWAV(t, out).Channels[0])
}

// channelWAV writes channel ch of a recording as a WAV of its own.
func channelWAV(t *testing.T, wav string, ch int) string {
	t.Helper()
	sox := testenv.LookPath(t, "sox", "Debian package sox")
	out := filepath.Join(t.TempDir(), "channel.wav")
	if b, err := exec.Command(sox, wav, out, "remix", strconv.Itoa(ch+1)).CombinedOutput(); err != nil {
		t.Fatalf("sox: %v\n%s", err, b)
	}
	return out
}

// heardFile is what a page saved of what it heard, and when.
type heardFile struct {
	Start float64 `json:"start"` // ms since the epoch of the first sample
	Modes []struct {
		Mode string  `json:"mode"`
		From float64 `json:"from"`
		To   float64 `json:"to"`
	} `json:"modes"`
	// Seen is when the supervisor's floor first showed each thing.
	Seen map[string]float64 `json:"seen"`
}

func readHeard(t *testing.T, wav string) heardFile {
	t.Helper()
	b, err := os.ReadFile(wav + ".json")
	if err != nil {
		t.Fatalf("the page saved no timing for what it heard: %v", err)
	}
	var h heardFile
	if err := json.Unmarshal(b, &h); err != nil {
		t.Fatalf("%s.json: %v", wav, err)
	}
	return h
}

func epochMs(ms float64) time.Time { return time.UnixMilli(int64(ms)) }

// TestSupervisorStepsIn: baresip calls and reaches the agent in headless
// Chromium; a supervisor in a second Chromium page, on the supervisor
// floor, sees the call live and listens, then whispers, then barges, and
// leaves. Each voice is a sentence in a band of its own (the caller low,
// the agent in the middle, the supervisor high), so what each party heard
// in each mode can be read band by band:
//   - the supervisor hears the caller and the agent in every mode, and
//     never themselves;
//   - the agent hears the supervisor while they whisper or barge, not
//     while they listen;
//   - the caller (baresip, and the server's recording of what the caller
//     heard) hears the supervisor only in barge.
//
// The monitoring is on the call's timeline and in the audit trail.
func TestSupervisorStepsIn(t *testing.T) {
	testenv.NeedPeers(t, "baresip, espeak-ng, sox, Chromium and a network namespace")
	if testenv.InNetns(t, 5*time.Minute, "SAMBUNG_TEST_BINARY="+binary) {
		return
	}
	callerRef := bandSpeech(t, callerSays, callerBand, 8000)
	agentRef := bandSpeech(t, agentSays, agentBand, 48000)
	supervisorRef := bandSpeech(t, supervisorSays, supervisorBand, 48000)
	callerMic := looped(t, callerRef, 40)
	dir := t.TempDir()
	agentHeard, supervisorHeard := filepath.Join(dir, "agent-heard.wav"), filepath.Join(dir, "supervisor-heard.wav")
	ready, done := filepath.Join(dir, "floor-ready"), filepath.Join(dir, "supervisor-done")

	tp := startLine(t, queueFlow)
	agentID := tp.userID(t, "agent")
	base := strings.TrimSuffix(tp.url, "/")

	// The supervisor's floor is up and watched before anything happens:
	// the agent going available, then a call.
	agent, supervisor := make(chan int, 1), make(chan int, 1)
	go func() {
		supervisor <- testenv.BrowserScript(t, "../../web/e2e", "supervisor.mjs", "supervisor-steps-in",
			"SAMBUNG_URL="+base, "SAMBUNG_SUPERVISOR_NAME=supervisor", "SAMBUNG_SUPERVISOR_PASSWORD="+tp.logins["supervisor"],
			"SAMBUNG_SUPERVISOR_WAV="+supervisorRef, "SAMBUNG_HEARD_WAV="+supervisorHeard, "SAMBUNG_MODE_MS=12000",
			"SAMBUNG_READY_FILE="+ready, "SAMBUNG_DONE_FILE="+done, "SAMBUNG_SET_AWAY=agent")
	}()
	waitFile(t, ready, 60*time.Second)
	go func() {
		agent <- testenv.BrowserScript(t, "../../web/e2e", "agent.mjs", "agent-is-monitored",
			"SAMBUNG_URL="+base, "SAMBUNG_AGENT_NAME=agent", "SAMBUNG_AGENT_PASSWORD="+tp.logins["agent"],
			"SAMBUNG_AGENT_WAV="+agentRef, "SAMBUNG_DISPOSITION=resolved", "SAMBUNG_RING_TIMEOUT_MS=90000",
			"SAMBUNG_TALK_MS=150000", "SAMBUNG_TALK_UNTIL_FILE="+done, "SAMBUNG_TRANSFER_CHECK=0", "SAMBUNG_HEARD_WAV="+agentHeard,
			"SAMBUNG_E2E_TIMEOUT_MS=300000")
	}()
	tp.waitAgentState(t, agentID, "available", 60*time.Second)
	// Nothing else happens for a while: only the agent's state change can
	// bring it to the floor.
	time.Sleep(2 * time.Second)
	dialled := time.Now()

	b := testenv.StartBaresip(t, testenv.BaresipCall{Mic: callerMic, Dial: "sip:support@" + tp.sip, User: "ayu", Quit: 180 * time.Second})
	b.WaitOutput("Call established", 15*time.Second)
	id := tp.lastCall(t)
	for _, k := range []string{"supervisor.joined", "supervisor.mode", "supervisor.left"} {
		tp.waitEvent(t, id, 120*time.Second, kind(k))
	}
	tp.waitEvent(t, id, 90*time.Second, kind("call.ended"))
	b.WaitOutput("terminated", 15*time.Second)
	b.Quit()
	b.Wait(15 * time.Second)
	if a, s := <-agent, <-supervisor; !t.Failed() && (a < 15 || s < 11) {
		t.Errorf("the browsers stopped early: %d agent checks, %d supervisor checks passed", a, s)
	}
	if t.Failed() {
		return
	}

	sup, ag := readHeard(t, supervisorHeard), readHeard(t, agentHeard)
	floorLive(t, tp, sup.Seen, agentID, id, dialled)
	if len(sup.Modes) != 3 {
		t.Fatalf("the supervisor went through modes %+v, want listen, whisper, barge", sup.Modes)
	}
	answered := tp.waitEvent(t, id, time.Second, kind("call.answered"))
	recs, err := tp.st.CallRecordings(t.Context(), id)
	if err != nil || len(recs) != 1 {
		t.Fatalf("recordings: %v %v", recs, err)
	}
	recording := filepath.Join(tp.dir, "recordings", recs[0].Path)
	recCaller, recHeard := channelWAV(t, recording, 0), channelWAV(t, recording, 1)
	callerHeard := b.Heard()

	refs := map[string][]float64{
		"caller":     trimmed(bandEnvelope(t, callerRef, callerBand, 0, 0)),
		"agent":      trimmed(bandEnvelope(t, agentRef, agentBand, 0, 0)),
		"supervisor": trimmed(bandEnvelope(t, supervisorRef, supervisorBand, 0, 0)),
	}
	bands := map[string]band{"caller": callerBand, "agent": agentBand, "supervisor": supervisorBand}
	lengths := map[string]time.Duration{}
	for _, f := range []string{supervisorHeard, agentHeard, callerHeard, recHeard, recCaller} {
		w := testenv.ReadWAV(t, f)
		lengths[f] = time.Duration(len(w.Channels[0])) * time.Second / time.Duration(w.Rate)
	}
	for _, m := range sup.Modes {
		// A second and a half after the switch for the mode to settle,
		// and the last half second left out: 10 s, which holds a whole
		// sentence of each voice (4 s or less, said every 5 s or less).
		from, to := epochMs(m.From).Add(1500*time.Millisecond), epochMs(m.To).Add(-500*time.Millisecond)
		talk := m.Mode != "listen"
		for _, w := range []struct {
			who   string
			wav   string
			start time.Time
			hears map[string]bool
		}{
			{"the supervisor", supervisorHeard, epochMs(sup.Start), map[string]bool{"caller": true, "agent": true, "supervisor": false}},
			{"the agent", agentHeard, epochMs(ag.Start), map[string]bool{"caller": true, "supervisor": talk}},
			{"the caller (baresip)", callerHeard, answered.At, map[string]bool{"agent": true, "supervisor": m.Mode == "barge"}},
			{"the recording of what the caller heard", recHeard, answered.At, map[string]bool{"agent": true, "supervisor": m.Mode == "barge"}},
			{"the recording of the caller", recCaller, answered.At, map[string]bool{"caller": true, "supervisor": false}},
		} {
			if end := w.start.Add(lengths[w.wav]); end.Before(to) {
				t.Errorf("%s: what %s heard ends %v before the end of the mode's window", m.Mode, w.who, to.Sub(end))
				continue
			}
			for voice, want := range w.hears {
				x := bandEnvelope(t, w.wav, bands[voice], from.Sub(w.start), to.Sub(w.start))
				r := match(refs[voice], x)
				t.Logf("%s: %s, %s's band: the %s's sentence matches %.2f", m.Mode, w.who, voice, voice, r)
				switch {
				case want && r < 0.7:
					t.Errorf("%s: %s should hear the %s, but their sentence matches only %.2f", m.Mode, w.who, voice, r)
				case !want && r >= 0.55:
					t.Errorf("%s: %s should not hear the %s, but their sentence matches %.2f", m.Mode, w.who, voice, r)
				}
			}
		}
	}

	evs, err := tp.st.CallEvents(t.Context(), id)
	if err != nil {
		t.Fatal(err)
	}
	var steps []string
	for _, e := range evs {
		if strings.HasPrefix(e.Kind, "supervisor.") {
			var d struct{ Mode, Reason string }
			_ = json.Unmarshal(e.Data, &d)
			steps = append(steps, e.Kind+" "+d.Mode+d.Reason)
		}
	}
	if want := "[supervisor.joined listen supervisor.mode whisper supervisor.mode barge supervisor.left left]"; fmt.Sprint(steps) != want {
		t.Errorf("the timeline's supervisor steps: %v, want %s", steps, want)
	}
	audit, err := os.ReadFile(filepath.Join(tp.dir, "audit.log"))
	if err != nil {
		t.Fatal(err)
	}
	for _, action := range []string{`"action":"call.monitor"`, `"action":"call.monitor_mode"`, `"action":"call.monitor_stop"`} {
		if !strings.Contains(string(audit), action) {
			t.Errorf("the audit trail has no %s", action)
		}
	}
}

// floorLive checks that the supervisor's floor showed, without a reload,
// the agent going available (before any call could have refreshed it) and
// the new call waiting, and reports how long after the event each took.
func floorLive(t *testing.T, tp *telephone, seen map[string]float64, agentID int64, callID string, dialled time.Time) {
	t.Helper()
	hist, err := tp.st.AgentStates(t.Context(), agentID)
	if err != nil {
		t.Fatal(err)
	}
	var available time.Time
	away := false
	for _, h := range hist {
		away = away || (h.State == "away" && h.Actor == "supervisor")
		if h.State == "available" && away {
			available = h.At
			break
		}
	}
	if !away {
		t.Errorf("the supervisor's Away button left no change by them in the agent's history: %+v", hist)
	}
	queued := tp.waitEvent(t, callID, time.Second, kind("call.queued"))
	for _, c := range []struct {
		what  string
		key   string
		event time.Time
		by    time.Time // it must show before this (zero: no limit)
	}{
		{"the agent going available", "agent:agent:available", available, dialled},
		{"the new call waiting", "call:" + callID + ":queued", queued.At, time.Time{}},
		{"the queue's count of waiting calls", "queue:support:1", queued.At, time.Time{}},
	} {
		ms, ok := seen[c.key]
		if !ok {
			t.Errorf("the floor never showed %s (%s); it showed %v", c.what, c.key, seen)
			continue
		}
		at := epochMs(ms)
		t.Logf("the floor showed %s %v after the event", c.what, at.Sub(c.event).Round(time.Millisecond))
		if !c.by.IsZero() && at.After(c.by) {
			t.Errorf("the floor showed %s only at %v, after the call was dialled (%v): not from the agent's event",
				c.what, at.Format(time.StampMilli), c.by.Format(time.StampMilli))
		}
	}
}

// waitFile waits until path exists.
func waitFile(t *testing.T, path string, d time.Duration) {
	t.Helper()
	deadline := time.Now().Add(d)
	for time.Now().Before(deadline) {
		if _, err := os.Stat(path); err == nil {
			return
		}
		time.Sleep(100 * time.Millisecond)
	}
	t.Fatalf("no %s after %v", path, d)
}

// trimmed is an envelope without the silence around the words.
func trimmed(e []float64) []float64 {
	lo, hi := 0, len(e)
	for lo < hi && e[lo] < -50 {
		lo++
	}
	for hi > lo && e[hi-1] < -50 {
		hi--
	}
	return e[lo:hi]
}

// angrySays is a complaint, angry in its words.
const angrySays = "I am so frustrated with your terrible service"

// complaintFlow listens for what the caller wants and puts everyone
// through to agents.
const complaintFlow = `
name: complaints
languages: [en]
start: ask
intents:
  complaint:
    en: ["I am so frustrated with your terrible service", "I want to make a complaint", "this is ridiculous"]
steps:
  ask:
    listen:
      prompt: {en: "How can I help?"}
      intents: {complaint: queue}
      timeout: 8s
      no_input: queue
      no_match: queue
  queue:
    queue: {name: support, skills: [language]}
`

// transcriptAgentSays is what the agent says in the transcript test, and
// a phrase the server is told agents say (asr.phrases).
const transcriptAgentSays = "let me check your account for you"

// TestAngryCallerAlertsTheFloor: baresip calls and says, in espeak-ng
// English, that the caller is frustrated with the service. PocketSphinx
// hears it, the IVR finds the words angry, and the alert reaches the
// supervisor's page in Chromium, which says who and what, as it reaches
// the alerts webhook; the call's row shows the caller angry. The agent (a
// second Chromium page) takes the call, and with live transcripts on
// (asr.agent_calls) the supervisor opens the call's transcript: what the
// caller told the IVR, then, as they are said, the caller's and the
// agent's words, each recognised by PocketSphinx from that side's audio.
func TestAngryCallerAlertsTheFloor(t *testing.T) {
	testenv.NeedPeers(t, "baresip, espeak-ng, sox, Chromium and a network namespace")
	needEmbeddedEngine(t)
	if testenv.InNetns(t, 4*time.Minute, "SAMBUNG_TEST_BINARY="+binary) {
		return
	}
	hooks := make(chan []byte, 16)
	hook := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		hooks <- b
	}))
	defer hook.Close()
	tp := startLine(t, complaintFlow, "--alerts.webhook", hook.URL, "--asr.agent_calls", "--asr.phrases", transcriptAgentSays)
	dir := t.TempDir()
	ready, done := filepath.Join(dir, "floor-ready"), filepath.Join(dir, "transcript-read")
	base := strings.TrimSuffix(tp.url, "/")
	supervisor, agent := make(chan int, 1), make(chan int, 1)
	go func() {
		supervisor <- testenv.BrowserScript(t, "../../web/e2e", "supervisor.mjs", "supervisor-sees-an-alert",
			"SAMBUNG_URL="+base, "SAMBUNG_SUPERVISOR_NAME=supervisor",
			"SAMBUNG_SUPERVISOR_PASSWORD="+tp.logins["supervisor"], "SAMBUNG_SUPERVISOR_WAV="+microphone(t, supervisorSays),
			"SAMBUNG_READY_FILE="+ready, "SAMBUNG_DONE_FILE="+done, "SAMBUNG_WAIT_ALERT=angry_caller",
			`SAMBUNG_TRANSCRIPT={"caller": "frustrated", "agent": "check your account"}`, "SAMBUNG_CALL_TIMEOUT_MS=90000")
	}()
	waitFile(t, ready, 60*time.Second)
	go func() {
		agent <- testenv.BrowserScript(t, "../../web/e2e", "agent.mjs", "agent-is-transcribed",
			"SAMBUNG_URL="+base, "SAMBUNG_AGENT_NAME=agent", "SAMBUNG_AGENT_PASSWORD="+tp.logins["agent"],
			"SAMBUNG_AGENT_WAV="+microphone(t, transcriptAgentSays), "SAMBUNG_DISPOSITION=resolved",
			"SAMBUNG_RING_TIMEOUT_MS=90000", "SAMBUNG_TALK_MS=120000", "SAMBUNG_TALK_UNTIL_FILE="+done,
			"SAMBUNG_TRANSFER_CHECK=0", "SAMBUNG_E2E_TIMEOUT_MS=200000")
	}()
	tp.waitAgentState(t, tp.userID(t, "agent"), "available", 60*time.Second)

	b := testenv.StartBaresip(t, testenv.BaresipCall{Mic: callerSaying(t, angrySays), Dial: "sip:support@" + tp.sip, User: "ayu", Quit: 150 * time.Second})
	b.WaitOutput("Call established", 15*time.Second)
	id := tp.lastCall(t)
	tp.waitEvent(t, id, 60*time.Second, func(e store.CallEvent) bool {
		return e.Kind == "ivr.heard" && strings.Contains(string(e.Data), `"angry":true`)
	})
	select {
	case body := <-hooks:
		var a struct{ Kind, CallID, Text string }
		_ = json.Unmarshal(body, &a)
		if a.Kind != "angry_caller" || !strings.Contains(string(body), `"call_id":"`+id+`"`) || !strings.Contains(a.Text, "frustrated") {
			t.Errorf("the webhook got %s", body)
		}
	case <-time.After(10 * time.Second):
		t.Error("the alerts webhook got nothing")
	}
	if s, a := <-supervisor, <-agent; !t.Failed() && (s < 10 || a < 8) {
		t.Errorf("the browsers stopped early: %d supervisor checks, %d agent checks passed", s, a)
	}
	b.Quit()
	b.Wait(15 * time.Second)

	// The timeline holds each side's lines, as QA will read them.
	evs, err := tp.st.CallEvents(t.Context(), id)
	if err != nil {
		t.Fatal(err)
	}
	said := map[string][]string{}
	for _, e := range evs {
		if e.Kind == "transcript" {
			var l struct{ Speaker, Text string }
			_ = json.Unmarshal(e.Data, &l)
			said[l.Speaker] = append(said[l.Speaker], l.Text)
		}
	}
	t.Logf("the transcript: caller %q; agent %q", said["caller"], said["agent"])
	for speaker, want := range map[string]string{"caller": strings.ToLower(angrySays), "agent": transcriptAgentSays} {
		if !slices.Contains(said[speaker], want) {
			t.Errorf("the %s's lines %q do not include %q", speaker, said[speaker], want)
		}
	}
	for _, text := range said["agent"] {
		if strings.Contains(text, "frustrated") {
			t.Errorf("the caller's words are among the agent's lines: %q", text)
		}
	}

	// QA finds the call by its intent and reviews it: the recording plays
	// beside its transcript.
	tp.waitEvent(t, id, 30*time.Second, kind("recording.finished"))
	if passed := testenv.BrowserScript(t, "../../web/e2e", "qa.mjs", "qa-reviews-the-call",
		"SAMBUNG_URL="+base, "SAMBUNG_QA_NAME=qa", "SAMBUNG_QA_PASSWORD="+tp.logins["qa"],
		"SAMBUNG_INTENT=complaint", "SAMBUNG_CALL_ID="+id); !t.Failed() && passed < 10 {
		t.Errorf("the QA page stopped early: %d checks passed", passed)
	}
	scored, err := tp.st.Evaluations(t.Context(), store.EvaluationFilter{CallID: id})
	if err != nil || len(scored) != 1 || scored[0].AgentID != tp.userID(t, "agent") {
		t.Fatalf("the evaluations stored: %+v %v", scored, err)
	}
	// The agent sees the score QA gave them, and QA's comment.
	if passed := testenv.BrowserScript(t, "../../web/e2e", "qa.mjs", "agent-reads-the-review",
		"SAMBUNG_URL="+base, "SAMBUNG_QA_NAME=agent", "SAMBUNG_QA_PASSWORD="+tp.logins["agent"], "SAMBUNG_ROLE=agent",
		"SAMBUNG_CALL_ID="+id, fmt.Sprintf("SAMBUNG_EXPECT_SCORE=%d", int(math.Round(scored[0].Score)))); !t.Failed() && passed < 6 {
		t.Errorf("the agent's QA page stopped early: %d checks passed", passed)
	}
}
