package calls

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/sambung/sambung/agents"
	"github.com/sambung/sambung/store"
)

// Blind transfers: the agent leaves (to wrap-up) and the caller goes back
// to a queue, to one agent, or out to a number.

// dialableNumber is a number an agent may transfer a call to.
var dialableNumber = regexp.MustCompile(`^\+?[0-9*#]{2,32}$`)

// transfer sends the agent's call to a queue, to one agent through the
// queue the call is in, or out to a number (transferOut). The caller hears
// that they are being transferred; the contact context goes with them; the
// agent goes to wrap-up. An agent who is offline cannot be given a call.
func (d *Desk) transfer(ctx context.Context, ag agents.Agent, callID, queue, to, number string) error {
	t, err := d.liveTalk(ag.ID, callID)
	if err != nil {
		return err
	}
	if err := d.notInConsult(t); err != nil {
		return err
	}
	contact := t.call.contact.Load()
	if contact == nil || t.call.app != nil {
		return errors.New("only a call that came through a queue can be transferred")
	}
	tr := transferReq{ContactTransfer: ContactTransfer{From: ag.Name, At: time.Now().UTC()}}
	given := 0
	for _, s := range []string{queue, to, number} {
		if s != "" {
			given++
		}
	}
	switch {
	case given > 1:
		return errors.New("transfer to one of a queue, an agent or a number")
	case number != "":
		if d.sb.cfg.Dialer == nil {
			return errors.New("this server places no calls: it cannot transfer to a number")
		}
		if !dialableNumber.MatchString(number) {
			return fmt.Errorf("%q is not a number: digits, with + * # allowed", number)
		}
		tr.ToNumber = number
	case to != "":
		target, err := d.agentNamed(ctx, to, ag.ID)
		if err != nil {
			return err
		}
		tr.Queue, tr.ToAgent, tr.skills = contact.Queue, target.Name, []string{store.AgentSkill(target.ID)}
	case queue != "":
		if !slices.Contains(d.acd.QueueNames(), queue) {
			return fmt.Errorf("there is no queue %q (queues: %s)", queue, strings.Join(d.acd.QueueNames(), ", "))
		}
		// The caller's language still counts; what the call was about is
		// the new queue's to say.
		tr.Queue = queue
		for _, sk := range contact.Skills {
			if strings.HasPrefix(sk, "language:") {
				tr.skills = append(tr.skills, sk)
			}
		}
	default:
		return errors.New("say where to: a queue, an agent or a number")
	}
	return t.call.transferTo(tr)
}

// transferOut puts the caller through to number (dialled now, or already
// on the line after a consult) and stays until one of them hangs up. It
// returns "" when the number did not answer.
func (c *Call) transferOut(contact Contact, number string, consulted *phoneLeg) string {
	c.setContact(contact)
	c.storeContact()
	leg, err := consulted, error(nil)
	if leg == nil {
		ctx, cancel := context.WithTimeout(c.ctx, callbackRing)
		leg, err = c.sb.desk.dialPhone(ctx, number)
		cancel()
	}
	if err != nil {
		c.log.Info("calls: the transfer's number did not take the call", "number", number, "err", err)
		c.event("call.transfer_failed", map[string]any{"number": number, "error": err.Error()})
		return ""
	}
	defer leg.Close()
	c.event("call.transferred_out", map[string]any{"number": number})
	sub := c.sess.Subscribe(16)
	fwd := make(chan struct{})
	go func() {
		defer close(fwd)
		for tick := range sub.C() {
			_ = leg.WriteFrame(tick.In[:])
		}
	}()
	c.sess.Play(leg)
	result := "transferred_out"
	select {
	case <-leg.Done():
	case <-c.ctx.Done():
		result = "caller_gone"
	}
	c.sess.Play(nil)
	sub.Unsubscribe()
	<-fwd
	by := "number"
	if result == "caller_gone" {
		by = "caller"
	}
	c.event("call.transfer_ended", map[string]any{"number": number, "by": by})
	return result
}
