package calls

import (
	"context"
	"io"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/sambung/sambung/agents"
	"github.com/sambung/sambung/media"
	"github.com/sambung/sambung/media/webrtc"
)

// speakingBrowser answers an offer on p with a WebRTC leg that says a tone
// of freq, paced like a microphone, until the test ends; heard gives what
// it heard in the last d.
func speakingBrowser(t *testing.T, p *page, callID string, freq float64) (heard func(d time.Duration) []int16) {
	t.Helper()
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	browser, sdp, err := webrtc.Offer(context.Background(), webrtc.Config{LoopbackOnly: true}, log)
	if err != nil {
		t.Fatal(err)
	}
	p.send(map[string]any{"type": "answer", "call_id": callID, "sdp": sdp})
	ans := p.next("call.sdp", 10*time.Second)
	if err := browser.Accept(ans["sdp"].(string)); err != nil {
		t.Fatal(err)
	}
	return talking(t, browser, freq)
}

// talking makes browser send a tone at freq, once per 20 ms, and keeps
// what it receives; heard returns the last d of it, after waiting d.
func talking(t *testing.T, browser *webrtc.Leg, freq float64) (heard func(d time.Duration) []int16) {
	stop := make(chan struct{})
	done := make(chan struct{})
	var mu sync.Mutex
	var got []int16
	go func() {
		defer close(done)
		tone := media.NewTone(media.ToneSpec{Freqs: []float64{freq}, Level: -12})
		var out, in media.Frame
		tick := time.NewTicker(media.FrameDuration)
		defer tick.Stop()
		for {
			select {
			case <-stop:
				return
			case <-tick.C:
				tone.ReadFrame(out[:])
				_ = browser.WriteFrame(out[:])
				browser.Playout(in[:])
				mu.Lock()
				got = append(got, in[:]...)
				mu.Unlock()
			}
		}
	}()
	t.Cleanup(func() { close(stop); <-done; _ = browser.Close() })
	return func(d time.Duration) []int16 {
		time.Sleep(d)
		mu.Lock()
		defer mu.Unlock()
		n := int(d / time.Second * media.Rate)
		return slices.Clone(got[max(0, len(got)-n):])
	}
}

// TestDeskTransfersACall: an agent on a call transfers it to another agent
// by name. The caller is told, waits, and rings the second agent with the
// same contact context and the transfer on it; the first agent goes to
// wrap-up; the second answers and the caller hears them. Transfers to
// nowhere, to oneself, to an unknown queue or to an offline agent are
// refused with a reason and change nothing.
func TestDeskTransfersACall(t *testing.T) {
	fl := newFloor(t, "ana", "budi", "cici")
	f, acd, ana := fl.f, fl.acd, fl.users["ana"]
	open := func(name string, skills []string, available bool) *page {
		t.Helper()
		p, hello := fl.open(t, name, skills, available)
		if q := hello["queues"].([]any); len(q) != 2 {
			t.Errorf("hello lists queues %v, want support and billing", q)
		}
		return p
	}
	// Budi has no language skill: a transfer to him by name is his alone.
	pa := open("ana", []string{"language:en"}, true)
	pb := open("budi", nil, false)
	open("cici", []string{"language:en"}, false) // offline

	offer := pa.next("offer", 15*time.Second)
	callID := offer["call_id"].(string)
	speakingBrowser(t, pa, callID, 1000)
	pa.next("call.connected", 10*time.Second)

	for _, bad := range []map[string]any{
		{},
		{"agent": "ana"},
		{"queue": "nowhere"},
		{"agent": "cici"},
		{"agent": "nobody"},
		{"agent": "budi", "queue": "billing"},
	} {
		m := map[string]any{"type": "transfer", "call_id": callID}
		for k, v := range bad {
			m[k] = v
		}
		pa.send(m)
		if e := pa.next("error", time.Second); e["message"] == "" {
			t.Errorf("transfer %v: error without a message", bad)
		}
	}

	pb.available()
	pa.send(map[string]any{"type": "transfer", "call_id": callID, "agent": "budi"})
	if ended := pa.next("call.ended", 5*time.Second); ended["reason"] != "transferred" {
		t.Errorf("the first agent's call.ended: %v", ended)
	}
	if ag, _ := acd.Agent(context.Background(), ana.ID); ag.State != agents.StateWrapUp {
		t.Errorf("after the transfer the first agent is %s, want wrap_up", ag.State)
	}
	second := pb.next("offer", 15*time.Second)
	contact := second["contact"].(map[string]any)
	trs, _ := contact["transfers"].([]any)
	if second["call_id"] != callID || contact["tier"] != "vip" || len(trs) != 1 ||
		trs[0].(map[string]any)["from"] != "ana" || trs[0].(map[string]any)["to_agent"] != "budi" {
		t.Errorf("the second agent's offer: %v", second)
	}
	speakingBrowser(t, pb, callID, 600)
	pb.next("call.connected", 10*time.Second)
	time.Sleep(500 * time.Millisecond)
	f.drain()
	heard := f.heard(time.Second)
	if lvl := toneDB(heard, 600); lvl < -30 {
		t.Errorf("after the transfer the caller does not hear the second agent: 600 Hz at %.1f dBFS", lvl)
	}
	if lvl := toneDB(heard, 1000); lvl > -45 {
		t.Errorf("after the transfer the caller still hears the first agent: 1 kHz at %.1f dBFS", lvl)
	}

	// The first agent's late hang-up does not end the second agent's call.
	pa.send(map[string]any{"type": "hangup", "call_id": callID})
	pa.next("error", time.Second)
	pb.send(map[string]any{"type": "hangup", "call_id": callID})
	if ended := pb.next("call.ended", 5*time.Second); ended["reason"] != "agent_hangup" {
		t.Errorf("the second agent's call.ended: %v", ended)
	}
	select {
	case <-f.ended:
	case <-time.After(10 * time.Second):
		t.Fatal("the call did not end after the second agent hung up")
	}
	f.waitEvent("agent.transferred", time.Second)
	evs, err := f.st.CallEvents(context.Background(), callID)
	if err != nil {
		t.Fatal(err)
	}
	told, queued := false, 0
	for _, e := range evs {
		told = told || e.Kind == "queue.said" && strings.Contains(string(e.Data), "transfer your call")
		if e.Kind == "call.queued" {
			queued++
		}
	}
	if !told || queued != 2 {
		t.Errorf("the caller was told of the transfer: %v; queued %d times, want 2", told, queued)
	}
}

