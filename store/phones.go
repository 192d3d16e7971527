package store

import (
	"context"
	"fmt"
	"time"
)

const (
	sipAccountColumns = `id, name, realm, display_name, ha1_md5, ha1_sha256, disabled, created_at, updated_at`
	sipBindingColumns = `aor, contact, expires_at, call_id, cseq, received, transport, user_agent, node`
)

var (
	qCreateSIPAccount = newQuery(`INSERT INTO sip_accounts (name, realm, display_name, ha1_md5, ha1_sha256, disabled, created_at, updated_at)
VALUES ($1, $2, $3, $4, $5, $6, $7, $7) RETURNING id`)
	qSIPAccount      = newQuery(`SELECT ` + sipAccountColumns + ` FROM sip_accounts WHERE name = $1 AND realm = $2`)
	qListSIPAccounts = newQuery(`SELECT ` + sipAccountColumns + ` FROM sip_accounts ORDER BY realm, name`)
	qSetSIPDisabled  = newQuery(`UPDATE sip_accounts SET disabled = $2, updated_at = $3 WHERE name = $1`)
	qPutSIPBinding   = newQuery(`INSERT INTO sip_bindings (` + sipBindingColumns + `)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)
ON CONFLICT (aor, contact) DO UPDATE SET expires_at = excluded.expires_at, call_id = excluded.call_id,
  cseq = excluded.cseq, received = excluded.received, transport = excluded.transport,
  user_agent = excluded.user_agent, node = excluded.node`)
	qRemoveSIPBinding  = newQuery(`DELETE FROM sip_bindings WHERE aor = $1 AND contact = $2`)
	qRemoveSIPBindings = newQuery(`DELETE FROM sip_bindings WHERE aor = $1`)
	qSIPBindings       = newQuery(`SELECT ` + sipBindingColumns + ` FROM sip_bindings
WHERE aor = $1 AND expires_at > $2 ORDER BY expires_at DESC, contact`)
)

// CreateSIPAccount stores a and returns it with ID and times set.
func (d *db) CreateSIPAccount(ctx context.Context, a SIPAccount) (SIPAccount, error) {
	now := utc(time.Now())
	err := d.queryRow(ctx, qCreateSIPAccount, a.Name, a.Realm, a.DisplayName, a.HA1MD5, a.HA1SHA256, a.Disabled, now).Scan(&a.ID)
	if err != nil {
		if d.violation(err) == uniqueViolation {
			return SIPAccount{}, fmt.Errorf("sip account %s@%s: %w", a.Name, a.Realm, ErrExists)
		}
		return SIPAccount{}, fmt.Errorf("create sip account %s@%s: %w", a.Name, a.Realm, err)
	}
	a.CreatedAt, a.UpdatedAt = now, now
	return a, nil
}

// SIPAccount gives ErrNotFound for an unknown account.
func (d *db) SIPAccount(ctx context.Context, name, realm string) (SIPAccount, error) {
	a, err := scanSIPAccount(d.queryRow(ctx, qSIPAccount, name, realm))
	if err != nil {
		return SIPAccount{}, notFound(err, "sip account "+name+"@"+realm)
	}
	return a, nil
}

// ListSIPAccounts returns every account ordered by realm and name.
func (d *db) ListSIPAccounts(ctx context.Context) ([]SIPAccount, error) {
	as, err := queryAll(ctx, d, qListSIPAccounts, scanSIPAccount)
	if err != nil {
		return nil, fmt.Errorf("list sip accounts: %w", err)
	}
	return as, nil
}

// SetSIPAccountDisabled disables or enables the accounts named name.
func (d *db) SetSIPAccountDisabled(ctx context.Context, name string, disabled bool) error {
	n, err := d.exec(ctx, qSetSIPDisabled, name, disabled, utc(time.Now()))
	if err != nil {
		return fmt.Errorf("sip account %s: %w", name, err)
	}
	if n == 0 {
		return fmt.Errorf("sip account %s: %w", name, ErrNotFound)
	}
	return nil
}

func scanSIPAccount(r row) (SIPAccount, error) {
	var a SIPAccount
	err := r.Scan(&a.ID, &a.Name, &a.Realm, &a.DisplayName, &a.HA1MD5, &a.HA1SHA256, &a.Disabled,
		timeDest(&a.CreatedAt), timeDest(&a.UpdatedAt))
	return a, err
}

// PutSIPBinding adds or replaces the binding of (AOR, Contact).
func (d *db) PutSIPBinding(ctx context.Context, b SIPBinding) error {
	if _, err := d.exec(ctx, qPutSIPBinding, b.AOR, b.Contact, utc(b.Expires), b.CallID, int64(b.CSeq),
		b.Received, b.Transport, b.UserAgent, b.Node); err != nil {
		return fmt.Errorf("put binding %s -> %s: %w", b.AOR, b.Contact, err)
	}
	return nil
}

// RemoveSIPBinding removes one binding.
func (d *db) RemoveSIPBinding(ctx context.Context, aor, contact string) error {
	if _, err := d.exec(ctx, qRemoveSIPBinding, aor, contact); err != nil {
		return fmt.Errorf("remove binding %s -> %s: %w", aor, contact, err)
	}
	return nil
}

// RemoveSIPBindings removes every binding of aor.
func (d *db) RemoveSIPBindings(ctx context.Context, aor string) error {
	if _, err := d.exec(ctx, qRemoveSIPBindings, aor); err != nil {
		return fmt.Errorf("remove bindings of %s: %w", aor, err)
	}
	return nil
}

// SIPBindings returns aor's unexpired bindings.
func (d *db) SIPBindings(ctx context.Context, aor string, now time.Time) ([]SIPBinding, error) {
	bs, err := queryAll(ctx, d, qSIPBindings, scanSIPBinding, aor, utc(now))
	if err != nil {
		return nil, fmt.Errorf("bindings of %s: %w", aor, err)
	}
	return bs, nil
}

func scanSIPBinding(r row) (SIPBinding, error) {
	var b SIPBinding
	var cseq int64
	err := r.Scan(&b.AOR, &b.Contact, timeDest(&b.Expires), &b.CallID, &cseq, &b.Received, &b.Transport, &b.UserAgent, &b.Node)
	b.CSeq = uint32(cseq)
	return b, err
}
