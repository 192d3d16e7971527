package agents

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/sambung/sambung/store"
)

// SetState is an agent's, or a supervisor's, choice of state for agentID:
// offline -> available or away (log in); available -> away or offline;
// away -> available, offline, or away with another reason; wrap_up ->
// available, away or offline. Ringing and on_call are left only through
// the call (Answer, Decline, Hangup, the ring timeout); anything else gives
// ErrTransition. actor is who asks: when it is not the agent, the change is
// audited as a supervisor action.
func (a *ACD) SetState(ctx context.Context, agentID int64, s State, reason, actor string) error {
	for range 3 {
		sa, err := a.st.AgentByID(ctx, agentID)
		if err != nil {
			return fmt.Errorf("set state of agent %d: %w", agentID, err)
		}
		ag := fromStore(sa)
		if !canChoose(ag.State, s) {
			return transitionError(ag, s)
		}
		_, err = a.change(ctx, ag, s, reason, actor)
		if errors.Is(err, store.ErrConflict) {
			continue // an offer or another node got there first: decide again
		}
		if err == nil && actor != ag.Name && a.al != nil {
			if aerr := a.al.Record(ctx, store.AuditEvent{Actor: actor, Action: "agent.state", Target: ag.Name,
				Detail: map[string]string{"from": string(ag.State), "to": string(s), "reason": reason}}); aerr != nil {
				a.log.Warn("audit of an agent state change failed", "agent_id", agentID, "err", aerr)
			}
		}
		return err
	}
	return fmt.Errorf("set state of agent %d: it kept changing: %w", agentID, store.ErrConflict)
}

// change moves ag from its state to s, joining the idle line when s is
// available, and tells subscribers.
func (a *ACD) change(ctx context.Context, ag Agent, s State, reason, actor string) (Agent, error) {
	now := a.now()
	c := store.AgentStateChange{AgentID: ag.ID, From: string(ag.State), To: string(s), Reason: reason, Actor: actor,
		Node: a.cfg.Node, At: now}
	if s == StateAvailable {
		c.IdleSince = now
	}
	sa, err := a.st.SetAgentState(ctx, c)
	if err != nil {
		return Agent{}, err
	}
	a.mu.Lock()
	delete(a.wrapUntil, ag.ID)
	a.mu.Unlock()
	out := fromStore(sa)
	a.emit(nil, Event{Kind: EventAgentState, Agent: &out})
	if s == StateAvailable {
		a.poke()
	}
	return out, nil
}

// takeOffer finds and removes this node's offer of callID to agentID.
func (a *ACD) takeOffer(agentID int64, callID string) (*offer, error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	o := a.offers[agentID]
	if o == nil || o.contact.CallID != callID {
		return nil, fmt.Errorf("agent %d, call %s: %w", agentID, callID, ErrNoOffer)
	}
	delete(a.offers, agentID)
	return o, nil
}

// Answer: the agent accepted the offer of callID and is now on the call;
// its Waiting gets Answered. The offer must have been made on this node
// (the node that holds the call); else ErrNoOffer.
func (a *ACD) Answer(ctx context.Context, agentID int64, callID string) error {
	o, err := a.takeOffer(agentID, callID)
	if err != nil {
		return fmt.Errorf("answer: %w", err)
	}
	e, err := a.st.AnswerOffer(ctx, store.OfferChange{EntryID: o.entryID, AgentID: agentID, Actor: o.agent.Name, Node: a.cfg.Node, At: a.now()})
	if err != nil {
		return fmt.Errorf("answer: %w", err)
	}
	ag := o.agent
	ag.State, ag.CallID, ag.Since = StateOnCall, callID, e.Answered
	a.mu.Lock()
	a.answered[agentID] = answeredCall{callID: callID, queue: e.Queue}
	if o.w != nil {
		o.w.ended, o.w.offered = true, false
		delete(a.waiting, o.entryID)
	}
	a.mu.Unlock()
	a.emit(o.w, Event{Kind: EventAnswered, CallID: callID, Queue: e.Queue, Agent: &ag, Waited: e.Waited})
	a.emit(nil, Event{Kind: EventAgentState, Agent: &ag})
	return nil
}

