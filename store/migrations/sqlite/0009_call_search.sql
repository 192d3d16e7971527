-- 0009_call_search: each call's summary for the QA page's search
-- (SearchCalls): its queue, intent, language and mood, the caller's CSAT
-- score, how it was resolved and how long it lasted; and the indexes that
-- serve the search's filters.

-- The summary, written by SetCallSummary and SetCallCSAT. '' and NULL are
-- "not known (yet)": a call that never left the IVR has no queue, one that
-- was never rated no csat.
ALTER TABLE calls ADD COLUMN queue TEXT NOT NULL DEFAULT '';
ALTER TABLE calls ADD COLUMN intent TEXT NOT NULL DEFAULT '';
ALTER TABLE calls ADD COLUMN language TEXT NOT NULL DEFAULT '';
-- sentiment: -1 (negative) .. 1 (positive), the caller's mood as the
-- recognizer last scored it.
ALTER TABLE calls ADD COLUMN sentiment REAL CHECK (sentiment BETWEEN -1 AND 1);
ALTER TABLE calls ADD COLUMN angry INTEGER NOT NULL DEFAULT 0 CHECK (angry IN (0, 1));
-- csat: the caller's post-call survey score, 1 (worst) .. 5 (best).
ALTER TABLE calls ADD COLUMN csat INTEGER CHECK (csat BETWEEN 1 AND 5);
-- resolution: '' while not known; 'ivr' the IVR resolved it; 'agent' it was
-- escalated and an agent answered; 'abandoned' it was escalated and the
-- caller hung up waiting in the queue. The CHECK keeps the set closed, so a
-- typo in the code fails at once rather than hiding calls from the filter.
ALTER TABLE calls ADD COLUMN resolution TEXT NOT NULL DEFAULT ''
    CHECK (resolution IN ('', 'ivr', 'agent', 'abandoned'));
-- duration_ms: ended_at - started_at in whole milliseconds (truncated, as
-- Go's Duration.Milliseconds), NULL while the call is live, 0 should two
-- nodes' clocks put the end before the start. The triggers below keep it,
-- so that every way a call ends (EndCall, EndOrphanedCalls, CreateCall of a
-- whole record) sets it. Not a generated column: ALTER TABLE can add only
-- a VIRTUAL one, worked out on every read, and a search that filters on
-- duration reads many rows (a scan of 100,000 calls took 94 ms with it,
-- 17 ms with a plain column).
ALTER TABLE calls ADD COLUMN duration_ms INTEGER;

-- Exact to the microsecond, as PostgreSQL: the stored form is fixed-width,
-- 2006-01-02T15:04:05.000000Z, so the seconds are characters 1-19 and the
-- microseconds 21-26. (SQLite's own date arithmetic keeps milliseconds only.)
CREATE TRIGGER calls_duration_insert AFTER INSERT ON calls
WHEN NEW.ended_at IS NOT NULL
BEGIN
    UPDATE calls SET duration_ms = CASE
        WHEN NEW.ended_at < NEW.started_at THEN 0
        ELSE ((unixepoch(substr(NEW.ended_at, 1, 19)) - unixepoch(substr(NEW.started_at, 1, 19))) * 1000000
              + CAST(substr(NEW.ended_at, 21, 6) AS INTEGER) - CAST(substr(NEW.started_at, 21, 6) AS INTEGER)) / 1000
    END
    WHERE rowid = NEW.rowid;
END;

CREATE TRIGGER calls_duration_update AFTER UPDATE OF started_at, ended_at ON calls
BEGIN
    UPDATE calls SET duration_ms = CASE
        WHEN NEW.ended_at IS NULL THEN NULL
        WHEN NEW.ended_at < NEW.started_at THEN 0
        ELSE ((unixepoch(substr(NEW.ended_at, 1, 19)) - unixepoch(substr(NEW.started_at, 1, 19))) * 1000000
              + CAST(substr(NEW.ended_at, 21, 6) AS INTEGER) - CAST(substr(NEW.started_at, 21, 6) AS INTEGER)) / 1000
    END
    WHERE rowid = NEW.rowid;
END;

-- The calls that ended before this migration: setting ended_at to itself
-- fires calls_duration_update, rather than a third copy of its arithmetic.
UPDATE calls SET ended_at = ended_at WHERE ended_at IS NOT NULL;

-- Calls stored before this migration take their summary from the contact
-- context the IVR handed on (docs/softphone.md), where it has one; a value
-- of the wrong JSON type is left unknown rather than failing the migration.
UPDATE calls SET
    queue = CASE WHEN json_type(contact, '$.queue') = 'text' THEN json_extract(contact, '$.queue') ELSE '' END,
    intent = CASE WHEN json_type(contact, '$.intent.name') = 'text' THEN json_extract(contact, '$.intent.name') ELSE '' END,
    language = CASE WHEN json_type(contact, '$.language.code') = 'text' THEN json_extract(contact, '$.language.code') ELSE '' END,
    sentiment = CASE
        WHEN json_type(contact, '$.sentiment.score') IN ('integer', 'real')
            AND json_extract(contact, '$.sentiment.score') BETWEEN -1 AND 1
        THEN json_extract(contact, '$.sentiment.score')
    END,
    angry = CASE WHEN json_type(contact, '$.sentiment.angry') = 'true' THEN 1 ELSE 0 END
WHERE contact <> '' AND json_valid(contact);

-- Indexes. Every search lists calls newest first by (started_at, id) and
-- pages by keyset: the next page is the calls below the last one's
-- (started_at, id). calls_started_at_id (0001) serves a date range alone,
-- and the filters on ranges (sentiment, duration) and on rare combinations,
-- read along it until a page is full. Each equality filter has an index that
-- leads with its column and goes on with (started_at, id): the planner
-- seeks to the value, reads the date range and the keyset bound as one
-- range, in page order, and stops after a page, with no sort; and COUNT(*)
-- reads only that index. When a search has several, the planner takes the
-- most selective (after ANALYZE) and filters on the rest.
CREATE INDEX calls_queue_started_at ON calls (queue, started_at, id);
CREATE INDEX calls_intent_started_at ON calls (intent, started_at, id);
CREATE INDEX calls_language_started_at ON calls (language, started_at, id);
CREATE INDEX calls_disposition_started_at ON calls (disposition, started_at, id);
CREATE INDEX calls_resolution_started_at ON calls (resolution, started_at, id);
-- Calls the IVR resolved have no agent: partial, so they take no room.
-- "agent_id = ?" implies "agent_id IS NOT NULL", which lets the planner use it.
CREATE INDEX calls_agent_started_at ON calls (agent_id, started_at, id) WHERE agent_id IS NOT NULL;
-- "Angry callers only" is a fixed predicate, so a partial index holds just
-- those calls (a few percent), in page order.
CREATE INDEX calls_angry_started_at ON calls (started_at, id) WHERE angry;
-- A CSAT range (e.g. 1..2, the unhappy ones) is a range, which cannot lead
-- an index and keep page order: an index on (csat, started_at) has every
-- match read and sorted before the first page (22 ms for 1..2 over a
-- quarter of 100,000 calls on SQLite). Instead the rated calls (about a
-- third), in page order, with csat alongside: the planner reads back in
-- time, tests csat in the index, and fetches only the calls that match
-- (0.5 ms). Any CSAT range holds a good share of the rated calls, so a page
-- fills quickly, and a count reads this index alone. "csat <= ?" implies
-- "csat IS NOT NULL", which lets the planner use it.
CREATE INDEX calls_rated_started_at ON calls (started_at, id, csat) WHERE csat IS NOT NULL;
