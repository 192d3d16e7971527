package store

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"
)

func testComments(t *testing.T, s Store) {
	ctx := context.Background()
	mustCreateCalls(t, s, "cm-1", "cm-2")
	at := time.Date(2026, 10, 6, 11, 0, 0, 0, time.UTC)
	add := func(c Comment) Comment {
		t.Helper()
		c.CallID, c.AuthorID, c.Author = cmp.Or(c.CallID, "cm-1"), 11, "qa.one"
		got, err := s.AddComment(ctx, c)
		if err != nil {
			t.Fatalf("AddComment %q: %v", c.Text, err)
		}
		return got
	}
	late := add(Comment{At: 5 * time.Second, Text: "no hold music", CreatedAt: at})
	early := add(Comment{At: 1500*time.Millisecond + 700*time.Microsecond, Text: "greeting, nicely done", CreatedAt: at})
	late2 := add(Comment{At: 5 * time.Second, Text: "and no apology"})
	start := add(Comment{At: 0, Text: strings.Repeat("é", maxCommentLen)}) // 2000 characters, 4000 bytes
	add(Comment{CallID: "cm-2", At: 0, Text: "another call"})

	if late.ID == 0 || early.At != 1500*time.Millisecond {
		t.Errorf("AddComment returned ID %d and At %v; want an ID and At to the millisecond", late.ID, early.At)
	}
	checkTime(t, "comment CreatedAt", late.CreatedAt, at)
	if time.Since(late2.CreatedAt) > time.Minute {
		t.Errorf("zero CreatedAt stored as %v, want now", late2.CreatedAt)
	}
	got, err := s.CallComments(ctx, "cm-1")
	if err != nil {
		t.Fatal(err)
	}
	want := []Comment{start, early, late, late2}
	if len(got) != len(want) {
		t.Fatalf("CallComments gave %d comments, want %d", len(got), len(want))
	}
	for i := range want {
		checkTime(t, "comment CreatedAt", got[i].CreatedAt, want[i].CreatedAt)
		got[i].CreatedAt, want[i].CreatedAt = time.Time{}, time.Time{}
		if got[i] != want[i] {
			t.Errorf("comment %d = %+v, want %+v", i, got[i], want[i])
		}
	}

	if _, err := s.AddComment(ctx, Comment{CallID: "nope", AuthorID: 1, Text: "x"}); !errors.Is(err, ErrNotFound) {
		t.Errorf("comment on an unknown call: %v, want ErrNotFound", err)
	}
	for _, c := range []struct {
		field string
		c     Comment
	}{
		{"CallID", Comment{AuthorID: 1, Text: "x"}},
		{"At", Comment{CallID: "cm-1", AuthorID: 1, At: -time.Millisecond, Text: "x"}},
		{"AuthorID", Comment{CallID: "cm-1", Text: "x"}},
		{"Text", Comment{CallID: "cm-1", AuthorID: 1}},
		{"Text", Comment{CallID: "cm-1", AuthorID: 1, Text: " \n\t "}},
		{"Text", Comment{CallID: "cm-1", AuthorID: 1, Text: strings.Repeat("a", maxCommentLen+1)}},
		{"Text", Comment{CallID: "cm-1", AuthorID: 1, Text: "bad \xff byte"}},
	} {
		_, err := s.AddComment(ctx, c.c)
		checkInvalid(t, fmt.Sprintf("AddComment with a bad %s", c.field), err, c.field)
	}
	if got, err := s.CallComments(ctx, "cm-1"); err != nil || len(got) != len(want) {
		t.Errorf("refused comments were stored: %d comments, %v", len(got), err)
	}
	if got, err := s.CallComments(ctx, "nope"); err != nil || got == nil || len(got) != 0 {
		t.Errorf("comments of an unknown call = %#v, %v; want an empty list", got, err)
	}
}

