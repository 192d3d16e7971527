-- 0001_initial: users, sessions, the audit trail, calls and their timelines.

CREATE TABLE users (
    id            BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    -- COLLATE "C": byte order, as SQLite sorts, whatever the cluster's locale.
    name          TEXT COLLATE "C" NOT NULL UNIQUE CHECK (name <> ''),
    display_name  TEXT        NOT NULL,
    role          TEXT        NOT NULL CHECK (role IN ('agent', 'supervisor', 'qa', 'admin')),
    password_hash TEXT        NOT NULL,
    disabled      BOOLEAN     NOT NULL DEFAULT false,
    created_at    TIMESTAMPTZ NOT NULL,
    updated_at    TIMESTAMPTZ NOT NULL
);

CREATE TABLE sessions (
    token_hash   BYTEA       NOT NULL PRIMARY KEY,
    user_id      BIGINT      NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    csrf_token   TEXT        NOT NULL,
    created_at   TIMESTAMPTZ NOT NULL,
    last_seen_at TIMESTAMPTZ NOT NULL,
    expires_at   TIMESTAMPTZ NOT NULL,
    remote_addr  TEXT        NOT NULL,
    user_agent   TEXT        NOT NULL
);

CREATE INDEX sessions_expires_at ON sessions (expires_at);
CREATE INDEX sessions_user_id ON sessions (user_id);

CREATE TABLE audit_events (
    id          BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    at          TIMESTAMPTZ NOT NULL,
    actor       TEXT        NOT NULL,
    action      TEXT        NOT NULL,
    target      TEXT        NOT NULL,
    remote_addr TEXT        NOT NULL,
    outcome     TEXT        NOT NULL,
    detail      JSONB       NOT NULL DEFAULT '{}'
);

CREATE INDEX audit_events_action_target_at ON audit_events (action, target, at);
CREATE INDEX audit_events_at ON audit_events (at);

-- reject_update keeps append-only tables append-only. DELETE stays allowed
-- for retention and erasure.
CREATE FUNCTION reject_update() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION '% is append-only: UPDATE is not allowed', TG_TABLE_NAME
        USING ERRCODE = 'restrict_violation';
END;
$$;

CREATE TRIGGER audit_events_append_only BEFORE UPDATE ON audit_events
    FOR EACH ROW EXECUTE FUNCTION reject_update();

CREATE TABLE calls (
    -- COLLATE "C": ties on started_at page by id in byte order, as in SQLite.
    id          TEXT COLLATE "C" NOT NULL PRIMARY KEY,
    direction   TEXT        NOT NULL CHECK (direction IN ('inbound', 'outbound')),
    from_uri    TEXT        NOT NULL,
    to_uri      TEXT        NOT NULL,
    node        TEXT        NOT NULL,
    started_at  TIMESTAMPTZ NOT NULL,
    answered_at TIMESTAMPTZ,
    ended_at    TIMESTAMPTZ,
    outcome     TEXT        NOT NULL DEFAULT '',
    end_reason  TEXT        NOT NULL DEFAULT ''
);

-- Serves ListCalls: newest first by (started_at, id), keyset paging.
CREATE INDEX calls_started_at_id ON calls (started_at, id);

CREATE TABLE call_events (
    id      BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    call_id TEXT COLLATE "C" NOT NULL REFERENCES calls (id) ON DELETE CASCADE,
    at      TIMESTAMPTZ NOT NULL,
    kind    TEXT        NOT NULL,
    data    JSONB       NOT NULL DEFAULT '{}'
);

CREATE INDEX call_events_call_id_id ON call_events (call_id, id);

CREATE TRIGGER call_events_append_only BEFORE UPDATE ON call_events
    FOR EACH ROW EXECUTE FUNCTION reject_update();
