-- 0010_qa: quality review and retention (the issue "Recordings and QA"):
-- the scorecards QA staff fill, their evaluations of calls, comments at a
-- point in a recording and the review queue the sampling job fills; and the
-- legal hold that keeps a call from retention and erasure, with what
-- retention and erasure need to find their rows quickly.

-- A call on legal hold keeps its recordings past retention and cannot be
-- erased (ErrHeld). hold_reason, hold_by and hold_at describe the hold in
-- force; releasing it clears them (the audit trail keeps the history).
ALTER TABLE calls
    ADD COLUMN legal_hold  BOOLEAN NOT NULL DEFAULT false,
    ADD COLUMN hold_reason TEXT    NOT NULL DEFAULT '',
    ADD COLUMN hold_by     TEXT    NOT NULL DEFAULT '',
    ADD COLUMN hold_at     TIMESTAMPTZ;

-- The calls on hold, a handful among millions: retention leaves out their
-- recordings by looking them up here rather than in calls.
CREATE INDEX calls_held ON calls (id) WHERE legal_hold;

-- A scorecard is a versioned form: a change is a new version under the same
-- name, so that evaluations keep pointing at the form they were made on.
-- form is a JSON object that another package validates. Retiring a name
-- retires every version of it; evaluations of them stay.
CREATE TABLE scorecards (
    id         BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    -- COLLATE "C": listed by name in byte order, as in SQLite.
    name       TEXT COLLATE "C" NOT NULL CHECK (name <> ''),
    version    INTEGER     NOT NULL CHECK (version > 0),
    form       JSONB       NOT NULL CHECK (jsonb_typeof(form) = 'object'),
    created_by TEXT        NOT NULL,
    created_at TIMESTAMPTZ NOT NULL,
    retired    BOOLEAN     NOT NULL DEFAULT false,
    -- Also serves "the latest version of a name": MAX(version) WHERE name = $1.
    UNIQUE (name, version)
);

-- One evaluator's evaluation of one call on one scorecard; saving again
-- replaces it. agent_id is the agent evaluated (NULL if none); evaluator_id
-- the QA user. Neither references users: users are disabled, never deleted.
-- score: 0..100; failed: an auto-fail item was failed, whatever the score.
CREATE TABLE evaluations (
    id           BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    call_id      TEXT COLLATE "C" NOT NULL REFERENCES calls (id) ON DELETE CASCADE,
    scorecard_id BIGINT      NOT NULL REFERENCES scorecards (id),
    agent_id     BIGINT,
    evaluator_id BIGINT      NOT NULL,
    evaluator    TEXT        NOT NULL,
    answers      JSONB       NOT NULL CHECK (jsonb_typeof(answers) = 'object'),
    -- DOUBLE PRECISION, as SQLite's REAL.
    score        DOUBLE PRECISION NOT NULL CHECK (score BETWEEN 0 AND 100),
    failed       BOOLEAN     NOT NULL DEFAULT false,
    notes        TEXT        NOT NULL DEFAULT '',
    created_at   TIMESTAMPTZ NOT NULL,
    updated_at   TIMESTAMPTZ NOT NULL,
    -- Also serves a call's evaluations and "which of these calls were
    -- evaluated" (EvaluatedCalls), as it leads with call_id.
    UNIQUE (call_id, scorecard_id, evaluator_id)
);

-- Evaluations are listed newest first by (created_at, id). An agent's over
-- time (the agent's scores, the coaching page): partial, as "agent_id = $1"
-- implies "agent_id IS NOT NULL".
CREATE INDEX evaluations_agent_created_at ON evaluations (agent_id, created_at, id) WHERE agent_id IS NOT NULL;
-- An evaluator's own, and every evaluation of a period.
CREATE INDEX evaluations_evaluator_created_at ON evaluations (evaluator_id, created_at, id);
CREATE INDEX evaluations_created_at ON evaluations (created_at, id);

-- A comment at a point of a call's recording, at_ms into it.
CREATE TABLE comments (
    id         BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    call_id    TEXT COLLATE "C" NOT NULL REFERENCES calls (id) ON DELETE CASCADE,
    at_ms      BIGINT      NOT NULL CHECK (at_ms >= 0),
    author_id  BIGINT      NOT NULL,
    author     TEXT        NOT NULL,
    -- char_length counts characters, as SQLite's length.
    text       TEXT        NOT NULL CHECK (text <> '' AND char_length(text) <= 2000),
    created_at TIMESTAMPTZ NOT NULL
);

-- Serves CallComments: a call's comments in the order of the recording.
CREATE INDEX comments_call_id_at_ms ON comments (call_id, at_ms, id);

-- The review queue: calls the sampling job picked for a QA user, with the
-- stratum that picked them (reason, e.g. "angry", "low_csat", "long",
-- "random") and the sampling period (e.g. "2026-Q4"). A call is picked at
-- most once per period, so a re-run of the job adds nothing.
CREATE TABLE review_items (
    id          BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    call_id     TEXT COLLATE "C" NOT NULL REFERENCES calls (id) ON DELETE CASCADE,
    assignee_id BIGINT      NOT NULL,
    reason      TEXT        NOT NULL CHECK (reason <> ''),
    period      TEXT        NOT NULL CHECK (period <> ''),
    created_at  TIMESTAMPTZ NOT NULL,
    done_at     TIMESTAMPTZ,
    UNIQUE (call_id, period)
);

-- Serves ReviewQueue: a QA user's items, oldest first.
CREATE INDEX review_items_assignee_created_at ON review_items (assignee_id, created_at, id);

-- Retention (ExpiredRecordings) finds the recordings of calls that started
-- before a time. Walking calls by started_at would pass, on every run, every
-- old call whose recordings are already gone, and calls are kept for years;
-- so each recording carries its call's start (which never changes) and is
-- indexed by it: a run reads only the recordings still stored, oldest
-- first, and those on hold (few) besides, and leaves out the held ones
-- through calls_held. CreateRecording copies the start.
ALTER TABLE recordings ADD COLUMN call_started_at TIMESTAMPTZ;
UPDATE recordings SET call_started_at = c.started_at FROM calls c WHERE c.id = recordings.call_id;
ALTER TABLE recordings ALTER COLUMN call_started_at SET NOT NULL;
CREATE INDEX recordings_call_started_at ON recordings (call_started_at, id);

-- Erasure (EraseCalls) finds every row that names a call: those with a
-- foreign key go with the call (ON DELETE CASCADE); these two hold its id
-- without one, and are indexed for it. Most agent states name no call
-- (available, away), so that index is partial.
CREATE INDEX queue_entries_call_id ON queue_entries (call_id);
CREATE INDEX agent_states_call_id ON agent_states (call_id) WHERE call_id <> '';

-- An agent's state history stays append-only, with one exception: erasure
-- blanks the call a state names (call_id to ''), so that the history keeps
-- its shape (how long the agent was on calls) without naming an erased call.
DROP TRIGGER agent_states_append_only ON agent_states;
CREATE TRIGGER agent_states_append_only BEFORE UPDATE ON agent_states
    FOR EACH ROW
    WHEN (NEW.call_id <> ''
        OR (NEW.id, NEW.agent_id, NEW.at, NEW.state, NEW.reason, NEW.actor, NEW.node)
            IS DISTINCT FROM (OLD.id, OLD.agent_id, OLD.at, OLD.state, OLD.reason, OLD.actor, OLD.node))
    EXECUTE FUNCTION reject_update();
