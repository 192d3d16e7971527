package agents

import (
	"context"
	"fmt"
	"path/filepath"
	"runtime"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/sambung/sambung/internal/testenv"
	"github.com/sambung/sambung/store"
)

// BenchmarkQueueToRing is the time from a call entering its queue
// (Enqueue) to its Waiting receiving EventOffered, with one agent free and
// the ACD's Run loop running, as in production (goal: under 50 ms). Each
// iteration then answers, hangs up and ends the wrap-up, untimed, so the
// agent is free again for the next call.
//
// The ring does not wait for Config.Poll: Enqueue wakes Run at once
// (poke). Poll is set to an hour here so that no poll lands inside a
// measured ring; in production (Poll 1 s) one occasionally does, and then
// the ring waits for that step to end, at worst one more step.
//
// What the figure is made of: Enqueue's write transaction (the entry and
// its skills), then one step of Run: ListAgents and OpenQueueEntries (two
// reads each) and ReserveAgent, one write transaction of about eight
// statements, which emits the offer. The store is nearly all of it; the
// ACD's own work, Run's wake-up and the event's delivery take a tenth of
// a millisecond or so. So the baseline, measured in the same run on the
// same store, is one store.SetAgentState of another agent: the smallest
// write the ring cannot do without, since an offer is at least the
// agent's row and its history changed in one transaction (ReserveAgent
// does that and more). x-store-write says how many such writes a ring
// costs. The store calls are also timed one by one, in the ACD's steps,
// and reported per ring (ms-enqueue, ms-reads, ms-reserve: means, as
// ns/op is; ms/ring is the median).
//
// It runs on SQLite, and on PostgreSQL when SAMBUNG_TEST_POSTGRES names a
// cluster (scripts/testpg.sh).
func BenchmarkQueueToRing(b *testing.B) {
	b.Run("sqlite", func(b *testing.B) {
		benchQueueToRing(b, openRingStore(b, "sqlite:"+filepath.Join(b.TempDir(), "sambung.db")))
	})
	b.Run("postgres", func(b *testing.B) {
		benchQueueToRing(b, openRingStore(b, testenv.Postgres(b)))
	})
}

func benchQueueToRing(b *testing.B, st store.Store) {
	r := newRingRig(b, st)
	ctx := context.Background()
	rings := make([]time.Duration, 0, b.N)
	writes := make([]time.Duration, 0, b.N)
	var calls storeTimes
	b.ReportAllocs()
	b.ResetTimer()
	for i := range b.N {
		b.StartTimer()
		d, err := r.ring(ctx, fmt.Sprintf("bench-%d", i))
		b.StopTimer()
		if err != nil {
			b.Fatal(err)
		}
		rings = append(rings, d)
		calls = calls.add(r.st.took())
		if err := r.free(ctx); err != nil {
			b.Fatal(err)
		}
		w, err := r.storeWrite(ctx)
		if err != nil {
			b.Fatal(err)
		}
		writes = append(writes, w)
	}
	ring, write := ringQuantile(rings, 0.5), ringQuantile(writes, 0.5)
	ms := func(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }
	b.ReportMetric(ms(ring), "ms/ring")
	b.ReportMetric(ms(ringQuantile(rings, 0.95)), "p95-ms/ring")
	b.ReportMetric(ms(write), "ms/store-write")
	b.ReportMetric(float64(ring)/float64(write), "x-store-write")
	n := time.Duration(b.N)
	b.ReportMetric(ms(calls.enqueue/n), "ms-enqueue/ring")
	b.ReportMetric(ms(calls.reads/n), "ms-reads/ring")
	b.ReportMetric(ms(calls.reserve/n), "ms-reserve/ring")
}

// TestQueueToRingWithoutPoll runs the benchmark's path with a real Run
// loop whose Poll never comes: each call queued must be offered to the
// free agent at once (Enqueue wakes Run), and the agent must be free again
// after answer, hang-up and wrap-up. It leaves no goroutine behind.
func TestQueueToRingWithoutPoll(t *testing.T) {
	// Registered first, so it runs last: after Run has stopped and the
	// store is closed, nothing of theirs may still run.
	before := runtime.NumGoroutine()
	t.Cleanup(func() {
		// database/sql ends a query's context watcher just after the call
		// returns: give those a moment before calling it a leak.
		after := runtime.NumGoroutine()
		for deadline := time.Now().Add(5 * time.Second); after > before && time.Now().Before(deadline); after = runtime.NumGoroutine() {
			time.Sleep(10 * time.Millisecond)
		}
		if after > before {
			buf := make([]byte, 1<<20)
			t.Errorf("%d goroutines before the ACD, %d after it stopped:\n%s", before, after, buf[:runtime.Stack(buf, true)])
		}
	})
	r := newRingRig(t, openRingStore(t, "sqlite:"+filepath.Join(t.TempDir(), "sambung.db")))
	ctx := context.Background()
	for i := range 3 {
		if _, err := r.ring(ctx, fmt.Sprintf("call-%d", i)); err != nil {
			t.Fatal(err)
		}
		if ag, err := r.acd.Agent(ctx, r.agent); err != nil || ag.State != StateRinging {
			t.Fatalf("after the offer the agent is %+v, %v; want ringing", ag, err)
		}
		if took := r.st.took(); took.enqueue == 0 || took.reads == 0 || took.reserve == 0 {
			t.Errorf("the ring's store calls were not all timed: %+v", took)
		}
		if err := r.free(ctx); err != nil {
			t.Fatal(err)
		}
		if ag, err := r.acd.Agent(ctx, r.agent); err != nil || ag.State != StateAvailable {
			t.Fatalf("after the wrap-up the agent is %+v, %v; want available", ag, err)
		}
	}
}

