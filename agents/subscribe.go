package agents

import (
	"context"
	"sync/atomic"
)

// subscriber is one live listener of Subscribe.
type subscriber struct {
	ch      chan Event
	dropped atomic.Int64
}

// Subscribe delivers every ACD event (agent state changes, offers, queue
// events; not the per-call Position events) to a channel of buffer events,
// for the web layer to push live. The ACD never waits for it: when it is
// full, events are dropped and counted. The returned function ends the
// subscription and closes the channel; it is idempotent.
func (a *ACD) Subscribe(buffer int) (<-chan Event, func()) {
	s := &subscriber{ch: make(chan Event, max(buffer, 1))}
	a.mu.Lock()
	a.subs[s] = struct{}{}
	a.mu.Unlock()
	return s.ch, func() {
		a.mu.Lock()
		defer a.mu.Unlock()
		if _, ok := a.subs[s]; ok {
			delete(a.subs, s)
			close(s.ch)
		}
	}
}

// Follow calls f with each event (as Subscribe delivers them, buffering
// up to buffer) until ctx ends.
func (a *ACD) Follow(ctx context.Context, buffer int, f func(Event)) {
	evs, stop := a.Subscribe(buffer)
	defer stop()
	for {
		select {
		case <-ctx.Done():
			return
		case e, ok := <-evs:
			if !ok {
				return
			}
			f(e)
		}
	}
}

// Dropped says how many events subscribers missed because they were full.
func (a *ACD) Dropped() int64 { return a.dropped.Load() }

// emit sends e to w, if any, and to every subscriber, never waiting.
func (a *ACD) emit(w *Waiting, e Event) {
	if e.At.IsZero() {
		e.At = a.now()
	}
	if w != nil {
		w.send(e)
	}
	if e.Kind == EventPosition {
		return
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	for s := range a.subs {
		select {
		case s.ch <- e:
		default:
			s.dropped.Add(1)
			a.dropped.Add(1)
		}
	}
}
