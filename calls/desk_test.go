package calls

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"math"
	"testing"
	"time"

	"github.com/sambung/sambung/agents"
	"github.com/sambung/sambung/ivr"
	"github.com/sambung/sambung/media"
	"github.com/sambung/sambung/media/webrtc"
	"github.com/sambung/sambung/store"
)

const queueFlow = `
name: q
languages: [en]
variables: {tier: "vip", customer_name: "Ayu"}
start: q
steps:
  q: {queue: {name: support, skills: [language], context: [tier]}}
`

// quietVoice says everything as a moment of silence, so what the caller
// hears in the desk test is the agent or the music.
type quietVoice struct{}

func (quietVoice) Speak(context.Context, string, string, []ivr.Piece) ([]*media.Prompt, error) {
	return []*media.Prompt{media.NewPrompt(make([]int16, media.Rate/5))}, nil
}

func (quietVoice) File(string) (*media.Prompt, error) {
	return media.NewPrompt(make([]int16, 160)), nil
}

// page is an agent's softphone session as the test drives it.
type page struct {
	t *testing.T
	s *DeskSession
	// later are messages next passed over while looking for another type:
	// an offer may come before the agent.state that made the agent free.
	later []map[string]any
}

// next returns the next message of type typ, keeping others for later.
func (p *page) next(typ string, timeout time.Duration) map[string]any {
	p.t.Helper()
	for i, m := range p.later {
		if m["type"] == typ {
			p.later = append(p.later[:i], p.later[i+1:]...)
			return m
		}
	}
	deadline := time.After(timeout)
	for {
		select {
		case raw, ok := <-p.s.Out():
			if !ok {
				p.t.Fatalf("the session ended waiting for %s", typ)
			}
			var m map[string]any
			if err := json.Unmarshal(raw, &m); err != nil {
				p.t.Fatalf("not JSON: %s", raw)
			}
			if m["type"] == "error" && typ != "error" {
				p.t.Fatalf("desk error waiting for %s: %v", typ, m)
			}
			if m["type"] == typ {
				return m
			}
			p.later = append(p.later, m)
		case <-deadline:
			p.t.Fatalf("no %s message within %s (passed over: %v)", typ, timeout, p.later)
		}
	}
}

// toneDB is the level of freq in samples, in dBFS.
func toneDB(samples []int16, freq float64) float64 {
	return 10 * math.Log10(max(media.ToneLevel(samples, media.Rate, freq), 1e-12))
}

func (p *page) send(m map[string]any) {
	raw, _ := json.Marshal(m)
	p.s.Handle(context.Background(), raw)
}

