package store

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"time"
)

// Retention keeps recordings no longer than policy allows and erases a
// caller's calls on request, sparing the calls on legal hold.
type Retention interface {
	// SetLegalHold puts a call on legal hold (on), recording who (by), why
	// and when, or releases it, which clears them (by and reason go unused;
	// the audit trail keeps the history). A hold needs a reason (ErrInvalid
	// without one); ErrNotFound for an unknown call.
	SetLegalHold(ctx context.Context, callID string, on bool, by, reason string) error
	// SetRecordingRetention sets the recording's own retention policy, the
	// time until which it is kept (Recording.RetainUntil), or clears it
	// with the zero time, which leaves the recording to the global
	// retention. ErrNotFound for an unknown recording; ErrInvalid for a
	// time past the year 9999.
	SetRecordingRetention(ctx context.Context, id int64, until time.Time) error
	// ExpiredRecordings returns the recordings past their time at now,
	// leaving out those of calls on legal hold: a recording with a
	// RetainUntil once that is before now, whatever keep says; one without
	// once its call started before now - keep, if keep > 0 (keep <= 0
	// means no global retention: only RetainUntil expires recordings).
	//
	// They come oldest due first: by the time each fell due, its
	// RetainUntil or its call's start plus keep, then by ID. At most limit
	// (0 means 100, more than 1000 means 1000; negative gives ErrInvalid).
	ExpiredRecordings(ctx context.Context, now time.Time, keep time.Duration, limit int) ([]Recording, error)
	// DeleteRecording removes a recording's metadata; the caller deletes the
	// file once it succeeds. ErrHeld if its call is on legal hold;
	// ErrNotFound for an unknown recording.
	DeleteRecording(ctx context.Context, id int64) error
	// CallsFrom returns every call whose caller is from, exactly, newest
	// first, those on hold included; ErrInvalid for an empty from.
	CallsFrom(ctx context.Context, from string) ([]Call, error)
	// EraseCalls deletes the calls ids, in one transaction, with every row
	// that names them: their timelines, recordings' metadata, evaluations,
	// comments, review items and queue entries; the agent states and agents
	// that name one keep their row with the call blanked. Only the audit
	// trail keeps mentioning them. It says how many calls it deleted; IDs
	// of no call are skipped. If any call is on legal hold it erases
	// nothing and returns ErrHeld, naming the call.
	//
	// The recordings' files are the caller's to delete: read their paths
	// (CallRecordings) before, delete the files after EraseCalls succeeds.
	EraseCalls(ctx context.Context, ids []string) (int, error)
}

// Page sizes of ExpiredRecordings.
const (
	defaultExpiredLimit = 100
	maxExpiredLimit     = 1000
)

var (
	qSetLegalHold = newQuery(`UPDATE calls SET legal_hold = $2, hold_reason = $3, hold_by = $4, hold_at = $5
WHERE id = $1`)
	qSetRecordingRetention = newQuery(`UPDATE recordings SET retain_until = $2 WHERE id = $1`)
	// Two parts, each the first $3 along its own partial index (migration
	// 0011), never a walk of calls nor of every recording: those whose own
	// retain_until is before $1, along recordings_retain_until, and those
	// with none whose call started before $2, along
	// recordings_default_call_started_at. Each leaves out the recordings
	// of the few calls in calls_held (migration 0010); "c.legal_hold" is
	// spelt as that partial index's predicate, so that the planner can use
	// it, and "r.retain_until IS NULL" as the second index's.
	//
	// ExpiredRecordings merges the two by when each recording fell due,
	// which for the second part is call_started_at plus keep: a sum that
	// SQLite's stored text cannot give to the microsecond, so it is worked
	// out in Go, over at most twice the limit. The call's start comes
	// last, after recordingColumns, for that.
	qExpiredRecordings = newQuery(`SELECT * FROM (
  SELECT ` + recordingColumns + `, call_started_at FROM recordings r
  WHERE r.retain_until < $1
    AND NOT EXISTS (SELECT 1 FROM calls c WHERE c.id = r.call_id AND c.legal_hold)
  ORDER BY r.retain_until, r.id
  LIMIT $3) AS own_policy
UNION ALL
SELECT * FROM (
  SELECT ` + recordingColumns + `, call_started_at FROM recordings r
  WHERE r.retain_until IS NULL AND r.call_started_at < $2
    AND NOT EXISTS (SELECT 1 FROM calls c WHERE c.id = r.call_id AND c.legal_hold)
  ORDER BY r.call_started_at, r.id
  LIMIT $3) AS by_age`)
	// The call's row stays locked until the recording is gone, so that a
	// hold cannot be set between the check and the delete.
	qRecordingHold = lockingQuery(`SELECT c.id, c.legal_hold FROM recordings r JOIN calls c ON c.id = r.call_id
WHERE r.id = $1`, "FOR SHARE OF c")
	qDeleteRecording = newQuery(`DELETE FROM recordings WHERE id = $1`)
	qCallsFrom       = newQuery(`SELECT ` + callColumns + ` FROM calls WHERE from_uri = $1
ORDER BY started_at DESC, id DESC`)
)

