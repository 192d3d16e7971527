package calls

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/sambung/sambung/agents"
	"github.com/sambung/sambung/media"
	"github.com/sambung/sambung/media/webrtc"
	"github.com/sambung/sambung/store"
)

// monitoring steps supervisor u into callID in mode from a browser that
// says a tone at freq; heard gives what the supervisor hears.
func monitoring(t *testing.T, d *Desk, u store.User, callID, mode string, freq float64) (heard func(time.Duration) []int16, leg *webrtc.Leg) {
	t.Helper()
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	browser, sdp, err := webrtc.Offer(context.Background(), webrtc.Config{LoopbackOnly: true}, log)
	if err != nil {
		t.Fatal(err)
	}
	answer, err := d.Monitor(context.Background(), u, callID, mode, sdp)
	if err != nil {
		_ = browser.Close()
		t.Fatalf("Monitor %s: %v", mode, err)
	}
	if err := browser.Accept(answer); err != nil {
		t.Fatal(err)
	}
	return talking(t, browser, freq), browser
}

// TestSupervisorListensWhispersBarges: with a caller (440 Hz) talking to
// an agent (1 kHz), a supervisor (600 Hz) listens (hears both, heard by
// neither), whispers (the agent hears them, the caller does not), barges
// (both do), and leaves; the call goes on untouched, and each step is on
// the call's timeline. The agent's page is told when the supervisor can
// be heard.
func TestSupervisorListensWhispersBarges(t *testing.T) {
	fl := newFloor(t, "ana")
	f := fl.f
	sup, err := f.st.CreateUser(context.Background(), store.User{Name: "sari", Role: store.RoleSupervisor, PasswordHash: "x"})
	if err != nil {
		t.Fatal(err)
	}
	d := f.sb.Desk()
	pa, _ := fl.open(t, "ana", []string{"language:en"}, true)
	f.caller.Play(media.NewTone(media.ToneSpec{Freqs: []float64{440}, Level: -12}))
	callID := pa.next("offer", 15*time.Second)["call_id"].(string)

	if _, err := d.Monitor(context.Background(), sup, callID, "listen", "v=0"); !errors.Is(err, ErrNoAgent) {
		t.Errorf("monitoring a call that only rings: %v, want ErrNoAgent", err)
	}
	agentHeard := speakingBrowser(t, pa, callID, 1000)
	pa.next("call.connected", 10*time.Second)

	for _, bad := range []struct {
		call, mode string
		want       error
	}{{"c-nope", "listen", ErrNoSuchCall}, {callID, "shout", ErrBadMode}} {
		if _, err := d.Monitor(context.Background(), sup, bad.call, bad.mode, "v=0"); !errors.Is(err, bad.want) {
			t.Errorf("Monitor(%s, %s) = %v, want %v", bad.call, bad.mode, err, bad.want)
		}
	}
	if err := d.MonitorMode(context.Background(), sup, callID, "barge"); !errors.Is(err, ErrNotOnCall) {
		t.Errorf("MonitorMode before joining: %v, want ErrNotOnCall", err)
	}

	supHeard, supLeg := monitoring(t, d, sup, callID, "listen", 600)
	check := func(step string, caller600, agent600 bool) {
		t.Helper()
		s := supHeard(time.Second)
		if toneDB(s, 440) < -30 || toneDB(s, 1000) < -30 || toneDB(s, 600) > -45 {
			t.Errorf("%s: the supervisor hears the caller at %.1f dBFS, the agent at %.1f, themselves at %.1f",
				step, toneDB(s, 440), toneDB(s, 1000), toneDB(s, 600))
		}
		c := f.hearsNow()
		if toneDB(c, 1000) < -30 || (toneDB(c, 600) > -30) != caller600 || (!caller600 && toneDB(c, 600) > -45) {
			t.Errorf("%s: the caller hears the agent at %.1f dBFS and the supervisor at %.1f; should hear the supervisor: %v",
				step, toneDB(c, 1000), toneDB(c, 600), caller600)
		}
		a := agentHeard(time.Second)
		if toneDB(a, 440) < -30 || (toneDB(a, 600) > -30) != agent600 || (!agent600 && toneDB(a, 600) > -45) {
			t.Errorf("%s: the agent hears the caller at %.1f dBFS and the supervisor at %.1f; should hear the supervisor: %v",
				step, toneDB(a, 440), toneDB(a, 600), agent600)
		}
	}
	time.Sleep(500 * time.Millisecond)
	check("listen", false, false)
	if lc := d.LiveCalls(context.Background()); len(lc) != 1 || lc[0].ID != callID || lc[0].Agent != "ana" || lc[0].State != "talking" ||
		lc[0].Tier != "vip" || len(lc[0].Monitors) != 1 || lc[0].Monitors[0] != (LiveMonitor{Supervisor: "sari", Mode: "listen"}) {
		t.Errorf("the floor's live calls: %+v", lc)
	}
	fv, err := d.Floor(context.Background())
	if err != nil || len(fv.Queues) != 2 || fv.Queues[0].Name != "support" || fv.Queues[0].AnsweredToday != 1 || fv.Queues[0].Waiting != 0 ||
		len(fv.Agents) != 1 || fv.Agents[0].Name != "ana" || fv.Agents[0].State != "on_call" || fv.Agents[0].HandledToday != 1 ||
		fv.Agents[0].CallID != callID || len(fv.Calls) != 1 {
		t.Errorf("the floor: %+v, %v", fv, err)
	}
	f.waitEvent("supervisor.joined", time.Second)

	if err := d.MonitorMode(context.Background(), sup, callID, "whisper"); err != nil {
		t.Fatal(err)
	}
	if m := pa.next("supervisor", time.Second); m["mode"] != "whisper" || m["supervisor"] != "sari" {
		t.Errorf("the agent's page was told %v, want sari whispering", m)
	}
	check("whisper", false, true)

	if err := d.MonitorMode(context.Background(), sup, callID, "barge"); err != nil {
		t.Fatal(err)
	}
	pa.next("supervisor", time.Second)
	check("barge", true, true)

	if err := d.StopMonitor(context.Background(), sup, callID); err != nil {
		t.Fatal(err)
	}
	if m := pa.next("supervisor", time.Second); m["mode"] != "" {
		t.Errorf("after the supervisor left the agent's page was told %v", m)
	}
	select {
	case <-supLeg.Done():
	case <-time.After(10 * time.Second):
		t.Error("the supervisor's leg still runs after they left")
	}
	if c := f.hearsNow(); toneDB(c, 1000) < -30 || toneDB(c, 600) > -45 {
		t.Errorf("after the supervisor left the caller hears the agent at %.1f dBFS and the supervisor at %.1f",
			toneDB(c, 1000), toneDB(c, 600))
	}
	for _, k := range []string{"supervisor.mode", "supervisor.left"} {
		f.waitEvent(k, time.Second)
	}

	// A supervisor still on the call when the agent hangs up is taken off.
	// Once both ends are up (the supervisor hears the call), the browser
	// learns of the end over DTLS.
	supHeard, supLeg = monitoring(t, d, sup, callID, "listen", 600)
	if s := supHeard(time.Second); toneDB(s, 440) < -30 {
		t.Fatalf("the supervisor, back, does not hear the caller: 440 Hz at %.1f dBFS", toneDB(s, 440))
	}
	pa.send(map[string]any{"type": "hangup", "call_id": callID})
	pa.next("call.ended", 5*time.Second)
	select {
	case <-supLeg.Done():
	case <-time.After(10 * time.Second):
		t.Error("the supervisor's leg outlived the agent's part of the call")
	}
}

