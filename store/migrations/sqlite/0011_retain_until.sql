-- 0011_retain_until: per-recording retention. A policy of the call's flow
-- or queue decides how long each of its recordings is kept; retention then
-- goes by that policy where there is one, and by the global retention (the
-- call's start, migration 0010) where there is none.

-- When the recording's own policy lets it go: retention deletes it once
-- retain_until has passed, whether that is sooner or later than the global
-- retention would. NULL: no policy of its own. A hold still wins over both.
ALTER TABLE recordings ADD COLUMN retain_until TEXT;

-- Retention (ExpiredRecordings) reads the expired recordings in two parts,
-- each along an index of its own from its oldest end (the id breaks ties,
-- as in the order it returns), and merges them:
--   * the recordings with a policy whose retain_until has passed, along
--     recordings_retain_until. Partial, as "retain_until < ?" implies
--     "retain_until IS NOT NULL": it holds only recordings with a policy.
--   * the recordings without one whose call started before now - keep,
--     along recordings_default_call_started_at, which replaces 0010's
--     recordings_call_started_at. Partial on "retain_until IS NULL": the
--     whole index would hold, among its oldest entries, every old
--     recording a long policy keeps (years, for some queues), for every
--     run to step over; this one holds only those the age decides.
-- Held calls' recordings are left out through calls_held, as in 0010.
CREATE INDEX recordings_retain_until ON recordings (retain_until, id) WHERE retain_until IS NOT NULL;
DROP INDEX recordings_call_started_at;
CREATE INDEX recordings_default_call_started_at ON recordings (call_started_at, id) WHERE retain_until IS NULL;