// TestDeskTransfersToANumber: an agent sends the call out to a number. The
// number is dialled and the caller put through (each hears the other),
// the agent wraps up, and when the number hangs up the call ends. A number
// that does not answer sends the caller back to the queue, told so.
func TestDeskTransfersToANumber(t *testing.T) {
	r := newDeskRig(t, agents.QueueConfig{Name: "support"}, 600)
	f, dialer, outside := r.f, r.dialer, r.callee
	dialer.fail = ErrNoAnswer
	p := r.page(t)
	f.caller.Play(media.NewTone(media.ToneSpec{Freqs: []float64{440}, Level: -12}))

	// The first time the number does not answer: back to the queue.
	p.send(map[string]any{"type": "state", "state": "available"})
	callID := p.next("offer", 10*time.Second)["call_id"].(string)
	speakingBrowser(t, p, callID, 1000)
	p.next("call.connected", 10*time.Second)
	p.send(map[string]any{"type": "transfer", "call_id": callID, "number": "not a number"})
	p.next("error", time.Second)
	p.send(map[string]any{"type": "transfer", "call_id": callID, "number": "+6221555"})
	if ended := p.next("call.ended", 5*time.Second); ended["reason"] != "transferred" {
		t.Errorf("call.ended %v", ended)
	}
	if n := <-dialer.dialled; n != "+6221555" {
		t.Errorf("dialled %q", n)
	}
	f.waitEvent("call.transfer_failed", 10*time.Second)
	p.send(map[string]any{"type": "wrapup", "call_id": callID, "disposition": "escalated"})
	p.next("wrapup.saved", 5*time.Second)

	// The second time it answers.
	dialer.mu.Lock()
	dialer.fail = nil
	dialer.mu.Unlock()
	if again := p.next("offer", 15*time.Second); again["call_id"] != callID {
		t.Fatalf("the call back in the queue: %v", again)
	}
	speakingBrowser(t, p, callID, 1000)
	p.next("call.connected", 10*time.Second)
	heard := outside.Subscribe(200)
	p.send(map[string]any{"type": "transfer", "call_id": callID, "number": "+6221555"})
	p.next("call.ended", 5*time.Second)
	<-dialer.dialled
	f.waitEvent("call.transferred_out", 10*time.Second)
	time.Sleep(time.Second)
	f.drain()
	if lvl := toneDB(f.heard(time.Second), 600); lvl < -30 {
		t.Errorf("the caller does not hear the number: 600 Hz at %.1f dBFS", lvl)
	}
	got := received(heard)
	heard.Unsubscribe()
	if lvl := toneDB(got[max(0, len(got)-media.Rate/2):], 440); lvl < -30 {
		t.Errorf("the number does not hear the caller: 440 Hz at %.1f dBFS", lvl)
	}
	_ = dialer.lastCall().Hangup(context.Background())
	select {
	case <-f.ended:
	case <-time.After(10 * time.Second):
		t.Fatal("the call did not end when the number hung up")
	}
}

