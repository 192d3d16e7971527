package main

import (
	"context"
	"encoding/json"
	"math"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/sambung/sambung/internal/testenv"
	"github.com/sambung/sambung/store"
)

const (
	callerSays = "I want to speak to someone about my bill"
	agentSays  = "Hello, this is Ayu from the billing team. How can I help you today?"
)

// TestAgentTakesAQueuedCall is the moment the product exists for, end to
// end with real peers: baresip calls the demo line as Ayu (a VIP) and says
// in espeak-ng English that she wants to speak to someone about her bill.
// PocketSphinx hears it, the IVR queues the call with intent billing and
// language en, and the demo agent, signed in to the agent page in headless
// Chromium (its microphone another espeak-ng sentence), sees the ring with
// the intent, language and transcript, answers, and talks. Audio flows
// both ways: what baresip heard has the agent's sentence, and the server's
// stereo recording has the caller on the left and the agent on the right.
// The agent hangs up, picks a disposition, and the call record has it.
//
// Mid-call the page's WebSocket is cut at both ends, as a network blip
// would: the page reconnects, the call and its audio carry on untouched
// (the browser's media never depended on the socket), and the hang-up goes
// over the new socket. Before hanging up the agent tries a transfer to
// nobody, and the page shows the server's reason.
//
// The server, baresip and Chromium run in a network namespace of their
// own with only loopback (Chromium's ICE needs it; see testenv.InNetns).
func TestAgentTakesAQueuedCall(t *testing.T) {
	testenv.NeedPeers(t, "baresip, espeak-ng, sox, Chromium and a network namespace")
	needEmbeddedEngine(t)
	if testenv.InNetns(t, 4*time.Minute, "SAMBUNG_TEST_BINARY="+binary) {
		return
	}
	callerMic := callerMicrophone(t)
	agentMic := agentMicrophone(t)

	tp := startTelephone(t)
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("server log:\n%s", tp.stderr.String())
		}
	})
	agentID := tp.userID(t, "agent")

	// The agent signs in and waits; the call comes once they are available.
	browser := make(chan int, 1)
	go func() {
		browser <- testenv.BrowserScript(t, "../../web/e2e", "agent.mjs", "agent-takes-a-call",
			"SAMBUNG_URL="+strings.TrimSuffix(tp.url, "/"),
			"SAMBUNG_AGENT_NAME=agent", "SAMBUNG_AGENT_PASSWORD="+tp.logins["agent"],
			"SAMBUNG_AGENT_WAV="+agentMic,
			`SAMBUNG_EXPECT={"intent":"billing","language":"en","transcript":"bill","tier":"vip"}`,
			"SAMBUNG_DISPOSITION=resolved", "SAMBUNG_RING_TIMEOUT_MS=90000", "SAMBUNG_TALK_MS=10000",
			"SAMBUNG_DROP_SOCKET=1")
	}()
	tp.waitAgentState(t, agentID, "available", 60*time.Second)

	b := testenv.StartBaresip(t, testenv.BaresipCall{Mic: callerMic, Dial: "sip:demo@" + tp.sip, User: "ayu", Quit: 150 * time.Second})
	b.WaitOutput("Call established", 15*time.Second)
	id := tp.lastCall(t)
	queued := tp.waitEvent(t, id, 60*time.Second, kind("call.queued"))
	connected := tp.waitEvent(t, id, 60*time.Second, kind("agent.connected"))
	// Chromium offers Opus and PCMU; for a caller on the phone the server
	// takes PCMU, the caller's codec: no transcoding.
	if want := `"codec":"PCMU"`; !strings.Contains(string(connected.Data), want) {
		t.Errorf("agent.connected %s, want %s", connected.Data, want)
	}
	tp.waitEvent(t, id, 60*time.Second, kind("call.ended"))
	b.WaitOutput("terminated", 15*time.Second)
	b.Quit()
	b.Wait(15 * time.Second)
	if passed := <-browser; !t.Failed() && passed < 19 {
		t.Errorf("only %d browser checks ran; the script stopped early", passed)
	}
	// The socket's drop did not touch the call: the agent's media stayed
	// up, and the agent (over the new socket) ended it.
	evs, err := tp.st.CallEvents(context.Background(), id)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range evs {
		if e.Kind == "agent.media_lost" || e.Kind == "agent.reconnected" {
			t.Errorf("the socket's drop reached the call's media: %s %s", e.Kind, e.Data)
		}
		if e.Kind == "agent.ended" && !strings.Contains(string(e.Data), `"agent_hangup"`) {
			t.Errorf("the agent's part ended with %s, want agent_hangup", e.Data)
		}
	}

	var q struct {
		Queue   string   `json:"queue"`
		Skills  []string `json:"skills"`
		Contact struct {
			Intent struct {
				Name string `json:"name"`
			} `json:"intent"`
			Language struct {
				Code string `json:"code"`
			} `json:"language"`
			Tier string `json:"tier"`
		} `json:"contact"`
	}
	_ = json.Unmarshal(queued.Data, &q)
	if q.Contact.Intent.Name != "billing" || q.Contact.Language.Code != "en" || q.Contact.Tier != "vip" {
		t.Errorf("queued with %s", queued.Data)
	}

	// The wrap-up is on the call record.
	deadline := time.Now().Add(30 * time.Second)
	var c store.Call
	for time.Now().Before(deadline) {
		var err error
		if c, err = tp.st.CallByID(context.Background(), id); err == nil && c.Disposition != "" {
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	if c.Disposition != "resolved" || c.AgentID != agentID || c.Contact == nil {
		t.Errorf("call record: disposition %q agent %d contact %s", c.Disposition, c.AgentID, c.Contact)
	}

	// What the caller heard, after the agent connected, is the agent's
	// sentence (and not the caller's own: the control).
	answered := tp.waitEvent(t, id, time.Second, kind("call.answered"))
	since := connected.At.Sub(answered.At)
	agentRef := envelopeOf(t, agentMic)
	callerRef := envelopeOf(t, testenv.Speech(t, "en", callerSays, 0))
	heard := testenv.ReadWAV(t, b.Heard())
	afterConnect := envelope(cut(heard.Channels[0], heard.Rate, since, 0))
	hears(t, "what baresip heard after the agent answered", afterConnect, "the agent's sentence", agentRef, "the caller's", callerRef)

	// The server's recording: the caller on the left, the agent on the right.
	recs, err := tp.st.CallRecordings(context.Background(), id)
	if err != nil || len(recs) != 1 {
		t.Fatalf("recordings: %v %v", recs, err)
	}
	rec := testenv.ReadWAV(t, filepath.Join(tp.dir, "recordings", recs[0].Path))
	left := envelope(rec.Channels[0])
	right := envelope(cut(rec.Channels[1], rec.Rate, since, 0))
	hears(t, "the recording's left channel", left, "the caller's sentence", callerRef, "the agent's", agentRef)
	hears(t, "the recording's right channel after the answer", right, "the agent's sentence", agentRef, "the caller's", callerRef)
}

// callerMicrophone is the caller's side: the sentence once, 9 s in (the
// menu is playing: it barges in), then again every few seconds, so that
// there is speech for the agent to hear once they answer.
func callerMicrophone(t *testing.T) string {
	t.Helper()
	return callerSaying(t, callerSays)
}

// callerSaying is a caller's microphone that says text after the demo's
// greeting, and again and again (a reprompt may come first).
func callerSaying(t *testing.T, text string) string {
	t.Helper()
	sox := testenv.LookPath(t, "sox", "Debian package sox")
	first := testenv.SpeechAfter(t, "en", text, 9*time.Second, 8*time.Second)
	again := testenv.Speech(t, "en", text, 2*time.Second)
	args := []string{first}
	for range 15 {
		args = append(args, again)
	}
	out := filepath.Join(t.TempDir(), "caller.wav")
	if b, err := exec.Command(sox, append(args, out)...).CombinedOutput(); err != nil {
		t.Fatalf("sox: %v\n%s", err, b)
	}
	return out
}

// agentMicrophone is the agent's sentence as Chromium's fake microphone
// plays it.
func agentMicrophone(t *testing.T) string {
	t.Helper()
	return microphone(t, agentSays)
}

// microphone is text said in English as a WAV for Chromium's fake
// microphone (which loops it), with a second of silence after it.
func microphone(t *testing.T, text string) string {
	t.Helper()
	sox := testenv.LookPath(t, "sox", "Debian package sox")
	src := testenv.Speech(t, "en", text, time.Second)
	out := filepath.Join(t.TempDir(), "microphone.wav")
	if b, err := exec.Command(sox, "-R", src, "-r", "48000", out).CombinedOutput(); err != nil {
		t.Fatalf("sox: %v\n%s", err, b)
	}
	return out
}

func (tp *telephone) userID(t *testing.T, name string) int64 {
	t.Helper()
	u, err := tp.st.UserByName(context.Background(), name)
	if err != nil {
		t.Fatal(err)
	}
	return u.ID
}

// waitAgentState polls the agent's state in the store.
func (tp *telephone) waitAgentState(t *testing.T, id int64, state string, timeout time.Duration) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	var last string
	for time.Now().Before(deadline) {
		if a, err := tp.st.AgentByID(context.Background(), id); err == nil {
			if last = a.State; last == state {
				return
			}
		}
		time.Sleep(100 * time.Millisecond)
	}
	t.Fatalf("the agent is %q after %s, want %q", last, timeout, state)
}

