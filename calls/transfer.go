package calls

import "context"

// A blind transfer out of the building: once the agent has left, the
// caller is put through to a number.

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
