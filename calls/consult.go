package calls

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/sambung/sambung/agents"
	"github.com/sambung/sambung/media"
	"github.com/sambung/sambung/store"
)

// A warm transfer: the agent puts the caller on hold and calls a number,
// or rings another agent (the consult); they talk; then the agent
// completes the transfer (the caller is put through to the number or the
// agent, and the first agent wraps up) or goes back to the caller. The
// other side hanging up during the consult is going back; the agent
// hanging up while they talk completes the transfer, as an attended
// transfer does on a PBX.
//
// Another agent is rung through the ACD, as a direct ring of them alone
// (agents.Contact.Direct): so they are reserved as for any call, and two
// nodes never ring them at once. Their page shows the caller's context
// and who asks; they answer with their browser or desk phone.

// consultOp is what the agent's page asks of a consult.
type consultOp struct {
	op     string        // "start", "complete" or "cancel"
	number string        // start: the number to call, or
	agent  *agents.Agent // start: the agent to ring
}

// consultation is a consult in progress, kept by the bridge's goroutine
// (apart from the fields under mu, which the desk reaches).
type consultation struct {
	number string        // the number consulted, or
	agent  *agents.Agent // the agent consulted
	from   string        // the consulting agent's name
	cancel context.CancelFunc
	leg    agentMedia          // once answered
	ready  chan consultDialled // a number's dialling outcome; nil once read
	w      *agents.Waiting     // an agent's ring through the ACD
	expiry *time.Timer         // an agent's ring gives up
	stop   chan struct{}       // stops the pump
	pumped chan struct{}       // closed when the pump has stopped

	// The consulted agent's answer, handed over by the desk.
	mu      sync.Mutex
	over    bool
	conn    *agentConn    // their leg, once they answered
	arrived chan struct{} // signalled when conn is set
}

// consultDialled is the dialling's outcome.
type consultDialled struct {
	leg *phoneLeg
	err error
}

