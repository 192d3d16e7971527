package calls

import (
	"context"
	"errors"
	"time"

	"github.com/sambung/sambung/media"
)

// agentMedia is the agent's side of a bridged call: their browser's
// WebRTC leg (*webrtc.Leg), or their desk phone's call (phoneLeg).
type agentMedia interface {
	// ReadFrame gives what the agent says, for the caller to hear (the
	// caller's session plays it).
	ReadFrame(f []int16) bool
	// WriteFrame sends the agent what the caller says.
	WriteFrame(f []int16) error
	// Connected is closed once media flows.
	Connected() <-chan struct{}
	// Done is closed when the leg has ended; Err says why.
	Done() <-chan struct{}
	Err() error
	Close() error
}

// legGrace is how long a call waits for an agent whose browser leg failed
// (a network blip, a page reload) to come back with a new one. The caller
// hears music on hold meanwhile.
const legGrace = 20 * time.Second

// bridge connects the caller and the agent's browser leg until one of
// them hangs up: the agent hears what the caller sends, the caller hears
// the agent, and the recording keeps the caller on the left and what the
// caller heard (the agent) on the right.
func (c *Call) bridge(a agentConn, contact Contact) string {
	d := c.sb.desk
	id := a.agent.ID
	c.bridged.Store(true)
	// A hang-up or transfer left from the previous agent is not this one's.
	select {
	case <-c.hangupCh:
	default:
	}
	select {
	case <-c.transfer:
	default:
	}
	select {
	case <-c.consultCh:
	default:
	}
	c.bridgeMu.Lock()
	c.agentLeg, c.agentID, c.agentName, c.agentSince = a.leg, id, a.agent.Name, time.Now()
	c.bridgeMu.Unlock()

	connect := time.NewTimer(d.cfg.ConnectTimeout)
	select {
	case <-a.leg.Connected():
		connect.Stop()
	case <-connect.C:
		c.log.Warn("calls: the agent's media did not connect", "agent_id", id)
		return c.unbridge(id, "failed", "agent_media_failed")
	case <-c.ctx.Done():
		connect.Stop()
		return c.unbridge(id, "caller_hangup", "caller_gone")
	}
	connected := map[string]any{"agent_id": id, "agent": a.agent.Name}
	if l, ok := a.leg.(interface{ Codec() string }); ok {
		connected["codec"] = l.Codec() // the browser's: opus or PCMU
	}
	c.event("agent.connected", connected)
	d.send(id, map[string]any{"type": "call.connected", "call_id": c.deskID()})
	c.startTranscript()

	// The agent hears the caller: each tick's caller audio goes to the
	// browser leg of the moment (it changes after a reload).
	sub := c.sess.Subscribe(16)
	fwd := make(chan struct{})
	go func() {
		defer close(fwd)
		var hears media.Frame
		for tick := range sub.C() {
			c.bridgeMu.Lock()
			leg, held, consulting, taps := c.agentLeg, c.held, c.consulting, c.taps
			c.bridgeMu.Unlock()
			if held {
				clear(hears[:])
			} else {
				hears = tick.In
			}
			if len(taps) > 0 {
				c.monitorTick(&tick, taps, &hears)
			} else {
				c.mix.quiet()
			}
			if leg == nil || consulting {
				continue // in a consult the agent hears the number instead
			}
			_ = leg.WriteFrame(hears[:])
		}
	}()
	c.playAgent()

	reason, result := "", ""
	legDone := a.leg.Done() // nil while waiting for the agent's new leg
	var lost <-chan time.Time
	var k *consultation // a consult in progress
	for reason == "" {
		select {
		case op := <-c.consultCh:
			var done bool
			if k, done = c.consultOp(a.agent, k, op); done {
				reason, result = resultTransferred, resultTransferred
			}
		case r := <-k.dialled():
			k = c.consultDialled(id, k, r)
		case ev, ok := <-k.events():
			k = c.consultEvent(id, k, ev, ok)
		case <-k.answered():
			c.consultAnswered(id, k)
		case <-k.expired():
			c.backToCaller(id, k, "no_answer")
			k = nil
		case <-k.done():
			c.backToCaller(id, k, "hung_up")
			k = nil
		case <-c.ctx.Done():
			reason, result = "caller_hangup", "caller_gone"
		case <-c.hangupCh:
			if k != nil && k.leg != nil {
				// Hanging up while talking to the other side completes
				// the transfer, as an attended transfer does.
				k, _ = c.consultOp(a.agent, k, consultOp{op: "complete"})
				reason, result = resultTransferred, resultTransferred
				continue
			}
			reason, result = "agent_hangup", "agent_hangup"
		case tr := <-c.transfer:
			c.transferred = tr
			c.event("agent.transferred", map[string]any{"agent_id": id, "queue": tr.Queue, "to_agent": tr.ToAgent,
				"to_number": tr.ToNumber})
			reason, result = resultTransferred, resultTransferred
		case nl := <-c.connect:
			// The agent's page came back with a new leg.
			c.bridgeMu.Lock()
			old := c.agentLeg
			c.agentLeg = nl.leg
			c.bridgeMu.Unlock()
			if old != nil && old != nl.leg {
				_ = old.Close()
			}
			legDone, lost = nl.leg.Done(), nil
			c.playAgent()
			c.event("agent.reconnected", map[string]any{"agent_id": id})
		case <-legDone:
			c.bridgeMu.Lock()
			err := c.agentLeg.Err()
			_, phone := c.agentLeg.(*phoneLeg)
			c.bridgeMu.Unlock()
			if phone {
				// A desk phone that hangs up is the agent hanging up.
				reason, result = "agent_hangup", "agent_hangup"
				if k != nil && k.leg != nil {
					k, _ = c.consultOp(a.agent, k, consultOp{op: "complete"})
					reason, result = resultTransferred, resultTransferred
				}
				continue
			}
			c.log.Warn("calls: the agent's leg ended; waiting for it to come back", "agent_id", id, "err", err)
			c.event("agent.media_lost", map[string]any{"agent_id": id, "error": errText(err)})
			c.sess.Play(newLoop(c.sb.holdMusic))
			legDone, lost = nil, time.After(legGrace)
		case <-lost:
			reason, result = "failed", "agent_lost"
		}
	}
	if k != nil {
		c.endConsult(k, false, reason)
	}
	c.bridgeMu.Lock()
	c.consulting = false
	c.bridgeMu.Unlock()
	sub.Unsubscribe()
	<-fwd
	return c.unbridge(id, reason, result)
}

