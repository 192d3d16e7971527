package calls

import (
	"context"
	"encoding/json"
	"slices"
	"strings"
	"time"

	"github.com/sambung/sambung/agents"
	"github.com/sambung/sambung/store"
)

// The supervisors' floor (the wallboard): every queue, every agent and
// every call waiting or with an agent, as one view the supervisor page
// reloads on each live event.

// Floor is the wallboard's view.
type Floor struct {
	Queues []FloorQueue `json:"queues"`
	Agents []FloorAgent `json:"agents"`
	Calls  []LiveCall   `json:"calls"`
}

// FloorQueue is one queue's figures. Durations are in seconds; today
// starts at midnight, server time.
type FloorQueue struct {
	Name                string  `json:"name"`
	Waiting             int     `json:"waiting"` // waiting or ringing now, on every node
	Callbacks           int     `json:"callbacks"`
	LongestWait         float64 `json:"longest_wait"`
	ServiceLevel        float64 `json:"service_level"` // the target: answered within this
	AnsweredToday       int     `json:"answered_today"`
	AnsweredInTimeToday int     `json:"answered_in_time_today"`
	AbandonedToday      int     `json:"abandoned_today"`
	AverageAbandonWait  float64 `json:"average_abandon_wait"`
}

// FloorAgent is one agent's state and day.
type FloorAgent struct {
	ID                int64     `json:"agent_id"`
	Name              string    `json:"name"`
	DisplayName       string    `json:"display_name,omitempty"`
	State             string    `json:"state"`
	Reason            string    `json:"reason,omitempty"`
	Since             time.Time `json:"since"`
	CallID            string    `json:"call_id,omitempty"`
	HandledToday      int       `json:"handled_today"`
	AverageHandleTime float64   `json:"average_handle_time"` // seconds, today
}

// Floor gives the wallboard's view: the queues and agents (of every
// node, from the store) and the calls on this node.
func (d *Desk) Floor(ctx context.Context) (Floor, error) {
	qs, err := d.acd.Queues(ctx)
	if err != nil {
		return Floor{}, err
	}
	as, err := d.acd.AgentStatuses(ctx)
	if err != nil {
		return Floor{}, err
	}
	f := Floor{Queues: make([]FloorQueue, len(qs)), Agents: make([]FloorAgent, len(as)), Calls: d.LiveCalls(ctx)}
	for i, q := range qs {
		f.Queues[i] = FloorQueue{Name: q.Name, Waiting: q.Waiting, Callbacks: q.Callbacks, LongestWait: q.LongestWait.Seconds(),
			ServiceLevel: q.ServiceLevel.Seconds(), AnsweredToday: q.AnsweredToday, AnsweredInTimeToday: q.AnsweredInTimeToday,
			AbandonedToday: q.AbandonedToday}
		if q.AbandonedToday > 0 {
			f.Queues[i].AverageAbandonWait = q.AbandonedWaitToday.Seconds() / float64(q.AbandonedToday)
		}
	}
	for i, a := range as {
		f.Agents[i] = FloorAgent{ID: a.ID, Name: a.Name, DisplayName: a.DisplayName, State: string(a.State), Reason: a.Reason,
			Since: a.Since, CallID: a.CallID, HandledToday: a.HandledToday}
		if a.HandledToday > 0 {
			f.Agents[i].AverageHandleTime = a.HandleTimeToday.Seconds() / float64(a.HandledToday)
		}
	}
	return f, nil
}

// LiveCall is a call on this node that waits in a queue or is with an
// agent, as the supervisors' floor shows it.
type LiveCall struct {
	ID       string    `json:"call_id"`
	From     string    `json:"from"`
	State    string    `json:"state"` // queued, talking, held or consulting
	Since    time.Time `json:"since"` // in the queue, or with the agent
	Agent    string    `json:"agent,omitempty"`
	Queue    string    `json:"queue,omitempty"`
	Tier     string    `json:"tier,omitempty"`
	Language string    `json:"language,omitempty"`
	Intent   string    `json:"intent,omitempty"`
	// InIVR is how long the caller spent in the IVR before queueing, in
	// seconds.
	InIVR float64 `json:"in_ivr"`
	// Sentiment is the caller's mood from what they said: the score
	// (-1 to 1), whether they sounded angry, and each utterance's score.
	Sentiment ContactSentiment `json:"sentiment"`
	// Monitors are the supervisors on the call and their modes.
	Monitors []LiveMonitor `json:"monitors,omitempty"`
}

