package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"strconv"
	"time"
)

// Queue entry statuses. An entry is open while it is waiting, offered or a
// callback; answered, abandoned and left are final.
const (
	EntryWaiting   = "waiting"   // in the queue, no agent yet
	EntryOffered   = "offered"   // an agent is ringing for it
	EntryAnswered  = "answered"  // an agent took it
	EntryAbandoned = "abandoned" // the caller hung up while waiting
	EntryCallback  = "callback"  // the caller asked to be called back; waits with no call
	EntryLeft      = "left"      // it left the queue otherwise (voicemail, node restart)
)

// AgentSkill is the required skill that agent id alone holds, without it
// being given: a contact that needs it goes to that agent (a transfer to
// one person) and waits while they are busy.
func AgentSkill(id int64) string { return "agent:" + strconv.FormatInt(id, 10) }

// QueueEntry is one contact in the ACD: a call waiting for an agent, or a
// callback keeping the caller's place.
type QueueEntry struct {
	ID       int64
	CallID   string
	Queue    string
	Skills   []string // required skills, sorted
	Tier     string
	Number   string // the caller's number; one open callback per number
	Priority int    // higher first
	// EnteredAt is when the contact first queued; it orders entries of equal
	// priority and is kept across overflow and callback.
	EnteredAt time.Time
	QueuedAt  time.Time // when it joined its current queue
	Deadline  time.Time // the tier's service deadline; zero for none
	Node      string    // the node holding the call (or offering the callback)
	Status    string    // one of the Entry* constants
	Callback  bool
	AgentID   int64 // the agent offered or answering; 0 for none
	Answered  time.Time
	Ended     time.Time
	// Waited is how long the contact waited: until answered, or until it was
	// abandoned or left. Millisecond precision.
	Waited time.Duration
	Reason string // why it left
}

// OfferChange names an offer (an entry and the agent ringing for it) and
// who ends it, when.
type OfferChange struct {
	EntryID int64
	AgentID int64
	Actor   string
	Node    string
	At      time.Time // zero means now
}

// QueueOutcome is how one call's time in a queue ended: answered by an
// agent (EntryAnswered) or abandoned (EntryAbandoned).
type QueueOutcome struct {
	CallID    string
	Queue     string
	EnteredAt time.Time
	Status    string
	Waited    time.Duration // until answered or abandoned
	// Contact is the call's contact context (Call.Contact); nil if none
	// was stored.
	Contact json.RawMessage
}

// QueueStats are one queue's figures: now, and since a time (the start of
// the day, usually).
type QueueStats struct {
	Queue          string
	Waiting        int       // calls waiting or ringing now
	Callbacks      int       // open callbacks now
	OldestEntered  time.Time // the longest-waiting call's EnteredAt; zero if none
	Answered       int
	AnsweredInTime int // answered within the service level
	Abandoned      int
	AbandonedWait  time.Duration // the sum of the abandoned calls' waits
}

