package calls

import (
	"context"
	"io"
	"log/slog"
	"net/netip"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/sambung/sambung/agents"
	"github.com/sambung/sambung/ivr"
	"github.com/sambung/sambung/media"
	"github.com/sambung/sambung/media/webrtc"
	"github.com/sambung/sambung/store"
)

// fakeDialer "calls" the customer: an RTP session of the test's, which
// answers at once, or an error.
type fakeDialer struct {
	customer *media.Session
	fail     error
	dialled  chan string
	mu       sync.Mutex
	last     *fakeDialled
}

func (d *fakeDialer) Dial(_ context.Context, number string, local netip.AddrPort, dtmf uint8) (Dialled, error) {
	d.dialled <- number
	d.mu.Lock()
	fail := d.fail
	d.mu.Unlock()
	if fail != nil {
		return nil, fail
	}
	d.customer.SetRemote(local, media.PCMU, dtmf)
	f := &fakeDialled{remote: RemoteMedia{Addr: d.customer.LocalAddr(), Codecs: []media.Codec{media.PCMU},
		DTMFPayloadType: 101, Direction: media.SendRecv}, done: make(chan struct{})}
	d.mu.Lock()
	d.last = f
	d.mu.Unlock()
	return f, nil
}

type fakeDialled struct {
	remote RemoteMedia
	done   chan struct{}
	once   sync.Once
}

func (f *fakeDialled) SignallingID() string { return "fake-dialled" }
func (f *fakeDialled) Remote() RemoteMedia  { return f.remote }
func (f *fakeDialled) Hangup(context.Context) error {
	f.once.Do(func() { close(f.done) })
	return nil
}
func (f *fakeDialled) Done() <-chan struct{}       { return f.done }
func (f *fakeDialled) EndReason() string           { return "server_bye" }
func (f *fakeDialled) Updates() <-chan RemoteMedia { return nil }

// deskRig is a call queued at a desk whose switchboard places calls: the
// fixture's caller dials "support" (queueFlow), an ACD runs one queue, the
// user ana exists (not yet an agent), and the fake dialer's callee is an
// RTP session of the test's, saying a tone of freq (0: silence).
type deskRig struct {
	f      *fixture
	acd    *agents.ACD
	ana    store.User
	dialer *fakeDialer
	callee *media.Session
}

func newDeskRig(t *testing.T, queue agents.QueueConfig, freq float64) *deskRig {
	t.Helper()
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	callee, err := media.NewSession(media.SessionConfig{BindIP: netip.MustParseAddr("127.0.0.1"), MediaTimeout: -1}, log)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	callee.Start(ctx)
	if freq > 0 {
		callee.Play(media.NewTone(media.ToneSpec{Freqs: []float64{freq}, Level: -12}))
	}
	r := &deskRig{callee: callee, dialer: &fakeDialer{customer: callee, dialled: make(chan string, 4)}}
	r.f = newFixtureWith(t, "support", func(st store.Store) Config {
		var err error
		if r.ana, err = st.CreateUser(context.Background(), store.User{Name: "ana", Role: store.RoleAgent, PasswordHash: "x"}); err != nil {
			t.Fatal(err)
		}
		if r.acd, err = agents.New(agents.Config{Node: "n1", Poll: 50 * time.Millisecond, Queues: []agents.QueueConfig{queue}}, st, nil, log); err != nil {
			t.Fatal(err)
		}
		return Config{Lines: flowLines(t, queueFlow), IVR: &ivr.Runtime{Voice: quietVoice{}}, Dialer: r.dialer,
			Desk: &DeskConfig{ACD: r.acd, WebRTC: webrtc.Config{LoopbackOnly: true}}}
	})
	done := make(chan struct{}, 2)
	go func() { _ = r.acd.Run(ctx); done <- struct{}{} }()
	go func() { r.f.sb.Desk().Run(ctx); done <- struct{}{} }()
	// Before the fixture's own clean-up, which counts goroutines.
	t.Cleanup(func() { cancel(); <-done; <-done; callee.Close() })
	return r
}

