package agents

import (
	"context"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/sambung/sambung/audit"
	"github.com/sambung/sambung/store"
)

// ACD routes calls to agents. Calls wait in memory on the node that holds
// them, and in the store; agents, offers and callbacks live in the store,
// shared by every node. Reserving an agent is one transaction in the store,
// so two nodes never offer one agent two calls.
type ACD struct {
	cfg Config
	st  store.Store
	al  *audit.Log
	log *slog.Logger

	wake   chan struct{}
	stepMu sync.Mutex // one step at a time

	mu        sync.Mutex
	waiting   map[int64]*Waiting // this node's calls by entry ID
	offers    map[int64]*offer   // this node's offers by agent ID
	wrapUntil map[int64]time.Time
	answered  map[int64]answeredCall // agent -> the call it answered here
	subs      map[*subscriber]struct{}

	dropped atomic.Int64 // subscriber events dropped
}

// answeredCall is the call an agent took on this node, for its queue's
// wrap-up time.
type answeredCall struct{ callID, queue string }

// offer is an agent ringing for an entry, made by this node.
type offer struct {
	entryID int64
	agent   Agent
	contact Contact
	until   time.Time
	w       *Waiting // nil for a callback
}

// New makes an ACD over st. al records supervisor actions and callback
// requests; it may be nil in tests. New checks cfg, and cleans up after an
// earlier run of the same node that crashed (store.EndOrphanedQueueEntries),
// so make one ACD per node, before taking calls.
func New(cfg Config, st store.Store, al *audit.Log, log *slog.Logger) (*ACD, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	cfg = cfg.withDefaults()
	a := &ACD{cfg: cfg, st: st, al: al, log: log.With("node", cfg.Node), wake: make(chan struct{}, 1),
		waiting: map[int64]*Waiting{}, offers: map[int64]*offer{}, wrapUntil: map[int64]time.Time{}, answered: map[int64]answeredCall{},
		subs: map[*subscriber]struct{}{}}
	// Before this node queues any call, close what an earlier run of it
	// left open: its calls are gone, its agents ring for nothing.
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if n, err := st.EndOrphanedQueueEntries(ctx, cfg.Node, a.now()); err != nil {
		return nil, fmt.Errorf("acd start on node %s: %w", cfg.Node, err)
	} else if n > 0 {
		a.log.Info("queue entries of an earlier run closed", "count", n)
	}
	return a, nil
}

// Run drives the ACD's timers and matching until ctx ends: at once after
// anything changes on this node, and every Config.Poll for what changes on
// others. It returns nil when ctx ends.
func (a *ACD) Run(ctx context.Context) error {
	tick := time.NewTicker(a.cfg.Poll)
	defer tick.Stop()
	for {
		if err := a.step(ctx); err != nil && ctx.Err() == nil {
			a.log.Error("acd step", "err", err)
		}
		select {
		case <-ctx.Done():
			return nil
		case <-tick.C:
		case <-a.wake:
		}
	}
}

func (a *ACD) now() time.Time { return a.cfg.Now() }

// poke asks Run for a step soon, without waiting.
func (a *ACD) poke() {
	select {
	case a.wake <- struct{}{}:
	default:
	}
}