// SetLegalHold puts a call on legal hold or releases it.
func (d *db) SetLegalHold(ctx context.Context, callID string, on bool, by, reason string) error {
	if !on {
		return d.updateCall(ctx, "release the legal hold of", qSetLegalHold, callID, false, "", "", nil)
	}
	if reason == "" {
		return fmt.Errorf("put a legal hold on call %s: %w", callID, invalid("Reason is empty; a hold needs one"))
	}
	return d.updateCall(ctx, "put a legal hold on", qSetLegalHold, callID, true, reason, by, utc(time.Now()))
}

// retainUntil is t as retain_until stores it: NULL for the zero time. A
// time outside the years 1 to 9999 is refused, as SQLite's text of it
// would not sort among the others.
func retainUntil(t time.Time) (any, error) {
	if !t.IsZero() && (t.Before(minTime) || t.After(maxTime)) {
		return nil, invalid("RetainUntil %s is outside the years 1 to 9999", t.Format(time.RFC3339))
	}
	return nullTime(t), nil
}

// SetRecordingRetention sets or clears a recording's RetainUntil.
func (d *db) SetRecordingRetention(ctx context.Context, id int64, until time.Time) error {
	arg, err := retainUntil(until)
	if err != nil {
		return fmt.Errorf("set the retention of recording %d: %w", id, err)
	}
	n, err := d.exec(ctx, qSetRecordingRetention, id, arg)
	if err != nil {
		return fmt.Errorf("set the retention of recording %d: %w", id, err)
	}
	if n == 0 {
		return fmt.Errorf("set the retention of recording %d: %w", id, ErrNotFound)
	}
	return nil
}

// dueRecording is a recording ExpiredRecordings found, with when it fell due.
type dueRecording struct {
	Recording
	due time.Time
}

// ExpiredRecordings returns the recordings past their time at now, those
// of calls on hold apart, oldest due first.
func (d *db) ExpiredRecordings(ctx context.Context, now time.Time, keep time.Duration, n int) ([]Recording, error) {
	if n < 0 {
		return nil, fmt.Errorf("find expired recordings: %w",
			invalid("limit is %d; it may not be negative (0 means %d)", n, defaultExpiredLimit))
	}
	n = limit(n, defaultExpiredLimit, maxExpiredLimit)
	// With no global retention, no call starts early enough.
	startedBefore := minTime
	if keep > 0 {
		startedBefore = now.Add(-keep)
	}
	scan := func(r row) (dueRecording, error) {
		var callStarted time.Time
		rec, err := scanRecordingAnd(r, timeDest(&callStarted))
		due := rec.RetainUntil
		if due.IsZero() {
			due = callStarted.Add(keep)
		}
		return dueRecording{rec, due}, err
	}
	found, err := queryAll(ctx, d, qExpiredRecordings, scan, utc(now), utc(startedBefore), n)
	if err != nil {
		return nil, fmt.Errorf("find recordings expired at %s (global retention %s): %w", now.Format(time.RFC3339), keep, err)
	}
	slices.SortFunc(found, func(a, b dueRecording) int {
		return cmp.Or(a.due.Compare(b.due), cmp.Compare(a.ID, b.ID))
	})
	rs := make([]Recording, 0, min(len(found), n))
	for _, f := range found[:min(len(found), n)] {
		rs = append(rs, f.Recording)
	}
	return rs, nil
}