// page makes ana an agent who speaks English and opens her page, its
// hello read.
func (r *deskRig) page(t *testing.T) *page {
	t.Helper()
	if _, err := r.acd.UpsertAgent(context.Background(), agents.Agent{ID: r.ana.ID, Name: "ana", Skills: []string{"language:en"}}); err != nil {
		t.Fatal(err)
	}
	s, err := r.f.sb.Desk().Open(context.Background(), r.ana)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(s.Close)
	p := &page{t: t, s: s}
	p.next("hello", time.Second)
	return p
}

// last is the call the dialer placed last.
func (d *fakeDialer) lastCall() *fakeDialled {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.last
}

// TestCallbackIsDialledForTheAgent: a caller who waited too long presses 1
// for a call back and hangs up. When an agent is free their page rings
// for the callback, with the caller's context and the number; they answer,
// the customer is dialled and bridged to them (the customer hears the
// agent's tone), and the wrap-up is saved on the call we placed. A second
// callback the customer does not answer ends for the agent with
// no_answer.
func TestCallbackIsDialledForTheAgent(t *testing.T) {
	r := newDeskRig(t, agents.QueueConfig{Name: "support", MaxWait: time.Second, AtMaxWait: agents.OfferCallback}, 0)
	f, acd, ana, dialer, customer := r.f, r.acd, r.ana, r.dialer, r.callee

	// The caller presses 1 until it is heard: a key pressed before the
	// offer is said is forgotten (drainInputs), and on a busy machine the
	// offer may come later than the max_wait event.
	f.waitEvent("queue.max_wait", 10*time.Second)
	for deadline := time.Now().Add(10 * time.Second); ; {
		if err := f.caller.SendDTMF("1", 0); err != nil {
			t.Fatal(err)
		}
		time.Sleep(500 * time.Millisecond)
		evs, _ := f.st.CallEvents(context.Background(), f.callID())
		if slices.ContainsFunc(evs, func(e store.CallEvent) bool { return e.Kind == "call.callback_requested" }) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the caller's 1 was never taken for a call back")
		}
	}
	select {
	case <-f.ended:
	case <-time.After(10 * time.Second):
		t.Fatal("the call did not end after the callback was taken")
	}
	original := f.callID()
	p := r.page(t)
	p.send(map[string]any{"type": "state", "state": "available"})
	offer := p.next("offer", 10*time.Second)
	contact, _ := offer["contact"].(map[string]any)
	if offer["callback"] != true || offer["call_id"] != original || contact["callback_to"] != "tester" || contact["tier"] != "vip" {
		t.Fatalf("the callback's offer: %v", offer)
	}
	heard := customer.Subscribe(400)
	speakingBrowser(t, p, original, 1000)
	if number := <-dialer.dialled; number != "tester" {
		t.Errorf("dialled %q, want the caller's number", number)
	}
	p.next("call.connected", 15*time.Second)
	time.Sleep(time.Second)
	got := received(heard)
	heard.Unsubscribe()
	if lvl := toneDB(got[max(0, len(got)-media.Rate/2):], 1000); lvl < -30 {
		t.Errorf("the customer called back does not hear the agent: 1 kHz at %.1f dBFS", lvl)
	}
	p.send(map[string]any{"type": "hangup", "call_id": original})
	if ended := p.next("call.ended", 10*time.Second); ended["reason"] != "agent_hangup" {
		t.Errorf("call.ended %v", ended)
	}
	p.send(map[string]any{"type": "wrapup", "call_id": original, "disposition": "resolved"})
	p.next("wrapup.saved", 5*time.Second)
	calls, err := f.st.ListCalls(context.Background(), store.CallFilter{Limit: 5})
	if err != nil {
		t.Fatal(err)
	}
	var back store.Call
	for _, c := range calls {
		if c.ID != original {
			back = c
		}
	}
	if back.Direction != store.Outbound || back.To != "tester" || back.Disposition != "resolved" {
		t.Errorf("the call back's record: %+v", back)
	}

	// The customer does not answer the next one.
	dialer.mu.Lock()
	dialer.fail = ErrNoAnswer
	dialer.mu.Unlock()
	// Away while the next callback is left, so the ACD does not offer it
	// as a waiting call first.
	p.send(map[string]any{"type": "state", "state": "away"})
	for deadline := time.Now().Add(5 * time.Second); ; time.Sleep(10 * time.Millisecond) {
		if ag, _ := acd.Agent(context.Background(), ana.ID); ag.State == agents.StateAway {
			break
		} else if time.Now().After(deadline) {
			t.Fatalf("the agent is %s, not away", ag.State)
		}
	}
	w, err := acd.Enqueue(context.Background(), agents.Contact{CallID: "again", Queue: "support", Skills: []string{"language:en"}, Number: "tester2"})
	if err != nil {
		t.Fatal(err)
	}
	if err := w.RequestCallback(context.Background()); err != nil {
		t.Fatal(err)
	}
	w.Close()
	p.send(map[string]any{"type": "state", "state": "available"})
	offer = p.next("offer", 10*time.Second)
	if offer["call_id"] != "again" {
		t.Fatalf("the second callback's offer: %v", offer)
	}
	p.send(map[string]any{"type": "answer", "call_id": "again", "sdp": browserOffer(t)})
	<-dialer.dialled
	if ended := p.next("call.ended", 10*time.Second); ended["reason"] != "no_answer" {
		t.Errorf("an unanswered call back ended with %v, want no_answer", ended)
	}
	if ag, _ := acd.Agent(context.Background(), ana.ID); ag.State != agents.StateWrapUp {
		t.Errorf("after an unanswered call back the agent is %s, want wrap_up", ag.State)
	}
}

