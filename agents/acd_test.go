package agents

import (
	"context"
	"errors"
	"path/filepath"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/sambung/sambung/audit"
	"github.com/sambung/sambung/store"
)

var t0 = time.Date(2026, 5, 4, 9, 0, 0, 0, time.UTC)

// clock is a fake Config.Now that moves only when told.
type clock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *clock) Add(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

func openStore(t *testing.T, path string) store.Store {
	t.Helper()
	st, err := store.Open(context.Background(), store.Config{URL: "sqlite:" + path}, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = st.Close() })
	return st
}

// fixture is an ACD on a fresh SQLite database with a fake clock, driven
// step by step.
type fixture struct {
	t   *testing.T
	acd *ACD
	st  store.Store
	clk *clock
	al  *audit.Log
}

func newFixture(t *testing.T, cfg Config) *fixture {
	t.Helper()
	dir := t.TempDir()
	st := openStore(t, filepath.Join(dir, "sambung.db"))
	al, err := audit.New(st, filepath.Join(dir, "audit.jsonl"), nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = al.Close() })
	clk := &clock{now: t0}
	cfg.Now = clk.Now
	acd, err := New(cfg, st, al, nil)
	if err != nil {
		t.Fatal(err)
	}
	return &fixture{t: t, acd: acd, st: st, clk: clk, al: al}
}

// agent makes an agent with skills, available from the clock's now.
func (f *fixture) agent(name string, skills ...string) int64 {
	f.t.Helper()
	ctx := context.Background()
	u, err := f.st.CreateUser(ctx, store.User{Name: name, DisplayName: name, Role: store.RoleAgent, PasswordHash: "h"})
	if err != nil {
		f.t.Fatal(err)
	}
	if _, err := f.acd.UpsertAgent(ctx, Agent{ID: u.ID, Skills: skills, Team: "blue"}); err != nil {
		f.t.Fatal(err)
	}
	if err := f.acd.SetState(ctx, u.ID, StateAvailable, "", name); err != nil {
		f.t.Fatal(err)
	}
	return u.ID
}

func (f *fixture) enqueue(c Contact) *Waiting {
	f.t.Helper()
	w, err := f.acd.Enqueue(context.Background(), c)
	if err != nil {
		f.t.Fatal(err)
	}
	f.t.Cleanup(w.Close)
	return w
}

func (f *fixture) step() {
	f.t.Helper()
	if err := f.acd.step(context.Background()); err != nil {
		f.t.Fatal(err)
	}
}

func (f *fixture) state(id int64) Agent {
	f.t.Helper()
	a, err := f.acd.Agent(context.Background(), id)
	if err != nil {
		f.t.Fatal(err)
	}
	return a
}

// expect reads w's events already delivered until one of kind, failing if
// there is none. Events of other kinds before it are skipped.
func expect(t *testing.T, w *Waiting, kind EventKind) Event {
	t.Helper()
	for {
		select {
		case e := <-w.Events():
			if e.Kind == kind {
				return e
			}
		default:
			t.Fatalf("call %s: no %s event", w.contact.CallID, kind)
			return Event{}
		}
	}
}

// none fails if w has a pending event of kind.
func none(t *testing.T, w *Waiting, kind EventKind) {
	t.Helper()
	for {
		select {
		case e := <-w.Events():
			if e.Kind == kind {
				t.Fatalf("call %s: unexpected %s event %+v", w.contact.CallID, kind, e)
			}
		default:
			return
		}
	}
}

var basic = Config{Queues: []QueueConfig{{Name: "support", Skills: []string{"queue:support"}, ServiceLevel: 20 * time.Second}},
	Tiers: []Tier{{Name: "vip", Priority: 10}, {Name: "gold", Priority: 5}}}