// openRingStore opens url for tb and closes it when tb ends.
func openRingStore(tb testing.TB, url string) store.Store {
	tb.Helper()
	st, err := store.Open(context.Background(), store.Config{URL: url, MaxConns: 4}, nil)
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { _ = st.Close() })
	return st
}

// ringRig is an ACD with its Run loop going, one agent who takes the
// calls and one who stays away (the baseline's writes go to that one).
type ringRig struct {
	acd   *ACD
	st    *stepStore
	agent int64
	other int64
	stop  func() // stops Run and waits for it; it may be called more than once
	// steps is how many steps Run has begun when the ACD is idle.
	steps int64
	// writes counts the baseline's writes.
	writes int
	// call is the call ringing, between ring and free.
	call *Waiting
}

// ringWait bounds waiting for an offer or a step; it bounds failure, it
// is not what is measured.
const ringWait = 10 * time.Second

func newRingRig(tb testing.TB, st store.Store) *ringRig {
	tb.Helper()
	ctx := context.Background()
	ss := &stepStore{Store: st, stepped: make(chan struct{}, 1)}
	acd, err := New(Config{Node: "bench", Queues: []QueueConfig{{Name: "support", Skills: []string{"queue:support"}}},
		Poll: time.Hour}, ss, nil, nil)
	if err != nil {
		tb.Fatal(err)
	}
	r := &ringRig{acd: acd, st: ss}
	for i, name := range []string{"ana", "budi"} {
		u, err := st.CreateUser(ctx, store.User{Name: name, DisplayName: name, Role: store.RoleAgent, PasswordHash: "h"})
		if err != nil {
			tb.Fatal(err)
		}
		if _, err := acd.UpsertAgent(ctx, Agent{ID: u.ID, Skills: []string{"queue:support"}}); err != nil {
			tb.Fatal(err)
		}
		state := StateAvailable
		if i == 1 {
			state, r.other = StateAway, u.ID
		} else {
			r.agent = u.ID
		}
		if err := acd.SetState(ctx, u.ID, state, "", name); err != nil {
			tb.Fatal(err)
		}
	}
	runCtx, cancel := context.WithCancel(ctx)
	var run sync.WaitGroup
	run.Go(func() {
		if err := acd.Run(runCtx); err != nil {
			tb.Errorf("Run: %v", err)
		}
	})
	var once sync.Once
	r.stop = func() { once.Do(func() { cancel(); run.Wait() }) }
	tb.Cleanup(r.stop)
	// Run steps once as it starts, and once more for the agent who went
	// available before it started.
	r.steps = 2
	if err := r.settle(); err != nil {
		tb.Fatal(err)
	}
	return r
}

// ring queues a call and waits for its offer, and says how long that
// took. The ACD must be idle. The call stays queued, ringing the agent,
// until free.
func (r *ringRig) ring(ctx context.Context, callID string) (time.Duration, error) {
	r.st.reset()
	start := time.Now()
	w, err := r.acd.Enqueue(ctx, Contact{CallID: callID, Queue: "support"})
	if err != nil {
		return 0, err
	}
	r.call = w
	timeout := time.NewTimer(ringWait)
	defer timeout.Stop()
	for {
		select {
		case e := <-w.Events():
			if e.Kind != EventOffered {
				continue
			}
			d := time.Since(start)
			if e.Agent == nil || e.Agent.ID != r.agent {
				return d, fmt.Errorf("call %s offered to %+v, want agent %d", callID, e.Agent, r.agent)
			}
			return d, nil
		case <-timeout.C:
			return 0, fmt.Errorf("call %s: no offer within %s though agent %d is free (Poll is an hour: did Enqueue not wake Run?)",
				callID, ringWait, r.agent)
		}
	}
}

