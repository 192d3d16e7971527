package agents

import (
	"context"
	"slices"
	"time"
)

// timers runs each waiting call's clocks: the service-level warning, the
// tier's deadline, widening, overflow and the maximum wait. Widening and
// overflow count the wait in the present queue; the service level, the
// deadline and the maximum wait count from entering the first queue, as
// the caller does.
func (a *ACD) timers(ctx context.Context, now time.Time) {
	a.mu.Lock()
	calls := make([]*Waiting, 0, len(a.waiting))
	for _, w := range a.waiting {
		if !w.offered && !w.ended && !w.contact.Direct {
			calls = append(calls, w)
		}
	}
	a.mu.Unlock()
	for _, w := range calls {
		a.callTimers(ctx, now, w)
	}
}

func (a *ACD) callTimers(ctx context.Context, now time.Time, w *Waiting) {
	a.mu.Lock()
	queue, skills, priority := w.queue, slices.Clone(w.skills), w.contact.Priority
	waited, inQueue := now.Sub(w.enteredAt), now.Sub(w.queuedAt)
	slDue, breachDue, maxDue := false, false, false
	q, _ := a.cfg.queue(queue)
	if q.ServiceLevel > 0 && !w.slWarned && float64(waited) >= a.cfg.ServiceLevelWarn*float64(q.ServiceLevel) {
		w.slWarned, slDue = true, true
	}
	if !w.deadline.IsZero() && !w.breached && !now.Before(w.deadline) {
		w.breached, breachDue = true, true
	}
	if q.MaxWait > 0 && !w.maxWaited && waited >= q.MaxWait {
		w.maxWaited, maxDue = true, true
	}
	steps := w.widened
	a.mu.Unlock()

	c := w.contact
	if slDue {
		a.emit(w, Event{Kind: EventServiceLevelWarning, CallID: c.CallID, Queue: queue})
	}
	widenTo := steps
	for widenTo < len(q.Widen) && inQueue >= q.Widen[widenTo].After {
		widenTo++
	}
	var action string
	if breachDue {
		tier, _ := a.cfg.tier(c.Tier)
		action = tier.OnBreach
		switch action {
		case BreachRaise:
			priority = max(priority+1, a.cfg.topPriority())
		case BreachWiden:
			widenTo = len(q.Widen)
		}
		a.emit(w, Event{Kind: EventDeadlineBreached, CallID: c.CallID, Queue: queue, Action: action})
	}
	if o := q.Overflow; o != nil && inQueue >= o.After {
		to, _ := a.cfg.queue(o.To)
		newSkills := mergeSkills(to.Skills, c.Skills)
		if a.route(ctx, w, to.Name, newSkills, priority, now) {
			a.mu.Lock()
			w.queue, w.skills, w.queuedAt, w.widened, w.contact.Priority = to.Name, newSkills, now, 0, priority
			a.mu.Unlock()
			a.emit(w, Event{Kind: EventOverflowed, CallID: c.CallID, Queue: to.Name, Skills: newSkills})
		}
	} else if widenTo > steps || priority != c.Priority {
		for _, st := range q.Widen[steps:widenTo] {
			skills = dropSkills(skills, st.Drop)
		}
		if a.route(ctx, w, queue, skills, priority, w.queuedAt) {
			a.mu.Lock()
			w.skills, w.widened, w.contact.Priority = skills, widenTo, priority
			a.mu.Unlock()
			if widenTo > steps {
				a.emit(w, Event{Kind: EventWidened, CallID: c.CallID, Queue: queue, Skills: skills})
			}
		}
	}
	if maxDue {
		a.emit(w, Event{Kind: EventMaxWait, CallID: c.CallID, Queue: queue, Action: q.AtMaxWait})
	}
}

// route stores a call's new queue, skills and priority. A call that has
// moved on meanwhile (offered, ended) is left alone.
func (a *ACD) route(ctx context.Context, w *Waiting, queue string, skills []string, priority int, queuedAt time.Time) bool {
	if err := a.st.RouteQueueEntry(ctx, w.entryID, queue, skills, priority, queuedAt); err != nil {
		a.log.Warn("reroute a waiting call", "call_id", w.contact.CallID, "queue", queue, "err", err)
		return false
	}
	return true
}
