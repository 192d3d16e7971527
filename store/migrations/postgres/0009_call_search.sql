-- 0009_call_search: each call's summary for the QA page's search
-- (SearchCalls): its queue, intent, language and mood, the caller's CSAT
-- score, how it was resolved and how long it lasted; and the indexes that
-- serve the search's filters.

-- The summary, written by SetCallSummary and SetCallCSAT. '' and NULL are
-- "not known (yet)": a call that never left the IVR has no queue, one that
-- was never rated no csat.
ALTER TABLE calls
    ADD COLUMN queue      TEXT    NOT NULL DEFAULT '',
    ADD COLUMN intent     TEXT    NOT NULL DEFAULT '',
    ADD COLUMN language   TEXT    NOT NULL DEFAULT '',
    -- sentiment: -1 (negative) .. 1 (positive), the caller's mood as the
    -- recognizer last scored it. DOUBLE PRECISION, as SQLite's REAL.
    ADD COLUMN sentiment  DOUBLE PRECISION CHECK (sentiment BETWEEN -1 AND 1),
    ADD COLUMN angry      BOOLEAN NOT NULL DEFAULT false,
    -- csat: the caller's post-call survey score, 1 (worst) .. 5 (best).
    ADD COLUMN csat       INTEGER CHECK (csat BETWEEN 1 AND 5),
    -- resolution: '' while not known; 'ivr' the IVR resolved it; 'agent' it
    -- was escalated and an agent answered; 'abandoned' it was escalated and
    -- the caller hung up waiting in the queue. The CHECK keeps the set
    -- closed, so a typo in the code fails at once rather than hiding calls
    -- from the filter.
    ADD COLUMN resolution TEXT    NOT NULL DEFAULT ''
        CHECK (resolution IN ('', 'ivr', 'agent', 'abandoned')),
    -- duration_ms: ended_at - started_at in whole milliseconds (truncated,
    -- as Go's Duration.Milliseconds), NULL while the call is live, 0 should
    -- two nodes' clocks put the end before the start. A generated column, so
    -- that every way a call ends (EndCall, EndOrphanedCalls, CreateCall of a
    -- whole record) sets it, and the rows already stored have it at once.
    -- EXTRACT gives NUMERIC, exact to the microsecond.
    ADD COLUMN duration_ms BIGINT GENERATED ALWAYS AS (
        CASE
            WHEN ended_at IS NULL THEN NULL
            WHEN ended_at < started_at THEN 0
            ELSE trunc(EXTRACT(EPOCH FROM (ended_at - started_at)) * 1000)::BIGINT
        END) STORED;

-- Calls stored before this migration take their summary from the contact
-- context the IVR handed on (docs/softphone.md), where it has one; a value
-- of the wrong JSON type is left unknown rather than failing the migration.
-- JSON rather than JSONB: it reads any text SetCallContact accepted.
UPDATE calls SET
    queue = COALESCE(CASE WHEN json_typeof(c.j -> 'queue') = 'string' THEN c.j ->> 'queue' END, ''),
    intent = COALESCE(CASE WHEN json_typeof(c.j -> 'intent' -> 'name') = 'string' THEN c.j -> 'intent' ->> 'name' END, ''),
    language = COALESCE(CASE WHEN json_typeof(c.j -> 'language' -> 'code') = 'string' THEN c.j -> 'language' ->> 'code' END, ''),
    -- Nested, so that only a number is ever cast.
    sentiment = CASE WHEN json_typeof(c.j -> 'sentiment' -> 'score') = 'number' THEN
        CASE WHEN (c.j -> 'sentiment' ->> 'score')::NUMERIC BETWEEN -1 AND 1
            THEN (c.j -> 'sentiment' ->> 'score')::DOUBLE PRECISION
        END
    END,
    angry = COALESCE(json_typeof(c.j -> 'sentiment' -> 'angry') = 'boolean'
        AND c.j -> 'sentiment' ->> 'angry' = 'true', false)
FROM (SELECT id, contact::JSON AS j FROM calls WHERE contact <> '') AS c
WHERE calls.id = c.id;

-- Indexes. Every search lists calls newest first by (started_at, id) and
-- pages by keyset: the next page is the calls below the last one's
-- (started_at, id). calls_started_at_id (0001) serves a date range alone,
-- and the filters on ranges (sentiment, duration) and on rare combinations,
-- read along it until a page is full. Each equality filter has an index that
-- leads with its column and goes on with (started_at, id): the planner
-- seeks to the value, reads the date range and the keyset bound as one
-- range, in page order, and stops after a page, with no sort; and COUNT(*)
-- reads only that index (once VACUUM has marked the table's pages
-- all-visible, as autovacuum does). When a search has several, the planner
-- takes the most selective (after ANALYZE) and filters on the rest.
CREATE INDEX calls_queue_started_at ON calls (queue, started_at, id);
CREATE INDEX calls_intent_started_at ON calls (intent, started_at, id);
CREATE INDEX calls_language_started_at ON calls (language, started_at, id);
CREATE INDEX calls_disposition_started_at ON calls (disposition, started_at, id);
CREATE INDEX calls_resolution_started_at ON calls (resolution, started_at, id);
-- Calls the IVR resolved have no agent: partial, so they take no room.
-- "agent_id = $1" implies "agent_id IS NOT NULL", which lets the planner use it.
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
-- fills quickly, and a count reads this index alone. "csat <= $1" implies
-- "csat IS NOT NULL", which lets the planner use it.
CREATE INDEX calls_rated_started_at ON calls (started_at, id, csat) WHERE csat IS NOT NULL;
