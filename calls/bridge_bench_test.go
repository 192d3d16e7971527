//go:build unix

package calls

import (
	"context"
	"encoding/json"
	"log/slog"
	"net/netip"
	"os"
	"path/filepath"
	"runtime"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/sambung/sambung/agents"
	"github.com/sambung/sambung/ivr"
	"github.com/sambung/sambung/media"
	"github.com/sambung/sambung/media/webrtc"
	"github.com/sambung/sambung/store"
)

// BenchmarkBridgedCall is the media cost of a call bridged to an agent's
// browser, per 20 ms tick: the CPU time (user and system) the whole server
// process spends while the call runs, divided by the ticks. An op is one
// tick of the bridged call.
//
// The baseline, measured in the same run on the same switchboard, is a
// call with no bridge: an IVR call playing a prompt (unbridged-cpu-µs/tick).
// Both calls are real: a switchboard with its desk and ACD on SQLite, an
// RTP session per call, the recording written. The bridged one went
// through the queue to the agent's softphone session (Desk.Open, "answer"
// with the browser's SDP offer), so it runs the code of production: the
// caller's ticks forwarded to the agent's pion leg (WriteFrame: PCMU,
// SRTP, sendto), the leg's reader (SRTP, jitter buffer) played to the
// caller each tick. x-unbridged is the ratio of the two.
//
// The peers (a bare UDP socket as the caller, sending a 440 Hz tone, and a
// pion leg as the browser, sending 1 kHz) run in a child process, this
// test binary run again, so the process measured holds the server alone:
// the browser's own pion leg costs about as much as the server's, and in
// the same process it would be counted as the bridge's. The child checks
// that the bridge carries the tones both ways. ACD steps (Poll is an hour;
// nothing routes while measuring) and page messages stay out of the
// measured windows, which open after a half-second warm-up.
//
// The figures are for one call on an idle server, where every packet and
// tick wakes a sleeping thread: ctxsw/tick counts the context switches.
//
// Run it with a count of ticks, e.g. -benchtime=500x (10 s of each call).
func BenchmarkBridgedCall(b *testing.B) {
	if os.Getenv(bridgePeersEnv) == "1" {
		runBridgePeers(b)
		return
	}
	if testing.Short() {
		b.Skip("starts a WebRTC peer and a caller in a second process; skipped under -short")
	}
	before := runtime.NumGoroutine()
	r := newBridgeRig(b)

	// What the process spends with no call: its loops, the runtime.
	idle := r.measure(b, nil)

	// The baseline: an IVR call playing a long prompt.
	ivrCall := r.call(b, "ivr")
	r.waitEvent(b, "ivr.prompt")
	r.warmUp(b, ivrCall)
	unbridged := r.measure(b, ivrCall)
	ivrCall.leg.end("caller_bye")
	<-ivrCall.ended

	// The bridged call: queued, offered, answered by the page.
	r.page.send(b, map[string]any{"type": "state", "state": "available"})
	r.page.next(b, "agent.state")
	call := r.call(b, "support")
	offer := r.page.next(b, "offer")
	callID, _ := offer["call_id"].(string)
	// The browser's leg is made now: one left waiting through the
	// baseline would time out.
	r.peers.send(b, bridgePeerMsg{WantOffer: true})
	sdpOffer := r.peers.recv(b).Offer
	if sdpOffer == "" {
		b.Fatal("the peers sent no SDP offer")
	}
	r.page.send(b, map[string]any{"type": "answer", "call_id": callID, "sdp": sdpOffer})
	answer := r.page.next(b, "call.sdp")
	sdp, _ := answer["sdp"].(string)
	r.peers.send(b, bridgePeerMsg{Answer: sdp})
	r.page.next(b, "call.connected")
	r.warmUp(b, call)
	b.ReportAllocs()
	b.ResetTimer()
	bridged := r.measure(b, call)
	b.StopTimer()

	heard := r.peers.stop(b)
	// The bridge carried the tones both ways, through most of the warm-up
	// and the window: a bridge that carried nothing would cost little.
	if want := int64(warmUpTicks+b.N) / 2; heard.CallerHeardAgent < want || heard.AgentHeardCaller < want {
		b.Fatalf("the bridge did not carry audio: the caller heard the agent's 1 kHz in %d frames, the agent the caller's 440 Hz in %d",
			heard.CallerHeardAgent, heard.AgentHeardCaller)
	}
	r.page.send(b, map[string]any{"type": "hangup", "call_id": callID})
	r.page.next(b, "call.ended")
	select {
	case <-call.ended:
	case <-time.After(bridgeWait):
		b.Fatal("the bridged call did not end after the agent hung up")
	}
	r.close(b)
	waitGoroutinesGone(b, before)

	n := float64(b.N)
	us := func(u usage) float64 { return float64(u.cpu) / float64(time.Microsecond) / n }
	b.ReportMetric(us(bridged), "cpu-µs/tick")
	b.ReportMetric(us(unbridged), "unbridged-cpu-µs/tick")
	b.ReportMetric(float64(bridged.cpu)/float64(unbridged.cpu), "x-unbridged")
	b.ReportMetric(us(idle), "idle-cpu-µs/tick")
	b.ReportMetric(float64(unbridged.allocs)/n, "unbridged-allocs/tick")
	b.ReportMetric(float64(bridged.switches)/n, "ctxsw/tick")
	b.ReportMetric(float64(unbridged.switches)/n, "unbridged-ctxsw/tick")
}