func TestPriorityByTier(t *testing.T) {
	f := newFixture(t, basic)
	normal := f.enqueue(Contact{CallID: "normal", Queue: "support", Skills: []string{"lang:en"}})
	f.clk.Add(time.Second)
	gold := f.enqueue(Contact{CallID: "gold", Queue: "support", Skills: []string{"lang:en"}, Tier: "gold"})
	vip := f.enqueue(Contact{CallID: "vip", Queue: "support", Skills: []string{"lang:en"}, Tier: "vip"})
	f.step()
	if e := expect(t, normal, EventPosition); e.Position != 3 {
		t.Errorf("the normal call is at %d, want 3 (behind vip and gold)", e.Position)
	}
	if e := expect(t, gold, EventPosition); e.Position != 2 {
		t.Errorf("the gold call is at %d, want 2", e.Position)
	}
	if e := expect(t, vip, EventPosition); e.Position != 1 || e.EstimatedWait <= 0 {
		t.Errorf("the vip call: position %d, wait %v; want 1 and an estimate", e.Position, e.EstimatedWait)
	}
	a := f.agent("ann", "queue:support", "lang:en")
	f.step()
	if e := expect(t, vip, EventOffered); e.Agent.ID != a || e.Contact.Priority != 10 {
		t.Errorf("offer %+v, want agent %d", e, a)
	}
	if e := expect(t, gold, EventPosition); e.Position != 1 {
		t.Errorf("gold moved to %d, want 1 once vip is offered", e.Position)
	}
	none(t, gold, EventOffered)
	none(t, normal, EventOffered)
}

func TestLongestIdleAndSkills(t *testing.T) {
	f := newFixture(t, basic)
	early := f.agent("early", "queue:support", "lang:en")
	f.clk.Add(time.Minute)
	f.agent("late", "queue:support", "lang:en")
	f.agent("malay", "queue:support", "lang:ms") // idle longer than late, wrong language
	f.clk.Add(time.Minute)
	w := f.enqueue(Contact{CallID: "c1", Queue: "support", Skills: []string{"lang:en"}})
	f.step()
	if e := expect(t, w, EventOffered); e.Agent.ID != early {
		t.Errorf("offered to %s, want the longest idle with the skills, early", e.Agent.Name)
	}
	if a := f.state(early); a.State != StateRinging || a.CallID != "c1" {
		t.Errorf("early after the offer: %+v", a)
	}
}

func TestRingNoAnswerGoesToNextAgent(t *testing.T) {
	cfg := basic
	cfg.RingTimeout = 15 * time.Second
	f := newFixture(t, cfg)
	first := f.agent("first", "queue:support")
	f.clk.Add(time.Second)
	second := f.agent("second", "queue:support")
	w := f.enqueue(Contact{CallID: "c1", Queue: "support"})
	f.step()
	if e := expect(t, w, EventOffered); e.Agent.ID != first {
		t.Fatalf("offered to %s first", e.Agent.Name)
	}
	f.clk.Add(14 * time.Second)
	f.step()
	none(t, w, EventRingNoAnswer)
	f.clk.Add(time.Second)
	f.step()
	if e := expect(t, w, EventRingNoAnswer); e.Agent.ID != first {
		t.Errorf("ring-no-answer names %s", e.Agent.Name)
	}
	if e := expect(t, w, EventOffered); e.Agent.ID != second {
		t.Errorf("then offered to %s, want second", e.Agent.Name)
	}
	if a := f.state(first); a.State != StateAway || a.Reason != ReasonRingNoAnswer {
		t.Errorf("first agent after ring-no-answer: %s %q, want away ring_no_answer", a.State, a.Reason)
	}
	if err := f.acd.Answer(context.Background(), first, "c1"); !errors.Is(err, ErrNoOffer) {
		t.Errorf("the first agent answering late: %v, want ErrNoOffer", err)
	}
	if err := f.acd.Answer(context.Background(), second, "c1"); err != nil {
		t.Fatal(err)
	}
	if e := expect(t, w, EventAnswered); e.Agent.ID != second || e.Waited != 15*time.Second {
		t.Errorf("answered: %+v", e)
	}
}

