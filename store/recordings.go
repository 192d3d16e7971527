package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"
)

const recordingColumns = `id, call_id, path, format, channels, sample_rate, started_at, ended_at, duration_ms, bytes,
  retain_until`

var (
	// A recording carries its call's start, which retention goes by
	// (migration 0010); no row for an unknown call.
	qCreateRecording = newQuery(`INSERT INTO recordings (call_id, path, format, channels, sample_rate, started_at,
  call_started_at, retain_until)
SELECT id, $2, $3, $4, $5, $6, started_at, $7 FROM calls WHERE id = $1
RETURNING id`)
	qFinishRecording = newQuery(`UPDATE recordings SET ended_at = $2, duration_ms = $3, bytes = $4 WHERE id = $1`)
	qCallRecordings  = newQuery(`SELECT ` + recordingColumns + ` FROM recordings WHERE call_id = $1 ORDER BY id`)
	qUnfinished      = newQuery(`SELECT r.id, r.call_id, r.path, r.format, r.channels, r.sample_rate, r.started_at,
  r.ended_at, r.duration_ms, r.bytes, r.retain_until
FROM recordings r JOIN calls c ON c.id = r.call_id
WHERE r.ended_at IS NULL AND c.node = $1 ORDER BY r.id`)
)

// UnfinishedRecordings returns node's recordings that never finished.
func (d *db) UnfinishedRecordings(ctx context.Context, node string) ([]Recording, error) {
	rs, err := queryAll(ctx, d, qUnfinished, scanRecording, node)
	if err != nil {
		return nil, fmt.Errorf("unfinished recordings of node %s: %w", node, err)
	}
	return rs, nil
}

// CreateRecording stores r and returns it with ID set; a zero StartedAt means now.
func (d *db) CreateRecording(ctx context.Context, r Recording) (Recording, error) {
	r.StartedAt = utcOrNow(r.StartedAt)
	until, err := retainUntil(r.RetainUntil)
	if err != nil {
		return Recording{}, fmt.Errorf("create recording of call %s: %w", r.CallID, err)
	}
	if !r.RetainUntil.IsZero() {
		r.RetainUntil = utc(r.RetainUntil)
	}
	err = d.queryRow(ctx, qCreateRecording, r.CallID, r.Path, r.Format, r.Channels, r.SampleRate, r.StartedAt,
		until).Scan(&r.ID)
	if err != nil {
		if errors.Is(err, sql.ErrNoRows) {
			return Recording{}, fmt.Errorf("create recording of call %s: call %w", r.CallID, ErrNotFound)
		}
		return Recording{}, fmt.Errorf("create recording of call %s: %w", r.CallID, err)
	}
	return r, nil
}

// FinishRecording sets EndedAt (zero means now), Duration and Bytes.
func (d *db) FinishRecording(ctx context.Context, id int64, endedAt time.Time, dur time.Duration, bytes int64) error {
	n, err := d.exec(ctx, qFinishRecording, id, utcOrNow(endedAt), dur.Milliseconds(), bytes)
	if err != nil {
		return fmt.Errorf("finish recording %d: %w", id, err)
	}
	if n == 0 {
		return fmt.Errorf("finish recording %d: %w", id, ErrNotFound)
	}
	return nil
}

// CallRecordings returns a call's recordings in the order they began.
func (d *db) CallRecordings(ctx context.Context, callID string) ([]Recording, error) {
	rs, err := queryAll(ctx, d, qCallRecordings, scanRecording, callID)
	if err != nil {
		return nil, fmt.Errorf("recordings of call %s: %w", callID, err)
	}
	return rs, nil
}

func scanRecording(r row) (Recording, error) { return scanRecordingAnd(r) }

// scanRecordingAnd reads recordingColumns, and into more the columns a
// query selects after them.
func scanRecordingAnd(r row, more ...any) (Recording, error) {
	var rec Recording
	var ms int64
	dest := append([]any{&rec.ID, &rec.CallID, &rec.Path, &rec.Format, &rec.Channels, &rec.SampleRate,
		timeDest(&rec.StartedAt), timeDest(&rec.EndedAt), &ms, &rec.Bytes, timeDest(&rec.RetainUntil)}, more...)
	err := r.Scan(dest...)
	rec.Duration = time.Duration(ms) * time.Millisecond
	return rec, err
}
