package agents

import (
	"errors"
	"fmt"
	"time"
)

// Config is what the ACD needs to know; cmd fills it from the
// configuration file. Zero values are useful: defaults are filled by
// withDefaults, in one place.
type Config struct {
	// Node names this server; queue entries and offers are stored with it.
	// Empty means "local".
	Node string
	// Queues are the queues calls can enter.
	Queues []QueueConfig
	// Tiers give customer tiers their priority and service deadline. A
	// contact whose tier is not listed has priority 0 and no deadline.
	Tiers []Tier
	// RingTimeout is how long an offer rings before it goes to the next
	// agent and the first is set away ("ring_no_answer"). Zero means 20 s.
	RingTimeout time.Duration
	// WrapUp is how long an agent stays in wrap-up after a call, unless the
	// queue says otherwise. Zero means 30 s.
	WrapUp time.Duration
	// Poll is how often the ACD looks again at the shared state: agents
	// freed on other nodes, callbacks, timers. Zero means 1 s.
	Poll time.Duration
	// ServiceLevelWarn is the share of a queue's service level after which a
	// waiting call raises a warning. Zero means 0.8.
	ServiceLevelWarn float64
	// HandleTime is the average call length used to estimate waits. Zero
	// means 3 minutes.
	HandleTime time.Duration
	// EventBuffer is the size of each Waiting's event channel. Zero means 32.
	EventBuffer int
	// Now tells the time; nil means time.Now. Tests pass a fake clock.
	Now func() time.Time
}

// QueueConfig is one queue.
type QueueConfig struct {
	// Name names the queue, e.g. "support".
	Name string
	// Skills are required of every agent taking the queue's calls, on top
	// of the contact's own skills.
	Skills []string
	// ServiceLevel is the answer time the queue aims at: calls answered
	// within it count as in time. Zero means the queue has none.
	ServiceLevel time.Duration
	// Widen drops required skills after the call has waited in this queue
	// for each step's After, in order.
	Widen []Widen
	// Overflow, if set, moves a call to another queue after it has waited
	// in this one for Overflow.After.
	Overflow *Overflow
	// MaxWait is the longest a caller should wait (counted from entering
	// the first queue); then the call is told AtMaxWait. Zero means no limit.
	MaxWait time.Duration
	// AtMaxWait is what to offer at MaxWait: "voicemail", "callback" or ""
	// (just the event).
	AtMaxWait string
	// WrapUp overrides Config.WrapUp for this queue's calls when non-zero.
	WrapUp time.Duration
}

// Widen is one step of widening a call's required skills.
type Widen struct {
	// After is the wait in the queue before this step applies.
	After time.Duration
	// Drop lists skills to drop: a name ("topic:billing") or a prefix
	// ending in a colon ("topic:") that drops every skill it starts.
	Drop []string
}

// Overflow moves calls to another queue.
type Overflow struct {
	After time.Duration
	To    string
}

// Tier is a customer tier.
type Tier struct {
	// Name is the tier a contact carries, e.g. "vip", "gold".
	Name string
	// Priority orders calls: higher first. Calls of equal priority go by
	// how long they have waited.
	Priority int
	// Deadline is the tier's service promise ("VIP: answer within 20 s"),
	// counted from entering the queue. Zero means none.
	Deadline time.Duration
	// OnBreach is what happens when the deadline passes: "raise" (the call
	// goes ahead of every tier), "widen" (every widening step of its queue
	// applies at once), "callback" (the call is told to offer a callback),
	// or "" (only the event).
	OnBreach string
}

// What a deadline breach does (Tier.OnBreach) and what is offered at the
// maximum wait (QueueConfig.AtMaxWait).
const (
	BreachRaise    = "raise"
	BreachWiden    = "widen"
	OfferCallback  = "callback"
	OfferVoicemail = "voicemail"
)