func TestDeclineGoesToNextAgent(t *testing.T) {
	f := newFixture(t, basic)
	first := f.agent("first", "queue:support")
	f.clk.Add(time.Second)
	second := f.agent("second", "queue:support")
	w := f.enqueue(Contact{CallID: "c1", Queue: "support"})
	f.step()
	expect(t, w, EventOffered)
	f.clk.Add(time.Second)
	if err := f.acd.Decline(context.Background(), first, "c1"); err != nil {
		t.Fatal(err)
	}
	f.step()
	if e := expect(t, w, EventOffered); e.Agent.ID != second {
		t.Errorf("after a decline offered to %s, want second", e.Agent.Name)
	}
	if a := f.state(first); a.State != StateAvailable {
		t.Errorf("the agent who declined is %s, want available", a.State)
	}
}

func TestWidenAfterWait(t *testing.T) {
	cfg := basic
	cfg.Queues = []QueueConfig{{Name: "support", Widen: []Widen{{After: 30 * time.Second, Drop: []string{"topic:"}}}}}
	f := newFixture(t, cfg)
	a := f.agent("generalist", "lang:en")
	w := f.enqueue(Contact{CallID: "c1", Queue: "support", Skills: []string{"lang:en", "topic:billing"}})
	f.step()
	none(t, w, EventOffered)
	f.clk.Add(30 * time.Second)
	f.step()
	if e := expect(t, w, EventWidened); !slices.Equal(e.Skills, []string{"lang:en"}) {
		t.Errorf("widened to %v, want [lang:en]", e.Skills)
	}
	if e := expect(t, w, EventOffered); e.Agent.ID != a {
		t.Errorf("offered to %d after widening, want %d", e.Agent.ID, a)
	}
}

func TestOverflow(t *testing.T) {
	cfg := Config{Queues: []QueueConfig{
		{Name: "sales", Skills: []string{"queue:sales"}, Overflow: &Overflow{After: time.Minute, To: "support"}},
		{Name: "support", Skills: []string{"queue:support"}},
	}}
	f := newFixture(t, cfg)
	a := f.agent("sup", "queue:support", "lang:en")
	w := f.enqueue(Contact{CallID: "c1", Queue: "sales", Skills: []string{"lang:en"}})
	f.step()
	none(t, w, EventOffered)
	f.clk.Add(time.Minute)
	f.step()
	if e := expect(t, w, EventOverflowed); e.Queue != "support" {
		t.Errorf("overflowed to %q", e.Queue)
	}
	if e := expect(t, w, EventOffered); e.Agent.ID != a || e.Queue != "support" {
		t.Errorf("offer after overflow: %+v", e)
	}
}

func TestMaxWait(t *testing.T) {
	for _, action := range []string{OfferCallback, OfferVoicemail} {
		t.Run(action, func(t *testing.T) {
			cfg := Config{Queues: []QueueConfig{{Name: "q", MaxWait: 2 * time.Minute, AtMaxWait: action}}}
			f := newFixture(t, cfg)
			w := f.enqueue(Contact{CallID: "c1", Queue: "q"})
			f.clk.Add(119 * time.Second)
			f.step()
			none(t, w, EventMaxWait)
			f.clk.Add(time.Second)
			f.step()
			if e := expect(t, w, EventMaxWait); e.Action != action {
				t.Errorf("max wait action %q, want %q", e.Action, action)
			}
			f.clk.Add(time.Minute)
			f.step()
			none(t, w, EventMaxWait) // once only
			if action == OfferVoicemail {
				if err := w.Leave(context.Background(), "voicemail"); err != nil {
					t.Fatal(err)
				}
				expect(t, w, EventLeft)
			}
		})
	}
}