// TestDeskConsultsThenTransfers: a warm transfer. The agent consults a
// number: the caller hears hold music, the agent and the number hear each
// other. Going back to the caller ends the consult; a second consult is
// completed: the caller is put through to the number, who hears them,
// and the agent wraps up.
func TestDeskConsultsThenTransfers(t *testing.T) {
	r := newDeskRig(t, agents.QueueConfig{Name: "support"}, 600)
	f, dialer, outside := r.f, r.dialer, r.callee
	p := r.page(t)
	f.caller.Play(media.NewTone(media.ToneSpec{Freqs: []float64{440}, Level: -12}))
	p.send(map[string]any{"type": "state", "state": "available"})
	callID := p.next("offer", 10*time.Second)["call_id"].(string)
	agentHeard := speakingBrowser(t, p, callID, 1000)
	p.next("call.connected", 10*time.Second)
	outsideHeard := outside.Subscribe(400)
	outsideHears := func() []int16 {
		received(outsideHeard)
		time.Sleep(time.Second)
		return received(outsideHeard)
	}
	defer outsideHeard.Unsubscribe()

	p.send(map[string]any{"type": "consult.complete", "call_id": callID})
	p.next("error", time.Second) // no consult yet
	p.send(map[string]any{"type": "consult", "call_id": callID, "number": "+62 21 555"})
	if st := p.next("consult.state", 5*time.Second); st["state"] != "dialling" {
		t.Errorf("consult.state %v", st)
	}
	if n := <-dialer.dialled; n != "+6221555" {
		t.Errorf("dialled %q", n)
	}
	if st := p.next("consult.state", 5*time.Second); st["state"] != "talking" {
		t.Fatalf("consult.state %v", st)
	}
	heard := f.hearsNow()
	if toneDB(heard, 1000) > -45 || toneDB(heard, 600) > -45 || media.DBFS(heard) < -40 {
		t.Errorf("in the consult the caller hears the agent at %.1f dBFS, the number at %.1f, music at %.1f",
			toneDB(heard, 1000), toneDB(heard, 600), media.DBFS(heard))
	}
	if a := agentHeard(time.Second); toneDB(a, 600) < -30 || toneDB(a, 440) > -45 {
		t.Errorf("in the consult the agent hears the number at %.1f dBFS and the caller at %.1f", toneDB(a, 600), toneDB(a, 440))
	}
	if o := outsideHears(); toneDB(o, 1000) < -30 || toneDB(o, 440) > -45 {
		t.Errorf("in the consult the number hears the agent at %.1f dBFS and the caller at %.1f", toneDB(o, 1000), toneDB(o, 440))
	}

	// Back to the caller.
	p.send(map[string]any{"type": "consult.cancel", "call_id": callID})
	if st := p.next("consult.state", 5*time.Second); st["state"] != "ended" || st["reason"] != "cancelled" {
		t.Errorf("consult.state %v", st)
	}
	if heard := f.hearsNow(); toneDB(heard, 1000) < -30 {
		t.Errorf("back from the consult the caller does not hear the agent: 1 kHz at %.1f dBFS", toneDB(heard, 1000))
	}

	// Again, and complete it.
	p.send(map[string]any{"type": "consult", "call_id": callID, "number": "+6221555"})
	<-dialer.dialled
	for st := p.next("consult.state", 5*time.Second); st["state"] != "talking"; st = p.next("consult.state", 5*time.Second) {
	}
	p.send(map[string]any{"type": "consult.complete", "call_id": callID})
	if ended := p.next("call.ended", 5*time.Second); ended["reason"] != "transferred" {
		t.Errorf("call.ended %v", ended)
	}
	f.waitEvent("call.transferred_out", 10*time.Second)
	if heard := f.hearsNow(); toneDB(heard, 600) < -30 {
		t.Errorf("after the transfer the caller does not hear the number: 600 Hz at %.1f dBFS", toneDB(heard, 600))
	}
	if o := outsideHears(); toneDB(o, 440) < -30 {
		t.Errorf("after the transfer the number does not hear the caller: 440 Hz at %.1f dBFS", toneDB(o, 440))
	}
	if n := len(dialer.dialled); n != 0 {
		t.Errorf("the number was dialled again for the transfer (%d more)", n)
	}
	_ = dialer.lastCall().Hangup(context.Background())
	select {
	case <-f.ended:
	case <-time.After(10 * time.Second):
		t.Fatal("the call did not end when the number hung up")
	}
}
