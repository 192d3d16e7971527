package calls

import (
	"context"
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/sambung/sambung/asr"
	"github.com/sambung/sambung/ivr"
	"github.com/sambung/sambung/media"
	"github.com/sambung/sambung/store"
)

// Call is one call in progress: its leg, its RTP session, its recording and
// its timeline. Its goroutines end when the call ends.
type Call struct {
	ID      string
	sb      *Switchboard
	leg     Leg
	log     *slog.Logger
	started time.Time

	sess     *media.Session
	rec      *recorder
	answered bool
	// inputs carries the caller's DTMF to whatever runs the call.
	inputs chan ivr.Input

	playMu  sync.Mutex
	playing *sequence // what the flow is saying, until it ends or stops

	hearMu  sync.Mutex
	hearing *hearing // the recognition stream, while a flow listens
	// prosody follows the caller's voice against their own baseline,
	// across recognition streams.
	prosMu  sync.Mutex
	prosody asr.Prosody

	// contact is the call's contact context, once the IVR hands it on.
	contact atomic.Pointer[Contact]
	// connect brings an agent's browser leg to the call (the desk's
	// answer, or a new leg after the agent's page reloaded).
	connect chan agentConn
	// transfer carries the agent's transfer to the bridge (one at a time),
	// and transferred is the one it acted on, for the queue to follow.
	transfer    chan transferReq
	transferred transferReq
	// hangupCh carries the agent's hang-up to the bridge.
	hangupCh chan struct{}
	// bridgeMu guards the agent's leg of the moment, hold and the
	// supervisors on the call.
	bridgeMu sync.Mutex
	agentLeg agentMedia
	agentID  int64 // the agent's, while agentLeg is set
	// agentName and agentSince are who the agent is and since when they
	// talk with the caller, for the supervisors' floor.
	agentName  string
	agentSince time.Time
	held       bool
	// taps are the supervisors on the call (monitor.go), replaced whole
	// on every change so the forwarder reads them without the lock.
	taps []*tap
	// mix is what the agent said and what barging supervisors say, for
	// each other to hear.
	mix agentMix
	// consulting: the agent talks with a number they may transfer to; the
	// caller is on hold meanwhile.
	consulting bool
	// consultCh carries the agent's consult requests to the bridge.
	consultCh chan consultOp

	callbackState
	transcriptState
	pciState
	// flowSum is what the flow learnt, for the call's summary.
	flowSum flowSummary

	// app, when set, is what the call does once answered, in place of
	// the flow of the number dialled: a call we placed (a callback).
	app func() string

	// ctx is the call's context: cancelled when the call ends, capped by
	// MaxCallDuration.
	ctx    context.Context
	cancel context.CancelFunc

	finishOnce sync.Once
	wg         sync.WaitGroup
}

// newCallID makes a call id that sorts by time: "c" + unix ms (hex) + random.
func newCallID() string {
	b := make([]byte, 6)
	_, _ = rand.Read(b)
	return fmt.Sprintf("c%011x%x", time.Now().UnixMilli(), b)
}

func (sb *Switchboard) newCall(leg Leg) *Call {
	id := newCallID()
	if l, ok := leg.(interface{ setCallID(string) }); ok {
		l.setCallID(id) // a web leg tells its page
	}
	ctx, cancel := context.WithTimeout(sb.base, sb.cfg.MaxCallDuration)
	return &Call{
		ID: id, sb: sb, leg: leg, ctx: ctx, cancel: cancel, started: time.Now(),
		log:     sb.log.With("call_id", id),
		inputs:  make(chan ivr.Input, 32),
		connect: make(chan agentConn), hangupCh: make(chan struct{}, 1), transfer: make(chan transferReq, 1),
		consultCh: make(chan consultOp, 1),
	}
}