func TestDeadlineBreach(t *testing.T) {
	cfg := Config{Queues: []QueueConfig{{Name: "q", Widen: []Widen{{After: time.Hour, Drop: []string{"topic:"}}}}},
		Tiers: []Tier{
			{Name: "vip", Priority: 10},
			{Name: "gold", Priority: 5, Deadline: 20 * time.Second, OnBreach: BreachRaise},
			{Name: "silver", Priority: 1, Deadline: 20 * time.Second, OnBreach: BreachWiden},
			{Name: "bronze", Deadline: 20 * time.Second, OnBreach: OfferCallback},
		}}
	f := newFixture(t, cfg)
	gold := f.enqueue(Contact{CallID: "gold", Queue: "q", Tier: "gold"})
	silver := f.enqueue(Contact{CallID: "silver", Queue: "q", Tier: "silver", Skills: []string{"topic:rare"}})
	bronze := f.enqueue(Contact{CallID: "bronze", Queue: "q", Tier: "bronze"})
	f.clk.Add(5 * time.Second)
	vip := f.enqueue(Contact{CallID: "vip", Queue: "q", Tier: "vip"})
	f.clk.Add(15 * time.Second)
	f.step()
	if e := expect(t, gold, EventDeadlineBreached); e.Action != BreachRaise {
		t.Errorf("gold breach action %q", e.Action)
	}
	if e := expect(t, silver, EventDeadlineBreached); e.Action != BreachWiden {
		t.Errorf("silver breach action %q", e.Action)
	}
	if e := expect(t, silver, EventWidened); len(e.Skills) != 0 {
		t.Errorf("silver widened to %v, want no skills left", e.Skills)
	}
	if e := expect(t, bronze, EventDeadlineBreached); e.Action != OfferCallback {
		t.Errorf("bronze breach action %q", e.Action)
	}
	none(t, vip, EventDeadlineBreached)
	a := f.agent("ann")
	f.step()
	if e := expect(t, gold, EventOffered); e.Agent.ID != a {
		t.Errorf("gold offered to %d", e.Agent.ID)
	}
	none(t, vip, EventOffered) // the raised gold call went ahead of the VIP
}

func TestServiceLevelWarningAndAbandon(t *testing.T) {
	f := newFixture(t, basic) // service level 20 s, warning at 80 %
	w := f.enqueue(Contact{CallID: "c1", Queue: "support"})
	f.clk.Add(15 * time.Second)
	f.step()
	none(t, w, EventServiceLevelWarning)
	f.clk.Add(time.Second)
	f.step()
	expect(t, w, EventServiceLevelWarning)
	f.clk.Add(29 * time.Second)
	if err := w.Abandon(context.Background()); err != nil {
		t.Fatal(err)
	}
	if e := expect(t, w, EventAbandoned); e.Waited != 45*time.Second {
		t.Errorf("abandoned after %v, want 45s", e.Waited)
	}
	qs, err := f.acd.Queues(context.Background())
	if err != nil || len(qs) != 1 || qs[0].AbandonedToday != 1 || qs[0].AbandonedWaitToday != 45*time.Second || qs[0].Waiting != 0 {
		t.Errorf("Queues after the abandon: %+v, %v", qs, err)
	}
}