// TestSupervisorActions: a supervisor moves a waiting call to another
// queue and then to one agent, who alone is rung for it; sets an agent
// away with a reason; and signs an agent out: offline, their page told who
// did it and ended.
func TestSupervisorActions(t *testing.T) {
	fl := newFloor(t, "ana", "budi")
	f, d := fl.f, fl.f.sb.Desk()
	sup := store.User{ID: 999, Name: "sari", Role: store.RoleSupervisor}
	pa, _ := fl.open(t, "ana", []string{"language:en"}, false) // could take it, but is not available
	pb, _ := fl.open(t, "budi", nil, true)                     // holds none of its skills
	callID := f.waitEvent("call.queued", 10*time.Second).CallID

	if err := d.MoveCall(context.Background(), sup, callID, "billing", ""); err != nil {
		t.Fatal(err)
	}
	moved := f.waitEvent("queue.moved", 2*time.Second)
	if !strings.Contains(string(moved.Data), `"queue":"billing"`) || !strings.Contains(string(moved.Data), `"by":"sari"`) {
		t.Errorf("queue.moved %s", moved.Data)
	}
	if lc := d.LiveCalls(context.Background()); len(lc) != 1 || lc[0].Queue != "billing" || lc[0].State != "queued" {
		t.Errorf("the floor after the move: %+v", lc)
	}
	if err := d.MoveCall(context.Background(), sup, callID, "", "budi"); err != nil {
		t.Fatal(err)
	}
	offer := pb.next("offer", 10*time.Second)
	if offer["call_id"] != callID {
		t.Errorf("budi's offer %v, want call %s", offer, callID)
	}
	if err := d.MoveCall(context.Background(), sup, callID, "support", ""); !errors.Is(err, agents.ErrNotWaiting) {
		t.Errorf("moving a call that rings an agent: %v, want ErrNotWaiting", err)
	}
	pb.send(map[string]any{"type": "decline", "call_id": callID})

	if err := d.SetAgentState(context.Background(), sup, fl.users["ana"].ID, "away", "meeting"); err != nil {
		t.Fatal(err)
	}
	if st := pa.next("agent.state", 2*time.Second); st["state"] != "away" || st["reason"] != "meeting" {
		t.Errorf("ana's page was told %v, want away (meeting)", st)
	}
	if err := d.SetAgentState(context.Background(), sup, fl.users["ana"].ID, "away", "nap"); err == nil {
		t.Error("set an agent away for a reason that is not one of the away reasons")
	}
	if err := d.LogOut(context.Background(), sup, fl.users["ana"].ID); err != nil {
		t.Fatal(err)
	}
	if m := pa.next("logged_out", 2*time.Second); m["by"] != "sari" {
		t.Errorf("ana's page was told %v", m)
	}
	if s := fl.state(t, "ana"); s != agents.StateOffline {
		t.Errorf("ana after being signed out is %s, want offline", s)
	}
	select {
	case _, ok := <-pa.s.Out():
		for ok {
			_, ok = <-pa.s.Out()
		}
	case <-time.After(2 * time.Second):
		t.Error("ana's desk page goes on after she was signed out")
	}
}