// The speech comparison: a sentence is known by its loudness contour, 20
// ms by 20 ms. match slides a reference's contour along a recording's and
// returns the best correlation (1 is the same shape). It survives G.711,
// resampling and level changes, and tells one sentence from another.

// envelopeOf is the contour of a WAV file's speech, silence trimmed.
func envelopeOf(t *testing.T, path string) []float64 {
	t.Helper()
	a := testenv.ReadWAV(t, path)
	return trimmed(envelope(resample8k(a.Channels[0], a.Rate)))
}

// envelope is the level of each 20 ms of 8 kHz audio, in dB, floored at
// -60.
func envelope(s []int16) []float64 {
	const n = 160
	var out []float64
	for i := 0; i+n <= len(s); i += n {
		var sum float64
		for _, v := range s[i : i+n] {
			sum += float64(v) * float64(v)
		}
		out = append(out, max(10*math.Log10(sum/n/(32768*32768)+1e-12), -60))
	}
	return out
}

// resample8k takes every rate/8000-th sample (the contour needs no more).
func resample8k(s []int16, rate int) []int16 {
	if rate == 8000 {
		return s
	}
	step := float64(rate) / 8000
	var out []int16
	for f := 0.0; int(f) < len(s); f += step {
		out = append(out, s[int(f)])
	}
	return out
}

