-- 0004_agents: agents and their skills, the append-only history of agent
-- states, and the ACD's queue entries (calls waiting, offered, answered,
-- abandoned, and callbacks). An agent is a user; deleting the user deletes
-- the agent and its history.

CREATE TABLE agents (
    user_id    INTEGER NOT NULL PRIMARY KEY REFERENCES users (id) ON DELETE CASCADE,
    team       TEXT    NOT NULL DEFAULT '',
    level      INTEGER NOT NULL DEFAULT 0,
    state      TEXT    NOT NULL CHECK (state IN ('offline', 'available', 'ringing', 'on_call', 'wrap_up', 'away')),
    reason     TEXT    NOT NULL DEFAULT '',
    since      TEXT    NOT NULL,
    -- idle_since orders available agents: the longest idle is offered first.
    idle_since TEXT    NOT NULL,
    call_id    TEXT    NOT NULL DEFAULT '',
    node       TEXT    NOT NULL DEFAULT ''
) STRICT;

-- Serves the reservation: available agents, longest idle first.
CREATE INDEX agents_state_idle_since ON agents (state, idle_since, user_id);

CREATE TABLE agent_skills (
    agent_id INTEGER NOT NULL REFERENCES agents (user_id) ON DELETE CASCADE,
    skill    TEXT    NOT NULL CHECK (skill <> ''),
    PRIMARY KEY (agent_id, skill)
) STRICT, WITHOUT ROWID;

CREATE TABLE agent_states (
    id       INTEGER PRIMARY KEY AUTOINCREMENT,
    agent_id INTEGER NOT NULL REFERENCES agents (user_id) ON DELETE CASCADE,
    at       TEXT    NOT NULL,
    state    TEXT    NOT NULL,
    reason   TEXT    NOT NULL,
    call_id  TEXT    NOT NULL,
    actor    TEXT    NOT NULL,
    node     TEXT    NOT NULL
) STRICT;

CREATE INDEX agent_states_agent_id_id ON agent_states (agent_id, id);

-- An agent's state history is append-only. DELETE stays allowed for retention.
CREATE TRIGGER agent_states_append_only BEFORE UPDATE ON agent_states
BEGIN
    SELECT RAISE(ABORT, 'agent_states is append-only: UPDATE is not allowed');
END;

CREATE TABLE queue_entries (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    call_id     TEXT    NOT NULL,
    queue       TEXT    NOT NULL CHECK (queue <> ''),
    tier        TEXT    NOT NULL,
    number      TEXT    NOT NULL,
    priority    INTEGER NOT NULL,
    entered_at  TEXT    NOT NULL,
    -- queued_at is when the entry joined its current queue (overflow moves it).
    queued_at   TEXT    NOT NULL,
    deadline    TEXT,
    node        TEXT    NOT NULL,
    status      TEXT    NOT NULL CHECK (status IN ('waiting', 'offered', 'answered', 'abandoned', 'callback', 'left')),
    callback    INTEGER NOT NULL DEFAULT 0 CHECK (callback IN (0, 1)),
    agent_id    INTEGER REFERENCES agents (user_id) ON DELETE SET NULL,
    answered_at TEXT,
    ended_at    TEXT,
    wait_ms     INTEGER NOT NULL DEFAULT 0,
    reason      TEXT    NOT NULL DEFAULT ''
) STRICT;

-- Serves routing order: priority first, then the longest waiting.
CREATE INDEX queue_entries_status_priority ON queue_entries (status, priority DESC, entered_at, id);
-- Serves the day's figures per queue.
CREATE INDEX queue_entries_queue_entered_at ON queue_entries (queue, entered_at);
-- One open callback per number.
CREATE UNIQUE INDEX queue_entries_open_callback ON queue_entries (number)
    WHERE callback = 1 AND status IN ('callback', 'offered');

CREATE TABLE queue_entry_skills (
    entry_id INTEGER NOT NULL REFERENCES queue_entries (id) ON DELETE CASCADE,
    skill    TEXT    NOT NULL CHECK (skill <> ''),
    PRIMARY KEY (entry_id, skill)
) STRICT, WITHOUT ROWID;
