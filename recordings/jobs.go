package recordings

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strconv"
	"time"

	"github.com/sambung/sambung/audit"
	"github.com/sambung/sambung/store"
)

// The jobs that keep what is recorded in order: retention deletes
// recordings past their time, sampling fills the QA review queue, and
// erasure removes everything about one caller on request. Each records
// what it did in the audit trail. Running them on several nodes at once is
// safe: each step is idempotent in the store.

// expireBatch is how many recordings one pass of Expire reads at a time.
const expireBatch = 200

// Expire deletes the recordings past their time at now, except those of
// calls on legal hold: a recording under a policy of its own (its flow's
// or queue's, store.Recording.RetainUntil) once that has passed, sooner or
// later than keep would have it; any other once its call started more than
// keep before now, and never if keep <= 0. It deletes the file from
// storage, then its metadata, and the call's timeline says so
// (recording.expired, with the policy that expired it). It returns how
// many it deleted.
func Expire(ctx context.Context, st store.Store, files Storage, al *audit.Log, log *slog.Logger, keep time.Duration, now time.Time) (int, error) {
	deleted, byPolicy := 0, 0
	for {
		recs, err := st.ExpiredRecordings(ctx, now, keep, expireBatch)
		if err != nil {
			return deleted, err
		}
		progress := 0
		for _, r := range recs {
			switch err := st.DeleteRecording(ctx, r.ID); {
			case errors.Is(err, store.ErrHeld), errors.Is(err, store.ErrNotFound):
				continue // held since it was read, or another node took it
			case err != nil:
				return deleted, err
			}
			if err := files.Remove(r.Path); err != nil {
				// The metadata is gone; the file is an orphan the log names.
				log.Error("recordings: an expired recording's file was not deleted", "call_id", r.CallID, "path", r.Path, "err", err)
			}
			data := `{"retention_hours":` + strconv.FormatInt(int64(keep/time.Hour), 10) + `}`
			if !r.RetainUntil.IsZero() {
				data = `{"retain_until":"` + r.RetainUntil.UTC().Format(time.RFC3339) + `"}`
				byPolicy++
			}
			if _, err := st.AppendCallEvent(ctx, store.CallEvent{CallID: r.CallID, Kind: "recording.expired",
				Data: []byte(data)}); err != nil {
				log.Warn("recordings: the expiry is not on the call's timeline", "call_id", r.CallID, "err", err)
			}
			deleted++
			progress++
		}
		if len(recs) < expireBatch || progress == 0 {
			break
		}
	}
	if deleted > 0 {
		detail := map[string]string{"deleted": strconv.Itoa(deleted), "by_own_policy": strconv.Itoa(byPolicy),
			"at": now.UTC().Format(time.RFC3339), "retention": keep.String()}
		if keep > 0 {
			detail["started_before"] = now.Add(-keep).UTC().Format(time.RFC3339)
		}
		_ = al.Record(ctx, store.AuditEvent{Actor: "system", Action: "recording.expire", Target: "recordings", Detail: detail})
	}
	return deleted, nil
}

// CallerRef is how the audit trail names a caller whose calls were erased:
// not the number itself, which the erasure was asked to remove, but a
// digest a person holding the number can match.
func CallerRef(number string) string {
	sum := sha256.Sum256([]byte(number))
	return "caller:sha256:" + hex.EncodeToString(sum[:8])
}

// Erasure is what EraseCaller removed.
type Erasure struct {
	Calls int // calls erased with their timelines, transcripts, evaluations and comments
	Files int // recording files deleted
}