// Decline: the agent turned the offer down. The call waits again, keeping
// its place, and is offered to the next agent. The agent stays available
// but goes to the back of the idle line, so a declined call goes to
// someone else when anyone else with the skills is free, and comes back
// only when nobody else is.
func (a *ACD) Decline(ctx context.Context, agentID int64, callID string) error {
	o, err := a.takeOffer(agentID, callID)
	if err != nil {
		return fmt.Errorf("decline: %w", err)
	}
	now := a.now()
	err = a.st.ReleaseOffer(ctx, store.OfferChange{EntryID: o.entryID, AgentID: agentID, Actor: o.agent.Name, Node: a.cfg.Node, At: now},
		store.AgentStateChange{To: store.AgentAvailable, Reason: ReasonDeclined, Actor: o.agent.Name, Node: a.cfg.Node, IdleSince: now})
	a.dropOffer(o)
	if err != nil {
		return fmt.Errorf("decline: %w", err)
	}
	ag := o.agent
	ag.State, ag.Reason, ag.CallID, ag.Since, ag.IdleSince = StateAvailable, ReasonDeclined, "", now, now
	a.emit(o.w, Event{Kind: EventDeclined, CallID: callID, Queue: o.contact.Queue, Agent: &ag})
	a.emit(nil, Event{Kind: EventAgentState, Agent: &ag})
	a.poke()
	return nil
}

// Hangup: the agent's call ended. The agent goes to wrap-up for the
// queue's wrap-up time, then back to available by itself, unless the agent
// chose another state meanwhile.
func (a *ACD) Hangup(ctx context.Context, agentID int64, callID string) error {
	sa, err := a.st.AgentByID(ctx, agentID)
	if err != nil {
		return fmt.Errorf("hang up: %w", err)
	}
	ag := fromStore(sa)
	if ag.State != StateOnCall || ag.CallID != callID {
		return fmt.Errorf("hang up: agent %s is %s on call %q, not on %s: %w", ag.Name, ag.State, ag.CallID, callID, ErrTransition)
	}
	now := a.now()
	wrap := a.cfg.WrapUp
	if e, err := a.queueOfCall(agentID, callID); err == nil {
		if q, ok := a.cfg.queue(e); ok {
			wrap = q.wrapUp(wrap)
		}
	}
	sa, err = a.st.SetAgentState(ctx, store.AgentStateChange{AgentID: agentID, From: store.AgentOnCall, To: store.AgentWrapUp,
		CallID: callID, Actor: ag.Name, Node: a.cfg.Node, At: now})
	if err != nil {
		return fmt.Errorf("hang up: %w", err)
	}
	a.mu.Lock()
	a.wrapUntil[agentID] = now.Add(wrap)
	delete(a.answered, agentID)
	a.mu.Unlock()
	out := fromStore(sa)
	a.emit(nil, Event{Kind: EventAgentState, Agent: &out})
	return nil
}

// queueOfCall is the queue the agent's call came through, if this node
// still knows it.
func (a *ACD) queueOfCall(agentID int64, callID string) (string, error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if q, ok := a.answered[agentID]; ok && q.callID == callID {
		return q.queue, nil
	}
	return "", ErrNoOffer
}

// FinishWrapUp ends the agent's wrap-up early: the agent is available.
func (a *ACD) FinishWrapUp(ctx context.Context, agentID int64) error {
	sa, err := a.st.AgentByID(ctx, agentID)
	if err != nil {
		return fmt.Errorf("finish wrap-up: %w", err)
	}
	ag := fromStore(sa)
	if ag.State != StateWrapUp {
		return fmt.Errorf("finish wrap-up: %w", transitionError(ag, StateAvailable))
	}
	if _, err := a.change(ctx, ag, StateAvailable, "", ag.Name); err != nil {
		return fmt.Errorf("finish wrap-up: %w", err)
	}
	return nil
}