func testReviewQueue(t *testing.T, s Store) {
	ctx := context.Background()
	mustCreateCalls(t, s, "r-1", "r-2", "r-3", "r-4")
	const qa1, qa2 = 11, 12
	t0 := time.Date(2026, 10, 1, 6, 0, 0, 0, time.UTC)
	item := func(call string, assignee int64, reason, period string, after time.Duration) ReviewItem {
		return ReviewItem{CallID: call, AssigneeID: assignee, Reason: reason, Period: period, CreatedAt: t0.Add(after)}
	}
	add := func(want int, items ...ReviewItem) {
		t.Helper()
		if n, err := s.AddReviewItems(ctx, items); err != nil || n != want {
			t.Fatalf("AddReviewItems(%d items) = %d, %v; want %d added", len(items), n, err, want)
		}
	}
	run := []ReviewItem{
		item("r-1", qa1, "angry", "2026-Q4", 0),
		item("r-2", qa1, "random", "2026-Q4", time.Minute),
		item("r-3", qa2, "long", "2026-Q4", 2*time.Minute),
	}
	add(3, run...)
	add(0, run...)                                                // the job ran again
	add(0, item("r-1", qa2, "low_csat", "2026-Q4", 0))            // picked already this period, by anyone
	add(1, item("r-1", qa1, "random", "2027-Q1", 10*time.Minute)) // a new period
	add(1, item("r-4", qa1, "long", "2026-Q4", 5*time.Minute), item("r-4", qa2, "long", "2026-Q4", 6*time.Minute))
	add(0)

	queue := func(assignee int64, openOnly bool) []string {
		t.Helper()
		items, err := s.ReviewQueue(ctx, assignee, openOnly)
		if err != nil {
			t.Fatalf("ReviewQueue(%d): %v", assignee, err)
		}
		var out []string
		for _, it := range items {
			out = append(out, it.CallID+" "+it.Period)
			if it.AssigneeID != assignee {
				t.Errorf("ReviewQueue(%d) holds an item of %d", assignee, it.AssigneeID)
			}
		}
		return out
	}
	check := func(got []string, want ...string) {
		t.Helper()
		if !slices.Equal(got, want) {
			t.Errorf("queue = %q, want %q", got, want)
		}
	}
	check(queue(qa1, false), "r-1 2026-Q4", "r-2 2026-Q4", "r-4 2026-Q4", "r-1 2027-Q1")
	check(queue(qa2, true), "r-3 2026-Q4")
	check(queue(99, false))

	items, _ := s.ReviewQueue(ctx, qa1, false)
	if it := items[0]; it.ID == 0 || it.Reason != "angry" || !it.DoneAt.IsZero() {
		t.Errorf("first item = %+v; want an open one, reason angry", it)
	} else {
		checkTime(t, "item CreatedAt", it.CreatedAt, t0)
	}

	if err := s.CompleteReview(ctx, "r-2", qa1); err != nil {
		t.Fatalf("CompleteReview: %v", err)
	}
	check(queue(qa1, true), "r-1 2026-Q4", "r-4 2026-Q4", "r-1 2027-Q1")
	check(queue(qa1, false), "r-1 2026-Q4", "r-2 2026-Q4", "r-4 2026-Q4", "r-1 2027-Q1")
	items, _ = s.ReviewQueue(ctx, qa1, false)
	if done := items[1].DoneAt; done.IsZero() || time.Since(done) > time.Minute {
		t.Errorf("completed item's DoneAt = %v, want now", done)
	}
	if err := s.CompleteReview(ctx, "r-2", qa1); !errors.Is(err, ErrNotFound) {
		t.Errorf("CompleteReview of a done item: %v, want ErrNotFound", err)
	}
	if err := s.CompleteReview(ctx, "r-3", qa1); !errors.Is(err, ErrNotFound) {
		t.Errorf("CompleteReview of another user's item: %v, want ErrNotFound", err)
	}
	check(queue(qa2, true), "r-3 2026-Q4")
	if err := s.CompleteReview(ctx, "r-1", qa1); err != nil { // both periods' items
		t.Fatal(err)
	}
	check(queue(qa1, true), "r-4 2026-Q4")

	// A batch with an unknown call adds nothing; nor one with a bad item.
	if n, err := s.AddReviewItems(ctx, []ReviewItem{item("r-2", qa2, "random", "2027-Q2", 0),
		item("nope", qa2, "random", "2027-Q2", 0)}); !errors.Is(err, ErrNotFound) || n != 0 ||
		!strings.Contains(err.Error(), "nope") {
		t.Errorf("AddReviewItems with an unknown call = %d, %v; want ErrNotFound naming it", n, err)
	}
	for _, c := range []struct {
		field string
		edit  func(*ReviewItem)
	}{
		{"CallID", func(it *ReviewItem) { it.CallID = "" }},
		{"AssigneeID", func(it *ReviewItem) { it.AssigneeID = 0 }},
		{"Reason", func(it *ReviewItem) { it.Reason = "" }},
		{"Period", func(it *ReviewItem) { it.Period = "" }},
	} {
		bad := item("r-3", qa2, "random", "2027-Q2", 0)
		c.edit(&bad)
		n, err := s.AddReviewItems(ctx, []ReviewItem{item("r-2", qa2, "random", "2027-Q2", 0), bad})
		checkInvalid(t, fmt.Sprintf("AddReviewItems with a bad %s", c.field), err, c.field)
		if n != 0 {
			t.Errorf("AddReviewItems with a bad %s added %d", c.field, n)
		}
	}
	check(queue(qa2, false), "r-3 2026-Q4")
}
