package agents

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"github.com/sambung/sambung/store"
)

// Contact is a call (or a callback) asking for an agent.
type Contact struct {
	CallID string
	// Queue is the queue it enters.
	Queue string
	// Skills are the contact's own required skills: its language and intent
	// category, e.g. "lang:id", "topic:billing". The queue's skills are
	// added to them.
	Skills []string
	// Tier is the customer tier; it gives the priority and the deadline.
	Tier string
	// Number is the caller's number, where a callback goes.
	Number string
	// Priority, if not zero, overrides the tier's priority.
	Priority int
	// Callback is set by the ACD on the contact of a callback offer: the
	// agent is to call Number back, the dialling is done elsewhere.
	Callback bool
	// Direct marks a ring of one named agent on behalf of another (a
	// consult): it goes ahead of every waiting call, and no timer applies
	// to it (no widening, overflow, service level, deadline or maximum
	// wait). Whoever asked gives up on it when they choose, by Close.
	Direct bool
}

// EventKind says what an Event reports.
type EventKind string

// The event kinds. A Waiting receives those about its own call; Subscribe
// receives them all, with agent state changes.
const (
	EventOffered             EventKind = "offered"               // Agent rings for the call (or callback)
	EventAnswered            EventKind = "answered"              // Agent took it
	EventRingNoAnswer        EventKind = "ring_no_answer"        // Agent did not answer in time; the call waits again
	EventDeclined            EventKind = "declined"              // Agent declined; the call waits again
	EventPosition            EventKind = "position"              // Position and EstimatedWait changed
	EventWidened             EventKind = "widened"               // required Skills are now fewer
	EventOverflowed          EventKind = "overflowed"            // the call moved to Queue
	EventDeadlineBreached    EventKind = "deadline_breached"     // the tier's deadline passed; Action says what follows
	EventServiceLevelWarning EventKind = "service_level_warning" // the call is about to miss the queue's service level
	EventMaxWait             EventKind = "max_wait"              // the queue's MaxWait passed; Action is what to offer
	EventAbandoned           EventKind = "abandoned"             // the caller hung up; Waited says after how long
	EventLeft                EventKind = "left"                  // the call left the queue (voicemail, closed)
	EventCallbackRequested   EventKind = "callback_requested"    // the call became a callback
	EventMoved               EventKind = "moved"                 // a supervisor (By) moved the call to Queue, or to one agent (Agent)
	EventAgentState          EventKind = "agent_state"           // Agent changed state
)

// Event is one thing that happened in the ACD. Fields that do not apply to
// the Kind are zero.
type Event struct {
	Kind          EventKind
	At            time.Time
	CallID        string
	Queue         string
	Agent         *Agent   // offered, answered, ring_no_answer, declined, agent_state
	Contact       *Contact // offered: who the agent is to talk to (Callback set for callbacks)
	Position      int      // position: 1 is next
	EstimatedWait time.Duration
	Skills        []string      // widened
	Action        string        // deadline_breached, max_wait: "callback", "voicemail", "raise", "widen" or ""
	Waited        time.Duration // abandoned, answered
	By            string        // moved: the supervisor
}

// Waiting is a call in the queue, as its owner (the call) sees it. Its
// methods are safe for concurrent use.
type Waiting struct {
	acd     *ACD
	entryID int64
	contact Contact // Priority is the effective one

	// Routing state, guarded by acd.mu.
	queue     string
	skills    []string
	enteredAt time.Time
	queuedAt  time.Time
	deadline  time.Time
	widened   int // widening steps of the current queue applied
	slWarned  bool
	breached  bool
	maxWaited bool
	offered   bool // an agent rings for it now
	ended     bool // answered, abandoned, left or turned into a callback
	lastPos   int
	lastEWT   time.Duration

	mu      sync.Mutex // guards ch and closed
	ch      chan Event
	closed  bool
	dropped atomic.Int64
}

// Events delivers what happens to the call. The channel is bounded and the
// ACD never waits for it: when it is full, events are dropped and counted
// (Dropped). Position events are sent only while the channel is less than
// half full, so they never crowd out the others; a later one carries the
// news. The channel is closed by Close.
func (w *Waiting) Events() <-chan Event { return w.ch }

