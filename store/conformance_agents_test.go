package store

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"
)

// newAgent makes a user and an agent with skills, available since idle.
func newAgent(t *testing.T, s Store, name string, skills []string, idle time.Time) Agent {
	t.Helper()
	ctx := context.Background()
	u := mustCreateUser(t, s, User{Name: name, DisplayName: name, Role: RoleAgent, PasswordHash: "h"})
	a, err := s.PutAgent(ctx, Agent{UserID: u.ID, Team: "blue", Level: 2, Skills: skills})
	if err != nil {
		t.Fatalf("PutAgent %s: %v", name, err)
	}
	if a.State != AgentOffline {
		t.Fatalf("new agent %s is %s, want offline", name, a.State)
	}
	if !idle.IsZero() {
		a, err = s.SetAgentState(ctx, AgentStateChange{AgentID: u.ID, From: AgentOffline, To: AgentAvailable,
			Actor: name, Node: "n1", At: idle, IdleSince: idle})
		if err != nil {
			t.Fatalf("agent %s available: %v", name, err)
		}
	}
	return a
}

func mustEnqueue(t *testing.T, s Store, e QueueEntry) QueueEntry {
	t.Helper()
	got, err := s.CreateQueueEntry(context.Background(), e)
	if err != nil {
		t.Fatalf("CreateQueueEntry %s: %v", e.CallID, err)
	}
	return got
}

// reserve reserves an agent for e and says whom, or 0 for nobody.
func reserve(t *testing.T, s Store, e QueueEntry, at time.Time) int64 {
	t.Helper()
	a, err := s.ReserveAgent(context.Background(), e.ID, "n1", at)
	if errors.Is(err, ErrNotFound) {
		return 0
	}
	if err != nil {
		t.Fatalf("ReserveAgent %s: %v", e.CallID, err)
	}
	if a.State != AgentRinging || a.CallID != e.CallID || a.Node != "n1" {
		t.Errorf("reserved agent %s: state %s, call %q, node %q; want ringing for %s on n1", a.Name, a.State, a.CallID, a.Node, e.CallID)
	}
	return a.UserID
}

