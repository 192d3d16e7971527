package calls

import (
	"context"
	"sync"
	"time"

	"github.com/sambung/sambung/ivr"
	"github.com/sambung/sambung/media"
)

// The Call is the IVR's Channel: it plays what the flow says on the RTP
// session, stops it when the caller barges in, and feeds the caller's keys
// to the flow.

// Caller is the caller's number.
func (c *Call) Caller() string { return c.leg.From() }

// Inputs delivers the caller's keys (and, with a recognizer, speech).
func (c *Call) Inputs() <-chan ivr.Input { return c.inputs }

// Event appends an IVR event to the timeline. A survey's score is also
// the call's CSAT, which QA searches by.
func (c *Call) Event(kind string, data map[string]any) {
	c.event(kind, data)
	if score, ok := data["score"].(int); ok && kind == "ivr.survey" {
		if err := c.sb.store.SetCallCSAT(context.WithoutCancel(c.ctx), c.ID, score); err != nil {
			c.log.Warn("calls: the survey's score was not stored as the call's CSAT", "err", err)
		}
	}
}

// Play starts saying sp; the returned channel closes when it has been said
// or stopped.
func (c *Call) Play(sp ivr.Spoken) <-chan struct{} {
	src := &sequence{prompts: sp.Audio, done: make(chan struct{})}
	c.playMu.Lock()
	old := c.playing
	c.playing = src
	c.playMu.Unlock()
	if old != nil {
		old.end()
	}
	c.sess.Play(src)
	return src.done
}

// Stop stops what is playing: silence from the next 20 ms tick.
func (c *Call) Stop() {
	c.playMu.Lock()
	old := c.playing
	c.playing = nil
	c.playMu.Unlock()
	if old != nil {
		c.sess.Play(nil)
		old.end()
	}
}

// sequence plays prompts one after the other, then reports the end once.
type sequence struct {
	prompts []*media.Prompt
	player  *media.PromptPlayer
	done    chan struct{}
	once    sync.Once
}

func (s *sequence) ReadFrame(frame []int16) bool {
	for {
		if s.player == nil {
			if len(s.prompts) == 0 {
				s.end()
				clear(frame)
				return false
			}
			s.player, s.prompts = s.prompts[0].Player(), s.prompts[1:]
		}
		if s.player.ReadFrame(frame) {
			return true
		}
		s.player = nil
	}
}

func (s *sequence) end() { s.once.Do(func() { close(s.done) }) }

// runFlow runs flow f on the call and acts on how it ends. A queue ending
// goes to agents through the desk when the switchboard has one; the ways
// out that have no agents' side yet (transfer, callback, and a queue
// without a desk) are put on the timeline with the caller's context, and
// the caller is told before the call ends.
func (c *Call) runFlow(f *ivr.Flow) string {
	out := c.sb.cfg.IVR.Run(c.ctx, f, c)
	c.noteFlow(out)
	c.Stop()
	c.stopHearing()
	if c.ctx.Err() != nil {
		return "caller_gone"
	}
	c.event("ivr.context", map[string]any{"context": out.Context})
	switch {
	case out.Err != nil:
		c.log.Error("calls: the flow failed", "flow", f.Name, "step", out.Step, "err", out.Err)
		c.play("goodbye")
		return "flow_error"
	case out.Kind == ivr.KindHangup:
		return "completed"
	case out.Kind == ivr.KindQueue && c.sb.desk != nil:
		return c.queue(out)
	case out.Kind == ivr.KindQueue:
		c.event("call.queued", map[string]any{"queue": out.Queue.Name, "skills": out.Queue.Skills, "priority": out.Queue.Priority})
	case out.Kind == ivr.KindTransfer:
		c.event("call.transfer_requested", map[string]any{"to": out.Transfer})
	case out.Kind == ivr.KindCallback && c.sb.desk != nil && c.sb.cfg.Dialer != nil:
		return c.leaveCallback(out)
	case out.Kind == ivr.KindCallback:
		c.event("call.callback_requested", map[string]any{"number": c.leg.From()})
	case out.Kind == ivr.KindVoicemail:
		return c.voicemail()
	}
	c.play("goodbye")
	return "no_agents"
}

// voicemail takes a message: a beep, then the caller speaks until they
// press # or hang up, at most two minutes. The message is the stretch of
// the call's recording between the two timeline events.
func (c *Call) voicemail() string {
	beep := media.NewTone(media.ToneSpec{Freqs: []float64{1000}, Level: -12, Duration: 400 * time.Millisecond})
	done := make(chan struct{})
	c.sess.Play(&notifySource{src: beep, done: done})
	select {
	case <-done:
	case <-c.ctx.Done():
		return "caller_gone"
	}
	start := time.Now()
	c.event("voicemail.started", nil)
	t := time.NewTimer(2 * time.Minute)
	defer t.Stop()
	for {
		select {
		case in := <-c.inputs:
			if in.Digit != '#' {
				continue
			}
		case <-t.C:
		case <-c.ctx.Done():
		}
		c.event("voicemail.ended", map[string]any{"ms": time.Since(start).Milliseconds()})
		if c.ctx.Err() != nil {
			return "caller_gone"
		}
		c.play("goodbye")
		return "voicemail"
	}
}
