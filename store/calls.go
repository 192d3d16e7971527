package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"time"
)

// Page sizes of ListCalls.
const (
	defaultCallLimit = 50
	maxCallLimit     = 500
)

const (
	callInsertColumns = `id, direction, from_uri, to_uri, node, started_at, answered_at, ended_at, outcome, end_reason`
	callColumns       = callInsertColumns + `, agent_id, disposition, disposition_notes, wrapped_up_at, contact,
  queue, intent, language, sentiment, angry, csat, resolution, duration_ms,
  legal_hold, hold_reason, hold_by, hold_at`
)

var (
	qCreateCall = newQuery(`INSERT INTO calls (` + callInsertColumns + `)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)`)
	qSetDisposition = newQuery(`UPDATE calls SET agent_id = $2, disposition = $3, disposition_notes = $4, wrapped_up_at = $5
WHERE id = $1`)
	qSetContact  = newQuery(`UPDATE calls SET contact = $2 WHERE id = $1`)
	qAnswerCall  = newQuery(`UPDATE calls SET answered_at = $2 WHERE id = $1`)
	qEndCall     = newQuery(`UPDATE calls SET ended_at = $2, outcome = $3, end_reason = $4 WHERE id = $1`)
	qCallByID    = newQuery(`SELECT ` + callColumns + ` FROM calls WHERE id = $1`)
	qCallStarted = newQuery(`SELECT started_at FROM calls WHERE id = $1`)
	// Keyset paging: the page after the call ($3, $4) holds the calls that
	// sort below it by (started_at, id), which the index calls_started_at_id
	// serves. Without Before, ($3, $4) is (maxTime, ""), above every call.
	qListCalls = newQuery(`SELECT ` + callColumns + ` FROM calls
WHERE started_at >= $1 AND started_at < $2
  AND (started_at, id) < ($3, $4)
  AND ($6 = '' OR from_uri = $6)
ORDER BY started_at DESC, id DESC
LIMIT $5`)
	qAppendCallEvent = newQuery(`INSERT INTO call_events (call_id, at, kind, data)
VALUES ($1, $2, $3, $4) RETURNING id`)
	qCallEvents = newQuery(`SELECT id, call_id, at, kind, data FROM call_events WHERE call_id = $1 ORDER BY id`)
	qEndOrphans = newQuery(`UPDATE calls SET ended_at = $2, outcome = 'failed', end_reason = $3
WHERE node = $1 AND ended_at IS NULL`)
)

// EndOrphanedCalls closes the records of calls on node that never ended.
func (d *db) EndOrphanedCalls(ctx context.Context, node string, at time.Time, reason string) (int64, error) {
	n, err := d.exec(ctx, qEndOrphans, node, utcOrNow(at), reason)
	if err != nil {
		return 0, fmt.Errorf("end orphaned calls of node %s: %w", node, err)
	}
	return n, nil
}

// CreateCall stores a new call; a zero StartedAt means now.
func (d *db) CreateCall(ctx context.Context, c Call) error {
	if c.ID == "" {
		return fmt.Errorf("create call: the id is empty")
	}
	if c.Direction != Inbound && c.Direction != Outbound {
		return fmt.Errorf("create call %s: direction %q is neither %q nor %q", c.ID, c.Direction, Inbound, Outbound)
	}
	_, err := d.exec(ctx, qCreateCall, c.ID, string(c.Direction), c.From, c.To, c.Node, utcOrNow(c.StartedAt),
		nullTime(c.AnsweredAt), nullTime(c.EndedAt), c.Outcome, c.EndReason)
	if err != nil {
		if d.violation(err) == uniqueViolation {
			return fmt.Errorf("create call %s: %w", c.ID, ErrExists)
		}
		return fmt.Errorf("create call %s: %w", c.ID, err)
	}
	return nil
}

// AnswerCall sets AnsweredAt; a zero at means now.
func (d *db) AnswerCall(ctx context.Context, id string, at time.Time) error {
	return d.updateCall(ctx, "answer", qAnswerCall, id, utcOrNow(at))
}

// EndCall sets EndedAt, Outcome and EndReason; a zero at means now.
func (d *db) EndCall(ctx context.Context, id string, at time.Time, outcome, reason string) error {
	return d.updateCall(ctx, "end", qEndCall, id, utcOrNow(at), outcome, reason)
}

func (d *db) updateCall(ctx context.Context, what string, q query, id string, args ...any) error {
	n, err := d.exec(ctx, q, append([]any{id}, args...)...)
	if err != nil {
		return fmt.Errorf("%s call %s: %w", what, id, err)
	}
	if n == 0 {
		return fmt.Errorf("%s call %s: %w", what, id, ErrNotFound)
	}
	return nil
}