func testAgents(t *testing.T, s Store) {
	ctx := context.Background()
	t0 := time.Date(2026, 5, 4, 9, 0, 0, 0, time.UTC)
	if _, err := s.PutAgent(ctx, Agent{UserID: 999}); !errors.Is(err, ErrNotFound) {
		t.Errorf("PutAgent of an unknown user: %v, want ErrNotFound", err)
	}
	bob := newAgent(t, s, "bob", []string{"topic:billing", "lang:en", "lang:en", ""}, time.Time{})
	if want := []string{"lang:en", "topic:billing"}; !slices.Equal(bob.Skills, want) || bob.Team != "blue" || bob.Level != 2 {
		t.Errorf("PutAgent gave %+v; want skills %v, team blue, level 2", bob, want)
	}
	bob.Skills, bob.Team = []string{"lang:id"}, "red"
	if got, err := s.PutAgent(ctx, bob); err != nil || !slices.Equal(got.Skills, []string{"lang:id"}) || got.Team != "red" || got.State != AgentOffline {
		t.Errorf("PutAgent update gave %+v, %v", got, err)
	}
	newAgent(t, s, "alice", nil, time.Time{})
	list, err := s.ListAgents(ctx)
	if err != nil || len(list) != 2 || list[0].Name != "alice" || list[1].Name != "bob" || !slices.Equal(list[1].Skills, []string{"lang:id"}) {
		t.Errorf("ListAgents = %+v, %v", list, err)
	}

	change := AgentStateChange{AgentID: bob.UserID, From: AgentOffline, To: AgentAway, Reason: "lunch", Actor: "sup", Node: "n2", At: t0}
	got, err := s.SetAgentState(ctx, change)
	if err != nil || got.State != AgentAway || got.Reason != "lunch" || !got.Since.Equal(t0) || got.Node != "n2" {
		t.Fatalf("SetAgentState: %+v, %v", got, err)
	}
	if _, err := s.SetAgentState(ctx, change); !errors.Is(err, ErrConflict) {
		t.Errorf("SetAgentState from a state the agent has left: %v, want ErrConflict", err)
	}
	if _, err := s.SetAgentState(ctx, AgentStateChange{AgentID: 999, To: AgentAway}); !errors.Is(err, ErrNotFound) {
		t.Errorf("SetAgentState of an unknown agent: %v, want ErrNotFound", err)
	}

	// A desk phone: set, kept by PutAgent, cleared.
	if err := s.SetAgentPhone(ctx, bob.UserID, "sip:1001@sambung"); err != nil {
		t.Fatal(err)
	}
	if _, err := s.PutAgent(ctx, Agent{UserID: bob.UserID, Team: "red"}); err != nil {
		t.Fatal(err)
	}
	if a, err := s.AgentByID(ctx, bob.UserID); err != nil || a.Phone != "sip:1001@sambung" || a.Team != "red" {
		t.Errorf("after SetAgentPhone and PutAgent: %+v, %v", a, err)
	}
	if err := s.SetAgentPhone(ctx, 999, "sip:x@y"); !errors.Is(err, ErrNotFound) {
		t.Errorf("SetAgentPhone of an unknown agent: %v, want ErrNotFound", err)
	}
	got, err = s.SetAgentState(ctx, AgentStateChange{AgentID: bob.UserID, From: AgentAway, To: AgentAvailable, Actor: "bob", At: t0.Add(time.Minute), IdleSince: t0.Add(time.Minute)})
	if err != nil || !got.IdleSince.Equal(t0.Add(time.Minute)) {
		t.Fatalf("available: %+v, %v", got, err)
	}
	got, err = s.SetAgentState(ctx, AgentStateChange{AgentID: bob.UserID, To: AgentAway, Reason: "break", Actor: "bob", At: t0.Add(2 * time.Minute)})
	if err != nil || !got.IdleSince.Equal(t0.Add(time.Minute)) {
		t.Errorf("a change with no IdleSince moved IdleSince: %+v, %v", got, err)
	}

	hist, err := s.AgentStates(ctx, bob.UserID)
	if err != nil || len(hist) != 3 {
		t.Fatalf("AgentStates = %+v, %v; want 3 changes", hist, err)
	}
	want := []struct{ state, reason, actor string }{{AgentAway, "lunch", "sup"}, {AgentAvailable, "", "bob"}, {AgentAway, "break", "bob"}}
	for i, w := range want {
		h := hist[i]
		if h.State != w.state || h.Reason != w.reason || h.Actor != w.actor || h.AgentID != bob.UserID {
			t.Errorf("history[%d] = %+v, want %+v", i, h, w)
		}
	}
	checkTime(t, "history[0].At", hist[0].At, t0)
	alice := list[0]
	if _, err := s.SetAgentState(ctx, AgentStateChange{AgentID: alice.UserID, To: AgentAvailable, Actor: "alice", At: t0.Add(90 * time.Second)}); err != nil {
		t.Fatal(err)
	}
	since, err := s.AgentStatesSince(ctx, t0.Add(time.Minute))
	var got3 []string
	for _, e := range since {
		got3 = append(got3, fmt.Sprintf("%d %s", e.AgentID, e.State))
	}
	// By agent, each in order; the change before the minute is left out.
	want3 := []string{fmt.Sprintf("%d available", bob.UserID), fmt.Sprintf("%d away", bob.UserID)}
	if alice.UserID < bob.UserID {
		want3 = append([]string{fmt.Sprintf("%d available", alice.UserID)}, want3...)
	} else {
		want3 = append(want3, fmt.Sprintf("%d available", alice.UserID))
	}
	if want := want3; err != nil || !slices.Equal(got3, want) {
		t.Errorf("AgentStatesSince = %v, %v; want %v", got3, err, want)
	}
	if !strictlyIncreasing(ids(hist, func(e AgentStateEvent) int64 { return e.ID })) {
		t.Errorf("history IDs are not increasing: %+v", hist)
	}
	checkRejectsUpdate(t, s, "agent_states", "reason = 'edited'")
}