// who is the other side of the consult, as the agent's page names it.
func (k *consultation) who() map[string]any {
	if k.agent != nil {
		return map[string]any{"agent": k.agent.Name}
	}
	return map[string]any{"number": k.number}
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

// consult is the desk's side: checks, then the bridge acts. A consult
// starts with a number or an agent's sign-in name.
func (d *Desk) consult(ctx context.Context, ag agents.Agent, callID, op, number, agent string) error {
	t, err := d.liveTalk(ag.ID, callID)
	if err != nil {
		return err
	}
	if err := d.notInConsult(t); err != nil {
		return err
	}
	if t.call.app != nil {
		return errors.New("only a call that came through a queue can be transferred")
	}
	req := consultOp{op: op}
	switch {
	case op != "start":
	case number != "" && agent != "":
		return errors.New("consult a number or an agent, not both")
	case agent != "":
		to, err := d.agentNamed(ctx, agent, ag.ID)
		if err != nil {
			return err
		}
		if to.State != agents.StateAvailable {
			return fmt.Errorf("%s is %s: only an available agent can be consulted", to.Name, to.State)
		}
		req.agent = &to
	default:
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
		req.number = number
	}
	return t.call.askConsult(req)
}

// consultOp carries out the agent's consult request in the bridge. It
// returns the consult now in progress, and whether the call was
// transferred (c.transferred says where).
func (c *Call) consultOp(from agents.Agent, k *consultation, op consultOp) (*consultation, bool) {
	switch {
	case op.op == "start" && k == nil && op.agent != nil:
		return c.startAgentConsult(from, *op.agent), false
	case op.op == "start" && k == nil:
		return c.startConsult(from, op.number), false
	case op.op == "cancel" && k != nil:
		c.backToCaller(from.ID, k, "cancelled")
		return nil, false
	case op.op == "complete" && k != nil && k.leg != nil:
		kept := c.endConsult(k, true, "completed")
		tr := transferReq{ContactTransfer: ContactTransfer{From: from.Name, At: time.Now().UTC(), Consulted: true}}
		if k.agent != nil {
			tr.ToAgent, tr.agent = k.agent.Name, &agentConn{agent: *k.agent, leg: kept}
		} else {
			tr.ToNumber, tr.leg = k.number, kept.(*phoneLeg)
		}
		c.transferred = tr
		c.event("agent.transferred", map[string]any{"agent_id": from.ID, "to_number": tr.ToNumber,
			"to_agent": tr.ToAgent, "consulted": true})
		return nil, true
	}
	c.sb.desk.send(from.ID, map[string]any{"type": "error", "ref": "consult." + op.op, "call_id": c.deskID(),
		"message": "There is no consult to " + op.op + ", or one is going on already."})
	return k, false
}

// holdForConsult puts the caller on hold for a consult and tells the
// agent who is being reached.
func (c *Call) holdForConsult(from agents.Agent, k *consultation) {
	c.bridgeMu.Lock()
	c.consulting = true
	c.bridgeMu.Unlock()
	c.playAgent()
	ev := map[string]any{"agent_id": from.ID}
	msg := map[string]any{"type": "consult.state", "call_id": c.deskID(), "state": "dialling"}
	for key, v := range k.who() {
		ev["to_"+key], msg[key] = v, v
	}
	if k.agent != nil {
		msg["state"] = "ringing"
	}
	c.event("agent.consult_started", ev)
	c.sb.desk.send(from.ID, msg)
}

// startConsult puts the caller on hold and dials the number, in the
// background: its outcome comes on the consultation's ready.
func (c *Call) startConsult(from agents.Agent, number string) *consultation {
	ctx, cancel := context.WithTimeout(c.ctx, callbackRing)
	k := &consultation{number: number, from: from.Name, cancel: cancel, ready: make(chan consultDialled, 1)}
	c.holdForConsult(from, k)
	go func() {
		leg, err := c.sb.desk.dialPhone(ctx, number)
		k.ready <- consultDialled{leg: leg, err: err}
	}()
	return k
}

// startAgentConsult puts the caller on hold and asks the ACD to ring the
// agent for this call, alone and ahead of every waiting call. Their answer
// comes through the desk (deliver).
func (c *Call) startAgentConsult(from, to agents.Agent) *consultation {
	d := c.sb.desk
	k := &consultation{agent: &to, from: from.Name, arrived: make(chan struct{}, 1)}
	c.holdForConsult(from, k)
	contact := c.contact.Load()
	w, err := d.acd.Enqueue(c.ctx, agents.Contact{CallID: c.deskID(), Queue: contact.Queue, Tier: contact.Tier,
		Number: c.leg.From(), Skills: []string{store.AgentSkill(to.ID)}, Direct: true})
	if err != nil {
		c.log.Warn("calls: the consulted agent could not be rung", "agent", to.Name, "err", err)
		c.backToCaller(from.ID, k, "failed")
		return nil
	}
	k.w = w
	// The ACD's ring timeout says no answer first; this is the backstop
	// for an agent who stopped being available before the ring.
	k.expiry = time.NewTimer(d.cfg.RingTimeout + 10*time.Second)
	return k
}

// deliver hands the consulted agent's answered leg to the bridge; false
// when the consult is over (the leg is then the caller's to close).
func (k *consultation) deliver(conn agentConn) bool {
	k.mu.Lock()
	defer k.mu.Unlock()
	if k.over {
		return false
	}
	k.conn = &conn
	select {
	case k.arrived <- struct{}{}:
	default: // one answer only
	}
	return true
}

// hangUpConsulted is the consulted agent hanging up: their leg ends, and
// the bridge goes back to the caller.
func (k *consultation) hangUpConsulted() {
	k.mu.Lock()
	conn := k.conn
	k.mu.Unlock()
	if conn != nil {
		_ = conn.leg.Close()
	}
}

// The consult's channels for the bridge's select: nil (never ready) when
// they do not apply, so the bridge can list them all.

func (k *consultation) dialled() <-chan consultDialled {
	if k == nil {
		return nil
	}
	return k.ready
}

func (k *consultation) events() <-chan agents.Event {
	if k == nil || k.w == nil || k.leg != nil {
		return nil
	}
	return k.w.Events()
}

func (k *consultation) answered() <-chan struct{} {
	if k == nil || k.leg != nil {
		return nil
	}
	return k.arrived
}

func (k *consultation) expired() <-chan time.Time {
	if k == nil || k.leg != nil || k.expiry == nil {
		return nil
	}
	return k.expiry.C
}

// done is closed when the other side hangs up; nil until they answered.
func (k *consultation) done() <-chan struct{} {
	if k == nil || k.leg == nil {
		return nil
	}
	return k.leg.Done()
}

// consultDialled takes the number's answer, or goes back to the caller.
func (c *Call) consultDialled(agentID int64, k *consultation, r consultDialled) *consultation {
	k.ready = nil
	if r.err != nil {
		c.backToCaller(agentID, k, "no_answer")
		return nil
	}
	c.consultTalk(agentID, k, r.leg)
	return k
}

// consultEvent follows the consulted agent's ring.
func (c *Call) consultEvent(agentID int64, k *consultation, ev agents.Event, ok bool) *consultation {
	switch {
	case !ok:
		c.backToCaller(agentID, k, "failed")
		return nil
	case ev.Kind == agents.EventOffered && ev.Agent != nil:
		c.sb.desk.offer(c, ev, k.w, k)
		c.event("agent.offered", map[string]any{"agent_id": ev.Agent.ID, "agent": ev.Agent.Name, "consult": true})
	case ev.Kind == agents.EventRingNoAnswer:
		c.backToCaller(agentID, k, "no_answer")
		return nil
	case ev.Kind == agents.EventDeclined:
		c.backToCaller(agentID, k, "declined")
		return nil
	}
	return k
}

// consultAnswered takes the consulted agent's leg from the desk.
func (c *Call) consultAnswered(agentID int64, k *consultation) {
	k.mu.Lock()
	conn := k.conn
	k.mu.Unlock()
	if conn == nil {
		return
	}
	k.expiry.Stop()
	c.consultTalk(agentID, k, conn.leg)
	d, to := c.sb.desk, conn.agent.ID
	go func() { // the consulted agent's page learns when its audio flows
		select {
		case <-conn.leg.Connected():
			d.send(to, map[string]any{"type": "call.connected", "call_id": c.deskID()})
		case <-conn.leg.Done():
		}
	}()
}

// consultTalk connects the agent with the other side, answered.
func (c *Call) consultTalk(agentID int64, k *consultation, leg agentMedia) {
	k.talk(func() agentMedia {
		c.bridgeMu.Lock()
		defer c.bridgeMu.Unlock()
		return c.agentLeg // the leg of the moment: the agent's page may reload
	}, leg)
	msg := map[string]any{"type": "consult.state", "call_id": c.deskID(), "state": "talking"}
	ev := map[string]any{"agent_id": agentID}
	for key, v := range k.who() {
		ev["to_"+key], msg[key] = v, v
	}
	c.event("agent.consult_answered", ev)
	c.sb.desk.send(agentID, msg)
}

// talk connects the agent (their leg of the moment, or none) with the
// other side: a pump, every 20 ms, takes what each says to the other.
func (k *consultation) talk(agentLeg func() agentMedia, leg agentMedia) {
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
				agent := agentLeg()
				if agent == nil || !agent.ReadFrame(f[:]) {
					clear(f[:])
				}
				_ = leg.WriteFrame(f[:])
				leg.ReadFrame(f[:])
				if agent != nil {
					_ = agent.WriteFrame(f[:])
				}
			}
		}
	}()
}