// TestHeatMap: calls that went to agents or were abandoned, counted by
// the intent the IVR understood (none without one) and the hour they
// queued; the intents most called about first.
func TestHeatMap(t *testing.T) {
	day := time.Date(2026, 12, 7, 0, 0, 0, 0, time.UTC)
	at := func(h, m int) time.Time { return day.Add(time.Duration(h)*time.Hour + time.Duration(m)*time.Minute) }
	billing := json.RawMessage(`{"intent":{"name":"billing","confidence":0.9}}`)
	outs := []store.QueueOutcome{
		{CallID: "a", EnteredAt: at(9, 5), Status: store.EntryAnswered, Contact: billing},
		{CallID: "b", EnteredAt: at(9, 55), Status: store.EntryAbandoned, Contact: billing},
		{CallID: "c", EnteredAt: at(14, 0), Status: store.EntryAnswered, Contact: billing},
		{CallID: "d", EnteredAt: at(9, 30), Status: store.EntryAnswered, Contact: json.RawMessage(`{"intent":{"name":"refund"}}`)},
		{CallID: "e", EnteredAt: at(22, 10), Status: store.EntryAbandoned}, // no contact stored
		{CallID: "f", EnteredAt: at(22, 11), Status: store.EntryAnswered, Contact: json.RawMessage(`{"intent":{"name":""}}`)},
	}
	hm := heatMap(outs, day, time.UTC)
	if want := []string{"billing", "none", "refund"}; !slices.Equal(hm.Intents, want) {
		t.Errorf("intents %v, want %v", hm.Intents, want)
	}
	want := []HeatCell{{"billing", 9, 1, 1}, {"billing", 14, 1, 0}, {"none", 22, 1, 1}, {"refund", 9, 1, 0}}
	if !slices.Equal(hm.Cells, want) {
		t.Errorf("cells %+v, want %+v", hm.Cells, want)
	}
	// The hours are the server's: in Jakarta, 09:05 UTC is 16:05.
	if hm := heatMap(outs[:1], day, time.FixedZone("WIB", 7*3600)); len(hm.Cells) != 1 || hm.Cells[0].Hour != 16 {
		t.Errorf("in Jakarta: %+v", hm.Cells)
	}
}

