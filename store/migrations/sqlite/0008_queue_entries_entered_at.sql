-- 0008_queue_entries_entered_at: the supervisors' heat map and charts read the
-- queue entries of a stretch of days (QueueOutcomes).

CREATE INDEX queue_entries_entered_at ON queue_entries (entered_at);
