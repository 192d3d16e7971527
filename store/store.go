// Package store owns Sambung's persistence: the schema, its migrations and
// every query. Two engines sit behind the one Store interface: an embedded
// SQLite file (pure Go, the default) and PostgreSQL through pgx. The same
// conformance suite runs against both.
//
// Times go in and come out in UTC. Nothing outside this package sees SQL,
// database/sql or pgx.
package store

import (
	"context"
	"encoding/json"
	"errors"
	"time"
)

// Sentinel errors that callers decide on with errors.Is.
var (
	// ErrNotFound means the row asked for does not exist.
	ErrNotFound = errors.New("not found")
	// ErrExists means a row with the same unique key is already stored.
	ErrExists = errors.New("already exists")
	// ErrConflict means the row has moved on since the caller read it: an
	// agent is no longer in the state the change expected, or a queue entry
	// is no longer waiting. The caller re-reads and decides again.
	ErrConflict = errors.New("changed concurrently")
	// ErrInvalid means the store refused a value or filter that makes no
	// sense, such as a CSAT score of 7; the message names the field. An HTTP
	// handler answers it with 400.
	ErrInvalid = errors.New("invalid argument")
	// ErrHeld means the call is on legal hold: its recordings may not be
	// deleted, nor the call erased, until the hold is released.
	ErrHeld = errors.New("on legal hold")
)

// Store is the only way to the database. It is safe for concurrent use.
type Store interface {
	Users
	Sessions
	Audit
	Calls
	Recordings
	Phones
	Agents
	QA
	Retention

	// Engine names the engine: "sqlite" or "postgres".
	Engine() string
	// SchemaVersion is the highest migration applied.
	SchemaVersion(ctx context.Context) (int, error)
	// Ping checks that the database answers; /readyz uses it.
	Ping(ctx context.Context) error
	// Close releases the connections. It is idempotent.
	Close() error
}

// Role is what a user may do. Routes declare the roles they allow.
type Role string

// The roles, from the floor up.
const (
	RoleAgent      Role = "agent"
	RoleSupervisor Role = "supervisor"
	RoleQA         Role = "qa"
	RoleAdmin      Role = "admin"
)

// Roles lists every role in a stable order.
var Roles = []Role{RoleAgent, RoleSupervisor, RoleQA, RoleAdmin}

// Valid reports whether r is one of Roles.
func (r Role) Valid() bool {
	for _, k := range Roles {
		if r == k {
			return true
		}
	}
	return false
}

// User is a person who logs in: an agent, a supervisor, QA staff or an admin.
type User struct {
	ID          int64
	Name        string // login name, unique, case-sensitive as stored
	DisplayName string
	Role        Role
	// PasswordHash is the encoded hash (PHC string); never the password.
	PasswordHash string
	Disabled     bool
	CreatedAt    time.Time
	UpdatedAt    time.Time
}

// Users stores user accounts.
type Users interface {
	// CreateUser stores u and returns it with ID and times set. A taken name
	// gives ErrExists.
	CreateUser(ctx context.Context, u User) (User, error)
	// UserByID and UserByName give ErrNotFound for an unknown user.
	UserByID(ctx context.Context, id int64) (User, error)
	UserByName(ctx context.Context, name string) (User, error)
	// ListUsers returns every user ordered by name.
	ListUsers(ctx context.Context) ([]User, error)
	// CountUsers counts every user, disabled ones included.
	CountUsers(ctx context.Context) (int, error)
	// SetUserDisabled disables or enables a user; ErrNotFound if unknown.
	SetUserDisabled(ctx context.Context, name string, disabled bool) error
	// SetPasswordHash replaces a user's password hash; ErrNotFound if unknown.
	SetPasswordHash(ctx context.Context, name, hash string) error
}

// Session is a logged-in browser. The cookie holds a random token; the
// store keeps only its SHA-256, so a copy of the database logs nobody in.
type Session struct {
	TokenHash  []byte
	UserID     int64
	CSRFToken  string
	CreatedAt  time.Time
	LastSeenAt time.Time
	ExpiresAt  time.Time
	RemoteAddr string
	UserAgent  string
}

// Sessions stores login sessions.
type Sessions interface {
	CreateSession(ctx context.Context, s Session) error
	// SessionUser returns the unexpired session with this token hash and its
	// user, or ErrNotFound. Expired sessions are not returned.
	SessionUser(ctx context.Context, tokenHash []byte, now time.Time) (Session, User, error)
	// TouchSession records activity and moves the expiry (sliding sessions).
	TouchSession(ctx context.Context, tokenHash []byte, lastSeen, expires time.Time) error
	// DeleteSession ends one session (logout). Deleting a missing one is not an error.
	DeleteSession(ctx context.Context, tokenHash []byte) error
	// DeleteUserSessions ends every session of a user (disable, password change).
	DeleteUserSessions(ctx context.Context, userID int64) (int64, error)
	// DeleteExpiredSessions removes sessions expired at now and says how many.
	DeleteExpiredSessions(ctx context.Context, now time.Time) (int64, error)
}

