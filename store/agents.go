package store

import (
	"context"
	"fmt"
	"slices"
	"time"
)

// Agent states as stored. The agents package gives them meaning and decides
// which changes are allowed; the store only keeps them.
const (
	AgentOffline   = "offline"
	AgentAvailable = "available"
	AgentRinging   = "ringing"
	AgentOnCall    = "on_call"
	AgentWrapUp    = "wrap_up"
	AgentAway      = "away"
)

// Agent is a user who takes calls, with the skills the ACD routes on and
// the agent's present state.
type Agent struct {
	UserID      int64
	Name        string // the user's login name (read only here)
	DisplayName string // the user's display name (read only here)
	Team        string
	Level       int
	Skills      []string // sorted, no repeats, e.g. "lang:en", "topic:billing"
	State       string   // one of the Agent* constants
	Reason      string   // why the agent is away, or what ended the last offer
	Since       time.Time
	IdleSince   time.Time // when the agent last became free; the longest idle is offered first
	CallID      string    // the call ringing, on or being wrapped up
	Node        string    // the node that put the agent in its state
	// Phone is the SIP phone the agent takes calls on (a URI, or an
	// address-of-record of our registrar); "" for the browser. Set with
	// SetAgentPhone; PutAgent leaves it.
	Phone string
}

// AgentStateChange moves one agent from one state to another. The change
// happens only if the agent is still in From (From "" accepts any state), and
// it is appended to the agent's history with Actor and At.
type AgentStateChange struct {
	AgentID int64
	From    string
	To      string
	Reason  string
	CallID  string
	Actor   string // who made the change: the agent's name, a supervisor's, or "system"
	Node    string
	At      time.Time // zero means now
	// IdleSince, if set, becomes the agent's IdleSince (the agent joins the
	// idle line at that time); zero keeps the agent's place.
	IdleSince time.Time
}

// AgentStateEvent is one entry in an agent's append-only state history.
type AgentStateEvent struct {
	ID      int64
	AgentID int64
	At      time.Time
	State   string
	Reason  string
	CallID  string
	Actor   string
	Node    string
}

// Agents stores agents, their skills and states, and the ACD's queue
// entries. Every change of an agent's state appends to its history, in the
// same transaction.
type Agents interface {
	// PutAgent makes the user a.UserID an agent, or updates the agent's team,
	// level and skills (the skills are replaced as a set). A new agent is
	// offline. It returns the agent as stored; ErrNotFound if no such user.
	PutAgent(ctx context.Context, a Agent) (Agent, error)
	// AgentByID gives ErrNotFound for an unknown agent.
	AgentByID(ctx context.Context, userID int64) (Agent, error)
	// ListAgents returns every agent ordered by name.
	ListAgents(ctx context.Context) ([]Agent, error)
	// SetAgentState applies c and returns the agent after it. An agent not
	// in c.From gives ErrConflict; an unknown agent ErrNotFound.
	SetAgentState(ctx context.Context, c AgentStateChange) (Agent, error)
	// AgentStates returns an agent's state history in the order it happened.
	AgentStates(ctx context.Context, agentID int64) ([]AgentStateEvent, error)
	// AgentStatesSince returns every agent's state changes at or after
	// since, by agent, each agent's in the order they happened.
	AgentStatesSince(ctx context.Context, since time.Time) ([]AgentStateEvent, error)
	// SetAgentPhone sets the SIP phone an agent takes calls on ("" for the
	// browser); ErrNotFound for an unknown agent.
	SetAgentPhone(ctx context.Context, userID int64, phone string) error

	QueueEntries
}

const agentColumns = `a.user_id, u.name, u.display_name, a.team, a.level, a.state, a.reason, a.since, a.idle_since, a.call_id, a.node, a.phone`