func TestCallbackKeepsPlaceAndIsNotDuplicated(t *testing.T) {
	f := newFixture(t, basic)
	events, cancel := f.acd.Subscribe(64)
	defer cancel()
	first := f.enqueue(Contact{CallID: "first", Queue: "support", Number: "+6281"})
	f.clk.Add(10 * time.Second)
	second := f.enqueue(Contact{CallID: "second", Queue: "support", Number: "+6282"})
	if err := first.RequestCallback(context.Background()); err != nil {
		t.Fatal(err)
	}
	again := f.enqueue(Contact{CallID: "first-again", Queue: "support", Number: "+6281"})
	if err := again.RequestCallback(context.Background()); !errors.Is(err, ErrCallbackExists) {
		t.Errorf("a second callback for one number: %v, want ErrCallbackExists", err)
	}
	cbs, err := f.acd.Callbacks(context.Background())
	if err != nil || len(cbs) != 1 || cbs[0].Contact.Number != "+6281" || !cbs[0].EnteredAt.Equal(t0) {
		t.Fatalf("Callbacks = %+v, %v", cbs, err)
	}
	f.step()
	if e := expect(t, second, EventPosition); e.Position != 2 {
		t.Errorf("the second caller is at %d, want 2: behind the callback", e.Position)
	}
	a := f.agent("ann", "queue:support")
	f.step()
	none(t, second, EventOffered)
	var offer *Event
	for len(events) > 0 {
		if e := <-events; e.Kind == EventOffered {
			offer = &e
		}
	}
	if offer == nil || !offer.Contact.Callback || offer.Contact.Number != "+6281" || offer.Agent.ID != a {
		t.Fatalf("the callback offer: %+v", offer)
	}
	if err := f.acd.Answer(context.Background(), a, "first"); err != nil {
		t.Fatal(err)
	}
	got, err := f.st.ListAudit(context.Background(), store.AuditFilter{Action: "callback.request"})
	if err != nil || len(got) != 2 || got[0].Outcome != "error" || got[1].Outcome != "ok" {
		t.Errorf("audited callback requests: %+v, %v; want one ok, one error", got, err)
	}
}

func TestAgentStates(t *testing.T) {
	cfg := basic
	cfg.Queues = []QueueConfig{{Name: "support", WrapUp: 10 * time.Second}}
	f := newFixture(t, cfg)
	ctx := context.Background()
	a := f.agent("ann")
	w := f.enqueue(Contact{CallID: "c1", Queue: "support"})
	f.step()
	expect(t, w, EventOffered)
	if err := f.acd.SetState(ctx, a, StateAway, "lunch", "ann"); !errors.Is(err, ErrTransition) {
		t.Errorf("away while ringing: %v, want ErrTransition", err)
	}
	if err := f.acd.Answer(ctx, a, "c1"); err != nil {
		t.Fatal(err)
	}
	if err := f.acd.SetState(ctx, a, StateAvailable, "", "ann"); !errors.Is(err, ErrTransition) {
		t.Errorf("available while on a call: %v, want ErrTransition", err)
	}
	if err := f.acd.Hangup(ctx, a, "c1"); err != nil {
		t.Fatal(err)
	}
	if s := f.state(a).State; s != StateWrapUp {
		t.Fatalf("after hang-up: %s", s)
	}
	f.clk.Add(9 * time.Second)
	f.step()
	if s := f.state(a).State; s != StateWrapUp {
		t.Errorf("wrap-up ended early: %s", s)
	}
	f.clk.Add(time.Second)
	f.step()
	if s := f.state(a).State; s != StateAvailable {
		t.Errorf("after the queue's wrap-up time: %s, want available", s)
	}
	// A supervisor's change is audited; the agent's own is not.
	if err := f.acd.SetState(ctx, a, StateAway, "coaching", "sue"); err != nil {
		t.Fatal(err)
	}
	got, err := f.st.ListAudit(ctx, store.AuditFilter{Action: "agent.state"})
	if err != nil || len(got) != 1 || got[0].Actor != "sue" || got[0].Target != "ann" || got[0].Detail["to"] != "away" {
		t.Errorf("audited state changes: %+v, %v", got, err)
	}
	hist, err := f.st.AgentStates(ctx, a)
	if err != nil {
		t.Fatal(err)
	}
	var states []string
	for _, h := range hist {
		states = append(states, h.State)
	}
	want := []string{"available", "ringing", "on_call", "wrap_up", "available", "away"}
	if !slices.Equal(states, want) {
		t.Errorf("history %v, want %v", states, want)
	}
}

func TestValidate(t *testing.T) {
	cfg := Config{Queues: []QueueConfig{
		{Name: "a", Overflow: &Overflow{After: time.Minute, To: "nowhere"}, AtMaxWait: "sing"},
		{Name: "a"},
	}, Tiers: []Tier{{Name: "vip", OnBreach: "cry"}}}
	err := cfg.Validate()
	for _, want := range []string{`queue "a": overflow.to "nowhere"`, `queue "a": defined twice`, `queue "a": at_max_wait "sing"`, `tier "vip": on_breach "cry"`} {
		if err == nil || !contains(err.Error(), want) {
			t.Errorf("Validate: %v; want it to say %s", err, want)
		}
	}
	if err := basic.Validate(); err != nil {
		t.Errorf("a good config: %v", err)
	}
}