// testReserveSkillsAndIdle: only agents holding every required skill are
// reserved, and of those the longest idle first.
func testReserveSkillsAndIdle(t *testing.T, s Store) {
	t0 := time.Date(2026, 5, 4, 9, 0, 0, 0, time.UTC)
	en := newAgent(t, s, "en", []string{"lang:en"}, t0.Add(-time.Hour))                                       // longest idle, no billing
	billingLate := newAgent(t, s, "billing-late", []string{"lang:en", "topic:billing"}, t0.Add(-time.Minute)) // idle 1 min
	billingEarly := newAgent(t, s, "billing-early", []string{"lang:en", "topic:billing", "lang:id"}, t0.Add(-10*time.Minute))
	newAgent(t, s, "offline", []string{"lang:en", "topic:billing"}, time.Time{}) // never available

	e1 := mustEnqueue(t, s, QueueEntry{CallID: "c1", Queue: "support", Skills: []string{"topic:billing", "lang:en"}, EnteredAt: t0})
	if got := reserve(t, s, e1, t0); got != billingEarly.UserID {
		t.Errorf("first billing call went to agent %d, want the longest idle with the skills, %s (%d)", got, billingEarly.Name, billingEarly.UserID)
	}
	e2 := mustEnqueue(t, s, QueueEntry{CallID: "c2", Queue: "support", Skills: []string{"topic:billing", "lang:en"}, EnteredAt: t0.Add(time.Second)})
	if got := reserve(t, s, e2, t0); got != billingLate.UserID {
		t.Errorf("second billing call went to agent %d, want %s (%d)", got, billingLate.Name, billingLate.UserID)
	}
	e3 := mustEnqueue(t, s, QueueEntry{CallID: "c3", Queue: "support", Skills: []string{"topic:billing", "lang:en"}, EnteredAt: t0.Add(2 * time.Second)})
	if got := reserve(t, s, e3, t0); got != 0 {
		t.Errorf("third billing call went to agent %d; no agent with the skills is free", got)
	}
	e4 := mustEnqueue(t, s, QueueEntry{CallID: "c4", Queue: "support", Skills: []string{"lang:en"}, EnteredAt: t0.Add(3 * time.Second)})
	if got := reserve(t, s, e4, t0); got != en.UserID {
		t.Errorf("English call went to agent %d, want %s (%d)", got, en.Name, en.UserID)
	}
	if _, err := s.ReserveAgent(context.Background(), e1.ID, "n1", t0); !errors.Is(err, ErrConflict) {
		t.Errorf("ReserveAgent for an offered entry: %v, want ErrConflict", err)
	}
	if e, err := s.QueueEntry(context.Background(), e1.ID); err != nil || e.Status != EntryOffered || e.AgentID != billingEarly.UserID {
		t.Errorf("entry after reserve: %+v, %v", e, err)
	}
}

// testReserveOneAgent: an entry that needs AgentSkill(id) goes to that
// agent only, though another is idle longer, and waits while they are not
// available, without holding back the entries behind it.
func testReserveOneAgent(t *testing.T, s Store) {
	t0 := time.Date(2026, 5, 4, 9, 0, 0, 0, time.UTC)
	first := newAgent(t, s, "first", []string{"lang:en"}, t0.Add(-time.Hour))
	second := newAgent(t, s, "second", []string{"lang:en"}, t0.Add(-time.Minute))
	toSecond := mustEnqueue(t, s, QueueEntry{CallID: "to-second", Queue: "support", Skills: []string{"lang:en", AgentSkill(second.UserID)}, EnteredAt: t0})
	if got := reserve(t, s, toSecond, t0); got != second.UserID {
		t.Errorf("the entry for %s (%d) went to agent %d", second.Name, second.UserID, got)
	}
	again := mustEnqueue(t, s, QueueEntry{CallID: "to-second-again", Queue: "support", Skills: []string{AgentSkill(second.UserID)}, EnteredAt: t0})
	if got := reserve(t, s, again, t0); got != 0 {
		t.Errorf("a second entry for busy %s went to agent %d; it waits for them", second.Name, got)
	}
	later := mustEnqueue(t, s, QueueEntry{CallID: "later", Queue: "support", Skills: []string{"lang:en"}, EnteredAt: t0.Add(time.Second)})
	if got := reserve(t, s, later, t0); got != first.UserID {
		t.Errorf("the entry behind one waiting for %s went to agent %d, want %s (%d)", second.Name, got, first.Name, first.UserID)
	}
}