// endConsult stops the consult; with keep, the other side's leg is left
// open (the transfer completes to it) and returned. A consulted agent who
// is not kept is hung up (they go to wrap-up) or, still ringing, unrung.
func (c *Call) endConsult(k *consultation, keep bool, why string) agentMedia {
	if k.cancel != nil {
		k.cancel()
	}
	if k.expiry != nil {
		k.expiry.Stop()
	}
	if k.stop != nil {
		close(k.stop)
		<-k.pumped
	}
	k.mu.Lock()
	k.over = true
	conn := k.conn
	k.mu.Unlock()
	if k.w != nil {
		k.w.Close() // a ring still out is withdrawn
		c.sb.desk.unring(k.agent.ID, c.deskID(), "consult_"+why)
	}
	leg := k.leg
	if leg == nil && conn != nil {
		leg = conn.leg // answered, not yet taken up
	}
	if leg == nil {
		if ready := k.ready; ready != nil {
			// Still dialling: its outcome, if any, is dropped.
			go func() {
				if r := <-ready; r.leg != nil {
					_ = r.leg.Close()
				}
			}()
		}
		return nil
	}
	if keep {
		return leg
	}
	_ = leg.Close()
	if k.agent != nil {
		c.consultedGone(*k.agent, why)
	}
	return nil
}