// AuditEvent is one entry in the audit trail: who did what to what, from
// where, and how it went. It never holds a password, token or card digit.
type AuditEvent struct {
	ID         int64
	At         time.Time
	Actor      string // user name; "cli" or "system" for the server itself; "" for anonymous
	Action     string // dotted verb, e.g. "login.failure", "user.add"
	Target     string // what it acted on: a user name, a call id
	RemoteAddr string
	Outcome    string // "ok", "denied", "error"
	Detail     map[string]string
}

// AuditFilter selects audit events; zero fields match everything.
type AuditFilter struct {
	Action     string
	Actor      string
	Target     string
	RemoteAddr string
	Since      time.Time // At >= Since
	Limit      int       // 0 means 100
}

// Audit stores the audit trail. It is append-only: events are never updated.
type Audit interface {
	// AppendAudit stores e and returns it with ID set (At defaults to now).
	AppendAudit(ctx context.Context, e AuditEvent) (AuditEvent, error)
	// ListAudit returns matching events, newest first.
	ListAudit(ctx context.Context, f AuditFilter) ([]AuditEvent, error)
}

// Direction says who placed a call.
type Direction string

// Call directions.
const (
	Inbound  Direction = "inbound"
	Outbound Direction = "outbound"
)

// Call is one call's record. AnsweredAt and EndedAt are zero until they happen.
type Call struct {
	ID         string
	Direction  Direction
	From       string
	To         string
	Node       string // the server node that handled it
	StartedAt  time.Time
	AnsweredAt time.Time
	EndedAt    time.Time
	Outcome    string // "" while live; then e.g. "completed", "abandoned", "failed"
	EndReason  string // who or what ended it, e.g. "caller_bye", "media_timeout"
	// What the agent who took the call made of it at wrap-up (zero until then).
	AgentID          int64
	Disposition      string
	DispositionNotes string
	WrappedUpAt      time.Time
	// Contact is the call's contact context (docs/softphone.md), a JSON
	// object, once the IVR has handed the call on; nil before.
	Contact json.RawMessage
	// The call's summary, which the QA page searches on: set by
	// SetCallSummary and SetCallCSAT (CreateCall ignores it), zero while
	// not known.
	Queue      string   // the queue it waited in; "" if it never left the IVR
	Intent     string   // e.g. "billing"
	Language   string   // e.g. "en", "id", "zh", "yue"
	Sentiment  *float64 // the caller's mood, -1 (negative) .. 1 (positive); nil if not scored
	Angry      bool
	CSAT       int // the caller's survey score, 1..5; 0 if not rated
	Resolution Resolution
	// Duration is EndedAt - StartedAt, to the millisecond (never negative);
	// zero while the call is live. The store works it out.
	Duration time.Duration
	// LegalHold keeps the call's recordings past retention and the call
	// from erasure; HoldReason, HoldBy and HoldAt say why, who and when.
	// Set by SetLegalHold (CreateCall ignores them).
	LegalHold  bool
	HoldReason string
	HoldBy     string
	HoldAt     time.Time
}

// Resolution says how a call ended up, for QA.
type Resolution string

// Resolutions; the zero value is "not known yet".
const (
	ResolutionUnknown   Resolution = ""
	ResolutionIVR       Resolution = "ivr"       // the IVR resolved it: no agent needed
	ResolutionAgent     Resolution = "agent"     // escalated, and an agent answered
	ResolutionAbandoned Resolution = "abandoned" // escalated, and the caller hung up in the queue
)

// Valid reports whether r is one of the resolutions, ResolutionUnknown included.
func (r Resolution) Valid() bool {
	switch r {
	case ResolutionUnknown, ResolutionIVR, ResolutionAgent, ResolutionAbandoned:
		return true
	}
	return false
}

// CallSummary is what the IVR and the ACD learn of a call, for search. It
// replaces the whole summary of a call at once (CSAT apart).
type CallSummary struct {
	Queue      string
	Intent     string
	Language   string
	Sentiment  *float64 // -1..1; nil if not scored
	Angry      bool
	Resolution Resolution
}