// QueueEntries stores the ACD's queue entries and reserves agents for them.
type QueueEntries interface {
	// CreateQueueEntry stores e as waiting and returns it with ID set.
	CreateQueueEntry(ctx context.Context, e QueueEntry) (QueueEntry, error)
	// QueueEntry gives ErrNotFound for an unknown entry.
	QueueEntry(ctx context.Context, id int64) (QueueEntry, error)
	// OpenQueueEntries returns every waiting, offered and callback entry of
	// every node in routing order: priority, then EnteredAt, then ID.
	OpenQueueEntries(ctx context.Context) ([]QueueEntry, error)
	// RouteQueueEntry moves a waiting or callback entry to queue with the
	// required skills and priority given (widening, overflow, raising).
	// queuedAt is when it joined queue. Any other status gives ErrConflict.
	RouteQueueEntry(ctx context.Context, id int64, queue string, skills []string, priority int, queuedAt time.Time) error
	// ReserveAgent offers a waiting or callback entry to an agent, in one
	// transaction: of the available agents who have every required skill
	// and who have no open entry ahead of this one (by priority, then
	// EnteredAt) that they could take, the longest idle becomes ringing for
	// the entry's call, and the entry becomes offered on node. It returns
	// the agent. No such agent gives ErrNotFound; an entry no longer waiting
	// gives ErrConflict. Two nodes can never reserve one agent twice.
	ReserveAgent(ctx context.Context, entryID int64, node string, at time.Time) (Agent, error)
	// AnswerOffer: the agent took the offer. The entry becomes answered with
	// its wait, and the agent on_call, in one transaction. An offer that has
	// moved on gives ErrConflict.
	AnswerOffer(ctx context.Context, o OfferChange) (QueueEntry, error)
	// ReleaseOffer ends an offer that was not taken: the entry goes back to
	// waiting (or callback) with its place kept, and the agent from ringing
	// to the state in c (c.AgentID and c.From are set from o). ErrConflict
	// if the offer has moved on.
	ReleaseOffer(ctx context.Context, o OfferChange, c AgentStateChange) error
	// EndQueueEntry ends an open entry with status (EntryAbandoned or
	// EntryLeft) and reason, recording its wait. An agent ringing for it
	// becomes available again, keeping its place in the idle line. An entry
	// already ended gives ErrConflict.
	EndQueueEntry(ctx context.Context, id int64, status, reason string, at time.Time) (QueueEntry, error)
	// RequestCallback turns a waiting entry into a callback that keeps its
	// place and priority. ErrExists if its number already has an open
	// callback; ErrConflict if the entry is not waiting.
	RequestCallback(ctx context.Context, id int64) (QueueEntry, error)
	// QueueOutcomes gives each call that entered a queue at or after
	// since and was answered by an agent or abandoned there: its first such
	// entry (a consult's entry on the same call is left out), with the
	// call's contact context, oldest first.
	QueueOutcomes(ctx context.Context, since time.Time) ([]QueueOutcome, error)
	// QueueStats gives queue's figures now and since since; a call answered
	// within serviceLevel counts as answered in time.
	QueueStats(ctx context.Context, queue string, since time.Time, serviceLevel time.Duration) (QueueStats, error)
	// EndOrphanedQueueEntries cleans up after node crashed: its calls leave
	// their queues (reason "node_restart"), its offered callbacks wait again,
	// agents ringing for it become available and agents on its calls go to
	// wrap-up. It says how many entries it changed. Run it when a node starts.
	EndOrphanedQueueEntries(ctx context.Context, node string, at time.Time) (int64, error)
}

const entryColumns = `id, call_id, queue, tier, number, priority, entered_at, queued_at, deadline, node, status,
  callback, agent_id, answered_at, ended_at, wait_ms, reason`

// lockingQuery is a SELECT that on PostgreSQL also locks the rows it
// returns, with lock (e.g. "FOR UPDATE SKIP LOCKED"). On SQLite the write
// transaction the store opens (BEGIN IMMEDIATE) already holds the whole
// database, so the same text runs without the clause.
func lockingQuery(text, lock string) query {
	q := newQuery(text)
	q.postgres += "\n" + lock
	return q
}