// consultedGone hangs up the consulted agent in the ACD (to wrap-up) and
// on their page.
func (c *Call) consultedGone(ag agents.Agent, why string) {
	d := c.sb.desk
	ctx, cancel := context.WithTimeout(context.WithoutCancel(c.ctx), 5*time.Second)
	defer cancel()
	if err := d.acd.Hangup(ctx, ag.ID, c.deskID()); err != nil {
		c.log.Warn("calls: the ACD did not take the consulted agent's hang-up", "agent_id", ag.ID, "err", err)
	}
	reason := map[string]string{"hung_up": "agent_hangup", "caller_hangup": "caller_hangup"}[why]
	if reason == "" {
		reason = "consult_ended"
	}
	d.ended(ag.ID, c.deskID(), reason)
}

// backToCaller ends a consult and puts the agent and the caller together
// again.
func (c *Call) backToCaller(agentID int64, k *consultation, why string) {
	c.endConsult(k, false, why)
	c.bridgeMu.Lock()
	c.consulting = false
	c.bridgeMu.Unlock()
	c.playAgent()
	ev := map[string]any{"agent_id": agentID, "reason": why}
	for key, v := range k.who() {
		ev["to_"+key] = v
	}
	c.event("agent.consult_ended", ev)
	c.sb.desk.send(agentID, map[string]any{"type": "consult.state", "call_id": c.deskID(), "state": "ended", "reason": why})
}

// consulted hands the consulted agent's answered leg to the consult; when
// the consult is over already, the agent is hung up again.
func (d *Desk) consulted(c *Call, k *consultation, conn agentConn) {
	if k.deliver(conn) {
		return
	}
	_ = conn.leg.Close()
	c.consultedGone(conn.agent, "cancelled")
}

// joined tells an agent consulted on a call that the caller is now theirs.
func (d *Desk) joined(id int64, callID string, contact Contact) {
	d.mu.Lock()
	if t := d.talks[id]; t != nil && t.call.deskID() == callID {
		t.consult, t.contact = nil, contact
	}
	d.mu.Unlock()
	d.send(id, map[string]any{"type": "consult.joined", "call_id": callID, "contact": contact})
}

// notInConsult refuses what only the agent with the caller may do to an
// agent being consulted.
func (d *Desk) notInConsult(t *talk) error {
	d.mu.Lock()
	k := t.consult
	d.mu.Unlock()
	if k != nil {
		return fmt.Errorf("%s is consulting you and the caller is on hold: only %s can do that now", k.from, k.from)
	}
	return nil
}

// agentNamed is the agent signed in as name, who may be given a call by
// the agent self: neither self nor offline.
func (d *Desk) agentNamed(ctx context.Context, name string, self int64) (agents.Agent, error) {
	u, err := d.sb.store.UserByName(ctx, name)
	if errors.Is(err, store.ErrNotFound) {
		return agents.Agent{}, fmt.Errorf("there is no agent called %q", name)
	} else if err != nil {
		return agents.Agent{}, err
	}
	if u.ID == self {
		return agents.Agent{}, errors.New("the call is yours already")
	}
	ag, err := d.acd.Agent(ctx, u.ID)
	if errors.Is(err, store.ErrNotFound) {
		return agents.Agent{}, fmt.Errorf("%s is not an agent", name)
	} else if err != nil {
		return agents.Agent{}, err
	}
	if ag.State == agents.StateOffline {
		return agents.Agent{}, fmt.Errorf("%s is offline", name)
	}
	return ag, nil
}
