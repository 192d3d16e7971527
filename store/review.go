package store

import (
	"context"
	"fmt"
	"strings"
	"time"
	"unicode/utf8"
)

// maxCommentLen is the most characters a comment may hold.
const maxCommentLen = 2000

const (
	commentColumns    = `id, call_id, at_ms, author_id, author, text, created_at`
	reviewItemColumns = `id, call_id, assignee_id, reason, period, created_at, done_at`
)

var (
	qAddComment = newQuery(`INSERT INTO comments (call_id, at_ms, author_id, author, text, created_at)
VALUES ($1, $2, $3, $4, $5, $6) RETURNING id`)
	qCallComments = newQuery(`SELECT ` + commentColumns + ` FROM comments WHERE call_id = $1 ORDER BY at_ms, id`)
	// A call already queued for the period is skipped.
	qAddReviewItem = newQuery(`INSERT INTO review_items (call_id, assignee_id, reason, period, created_at)
VALUES ($1, $2, $3, $4, $5)
ON CONFLICT (call_id, period) DO NOTHING`)
	qReviewQueue = newQuery(`SELECT ` + reviewItemColumns + ` FROM review_items
WHERE assignee_id = $1 AND (done_at IS NULL OR NOT $2)
ORDER BY created_at, id`)
	qCompleteReview = newQuery(`UPDATE review_items SET done_at = $3
WHERE call_id = $1 AND assignee_id = $2 AND done_at IS NULL`)
)

// AddComment stores c and returns it with ID and CreatedAt set.
func (d *db) AddComment(ctx context.Context, c Comment) (Comment, error) {
	what := "add a comment to call " + c.CallID
	if err := c.validate(); err != nil {
		return Comment{}, fmt.Errorf("%s: %w", what, err)
	}
	c.At = c.At.Truncate(time.Millisecond)
	c.CreatedAt = utcOrNow(c.CreatedAt)
	err := d.queryRow(ctx, qAddComment, c.CallID, c.At.Milliseconds(), c.AuthorID, c.Author, c.Text, c.CreatedAt).
		Scan(&c.ID)
	if err != nil {
		if d.violation(err) == foreignKeyViolation {
			return Comment{}, fmt.Errorf("%s: call %w", what, ErrNotFound)
		}
		return Comment{}, fmt.Errorf("%s: %w", what, err)
	}
	return c, nil
}

// validate refuses a comment the table would not hold, naming the field.
func (c Comment) validate() error {
	n := utf8.RuneCountInString(c.Text)
	switch {
	case c.CallID == "":
		return invalid("CallID is empty")
	case c.At < 0:
		return invalid("At is %s; it may not be negative", c.At)
	case c.AuthorID <= 0:
		return invalid("AuthorID is %d; IDs are positive", c.AuthorID)
	case !utf8.ValidString(c.Text):
		return invalid("Text is not valid UTF-8")
	case strings.TrimSpace(c.Text) == "":
		return invalid("Text is blank")
	case n > maxCommentLen:
		return invalid("Text is %d characters long; at most %d are allowed", n, maxCommentLen)
	}
	return nil
}

// CallComments returns a call's comments by At, then in the order added.
func (d *db) CallComments(ctx context.Context, callID string) ([]Comment, error) {
	cs, err := queryAll(ctx, d, qCallComments, scanComment, callID)
	if err != nil {
		return nil, fmt.Errorf("comments of call %s: %w", callID, err)
	}
	return nonNil(cs), nil
}

func scanComment(r row) (Comment, error) {
	var c Comment
	var ms int64
	err := r.Scan(&c.ID, &c.CallID, &ms, &c.AuthorID, &c.Author, &c.Text, timeDest(&c.CreatedAt))
	c.At = time.Duration(ms) * time.Millisecond
	return c, err
}

// AddReviewItems adds items to the review queue, skipping any whose call is
// already queued for its period, and says how many it added.
func (d *db) AddReviewItems(ctx context.Context, items []ReviewItem) (int, error) {
	for i, it := range items {
		if err := it.validate(); err != nil {
			return 0, fmt.Errorf("add review items: item %d (call %s): %w", i, it.CallID, err)
		}
	}
	now := utc(time.Now())
	added := 0
	err := d.inTx(ctx, func(q querier) error {
		for _, it := range items {
			at := now
			if !it.CreatedAt.IsZero() {
				at = utc(it.CreatedAt)
			}
			n, err := q.exec(ctx, qAddReviewItem, it.CallID, it.AssigneeID, it.Reason, it.Period, at)
			if err != nil {
				if d.violation(err) == foreignKeyViolation {
					return fmt.Errorf("call %s: %w", it.CallID, ErrNotFound)
				}
				return fmt.Errorf("call %s: %w", it.CallID, err)
			}
			added += int(n)
		}
		return nil
	})
	if err != nil {
		return 0, fmt.Errorf("add review items: %w", err)
	}
	return added, nil
}

// validate refuses an item missing a field, naming it.
func (it ReviewItem) validate() error {
	switch {
	case it.CallID == "":
		return invalid("CallID is empty")
	case it.AssigneeID <= 0:
		return invalid("AssigneeID is %d; IDs are positive", it.AssigneeID)
	case it.Reason == "":
		return invalid("Reason is empty")
	case it.Period == "":
		return invalid("Period is empty")
	}
	return nil
}

// ReviewQueue returns a QA user's items, oldest first.
func (d *db) ReviewQueue(ctx context.Context, assigneeID int64, openOnly bool) ([]ReviewItem, error) {
	items, err := queryAll(ctx, d, qReviewQueue, scanReviewItem, assigneeID, openOnly)
	if err != nil {
		return nil, fmt.Errorf("review queue of user %d: %w", assigneeID, err)
	}
	return nonNil(items), nil
}

// CompleteReview marks done the open items of the call assigned to assigneeID.
func (d *db) CompleteReview(ctx context.Context, callID string, assigneeID int64) error {
	n, err := d.exec(ctx, qCompleteReview, callID, assigneeID, utc(time.Now()))
	if err != nil {
		return fmt.Errorf("complete the review of call %s by user %d: %w", callID, assigneeID, err)
	}
	if n == 0 {
		return fmt.Errorf("complete the review of call %s by user %d: no open review item: %w", callID, assigneeID,
			ErrNotFound)
	}
	return nil
}

func scanReviewItem(r row) (ReviewItem, error) {
	var it ReviewItem
	err := r.Scan(&it.ID, &it.CallID, &it.AssigneeID, &it.Reason, &it.Period, timeDest(&it.CreatedAt),
		timeDest(&it.DoneAt))
	return it, err
}