// CallSearch selects calls for the QA page. Zero fields match everything;
// the fields set must all match. SearchCalls refuses a filter that makes no
// sense (a bound out of range, a minimum above its maximum) with ErrInvalid.
type CallSearch struct {
	Since time.Time // StartedAt >= Since
	Until time.Time // StartedAt < Until

	AgentID     int64 // the agent who wrapped it up
	Queue       string
	Intent      string
	Language    string
	Disposition string
	Resolution  Resolution
	From        string // the caller, exactly

	// Sentiment bounds, inclusive, each -1..1; nil is unbounded. A bound
	// leaves out calls whose sentiment was never scored.
	MinSentiment, MaxSentiment *float64
	AngryOnly                  bool // only calls the caller was angry on

	// Duration bounds, inclusive; zero is unbounded. A bound leaves out
	// live calls.
	MinDuration, MaxDuration time.Duration

	// CSAT bounds, inclusive, each 1..5; zero is unbounded. A bound leaves
	// out calls never rated.
	MinCSAT, MaxCSAT int

	HasRecording bool // only calls with at least one recording

	// Before pages: calls after the call with this ID in the search's order,
	// which is CallPage.Next of the page before. A Before that names no call
	// gives ErrNotFound.
	Before string
	// Limit is the page size: 0 means 50, more than 200 means 200;
	// negative is refused.
	Limit int
	// Count asks for CallPage.Total. It counts every match, which costs
	// more than the page itself, so ask on the first page only.
	Count bool
}

// CallPage is one page of a search.
type CallPage struct {
	Calls []Call // newest first, by StartedAt then ID; empty, not nil, when none match
	// Next is the ID to pass as CallSearch.Before for the next page; "" when
	// this is the last page.
	Next string
	// Total is how many calls match the search, all pages together; -1
	// unless CallSearch.Count asked for it.
	Total int
}

// Disposition is an agent's wrap-up of a call.
type Disposition struct {
	Code    string // e.g. "resolved"
	Notes   string
	AgentID int64
	At      time.Time
}

// CallFilter selects calls; zero fields match everything.
type CallFilter struct {
	Since  time.Time // StartedAt >= Since
	Until  time.Time // StartedAt < Until
	From   string    // the caller, exactly; "" is any
	Before string    // keyset page: calls started before the call with this ID
	Limit  int       // 0 means 50
}

// CallEvent is one entry on a call's timeline. The timeline is append-only.
type CallEvent struct {
	ID     int64 // assigned by the store, increasing
	CallID string
	At     time.Time
	Kind   string          // dotted, e.g. "sip.invite", "ivr.step", "dtmf"
	Data   json.RawMessage // a JSON object; nil stores as {}
}

// Calls stores call records and their timelines.
type Calls interface {
	// CreateCall stores a new call; a duplicate ID gives ErrExists.
	CreateCall(ctx context.Context, c Call) error
	// AnswerCall sets AnsweredAt; ErrNotFound if unknown.
	AnswerCall(ctx context.Context, id string, at time.Time) error
	// EndCall sets EndedAt, Outcome and EndReason; ErrNotFound if unknown.
	EndCall(ctx context.Context, id string, at time.Time, outcome, reason string) error
	// CallByID gives ErrNotFound for an unknown call.
	CallByID(ctx context.Context, id string) (Call, error)
	// ListCalls returns matching calls, newest first. A Before that names
	// no call gives ErrNotFound.
	ListCalls(ctx context.Context, f CallFilter) ([]Call, error)
	// SetCallDisposition stores an agent's wrap-up; ErrNotFound if unknown.
	SetCallDisposition(ctx context.Context, id string, w Disposition) error
	// SetCallContact stores the call's contact context (a JSON object),
	// replacing the last; ErrNotFound if unknown.
	SetCallContact(ctx context.Context, id string, contact json.RawMessage) error
	// SetCallSummary replaces the call's summary (CSAT apart); ErrNotFound
	// if unknown, ErrInvalid for a sentiment outside -1..1 or an unknown
	// resolution.
	SetCallSummary(ctx context.Context, id string, s CallSummary) error
	// SetCallCSAT stores the caller's survey score, 1..5 (ErrInvalid
	// otherwise), replacing any earlier one; ErrNotFound if unknown.
	SetCallCSAT(ctx context.Context, id string, score int) error
	// SearchCalls returns a page of the calls that match f, newest first,
	// and the cursor of the next; ErrInvalid for a filter that makes no
	// sense, ErrNotFound for a Before that names no call.
	SearchCalls(ctx context.Context, f CallSearch) (CallPage, error)
	// AppendCallEvent adds an event to a call's timeline and returns it with
	// ID set. The call must exist (ErrNotFound otherwise).
	AppendCallEvent(ctx context.Context, e CallEvent) (CallEvent, error)
	// CallEvents returns a call's timeline in the order it was appended.
	CallEvents(ctx context.Context, callID string) ([]CallEvent, error)
	// EndOrphanedCalls closes the records of calls on node that never ended
	// (the node crashed mid-call): EndedAt at, outcome "failed", reason. It
	// says how many it closed. Run it when a node starts, before it takes calls.
	EndOrphanedCalls(ctx context.Context, node string, at time.Time, reason string) (int64, error)
}

