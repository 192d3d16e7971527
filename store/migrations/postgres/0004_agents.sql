-- 0004_agents: agents and their skills, the append-only history of agent
-- states, and the ACD's queue entries (calls waiting, offered, answered,
-- abandoned, and callbacks). An agent is a user; deleting the user deletes
-- the agent and its history.

CREATE TABLE agents (
    user_id    BIGINT      NOT NULL PRIMARY KEY REFERENCES users (id) ON DELETE CASCADE,
    team       TEXT        NOT NULL DEFAULT '',
    level      INTEGER     NOT NULL DEFAULT 0,
    state      TEXT        NOT NULL CHECK (state IN ('offline', 'available', 'ringing', 'on_call', 'wrap_up', 'away')),
    reason     TEXT        NOT NULL DEFAULT '',
    since      TIMESTAMPTZ NOT NULL,
    -- idle_since orders available agents: the longest idle is offered first.
    idle_since TIMESTAMPTZ NOT NULL,
    call_id    TEXT        NOT NULL DEFAULT '',
    node       TEXT        NOT NULL DEFAULT ''
);

-- Serves the reservation: available agents, longest idle first.
CREATE INDEX agents_state_idle_since ON agents (state, idle_since, user_id);

CREATE TABLE agent_skills (
    agent_id BIGINT NOT NULL REFERENCES agents (user_id) ON DELETE CASCADE,
    -- COLLATE "C": skills sort in byte order, as in SQLite.
    skill    TEXT COLLATE "C" NOT NULL CHECK (skill <> ''),
    PRIMARY KEY (agent_id, skill)
);

CREATE TABLE agent_states (
    id       BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    agent_id BIGINT      NOT NULL REFERENCES agents (user_id) ON DELETE CASCADE,
    at       TIMESTAMPTZ NOT NULL,
    state    TEXT        NOT NULL,
    reason   TEXT        NOT NULL,
    call_id  TEXT        NOT NULL,
    actor    TEXT        NOT NULL,
    node     TEXT        NOT NULL
);

CREATE INDEX agent_states_agent_id_id ON agent_states (agent_id, id);

CREATE TRIGGER agent_states_append_only BEFORE UPDATE ON agent_states
    FOR EACH ROW EXECUTE FUNCTION reject_update();

CREATE TABLE queue_entries (
    id          BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    call_id     TEXT        NOT NULL,
    queue       TEXT COLLATE "C" NOT NULL CHECK (queue <> ''),
    tier        TEXT        NOT NULL,
    number      TEXT        NOT NULL,
    priority    INTEGER     NOT NULL,
    entered_at  TIMESTAMPTZ NOT NULL,
    -- queued_at is when the entry joined its current queue (overflow moves it).
    queued_at   TIMESTAMPTZ NOT NULL,
    deadline    TIMESTAMPTZ,
    node        TEXT        NOT NULL,
    status      TEXT        NOT NULL CHECK (status IN ('waiting', 'offered', 'answered', 'abandoned', 'callback', 'left')),
    callback    BOOLEAN     NOT NULL DEFAULT false,
    agent_id    BIGINT REFERENCES agents (user_id) ON DELETE SET NULL,
    answered_at TIMESTAMPTZ,
    ended_at    TIMESTAMPTZ,
    wait_ms     BIGINT      NOT NULL DEFAULT 0,
    reason      TEXT        NOT NULL DEFAULT ''
);

-- Serves routing order: priority first, then the longest waiting.
CREATE INDEX queue_entries_status_priority ON queue_entries (status, priority DESC, entered_at, id);
-- Serves the day's figures per queue.
CREATE INDEX queue_entries_queue_entered_at ON queue_entries (queue, entered_at);
-- One open callback per number.
CREATE UNIQUE INDEX queue_entries_open_callback ON queue_entries (number)
    WHERE callback AND status IN ('callback', 'offered');

CREATE TABLE queue_entry_skills (
    entry_id BIGINT NOT NULL REFERENCES queue_entries (id) ON DELETE CASCADE,
    skill    TEXT COLLATE "C" NOT NULL CHECK (skill <> ''),
    PRIMARY KEY (entry_id, skill)
);