// LiveMonitor is one supervisor on a call.
type LiveMonitor struct {
	Supervisor string `json:"supervisor"`
	Mode       string `json:"mode"`
}

// LiveCalls lists the calls on this node that are queued or with an
// agent, the longest-running first.
func (d *Desk) LiveCalls(context.Context) []LiveCall {
	d.mu.Lock()
	cs := make([]*Call, 0, len(d.calls))
	for _, c := range d.calls {
		cs = append(cs, c)
	}
	d.mu.Unlock()
	out := make([]LiveCall, 0, len(cs))
	for _, c := range cs {
		lc := LiveCall{ID: c.ID, From: c.leg.From(), State: "queued"}
		if p := c.contact.Load(); p != nil {
			lc.Queue, lc.Tier, lc.Language = p.Queue, p.Tier, p.Language.Code
			if p.Intent != nil {
				lc.Intent = p.Intent.Name
			}
			if p.QueuedAt != nil {
				lc.Since = *p.QueuedAt
				lc.InIVR = max(p.QueuedAt.Sub(c.started).Seconds(), 0)
			}
		}
		lc.Sentiment = c.sentiment()
		c.bridgeMu.Lock()
		if c.agentLeg != nil {
			lc.Agent, lc.Since, lc.State = c.agentName, c.agentSince, "talking"
			switch {
			case c.consulting:
				lc.State = "consulting"
			case c.held:
				lc.State = "held"
			}
		}
		for _, t := range c.taps {
			lc.Monitors = append(lc.Monitors, LiveMonitor{Supervisor: t.user.Name, Mode: modeNames[t.mode.Load()]})
		}
		c.bridgeMu.Unlock()
		out = append(out, lc)
	}
	slices.SortFunc(out, func(a, b LiveCall) int { return a.Since.Compare(b.Since) })
	return out
}

// Supervisors' actions on the floor: an agent's state, signing an agent
// out, and moving a waiting call. The ACD audits them with the
// supervisor's name; web audits the requests.

// SetAgentState sets an agent's state for supervisor u: available, away
// (with one of the away reasons, or none) or offline. An agent ringing, on
// a call or in wrap-up cannot be moved (agents.ErrTransition).
func (d *Desk) SetAgentState(ctx context.Context, u store.User, agentID int64, state, reason string) error {
	st, reason, err := d.chosenState(state, reason)
	if err != nil {
		return err
	}
	return d.acd.SetState(ctx, agentID, st, reason, u.Name)
}

// LogOut sets an agent offline for supervisor u and ends their desk
// pages, which are told who signed them out ("logged_out"). An agent on a
// call stays on it (agents.ErrTransition).
func (d *Desk) LogOut(ctx context.Context, u store.User, agentID int64) error {
	ag, err := d.acd.Agent(ctx, agentID)
	if err != nil {
		return err
	}
	if ag.State != agents.StateOffline {
		if err := d.acd.SetState(ctx, agentID, agents.StateOffline, "", u.Name); err != nil {
			return err
		}
	}
	for _, s := range d.pagesOf(agentID) {
		s.push(map[string]any{"type": "logged_out", "by": u.Name})
		s.Close()
	}
	return nil
}

// MoveCall sends a call waiting on this node to another queue, or to the
// agent signed in as agent, for supervisor u.
func (d *Desk) MoveCall(ctx context.Context, u store.User, callID, queue, agent string) error {
	var to *agents.Agent
	if agent != "" {
		ag, err := d.agentNamed(ctx, agent, 0)
		if err != nil {
			return err
		}
		to = &ag
	}
	return d.acd.Move(ctx, callID, queue, to, u.Name)
}

// HeatMap is what the IVR could not resolve: the calls that went to
// agents (escalated: an agent answered) or were abandoned waiting for
// one, by the intent the IVR understood ("none" when it understood none)
// and the hour of the day they queued, so the owner sees which
// self-service answers to add.
type HeatMap struct {
	Since time.Time `json:"since"`
	// Intents are the intents found, the most calls first.
	Intents []string   `json:"intents"`
	Cells   []HeatCell `json:"cells"`
}