func contains(s, sub string) bool {
	return len(sub) == 0 || len(s) >= len(sub) && (s[:len(sub)] == sub || contains(s[1:], sub))
}

// TestDirectRing: a consult rings its one agent ahead of a VIP who waits
// for the same agent, and no clock moves it: left unanswered, it is not
// widened to the next agent, overflowed, warned about, breached or timed
// out, while the VIP beside it is.
func TestDirectRing(t *testing.T) {
	cfg := Config{RingTimeout: 10 * time.Second,
		Queues: []QueueConfig{
			{Name: "support", ServiceLevel: 10 * time.Second, MaxWait: 30 * time.Second, AtMaxWait: OfferVoicemail,
				Widen:    []Widen{{After: 5 * time.Second, Drop: []string{"agent:"}}},
				Overflow: &Overflow{After: 20 * time.Second, To: "other"}},
			{Name: "other"}},
		Tiers: []Tier{{Name: "vip", Priority: 10, Deadline: 5 * time.Second, OnBreach: BreachRaise}}}
	f := newFixture(t, cfg)
	budi := f.agent("budi", "lang:en")
	vip := f.enqueue(Contact{CallID: "c0", Queue: "support", Tier: "vip", Skills: []string{"lang:en"}})
	direct := f.enqueue(Contact{CallID: "c1", Queue: "support", Skills: []string{store.AgentSkill(budi)}, Direct: true})
	f.step()
	if e := expect(t, direct, EventOffered); e.Agent.ID != budi {
		t.Fatalf("the consult rang %s", e.Agent.Name)
	}
	none(t, vip, EventOffered)

	f.clk.Add(10 * time.Second)
	f.step()
	expect(t, direct, EventRingNoAnswer)
	cici := f.agent("cici", "lang:en")
	for range 4 {
		f.clk.Add(15 * time.Second)
		f.step()
	}
	for _, k := range []EventKind{EventOffered, EventWidened, EventOverflowed, EventServiceLevelWarning,
		EventDeadlineBreached, EventMaxWait} {
		none(t, direct, k)
	}
	expect(t, vip, EventDeadlineBreached)
	if e := expect(t, vip, EventOffered); e.Agent.ID != cici {
		t.Errorf("the VIP was offered to %s, want cici", e.Agent.Name)
	}
}

// TestAgentStatuses: the wallboard's figures of an agent's day: calls
// answered, and time on calls and in wrap-up (the call in progress up to
// now).
func TestAgentStatuses(t *testing.T) {
	f := newFixture(t, basic)
	ctx := context.Background()
	ana := f.agent("ana", "queue:support")
	f.agent("budi", "lang:xx") // no call today
	take := func(call string) {
		t.Helper()
		w := f.enqueue(Contact{CallID: call, Queue: "support"})
		f.step()
		expect(t, w, EventOffered)
		if err := f.acd.Answer(ctx, ana, call); err != nil {
			t.Fatal(err)
		}
	}
	take("c1")
	f.clk.Add(3 * time.Minute)
	if err := f.acd.Hangup(ctx, ana, "c1"); err != nil {
		t.Fatal(err)
	}
	f.clk.Add(time.Minute)
	if err := f.acd.FinishWrapUp(ctx, ana); err != nil {
		t.Fatal(err)
	}
	f.clk.Add(10 * time.Minute) // idle: not handle time
	take("c2")
	f.clk.Add(2 * time.Minute)
	ss, err := f.acd.AgentStatuses(ctx)
	if err != nil || len(ss) != 2 {
		t.Fatalf("AgentStatuses = %+v, %v", ss, err)
	}
	if a := ss[0]; a.Name != "ana" || a.State != StateOnCall || a.HandledToday != 2 || a.HandleTimeToday != 6*time.Minute || a.CallID != "c2" {
		t.Errorf("ana: %+v; want on_call with c2, 2 calls, 6m of handle time", a)
	}
	if b := ss[1]; b.Name != "budi" || b.State != StateAvailable || b.HandledToday != 0 || b.HandleTimeToday != 0 {
		t.Errorf("budi: %+v", b)
	}
}