// TestDeskPutsAQueuedCallThroughToAnAgent is the agents' side of a call
// end to end, with a real ACD on the call's store and a real WebRTC leg as
// the agent's browser: the call queues with its context, rings the
// available agent, is answered, audio flows both ways (the agent hears
// the caller's 440 Hz, the caller the agent's 1 kHz), hold plays music,
// the agent hangs up, and the wrap-up is stored on the call.
func TestDeskPutsAQueuedCallThroughToAnAgent(t *testing.T) {
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	var acd *agents.ACD
	var ana store.User
	f := newFixtureWith(t, "support", func(st store.Store) Config {
		var err error
		ana, err = st.CreateUser(context.Background(), store.User{Name: "ana", DisplayName: "Ana", Role: store.RoleAgent, PasswordHash: "x"})
		if err != nil {
			t.Fatal(err)
		}
		// The caller called before, about a refund.
		ctx := context.Background()
		if err := st.CreateCall(ctx, store.Call{ID: "earlier", Direction: store.Inbound, From: "tester", To: "support",
			StartedAt: time.Now().Add(-24 * time.Hour), Outcome: "completed"}); err != nil {
			t.Fatal(err)
		}
		_ = st.SetCallContact(ctx, "earlier", json.RawMessage(`{"v":1,"intent":{"name":"refund"}}`))
		_ = st.SetCallDisposition(ctx, "earlier", store.Disposition{Code: "resolved"})
		acd, err = agents.New(agents.Config{Node: "n1", Queues: []agents.QueueConfig{{Name: "support"}},
			Tiers: []agents.Tier{{Name: "vip", Priority: 10, Deadline: 20 * time.Second}}, Poll: 50 * time.Millisecond}, st, nil, log)
		if err != nil {
			t.Fatal(err)
		}
		return Config{Lines: flowLines(t, queueFlow), IVR: &ivr.Runtime{Voice: quietVoice{}},
			Desk: &DeskConfig{ACD: acd, WebRTC: webrtc.Config{LoopbackOnly: true}}}
	})
	if _, err := acd.UpsertAgent(context.Background(), agents.Agent{ID: ana.ID, Name: "ana", Skills: []string{"language:en"}}); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{}, 2)
	go func() { _ = acd.Run(ctx); done <- struct{}{} }()
	go func() { f.sb.Desk().Run(ctx); done <- struct{}{} }()
	t.Cleanup(func() { cancel(); <-done; <-done })

	s, err := f.sb.Desk().Open(context.Background(), ana)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	p := &page{t: t, s: s}
	if hello := p.next("hello", time.Second); hello["agent"].(map[string]any)["state"] != "offline" {
		t.Errorf("hello %v", hello)
	}
	p.send(map[string]any{"type": "state", "state": "available"})
	p.next("agent.state", 2*time.Second)

	// The caller speaks 440 Hz throughout.
	f.caller.Play(media.NewTone(media.ToneSpec{Freqs: []float64{440}, Level: -12}))
	offer := p.next("offer", 15*time.Second)
	callID := offer["call_id"].(string)
	contact := offer["contact"].(map[string]any)
	if contact["tier"] != "vip" || contact["queue"] != "support" || contact["deadline"] == nil || offer["ring_timeout_ms"] == nil {
		t.Errorf("offer %v", offer)
	}
	if h, _ := contact["history"].([]any); len(h) != 1 || h[0].(map[string]any)["intent"] != "refund" ||
		h[0].(map[string]any)["disposition"] != "resolved" {
		t.Errorf("the caller's history: %v", contact["history"])
	}
	if calls, _ := f.st.CallByID(context.Background(), callID); calls.Contact == nil {
		t.Error("the contact context was not stored on the call")
	}

	browser, sdp, err := webrtc.Offer(context.Background(), webrtc.Config{LoopbackOnly: true}, log)
	if err != nil {
		t.Fatal(err)
	}
	defer browser.Close()
	p.send(map[string]any{"type": "answer", "call_id": callID, "sdp": sdp})
	ans := p.next("call.sdp", 10*time.Second)
	if err := browser.Accept(ans["sdp"].(string)); err != nil {
		t.Fatal(err)
	}
	p.next("call.connected", 10*time.Second)

	// The agent's browser speaks 1 kHz, paced like a microphone, and
	// keeps what it hears.
	heard := make(chan []int16, 1)
	stopMic := make(chan struct{})
	go func() {
		tone := media.NewTone(media.ToneSpec{Freqs: []float64{1000}, Level: -12})
		var out, in media.Frame
		var got []int16
		tick := time.NewTicker(media.FrameDuration)
		defer tick.Stop()
		for {
			select {
			case <-stopMic:
				heard <- got
				return
			case <-tick.C:
				tone.ReadFrame(out[:])
				_ = browser.WriteFrame(out[:])
				if browser.Playout(in[:]) == media.PlayedAudio {
					got = append(got, in[:]...)
				}
			}
		}
	}()
	time.Sleep(500 * time.Millisecond)
	f.drain()
	callerHeard := f.heard(time.Second)
	if lvl := toneDB(callerHeard, 1000); lvl < -30 {
		t.Errorf("the caller does not hear the agent: 1 kHz at %.1f dBFS", lvl)
	}

	// Hold: the caller hears music, not the agent.
	p.send(map[string]any{"type": "hold", "call_id": callID, "on": true})
	p.next("call.held", time.Second)
	time.Sleep(200 * time.Millisecond)
	f.drain()
	onHold := f.heard(time.Second)
	if lvl := toneDB(onHold, 1000); lvl > -45 || media.DBFS(onHold) < -40 {
		t.Errorf("on hold the caller hears the agent at %.1f dBFS, music at %.1f dBFS", lvl, media.DBFS(onHold))
	}
	p.send(map[string]any{"type": "hold", "call_id": callID, "on": false})
	p.next("call.held", time.Second)

	close(stopMic)
	agentHeard := <-heard
	if lvl := toneDB(agentHeard, 440); len(agentHeard) == 0 || lvl < -30 {
		t.Errorf("the agent does not hear the caller: %d samples, 440 Hz at %.1f dBFS", len(agentHeard), lvl)
	}

	// Wrap-up before hanging up is refused; after, it is stored.
	p.send(map[string]any{"type": "wrapup", "call_id": callID, "disposition": "resolved"})
	p.next("error", time.Second)
	p.send(map[string]any{"type": "hangup", "call_id": callID})
	if ended := p.next("call.ended", 5*time.Second); ended["reason"] != "agent_hangup" {
		t.Errorf("call.ended %v", ended)
	}
	select {
	case <-f.ended:
	case <-time.After(10 * time.Second):
		t.Fatal("the call did not end after the agent hung up")
	}
	if f.leg.hungUp != true {
		t.Error("no BYE to the caller")
	}
	if ag, _ := acd.Agent(context.Background(), ana.ID); ag.State != agents.StateWrapUp {
		t.Errorf("after the call the agent is %s, want wrap_up", ag.State)
	}
	p.send(map[string]any{"type": "wrapup", "call_id": callID, "disposition": "bogus"})
	p.next("error", time.Second)
	p.send(map[string]any{"type": "wrapup", "call_id": callID, "disposition": "resolved", "notes": "refund sent"})
	p.next("wrapup.saved", 2*time.Second)
	c, err := f.st.CallByID(context.Background(), callID)
	if err != nil || c.Disposition != "resolved" || c.DispositionNotes != "refund sent" || c.AgentID != ana.ID {
		t.Errorf("call record %+v %v", c, err)
	}
	if ag, _ := acd.Agent(context.Background(), ana.ID); ag.State != agents.StateAvailable {
		t.Errorf("after wrap-up the agent is %s, want available", ag.State)
	}
	for _, k := range []string{"call.queued", "agent.offered", "agent.connected", "agent.hold", "agent.ended", "agent.wrapup"} {
		f.waitEvent(k, time.Second)
	}
}
