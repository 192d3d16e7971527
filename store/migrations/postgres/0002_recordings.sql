-- 0002_recordings: where each call's audio is and how long it runs.

CREATE TABLE recordings (
    id          BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    call_id     TEXT COLLATE "C" NOT NULL REFERENCES calls (id) ON DELETE CASCADE,
    path        TEXT        NOT NULL,
    format      TEXT        NOT NULL,
    channels    INTEGER     NOT NULL CHECK (channels > 0),
    sample_rate INTEGER     NOT NULL CHECK (sample_rate > 0),
    started_at  TIMESTAMPTZ NOT NULL,
    ended_at    TIMESTAMPTZ,
    duration_ms BIGINT      NOT NULL DEFAULT 0,
    bytes       BIGINT      NOT NULL DEFAULT 0
);

CREATE INDEX recordings_call_id ON recordings (call_id, id);