var (
	qCreateEntry = newQuery(`INSERT INTO queue_entries (call_id, queue, tier, number, priority, entered_at, queued_at,
  deadline, node, status, callback)
VALUES ($1, $2, $3, $4, $5, $6, $6, $7, $8, 'waiting', false) RETURNING id`)
	qAddEntrySkill    = newQuery(`INSERT INTO queue_entry_skills (entry_id, skill) VALUES ($1, $2)`)
	qDeleteEntrySkill = newQuery(`DELETE FROM queue_entry_skills WHERE entry_id = $1`)
	qEntrySkills      = newQuery(`SELECT skill FROM queue_entry_skills WHERE entry_id = $1 ORDER BY skill`)
	qEntry            = newQuery(`SELECT ` + entryColumns + ` FROM queue_entries WHERE id = $1`)
	qEntryForUpdate   = lockingQuery(`SELECT `+entryColumns+` FROM queue_entries WHERE id = $1`, "FOR UPDATE")
	qOpenEntries      = newQuery(`SELECT ` + entryColumns + ` FROM queue_entries
WHERE status IN ('waiting', 'offered', 'callback') ORDER BY priority DESC, entered_at, id`)
	qOpenEntrySkills = newQuery(`SELECT s.entry_id, s.skill FROM queue_entry_skills s
JOIN queue_entries e ON e.id = s.entry_id
WHERE e.status IN ('waiting', 'offered', 'callback') ORDER BY s.entry_id, s.skill`)
	qRouteEntry = newQuery(`UPDATE queue_entries SET queue = $2, priority = $3, queued_at = $4
WHERE id = $1 AND status IN ('waiting', 'callback')`)
	// The agent for an entry ($1, of priority $2 and entered at $3): available,
	// holding every skill the entry requires, and with no open entry ahead
	// of this one whose skills the agent also holds; the longest idle first.
	// A required skill "agent:ID" (AgentSkill) is held by that agent alone.
	// On PostgreSQL the chosen row is locked, and rows other transactions
	// hold are skipped, so concurrent reservations pick different agents.
	qPickAgent = lockingQuery(`SELECT a.user_id FROM agents a
WHERE a.state = 'available'
  AND NOT EXISTS (
    SELECT 1 FROM queue_entry_skills r
    WHERE r.entry_id = $1 AND r.skill <> 'agent:' || CAST(a.user_id AS TEXT)
      AND NOT EXISTS (SELECT 1 FROM agent_skills k WHERE k.agent_id = a.user_id AND k.skill = r.skill))
  AND NOT EXISTS (
    SELECT 1 FROM queue_entries e
    WHERE e.status IN ('waiting', 'callback') AND e.id <> $1
      AND (e.priority > $2 OR (e.priority = $2 AND (e.entered_at < $3 OR (e.entered_at = $3 AND e.id < $1))))
      AND NOT EXISTS (
        SELECT 1 FROM queue_entry_skills r
        WHERE r.entry_id = e.id AND r.skill <> 'agent:' || CAST(a.user_id AS TEXT)
          AND NOT EXISTS (SELECT 1 FROM agent_skills k WHERE k.agent_id = a.user_id AND k.skill = r.skill)))
ORDER BY a.idle_since, a.user_id
LIMIT 1`, "FOR UPDATE OF a SKIP LOCKED")
	qOfferEntry = newQuery(`UPDATE queue_entries SET status = 'offered', agent_id = $2, node = $3
WHERE id = $1 AND status IN ('waiting', 'callback')`)
	qAnswerEntry = newQuery(`UPDATE queue_entries SET status = 'answered', answered_at = $2, wait_ms = $3
WHERE id = $1`)
	qReleaseEntry = newQuery(`UPDATE queue_entries
SET status = CASE WHEN callback THEN 'callback' ELSE 'waiting' END, agent_id = NULL
WHERE id = $1`)
	qEndEntry = newQuery(`UPDATE queue_entries SET status = $2, reason = $3, ended_at = $4, wait_ms = $5, agent_id = NULL
WHERE id = $1`)
	qCallbackEntry = newQuery(`UPDATE queue_entries SET status = 'callback', callback = true
WHERE id = $1 AND status = 'waiting'`)
	qQueueOutcomes = newQuery(`SELECT e.call_id, e.queue, e.entered_at, e.status, e.wait_ms, COALESCE(c.contact, '')
FROM queue_entries e LEFT JOIN calls c ON c.id = e.call_id
WHERE e.entered_at >= $1 AND e.status IN ('answered', 'abandoned') ORDER BY e.entered_at, e.id`)
	qQueueStats = newQuery(`SELECT
  COUNT(CASE WHEN status IN ('waiting', 'offered') AND NOT callback THEN 1 END),
  COUNT(CASE WHEN status IN ('callback', 'offered') AND callback THEN 1 END),
  MIN(CASE WHEN status IN ('waiting', 'offered') AND NOT callback THEN entered_at END),
  COUNT(CASE WHEN status = 'answered' AND answered_at >= $2 THEN 1 END),
  COUNT(CASE WHEN status = 'answered' AND answered_at >= $2 AND wait_ms <= $3 THEN 1 END),
  COUNT(CASE WHEN status = 'abandoned' AND ended_at >= $2 THEN 1 END),
  CAST(COALESCE(SUM(CASE WHEN status = 'abandoned' AND ended_at >= $2 THEN wait_ms END), 0) AS BIGINT)
FROM queue_entries WHERE queue = $1`)
	qOrphanAgents = newQuery(`SELECT user_id, state, call_id FROM agents
WHERE node = $1 AND state IN ('ringing', 'on_call') ORDER BY user_id`)
	qOrphanCallbacks = newQuery(`UPDATE queue_entries SET status = 'callback', agent_id = NULL, node = ''
WHERE node = $1 AND callback AND status = 'offered'`)
	qOrphanEntries = newQuery(`UPDATE queue_entries SET status = 'left', reason = 'node_restart', ended_at = $2
WHERE node = $1 AND NOT callback AND status IN ('waiting', 'offered')`)
)