// TestMove: a supervisor sends a waiting call to another queue, where an
// agent takes it, or to one agent, who alone is rung for it and whom no
// timer takes it from; a call not waiting cannot be moved.
func TestMove(t *testing.T) {
	cfg := Config{Queues: []QueueConfig{
		{Name: "support", Skills: []string{"queue:support"}, Overflow: &Overflow{After: time.Minute, To: "billing"}},
		{Name: "billing", Skills: []string{"queue:billing"}},
	}}
	f := newFixture(t, cfg)
	ctx := context.Background()
	budi := f.agent("budi", "queue:billing")
	w := f.enqueue(Contact{CallID: "c1", Queue: "support"})
	f.step()
	none(t, w, EventOffered) // nobody holds queue:support
	if err := f.acd.Move(ctx, "c1", "billing", nil, "sari"); err != nil {
		t.Fatal(err)
	}
	if e := expect(t, w, EventMoved); e.Queue != "billing" || e.By != "sari" {
		t.Errorf("moved: %+v", e)
	}
	f.step()
	if e := expect(t, w, EventOffered); e.Agent.ID != budi {
		t.Errorf("offered to %+v, want budi", e.Agent)
	}
	if err := f.acd.Move(ctx, "c1", "support", nil, "sari"); !errors.Is(err, ErrNotWaiting) {
		t.Errorf("moving a call that rings an agent: %v, want ErrNotWaiting", err)
	}
	if err := f.acd.Move(ctx, "c9", "billing", nil, "sari"); !errors.Is(err, ErrNotWaiting) {
		t.Errorf("moving an unknown call: %v, want ErrNotWaiting", err)
	}
	if err := f.acd.Move(ctx, "c1", "nowhere", nil, "sari"); err == nil {
		t.Error("moved a call to a queue that does not exist")
	}

	// To one agent: cici holds none of the call's skills.
	cici := f.agent("cici", "lang:xx")
	dewi := f.agent("dewi", "queue:support") // would take it from the queue
	if err := f.acd.SetState(ctx, dewi, StateAway, "", "dewi"); err != nil {
		t.Fatal(err)
	}
	w2 := f.enqueue(Contact{CallID: "c2", Queue: "support"})
	if err := f.acd.SetState(ctx, cici, StateAway, "", "cici"); err != nil {
		t.Fatal(err)
	}
	ag := f.state(cici)
	if err := f.acd.Move(ctx, "c2", "", &ag, "sari"); err != nil {
		t.Fatal(err)
	}
	f.clk.Add(2 * time.Minute) // past the overflow: it stays cici's
	if err := f.acd.SetState(ctx, dewi, StateAvailable, "", "dewi"); err != nil {
		t.Fatal(err)
	}
	f.step()
	none(t, w2, EventOverflowed)
	none(t, w2, EventOffered) // dewi is available, but the call is cici's
	if err := f.acd.SetState(ctx, cici, StateAvailable, "", "cici"); err != nil {
		t.Fatal(err)
	}
	f.step()
	if e := expect(t, w2, EventOffered); e.Agent.ID != cici {
		t.Errorf("offered to %+v, want cici", e.Agent)
	}
	evs, err := f.st.ListAudit(ctx, store.AuditFilter{Action: "call.move", Limit: 10})
	if err != nil || len(evs) != 2 || evs[0].Actor != "sari" {
		t.Errorf("audit of the moves: %+v, %v", evs, err)
	}
}