// event appends one entry to the call's timeline and passes it on. Timeline
// writes happen on the call's own goroutines, never on the packet path.
func (c *Call) event(kind string, data map[string]any) {
	raw, err := json.Marshal(data)
	if err != nil || data == nil {
		raw = nil
	}
	ctx, cancel := context.WithTimeout(context.WithoutCancel(c.ctx), 5*time.Second)
	defer cancel()
	e, err := c.sb.store.AppendCallEvent(ctx, store.CallEvent{CallID: c.ID, Kind: kind, Data: raw})
	if err != nil {
		c.log.Error("calls: timeline write failed", "kind", kind, "err", err)
		return
	}
	if c.sb.cfg.OnEvent != nil {
		c.sb.cfg.OnEvent(e)
	}
	if d := c.sb.desk; d != nil {
		d.alerts.callEvent(c, kind, data)
	}
}

func (c *Call) run() {
	leg, sb := c.leg, c.sb
	remote := leg.Remote()
	direction := store.Inbound
	if c.app != nil {
		direction = store.Outbound
	}
	if err := sb.store.CreateCall(c.ctx, store.Call{ID: c.ID, Direction: direction, From: leg.From(),
		To: leg.To(), Node: sb.cfg.Node}); err != nil {
		c.log.Error("calls: cannot store the call; refusing it", "err", err)
		_ = leg.Reject(503, "Service Unavailable")
		return
	}
	codecs := make([]string, len(remote.Codecs))
	for i, k := range remote.Codecs {
		codecs[i] = k.Name
	}
	c.event("call.offered", map[string]any{"from": leg.From(), "to": leg.To(), "signalling_id": leg.SignallingID(),
		"codecs": codecs, "dtmf": remote.DTMFPayloadType != 0, "remote": remote.Addr.String()})

	if len(remote.Codecs) == 0 {
		_ = leg.Reject(488, "Not Acceptable Here")
		c.finish("failed", errNoCodec.Error())
		return
	}
	codec := remote.Codecs[0]
	sess, err := media.NewSession(sb.cfg.Media, c.log)
	if err != nil {
		c.log.Error("calls: no RTP session", "err", err)
		_ = leg.Reject(503, "Service Unavailable")
		c.finish("failed", "no_media_ports")
		return
	}
	c.sess = sess
	sess.SetRemote(remote.Addr, codec, remote.DTMFPayloadType)
	sess.SetDirection(answerDirection(remote.Direction))
	if err := leg.Answer(c.ctx, sess.LocalAddr(), codec, remote.DTMFPayloadType); err != nil {
		c.log.Warn("calls: answer failed", "err", err)
		c.finish("failed", endReason(leg, "answer_failed"))
		return
	}
	c.answered = true
	if err := sb.store.AnswerCall(c.ctx, c.ID, time.Time{}); err != nil {
		c.log.Error("calls: cannot store the answer", "err", err)
	}
	c.event("call.answered", map[string]any{"codec": codec.Name, "local": sess.LocalAddr().String()})

	sess.Start(c.ctx)
	c.startRecording()
	c.goWatch(c.watchDTMF)
	c.goWatch(c.watchUpdates)

	appDone := make(chan string, 1)
	c.goWatch(func() { appDone <- c.runApp() })

	// The call's context ending (the longest call, the server's shutdown)
	// also ends the session, which runs on it: that is not a media fault.
	ended := func() (string, string) {
		if sb.base.Err() != nil {
			return "completed", "server_shutdown"
		}
		return "completed", "max_duration"
	}
	var outcome, reason string
	select {
	case <-leg.Done():
		outcome, reason = "completed", endReason(leg, "caller_bye")
	case <-sess.Done():
		outcome, reason = "failed", "media_timeout"
		if err := sess.Err(); c.ctx.Err() != nil {
			outcome, reason = ended()
		} else if err != nil && !errors.Is(err, media.ErrMediaTimeout) {
			reason = "media_error"
		}
	case reason = <-appDone:
		outcome = "completed"
	case <-c.ctx.Done():
		outcome, reason = ended()
	}
	c.finish(outcome, reason)
}

// goWatch runs fn on a goroutine the call owns and waits for at teardown.
func (c *Call) goWatch(fn func()) {
	c.wg.Add(1)
	go func() {
		defer c.wg.Done()
		defer func() {
			if v := recover(); v != nil {
				c.log.Error("calls: call goroutine panicked", "panic", v)
				c.cancel()
			}
		}()
		fn()
	}()
}