// CreateQueueEntry stores e as waiting; a zero EnteredAt means now.
func (d *db) CreateQueueEntry(ctx context.Context, e QueueEntry) (QueueEntry, error) {
	if e.Queue == "" {
		return QueueEntry{}, fmt.Errorf("queue call %s: the queue is empty", e.CallID)
	}
	e.EnteredAt = utcOrNow(e.EnteredAt)
	e.QueuedAt, e.Status, e.Callback, e.Skills = e.EnteredAt, EntryWaiting, false, normalSkills(e.Skills)
	err := d.inTx(ctx, func(q querier) error {
		err := q.queryRow(ctx, qCreateEntry, e.CallID, e.Queue, e.Tier, e.Number, e.Priority, e.EnteredAt,
			nullTime(e.Deadline), e.Node).Scan(&e.ID)
		if err != nil {
			return err
		}
		return addEntrySkills(ctx, q, e.ID, e.Skills)
	})
	if err != nil {
		return QueueEntry{}, fmt.Errorf("queue call %s in %s: %w", e.CallID, e.Queue, err)
	}
	e.Deadline = bound(e.Deadline, time.Time{})
	return e, nil
}

func addEntrySkills(ctx context.Context, q querier, id int64, skills []string) error {
	for _, s := range skills {
		if _, err := q.exec(ctx, qAddEntrySkill, id, s); err != nil {
			return err
		}
	}
	return nil
}

// QueueEntry gives ErrNotFound for an unknown entry.
func (d *db) QueueEntry(ctx context.Context, id int64) (QueueEntry, error) {
	return entryByID(ctx, d, qEntry, id)
}

func entryByID(ctx context.Context, q querier, qu query, id int64) (QueueEntry, error) {
	e, err := scanEntry(q.queryRow(ctx, qu, id))
	if err != nil {
		return QueueEntry{}, notFound(err, fmt.Sprintf("queue entry %d", id))
	}
	if e.Skills, err = queryAll(ctx, q, qEntrySkills, scanString, id); err != nil {
		return QueueEntry{}, fmt.Errorf("skills of queue entry %d: %w", id, err)
	}
	return e, nil
}