// HeatCell is one intent in one hour of the day (0-23, server time).
type HeatCell struct {
	Intent    string `json:"intent"`
	Hour      int    `json:"hour"`
	Escalated int    `json:"escalated"`
	Abandoned int    `json:"abandoned"`
}

// HeatMap counts the calls queued since since.
func (d *Desk) HeatMap(ctx context.Context, since time.Time) (HeatMap, error) {
	outs, err := d.sb.store.QueueOutcomes(ctx, since)
	if err != nil {
		return HeatMap{}, err
	}
	return heatMap(outs, since, time.Local), nil
}

func heatMap(outs []store.QueueOutcome, since time.Time, loc *time.Location) HeatMap {
	type key struct {
		intent string
		hour   int
	}
	cells := map[key]*HeatCell{}
	totals := map[string]int{}
	for _, o := range outs {
		var c struct {
			Intent *struct{ Name string } `json:"intent"`
		}
		intent := "none"
		if json.Unmarshal(o.Contact, &c) == nil && c.Intent != nil && c.Intent.Name != "" {
			intent = c.Intent.Name
		}
		k := key{intent, o.EnteredAt.In(loc).Hour()}
		cell := cells[k]
		if cell == nil {
			cell = &HeatCell{Intent: intent, Hour: k.hour}
			cells[k] = cell
		}
		switch o.Status {
		case store.EntryAnswered:
			cell.Escalated++
		case store.EntryAbandoned:
			cell.Abandoned++
		}
		totals[intent]++
	}
	hm := HeatMap{Since: since, Intents: make([]string, 0, len(totals)), Cells: make([]HeatCell, 0, len(cells))}
	for intent := range totals {
		hm.Intents = append(hm.Intents, intent)
	}
	slices.SortFunc(hm.Intents, func(a, b string) int {
		if totals[a] != totals[b] {
			return totals[b] - totals[a]
		}
		return strings.Compare(a, b)
	})
	for _, c := range cells {
		hm.Cells = append(hm.Cells, *c)
	}
	slices.SortFunc(hm.Cells, func(a, b HeatCell) int {
		if a.Intent != b.Intent {
			return strings.Compare(a.Intent, b.Intent)
		}
		return a.Hour - b.Hour
	})
	return hm
}

// DayHour is one hour of today's queued calls, for the supervisors'
// charts: calls answered, answered within their queue's service level,
// and abandoned.
type DayHour struct {
	Hour           int `json:"hour"`
	Answered       int `json:"answered"`
	AnsweredInTime int `json:"answered_in_time"`
	Abandoned      int `json:"abandoned"`
}

// Today gives today's 24 hours (from midnight, server time) of queued
// calls, each call once.
func (d *Desk) Today(ctx context.Context) ([]DayHour, error) {
	now := time.Now()
	midnight := time.Date(now.Year(), now.Month(), now.Day(), 0, 0, 0, 0, now.Location())
	outs, err := d.sb.store.QueueOutcomes(ctx, midnight)
	if err != nil {
		return nil, err
	}
	qs, err := d.acd.Queues(ctx)
	if err != nil {
		return nil, err
	}
	levels := map[string]time.Duration{}
	for _, q := range qs {
		levels[q.Name] = q.ServiceLevel
	}
	return dayHours(outs, levels, now.Location()), nil
}

// dayHours counts outs by the hour they queued in loc. A queue with no
// service level counts every answer as in time.
func dayHours(outs []store.QueueOutcome, levels map[string]time.Duration, loc *time.Location) []DayHour {
	hours := make([]DayHour, 24)
	for i := range hours {
		hours[i].Hour = i
	}
	for _, o := range outs {
		h := &hours[o.EnteredAt.In(loc).Hour()]
		switch o.Status {
		case store.EntryAnswered:
			h.Answered++
			if sl := levels[o.Queue]; sl == 0 || o.Waited <= sl {
				h.AnsweredInTime++
			}
		case store.EntryAbandoned:
			h.Abandoned++
		}
	}
	return hours
}