// testReservePriority: an agent goes to the open entry ahead, by priority
// then by time entered; a callback keeps its place; answer and release
// move the offer on; an abandoned entry records its wait.
func testReservePriority(t *testing.T, s Store) {
	ctx := context.Background()
	t0 := time.Date(2026, 5, 4, 9, 0, 0, 0, time.UTC)
	skills := []string{"lang:en"}
	normal := mustEnqueue(t, s, QueueEntry{CallID: "normal", Queue: "q", Skills: skills, Number: "+1", Priority: 0, EnteredAt: t0})
	vip := mustEnqueue(t, s, QueueEntry{CallID: "vip", Queue: "q", Skills: skills, Number: "+2", Priority: 10, EnteredAt: t0.Add(time.Minute)})
	other := mustEnqueue(t, s, QueueEntry{CallID: "zh", Queue: "q", Skills: []string{"lang:zh"}, Number: "+3", Priority: 20, EnteredAt: t0})
	a := newAgent(t, s, "a", skills, t0)

	// The VIP entry is ahead of the normal one; the Chinese one is further
	// ahead but the agent cannot take it, so it does not hold anyone up.
	if got := reserve(t, s, normal, t0); got != 0 {
		t.Errorf("the normal call took agent %d while a VIP call waits", got)
	}
	if got := reserve(t, s, vip, t0); got != a.UserID {
		t.Errorf("the VIP call got agent %d, want %d", got, a.UserID)
	}
	if open, err := s.OpenQueueEntries(ctx); err != nil || len(open) != 3 || open[0].ID != other.ID || open[1].ID != vip.ID || open[2].ID != normal.ID {
		t.Errorf("OpenQueueEntries not in routing order: %+v, %v", open, err)
	}

	// Ring-no-answer: the VIP goes back to waiting, the agent away.
	o := OfferChange{EntryID: vip.ID, AgentID: a.UserID, Actor: "system", Node: "n1", At: t0.Add(2 * time.Minute)}
	if err := s.ReleaseOffer(ctx, o, AgentStateChange{To: AgentAway, Reason: "ring_no_answer", Actor: "system", Node: "n1"}); err != nil {
		t.Fatal(err)
	}
	if err := s.ReleaseOffer(ctx, o, AgentStateChange{To: AgentAway}); !errors.Is(err, ErrConflict) {
		t.Errorf("releasing an offer twice: %v, want ErrConflict", err)
	}
	if got, _ := s.AgentByID(ctx, a.UserID); got.State != AgentAway || got.Reason != "ring_no_answer" || got.CallID != "" {
		t.Errorf("agent after ring-no-answer: %+v", got)
	}

	// The VIP asks for a callback: it keeps its place ahead of the normal call.
	cb, err := s.RequestCallback(ctx, vip.ID)
	if err != nil || cb.Status != EntryCallback || !cb.Callback || cb.Priority != 10 || !cb.EnteredAt.Equal(vip.EnteredAt) {
		t.Fatalf("RequestCallback: %+v, %v", cb, err)
	}
	dup := mustEnqueue(t, s, QueueEntry{CallID: "vip-again", Queue: "q", Skills: skills, Number: "+2", EnteredAt: t0.Add(3 * time.Minute)})
	if _, err := s.RequestCallback(ctx, dup.ID); !errors.Is(err, ErrExists) {
		t.Errorf("a second open callback for one number: %v, want ErrExists", err)
	}
	if _, err := s.RequestCallback(ctx, vip.ID); !errors.Is(err, ErrConflict) {
		t.Errorf("RequestCallback of a callback: %v, want ErrConflict", err)
	}
	if _, err := s.SetAgentState(ctx, AgentStateChange{AgentID: a.UserID, From: AgentAway, To: AgentAvailable, Actor: "a", At: t0.Add(4 * time.Minute), IdleSince: t0.Add(4 * time.Minute)}); err != nil {
		t.Fatal(err)
	}
	if got := reserve(t, s, normal, t0.Add(5*time.Minute)); got != 0 {
		t.Errorf("the normal call took agent %d ahead of the VIP's callback", got)
	}
	if got := reserve(t, s, cb, t0.Add(5*time.Minute)); got != a.UserID {
		t.Errorf("the callback got agent %d, want %d", got, a.UserID)
	}
	answered, err := s.AnswerOffer(ctx, OfferChange{EntryID: vip.ID, AgentID: a.UserID, Actor: "a", At: t0.Add(6 * time.Minute)})
	if err != nil || answered.Status != EntryAnswered || answered.Waited != 5*time.Minute {
		t.Errorf("AnswerOffer: %+v, %v; want answered after 5m", answered, err)
	}
	if got, _ := s.AgentByID(ctx, a.UserID); got.State != AgentOnCall || got.CallID != "vip" {
		t.Errorf("agent after answer: %+v", got)
	}
	// Once the callback is answered, the number may ask again.
	if _, err := s.RequestCallback(ctx, dup.ID); err != nil {
		t.Errorf("RequestCallback after the first was answered: %v", err)
	}

	// The normal caller gives up after 7 minutes.
	ab, err := s.EndQueueEntry(ctx, normal.ID, EntryAbandoned, "caller_hangup", t0.Add(7*time.Minute))
	if err != nil || ab.Waited != 7*time.Minute {
		t.Errorf("EndQueueEntry: %+v, %v", ab, err)
	}
	if _, err := s.EndQueueEntry(ctx, normal.ID, EntryAbandoned, "", t0); !errors.Is(err, ErrConflict) {
		t.Errorf("ending an entry twice: %v, want ErrConflict", err)
	}
	st, err := s.QueueStats(ctx, "q", t0, 5*time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	want := QueueStats{Queue: "q", Waiting: 1, Callbacks: 1, OldestEntered: other.EnteredAt, Answered: 1, AnsweredInTime: 1, Abandoned: 1, AbandonedWait: 7 * time.Minute}
	if st != want {
		t.Errorf("QueueStats = %+v, want %+v", st, want)
	}

	// The heat map's rows, oldest first: the abandoned and the answered call, each once,
	// with the contact of the one that has a call record.
	if err := s.CreateCall(ctx, Call{ID: "normal", Direction: Inbound, From: "+3", StartedAt: t0}); err != nil {
		t.Fatal(err)
	}
	if err := s.SetCallContact(ctx, "normal", json.RawMessage(`{"intent":{"name":"billing"}}`)); err != nil {
		t.Fatal(err)
	}
	mustEnqueue(t, s, QueueEntry{CallID: "vip", Queue: "q", Skills: skills, EnteredAt: t0.Add(8 * time.Minute)}) // a consult's entry
	outs, err := s.QueueOutcomes(ctx, t0)
	var got []string
	for _, o := range outs {
		got = append(got, o.CallID+" "+o.Status+" "+string(o.Contact))
	}
	if want := []string{`normal abandoned {"intent":{"name":"billing"}}`, "vip answered "}; err != nil || !slices.Equal(got, want) {
		t.Errorf("QueueOutcomes = %q, %v; want %q", got, err, want)
	} else if outs[0].Waited != 7*time.Minute || outs[1].Waited != 5*time.Minute || outs[0].Queue != "q" {
		t.Errorf("QueueOutcomes = %+v; want waits of 7m and 5m in q", outs)
	}
	if outs, err := s.QueueOutcomes(ctx, t0.Add(time.Hour)); err != nil || len(outs) != 0 {
		t.Errorf("QueueOutcomes an hour later = %+v, %v", outs, err)
	}
}

// testEndOrphanedQueueEntries: a restarted node's calls leave their queues,
// its offered callbacks wait again and its agents are freed.
func testEndOrphanedQueueEntries(t *testing.T, s Store) {
	ctx := context.Background()
	t0 := time.Date(2026, 5, 4, 9, 0, 0, 0, time.UTC)
	a := newAgent(t, s, "a", nil, t0)
	call := mustEnqueue(t, s, QueueEntry{CallID: "c1", Queue: "q", Node: "n1", EnteredAt: t0})
	reserve(t, s, call, t0)
	waitingCall := mustEnqueue(t, s, QueueEntry{CallID: "c2", Queue: "q", Node: "n1", EnteredAt: t0})
	elsewhere := mustEnqueue(t, s, QueueEntry{CallID: "c3", Queue: "q", Node: "n2", EnteredAt: t0})
	n, err := s.EndOrphanedQueueEntries(ctx, "n1", t0.Add(time.Minute))
	if err != nil || n != 2 {
		t.Errorf("EndOrphanedQueueEntries = %d, %v; want 2", n, err)
	}
	for id, want := range map[int64]string{call.ID: EntryLeft, waitingCall.ID: EntryLeft, elsewhere.ID: EntryWaiting} {
		if e, _ := s.QueueEntry(ctx, id); e.Status != want {
			t.Errorf("entry %s is %s, want %s", e.CallID, e.Status, want)
		}
	}
	if got, _ := s.AgentByID(ctx, a.UserID); got.State != AgentAvailable {
		t.Errorf("agent ringing for the dead node is %s, want available", got.State)
	}
}

// testReserveConcurrent: two Store handles on one database (two nodes)
// reserve agents for many calls at once from many goroutines. No agent is
// ever reserved while it holds another reservation, and every reservation
// made is kept.
func testReserveConcurrent(t *testing.T, s Store) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	nodes := []Store{s, reopen(t, s)}
	t0 := time.Date(2026, 5, 4, 9, 0, 0, 0, time.UTC)
	const agents, workers, calls = 4, 4, 6 // per node: workers goroutines, each placing calls calls
	for i := range agents {
		newAgent(t, s, fmt.Sprintf("agent%d", i), []string{"lang:en"}, t0)
	}

	var mu sync.Mutex
	busy := map[int64]string{}      // agent -> the call it holds now
	reservations := map[int64]int{} // agent -> reservations it got
	var wg sync.WaitGroup
	errs := make(chan error, 2*workers*calls)
	for n, st := range nodes {
		node := fmt.Sprintf("n%d", n)
		for w := range workers {
			wg.Go(func() {
				for c := range calls {
					callID := fmt.Sprintf("%s-w%d-c%d", node, w, c)
					if err := placeCall(ctx, st, node, callID, &mu, busy, reservations); err != nil {
						errs <- err
						return
					}
				}
			})
		}
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}

	total := 0
	for id, got := range reservations {
		total += got
		hist, err := s.AgentStates(ctx, id)
		if err != nil {
			t.Fatal(err)
		}
		rings := 0
		for _, h := range hist {
			if h.State == AgentRinging {
				rings++
			}
		}
		if rings != got {
			t.Errorf("agent %d: %d reservations made, %d ringing in its history", id, got, rings)
		}
	}
	if want := 2 * workers * calls; total != want {
		t.Errorf("%d reservations for %d calls", total, want)
	}
	for _, q := range []string{"q"} {
		st, err := s.QueueStats(ctx, q, t0.Add(-time.Hour), time.Hour)
		if err != nil || st.Answered != 2*workers*calls || st.Waiting != 0 {
			t.Errorf("QueueStats after the run: %+v, %v; want every call answered", st, err)
		}
	}
}

