package calls

import (
	"strings"
	"time"

	"github.com/sambung/sambung/media"
)

// A number with a flow (Config.Lines) runs it; the flow says the
// disclosure itself. Other numbers get the disclosure and then one of two
// built-in applications:
//   - "echo": the echo test; the caller hears themself, 20 ms later.
//   - anything else: the demo announcement, which collects digits up to '#'
//     and reads them back.
const echoNumber = "echo"

// Digit collection on the demo line.
const (
	maxDigits      = 20
	firstDigitWait = 10 * time.Second
	nextDigitWait  = 5 * time.Second
)

// runApp runs what the call is for and returns why it ended.
func (c *Call) runApp() string {
	if c.app != nil {
		return c.app()
	}
	if c.leg.To() != echoNumber && c.sb.cfg.Lines != nil {
		if f := c.sb.cfg.Lines.For(c.leg.To()); f != nil {
			return c.runFlow(f)
		}
	}
	// Every call begins by saying the caller is talking to an automated
	// assistant and that the call is recorded.
	if !c.play("disclosure") {
		return "caller_gone"
	}
	if c.leg.To() == echoNumber {
		return c.echo()
	}
	return c.announcement()
}

func (c *Call) announcement() string {
	if !c.play("demo-menu") {
		return "caller_gone"
	}
	digits, ok := c.gather(maxDigits, '#', firstDigitWait, nextDigitWait)
	if !ok {
		return "caller_gone"
	}
	c.event("digits", map[string]any{"digits": digits})
	if digits == "" {
		c.play("no-digits")
	} else {
		names := []string{"you-entered"}
		for _, d := range digits {
			names = append(names, digitPrompt(d))
		}
		c.play(names...)
	}
	c.play("goodbye")
	return "completed"
}

// echo plays back what the caller says until they hang up.
func (c *Call) echo() string {
	if !c.play("echo") {
		return "caller_gone"
	}
	sub := c.sess.Subscribe(8)
	defer sub.Unsubscribe()
	c.sess.Play(&echoSource{sub: sub})
	c.event("echo.started", nil)
	<-c.ctx.Done()
	return "caller_gone"
}

// echoSource sends back the audio of the last tick. The session's sender
// calls ReadFrame on its own goroutine each 20 ms; the receive is
// non-blocking, so a missing tick sends silence rather than stalling.
type echoSource struct {
	sub *media.Subscription
}

func (e *echoSource) ReadFrame(frame []int16) bool {
	select {
	case t, ok := <-e.sub.C():
		if !ok {
			return false
		}
		copy(frame, t.In[:])
	default:
		clear(frame)
	}
	return true
}

// play plays prompts one after another and waits for the last to end. It
// reports false if the call ended first.
func (c *Call) play(names ...string) bool {
	for _, name := range names {
		p := c.sb.prompts.get(name)
		if p == nil {
			c.log.Error("calls: no such prompt", "prompt", name)
			continue
		}
		c.event("prompt", map[string]any{"prompt": name, "duration_ms": p.Duration().Milliseconds()})
		done := make(chan struct{})
		c.sess.Play(&notifySource{src: p.Player(), done: done})
		select {
		case <-done:
		case <-c.ctx.Done():
			return false
		}
	}
	return true
}

// notifySource closes done when its source ends.
type notifySource struct {
	src    media.Source
	done   chan struct{}
	closed bool
}

func (n *notifySource) ReadFrame(frame []int16) bool {
	if n.src.ReadFrame(frame) {
		return true
	}
	if !n.closed {
		n.closed = true
		close(n.done)
	}
	return false
}

// gather collects DTMF digits until the terminator, maxLen digits, or a
// timeout (first for the first digit, next between digits). Digits pressed
// during the preceding prompts count. It returns the digits without the
// terminator, and false if the call ended.
func (c *Call) gather(maxLen int, term rune, first, next time.Duration) (string, bool) {
	var b strings.Builder
	timer := time.NewTimer(first)
	defer timer.Stop()
	for b.Len() < maxLen {
		select {
		case in := <-c.inputs:
			d := in.Digit
			if d == 0 {
				continue
			}
			if d == term {
				return b.String(), true
			}
			b.WriteRune(d)
			timer.Reset(next)
		case <-timer.C:
			return b.String(), true
		case <-c.ctx.Done():
			return b.String(), false
		}
	}
	return b.String(), true
}
