package calls

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/netip"
	"sync"
	"sync/atomic"
	"time"

	"github.com/sambung/sambung/agents"
	"github.com/sambung/sambung/ivr"
	"github.com/sambung/sambung/media"
	"github.com/sambung/sambung/media/webrtc"
)

// Dialer places outbound calls: the calls back that queued callers asked
// for. cmd adapts the SIP server's Dial to it, so calls never imports sip.
type Dialer interface {
	// Dial calls number (a caller's number, or a SIP URI: an agent's desk
	// phone), offering our media at local (PCMU, with RFC 4733 at payload
	// type dtmf), and returns once the callee has answered. It fails with
	// ErrNoAnswer or ErrBusy when they do not, or with ctx's error.
	Dial(ctx context.Context, number string, local netip.AddrPort, dtmf uint8) (Dialled, error)
}

// Dialled is an answered outbound call, as the Dialer returns it.
type Dialled interface {
	SignallingID() string
	// Remote is the callee's media, from their answer.
	Remote() RemoteMedia
	Hangup(ctx context.Context) error
	Done() <-chan struct{}
	EndReason() string
	Updates() <-chan RemoteMedia
}

// Why a Dialer's call was not answered.
var (
	ErrNoAnswer = errors.New("no answer")
	ErrBusy     = errors.New("busy")
)

// callbackRing is how long a call back rings the customer.
const callbackRing = 25 * time.Second

// dialLeg is a call we place, as the Leg a Call runs: its Answer is the
// dialling (with the call's media ready), and the callee's answer reaches
// the call's session as the first media update.
type dialLeg struct {
	dialer Dialer
	from   string
	number string

	updates chan RemoteMedia
	done    chan struct{}
	once    sync.Once

	mu     sync.Mutex
	out    Dialled
	reason string
}

func newDialLeg(d Dialer, from, number string) *dialLeg {
	return &dialLeg{dialer: d, from: from, number: number, updates: make(chan RemoteMedia, 4), done: make(chan struct{})}
}

func (l *dialLeg) From() string { return l.from }
func (l *dialLeg) To() string   { return l.number }

func (l *dialLeg) SignallingID() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.out == nil {
		return ""
	}
	return l.out.SignallingID()
}

// Remote is what we offer: the callee's address comes with their answer.
func (l *dialLeg) Remote() RemoteMedia {
	return RemoteMedia{Codecs: []media.Codec{media.PCMU}, DTMFPayloadType: webDTMFType, Direction: media.SendRecv}
}

// Answer dials the callee and waits for their answer.
func (l *dialLeg) Answer(ctx context.Context, local netip.AddrPort, _ media.Codec, dtmf uint8) error {
	ctx, cancel := context.WithTimeout(ctx, callbackRing)
	defer cancel()
	out, err := l.dialer.Dial(ctx, l.number, local, dtmf)
	if err != nil {
		switch {
		case errors.Is(err, ErrBusy):
			l.end("busy")
		case errors.Is(err, ErrNoAnswer), errors.Is(err, context.DeadlineExceeded):
			l.end("no_answer")
		case errors.Is(err, context.Canceled):
			l.end("cancelled")
		default:
			l.end("dial_failed")
		}
		return fmt.Errorf("calling %s back: %w", l.number, err)
	}
	l.mu.Lock()
	l.out = out
	l.mu.Unlock()
	l.updates <- out.Remote()
	go func() {
		for {
			select {
			case <-out.Done():
				l.end("")
				return
			case r, ok := <-out.Updates():
				if !ok {
					l.end("")
					return
				}
				select {
				case l.updates <- r:
				case <-out.Done():
				}
			}
		}
	}()
	return nil
}

// Reject gives up before dialling.
func (l *dialLeg) Reject(int, string) error {
	l.end("rejected")
	return nil
}

func (l *dialLeg) Hangup(ctx context.Context) error {
	l.mu.Lock()
	out := l.out
	l.mu.Unlock()
	if out == nil {
		l.end("cancelled")
		return nil
	}
	return out.Hangup(ctx)
}

func (l *dialLeg) Done() <-chan struct{}       { return l.done }
func (l *dialLeg) Updates() <-chan RemoteMedia { return l.updates }

// EndReason is why the dialling failed (no_answer, busy, dial_failed,
// cancelled), or the answered call's own reason.
func (l *dialLeg) EndReason() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.reason == "" && l.out != nil {
		return l.out.EndReason()
	}
	return l.reason
}

func (l *dialLeg) end(reason string) {
	l.once.Do(func() {
		l.mu.Lock()
		if l.reason == "" {
			l.reason = reason
		}
		l.mu.Unlock()
		close(l.done)
	})
}

