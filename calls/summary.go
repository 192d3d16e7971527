package calls

import (
	"context"

	"github.com/sambung/sambung/ivr"
	"github.com/sambung/sambung/store"
)

// The call's summary is what QA searches calls by (store.CallSummary):
// where it queued, what the caller wanted and in which language, how they
// felt, and whether the IVR resolved it, an agent took it, or the caller
// gave up waiting. It is written once, when the call ends.

// flowSummary is what the flow learnt, kept for the summary. The flow's
// goroutine sets it; finish reads it after that goroutine has ended.
type flowSummary struct {
	ran      bool
	hungUp   bool // the flow ended the call itself: the IVR resolved it
	language string
	intent   string
	mood     *float64 // nil: the caller said nothing the flow scored
	angry    bool
}

// noteFlow keeps what the flow that ran on the call learnt.
func (c *Call) noteFlow(out ivr.Outcome) {
	cx := out.Context
	s := flowSummary{ran: true, hungUp: out.Err == nil && out.Kind == ivr.KindHangup}
	if cx != nil {
		s.language, s.intent, s.angry = cx.Language, cx.Intent, cx.Mood.Angry > 0
		if cx.Mood.Utterances > 0 {
			score := cx.Mood.Score
			s.mood = &score
		}
	}
	c.flowSum = s
}

// summary is the call's summary as it ends, with outcome.
func (c *Call) summary(outcome string) store.CallSummary {
	f := c.flowSum
	s := store.CallSummary{Language: f.language, Intent: f.intent, Sentiment: f.mood, Angry: f.angry}
	p := c.contact.Load()
	if p != nil {
		s.Queue, s.Language = p.Queue, p.Language.Code
		if p.Intent != nil {
			s.Intent = p.Intent.Name
		}
		m := c.sentiment()
		if len(m.Trend) > 0 {
			score := max(-1, min(1, m.Score))
			s.Sentiment = &score
		}
		s.Angry = s.Angry || m.Angry
	}
	switch {
	case c.bridged.Load():
		s.Resolution = store.ResolutionAgent
	case p != nil && outcome == "completed":
		s.Resolution = store.ResolutionAbandoned
	case p == nil && f.hungUp:
		s.Resolution = store.ResolutionIVR
	}
	return s
}

// storeSummary writes the call's summary on its record.
func (c *Call) storeSummary(ctx context.Context, outcome string) {
	if err := c.sb.store.SetCallSummary(ctx, c.ID, c.summary(outcome)); err != nil {
		c.log.Error("calls: the call's summary was not stored", "err", err)
	}
}
