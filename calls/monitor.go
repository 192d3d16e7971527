package calls

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/sambung/sambung/media"
	"github.com/sambung/sambung/media/webrtc"
	"github.com/sambung/sambung/store"
)

// Supervisors step into a call with an agent from their page, over a
// WebRTC leg of their own (a tap):
//   - listen: they hear the caller and the agent; nobody hears them;
//   - whisper: the agent hears them too, the caller does not;
//   - barge: everyone hears everyone (a three-way call).
// They switch between the modes and leave at any time; the call goes on
// untouched. The bridge's forwarder mixes the taps once per tick of the
// caller's session; what the caller hears (the agent, and those who
// barge) is mixed by agentMix, the source the session plays.

// The modes a supervisor can be in on a call.
const (
	MonitorListen  = "listen"
	MonitorWhisper = "whisper"
	MonitorBarge   = "barge"
)

// Why a supervisor cannot step into a call.
var (
	ErrNoSuchCall = errors.New("no such call on this node")
	ErrNoAgent    = errors.New("the call is not with an agent now")
	ErrBadMode    = errors.New("the mode is listen, whisper or barge")
	ErrNotOnCall  = errors.New("you are not on this call")
)

type monitorMode uint32

const (
	modeListen monitorMode = iota
	modeWhisper
	modeBarge
)

var modeNames = [...]string{modeListen: MonitorListen, modeWhisper: MonitorWhisper, modeBarge: MonitorBarge}

func parseMode(s string) (monitorMode, error) {
	for m, name := range modeNames {
		if s == name {
			return monitorMode(m), nil
		}
	}
	return 0, fmt.Errorf("%q: %w", s, ErrBadMode)
}

// tap is one supervisor on a call.
type tap struct {
	user store.User
	leg  *webrtc.Leg
	mode atomic.Uint32 // a monitorMode
	said media.Frame   // their voice this tick: the forwarder's alone
	left chan struct{} // closed when the tap is taken off the call
}

// agentMix is what the caller hears while with an agent: the agent's
// leg, with the voices of supervisors who barge in added. It keeps what
// the agent said for the supervisors to hear.
type agentMix struct {
	mu      sync.Mutex
	agent   media.Frame // what the agent said on the last tick
	fresh   bool        // agent was read since the forwarder last took it
	barge   media.Frame // the barging supervisors' voices, for the caller
	barging bool
}

// agentSource is the session's source for the agent: their leg through
// the call's agentMix.
type agentSource struct {
	c   *Call
	leg agentMedia
}

func (s agentSource) ReadFrame(f []int16) bool {
	ok := s.leg.ReadFrame(f)
	s.c.feedTranscript(f)
	m := &s.c.mix
	m.mu.Lock()
	copy(m.agent[:], f)
	m.fresh = true
	if m.barging {
		media.Mix(f, f, m.barge[:])
	}
	m.mu.Unlock()
	return ok
}

// quiet stops the barging voices reaching the caller: the last
// supervisor left.
func (m *agentMix) quiet() {
	m.mu.Lock()
	m.barging = false
	m.mu.Unlock()
}

// monitorTick serves the taps one tick of the call: each supervisor's
// voice is read once, mixed into what the agent hears (agentHears, the
// caller's voice or silence on hold) and, for barge, into what the caller
// hears next; each supervisor is sent the caller, the agent and whoever
// else barges.
func (c *Call) monitorTick(tk *media.Tick, taps []*tap, agentHears *media.Frame) {
	m := &c.mix
	m.mu.Lock()
	agent, fresh := m.agent, m.fresh
	m.fresh = false
	m.mu.Unlock()
	if !fresh {
		agent = tk.Out // hold music, a consult: what the caller hears instead
	}
	var barge media.Frame
	barging := false
	for _, t := range taps {
		t.leg.ReadFrame(t.said[:]) // also the clock of their jitter buffer
		switch monitorMode(t.mode.Load()) {
		case modeListen:
			clear(t.said[:])
		case modeWhisper:
			media.Mix(agentHears[:], agentHears[:], t.said[:])
		case modeBarge:
			media.Mix(agentHears[:], agentHears[:], t.said[:])
			media.Mix(barge[:], barge[:], t.said[:])
			barging = true
		}
	}
	var hears media.Frame
	for _, t := range taps {
		media.Mix(hears[:], tk.In[:], agent[:])
		for _, o := range taps {
			if o != t && monitorMode(o.mode.Load()) == modeBarge {
				media.Mix(hears[:], hears[:], o.said[:])
			}
		}
		_ = t.leg.WriteFrame(hears[:])
	}
	m.mu.Lock()
	m.barge, m.barging = barge, barging
	m.mu.Unlock()
}