// OpenQueueEntries returns every open entry in routing order.
func (d *db) OpenQueueEntries(ctx context.Context) ([]QueueEntry, error) {
	es, err := queryAll(ctx, d, qOpenEntries, scanEntry)
	if err != nil {
		return nil, fmt.Errorf("open queue entries: %w", err)
	}
	type skill struct {
		entry int64
		name  string
	}
	skills, err := queryAll(ctx, d, qOpenEntrySkills, func(r row) (skill, error) {
		var s skill
		return s, r.Scan(&s.entry, &s.name)
	})
	if err != nil {
		return nil, fmt.Errorf("skills of open queue entries: %w", err)
	}
	byID := make(map[int64][]string, len(es))
	for _, s := range skills {
		byID[s.entry] = append(byID[s.entry], s.name)
	}
	for i := range es {
		es[i].Skills = byID[es[i].ID]
	}
	return es, nil
}

// RouteQueueEntry moves a waiting or callback entry.
func (d *db) RouteQueueEntry(ctx context.Context, id int64, queue string, skills []string, priority int, queuedAt time.Time) error {
	err := d.inTx(ctx, func(q querier) error {
		n, err := q.exec(ctx, qRouteEntry, id, queue, priority, utcOrNow(queuedAt))
		if err != nil {
			return err
		}
		if n == 0 {
			return fmt.Errorf("not waiting: %w", ErrConflict)
		}
		if _, err := q.exec(ctx, qDeleteEntrySkill, id); err != nil {
			return err
		}
		return addEntrySkills(ctx, q, id, normalSkills(skills))
	})
	if err != nil {
		return fmt.Errorf("route queue entry %d to %s: %w", id, queue, err)
	}
	return nil
}

// ReserveAgent offers a waiting or callback entry to the best agent.
func (d *db) ReserveAgent(ctx context.Context, entryID int64, node string, at time.Time) (Agent, error) {
	at = utcOrNow(at)
	var a Agent
	err := d.inTx(ctx, func(q querier) error {
		e, err := entryByID(ctx, q, qEntryForUpdate, entryID)
		if err != nil {
			return err
		}
		if e.Status != EntryWaiting && e.Status != EntryCallback {
			return fmt.Errorf("entry is %s: %w", e.Status, ErrConflict)
		}
		var agentID int64
		if err := q.queryRow(ctx, qPickAgent, e.ID, e.Priority, e.EnteredAt).Scan(&agentID); err != nil {
			return notFound(err, "an available agent with skills "+fmt.Sprint(e.Skills))
		}
		if err := setAgentState(ctx, q, AgentStateChange{AgentID: agentID, From: AgentAvailable, To: AgentRinging,
			CallID: e.CallID, Actor: "system", Node: node, At: at}); err != nil {
			return err
		}
		if n, err := q.exec(ctx, qOfferEntry, e.ID, agentID, node); err != nil || n == 0 {
			return fmt.Errorf("offer entry: %d rows, %w", n, err)
		}
		a, err = agentByID(ctx, q, agentID)
		return err
	})
	if err != nil {
		return Agent{}, fmt.Errorf("reserve an agent for queue entry %d: %w", entryID, err)
	}
	return a, nil
}

// openOffer reads entry o.EntryID in a transaction and checks that it is
// still offered to o.AgentID.
func openOffer(ctx context.Context, q querier, o OfferChange) (QueueEntry, error) {
	e, err := entryByID(ctx, q, qEntryForUpdate, o.EntryID)
	if err != nil {
		return QueueEntry{}, err
	}
	if e.Status != EntryOffered || e.AgentID != o.AgentID {
		return QueueEntry{}, fmt.Errorf("entry is %s to agent %d: %w", e.Status, e.AgentID, ErrConflict)
	}
	return e, nil
}