// DeleteRecording removes a recording's metadata unless its call is on hold.
func (d *db) DeleteRecording(ctx context.Context, id int64) error {
	err := d.inTx(ctx, func(q querier) error {
		var callID string
		var held bool
		if err := q.queryRow(ctx, qRecordingHold, id).Scan(&callID, &held); err != nil {
			return notFound(err, fmt.Sprintf("recording %d", id))
		}
		if held {
			return fmt.Errorf("call %s: %w", callID, ErrHeld)
		}
		_, err := q.exec(ctx, qDeleteRecording, id)
		return err
	})
	if err != nil {
		return fmt.Errorf("delete recording %d: %w", id, err)
	}
	return nil
}

// CallsFrom returns every call from the caller from, newest first, along
// the index calls_from_started_at.
func (d *db) CallsFrom(ctx context.Context, from string) ([]Call, error) {
	if from == "" {
		return nil, fmt.Errorf("calls from a caller: %w", invalid("from is empty"))
	}
	cs, err := queryAll(ctx, d, qCallsFrom, scanCall, from)
	if err != nil {
		return nil, fmt.Errorf("calls from %s: %w", from, err)
	}
	return nonNil(cs), nil
}

// EraseCalls deletes the calls ids and every row that names them, the
// audit trail apart, unless one is on legal hold.
func (d *db) EraseCalls(ctx context.Context, ids []string) (int, error) {
	if slices.Contains(ids, "") {
		return 0, fmt.Errorf("erase calls: %w", invalid("a call ID is empty"))
	}
	// Sorted, so that two erasures lock shared calls in the same order.
	ids = slices.Compact(slices.Sorted(slices.Values(ids)))
	erased := 0
	err := d.inTx(ctx, func(q querier) error {
		erased = 0
		// Every hold is checked, with the calls locked against a hold being
		// set meanwhile, before anything is deleted.
		for chunk := range slices.Chunk(ids, chunkSize) {
			var w sqlWhere
			lock := lockingQuery(`SELECT id, legal_hold FROM calls WHERE id IN `+w.in(chunk)+` ORDER BY id`, "FOR UPDATE")
			holds, err := queryAll(ctx, q, lock, scanHold, w.args...)
			if err != nil {
				return err
			}
			for _, h := range holds {
				if h.held {
					return fmt.Errorf("call %s: %w", h.id, ErrHeld)
				}
			}
		}
		for chunk := range slices.Chunk(ids, chunkSize) {
			n, err := eraseChunk(ctx, q, chunk)
			if err != nil {
				return err
			}
			erased += n
		}
		return nil
	})
	if err != nil {
		return 0, fmt.Errorf("erase calls: %w", err)
	}
	return erased, nil
}

// eraseChunk erases the calls ids, none of which is on hold, and says how
// many there were.
func eraseChunk(ctx context.Context, q querier, ids []string) (int, error) {
	// Rows that name a call without a foreign key to it (read the schema
	// for "call_id"; sip_bindings.call_id is a SIP Call-ID, not a call).
	// The rest goes with the call: ON DELETE CASCADE.
	for _, stmt := range []string{
		// A queue entry is the call's (or its callback's); it holds the
		// caller's number too. Its skills cascade.
		`DELETE FROM queue_entries WHERE call_id IN `,
		// An agent's present call, and its history: the append-only trigger
		// allows this one change (migration 0010). "call_id <> ''" matches
		// the partial index agent_states_call_id.
		`UPDATE agents SET call_id = '' WHERE call_id IN `,
		`UPDATE agent_states SET call_id = '' WHERE call_id <> '' AND call_id IN `,
	} {
		var w sqlWhere
		if _, err := q.exec(ctx, newQuery(stmt+w.in(ids)), w.args...); err != nil {
			return 0, err
		}
	}
	var w sqlWhere
	n, err := q.exec(ctx, newQuery(`DELETE FROM calls WHERE id IN `+w.in(ids)), w.args...)
	return int(n), err
}

type hold struct {
	id   string
	held bool
}

func scanHold(r row) (hold, error) {
	var h hold
	err := r.Scan(&h.id, &h.held)
	return h, err
}
