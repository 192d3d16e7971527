package store

import (
	"context"
	"encoding/json"
	"fmt"
)

// Page sizes of ListAudit.
const (
	defaultAuditLimit = 100
	maxAuditLimit     = 1000
)

var (
	qAppendAudit = newQuery(`INSERT INTO audit_events (at, actor, action, target, remote_addr, outcome, detail)
VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING id`)
	// An empty filter field matches everything, so the one statement serves
	// every filter.
	qListAudit = newQuery(`SELECT id, at, actor, action, target, remote_addr, outcome, detail
FROM audit_events
WHERE (action = $1 OR $1 = '')
  AND (actor = $2 OR $2 = '')
  AND (target = $3 OR $3 = '')
  AND (remote_addr = $4 OR $4 = '')
  AND at >= $5
ORDER BY at DESC, id DESC
LIMIT $6`)
)

// AppendAudit stores e and returns it with ID set; a zero At means now.
func (d *db) AppendAudit(ctx context.Context, e AuditEvent) (AuditEvent, error) {
	detail := []byte("{}")
	if len(e.Detail) > 0 {
		var err error
		if detail, err = json.Marshal(e.Detail); err != nil {
			return AuditEvent{}, fmt.Errorf("append audit %s: encode detail: %w", e.Action, err)
		}
	}
	e.At = utcOrNow(e.At)
	err := d.queryRow(ctx, qAppendAudit, e.At, e.Actor, e.Action, e.Target, e.RemoteAddr, e.Outcome,
		string(detail)).Scan(&e.ID)
	if err != nil {
		return AuditEvent{}, fmt.Errorf("append audit %s: %w", e.Action, err)
	}
	return e, nil
}

// ListAudit returns matching events, newest first.
func (d *db) ListAudit(ctx context.Context, f AuditFilter) ([]AuditEvent, error) {
	es, err := queryAll(ctx, d, qListAudit, scanAudit, f.Action, f.Actor, f.Target, f.RemoteAddr,
		bound(f.Since, minTime), limit(f.Limit, defaultAuditLimit, maxAuditLimit))
	if err != nil {
		return nil, fmt.Errorf("list audit: %w", err)
	}
	return es, nil
}

func scanAudit(r row) (AuditEvent, error) {
	var e AuditEvent
	var detail string
	if err := r.Scan(&e.ID, timeDest(&e.At), &e.Actor, &e.Action, &e.Target, &e.RemoteAddr, &e.Outcome,
		&detail); err != nil {
		return AuditEvent{}, err
	}
	if err := json.Unmarshal([]byte(detail), &e.Detail); err != nil {
		return AuditEvent{}, fmt.Errorf("decode detail of audit event %d: %w", e.ID, err)
	}
	if len(e.Detail) == 0 {
		e.Detail = nil
	}
	return e, nil
}

// limit is n within (0, most], or def when n is not positive.
func limit(n, def, most int) int {
	switch {
	case n <= 0:
		return def
	case n > most:
		return most
	}
	return n
}
