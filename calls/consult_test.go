package calls

import (
	"context"
	"io"
	"log/slog"
	"testing"
	"time"

	"github.com/sambung/sambung/agents"
	"github.com/sambung/sambung/ivr"
	"github.com/sambung/sambung/media"
	"github.com/sambung/sambung/media/webrtc"
	"github.com/sambung/sambung/store"
)

// floor is a desk with agents: the fixture's caller dials "support"
// (queueFlow, a VIP asking for English), the ACD runs the queues
// "support" and "billing", and each name is a user with the agent role.
type floor struct {
	f     *fixture
	acd   *agents.ACD
	users map[string]store.User
}

func newFloor(t *testing.T, names ...string) *floor {
	t.Helper()
	return newFloorWith(t, nil, names...)
}

// newFloorWith is newFloor with the switchboard's Config changed by tweak
// before it starts.
func newFloorWith(t *testing.T, tweak func(*Config), names ...string) *floor {
	t.Helper()
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	fl := &floor{users: map[string]store.User{}}
	fl.f = newFixtureWith(t, "support", func(st store.Store) Config {
		for _, name := range names {
			u, err := st.CreateUser(context.Background(), store.User{Name: name, Role: store.RoleAgent, PasswordHash: "x"})
			if err != nil {
				t.Fatal(err)
			}
			fl.users[name] = u
		}
		var err error
		fl.acd, err = agents.New(agents.Config{Node: "n1", Queues: []agents.QueueConfig{{Name: "support"}, {Name: "billing"}},
			Poll: 50 * time.Millisecond}, st, nil, log)
		if err != nil {
			t.Fatal(err)
		}
		cfg := Config{Lines: flowLines(t, queueFlow), IVR: &ivr.Runtime{Voice: quietVoice{}},
			Desk: &DeskConfig{ACD: fl.acd, WebRTC: webrtc.Config{LoopbackOnly: true}}}
		if tweak != nil {
			tweak(&cfg)
		}
		return cfg
	})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{}, 2)
	go func() { _ = fl.acd.Run(ctx); done <- struct{}{} }()
	go func() { fl.f.sb.Desk().Run(ctx); done <- struct{}{} }()
	t.Cleanup(func() { cancel(); <-done; <-done })
	return fl
}

// open makes name an agent with skills and opens their page, its hello
// read; available sets them available.
func (fl *floor) open(t *testing.T, name string, skills []string, available bool) (*page, map[string]any) {
	t.Helper()
	u := fl.users[name]
	if _, err := fl.acd.UpsertAgent(context.Background(), agents.Agent{ID: u.ID, Name: u.Name, Skills: skills}); err != nil {
		t.Fatal(err)
	}
	s, err := fl.f.sb.Desk().Open(context.Background(), u)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(s.Close)
	p := &page{t: t, s: s}
	hello := p.next("hello", time.Second)
	if available {
		p.available()
	}
	return p, hello
}

// available sets the page's agent available.
func (p *page) available() {
	p.t.Helper()
	p.send(map[string]any{"type": "state", "state": "available"})
	p.next("agent.state", 2*time.Second)
}

// state is the agent's state in the ACD.
func (fl *floor) state(t *testing.T, name string) agents.State {
	t.Helper()
	ag, err := fl.acd.Agent(context.Background(), fl.users[name].ID)
	if err != nil {
		t.Fatal(err)
	}
	return ag.State
}