// AnswerOffer: the agent took the offer.
func (d *db) AnswerOffer(ctx context.Context, o OfferChange) (QueueEntry, error) {
	at := utcOrNow(o.At)
	var e QueueEntry
	err := d.inTx(ctx, func(q querier) error {
		var err error
		if e, err = openOffer(ctx, q, o); err != nil {
			return err
		}
		if err := setAgentState(ctx, q, AgentStateChange{AgentID: o.AgentID, From: AgentRinging, To: AgentOnCall,
			CallID: e.CallID, Actor: o.Actor, Node: o.Node, At: at}); err != nil {
			return err
		}
		e.Status, e.Answered, e.Waited = EntryAnswered, at, waited(e.EnteredAt, at)
		_, err = q.exec(ctx, qAnswerEntry, e.ID, at, e.Waited.Milliseconds())
		return err
	})
	if err != nil {
		return QueueEntry{}, fmt.Errorf("answer offer of entry %d to agent %d: %w", o.EntryID, o.AgentID, err)
	}
	return e, nil
}

// ReleaseOffer ends an offer that was not taken.
func (d *db) ReleaseOffer(ctx context.Context, o OfferChange, c AgentStateChange) error {
	c.AgentID, c.From = o.AgentID, AgentRinging
	if c.At.IsZero() {
		c.At = o.At
	}
	err := d.inTx(ctx, func(q querier) error {
		if _, err := openOffer(ctx, q, o); err != nil {
			return err
		}
		if err := setAgentState(ctx, q, c); err != nil {
			return err
		}
		_, err := q.exec(ctx, qReleaseEntry, o.EntryID)
		return err
	})
	if err != nil {
		return fmt.Errorf("release offer of entry %d to agent %d: %w", o.EntryID, o.AgentID, err)
	}
	return nil
}

// EndQueueEntry ends an open entry.
func (d *db) EndQueueEntry(ctx context.Context, id int64, status, reason string, at time.Time) (QueueEntry, error) {
	if status != EntryAbandoned && status != EntryLeft {
		return QueueEntry{}, fmt.Errorf("end queue entry %d: status %q is neither %q nor %q", id, status, EntryAbandoned, EntryLeft)
	}
	at = utcOrNow(at)
	var e QueueEntry
	err := d.inTx(ctx, func(q querier) error {
		var err error
		if e, err = entryByID(ctx, q, qEntryForUpdate, id); err != nil {
			return err
		}
		switch e.Status {
		case EntryOffered:
			if err := setAgentState(ctx, q, AgentStateChange{AgentID: e.AgentID, From: AgentRinging, To: AgentAvailable,
				Reason: status, Actor: "system", Node: e.Node, At: at}); err != nil {
				return err
			}
		case EntryWaiting, EntryCallback:
		default:
			return fmt.Errorf("entry is %s: %w", e.Status, ErrConflict)
		}
		e.Status, e.Reason, e.Ended, e.Waited, e.AgentID = status, reason, at, waited(e.EnteredAt, at), 0
		_, err = q.exec(ctx, qEndEntry, id, status, reason, at, e.Waited.Milliseconds())
		return err
	})
	if err != nil {
		return QueueEntry{}, fmt.Errorf("end queue entry %d as %s: %w", id, status, err)
	}
	return e, nil
}

// RequestCallback turns a waiting entry into a callback.
func (d *db) RequestCallback(ctx context.Context, id int64) (QueueEntry, error) {
	n, err := d.exec(ctx, qCallbackEntry, id)
	if err != nil {
		if d.violation(err) == uniqueViolation {
			return QueueEntry{}, fmt.Errorf("callback for queue entry %d: the number has an open callback: %w", id, ErrExists)
		}
		return QueueEntry{}, fmt.Errorf("callback for queue entry %d: %w", id, err)
	}
	e, err := d.QueueEntry(ctx, id)
	if err != nil {
		return QueueEntry{}, fmt.Errorf("callback: %w", err)
	}
	if n == 0 {
		return QueueEntry{}, fmt.Errorf("callback for queue entry %d: entry is %s: %w", id, e.Status, ErrConflict)
	}
	return e, nil
}