// Enqueue puts a call in its queue and returns its Waiting. The contact's
// priority comes from its tier unless it sets one, and its deadline from
// the tier.
func (a *ACD) Enqueue(ctx context.Context, c Contact) (*Waiting, error) {
	q, ok := a.cfg.queue(c.Queue)
	if !ok {
		return nil, fmt.Errorf("enqueue call %s: queue %q is not configured", c.CallID, c.Queue)
	}
	now := a.now()
	tier, _ := a.cfg.tier(c.Tier)
	if c.Priority == 0 {
		c.Priority = tier.Priority
	}
	if c.Direct {
		// Above even a breached call (topPriority).
		c.Priority, tier.Deadline = a.cfg.topPriority()+1, 0
	}
	var deadline time.Time
	if tier.Deadline > 0 {
		deadline = now.Add(tier.Deadline)
	}
	skills := mergeSkills(q.Skills, c.Skills)
	e, err := a.st.CreateQueueEntry(ctx, store.QueueEntry{CallID: c.CallID, Queue: q.Name, Skills: skills, Tier: c.Tier,
		Number: c.Number, Priority: c.Priority, EnteredAt: now, Deadline: deadline, Node: a.cfg.Node})
	if err != nil {
		return nil, fmt.Errorf("enqueue call %s: %w", c.CallID, err)
	}
	w := &Waiting{acd: a, entryID: e.ID, contact: c, queue: q.Name, skills: skills, enteredAt: e.EnteredAt,
		queuedAt: e.EnteredAt, deadline: e.Deadline, ch: make(chan Event, a.cfg.EventBuffer)}
	a.mu.Lock()
	a.waiting[e.ID] = w
	a.mu.Unlock()
	a.log.Info("call queued", "call_id", c.CallID, "queue", q.Name, "priority", c.Priority)
	a.poke()
	return w, nil
}

// QueueNames are the configured queues, in the configuration's order.
func (a *ACD) QueueNames() []string {
	names := make([]string, len(a.cfg.Queues))
	for i, q := range a.cfg.Queues {
		names[i] = q.Name
	}
	return names
}

// step runs the timers and the matching once.
func (a *ACD) step(ctx context.Context) error {
	a.stepMu.Lock()
	defer a.stepMu.Unlock()
	now := a.now()
	a.ringTimeouts(ctx, now)
	agents, err := a.st.ListAgents(ctx)
	if err != nil {
		return err
	}
	a.wrapUps(ctx, now, agents)
	a.timers(ctx, now)
	entries, err := a.st.OpenQueueEntries(ctx)
	if err != nil {
		return err
	}
	if a.match(ctx, now, entries, agents) {
		if entries, err = a.st.OpenQueueEntries(ctx); err != nil {
			return err
		}
	}
	a.positions(now, entries, agents)
	return nil
}

// ringTimeouts moves offers that rang too long to the next agent and sets
// the agent who did not answer away.
func (a *ACD) ringTimeouts(ctx context.Context, now time.Time) {
	a.mu.Lock()
	var due []*offer
	for _, o := range a.offers {
		if !now.Before(o.until) {
			due = append(due, o)
		}
	}
	a.mu.Unlock()
	for _, o := range due {
		err := a.st.ReleaseOffer(ctx, store.OfferChange{EntryID: o.entryID, AgentID: o.agent.ID, Actor: "system", Node: a.cfg.Node, At: now},
			store.AgentStateChange{To: store.AgentAway, Reason: ReasonRingNoAnswer, Actor: "system", Node: a.cfg.Node})
		a.dropOffer(o)
		if err != nil {
			a.log.Warn("ring-no-answer", "agent_id", o.agent.ID, "call_id", o.contact.CallID, "err", err)
			continue
		}
		a.log.Info("ring no answer", "agent_id", o.agent.ID, "call_id", o.contact.CallID)
		ag := o.agent
		ag.State, ag.Reason, ag.CallID, ag.Since = StateAway, ReasonRingNoAnswer, "", now
		a.emit(o.w, Event{Kind: EventRingNoAnswer, CallID: o.contact.CallID, Queue: o.contact.Queue, Agent: &ag})
		a.emit(nil, Event{Kind: EventAgentState, Agent: &ag})
	}
}

// dropOffer forgets o and lets its call be matched again.
func (a *ACD) dropOffer(o *offer) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if cur := a.offers[o.agent.ID]; cur == o {
		delete(a.offers, o.agent.ID)
	}
	if o.w != nil {
		o.w.offered = false
	}
}