// Validate checks cfg and returns every problem found, each naming the
// queue or tier and the field.
func (cfg Config) Validate() error {
	var errs []error
	bad := func(format string, args ...any) { errs = append(errs, fmt.Errorf(format, args...)) }
	queues := map[string]bool{}
	for i, q := range cfg.Queues {
		if q.Name == "" {
			bad("agents: queues[%d]: name is empty", i)
			continue
		}
		if queues[q.Name] {
			bad("agents: queue %q: defined twice", q.Name)
		}
		queues[q.Name] = true
	}
	for _, q := range cfg.Queues {
		if q.ServiceLevel < 0 || q.MaxWait < 0 || q.WrapUp < 0 {
			bad("agents: queue %q: service_level, max_wait and wrap_up may not be negative", q.Name)
		}
		var last time.Duration
		for i, w := range q.Widen {
			if w.After <= 0 || w.After < last {
				bad("agents: queue %q: widen[%d].after must be positive and not before the step above it", q.Name, i)
			}
			if len(w.Drop) == 0 {
				bad("agents: queue %q: widen[%d].drop names no skill", q.Name, i)
			}
			last = w.After
		}
		if o := q.Overflow; o != nil {
			switch {
			case o.After <= 0:
				bad("agents: queue %q: overflow.after must be positive", q.Name)
			case o.To == q.Name:
				bad("agents: queue %q: overflow.to is the queue itself", q.Name)
			case !queues[o.To]:
				bad("agents: queue %q: overflow.to %q is not a configured queue", q.Name, o.To)
			}
		}
		switch q.AtMaxWait {
		case "", OfferVoicemail, OfferCallback:
		default:
			bad("agents: queue %q: at_max_wait %q is not one of voicemail, callback or empty", q.Name, q.AtMaxWait)
		}
	}
	tiers := map[string]bool{}
	for i, t := range cfg.Tiers {
		if t.Name == "" {
			bad("agents: tiers[%d]: name is empty", i)
		} else if tiers[t.Name] {
			bad("agents: tier %q: defined twice", t.Name)
		}
		tiers[t.Name] = true
		if t.Deadline < 0 {
			bad("agents: tier %q: deadline may not be negative", t.Name)
		}
		switch t.OnBreach {
		case "", BreachRaise, BreachWiden, OfferCallback:
		default:
			bad("agents: tier %q: on_breach %q is not one of raise, widen, callback or empty", t.Name, t.OnBreach)
		}
	}
	if cfg.ServiceLevelWarn < 0 || cfg.ServiceLevelWarn > 1 {
		bad("agents: service_level_warn %v must be between 0 and 1", cfg.ServiceLevelWarn)
	}
	return errors.Join(errs...)
}

// withDefaults fills the zero fields of cfg.
func (cfg Config) withDefaults() Config {
	if cfg.Node == "" {
		cfg.Node = "local"
	}
	if cfg.RingTimeout <= 0 {
		cfg.RingTimeout = 20 * time.Second
	}
	if cfg.WrapUp <= 0 {
		cfg.WrapUp = 30 * time.Second
	}
	if cfg.Poll <= 0 {
		cfg.Poll = time.Second
	}
	if cfg.ServiceLevelWarn == 0 {
		cfg.ServiceLevelWarn = 0.8
	}
	if cfg.HandleTime <= 0 {
		cfg.HandleTime = 3 * time.Minute
	}
	if cfg.EventBuffer <= 0 {
		cfg.EventBuffer = 32
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	return cfg
}

func (cfg *Config) queue(name string) (QueueConfig, bool) {
	for _, q := range cfg.Queues {
		if q.Name == name {
			return q, true
		}
	}
	return QueueConfig{}, false
}

func (cfg *Config) tier(name string) (Tier, bool) {
	for _, t := range cfg.Tiers {
		if t.Name == name {
			return t, true
		}
	}
	return Tier{}, false
}

// topPriority is the priority a breached call is raised to: above every tier.
func (cfg *Config) topPriority() int {
	top := 0
	for _, t := range cfg.Tiers {
		top = max(top, t.Priority)
	}
	return top + 1
}

func (q QueueConfig) wrapUp(def time.Duration) time.Duration {
	if q.WrapUp > 0 {
		return q.WrapUp
	}
	return def
}