// cut is s from from to to (0: the end).
func cut(s []int16, rate int, from, to time.Duration) []int16 {
	i := min(max(int(from.Seconds()*float64(rate)), 0), len(s))
	j := len(s)
	if to > 0 {
		j = min(int(to.Seconds()*float64(rate)), len(s))
	}
	return s[i:j]
}

// hears checks that the envelope x carries the sentence want rather than
// other, the control: want must match 0.7 or better, and 0.15 above other.
// where, wantName and otherName say what they are.
func hears(t *testing.T, where string, x []float64, wantName string, want []float64, otherName string, other []float64) {
	t.Helper()
	r, ctl := match(want, x), match(other, x)
	t.Logf("%s: %s matches %.2f, %s %.2f", where, wantName, r, otherName, ctl)
	if r < 0.7 || r < ctl+0.15 {
		t.Errorf("%s: %s matches only %.2f (%s, the control: %.2f)", where, wantName, r, otherName, ctl)
	}
}

// match is the best Pearson correlation of ref against any stretch of x of
// its length.
func match(ref, x []float64) float64 {
	best := -1.0
	n := len(ref)
	if n == 0 || len(x) < n {
		return best
	}
	mr, sr := meanStd(ref)
	for off := 0; off+n <= len(x); off++ {
		w := x[off : off+n]
		mw, sw := meanStd(w)
		if sw < 1 || sr == 0 {
			continue // silence or a flat tone: no speech here
		}
		var c float64
		for i := range n {
			c += (ref[i] - mr) * (w[i] - mw)
		}
		best = max(best, c/(float64(n)*sr*sw))
	}
	return best
}

func meanStd(v []float64) (float64, float64) {
	var m float64
	for _, x := range v {
		m += x
	}
	m /= float64(len(v))
	var s float64
	for _, x := range v {
		s += (x - m) * (x - m)
	}
	return m, math.Sqrt(s / float64(len(v)))
}
