package calls

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"sync"
	"sync/atomic"
	"time"

	"github.com/sambung/sambung/agents"
)

// Alerts warn supervisors of trouble coming, on their page and at a
// webhook: a call about to miss its queue's service level, a caller who
// turns negative or sounds angry, a caller on hold too long, an agent away
// too long. Each is raised once per occurrence (once per call for the
// caller's mood and the service level, once per hold, once per stretch
// away). They come from the call's own timeline as it is written and
// from the ACD's events, so raising one costs the call nothing; delivery
// runs on a goroutine of its own, and a slow or dead webhook never holds
// anything up (it is tried three times, then dropped and logged).

// Alert kinds.
const (
	AlertServiceLevel   = "service_level"   // a waiting call is about to miss its queue's service level
	AlertAngryCaller    = "angry_caller"    // the caller said something angry, or negative in a raised voice
	AlertNegativeCaller = "negative_caller" // the caller's mood turned negative over the call
	AlertLongHold       = "long_hold"       // the agent has held the caller for AlertConfig.LongHold
	AlertAwayTooLong    = "away_too_long"   // an agent has been away for AlertConfig.AwayTooLong
)

// Alert is one warning for supervisors, as their page and the webhook get
// it.
type Alert struct {
	Kind   string    `json:"kind"`
	At     time.Time `json:"at"`
	Node   string    `json:"node"`
	CallID string    `json:"call_id,omitempty"`
	Queue  string    `json:"queue,omitempty"`
	Agent  string    `json:"agent,omitempty"`
	Caller string    `json:"caller,omitempty"`
	// Text says it in a sentence, for people.
	Text string `json:"text"`
}

// AlertConfig configures the alerts (DeskConfig.Alerts).
type AlertConfig struct {
	// Webhook, if set, receives each alert as a JSON POST.
	Webhook string
	// LongHold is how long a caller may be on hold before an alert
	// (default 2m; negative: never).
	LongHold time.Duration
	// AwayTooLong is how long an agent may be away before an alert
	// (default 15m; negative: never).
	AwayTooLong time.Duration
	// Publish, if set, gives each alert to the supervisors' pages.
	Publish func(Alert)
}

// alertBuffer bounds the alerts waiting for delivery; more are dropped
// and counted.
const alertBuffer = 256

// alerter raises and delivers the alerts of one node's desk.
type alerter struct {
	cfg    AlertConfig
	node   string
	log    *slog.Logger
	client *http.Client
	out    chan Alert

	mu      sync.Mutex
	raised  map[string]bool        // call id + kind, for once-per-call alerts
	holds   map[string]*time.Timer // call id -> the long-hold timer
	aways   map[int64]*time.Timer  // agent id -> the away timer
	stopped bool

	dropped atomic.Int64
}

func newAlerter(cfg AlertConfig, node string, log *slog.Logger) *alerter {
	if cfg.LongHold == 0 {
		cfg.LongHold = 2 * time.Minute
	}
	if cfg.AwayTooLong == 0 {
		cfg.AwayTooLong = 15 * time.Minute
	}
	return &alerter{cfg: cfg, node: node, log: log, client: &http.Client{Timeout: 5 * time.Second},
		out: make(chan Alert, alertBuffer), raised: map[string]bool{}, holds: map[string]*time.Timer{},
		aways: map[int64]*time.Timer{}}
}

// raise queues a for delivery; it never blocks.
func (al *alerter) raise(a Alert) {
	a.At, a.Node = time.Now().UTC(), al.node
	select {
	case al.out <- a:
	default:
		al.dropped.Add(1)
		al.log.Warn("calls: alert dropped: delivery is behind", "kind", a.Kind, "call_id", a.CallID)
	}
}

// once reports whether kind has not been raised for the call yet, and
// marks it.
func (al *alerter) once(callID, kind string) bool {
	al.mu.Lock()
	defer al.mu.Unlock()
	k := callID + " " + kind
	if al.raised[k] {
		return false
	}
	al.raised[k] = true
	return true
}

// callEvent looks at one entry of c's timeline as it is written.
func (al *alerter) callEvent(c *Call, kind string, data map[string]any) {
	switch kind {
	case "queue.service_level_warning":
		if al.once(c.ID, AlertServiceLevel) {
			q, _ := data["queue"].(string)
			al.raise(Alert{Kind: AlertServiceLevel, CallID: c.ID, Queue: q, Caller: c.leg.From(),
				Text: fmt.Sprintf("A call from %s in %s is about to miss the service level.", c.leg.From(), q)})
		}
	case "ivr.heard", "transcript":
		if who, _ := data["speaker"].(string); kind == "transcript" && who != "caller" {
			return
		}
		said, _ := data["text"].(string)
		if angry, _ := data["angry"].(bool); angry && al.once(c.ID, AlertAngryCaller) {
			al.raise(Alert{Kind: AlertAngryCaller, CallID: c.ID, Caller: c.leg.From(),
				Text: fmt.Sprintf("%s sounds angry: %q", c.leg.From(), said)})
		}
		if turning, _ := data["turning_negative"].(bool); turning && al.once(c.ID, AlertNegativeCaller) {
			al.raise(Alert{Kind: AlertNegativeCaller, CallID: c.ID, Caller: c.leg.From(),
				Text: fmt.Sprintf("%s's mood has turned negative.", c.leg.From())})
		}
	case "agent.hold":
		al.startHold(c)
	case "agent.unhold", "agent.ended", "call.ended":
		al.stopHold(c.ID)
		if kind == "call.ended" {
			al.forget(c.ID)
		}
	}
}

