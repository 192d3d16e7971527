package store

import (
	"context"
	"errors"
	"testing"
	"time"
)

func testRecordings(t *testing.T, s Store) {
	ctx := context.Background()
	start := time.Date(2026, 11, 23, 9, 0, 0, 123456000, time.UTC)
	if err := s.CreateCall(ctx, Call{ID: "rec-call", Direction: Inbound, From: "a", To: "b", Node: "n", StartedAt: start}); err != nil {
		t.Fatal(err)
	}
	r, err := s.CreateRecording(ctx, Recording{CallID: "rec-call", Path: "2026/11/23/rec-call.wav", Format: "wav",
		Channels: 2, SampleRate: 8000, StartedAt: start})
	if err != nil {
		t.Fatal(err)
	}
	if r.ID == 0 {
		t.Fatal("no ID")
	}
	second, err := s.CreateRecording(ctx, Recording{CallID: "rec-call", Path: "b.wav", Format: "wav", Channels: 1, SampleRate: 16000})
	if err != nil {
		t.Fatal(err)
	}
	got, err := s.CallRecordings(ctx, "rec-call")
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 2 || got[0].ID != r.ID || got[1].ID != second.ID {
		t.Fatalf("recordings: %+v", got)
	}
	if g := got[0]; g.Path != r.Path || g.Channels != 2 || g.SampleRate != 8000 || !g.StartedAt.Equal(start) ||
		!g.EndedAt.IsZero() || g.Duration != 0 || g.Bytes != 0 {
		t.Errorf("unfinished recording read back as %+v", g)
	}
	end := start.Add(90 * time.Second)
	if err := s.FinishRecording(ctx, r.ID, end, 89500*time.Millisecond, 1432044); err != nil {
		t.Fatal(err)
	}
	got, _ = s.CallRecordings(ctx, "rec-call")
	if g := got[0]; !g.EndedAt.Equal(end) || g.Duration != 89500*time.Millisecond || g.Bytes != 1432044 {
		t.Errorf("finished recording read back as %+v", g)
	}
	if err := s.FinishRecording(ctx, 987654, end, 0, 0); !errors.Is(err, ErrNotFound) {
		t.Errorf("finish unknown recording: %v", err)
	}
	if _, err := s.CreateRecording(ctx, Recording{CallID: "no-such-call", Path: "x", Format: "wav", Channels: 1, SampleRate: 8000}); !errors.Is(err, ErrNotFound) {
		t.Errorf("recording of an unknown call: %v", err)
	}
	if got, err := s.CallRecordings(ctx, "no-such-call"); err != nil || len(got) != 0 {
		t.Errorf("recordings of an unknown call: %v %v", got, err)
	}
	// "second" was never finished; the call is on node "n".
	if un, err := s.UnfinishedRecordings(ctx, "n"); err != nil || len(un) != 1 || un[0].ID != second.ID {
		t.Errorf("unfinished on n: %+v %v", un, err)
	}
	if un, err := s.UnfinishedRecordings(ctx, "other-node"); err != nil || len(un) != 0 {
		t.Errorf("unfinished on another node: %+v %v", un, err)
	}
}

func testEndOrphanedCalls(t *testing.T, s Store) {
	ctx := context.Background()
	start := time.Date(2026, 11, 23, 9, 0, 0, 0, time.UTC)
	for _, c := range []Call{
		{ID: "live-a", Node: "a"}, {ID: "live-b", Node: "b"},
		{ID: "done-a", Node: "a", EndedAt: start.Add(time.Minute), Outcome: "completed", EndReason: "caller_bye"},
	} {
		c.Direction, c.StartedAt = Inbound, start
		if err := s.CreateCall(ctx, c); err != nil {
			t.Fatal(err)
		}
	}
	at := start.Add(time.Hour)
	n, err := s.EndOrphanedCalls(ctx, "a", at, "node_restart")
	if err != nil || n != 1 {
		t.Fatalf("closed %d (%v), want 1", n, err)
	}
	if c, _ := s.CallByID(ctx, "live-a"); !c.EndedAt.Equal(at) || c.Outcome != "failed" || c.EndReason != "node_restart" {
		t.Errorf("orphan: %+v", c)
	}
	if c, _ := s.CallByID(ctx, "live-b"); !c.EndedAt.IsZero() {
		t.Errorf("another node's live call was closed: %+v", c)
	}
	if c, _ := s.CallByID(ctx, "done-a"); c.EndReason != "caller_bye" {
		t.Errorf("an ended call was changed: %+v", c)
	}
}