// EraseCaller erases everything about the caller number: their calls and
// all that hangs off them in the store, and their recordings' files. A
// call of theirs on legal hold stops it before anything is erased
// (store.ErrHeld, naming the call). by is who asked; the audit trail gets
// an entry either way, naming the caller by CallerRef.
func EraseCaller(ctx context.Context, st store.Store, files Storage, al *audit.Log, by, number string) (Erasure, error) {
	var e Erasure
	record := func(outcome string, detail map[string]string) {
		_ = al.Record(ctx, store.AuditEvent{Actor: by, Action: "caller.erase", Target: CallerRef(number), Outcome: outcome, Detail: detail})
	}
	calls, err := st.CallsFrom(ctx, number)
	if err != nil {
		return e, err
	}
	ids := make([]string, 0, len(calls))
	var paths []string
	for _, c := range calls {
		ids = append(ids, c.ID)
		recs, err := st.CallRecordings(ctx, c.ID)
		if err != nil {
			return e, err
		}
		for _, r := range recs {
			paths = append(paths, r.Path)
		}
	}
	n, err := st.EraseCalls(ctx, ids)
	if err != nil {
		record("failed", map[string]string{"error": err.Error()})
		return e, err
	}
	e.Calls = n
	var failed []string
	for _, p := range paths {
		if err := files.Remove(p); err != nil {
			failed = append(failed, p)
			continue
		}
		e.Files++
	}
	detail := map[string]string{"calls": strconv.Itoa(e.Calls), "files": strconv.Itoa(e.Files)}
	if len(failed) > 0 {
		detail["files_left"] = fmt.Sprint(failed)
		record("partial", detail)
		return e, fmt.Errorf("recordings: %d of the caller's recording files could not be deleted: %v", len(failed), failed)
	}
	record("ok", detail)
	return e, nil
}

// evaluatedBatch bounds the ids of one EvaluatedCalls query.
const evaluatedBatch = 500

// FillReviewQueue runs the sampling policy over this quarter's calls so
// far and adds what it picks to the QA staff's review queues. Calls
// already in a queue this quarter stay as they are, so running it again
// (every hour, on every node) only adds the calls sampled since. The
// audit trail gets the policy, the seed and what was picked, enough to
// draw the same sample again. It returns how many calls it added.
func FillReviewQueue(ctx context.Context, st store.Store, al *audit.Log, p SamplePolicy, seed uint64, now time.Time) (int, error) {
	period := Period(now)
	y, m, _ := now.UTC().Date()
	since := time.Date(y, m-(m-1)%3, 1, 0, 0, 0, 0, time.UTC)
	var calls []store.Call
	for before := ""; ; {
		page, err := st.SearchCalls(ctx, store.CallSearch{Since: since, Until: now, Before: before, Limit: 200})
		if err != nil {
			return 0, err
		}
		calls = append(calls, page.Calls...)
		if page.Next == "" {
			break
		}
		before = page.Next
	}
	evaluated := map[string]bool{}
	for ids := range slices.Chunk(callIDs(calls), evaluatedBatch) {
		got, err := st.EvaluatedCalls(ctx, ids)
		if err != nil {
			return 0, err
		}
		for id := range got {
			evaluated[id] = true
		}
	}
	users, err := st.ListUsers(ctx)
	if err != nil {
		return 0, err
	}
	var reviewers []int64
	for _, u := range users {
		if u.Role == store.RoleQA && !u.Disabled {
			reviewers = append(reviewers, u.ID)
		}
	}
	picks := Sample(calls, evaluated, reviewers, p, seed)
	items := make([]store.ReviewItem, 0, len(picks))
	for _, pk := range picks {
		if pk.AssigneeID > 0 {
			items = append(items, store.ReviewItem{CallID: pk.CallID, AssigneeID: pk.AssigneeID, Reason: pk.Reason, Period: pk.Period})
		}
	}
	added, err := st.AddReviewItems(ctx, items)
	if err != nil {
		return 0, err
	}
	if added > 0 {
		ev := SampleAudit("system", period, p, seed, picks)
		ev.Detail["added"] = strconv.Itoa(added)
		_ = al.Record(ctx, ev)
	}
	return added, nil
}

func callIDs(calls []store.Call) []string {
	ids := make([]string, len(calls))
	for i, c := range calls {
		ids[i] = c.ID
	}
	return ids
}