// playAgent makes the agent (or music, on hold) what the caller hears.
func (c *Call) playAgent() {
	c.bridgeMu.Lock()
	defer c.bridgeMu.Unlock()
	switch {
	case c.held || c.consulting:
		c.sess.Play(newLoop(c.sb.holdMusic))
	case c.agentLeg != nil:
		c.sess.Play(agentSource{c: c, leg: c.agentLeg})
	}
}

// unbridge ends the agent's part of the call: their leg closed, the ACD
// told (the agent goes to wrap-up), the page told why. result is what the
// call's application returns.
func (c *Call) unbridge(agentID int64, reason, result string) string {
	d := c.sb.desk
	c.bridgeMu.Lock()
	leg := c.agentLeg
	c.agentLeg, c.agentID = nil, 0
	c.bridgeMu.Unlock()
	c.dropTaps("agent_left")
	c.stopTranscript()
	c.endPCI("agent_left")
	if leg != nil {
		_ = leg.Close()
	}
	c.sess.Play(nil)
	ctx, cancel := context.WithTimeout(context.WithoutCancel(c.ctx), 5*time.Second)
	defer cancel()
	if err := d.acd.Hangup(ctx, agentID, c.deskID()); err != nil {
		c.log.Warn("calls: the ACD did not take the hang-up", "agent_id", agentID, "err", err)
	}
	c.event("agent.ended", map[string]any{"agent_id": agentID, "reason": reason})
	d.ended(agentID, c.deskID(), reason)
	if result == "agent_media_failed" || result == "agent_lost" {
		c.say(c.language(), queueTexts.unavailable)
	}
	return result
}

// language is the call's language as the IVR left it.
func (c *Call) language() string {
	if p := c.contact.Load(); p != nil && p.Language.Code != "" {
		return p.Language.Code
	}
	return "en"
}

func errText(err error) string {
	if err == nil {
		return ""
	}
	return err.Error()
}

// agentHangup asks the bridge to end the call from the agent's side.
func (c *Call) agentHangup() {
	select {
	case c.hangupCh <- struct{}{}:
	default: // one is on its way already
	}
}

// transferTo asks the bridge to transfer the call.
func (c *Call) transferTo(tr transferReq) error {
	select {
	case c.transfer <- tr:
		return nil
	default:
		return errors.New("a transfer of this call is already under way")
	}
}

// transferReq is an agent's transfer: where the call goes, and the skills
// the next agent must hold.
type transferReq struct {
	ContactTransfer
	skills []string
	leg    *phoneLeg  // a number already on the line (a consult)
	agent  *agentConn // an agent already on the line (a consult)
}

// setHeld puts the caller on hold (music; the agent hears silence) or
// takes them off it.
func (c *Call) setHeld(on bool) {
	c.bridgeMu.Lock()
	c.held = on
	c.bridgeMu.Unlock()
	c.playAgent()
	kind := "agent.unhold"
	if on {
		kind = "agent.hold"
	}
	c.event(kind, nil)
}

// sendKeys sends the agent's keys to the caller as RFC 4733 events.
func (c *Call) sendKeys(digits string) error {
	if err := c.sess.SendDTMF(digits, 0); err != nil {
		return err
	}
	c.event("agent.dtmf", map[string]any{"count": len(digits)})
	return nil
}