var (
	qPutAgent = newQuery(`INSERT INTO agents (user_id, team, level, state, reason, since, idle_since, call_id, node)
VALUES ($1, $2, $3, 'offline', '', $4, $4, '', '')
ON CONFLICT (user_id) DO UPDATE SET team = excluded.team, level = excluded.level`)
	qDeleteAgentSkills = newQuery(`DELETE FROM agent_skills WHERE agent_id = $1`)
	qAddAgentSkill     = newQuery(`INSERT INTO agent_skills (agent_id, skill) VALUES ($1, $2)`)
	qAgentByID         = newQuery(`SELECT ` + agentColumns + ` FROM agents a JOIN users u ON u.id = a.user_id WHERE a.user_id = $1`)
	qListAgents        = newQuery(`SELECT ` + agentColumns + ` FROM agents a JOIN users u ON u.id = a.user_id ORDER BY u.name`)
	qAgentSkills       = newQuery(`SELECT skill FROM agent_skills WHERE agent_id = $1 ORDER BY skill`)
	qAllAgentSkills    = newQuery(`SELECT agent_id, skill FROM agent_skills ORDER BY agent_id, skill`)
	// $8 NULL keeps idle_since.
	qSetAgentState = newQuery(`UPDATE agents SET state = $3, reason = $4, since = $5, call_id = $6, node = $7,
  idle_since = COALESCE($8, idle_since)
WHERE user_id = $1 AND (state = $2 OR $2 = '')`)
	qAppendAgentState = newQuery(`INSERT INTO agent_states (agent_id, at, state, reason, call_id, actor, node)
VALUES ($1, $2, $3, $4, $5, $6, $7)`)
	qSetAgentPhone = newQuery(`UPDATE agents SET phone = $2 WHERE user_id = $1`)
	qAgentStates   = newQuery(`SELECT id, agent_id, at, state, reason, call_id, actor, node FROM agent_states
WHERE agent_id = $1 ORDER BY id`)
	qAgentStatesSince = newQuery(`SELECT id, agent_id, at, state, reason, call_id, actor, node FROM agent_states
WHERE at >= $1 ORDER BY agent_id, id`)
)