// wrapUps ends the wrap-up of this node's agents whose time is up.
func (a *ACD) wrapUps(ctx context.Context, now time.Time, agents []store.Agent) {
	for _, sa := range agents {
		if sa.State != store.AgentWrapUp || sa.Node != a.cfg.Node {
			continue
		}
		a.mu.Lock()
		until, ok := a.wrapUntil[sa.UserID]
		a.mu.Unlock()
		if !ok {
			until = sa.Since.Add(a.cfg.WrapUp)
		}
		if now.Before(until) {
			continue
		}
		if _, err := a.change(ctx, fromStore(sa), StateAvailable, "", "system"); err != nil {
			a.log.Warn("end of wrap-up", "agent_id", sa.UserID, "err", err)
		}
	}
}

// match offers open entries, in routing order, to free agents: this node's
// waiting calls, and callbacks of any node. It says whether it offered any.
func (a *ACD) match(ctx context.Context, now time.Time, entries []store.QueueEntry, agents []store.Agent) bool {
	free := map[int64]Agent{}
	for _, sa := range agents {
		if sa.State == store.AgentAvailable {
			free[sa.UserID] = fromStore(sa)
		}
	}
	offered := false
	for _, e := range entries {
		if len(free) == 0 {
			break
		}
		var w *Waiting
		switch e.Status {
		case store.EntryWaiting:
			a.mu.Lock()
			w = a.waiting[e.ID]
			a.mu.Unlock()
			if w == nil || e.Node != a.cfg.Node {
				continue
			}
		case store.EntryCallback:
		default:
			continue
		}
		if !anyHasSkills(free, e.Skills) {
			continue
		}
		sa, err := a.st.ReserveAgent(ctx, e.ID, a.cfg.Node, now)
		if err != nil {
			continue // nobody fit after all, or another node took the callback
		}
		ag := fromStore(sa)
		delete(free, ag.ID)
		c := Contact{CallID: e.CallID, Queue: e.Queue, Skills: e.Skills, Tier: e.Tier, Number: e.Number, Priority: e.Priority, Callback: e.Callback}
		o := &offer{entryID: e.ID, agent: ag, contact: c, until: now.Add(a.cfg.RingTimeout), w: w}
		a.mu.Lock()
		a.offers[ag.ID] = o
		if w != nil {
			w.offered = true
		}
		a.mu.Unlock()
		offered = true
		a.log.Info("call offered", "call_id", e.CallID, "queue", e.Queue, "agent_id", ag.ID, "callback", e.Callback)
		a.emit(w, Event{Kind: EventOffered, CallID: e.CallID, Queue: e.Queue, Agent: &ag, Contact: &c})
		a.emit(nil, Event{Kind: EventAgentState, Agent: &ag})
	}
	return offered
}

func anyHasSkills(free map[int64]Agent, skills []string) bool {
	for _, ag := range free {
		if ag.hasSkills(skills) {
			return true
		}
	}
	return false
}

// positions tells this node's waiting calls their place in their queue and
// the estimated wait: place times the handle time, shared among the agents
// signed in with the skills.
func (a *ACD) positions(now time.Time, entries []store.QueueEntry, agents []store.Agent) {
	ahead := map[string]int{} // queue -> open entries seen so far
	for _, e := range entries {
		if e.Status != store.EntryWaiting && e.Status != store.EntryCallback {
			continue
		}
		ahead[e.Queue]++
		a.mu.Lock()
		w := a.waiting[e.ID]
		a.mu.Unlock()
		if w == nil || e.Status != store.EntryWaiting {
			continue
		}
		staffed := 0
		for _, sa := range agents {
			if sa.State != store.AgentOffline && fromStore(sa).hasSkills(e.Skills) {
				staffed++
			}
		}
		pos := ahead[e.Queue]
		ewt := time.Duration(pos) * a.cfg.HandleTime / time.Duration(max(staffed, 1))
		a.mu.Lock()
		changed := pos != w.lastPos || ewt != w.lastEWT
		w.lastPos, w.lastEWT = pos, ewt
		a.mu.Unlock()
		if changed {
			a.emit(w, Event{Kind: EventPosition, At: now, CallID: e.CallID, Queue: e.Queue, Position: pos, EstimatedWait: ewt})
		}
	}
}