// Monitor puts supervisor u on call callID in mode, answering offer, the
// WebRTC offer of their page; it returns the SDP answer. A supervisor
// already on the call is moved to the new leg.
func (d *Desk) Monitor(ctx context.Context, u store.User, callID, mode, offer string) (string, error) {
	m, err := parseMode(mode)
	if err != nil {
		return "", err
	}
	c, err := d.agentCall(callID)
	if err != nil {
		return "", err
	}
	sctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	leg, answer, err := webrtc.Answer(sctx, d.rtcFor(c), offer, c.log.With("supervisor", u.Name))
	if err != nil {
		return "", fmt.Errorf("your browser's audio: %w", err)
	}
	t := &tap{user: u, leg: leg, left: make(chan struct{})}
	t.mode.Store(uint32(m))
	c.bridgeMu.Lock()
	if c.agentLeg == nil {
		c.bridgeMu.Unlock()
		_ = leg.Close()
		return "", ErrNoAgent
	}
	var old *tap
	taps := make([]*tap, 0, len(c.taps)+1)
	for _, o := range c.taps {
		if o.user.ID == u.ID {
			old = o
			continue
		}
		taps = append(taps, o)
	}
	c.taps = append(taps, t)
	agentID := c.agentID
	c.bridgeMu.Unlock()
	if old != nil {
		close(old.left)
		_ = old.leg.Close()
	}
	c.event("supervisor.joined", map[string]any{"supervisor_id": u.ID, "supervisor": u.Name, "mode": mode})
	if m != modeListen || (old != nil && monitorMode(old.mode.Load()) != modeListen) {
		d.tellAgent(agentID, c, u, m)
	}
	go c.watchTap(t)
	return answer, nil
}

// MonitorMode switches supervisor u's mode on call callID.
func (d *Desk) MonitorMode(_ context.Context, u store.User, callID, mode string) error {
	m, err := parseMode(mode)
	if err != nil {
		return err
	}
	c, t, err := d.tapOf(u, callID)
	if err != nil {
		return err
	}
	was := monitorMode(t.mode.Swap(uint32(m)))
	if was == m {
		return nil
	}
	c.event("supervisor.mode", map[string]any{"supervisor_id": u.ID, "supervisor": u.Name, "mode": mode})
	c.bridgeMu.Lock()
	agentID := c.agentID
	c.bridgeMu.Unlock()
	d.tellAgent(agentID, c, u, m)
	return nil
}

// StopMonitor takes supervisor u off call callID.
func (d *Desk) StopMonitor(_ context.Context, u store.User, callID string) error {
	c, t, err := d.tapOf(u, callID)
	if err != nil {
		return err
	}
	c.dropTap(t, "left")
	return nil
}

// agentCall finds a call on this node that is with an agent.
func (d *Desk) agentCall(callID string) (*Call, error) {
	d.mu.Lock()
	c := d.calls[callID]
	d.mu.Unlock()
	if c == nil {
		return nil, ErrNoSuchCall
	}
	c.bridgeMu.Lock()
	defer c.bridgeMu.Unlock()
	if c.agentLeg == nil {
		return nil, ErrNoAgent
	}
	return c, nil
}

func (d *Desk) tapOf(u store.User, callID string) (*Call, *tap, error) {
	d.mu.Lock()
	c := d.calls[callID]
	d.mu.Unlock()
	if c == nil {
		return nil, nil, ErrNoSuchCall
	}
	c.bridgeMu.Lock()
	defer c.bridgeMu.Unlock()
	for _, t := range c.taps {
		if t.user.ID == u.ID {
			return c, t, nil
		}
	}
	return nil, nil, ErrNotOnCall
}

// tellAgent tells the agent's page when a supervisor can be heard: they
// whisper or barge ("mode"), or no longer ("mode": "": they listen, heard
// by nobody, or left). A supervisor who only listens is not announced.
func (d *Desk) tellAgent(agentID int64, c *Call, u store.User, m monitorMode) {
	mode := modeNames[m]
	if m == modeListen {
		mode = ""
	}
	d.send(agentID, map[string]any{"type": "supervisor", "call_id": c.deskID(), "supervisor": u.Name, "mode": mode})
}

// watchTap takes the tap off the call when the supervisor's leg ends
// (they closed the page, or their network went).
func (c *Call) watchTap(t *tap) {
	select {
	case <-t.leg.Done():
		c.dropTap(t, "media_ended")
	case <-t.left:
	}
}

// dropTap takes one supervisor off the call, once.
func (c *Call) dropTap(t *tap, reason string) {
	c.bridgeMu.Lock()
	i := slices.Index(c.taps, t)
	if i < 0 {
		c.bridgeMu.Unlock()
		return
	}
	c.taps = slices.Delete(slices.Clone(c.taps), i, i+1)
	agentID := c.agentID
	c.bridgeMu.Unlock()
	close(t.left)
	_ = t.leg.Close()
	c.event("supervisor.left", map[string]any{"supervisor_id": t.user.ID, "supervisor": t.user.Name, "reason": reason})
	if monitorMode(t.mode.Load()) != modeListen && agentID != 0 {
		c.sb.desk.tellAgent(agentID, c, t.user, modeListen)
	}
}

// dropTaps takes every supervisor off the call: the agent's part ended.
func (c *Call) dropTaps(reason string) {
	c.bridgeMu.Lock()
	taps := c.taps
	c.bridgeMu.Unlock()
	for _, t := range taps {
		c.dropTap(t, reason)
	}
}

// ICEServers are the STUN and TURN servers pages give their peer
// connections (RTCIceServer's shape): the agents' and the supervisors'.
func (d *Desk) ICEServers() []map[string]any {
	var ice []map[string]any
	for _, s := range d.cfg.WebRTC.ICEServers {
		ice = append(ice, map[string]any{"urls": s.URLs, "username": s.Username, "credential": s.Credential})
	}
	return ice
}
