package calls

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/sambung/sambung/agents"
	"github.com/sambung/sambung/store"
)

// What an agent does from their page, once a call is theirs: state, hang
// up, hold, mute, keys, wrap-up. Transfers are in transfer.go, consults in
// consult.go.

func (d *Desk) setState(ctx context.Context, ag agents.Agent, state, reason string) error {
	st, reason, err := d.chosenState(state, reason)
	if err != nil {
		return err
	}
	if err := d.acd.SetState(ctx, ag.ID, st, reason, ag.Name); err != nil {
		if errors.Is(err, agents.ErrTransition) {
			return fmt.Errorf("not now: %w", err)
		}
		return err
	}
	return nil
}

// chosenState checks a state an agent (or a supervisor for them) may
// choose: available, away (with one of the away reasons, or none) or
// offline; only away keeps its reason.
func (d *Desk) chosenState(state, reason string) (agents.State, string, error) {
	st := agents.State(state)
	switch st {
	case agents.StateAvailable, agents.StateOffline:
		return st, "", nil
	case agents.StateAway:
		if reason != "" && !hasCode(d.cfg.AwayReasons, reason) {
			return "", "", fmt.Errorf("%q is not an away reason here", reason)
		}
		return st, reason, nil
	}
	return "", "", fmt.Errorf("the state is available, away or offline, not %q", state)
}

func hasCode(cs []Code, code string) bool {
	for _, c := range cs {
		if c.Code == code {
			return true
		}
	}
	return false
}

// liveTalk returns the agent's call callID while it goes on.
func (d *Desk) liveTalk(id int64, callID string) (*talk, error) {
	t, err := d.talkOf(id, callID)
	if err != nil {
		return nil, err
	}
	d.mu.Lock()
	ended := t.ended
	d.mu.Unlock()
	if ended != "" {
		return nil, errors.New("the call has ended")
	}
	return t, nil
}

// talkOf returns the agent's call callID.
func (d *Desk) talkOf(id int64, callID string) (*talk, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	t := d.talks[id]
	if t == nil || t.call.deskID() != callID {
		return nil, fmt.Errorf("call %s is not yours", callID)
	}
	return t, nil
}

func (d *Desk) hangup(id int64, callID string) error {
	t, err := d.liveTalk(id, callID)
	if err != nil {
		return err
	}
	if t.call.app != nil && !t.call.bridged.Load() {
		t.call.cancel() // a call back still ringing: stop dialling
		return nil
	}
	d.mu.Lock()
	k := t.consult
	d.mu.Unlock()
	if k != nil {
		k.hangUpConsulted() // a consulted agent leaves the consult, not the call
		return nil
	}
	t.call.agentHangup()
	return nil
}

func (d *Desk) hold(id int64, callID string, on bool) error {
	t, err := d.talkOf(id, callID)
	if err != nil {
		return err
	}
	if err := d.notInConsult(t); err != nil {
		return err
	}
	d.mu.Lock()
	t.held = on
	d.mu.Unlock()
	t.call.setHeld(on)
	d.send(id, map[string]any{"type": "call.held", "call_id": callID, "on": on})
	return nil
}

// pci pauses (on) or resumes what the agent's call keeps (pci.go). Asking
// for the state the call is in already is not an error: a page that
// missed the answer asks again.
func (d *Desk) pci(id int64, name, callID string, on bool) error {
	t, err := d.liveTalk(id, callID)
	if err != nil {
		return err
	}
	if err := d.notInConsult(t); err != nil {
		return err
	}
	if err := t.call.setPCI(on, name); err != nil && !errors.Is(err, ErrPCIUnchanged) {
		return err
	}
	d.send(id, map[string]any{"type": "call.pci", "call_id": callID, "on": on})
	return nil
}

