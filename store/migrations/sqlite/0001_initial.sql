-- 0001_initial: users, sessions, the audit trail, calls and their timelines.
-- Times are TEXT in one fixed-width UTC form, 2006-01-02T15:04:05.000000Z,
-- so that they sort and compare as strings. Tables are STRICT so a value of
-- the wrong type is an error rather than silently stored.

CREATE TABLE users (
    id            INTEGER PRIMARY KEY AUTOINCREMENT,
    name          TEXT    NOT NULL UNIQUE CHECK (name <> ''),
    display_name  TEXT    NOT NULL,
    role          TEXT    NOT NULL CHECK (role IN ('agent', 'supervisor', 'qa', 'admin')),
    password_hash TEXT    NOT NULL,
    disabled      INTEGER NOT NULL DEFAULT 0 CHECK (disabled IN (0, 1)),
    created_at    TEXT    NOT NULL,
    updated_at    TEXT    NOT NULL
) STRICT;

CREATE TABLE sessions (
    token_hash   BLOB    NOT NULL PRIMARY KEY,
    user_id      INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    csrf_token   TEXT    NOT NULL,
    created_at   TEXT    NOT NULL,
    last_seen_at TEXT    NOT NULL,
    expires_at   TEXT    NOT NULL,
    remote_addr  TEXT    NOT NULL,
    user_agent   TEXT    NOT NULL
) STRICT, WITHOUT ROWID;

CREATE INDEX sessions_expires_at ON sessions (expires_at);
CREATE INDEX sessions_user_id ON sessions (user_id);

CREATE TABLE audit_events (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    at          TEXT NOT NULL,
    actor       TEXT NOT NULL,
    action      TEXT NOT NULL,
    target      TEXT NOT NULL,
    remote_addr TEXT NOT NULL,
    outcome     TEXT NOT NULL,
    detail      TEXT NOT NULL DEFAULT '{}' CHECK (json_valid(detail))
) STRICT;

CREATE INDEX audit_events_action_target_at ON audit_events (action, target, at);
CREATE INDEX audit_events_at ON audit_events (at);

-- The audit trail is append-only. DELETE stays allowed for retention.
CREATE TRIGGER audit_events_append_only BEFORE UPDATE ON audit_events
BEGIN
    SELECT RAISE(ABORT, 'audit_events is append-only: UPDATE is not allowed');
END;

CREATE TABLE calls (
    id          TEXT NOT NULL PRIMARY KEY,
    direction   TEXT NOT NULL CHECK (direction IN ('inbound', 'outbound')),
    from_uri    TEXT NOT NULL,
    to_uri      TEXT NOT NULL,
    node        TEXT NOT NULL,
    started_at  TEXT NOT NULL,
    answered_at TEXT,
    ended_at    TEXT,
    outcome     TEXT NOT NULL DEFAULT '',
    end_reason  TEXT NOT NULL DEFAULT ''
) STRICT;

-- Serves ListCalls: newest first by (started_at, id), keyset paging.
CREATE INDEX calls_started_at_id ON calls (started_at, id);

CREATE TABLE call_events (
    id      INTEGER PRIMARY KEY AUTOINCREMENT,
    call_id TEXT NOT NULL REFERENCES calls (id) ON DELETE CASCADE,
    at      TEXT NOT NULL,
    kind    TEXT NOT NULL,
    data    TEXT NOT NULL DEFAULT '{}' CHECK (json_valid(data))
) STRICT;

CREATE INDEX call_events_call_id_id ON call_events (call_id, id);

-- A call's timeline is append-only. DELETE stays allowed for retention.
CREATE TRIGGER call_events_append_only BEFORE UPDATE ON call_events
BEGIN
    SELECT RAISE(ABORT, 'call_events is append-only: UPDATE is not allowed');
END;