// free answers the call ringing for the agent, hangs it up and ends the
// wrap-up, then waits until Run has taken both the offer's step and the
// wrap-up's: the ACD is idle again.
func (r *ringRig) free(ctx context.Context) error {
	w := r.call
	defer w.Close()
	if err := r.acd.Answer(ctx, r.agent, w.contact.CallID); err != nil {
		return err
	}
	if err := r.acd.Hangup(ctx, r.agent, w.contact.CallID); err != nil {
		return err
	}
	if err := r.acd.FinishWrapUp(ctx, r.agent); err != nil {
		return err
	}
	// One step for the queued call (Enqueue's wake), one for the agent
	// going available (FinishWrapUp's): Poll never comes.
	r.steps += 2
	return r.settle()
}

// storeWrite times the baseline: one agent state write, on the agent who
// stays away (away to away, with a new reason), so no routing sees it.
func (r *ringRig) storeWrite(ctx context.Context) (time.Duration, error) {
	r.writes++
	reason := fmt.Sprintf("break-%d", r.writes)
	start := time.Now()
	_, err := r.st.Store.SetAgentState(ctx, store.AgentStateChange{AgentID: r.other, From: store.AgentAway, To: store.AgentAway,
		Reason: reason, Actor: "bench", Node: "bench", At: time.Now()})
	return time.Since(start), err
}

// settle waits until Run has begun r.steps steps and ended the last,
// with no wake-up pending: the ACD is idle.
func (r *ringRig) settle() error {
	timeout := time.NewTimer(ringWait)
	defer timeout.Stop()
	for {
		for r.st.steps.Load() < r.steps {
			select {
			case <-r.st.stepped:
			case <-timeout.C:
				return fmt.Errorf("Run began %d steps, want %d", r.st.steps.Load(), r.steps)
			}
		}
		// A step holds stepMu to its end.
		r.acd.stepMu.Lock()
		pending := len(r.acd.wake) > 0
		r.acd.stepMu.Unlock()
		if !pending {
			return nil
		}
		r.steps++ // a wake-up the rig did not count: wait for its step too
	}
}

// stepStore is the store as the ACD sees it, counting Run's steps (each
// lists the agents once, and nothing else here does) and timing the store
// calls on the ring's path.
type stepStore struct {
	store.Store
	steps   atomic.Int64
	stepped chan struct{}

	mu    sync.Mutex
	times storeTimes
}

// storeTimes is time spent in the store, by the part of the ring it serves.
type storeTimes struct {
	enqueue time.Duration // CreateQueueEntry
	reads   time.Duration // ListAgents and OpenQueueEntries
	reserve time.Duration // ReserveAgent
}

func (t storeTimes) add(u storeTimes) storeTimes {
	return storeTimes{enqueue: t.enqueue + u.enqueue, reads: t.reads + u.reads, reserve: t.reserve + u.reserve}
}

// reset starts timing a new ring.
func (s *stepStore) reset() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.times = storeTimes{}
}

// took is the store time of the ring since reset, up to its reservation:
// reads after it (the step goes on after the offer) are not counted.
func (s *stepStore) took() storeTimes {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.times
}

// timed adds the time since start to the field f picks, unless the
// ring's reservation is already done.
func (s *stepStore) timed(start time.Time, f func(*storeTimes) *time.Duration) {
	d := time.Since(start)
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.times.reserve == 0 {
		*f(&s.times) += d
	}
}

func (s *stepStore) ListAgents(ctx context.Context) ([]store.Agent, error) {
	s.steps.Add(1)
	select {
	case s.stepped <- struct{}{}:
	default:
	}
	defer s.timed(time.Now(), func(t *storeTimes) *time.Duration { return &t.reads })
	return s.Store.ListAgents(ctx)
}

func (s *stepStore) OpenQueueEntries(ctx context.Context) ([]store.QueueEntry, error) {
	defer s.timed(time.Now(), func(t *storeTimes) *time.Duration { return &t.reads })
	return s.Store.OpenQueueEntries(ctx)
}

func (s *stepStore) CreateQueueEntry(ctx context.Context, e store.QueueEntry) (store.QueueEntry, error) {
	defer s.timed(time.Now(), func(t *storeTimes) *time.Duration { return &t.enqueue })
	return s.Store.CreateQueueEntry(ctx, e)
}

func (s *stepStore) ReserveAgent(ctx context.Context, entryID int64, node string, at time.Time) (store.Agent, error) {
	defer s.timed(time.Now(), func(t *storeTimes) *time.Duration { return &t.reserve })
	return s.Store.ReserveAgent(ctx, entryID, node, at)
}

// ringQuantile is the q-quantile of ds (nearest rank); it sorts ds.
func ringQuantile(ds []time.Duration, q float64) time.Duration {
	if len(ds) == 0 {
		return 0
	}
	slices.Sort(ds)
	return ds[min(len(ds)-1, int(q*float64(len(ds))))]
}