// PausePCI is pci for the API: u is the agent on the call, or a
// supervisor or admin acting on any call with an agent on this node (the
// agent's page is told). ErrNoSuchCall if there is none, ErrNoAgent if the
// call has no agent yet.
func (d *Desk) PausePCI(_ context.Context, u store.User, callID string, on bool) error {
	if u.Role != store.RoleSupervisor && u.Role != store.RoleAdmin {
		if _, err := d.talkOf(u.ID, callID); err != nil {
			return ErrNoSuchCall
		}
		return d.pci(u.ID, u.Name, callID, on)
	}
	d.mu.Lock()
	c := d.calls[callID]
	d.mu.Unlock()
	if c == nil {
		return ErrNoSuchCall
	}
	c.bridgeMu.Lock()
	agentID := c.agentID
	c.bridgeMu.Unlock()
	if agentID == 0 {
		return ErrNoAgent
	}
	if err := c.setPCI(on, u.Name); err != nil && !errors.Is(err, ErrPCIUnchanged) {
		return err
	}
	d.send(agentID, map[string]any{"type": "call.pci", "call_id": callID, "on": on, "by": u.Name})
	return nil
}

func (d *Desk) mute(id int64, callID string, on bool) error {
	t, err := d.talkOf(id, callID)
	if err != nil {
		return err
	}
	d.mu.Lock()
	t.muted = on
	d.mu.Unlock()
	t.call.event("agent.mute", map[string]any{"agent_id": id, "on": on})
	return nil
}

func (d *Desk) dtmf(id int64, callID, digits string) error {
	t, err := d.talkOf(id, callID)
	if err != nil {
		return err
	}
	if err := d.notInConsult(t); err != nil {
		return err
	}
	if digits == "" || len(digits) > 32 || strings.Trim(digits, "0123456789*#ABCD") != "" {
		return fmt.Errorf("keys are 0-9, *, # and A-D, at most 32; got %q", digits)
	}
	return t.call.sendKeys(digits)
}

// wrapUp stores the agent's disposition and notes on the call and ends
// their wrap-up.
func (d *Desk) wrapUp(ctx context.Context, ag agents.Agent, callID, disposition, notes string) error {
	d.mu.Lock()
	t := d.talks[ag.ID]
	d.mu.Unlock()
	if t == nil || t.call.deskID() != callID {
		return fmt.Errorf("call %s is not yours to wrap up", callID)
	}
	if t.ended == "" {
		return errors.New("the call is still going on: hang up first")
	}
	if !hasCode(d.cfg.Dispositions, disposition) {
		return fmt.Errorf("pick a disposition: %q is not one", disposition)
	}
	if len(notes) > maxNotes {
		return fmt.Errorf("the notes are %d bytes; at most %d", len(notes), maxNotes)
	}
	// On the call itself: for a callback, the call we placed. An agent
	// who was only consulted leaves the call's disposition to its agent;
	// theirs is on the timeline.
	d.mu.Lock()
	consulted := t.consult != nil
	d.mu.Unlock()
	if !consulted {
		if err := d.sb.store.SetCallDisposition(ctx, t.call.ID, store.Disposition{Code: disposition, Notes: notes,
			AgentID: ag.ID, At: time.Now()}); err != nil {
			return fmt.Errorf("the wrap-up was not saved: %w", err)
		}
	}
	ev := map[string]any{"agent_id": ag.ID, "agent": ag.Name, "disposition": disposition, "notes": notes != ""}
	if consulted {
		ev["consulted"], ev["notes_text"] = true, notes
	}
	t.call.event("agent.wrapup", ev)
	d.mu.Lock()
	delete(d.talks, ag.ID)
	d.mu.Unlock()
	if err := d.acd.FinishWrapUp(ctx, ag.ID); err != nil && !errors.Is(err, agents.ErrTransition) {
		d.log.Warn("calls: ending wrap-up failed", "agent_id", ag.ID, "err", err)
	}
	d.send(ag.ID, map[string]any{"type": "wrapup.saved", "call_id": callID, "disposition": disposition})
	return nil
}
