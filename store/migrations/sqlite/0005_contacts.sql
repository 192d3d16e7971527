-- 0005_contacts: what an agent makes of a call (disposition and notes, at
-- wrap-up) and the call's contact context (docs/softphone.md), stored on
-- the call record; and an index for a caller's earlier calls.

ALTER TABLE calls ADD COLUMN agent_id INTEGER;
ALTER TABLE calls ADD COLUMN disposition TEXT NOT NULL DEFAULT '';
ALTER TABLE calls ADD COLUMN disposition_notes TEXT NOT NULL DEFAULT '';
ALTER TABLE calls ADD COLUMN wrapped_up_at TEXT;
ALTER TABLE calls ADD COLUMN contact TEXT NOT NULL DEFAULT '';

-- Serves a caller's history: their calls, newest first.
CREATE INDEX calls_from_started_at ON calls (from_uri, started_at);