// QueueStats gives one queue's figures.
func (d *db) QueueStats(ctx context.Context, queue string, since time.Time, serviceLevel time.Duration) (QueueStats, error) {
	s := QueueStats{Queue: queue}
	var abandonedMS int64
	err := d.queryRow(ctx, qQueueStats, queue, utc(since), serviceLevel.Milliseconds()).Scan(&s.Waiting, &s.Callbacks,
		timeDest(&s.OldestEntered), &s.Answered, &s.AnsweredInTime, &s.Abandoned, &abandonedMS)
	if err != nil {
		return QueueStats{}, fmt.Errorf("figures of queue %s: %w", queue, err)
	}
	s.AbandonedWait = time.Duration(abandonedMS) * time.Millisecond
	return s, nil
}

// QueueOutcomes gives the calls answered or abandoned in a queue since a
// time, each once.
func (d *db) QueueOutcomes(ctx context.Context, since time.Time) ([]QueueOutcome, error) {
	rows, err := queryAll(ctx, d, qQueueOutcomes, func(r row) (QueueOutcome, error) {
		var o QueueOutcome
		var contact string
		var waitMS int64
		err := r.Scan(&o.CallID, &o.Queue, timeDest(&o.EnteredAt), &o.Status, &waitMS, &contact)
		o.Waited = time.Duration(waitMS) * time.Millisecond
		if contact != "" {
			o.Contact = json.RawMessage(contact)
		}
		return o, err
	}, utc(since))
	if err != nil {
		return nil, fmt.Errorf("queue outcomes since %s: %w", since.Format(time.RFC3339), err)
	}
	seen := map[string]bool{}
	out := rows[:0]
	for _, o := range rows {
		if !seen[o.CallID] {
			seen[o.CallID] = true
			out = append(out, o)
		}
	}
	return out, nil
}

// EndOrphanedQueueEntries cleans up after a node that crashed.
func (d *db) EndOrphanedQueueEntries(ctx context.Context, node string, at time.Time) (int64, error) {
	at = utcOrNow(at)
	var total int64
	err := d.inTx(ctx, func(q querier) error {
		type busy struct {
			id            int64
			state, callID string
		}
		agents, err := queryAll(ctx, q, qOrphanAgents, func(r row) (busy, error) {
			var b busy
			return b, r.Scan(&b.id, &b.state, &b.callID)
		}, node)
		if err != nil {
			return err
		}
		for _, b := range agents {
			c := AgentStateChange{AgentID: b.id, From: b.state, To: AgentAvailable, Reason: "node_restart",
				Actor: "system", Node: node, At: at}
			if b.state == AgentOnCall {
				c.To, c.CallID = AgentWrapUp, b.callID
			}
			if err := setAgentState(ctx, q, c); err != nil {
				return err
			}
		}
		n, err := q.exec(ctx, qOrphanCallbacks, node)
		if err != nil {
			return err
		}
		m, err := q.exec(ctx, qOrphanEntries, node, at)
		total = n + m
		return err
	})
	if err != nil {
		return 0, fmt.Errorf("end orphaned queue entries of node %s: %w", node, err)
	}
	return total, nil
}

func scanEntry(r row) (QueueEntry, error) {
	var e QueueEntry
	var agent sql.NullInt64
	var waitMS int64
	err := r.Scan(&e.ID, &e.CallID, &e.Queue, &e.Tier, &e.Number, &e.Priority, timeDest(&e.EnteredAt),
		timeDest(&e.QueuedAt), timeDest(&e.Deadline), &e.Node, &e.Status, &e.Callback, &agent,
		timeDest(&e.Answered), timeDest(&e.Ended), &waitMS, &e.Reason)
	e.AgentID = agent.Int64
	e.Waited = time.Duration(waitMS) * time.Millisecond
	return e, err
}

// waited is the wait from entered to at, to the millisecond stored.
func waited(entered, at time.Time) time.Duration {
	return max(at.Sub(entered), 0).Truncate(time.Millisecond)
}