// Agents lists every agent, ordered by name.
func (a *ACD) Agents(ctx context.Context) ([]Agent, error) {
	sas, err := a.st.ListAgents(ctx)
	if err != nil {
		return nil, err
	}
	out := make([]Agent, len(sas))
	for i, sa := range sas {
		out[i] = fromStore(sa)
	}
	return out, nil
}

// Agent gives one agent; store.ErrNotFound for an unknown one.
func (a *ACD) Agent(ctx context.Context, id int64) (Agent, error) {
	sa, err := a.st.AgentByID(ctx, id)
	if err != nil {
		return Agent{}, err
	}
	return fromStore(sa), nil
}

// UpsertAgent makes the user ag.ID an agent (offline at first), or sets
// its skills, team and level. Its state is left alone.
func (a *ACD) UpsertAgent(ctx context.Context, ag Agent) (Agent, error) {
	sa, err := a.st.PutAgent(ctx, store.Agent{UserID: ag.ID, Team: ag.Team, Level: ag.Level, Skills: ag.Skills})
	if err != nil {
		return Agent{}, err
	}
	return fromStore(sa), nil
}

// QueueStatus is one queue's wallboard figures.
type QueueStatus struct {
	Name         string
	Waiting      int           // calls waiting or ringing now, on every node
	Callbacks    int           // open callbacks
	LongestWait  time.Duration // of the calls waiting now
	ServiceLevel time.Duration
	// Today counts from midnight in the time zone of Config.Now.
	AnsweredToday       int
	AnsweredInTimeToday int // within ServiceLevel
	AbandonedToday      int
	AbandonedWaitToday  time.Duration // the sum of the abandoned calls' waits
}

// Queues gives every configured queue's figures, in configuration order.
func (a *ACD) Queues(ctx context.Context) ([]QueueStatus, error) {
	now := a.now()
	midnight := time.Date(now.Year(), now.Month(), now.Day(), 0, 0, 0, 0, now.Location())
	out := make([]QueueStatus, 0, len(a.cfg.Queues))
	for _, q := range a.cfg.Queues {
		st, err := a.st.QueueStats(ctx, q.Name, midnight, q.ServiceLevel)
		if err != nil {
			return nil, err
		}
		qs := QueueStatus{Name: q.Name, Waiting: st.Waiting, Callbacks: st.Callbacks, ServiceLevel: q.ServiceLevel,
			AnsweredToday: st.Answered, AnsweredInTimeToday: st.AnsweredInTime, AbandonedToday: st.Abandoned,
			AbandonedWaitToday: st.AbandonedWait}
		if !st.OldestEntered.IsZero() {
			qs.LongestWait = max(now.Sub(st.OldestEntered), 0)
		}
		out = append(out, qs)
	}
	return out, nil
}

// Callback is an open callback: a caller waiting, with no call, for an agent
// to call back.
type Callback struct {
	EntryID   int64
	Contact   Contact
	EnteredAt time.Time // the caller's original place
	Offered   bool      // an agent rings for it now
	AgentID   int64
}

// Callbacks lists the open callbacks in the order they will be offered.
func (a *ACD) Callbacks(ctx context.Context) ([]Callback, error) {
	es, err := a.st.OpenQueueEntries(ctx)
	if err != nil {
		return nil, err
	}
	var out []Callback
	for _, e := range es {
		if !e.Callback {
			continue
		}
		out = append(out, Callback{EntryID: e.ID, EnteredAt: e.EnteredAt, Offered: e.Status == store.EntryOffered, AgentID: e.AgentID,
			Contact: Contact{CallID: e.CallID, Queue: e.Queue, Skills: e.Skills, Tier: e.Tier, Number: e.Number, Priority: e.Priority, Callback: true}})
	}
	return out, nil
}

