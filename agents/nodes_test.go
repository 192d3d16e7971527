package agents

import (
	"context"
	"fmt"
	"log/slog"
	"path/filepath"
	"runtime"
	"sync"
	"testing"
	"time"

	"github.com/sambung/sambung/store"
)

// TestTwoNodesNeverOfferOneAgentTwice runs two ACDs, as two server nodes,
// on one SQLite file, with real Run loops. Each queues calls; every offer
// is answered, hung up and wrapped up at once. No agent may be offered a
// call while it holds another, every call must be answered, and Run must
// leave no goroutine behind.
func TestTwoNodesNeverOfferOneAgentTwice(t *testing.T) {
	path := filepath.Join(t.TempDir(), "sambung.db")
	stores := []*fixtureStore{{st: openStore(t, path)}, {st: openStore(t, path)}}
	before := runtime.NumGoroutine()

	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	runCtx, stop := context.WithCancel(ctx)
	var runs sync.WaitGroup
	cfg := Config{Queues: []QueueConfig{{Name: "q"}}, Poll: 5 * time.Millisecond}
	for i, fs := range stores {
		c := cfg
		c.Node = fmt.Sprintf("n%d", i)
		acd, err := New(c, fs.st, nil, slog.New(slog.NewTextHandler(t.Output(), &slog.HandlerOptions{Level: slog.LevelWarn})))
		if err != nil {
			t.Fatal(err)
		}
		fs.acd = acd
		runs.Go(func() {
			if err := acd.Run(runCtx); err != nil {
				t.Errorf("Run: %v", err)
			}
		})
	}
	for i := range 3 {
		user, err := stores[0].st.CreateUser(ctx, store.User{Name: fmt.Sprintf("agent%d", i), Role: store.RoleAgent, PasswordHash: "h"})
		if err != nil {
			t.Fatal(err)
		}
		u := user.ID
		if _, err := stores[0].acd.UpsertAgent(ctx, Agent{ID: u}); err != nil {
			t.Fatal(err)
		}
		if err := stores[0].acd.SetState(ctx, u, StateAvailable, "", fmt.Sprintf("agent%d", i)); err != nil {
			t.Fatal(err)
		}
	}

	var mu sync.Mutex
	busy := map[int64]string{}
	const perNode = 12
	var calls sync.WaitGroup
	for n, fs := range stores {
		for c := range perNode {
			callID := fmt.Sprintf("n%d-c%d", n, c)
			w, err := fs.acd.Enqueue(ctx, Contact{CallID: callID, Queue: "q"})
			if err != nil {
				t.Fatal(err)
			}
			calls.Go(func() {
				defer w.Close()
				if err := takeCall(ctx, fs.acd, w, &mu, busy); err != nil {
					t.Errorf("call %s: %v", callID, err)
				}
			})
		}
	}
	calls.Wait()
	stop()
	runs.Wait()

	qs, err := stores[1].acd.Queues(context.Background())
	if err != nil || qs[0].AnsweredToday != 2*perNode {
		t.Errorf("Queues after the run: %+v, %v; want %d answered", qs, err, 2*perNode)
	}
	// database/sql and the SQLite driver end a transaction's or a query's
	// context watcher just after the call returns, so a goroutine may still
	// be on its way out: give them a moment before calling it a leak.
	after := runtime.NumGoroutine()
	for deadline := time.Now().Add(5 * time.Second); after > before && time.Now().Before(deadline); after = runtime.NumGoroutine() {
		time.Sleep(10 * time.Millisecond)
	}
	if after > before {
		buf := make([]byte, 1<<20)
		t.Errorf("%d goroutines before the ACDs, %d after they stopped:\n%s", before, after, buf[:runtime.Stack(buf, true)])
	}
}

// takeCall waits for w's offer, checks that the agent holds no other call,
// and answers, hangs up and ends the wrap-up.
func takeCall(ctx context.Context, acd *ACD, w *Waiting, mu *sync.Mutex, busy map[int64]string) error {
	for {
		select {
		case <-ctx.Done():
			return fmt.Errorf("never offered: %w", ctx.Err())
		case e := <-w.Events():
			if e.Kind != EventOffered {
				continue
			}
			id, callID := e.Agent.ID, e.CallID
			mu.Lock()
			held, twice := busy[id]
			busy[id] = callID
			mu.Unlock()
			if twice {
				return fmt.Errorf("agent %d offered %s while it holds %s", id, callID, held)
			}
			if err := acd.Answer(ctx, id, callID); err != nil {
				return err
			}
			if err := acd.Hangup(ctx, id, callID); err != nil {
				return err
			}
			mu.Lock()
			delete(busy, id)
			mu.Unlock()
			return acd.FinishWrapUp(ctx, id)
		}
	}
}

// fixtureStore is one node's store and ACD.
type fixtureStore struct {
	st  store.Store
	acd *ACD
}