// leaveCallback turns a flow's callback step into a callback in the ACD:
// in the first queue, for an agent who speaks the caller's language, with
// the call's contact context stored for the agent who takes it.
func (c *Call) leaveCallback(out ivr.Outcome) string {
	d := c.sb.desk
	contact := newContact(c.ID, c.leg.From(), out.Context, nil)
	queues := d.acd.QueueNames()
	if len(queues) == 0 {
		c.event("call.callback_failed", map[string]any{"error": "no queue is configured"})
		return "no_agents"
	}
	lang := contact.Language.Code
	if lang == "" {
		lang = "en"
	}
	contact.Queue, contact.Skills = queues[0], []string{"language:" + lang}
	c.setContact(contact)
	c.storeContact()
	ctx := context.WithoutCancel(c.ctx)
	w, err := d.acd.Enqueue(ctx, agents.Contact{CallID: c.ID, Queue: contact.Queue, Skills: contact.Skills,
		Tier: contact.Tier, Number: c.leg.From()})
	if err == nil {
		defer w.Close()
		err = w.RequestCallback(ctx)
	}
	switch {
	case errors.Is(err, agents.ErrCallbackExists):
		c.event("call.callback_exists", map[string]any{"number": c.leg.From()})
	case err != nil:
		c.log.Warn("calls: the callback was not stored", "err", err)
		c.event("call.callback_failed", map[string]any{"error": err.Error()})
		return "no_agents"
	default:
		c.event("call.callback_requested", map[string]any{"number": c.leg.From(), "queue": contact.Queue})
	}
	return "callback"
}

// offerCallback rings the agent the ACD chose for a callback: the
// customer's contact context from their call, and the number to call.
func (d *Desk) offerCallback(ev agents.Event) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	contact := Contact{V: ContactVersion, CallID: ev.CallID, Caller: Caller{Number: ev.Contact.Number}}
	if c, err := d.sb.store.CallByID(ctx, ev.CallID); err == nil && len(c.Contact) > 0 {
		if err := json.Unmarshal(c.Contact, &contact); err != nil {
			d.log.Warn("calls: the callback's contact context does not read", "call_id", ev.CallID, "err", err)
		}
	}
	contact.CallbackTo = ev.Contact.Number
	r := ring{callID: ev.CallID, contact: contact, rang: time.Now(), deadline: time.Now().Add(d.cfg.RingTimeout), callback: true}
	d.mu.Lock()
	d.rings[ev.Agent.ID] = r
	d.mu.Unlock()
	d.send(ev.Agent.ID, map[string]any{"type": "offer", "call_id": ev.CallID, "contact": contact, "callback": true,
		"ring_timeout_ms": d.cfg.RingTimeout.Milliseconds()})
}

// answerCallback takes a callback the agent's page answered: their leg,
// then the call to the customer, which is bridged to them when answered.
// The call is one of its own, with its own record and recording; the desk
// and the ACD know it by the callback's call id.
func (d *Desk) answerCallback(ctx context.Context, ag agents.Agent, r ring, offer string) error {
	sctx, cancel := context.WithTimeout(ctx, d.cfg.ConnectTimeout)
	defer cancel()
	leg, answer, err := webrtc.Answer(sctx, d.rtcFor(nil), offer, d.log.With("agent_id", ag.ID, "callback_of", r.callID))
	if err != nil {
		return fmt.Errorf("your browser's audio: %w", err)
	}
	if err := d.acd.Answer(ctx, ag.ID, r.callID); err != nil {
		_ = leg.Close()
		return fmt.Errorf("the callback is no longer yours to take: %w", err)
	}
	sb := d.sb
	c := sb.newCall(newDialLeg(sb.cfg.Dialer, sb.cfg.CallerID, r.contact.CallbackTo))
	c.callbackOf = r.callID
	contact := r.contact
	c.setContact(contact)
	a := agentConn{agent: ag, leg: leg}
	c.app = func() string {
		c.say(contact.Language.Code, queueTexts.callbackIntro)
		return c.bridge(a, contact)
	}
	d.mu.Lock()
	delete(d.rings, ag.ID)
	d.talks[ag.ID] = &talk{call: c, contact: contact, answered: time.Now(), fingerprint: fingerprint(offer)}
	d.mu.Unlock()
	d.send(ag.ID, map[string]any{"type": "call.sdp", "call_id": r.callID, "sdp": answer})
	sb.wg.Add(1)
	go func() {
		sb.handle(c)
		if !c.bridged.Load() {
			// The customer did not answer (or the agent gave up first):
			// the agent's part ends as after any call.
			_ = leg.Close()
			why := endReason(c.leg, "failed")
			if err := d.acd.Hangup(context.WithoutCancel(c.ctx), ag.ID, r.callID); err != nil {
				d.log.Warn("calls: the ACD did not take the hang-up", "agent_id", ag.ID, "err", err)
			}
			d.ended(ag.ID, r.callID, why)
		}
	}()
	return nil
}

// callbackState is what a call we place for a callback keeps.
type callbackState struct {
	// callbackOf is the call id of the callback the call serves: what the
	// desk and the ACD know the agent's call by.
	callbackOf string
	// bridged is set once the customer answered and the agent is bridged.
	bridged atomic.Bool
}

// deskID is the id the desk, the ACD and the agent's page know the call
// by: its own, or that of the callback it serves.
func (c *Call) deskID() string {
	if c.callbackOf != "" {
		return c.callbackOf
	}
	return c.ID
}