// Dropped says how many events were dropped because Events was full.
func (w *Waiting) Dropped() int64 { return w.dropped.Load() }

// Deadline is the tier's service deadline for the call, computed when it
// entered the queue; zero when its tier has none.
func (w *Waiting) Deadline() time.Time { return w.deadline }

// EntryID is the call's queue entry in the store.
func (w *Waiting) EntryID() int64 { return w.entryID }

// send delivers e without blocking.
func (w *Waiting) send(e Event) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.closed {
		return
	}
	if e.Kind == EventPosition && len(w.ch) >= cap(w.ch)/2 {
		w.dropped.Add(1)
		return
	}
	select {
	case w.ch <- e:
	default:
		w.dropped.Add(1)
	}
}

// Abandon records that the caller hung up while waiting, with how long
// they waited. An agent ringing for the call is freed.
func (w *Waiting) Abandon(ctx context.Context) error {
	return w.end(ctx, store.EntryAbandoned, "caller_hangup", EventAbandoned)
}

// Leave takes the call out of the queue for another reason (it went to
// voicemail, the flow moved on). Its wait is recorded.
func (w *Waiting) Leave(ctx context.Context, reason string) error {
	return w.end(ctx, store.EntryLeft, reason, EventLeft)
}

func (w *Waiting) end(ctx context.Context, status, reason string, kind EventKind) error {
	a := w.acd
	a.mu.Lock()
	if w.ended {
		a.mu.Unlock()
		return nil
	}
	a.mu.Unlock()
	e, err := a.st.EndQueueEntry(ctx, w.entryID, status, reason, a.now())
	if err != nil {
		return fmt.Errorf("call %s leaves queue %s: %w", w.contact.CallID, w.queue, err)
	}
	a.mu.Lock()
	w.ended = true
	delete(a.waiting, w.entryID)
	for id, o := range a.offers {
		if o.entryID == w.entryID {
			delete(a.offers, id)
		}
	}
	a.mu.Unlock()
	a.emit(w, Event{Kind: kind, CallID: e.CallID, Queue: e.Queue, Waited: e.Waited})
	a.poke()
	return nil
}

// RequestCallback turns the waiting call into a stored callback that keeps
// its place and priority; the call may then end. A number with an open
// callback already gives ErrCallbackExists. A call ringing an agent cannot
// become a callback (store.ErrConflict).
func (w *Waiting) RequestCallback(ctx context.Context) error {
	a := w.acd
	e, err := a.st.RequestCallback(ctx, w.entryID)
	if errors.Is(err, store.ErrExists) {
		err = ErrCallbackExists
	}
	outcome := "ok"
	if err != nil {
		outcome = "error"
	}
	if a.al != nil {
		if aerr := a.al.Record(ctx, store.AuditEvent{Actor: "system", Action: "callback.request", Target: w.contact.CallID,
			Outcome: outcome, Detail: map[string]string{"queue": w.queue, "number": w.contact.Number}}); aerr != nil {
			a.log.Warn("audit of a callback request failed", "call_id", w.contact.CallID, "err", aerr)
		}
	}
	if err != nil {
		return fmt.Errorf("callback for call %s: %w", w.contact.CallID, err)
	}
	a.mu.Lock()
	w.ended = true
	delete(a.waiting, w.entryID)
	a.mu.Unlock()
	a.emit(w, Event{Kind: EventCallbackRequested, CallID: e.CallID, Queue: e.Queue})
	a.poke()
	return nil
}

// Close ends the Waiting: a call still in the queue leaves it (reason
// "closed"), and Events is closed. It is idempotent.
func (w *Waiting) Close() {
	a := w.acd
	a.mu.Lock()
	open := !w.ended
	a.mu.Unlock()
	if open {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		if err := w.Leave(ctx, "closed"); err != nil {
			a.log.Warn("closing a waiting call", "call_id", w.contact.CallID, "err", err)
		}
		cancel()
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	if !w.closed {
		w.closed = true
		close(w.ch)
	}
}