// PutAgent makes a user an agent or updates its team, level and skills.
func (d *db) PutAgent(ctx context.Context, a Agent) (Agent, error) {
	skills := normalSkills(a.Skills)
	err := d.inTx(ctx, func(q querier) error {
		if _, err := q.exec(ctx, qPutAgent, a.UserID, a.Team, a.Level, utc(time.Now())); err != nil {
			if d.violation(err) == foreignKeyViolation {
				return fmt.Errorf("user %d: %w", a.UserID, ErrNotFound)
			}
			return err
		}
		if _, err := q.exec(ctx, qDeleteAgentSkills, a.UserID); err != nil {
			return err
		}
		for _, s := range skills {
			if _, err := q.exec(ctx, qAddAgentSkill, a.UserID, s); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return Agent{}, fmt.Errorf("put agent %d: %w", a.UserID, err)
	}
	return d.AgentByID(ctx, a.UserID)
}

// AgentByID gives ErrNotFound for an unknown agent.
func (d *db) AgentByID(ctx context.Context, userID int64) (Agent, error) {
	a, err := agentByID(ctx, d, userID)
	if err != nil {
		return Agent{}, err
	}
	return a, nil
}

func agentByID(ctx context.Context, q querier, userID int64) (Agent, error) {
	a, err := scanAgent(q.queryRow(ctx, qAgentByID, userID))
	if err != nil {
		return Agent{}, notFound(err, fmt.Sprintf("agent %d", userID))
	}
	a.Skills, err = queryAll(ctx, q, qAgentSkills, scanString, userID)
	if err != nil {
		return Agent{}, fmt.Errorf("skills of agent %d: %w", userID, err)
	}
	return a, nil
}

// ListAgents returns every agent ordered by name.
func (d *db) ListAgents(ctx context.Context) ([]Agent, error) {
	as, err := queryAll(ctx, d, qListAgents, scanAgent)
	if err != nil {
		return nil, fmt.Errorf("list agents: %w", err)
	}
	type skill struct {
		agent int64
		name  string
	}
	skills, err := queryAll(ctx, d, qAllAgentSkills, func(r row) (skill, error) {
		var s skill
		return s, r.Scan(&s.agent, &s.name)
	})
	if err != nil {
		return nil, fmt.Errorf("list agent skills: %w", err)
	}
	byID := make(map[int64][]string, len(as))
	for _, s := range skills {
		byID[s.agent] = append(byID[s.agent], s.name)
	}
	for i := range as {
		as[i].Skills = byID[as[i].UserID]
	}
	return as, nil
}

// SetAgentState applies c if the agent is still in c.From.
func (d *db) SetAgentState(ctx context.Context, c AgentStateChange) (Agent, error) {
	var a Agent
	err := d.inTx(ctx, func(q querier) error {
		if err := setAgentState(ctx, q, c); err != nil {
			return err
		}
		var err error
		a, err = agentByID(ctx, q, c.AgentID)
		return err
	})
	if err != nil {
		return Agent{}, fmt.Errorf("agent %d to %s: %w", c.AgentID, c.To, err)
	}
	return a, nil
}

// setAgentState changes the agent's row and appends the change to its
// history, inside the caller's transaction.
func setAgentState(ctx context.Context, q querier, c AgentStateChange) error {
	at := utcOrNow(c.At)
	n, err := q.exec(ctx, qSetAgentState, c.AgentID, c.From, c.To, c.Reason, at, c.CallID, c.Node, nullTime(c.IdleSince))
	if err != nil {
		return err
	}
	if n == 0 {
		cur, err := agentByID(ctx, q, c.AgentID)
		if err != nil {
			return err
		}
		return fmt.Errorf("agent is %s, not %s: %w", cur.State, c.From, ErrConflict)
	}
	_, err = q.exec(ctx, qAppendAgentState, c.AgentID, at, c.To, c.Reason, c.CallID, c.Actor, c.Node)
	return err
}

// AgentStates returns an agent's state history in the order it happened.
func (d *db) AgentStates(ctx context.Context, agentID int64) ([]AgentStateEvent, error) {
	es, err := queryAll(ctx, d, qAgentStates, scanAgentState, agentID)
	if err != nil {
		return nil, fmt.Errorf("state history of agent %d: %w", agentID, err)
	}
	return es, nil
}

// AgentStatesSince returns every agent's state changes since a time.
func (d *db) AgentStatesSince(ctx context.Context, since time.Time) ([]AgentStateEvent, error) {
	es, err := queryAll(ctx, d, qAgentStatesSince, scanAgentState, utc(since))
	if err != nil {
		return nil, fmt.Errorf("agents' state changes since %s: %w", since.Format(time.RFC3339), err)
	}
	return es, nil
}

// SetAgentPhone sets the SIP phone an agent takes calls on.
func (d *db) SetAgentPhone(ctx context.Context, userID int64, phone string) error {
	n, err := d.exec(ctx, qSetAgentPhone, userID, phone)
	if err != nil {
		return fmt.Errorf("phone of agent %d: %w", userID, err)
	}
	if n == 0 {
		return fmt.Errorf("agent %d: %w", userID, ErrNotFound)
	}
	return nil
}

func scanAgentState(r row) (AgentStateEvent, error) {
	var e AgentStateEvent
	err := r.Scan(&e.ID, &e.AgentID, timeDest(&e.At), &e.State, &e.Reason, &e.CallID, &e.Actor, &e.Node)
	return e, err
}

func scanAgent(r row) (Agent, error) {
	var a Agent
	err := r.Scan(&a.UserID, &a.Name, &a.DisplayName, &a.Team, &a.Level, &a.State, &a.Reason,
		timeDest(&a.Since), timeDest(&a.IdleSince), &a.CallID, &a.Node, &a.Phone)
	return a, err
}

func scanString(r row) (string, error) {
	var s string
	return s, r.Scan(&s)
}

// normalSkills sorts skills and drops empty names and repeats.
func normalSkills(skills []string) []string {
	out := slices.DeleteFunc(slices.Clone(skills), func(s string) bool { return s == "" })
	slices.Sort(out)
	return slices.Compact(out)
}