// placeCall queues one call on node, reserves an agent for it (trying again
// while none is free), checks that agent held nothing else, then answers,
// hangs up and frees the agent.
func placeCall(ctx context.Context, s Store, node, callID string, mu *sync.Mutex, busy map[int64]string, reservations map[int64]int) error {
	e, err := s.CreateQueueEntry(ctx, QueueEntry{CallID: callID, Queue: "q", Skills: []string{"lang:en"}, Node: node})
	if err != nil {
		return err
	}
	var a Agent
	for {
		a, err = s.ReserveAgent(ctx, e.ID, node, time.Time{})
		if err == nil {
			break
		}
		if !errors.Is(err, ErrNotFound) {
			return fmt.Errorf("%s: %w", callID, err)
		}
		if err := pause(ctx); err != nil {
			return fmt.Errorf("%s: no agent before the end: %w", callID, err)
		}
	}
	mu.Lock()
	held, twice := busy[a.UserID]
	busy[a.UserID] = callID
	reservations[a.UserID]++
	mu.Unlock()
	if twice {
		return fmt.Errorf("agent %d reserved for %s while it holds %s", a.UserID, callID, held)
	}
	o := OfferChange{EntryID: e.ID, AgentID: a.UserID, Actor: a.Name, Node: node}
	if _, err := s.AnswerOffer(ctx, o); err != nil {
		return err
	}
	if _, err := s.SetAgentState(ctx, AgentStateChange{AgentID: a.UserID, From: AgentOnCall, To: AgentWrapUp, CallID: callID, Actor: a.Name, Node: node}); err != nil {
		return err
	}
	mu.Lock()
	delete(busy, a.UserID)
	mu.Unlock()
	_, err = s.SetAgentState(ctx, AgentStateChange{AgentID: a.UserID, From: AgentWrapUp, To: AgentAvailable, Actor: a.Name, Node: node, IdleSince: time.Now()})
	return err
}

// pause yields briefly between attempts, or ends with ctx.
func pause(ctx context.Context) error {
	tm := time.NewTimer(5 * time.Millisecond)
	defer tm.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-tm.C:
		return nil
	}
}

// reopen opens a second Store on the database under s, as a second node
// would, and closes it when t ends.
func reopen(t *testing.T, s Store) Store {
	t.Helper()
	var url string
	switch e := internals(t, s).engine.(type) {
	case *sqliteEngine:
		var seq int
		var name, file string
		if err := e.db.QueryRow("PRAGMA database_list").Scan(&seq, &name, &file); err != nil {
			t.Fatal(err)
		}
		url = "sqlite:" + file
	case *postgresEngine:
		url = e.pool.Config().ConnString()
	default:
		t.Fatalf("no second handle for engine %T", e)
	}
	return openTest(t, Config{URL: url, MaxConns: 4})
}
