package web

import (
	"context"
	"time"

	"github.com/sambung/sambung/store"
)

// Failed sign-ins slow down. The audit trail is the memory: failures are
// counted from stored login.failure events, so the limit holds across server
// nodes and restarts without state of its own.
//
// Per name: the first nameFreeFailures failures in throttleWindow (since the
// last success) cost nothing; each one after doubles the wait before the next
// attempt is heard, from 1 s up to maxLoginWait. Per client address the same
// with ipFreeFailures, so one address cannot spray many names.
const (
	throttleWindow   = 15 * time.Minute
	nameFreeFailures = 5
	ipFreeFailures   = 20
	maxLoginWait     = 5 * time.Minute
)

type throttle struct {
	audit store.Audit
	now   func() time.Time
}

// wait says how long the caller must wait before this attempt is heard; zero
// lets it through.
func (t throttle) wait(ctx context.Context, name, ip string) (time.Duration, error) {
	now := t.now()
	since := now.Add(-throttleWindow)
	ok, err := t.audit.ListAudit(ctx, store.AuditFilter{Action: "login.success", Target: name, Since: since, Limit: 1})
	if err != nil {
		return 0, err
	}
	if len(ok) > 0 {
		since = ok[0].At.Add(time.Microsecond)
	}
	byName, err := t.audit.ListAudit(ctx, store.AuditFilter{Action: "login.failure", Target: name, Since: since, Limit: nameFreeFailures + 10})
	if err != nil {
		return 0, err
	}
	byIP, err := t.audit.ListAudit(ctx, store.AuditFilter{Action: "login.failure", RemoteAddr: ip, Since: now.Add(-throttleWindow), Limit: ipFreeFailures + 10})
	if err != nil {
		return 0, err
	}
	return max(backoff(byName, nameFreeFailures, now), backoff(byIP, ipFreeFailures, now)), nil
}

// backoff is the remaining wait after failures (newest first), given how many
// are free.
func backoff(failures []store.AuditEvent, free int, now time.Time) time.Duration {
	n := len(failures)
	if n < free {
		return 0
	}
	d := min(time.Second<<min(n-free, 16), maxLoginWait)
	return max(failures[0].At.Add(d).Sub(now), 0)
}
