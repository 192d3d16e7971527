package agents

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/sambung/sambung/store"
)

// State is an agent's presence.
type State string

// The agent states. Ringing, on_call and wrap_up are entered by the ACD
// (an offer, an answer, a hang-up); the others by the agent or a supervisor.
const (
	StateOffline   State = store.AgentOffline
	StateAvailable State = store.AgentAvailable
	StateRinging   State = store.AgentRinging
	StateOnCall    State = store.AgentOnCall
	StateWrapUp    State = store.AgentWrapUp
	StateAway      State = store.AgentAway
)

// Reasons the ACD gives when it changes an agent's state itself.
const (
	ReasonRingNoAnswer = "ring_no_answer"
	ReasonDeclined     = "declined"
)

// ErrTransition means the state change asked for is not allowed from the
// agent's present state (an agent on a call cannot go available, say).
var ErrTransition = errors.New("state change not allowed")

// ErrNoOffer means the agent has no offer of that call on this node.
var ErrNoOffer = errors.New("no such offer")

// ErrCallbackExists means the caller's number already has an open callback.
var ErrCallbackExists = errors.New("the number already has an open callback")

// ErrNotWaiting reports a call that does not wait in a queue on this node
// (it was answered, ended, rings an agent now, or is another node's).
var ErrNotWaiting = errors.New("the call is not waiting in a queue on this node")

// chosen lists the states an agent or supervisor may choose with SetState,
// from each state. Ringing and on_call are left only through the call:
// Answer, Decline, Hangup, or the ring timeout.
var chosen = map[State][]State{
	StateOffline:   {StateAvailable, StateAway},
	StateAvailable: {StateAway, StateOffline},
	StateAway:      {StateAvailable, StateAway, StateOffline},
	StateWrapUp:    {StateAvailable, StateAway, StateOffline},
}

// canChoose says whether an agent in from may choose to.
func canChoose(from, to State) bool { return slices.Contains(chosen[from], to) }

// Agent is one agent as the ACD sees it.
type Agent struct {
	// ID is the agent's user id.
	ID          int64
	Name        string // the login name
	DisplayName string
	Skills      []string // e.g. "lang:en", "topic:billing"
	Level       int
	Team        string
	State       State
	Reason      string // why away, or what ended the last offer
	Since       time.Time
	IdleSince   time.Time // the longest idle available agent is offered first
	CallID      string    // the call ringing, on or being wrapped up
	Node        string    // the node that set the state
	// Phone is the SIP phone the agent takes calls on; "" for the browser.
	Phone string
}

func fromStore(a store.Agent) Agent {
	return Agent{ID: a.UserID, Name: a.Name, DisplayName: a.DisplayName, Skills: a.Skills, Level: a.Level,
		Team: a.Team, State: State(a.State), Reason: a.Reason, Since: a.Since, IdleSince: a.IdleSince,
		CallID: a.CallID, Node: a.Node, Phone: a.Phone}
}

// hasSkills says whether the agent holds every one of skills (the
// AgentSkill of their own id needs no giving).
func (a Agent) hasSkills(skills []string) bool {
	for _, s := range skills {
		if s != store.AgentSkill(a.ID) && !slices.Contains(a.Skills, s) {
			return false
		}
	}
	return true
}

// mergeSkills is the sorted union of skill lists, without empty names.
func mergeSkills(lists ...[]string) []string {
	var out []string
	for _, l := range lists {
		for _, s := range l {
			if s != "" {
				out = append(out, s)
			}
		}
	}
	slices.Sort(out)
	return slices.Compact(out)
}

// dropSkills removes from skills every name in drop, and every skill that
// starts with an entry of drop ending in ':'.
func dropSkills(skills, drop []string) []string {
	return slices.DeleteFunc(slices.Clone(skills), func(s string) bool {
		for _, d := range drop {
			if s == d || strings.HasSuffix(d, ":") && strings.HasPrefix(s, d) {
				return true
			}
		}
		return false
	})
}

func transitionError(a Agent, to State) error {
	return fmt.Errorf("agent %s is %s and cannot go %s: %w", a.Name, a.State, to, ErrTransition)
}
