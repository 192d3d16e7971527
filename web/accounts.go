package web

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"unicode/utf8"

	"github.com/sambung/sambung/audit"
	"github.com/sambung/sambung/store"
)

// Accounts changes user accounts: the one place that checks names and
// passwords, hashes, ends sessions and audits. The admin API and the
// `sambung user` command both go through it.
type Accounts struct {
	Store store.Store
	Audit *audit.Log
}

// Errors for account changes that the caller reports to a person.
var (
	ErrBadUserName = errors.New("a user name is 1 to 64 letters, digits, '.', '_', '-' or '@', starting with a letter or digit")
	ErrBadPassword = errors.New("a password needs at least 8 characters (at most 256)")
	ErrBadRole     = errors.New("the role must be agent, supervisor, qa or admin")
)

var userNameRE = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._@-]{0,63}$`)

// Actor says who makes a change, for the audit trail.
type Actor struct {
	Name       string // user name, or "cli"
	RemoteAddr string
}

// CheckNewPassword applies the password policy.
func CheckNewPassword(pw string) error {
	if n := utf8.RuneCountInString(pw); n < 8 || len(pw) > 256 {
		return ErrBadPassword
	}
	return nil
}

// Add creates a user. Errors wrap ErrBadUserName, ErrBadPassword, ErrBadRole
// or store.ErrExists.
func (a Accounts) Add(ctx context.Context, by Actor, name, displayName string, role store.Role, password string) (store.User, error) {
	if !userNameRE.MatchString(name) {
		return store.User{}, fmt.Errorf("user %q: %w", name, ErrBadUserName)
	}
	if !role.Valid() {
		return store.User{}, fmt.Errorf("user %q: role %q: %w", name, role, ErrBadRole)
	}
	if err := CheckNewPassword(password); err != nil {
		return store.User{}, fmt.Errorf("user %q: %w", name, err)
	}
	if displayName == "" {
		displayName = name
	}
	hash, err := HashPassword(password)
	if err != nil {
		return store.User{}, err
	}
	u, err := a.Store.CreateUser(ctx, store.User{Name: name, DisplayName: displayName, Role: role, PasswordHash: hash})
	if err != nil {
		return store.User{}, fmt.Errorf("user %q: %w", name, err)
	}
	a.record(ctx, by, "user.add", name, map[string]string{"role": string(role)})
	return u, nil
}

// SetDisabled disables (ending every session of the user) or enables a user.
func (a Accounts) SetDisabled(ctx context.Context, by Actor, name string, disabled bool) (store.User, error) {
	if err := a.Store.SetUserDisabled(ctx, name, disabled); err != nil {
		return store.User{}, fmt.Errorf("user %q: %w", name, err)
	}
	u, err := a.Store.UserByName(ctx, name)
	if err != nil {
		return store.User{}, fmt.Errorf("user %q: %w", name, err)
	}
	action := "user.enable"
	if disabled {
		action = "user.disable"
		if _, err := a.Store.DeleteUserSessions(ctx, u.ID); err != nil {
			return u, fmt.Errorf("user %q: end sessions: %w", name, err)
		}
	}
	a.record(ctx, by, action, name, nil)
	return u, nil
}

// SetPassword replaces a user's password and ends their sessions.
func (a Accounts) SetPassword(ctx context.Context, by Actor, name, password string) error {
	if err := CheckNewPassword(password); err != nil {
		return fmt.Errorf("user %q: %w", name, err)
	}
	u, err := a.Store.UserByName(ctx, name)
	if err != nil {
		return fmt.Errorf("user %q: %w", name, err)
	}
	hash, err := HashPassword(password)
	if err != nil {
		return err
	}
	if err := a.Store.SetPasswordHash(ctx, name, hash); err != nil {
		return fmt.Errorf("user %q: %w", name, err)
	}
	if _, err := a.Store.DeleteUserSessions(ctx, u.ID); err != nil {
		return fmt.Errorf("user %q: end sessions: %w", name, err)
	}
	a.record(ctx, by, "user.password", name, nil)
	return nil
}

// record audits a completed change. The change has happened, so a failing
// audit store is logged by the audit package (the file still has the line)
// rather than reported as a failed change.
func (a Accounts) record(ctx context.Context, by Actor, action, target string, detail map[string]string) {
	_ = a.Audit.Record(ctx, store.AuditEvent{Actor: by.Name, Action: action, Target: target, RemoteAddr: by.RemoteAddr, Detail: detail})
}
