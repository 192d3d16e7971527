package store

import (
	"context"
	"fmt"
	"time"
)

const userColumns = `id, name, display_name, role, password_hash, disabled, created_at, updated_at`

var (
	qCreateUser = newQuery(`INSERT INTO users (name, display_name, role, password_hash, disabled, created_at, updated_at)
VALUES ($1, $2, $3, $4, $5, $6, $6) RETURNING id`)
	qUserByID         = newQuery(`SELECT ` + userColumns + ` FROM users WHERE id = $1`)
	qUserByName       = newQuery(`SELECT ` + userColumns + ` FROM users WHERE name = $1`)
	qListUsers        = newQuery(`SELECT ` + userColumns + ` FROM users ORDER BY name`)
	qCountUsers       = newQuery(`SELECT COUNT(*) FROM users`)
	qSetUserDisabled  = newQuery(`UPDATE users SET disabled = $2, updated_at = $3 WHERE name = $1`)
	qSetPasswordHash  = newQuery(`UPDATE users SET password_hash = $2, updated_at = $3 WHERE name = $1`)
	userRolesAccepted = fmt.Sprint(Roles)
)

// CreateUser stores u and returns it with ID and times set.
func (d *db) CreateUser(ctx context.Context, u User) (User, error) {
	if u.Name == "" {
		return User{}, fmt.Errorf("create user: the name is empty")
	}
	if !u.Role.Valid() {
		return User{}, fmt.Errorf("create user %q: role %q is not one of %s", u.Name, u.Role, userRolesAccepted)
	}
	now := utc(time.Now())
	err := d.queryRow(ctx, qCreateUser, u.Name, u.DisplayName, string(u.Role), u.PasswordHash, u.Disabled, now).Scan(&u.ID)
	if err != nil {
		if d.violation(err) == uniqueViolation {
			return User{}, fmt.Errorf("create user %q: %w", u.Name, ErrExists)
		}
		return User{}, fmt.Errorf("create user %q: %w", u.Name, err)
	}
	u.CreatedAt, u.UpdatedAt = now, now
	return u, nil
}

// UserByID gives ErrNotFound for an unknown user.
func (d *db) UserByID(ctx context.Context, id int64) (User, error) {
	u, err := scanUser(d.queryRow(ctx, qUserByID, id))
	if err != nil {
		return User{}, notFound(err, fmt.Sprintf("user %d", id))
	}
	return u, nil
}

// UserByName gives ErrNotFound for an unknown user.
func (d *db) UserByName(ctx context.Context, name string) (User, error) {
	u, err := scanUser(d.queryRow(ctx, qUserByName, name))
	if err != nil {
		return User{}, notFound(err, fmt.Sprintf("user %q", name))
	}
	return u, nil
}

// ListUsers returns every user ordered by name.
func (d *db) ListUsers(ctx context.Context) ([]User, error) {
	us, err := queryAll(ctx, d, qListUsers, scanUser)
	if err != nil {
		return nil, fmt.Errorf("list users: %w", err)
	}
	return us, nil
}

// CountUsers counts every user, disabled ones included.
func (d *db) CountUsers(ctx context.Context) (int, error) {
	var n int
	if err := d.queryRow(ctx, qCountUsers).Scan(&n); err != nil {
		return 0, fmt.Errorf("count users: %w", err)
	}
	return n, nil
}

// SetUserDisabled disables or enables a user.
func (d *db) SetUserDisabled(ctx context.Context, name string, disabled bool) error {
	return d.updateUser(ctx, "set disabled of", qSetUserDisabled, name, disabled)
}

// SetPasswordHash replaces a user's password hash.
func (d *db) SetPasswordHash(ctx context.Context, name, hash string) error {
	return d.updateUser(ctx, "set password hash of", qSetPasswordHash, name, hash)
}

// updateUser runs q, which sets one field of the user called name to v
// and stamps updated_at.
func (d *db) updateUser(ctx context.Context, what string, q query, name string, v any) error {
	n, err := d.exec(ctx, q, name, v, utc(time.Now()))
	if err != nil {
		return fmt.Errorf("%s user %q: %w", what, name, err)
	}
	if n == 0 {
		return fmt.Errorf("%s user %q: %w", what, name, ErrNotFound)
	}
	return nil
}

// scanUser reads the userColumns of one row.
func scanUser(r row) (User, error) {
	var u User
	err := r.Scan(userDest(&u)...)
	return u, err
}

// userDest is where the userColumns scan to.
func userDest(u *User) []any {
	return []any{&u.ID, &u.Name, &u.DisplayName, (*string)(&u.Role), &u.PasswordHash, &u.Disabled,
		timeDest(&u.CreatedAt), timeDest(&u.UpdatedAt)}
}