// TestDayHours: today's queued calls by hour, answered within their own
// queue's service level or not, and abandoned.
func TestDayHours(t *testing.T) {
	day := time.Date(2026, 12, 7, 0, 0, 0, 0, time.UTC)
	at := func(h int) time.Time { return day.Add(time.Duration(h)*time.Hour + 5*time.Minute) }
	outs := []store.QueueOutcome{
		{Queue: "support", EnteredAt: at(9), Status: store.EntryAnswered, Waited: 10 * time.Second},
		{Queue: "support", EnteredAt: at(9), Status: store.EntryAnswered, Waited: 30 * time.Second}, // late
		{Queue: "billing", EnteredAt: at(9), Status: store.EntryAnswered, Waited: 50 * time.Second}, // in time there
		{Queue: "support", EnteredAt: at(9), Status: store.EntryAbandoned, Waited: 40 * time.Second},
		{Queue: "other", EnteredAt: at(23), Status: store.EntryAnswered, Waited: time.Hour}, // no service level
	}
	hs := dayHours(outs, map[string]time.Duration{"support": 20 * time.Second, "billing": time.Minute}, time.UTC)
	if len(hs) != 24 || hs[9] != (DayHour{9, 3, 2, 1}) || hs[23] != (DayHour{23, 1, 1, 0}) || hs[10] != (DayHour{Hour: 10}) {
		t.Errorf("hours 9, 10, 23: %+v %+v %+v", hs[9], hs[10], hs[23])
	}
}

// TestCodecByCaller: unless the codecs are configured, a browser leg on a
// call from a phone puts PCMU first (the caller's codec: no transcoding),
// and on a call from a web page Opus, when the build has it.
func TestCodecByCaller(t *testing.T) {
	d := &Desk{}
	phone, web := &Call{leg: &fakeLeg{}}, &Call{leg: &webLeg{}}
	want := webrtc.Codecs()
	for _, tc := range []struct {
		c    *Call
		want string
	}{{phone, webrtc.CodecPCMU}, {nil, webrtc.CodecPCMU}, {web, want[0]}} {
		if got := d.rtcFor(tc.c).Codecs; len(got) != len(want) || got[0] != tc.want {
			t.Errorf("codecs %v, want %s first of %v", got, tc.want, want)
		}
	}
	d.cfg.WebRTC.Codecs = []string{"opus"}
	if got := d.rtcFor(phone).Codecs; len(got) != 1 || got[0] != "opus" {
		t.Errorf("configured codecs %v were not kept", got)
	}
}

// TestLiveCallMood: the floor shows how long a call spent in the IVR
// before queueing, and the caller's mood and its trend.
func TestLiveCallMood(t *testing.T) {
	start := time.Now().Add(-time.Minute)
	queued := start.Add(42 * time.Second)
	c := &Call{ID: "c1", leg: &fakeLeg{}, started: start}
	c.contact.Store(&Contact{Queue: "support", QueuedAt: &queued,
		Sentiment: ContactSentiment{Score: -0.6, Angry: true, Trend: []float64{0, -0.3, -0.7}}})
	d := &Desk{calls: map[string]*Call{"c1": c}}
	lc := d.LiveCalls(context.Background())
	if len(lc) != 1 || lc[0].InIVR != 42 || lc[0].State != "queued" || !lc[0].Sentiment.Angry ||
		!slices.Equal(lc[0].Sentiment.Trend, []float64{0, -0.3, -0.7}) || !lc[0].Since.Equal(queued) {
		t.Errorf("live call %+v", lc)
	}
}