// browserOffer is an SDP offer from a browser leg that lives until the
// test ends.
func browserOffer(t *testing.T) string {
	t.Helper()
	leg, sdp, err := webrtc.Offer(context.Background(), webrtc.Config{LoopbackOnly: true}, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = leg.Close() })
	return sdp
}

// TestFlowCallbackStepLeavesACallback: a flow's callback step (the demo's
// after hours) leaves a callback in the ACD, in the first queue, for an
// agent who speaks the caller's language, with the call's context stored
// for them; without a Dialer it would only be noted.
func TestFlowCallbackStepLeavesACallback(t *testing.T) {
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	var acd *agents.ACD
	f := newFixtureWith(t, "support", func(st store.Store) Config {
		var err error
		acd, err = agents.New(agents.Config{Node: "n1", Queues: []agents.QueueConfig{{Name: "support"}, {Name: "billing"}}}, st, nil, log)
		if err != nil {
			t.Fatal(err)
		}
		return Config{Lines: flowLines(t, `
name: late
languages: [en]
variables: {tier: "gold", customer_name: "Ayu"}
start: late
steps:
  late: {callback: {prompt: {en: "We will call you back."}}}
`), IVR: &ivr.Runtime{Voice: quietVoice{}}, Dialer: &fakeDialer{dialled: make(chan string, 1)},
			Desk: &DeskConfig{ACD: acd, WebRTC: webrtc.Config{LoopbackOnly: true}}}
	})
	f.waitEvent("call.callback_requested", 10*time.Second)
	cbs, err := acd.Callbacks(context.Background())
	if err != nil || len(cbs) != 1 || cbs[0].Contact.Number != "tester" || cbs[0].Contact.Queue != "support" ||
		!slices.Equal(cbs[0].Contact.Skills, []string{"language:en"}) || cbs[0].Contact.Tier != "gold" {
		t.Fatalf("callbacks %+v %v", cbs, err)
	}
	if c, err := f.st.CallByID(context.Background(), f.callID()); err != nil || !strings.Contains(string(c.Contact), `"Ayu"`) {
		t.Errorf("the caller's context is not stored for the agent: %s %v", c.Contact, err)
	}
}
