package calls

import (
	"context"
	"testing"
	"time"

	"github.com/sambung/sambung/agents"
	"github.com/sambung/sambung/media"
)

// TestDeskRingsTheAgentsPhone: an agent whose record names a desk phone
// is offered a queued call on it: the phone is dialled, its answer puts
// the call through (the caller hears the phone's 1 kHz, the phone the
// caller's 440 Hz), their page shows the ring but cannot answer it, and
// the phone hanging up is the agent hanging up.
func TestDeskRingsTheAgentsPhone(t *testing.T) {
	r := newDeskRig(t, agents.QueueConfig{Name: "support"}, 1000)
	f, acd, ana, dialer, phone := r.f, r.acd, r.ana, r.dialer, r.callee
	if _, err := acd.UpsertAgent(context.Background(), agents.Agent{ID: ana.ID, Name: "ana", Skills: []string{"language:en"}}); err != nil {
		t.Fatal(err)
	}
	if err := f.st.SetAgentPhone(context.Background(), ana.ID, "sip:ana@desk.example"); err != nil {
		t.Fatal(err)
	}
	p := r.page(t)
	f.caller.Play(media.NewTone(media.ToneSpec{Freqs: []float64{440}, Level: -12}))
	heard := phone.Subscribe(400)
	p.send(map[string]any{"type": "state", "state": "available"})
	offer := p.next("offer", 10*time.Second)
	if offer["phone"] != true {
		t.Errorf("the offer does not say it rings the desk phone: %v", offer)
	}
	if number := <-dialer.dialled; number != "sip:ana@desk.example" {
		t.Errorf("dialled %q, want the agent's phone", number)
	}
	p.next("call.connected", 10*time.Second)
	p.send(map[string]any{"type": "answer", "call_id": offer["call_id"], "sdp": "v=0"})
	p.next("error", time.Second)
	time.Sleep(time.Second)
	f.drain()
	if lvl := toneDB(f.heard(time.Second), 1000); lvl < -30 {
		t.Errorf("the caller does not hear the agent's phone: 1 kHz at %.1f dBFS", lvl)
	}
	got := received(heard)
	heard.Unsubscribe()
	if lvl := toneDB(got[max(0, len(got)-media.Rate/2):], 440); lvl < -30 {
		t.Errorf("the agent's phone does not hear the caller: 440 Hz at %.1f dBFS", lvl)
	}

	// The agent puts the phone down.
	_ = dialer.lastCall().Hangup(context.Background())
	if ended := p.next("call.ended", 5*time.Second); ended["reason"] != "agent_hangup" {
		t.Errorf("call.ended %v", ended)
	}
	if ag, _ := acd.Agent(context.Background(), ana.ID); ag.State != agents.StateWrapUp {
		t.Errorf("after the phone hung up the agent is %s, want wrap_up", ag.State)
	}
}