// startHold arms the long-hold alert for c's hold.
func (al *alerter) startHold(c *Call) {
	if al.cfg.LongHold < 0 {
		return
	}
	c.bridgeMu.Lock()
	agent := c.agentName
	c.bridgeMu.Unlock()
	al.mu.Lock()
	defer al.mu.Unlock()
	if al.stopped || al.holds[c.ID] != nil {
		return
	}
	al.holds[c.ID] = time.AfterFunc(al.cfg.LongHold, func() {
		al.mu.Lock()
		_, on := al.holds[c.ID]
		delete(al.holds, c.ID)
		al.mu.Unlock()
		if on {
			al.raise(Alert{Kind: AlertLongHold, CallID: c.ID, Agent: agent, Caller: c.leg.From(),
				Text: fmt.Sprintf("%s has held %s for %s.", agent, c.leg.From(), al.cfg.LongHold)})
		}
	})
}

func (al *alerter) stopHold(callID string) {
	al.mu.Lock()
	defer al.mu.Unlock()
	if t := al.holds[callID]; t != nil {
		t.Stop()
		delete(al.holds, callID)
	}
}

// forget drops what was kept of an ended call.
func (al *alerter) forget(callID string) {
	al.mu.Lock()
	defer al.mu.Unlock()
	for _, kind := range []string{AlertServiceLevel, AlertAngryCaller, AlertNegativeCaller} {
		delete(al.raised, callID+" "+kind)
	}
}

// agentState follows an agent's state changes for the away-too-long
// alert: going away arms it, anything else disarms it.
func (al *alerter) agentState(ag agents.Agent) {
	al.mu.Lock()
	defer al.mu.Unlock()
	if t := al.aways[ag.ID]; t != nil {
		t.Stop()
		delete(al.aways, ag.ID)
	}
	if ag.State != agents.StateAway || al.cfg.AwayTooLong < 0 || al.stopped {
		return
	}
	left := al.cfg.AwayTooLong - time.Since(ag.Since)
	al.aways[ag.ID] = time.AfterFunc(max(left, 0), func() {
		al.mu.Lock()
		_, on := al.aways[ag.ID]
		delete(al.aways, ag.ID)
		al.mu.Unlock()
		if on {
			reason := ""
			if ag.Reason != "" {
				reason = " (" + ag.Reason + ")"
			}
			al.raise(Alert{Kind: AlertAwayTooLong, Agent: ag.Name,
				Text: fmt.Sprintf("%s has been away%s for %s.", ag.Name, reason, al.cfg.AwayTooLong)})
		}
	})
}

// run delivers the alerts until ctx ends, then stops every timer.
func (al *alerter) run(ctx context.Context) {
	defer func() {
		al.mu.Lock()
		al.stopped = true
		for _, t := range al.holds {
			t.Stop()
		}
		for _, t := range al.aways {
			t.Stop()
		}
		al.mu.Unlock()
	}()
	for {
		select {
		case <-ctx.Done():
			return
		case a := <-al.out:
			al.log.Info("calls: alert", "kind", a.Kind, "call_id", a.CallID, "agent", a.Agent, "text", a.Text)
			if al.cfg.Publish != nil {
				al.cfg.Publish(a)
			}
			if al.cfg.Webhook != "" {
				al.post(ctx, a)
			}
		}
	}
}

// post sends a to the webhook: three tries, a second apart, each bounded
// by the client's timeout; a 2xx answer is delivery.
func (al *alerter) post(ctx context.Context, a Alert) {
	body, _ := json.Marshal(a)
	var last error
	for try := range 3 {
		if try > 0 {
			select {
			case <-ctx.Done():
				return
			case <-time.After(time.Second):
			}
		}
		req, err := http.NewRequestWithContext(ctx, http.MethodPost, al.cfg.Webhook, bytes.NewReader(body))
		if err != nil {
			last = err
			break
		}
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("User-Agent", "Sambung alerts")
		resp, err := al.client.Do(req)
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode/100 == 2 {
				return
			}
			err = fmt.Errorf("the webhook answered %s", resp.Status)
		}
		last = err
	}
	al.log.Warn("calls: alert not delivered to the webhook", "kind", a.Kind, "webhook", al.cfg.Webhook, "err", last)
}