// CallByID gives ErrNotFound for an unknown call.
func (d *db) CallByID(ctx context.Context, id string) (Call, error) {
	c, err := scanCall(d.queryRow(ctx, qCallByID, id))
	if err != nil {
		return Call{}, notFound(err, "call "+id)
	}
	return c, nil
}

// ListCalls returns matching calls, newest first. A Before that names no
// call gives ErrNotFound.
func (d *db) ListCalls(ctx context.Context, f CallFilter) ([]Call, error) {
	cursorStarted, cursorID := maxTime, ""
	if f.Before != "" {
		if err := d.queryRow(ctx, qCallStarted, f.Before).Scan(timeDest(&cursorStarted)); err != nil {
			return nil, fmt.Errorf("list calls: %w", notFound(err, "call "+f.Before))
		}
		cursorID = f.Before
	}
	cs, err := queryAll(ctx, d, qListCalls, scanCall, bound(f.Since, minTime), bound(f.Until, maxTime),
		cursorStarted, cursorID, limit(f.Limit, defaultCallLimit, maxCallLimit), f.From)
	if err != nil {
		return nil, fmt.Errorf("list calls: %w", err)
	}
	return cs, nil
}

func scanCall(r row) (Call, error) {
	var c Call
	var agent, csat, durationMS sql.NullInt64
	var sentiment sql.NullFloat64
	var contact string
	err := r.Scan(&c.ID, (*string)(&c.Direction), &c.From, &c.To, &c.Node, timeDest(&c.StartedAt),
		timeDest(&c.AnsweredAt), timeDest(&c.EndedAt), &c.Outcome, &c.EndReason,
		&agent, &c.Disposition, &c.DispositionNotes, timeDest(&c.WrappedUpAt), &contact,
		&c.Queue, &c.Intent, &c.Language, &sentiment, &c.Angry, &csat, (*string)(&c.Resolution), &durationMS,
		&c.LegalHold, &c.HoldReason, &c.HoldBy, timeDest(&c.HoldAt))
	c.AgentID = agent.Int64
	if contact != "" {
		c.Contact = json.RawMessage(contact)
	}
	if sentiment.Valid {
		c.Sentiment = &sentiment.Float64
	}
	c.CSAT = int(csat.Int64)
	c.Duration = time.Duration(durationMS.Int64) * time.Millisecond
	return c, err
}

// SetCallDisposition stores an agent's wrap-up of a call; a zero At means now.
func (d *db) SetCallDisposition(ctx context.Context, id string, w Disposition) error {
	if w.Code == "" {
		return fmt.Errorf("wrap up call %s: the disposition is empty", id)
	}
	var agent any
	if w.AgentID != 0 {
		agent = w.AgentID
	}
	return d.updateCall(ctx, "wrap up", qSetDisposition, id, agent, w.Code, w.Notes, utcOrNow(w.At))
}

// SetCallContact stores the call's contact context, a JSON object,
// replacing the one stored before.
func (d *db) SetCallContact(ctx context.Context, id string, contact json.RawMessage) error {
	raw, err := jsonObject(contact)
	if err != nil {
		return fmt.Errorf("store the contact of call %s: %w", id, err)
	}
	return d.updateCall(ctx, "store the contact of", qSetContact, id, raw)
}

// AppendCallEvent adds an event to a call's timeline and returns it with ID
// set; a zero At means now and nil Data the empty object.
func (d *db) AppendCallEvent(ctx context.Context, e CallEvent) (CallEvent, error) {
	data, err := jsonObject(e.Data)
	if err != nil {
		return CallEvent{}, fmt.Errorf("append %s to call %s: %w", e.Kind, e.CallID, err)
	}
	e.At = utcOrNow(e.At)
	e.Data = json.RawMessage(data)
	if err := d.queryRow(ctx, qAppendCallEvent, e.CallID, e.At, e.Kind, data).Scan(&e.ID); err != nil {
		if d.violation(err) == foreignKeyViolation {
			return CallEvent{}, fmt.Errorf("append %s to call %s: call %w", e.Kind, e.CallID, ErrNotFound)
		}
		return CallEvent{}, fmt.Errorf("append %s to call %s: %w", e.Kind, e.CallID, err)
	}
	return e, nil
}

// CallEvents returns a call's timeline in the order it was appended.
func (d *db) CallEvents(ctx context.Context, callID string) ([]CallEvent, error) {
	es, err := queryAll(ctx, d, qCallEvents, scanCallEvent, callID)
	if err != nil {
		return nil, fmt.Errorf("read timeline of call %s: %w", callID, err)
	}
	return es, nil
}

func scanCallEvent(r row) (CallEvent, error) {
	var e CallEvent
	var data string
	err := r.Scan(&e.ID, &e.CallID, timeDest(&e.At), &e.Kind, &data)
	e.Data = json.RawMessage(data)
	return e, err
}