// AgentStatus is one agent on the wallboard: who they are, their state
// now, and what they did today.
type AgentStatus struct {
	Agent
	// HandledToday counts the calls they answered today; HandleTimeToday is
	// their time on calls and in wrap-up today (the current stretch up to
	// now), so HandleTimeToday / HandledToday is their average handle time.
	// Today starts at midnight in the time zone of Config.Now.
	HandledToday    int
	HandleTimeToday time.Duration
}

// AgentStatuses gives every agent's wallboard figures, ordered by name.
func (a *ACD) AgentStatuses(ctx context.Context) ([]AgentStatus, error) {
	now := a.now()
	midnight := time.Date(now.Year(), now.Month(), now.Day(), 0, 0, 0, 0, now.Location())
	ags, err := a.Agents(ctx)
	if err != nil {
		return nil, err
	}
	changes, err := a.st.AgentStatesSince(ctx, midnight)
	if err != nil {
		return nil, err
	}
	type day struct {
		handled int
		busy    time.Duration
	}
	days := map[int64]*day{}
	for i, c := range changes {
		d := days[c.AgentID]
		if d == nil {
			d = &day{}
			days[c.AgentID] = d
		}
		if State(c.State) == StateOnCall {
			d.handled++
		}
		if s := State(c.State); s != StateOnCall && s != StateWrapUp {
			continue
		}
		end := now
		if i+1 < len(changes) && changes[i+1].AgentID == c.AgentID {
			end = changes[i+1].At
		}
		d.busy += max(end.Sub(c.At), 0)
	}
	out := make([]AgentStatus, len(ags))
	for i, ag := range ags {
		out[i] = AgentStatus{Agent: ag}
		if d := days[ag.ID]; d != nil {
			out[i].HandledToday, out[i].HandleTimeToday = d.handled, d.busy
		}
	}
	return out, nil
}

// Move sends a call waiting on this node to another queue, or to one
// agent (to, when set; queue is then ignored): it rings them alone, ahead
// of every other call, as a consult does, and no timer moves it on. It
// keeps the caller's original entry time. actor is the supervisor, for the
// audit trail. A call that is not waiting here gives ErrNotWaiting.
func (a *ACD) Move(ctx context.Context, callID, queue string, to *Agent, actor string) error {
	a.mu.Lock()
	var w *Waiting
	for _, x := range a.waiting {
		if x.contact.CallID == callID && !x.offered && !x.ended {
			w = x
			break
		}
	}
	var priority int
	var from string
	if w != nil {
		priority, from = w.contact.Priority, w.queue
	}
	a.mu.Unlock()
	if w == nil {
		return fmt.Errorf("move call %s: %w", callID, ErrNotWaiting)
	}
	var skills []string
	target := queue
	if to != nil {
		queue, skills, priority, target = from, []string{store.AgentSkill(to.ID)}, a.cfg.topPriority()+1, "agent "+to.Name
	} else {
		q, ok := a.cfg.queue(queue)
		if !ok {
			return fmt.Errorf("move call %s: queue %q is not configured", callID, queue)
		}
		skills = mergeSkills(q.Skills, w.contact.Skills)
	}
	now := a.now()
	if err := a.st.RouteQueueEntry(ctx, w.entryID, queue, skills, priority, now); err != nil {
		if errors.Is(err, store.ErrConflict) {
			return fmt.Errorf("move call %s: %w", callID, ErrNotWaiting)
		}
		return fmt.Errorf("move call %s: %w", callID, err)
	}
	a.mu.Lock()
	w.queue, w.skills, w.queuedAt, w.widened, w.contact.Priority = queue, skills, now, 0, priority
	w.contact.Direct = w.contact.Direct || to != nil
	a.mu.Unlock()
	if a.al != nil {
		if err := a.al.Record(ctx, store.AuditEvent{Actor: actor, Action: "call.move", Target: callID,
			Detail: map[string]string{"from": from, "to": target}}); err != nil {
			a.log.Warn("audit of a moved call failed", "call_id", callID, "err", err)
		}
	}
	a.emit(w, Event{Kind: EventMoved, CallID: callID, Queue: queue, Skills: skills, Agent: to, By: actor})
	a.poke()
	return nil
}