// bridgePeersEnv, set to 1, makes BenchmarkBridgedCall the peers' process.
const bridgePeersEnv = "SAMBUNG_BENCH_BRIDGE_PEERS"

// warmUpTicks is how long a call runs before it is measured, its jitter
// buffers filled.
const warmUpTicks = 25

// bridgeWait bounds waiting for what happens in well under a second on an
// idle machine; it bounds failure, it is not what is measured.
const bridgeWait = 20 * time.Second

// The calls: "ivr" plays a 30 s prompt and waits for a key, again and
// again; "support" queues.
const (
	benchIVRFlow = `
name: ivr
languages: [en]
variables: {key: ""}
start: menu
steps:
  menu:
    gather: {prompt: {en: "a long menu"}, max_digits: 1, into: key, first_digit_timeout: 30s}
    next: menu
`
	benchQueueFlow = `
name: support
languages: [en]
start: q
steps:
  q: {queue: {name: support}}
`
)

// bridgeRig is a switchboard with its desk and ACD running, an agent's
// page open, and the peers' process started.
type bridgeRig struct {
	sb     *Switchboard
	page   *benchPage
	peers  *bridgePeers
	caller netip.AddrPort // the peers' RTP socket
	events chan string    // timeline event kinds
	stop   func()
}

func newBridgeRig(b *testing.B) *bridgeRig {
	b.Helper()
	log := slog.New(slog.DiscardHandler)
	dir := b.TempDir()
	ctx := context.Background()
	st, err := store.Open(ctx, store.Config{DataDir: dir}, log)
	if err != nil {
		b.Fatal(err)
	}
	acd, err := agents.New(agents.Config{Node: "bench", Queues: []agents.QueueConfig{{Name: "support"}}, Poll: time.Hour}, st, nil, log)
	if err != nil {
		_ = st.Close()
		b.Fatal(err)
	}
	r := &bridgeRig{events: make(chan string, 256)}
	lines := &ivr.Lines{}
	lines.Set(map[string]*ivr.Flow{"ivr": parseFlow(b, benchIVRFlow), "support": parseFlow(b, benchQueueFlow)}, nil)
	r.sb, err = NewSwitchboard(Config{
		Node:          "bench",
		Media:         media.SessionConfig{BindIP: netip.MustParseAddr("127.0.0.1")},
		RecordingsDir: filepath.Join(dir, "recordings"),
		Lines:         lines, IVR: &ivr.Runtime{Voice: toneVoice{}},
		OnEvent: func(e store.CallEvent) {
			select {
			case r.events <- e.Kind:
			default:
			}
		},
		Desk: &DeskConfig{ACD: acd, WebRTC: webrtc.Config{LoopbackOnly: true}},
	}, st, log)
	if err != nil {
		_ = st.Close()
		b.Fatal(err)
	}
	runCtx, cancel := context.WithCancel(ctx)
	var runs sync.WaitGroup
	runs.Go(func() { _ = acd.Run(runCtx) })
	runs.Go(func() { r.sb.Desk().Run(runCtx) })
	var once sync.Once
	r.stop = func() {
		once.Do(func() {
			// Calls a failed benchmark left behind end here.
			r.sb.Shutdown()
			wctx, wcancel := context.WithTimeout(ctx, bridgeWait)
			_ = r.sb.Wait(wctx)
			wcancel()
			cancel()
			runs.Wait()
			if r.page != nil {
				r.page.s.Close()
			}
			_ = st.Close()
		})
	}
	b.Cleanup(r.stop)

	u, err := st.CreateUser(ctx, store.User{Name: "ana", DisplayName: "Ana", Role: store.RoleAgent, PasswordHash: "x"})
	if err != nil {
		b.Fatal(err)
	}
	s, err := r.sb.Desk().Open(ctx, u)
	if err != nil {
		b.Fatal(err)
	}
	r.page = &benchPage{s: s}
	r.page.next(b, "hello")

	r.peers = startBridgePeers(b)
	m := r.peers.recv(b)
	if r.caller, err = netip.ParseAddrPort(m.Caller); err != nil {
		b.Fatalf("the peers' first message: %+v (%v)", m, err)
	}
	return r
}

// close ends the peers' process and then the switchboard's loops and
// store, once the calls have ended. It may be called more than once.
func (r *bridgeRig) close(b *testing.B) {
	r.peers.close(b)
	if n := r.sb.Active(); n != 0 {
		b.Errorf("%d calls still in progress", n)
	}
	r.stop()
}

// benchCall is one call to the switchboard from the peers' caller socket.
type benchCall struct {
	leg   *fakeLeg
	ended chan struct{}
}

