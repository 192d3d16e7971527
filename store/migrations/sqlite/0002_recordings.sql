-- 0002_recordings: where each call's audio is and how long it runs.

CREATE TABLE recordings (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    call_id     TEXT NOT NULL REFERENCES calls (id) ON DELETE CASCADE,
    path        TEXT NOT NULL,
    format      TEXT NOT NULL,
    channels    INTEGER NOT NULL CHECK (channels > 0),
    sample_rate INTEGER NOT NULL CHECK (sample_rate > 0),
    started_at  TEXT NOT NULL,
    ended_at    TEXT,
    duration_ms INTEGER NOT NULL DEFAULT 0,
    bytes       INTEGER NOT NULL DEFAULT 0
) STRICT;

CREATE INDEX recordings_call_id ON recordings (call_id, id);