// Recording is where one recording of a call is kept and what it holds.
// EndedAt is zero while the call is still being recorded.
type Recording struct {
	ID         int64
	CallID     string
	Path       string // relative to the recordings directory
	Format     string // "wav"
	Channels   int
	SampleRate int
	StartedAt  time.Time
	EndedAt    time.Time
	Duration   time.Duration // millisecond precision
	Bytes      int64
	// RetainUntil is when the recording's own retention policy (its call's
	// flow's or queue's) lets it go: retention deletes it once RetainUntil
	// has passed, sooner or later than the global retention would. Zero
	// means no policy of its own: the global retention applies, by the
	// call's start. A legal hold on the call keeps it either way. Set by
	// CreateRecording or SetRecordingRetention.
	RetainUntil time.Time
}

// Recordings stores recording metadata; the audio itself is in files.
type Recordings interface {
	// CreateRecording stores r and returns it with ID set. The call must
	// exist (ErrNotFound otherwise). A RetainUntil past the year 9999 gives
	// ErrInvalid.
	CreateRecording(ctx context.Context, r Recording) (Recording, error)
	// FinishRecording sets EndedAt, Duration and Bytes; ErrNotFound if unknown.
	FinishRecording(ctx context.Context, id int64, endedAt time.Time, dur time.Duration, bytes int64) error
	// CallRecordings returns a call's recordings in the order they began.
	CallRecordings(ctx context.Context, callID string) ([]Recording, error)
	// UnfinishedRecordings returns the recordings of calls on node that were
	// never finished (the node died mid-call), for it to finish on start.
	UnfinishedRecordings(ctx context.Context, node string) ([]Recording, error)
}

// SIPAccount is a desk phone's or trunk's login for SIP digest
// authentication. It holds the digest HA1 per algorithm, never a password.
type SIPAccount struct {
	ID          int64
	Name        string // the digest user name and the user part of its address
	Realm       string
	DisplayName string
	HA1MD5      string
	HA1SHA256   string
	Disabled    bool
	CreatedAt   time.Time
	UpdatedAt   time.Time
}

// SIPBinding is where a registered address of record can be reached.
type SIPBinding struct {
	AOR       string // sip:name@realm
	Contact   string // the Contact URI it registered
	Expires   time.Time
	CallID    string
	CSeq      uint32
	Received  string // source address of the REGISTER
	Transport string
	UserAgent string
	Node      string // the node that took the registration
}

// Phones stores SIP accounts and their registrations.
type Phones interface {
	// CreateSIPAccount stores a; a taken (name, realm) gives ErrExists.
	CreateSIPAccount(ctx context.Context, a SIPAccount) (SIPAccount, error)
	// SIPAccount gives ErrNotFound for an unknown account.
	SIPAccount(ctx context.Context, name, realm string) (SIPAccount, error)
	// ListSIPAccounts returns every account ordered by realm and name.
	ListSIPAccounts(ctx context.Context) ([]SIPAccount, error)
	// SetSIPAccountDisabled disables or enables every account named name
	// (in any realm); ErrNotFound if there is none.
	SetSIPAccountDisabled(ctx context.Context, name string, disabled bool) error
	// PutSIPBinding adds or replaces the binding of (AOR, Contact).
	PutSIPBinding(ctx context.Context, b SIPBinding) error
	// RemoveSIPBinding removes one binding; removing a missing one is not an error.
	RemoveSIPBinding(ctx context.Context, aor, contact string) error
	// RemoveSIPBindings removes every binding of aor.
	RemoveSIPBindings(ctx context.Context, aor string) error
	// SIPBindings returns aor's bindings that have not expired at now,
	// soonest to expire last.
	SIPBindings(ctx context.Context, aor string, now time.Time) ([]SIPBinding, error)
}

// Config says which database to open.
type Config struct {
	// URL selects the engine: empty or "sqlite:PATH" for SQLite (empty means
	// DataDir/sambung.db), "postgres://..." or "postgresql://..." for PostgreSQL.
	URL string
	// DataDir holds the SQLite file when URL is empty.
	DataDir string
	// MaxConns caps the connection pool (PostgreSQL). Zero means 10.
	MaxConns int
}