// TestDeskConsultsAnAgent: a warm transfer to another agent. Ana, on a
// call, consults Budi: his page rings with the caller's context and who
// asks; the caller hears hold music while the two agents hear each other
// and not the caller. A decline and a hang-up by Budi each bring Ana back
// to the caller; Budi's wrap-up of a consult leaves the call's disposition
// alone. Completing the third consult puts the caller through to Budi
// with no new ring, the transfer on the context; Ana wraps up. Budi, while
// consulted, cannot hold or send keys to a caller who is not yet his.
func TestDeskConsultsAnAgent(t *testing.T) {
	fl := newFloor(t, "ana", "budi")
	f := fl.f
	pa, _ := fl.open(t, "ana", []string{"language:en"}, true)
	pb, _ := fl.open(t, "budi", nil, false)
	f.caller.Play(media.NewTone(media.ToneSpec{Freqs: []float64{440}, Level: -12}))

	callID := pa.next("offer", 15*time.Second)["call_id"].(string)
	speakingBrowser(t, pa, callID, 1000)
	pa.next("call.connected", 10*time.Second)

	consult := func() map[string]any {
		t.Helper()
		pa.send(map[string]any{"type": "consult", "call_id": callID, "agent": "budi"})
		if st := pa.next("consult.state", 5*time.Second); st["state"] != "ringing" || st["agent"] != "budi" {
			t.Errorf("consult.state %v, want ringing budi", st)
		}
		offer := pb.next("offer", 10*time.Second)
		if offer["call_id"] != callID || offer["consult"].(map[string]any)["from"] != "ana" ||
			offer["contact"].(map[string]any)["tier"] != "vip" {
			t.Errorf("budi's offer: %v", offer)
		}
		return offer
	}
	ended := func(reason string) {
		t.Helper()
		st := pa.next("consult.state", 10*time.Second)
		for st["state"] != "ended" {
			st = pa.next("consult.state", 10*time.Second)
		}
		if st["reason"] != reason {
			t.Errorf("the consult ended %v, want %s", st["reason"], reason)
		}
		if heard := f.hearsNow(); toneDB(heard, 1000) < -30 {
			t.Errorf("back from the consult the caller does not hear ana: 1 kHz at %.1f dBFS", toneDB(heard, 1000))
		}
	}

	pa.send(map[string]any{"type": "consult", "call_id": callID, "agent": "budi"})
	if e := pa.next("error", time.Second); e["ref"] != "consult" {
		t.Errorf("consulting an agent who is not available: %v", e)
	}

	// Budi declines.
	pb.available()
	consult()
	pb.send(map[string]any{"type": "decline", "call_id": callID})
	ended("declined")
	if s := fl.state(t, "budi"); s != agents.StateAvailable {
		t.Errorf("budi after declining a consult is %s, want available", s)
	}

	// Budi answers, talks, and hangs up.
	consult()
	budiHeard := speakingBrowser(t, pb, callID, 600)
	if st := pa.next("consult.state", 10*time.Second); st["state"] != "talking" || st["agent"] != "budi" {
		t.Errorf("consult.state %v, want talking budi", st)
	}
	pb.next("call.connected", 10*time.Second)
	heard := f.hearsNow()
	if toneDB(heard, 1000) > -45 || toneDB(heard, 600) > -45 || media.DBFS(heard) < -40 {
		t.Errorf("in the consult the caller hears ana at %.1f dBFS, budi at %.1f, music at %.1f",
			toneDB(heard, 1000), toneDB(heard, 600), media.DBFS(heard))
	}
	if b := budiHeard(time.Second); toneDB(b, 1000) < -30 || toneDB(b, 440) > -45 {
		t.Errorf("in the consult budi hears ana at %.1f dBFS and the caller at %.1f", toneDB(b, 1000), toneDB(b, 440))
	}
	for _, m := range []map[string]any{{"type": "hold", "on": true}, {"type": "dtmf", "digits": "1"},
		{"type": "transfer", "queue": "billing"}} {
		m["call_id"] = callID
		pb.send(m)
		if e := pb.next("error", time.Second); e["ref"] != m["type"] {
			t.Errorf("budi, consulted, sent %v: %v", m, e)
		}
	}
	pb.send(map[string]any{"type": "hangup", "call_id": callID})
	ended("hung_up")
	if e := pb.next("call.ended", 5*time.Second); e["reason"] != "agent_hangup" {
		t.Errorf("budi's call.ended %v", e)
	}
	pb.send(map[string]any{"type": "wrapup", "call_id": callID, "disposition": "resolved", "notes": "asked about refunds"})
	pb.next("wrapup.saved", 5*time.Second)
	if c, err := f.st.CallByID(context.Background(), callID); err != nil || c.Disposition != "" {
		t.Errorf("after budi's consult wrap-up the call's disposition is %q (%v), want none", c.Disposition, err)
	}

	// Again, and complete it.
	consult()
	budiHeard = speakingBrowser(t, pb, callID, 600)
	for st := pa.next("consult.state", 10*time.Second); st["state"] != "talking"; st = pa.next("consult.state", 10*time.Second) {
	}
	pa.send(map[string]any{"type": "consult.complete", "call_id": callID})
	if e := pa.next("call.ended", 5*time.Second); e["reason"] != "transferred" {
		t.Errorf("ana's call.ended %v", e)
	}
	joined := pb.next("consult.joined", 5*time.Second)
	trs, _ := joined["contact"].(map[string]any)["transfers"].([]any)
	if len(trs) != 1 || trs[0].(map[string]any)["to_agent"] != "budi" || trs[0].(map[string]any)["consulted"] != true {
		t.Errorf("consult.joined %v", joined)
	}
	if heard := f.hearsNow(); toneDB(heard, 600) < -30 || toneDB(heard, 1000) > -45 {
		t.Errorf("after the transfer the caller hears budi at %.1f dBFS and ana at %.1f", toneDB(heard, 600), toneDB(heard, 1000))
	}
	if b := budiHeard(time.Second); toneDB(b, 440) < -30 {
		t.Errorf("after the transfer budi does not hear the caller: 440 Hz at %.1f dBFS", toneDB(b, 440))
	}
	if a, b := fl.state(t, "ana"), fl.state(t, "budi"); a != agents.StateWrapUp || b != agents.StateOnCall {
		t.Errorf("after the transfer ana is %s and budi %s, want wrap_up and on_call", a, b)
	}
	pb.send(map[string]any{"type": "hold", "call_id": callID, "on": false})
	pb.next("call.held", time.Second) // the caller is his now
	pb.send(map[string]any{"type": "hangup", "call_id": callID})
	if e := pb.next("call.ended", 5*time.Second); e["reason"] != "agent_hangup" {
		t.Errorf("budi's call.ended %v", e)
	}
	select {
	case <-f.ended:
	case <-time.After(10 * time.Second):
		t.Fatal("the call did not end after budi hung up")
	}
	ev := f.waitEvent("agent.consult_answered", time.Second)
	if string(ev.Data) == "" {
		t.Error("agent.consult_answered has no data")
	}
}
