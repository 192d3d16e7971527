package store

import (
	"context"
	"fmt"
	"time"
)

var (
	qCreateSession = newQuery(`INSERT INTO sessions
(token_hash, user_id, csrf_token, created_at, last_seen_at, expires_at, remote_addr, user_agent)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8)`)
	qSessionUser = newQuery(`SELECT s.token_hash, s.user_id, s.csrf_token, s.created_at, s.last_seen_at,
       s.expires_at, s.remote_addr, s.user_agent,
       u.id, u.name, u.display_name, u.role, u.password_hash, u.disabled, u.created_at, u.updated_at
FROM sessions s JOIN users u ON u.id = s.user_id
WHERE s.token_hash = $1 AND s.expires_at > $2`)
	qTouchSession         = newQuery(`UPDATE sessions SET last_seen_at = $2, expires_at = $3 WHERE token_hash = $1`)
	qDeleteSession        = newQuery(`DELETE FROM sessions WHERE token_hash = $1`)
	qDeleteUserSessions   = newQuery(`DELETE FROM sessions WHERE user_id = $1`)
	qDeleteExpiredSession = newQuery(`DELETE FROM sessions WHERE expires_at <= $1`)
)

// CreateSession stores s. A zero CreatedAt or LastSeenAt means now.
func (d *db) CreateSession(ctx context.Context, s Session) error {
	if len(s.TokenHash) == 0 {
		return fmt.Errorf("create session for user %d: the token hash is empty", s.UserID)
	}
	_, err := d.exec(ctx, qCreateSession, s.TokenHash, s.UserID, s.CSRFToken,
		utcOrNow(s.CreatedAt), utcOrNow(s.LastSeenAt), utc(s.ExpiresAt), s.RemoteAddr, s.UserAgent)
	if err != nil {
		switch d.violation(err) {
		case uniqueViolation:
			return fmt.Errorf("create session for user %d: %w", s.UserID, ErrExists)
		case foreignKeyViolation:
			return fmt.Errorf("create session for user %d: user %w", s.UserID, ErrNotFound)
		}
		return fmt.Errorf("create session for user %d: %w", s.UserID, err)
	}
	return nil
}

// SessionUser returns the session with this token hash that is unexpired
// at now, and its user.
func (d *db) SessionUser(ctx context.Context, tokenHash []byte, now time.Time) (Session, User, error) {
	var s Session
	var u User
	dest := append([]any{&s.TokenHash, &s.UserID, &s.CSRFToken, timeDest(&s.CreatedAt),
		timeDest(&s.LastSeenAt), timeDest(&s.ExpiresAt), &s.RemoteAddr, &s.UserAgent}, userDest(&u)...)
	if err := d.queryRow(ctx, qSessionUser, tokenHash, utc(now)).Scan(dest...); err != nil {
		// The token hash is a secret's digest: it stays out of the message.
		return Session{}, User{}, notFound(err, "session")
	}
	return s, u, nil
}

// TouchSession records activity and moves the expiry; ErrNotFound if the
// session is gone.
func (d *db) TouchSession(ctx context.Context, tokenHash []byte, lastSeen, expires time.Time) error {
	n, err := d.exec(ctx, qTouchSession, tokenHash, utc(lastSeen), utc(expires))
	if err != nil {
		return fmt.Errorf("touch session: %w", err)
	}
	if n == 0 {
		return fmt.Errorf("touch session: %w", ErrNotFound)
	}
	return nil
}

// DeleteSession ends one session. Deleting a missing one is not an error.
func (d *db) DeleteSession(ctx context.Context, tokenHash []byte) error {
	if _, err := d.exec(ctx, qDeleteSession, tokenHash); err != nil {
		return fmt.Errorf("delete session: %w", err)
	}
	return nil
}

// DeleteUserSessions ends every session of a user and says how many.
func (d *db) DeleteUserSessions(ctx context.Context, userID int64) (int64, error) {
	n, err := d.exec(ctx, qDeleteUserSessions, userID)
	if err != nil {
		return 0, fmt.Errorf("delete sessions of user %d: %w", userID, err)
	}
	return n, nil
}

// DeleteExpiredSessions removes sessions expired at now and says how many.
func (d *db) DeleteExpiredSessions(ctx context.Context, now time.Time) (int64, error) {
	n, err := d.exec(ctx, qDeleteExpiredSession, utc(now))
	if err != nil {
		return 0, fmt.Errorf("delete expired sessions: %w", err)
	}
	return n, nil
}