// call places a call to number and points the peers' caller at it.
func (r *bridgeRig) call(b *testing.B, number string) *benchCall {
	b.Helper()
	c := &benchCall{ended: make(chan struct{}),
		leg: &fakeLeg{to: number, answered: make(chan netip.AddrPort, 1), done: make(chan struct{}), updates: make(chan RemoteMedia),
			remote: RemoteMedia{Addr: r.caller, Codecs: []media.Codec{media.PCMU}, DTMFPayloadType: 101, Direction: media.SendRecv}}}
	go func() { defer close(c.ended); r.sb.HandleInbound(c.leg) }()
	select {
	case server := <-c.leg.answered:
		r.peers.send(b, bridgePeerMsg{Server: server.String()})
	case <-c.ended:
		b.Fatalf("the call to %s ended before it was answered", number)
	case <-time.After(bridgeWait):
		b.Fatalf("the call to %s was not answered", number)
	}
	return c
}

// waitEvent waits for a timeline event of kind, from any call.
func (r *bridgeRig) waitEvent(b *testing.B, kind string) {
	b.Helper()
	timeout := time.After(bridgeWait)
	for {
		select {
		case k := <-r.events:
			if k == kind {
				return
			}
		case <-timeout:
			b.Fatalf("no %s event", kind)
		}
	}
}

// warmUp lets c run warmUpTicks ticks.
func (r *bridgeRig) warmUp(b *testing.B, c *benchCall) {
	b.Helper()
	r.wait(b, c, warmUpTicks)
}

// wait lets c (nil: no call) run for ticks 20 ms ticks, failing if it
// ends meanwhile.
func (r *bridgeRig) wait(b *testing.B, c *benchCall, ticks int) {
	b.Helper()
	var ended chan struct{}
	if c != nil {
		ended = c.ended
	}
	t := time.NewTimer(time.Duration(ticks) * media.FrameDuration)
	defer t.Stop()
	select {
	case <-t.C:
	case <-ended:
		b.Fatal("the call ended while it was measured")
	}
}

// usage is what the process spent in a window.
type usage struct {
	cpu      time.Duration // user and system time
	switches int64         // context switches, voluntary or not
	allocs   uint64
}

// measure lets c (nil: no call) run b.N ticks and returns what the whole
// process spent meanwhile.
func (r *bridgeRig) measure(b *testing.B, c *benchCall) usage {
	b.Helper()
	var m0, m1 runtime.MemStats
	runtime.ReadMemStats(&m0)
	u0 := processUsage(b)
	r.wait(b, c, b.N)
	u1 := processUsage(b)
	runtime.ReadMemStats(&m1)
	return usage{cpu: u1.cpu - u0.cpu, switches: u1.switches - u0.switches, allocs: m1.Mallocs - m0.Mallocs}
}

// processUsage is the CPU time and context switches of the process so far.
func processUsage(b *testing.B) usage {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		b.Fatal(err)
	}
	return usage{cpu: time.Duration(ru.Utime.Nano() + ru.Stime.Nano()), switches: int64(ru.Nvcsw + ru.Nivcsw)}
}

func parseFlow(b *testing.B, src string) *ivr.Flow {
	b.Helper()
	f, diags := ivr.Parse("bench.yaml", []byte(src))
	if diags.HasErrors() {
		b.Fatalf("flow:\n%v", diags)
	}
	return f
}

// benchPage is the agent's softphone session, as the benchmark drives it.
type benchPage struct{ s *DeskSession }

func (p *benchPage) send(b *testing.B, m map[string]any) {
	b.Helper()
	raw, err := json.Marshal(m)
	if err != nil {
		b.Fatal(err)
	}
	p.s.Handle(context.Background(), raw)
}

// next returns the next message of type typ, skipping others.
func (p *benchPage) next(b *testing.B, typ string) map[string]any {
	b.Helper()
	timeout := time.After(bridgeWait)
	for {
		select {
		case raw, ok := <-p.s.Out():
			if !ok {
				b.Fatalf("the session ended waiting for %s", typ)
			}
			var m map[string]any
			if err := json.Unmarshal(raw, &m); err != nil {
				b.Fatalf("not JSON: %s", raw)
			}
			if m["type"] == "error" {
				b.Fatalf("desk error waiting for %s: %v", typ, m)
			}
			if m["type"] == typ {
				return m
			}
		case <-timeout:
			b.Fatalf("no %s message within %s", typ, bridgeWait)
		}
	}
}

// waitGoroutinesGone fails b if more goroutines run than before, once the
// last of the calls' have had a moment to end.
func waitGoroutinesGone(b *testing.B, before int) {
	b.Helper()
	n := runtime.NumGoroutine()
	for deadline := time.Now().Add(bridgeWait); n > before && time.Now().Before(deadline); n = runtime.NumGoroutine() {
		time.Sleep(20 * time.Millisecond)
	}
	if n > before {
		buf := make([]byte, 1<<20)
		b.Errorf("goroutines: %d before the calls, %d after\n%s", before, n, buf[:runtime.Stack(buf, true)])
	}
}
