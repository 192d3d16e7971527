package calls

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/sambung/sambung/media"
)

// A warm transfer: the agent puts the caller on hold and calls a number
// (the consult); they talk; then the agent completes the transfer (the
// caller is put through to the number, the agent wraps up) or goes back
// to the caller. The number hanging up during the consult is going back.

// consultOp is what the agent's page asks of a consult.
type consultOp struct {
	op     string // "start", "complete" or "cancel"
	number string // for start
}

// consultation is a consult in progress, kept by the bridge's goroutine.
type consultation struct {
	number string
	cancel context.CancelFunc // stops the dialling
	leg    *phoneLeg          // once answered
	ready  chan consultDialled
	stop   chan struct{} // stops the pump
	pumped chan struct{} // closed when the pump has stopped
}

// consultDialled is the dialling's outcome.
type consultDialled struct {
	leg *phoneLeg
	err error
}

// askConsult hands a consult request to the bridge.
func (c *Call) askConsult(op consultOp) error {
	select {
	case c.consultCh <- op:
		return nil
	default:
		return errors.New("a consult request is already on its way")
	}
}

// consult is the desk's side: checks, then the bridge acts.
func (d *Desk) consult(id int64, callID, op, number string) error {
	t, err := d.liveTalk(id, callID)
	if err != nil {
		return err
	}
	if t.call.app != nil {
		return errors.New("only a call that came through a queue can be transferred")
	}
	if op == "start" {
		if d.sb.cfg.Dialer == nil {
			return errors.New("this server places no calls: it cannot consult a number")
		}
		number = strings.Map(func(r rune) rune {
			if strings.ContainsRune(" ().-", r) {
				return -1
			}
			return r
		}, number)
		if !dialableNumber.MatchString(number) {
			return fmt.Errorf("%q is not a number: digits, with + * # allowed", number)
		}
	}
	return t.call.askConsult(consultOp{op: op, number: number})
}

// startConsult puts the caller on hold and dials the number, in the
// background: its outcome comes on the consultation's ready.
func (c *Call) startConsult(agentID int64, number string) *consultation {
	ctx, cancel := context.WithTimeout(c.ctx, callbackRing)
	k := &consultation{number: number, cancel: cancel, ready: make(chan consultDialled, 1)}
	c.bridgeMu.Lock()
	c.consulting = true
	c.bridgeMu.Unlock()
	c.playAgent()
	c.event("agent.consult_started", map[string]any{"agent_id": agentID, "number": number})
	c.sb.desk.send(agentID, map[string]any{"type": "consult.state", "call_id": c.deskID(), "state": "dialling", "number": number})
	go func() {
		leg, err := c.sb.desk.dialPhone(ctx, number)
		k.ready <- consultDialled{leg: leg, err: err}
	}()
	return k
}

// talk connects the agent with the number answered: a pump, every 20 ms,
// takes what each says to the other.
func (k *consultation) talk(agent agentMedia, leg *phoneLeg) {
	k.leg = leg
	k.stop, k.pumped = make(chan struct{}), make(chan struct{})
	go func() {
		defer close(k.pumped)
		tick := time.NewTicker(media.FrameDuration)
		defer tick.Stop()
		var f media.Frame
		for {
			select {
			case <-k.stop:
				return
			case <-tick.C:
				agent.ReadFrame(f[:])
				_ = leg.WriteFrame(f[:])
				leg.ReadFrame(f[:])
				_ = agent.WriteFrame(f[:])
			}
		}
	}()
}

// done is closed when the consulted number hangs up; nil while dialling.
func (k *consultation) done() <-chan struct{} {
	if k.leg == nil {
		return nil
	}
	return k.leg.Done()
}

// end stops the consult; with keep, the number's leg is left open (the
// transfer completes to it) and returned.
func (k *consultation) end(keep bool) *phoneLeg {
	k.cancel()
	if k.stop != nil {
		close(k.stop)
		<-k.pumped
	}
	leg := k.leg
	if leg == nil {
		// Still dialling: its outcome, if any, is dropped.
		go func() {
			if r := <-k.ready; r.leg != nil {
				_ = r.leg.Close()
			}
		}()
		return nil
	}
	if !keep {
		_ = leg.Close()
		return nil
	}
	return leg
}

// backToCaller ends a consult and puts the agent and the caller together
// again.
func (c *Call) backToCaller(agentID int64, k *consultation, why string) {
	k.end(false)
	c.bridgeMu.Lock()
	c.consulting = false
	c.bridgeMu.Unlock()
	c.playAgent()
	c.event("agent.consult_ended", map[string]any{"agent_id": agentID, "number": k.number, "reason": why})
	c.sb.desk.send(agentID, map[string]any{"type": "consult.state", "call_id": c.deskID(), "state": "ended", "reason": why})
}