// finish ends the call once: BYE if we answered and the caller is still
// there, media and recording closed, the record and timeline completed.
// It runs on a context of its own, so the BYE and the records still go out
// after the call's context is gone.
func (c *Call) finish(outcome, reason string) {
	c.finishOnce.Do(func() {
		ctx, cancel := context.WithTimeout(context.WithoutCancel(c.ctx), c.sb.cfg.TeardownTimeout)
		defer cancel()
		hungUp := false
		select {
		case <-c.leg.Done():
		default:
			if c.answered {
				if err := c.leg.Hangup(ctx); err != nil {
					c.log.Warn("calls: hangup failed", "err", err)
				}
				hungUp = true
			}
		}
		c.cancel()
		if c.sess != nil {
			_ = c.sess.Close()
		}
		c.wg.Wait()
		data := map[string]any{"outcome": outcome, "reason": reason, "server_hangup": hungUp}
		if c.sess != nil {
			st := c.sess.Stats()
			data["rtp"] = map[string]any{"packets_received": st.PacketsReceived, "packets_sent": st.PacketsSent,
				"lost": st.Lost, "jitter_ms": st.JitterMs}
		}
		if c.rec != nil {
			c.rec.close(ctx)
		}
		c.event("call.ended", data)
		if err := c.sb.store.EndCall(ctx, c.ID, time.Time{}, outcome, reason); err != nil {
			c.log.Error("calls: cannot store the end of the call", "err", err)
		}
		c.storeSummary(ctx, outcome)
		c.log.Info("call ended", "outcome", outcome, "reason", reason)
	})
}

// watchDTMF puts each digit on the timeline and hands it to the call's logic.
func (c *Call) watchDTMF() {
	for {
		select {
		case <-c.ctx.Done():
			return
		case <-c.sess.KeyDown():
			// A key is being pressed: stop an interruptible prompt now, not
			// when the press ends 100 ms or more later.
			select {
			case c.inputs <- ivr.Input{KeyDown: true}:
			default:
			}
		case ev := <-c.sess.DTMF():
			if c.paused() {
				// Card details: the key reaches nothing and is kept nowhere (pci.go).
				c.event("dtmf", map[string]any{"masked": true, "duration_ms": ev.Duration.Milliseconds()})
				continue
			}
			// The digit goes to the application first, the timeline after:
			// a barge-in must not wait for a database write. No log names
			// the key: keys can be an account number or a PIN.
			select {
			case c.inputs <- ivr.Input{Digit: ev.Digit}:
			default:
				c.log.Warn("calls: a key was dropped: nobody is collecting")
			}
			c.event("dtmf", map[string]any{"digit": string(ev.Digit), "duration_ms": ev.Duration.Milliseconds()})
		}
	}
}

// watchUpdates applies re-INVITEs: hold, unhold, a new address.
func (c *Call) watchUpdates() {
	for {
		select {
		case <-c.ctx.Done():
			return
		case r, ok := <-c.leg.Updates():
			if !ok {
				return
			}
			codec := c.sessCodec(r)
			c.sess.SetRemote(r.Addr, codec, r.DTMFPayloadType)
			c.sess.SetDirection(answerDirection(r.Direction))
			kind := "call.unhold"
			if r.Direction != media.SendRecv {
				kind = "call.hold"
			}
			c.event(kind, map[string]any{"direction": string(r.Direction), "remote": r.Addr.String()})
		}
	}
}

func (c *Call) sessCodec(r RemoteMedia) media.Codec {
	if len(r.Codecs) > 0 {
		return r.Codecs[0]
	}
	return c.leg.Remote().Codecs[0]
}

// answerDirection is our direction for the caller's: when they only send,
// we only receive, and so on.
func answerDirection(d media.Direction) media.Direction {
	switch d {
	case media.SendOnly:
		return media.RecvOnly
	case media.RecvOnly:
		return media.SendOnly
	case media.Inactive:
		return media.Inactive
	}
	return media.SendRecv
}

func endReason(leg Leg, fallback string) string {
	if r := leg.EndReason(); r != "" {
		return r
	}
	return fallback
}
