package calls

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/sambung/sambung/agents"
	"github.com/sambung/sambung/media/webrtc"
	"github.com/sambung/sambung/store"
)

// Code is a choice offered to agents: a disposition or an away reason.
type Code struct {
	Code  string `json:"code"`
	Label string `json:"label"`
}

// DeskConfig configures the agents' side of calls.
type DeskConfig struct {
	// ACD routes queued calls to agents. Required.
	ACD *agents.ACD
	// WebRTC configures the agents' browser legs.
	WebRTC webrtc.Config
	// Dispositions are the wrap-up codes an agent picks from (default
	// DefaultDispositions).
	Dispositions []Code
	// AwayReasons are the reasons an agent may give for being away
	// (default DefaultAwayReasons).
	AwayReasons []Code
	// Grace is how long an available agent whose pages have all gone
	// stays available before being set away ("disconnected"): a reload or
	// a network blip must not cost them their place (default 30s).
	Grace time.Duration
	// ConnectTimeout bounds how long an answered call waits for the
	// agent's media to connect (default 10s).
	ConnectTimeout time.Duration
	// RingTimeout is the ACD's: how long an offer rings (shown to the
	// agent; default 20s).
	RingTimeout time.Duration
	// Alerts configures the supervisors' alerts (alerts.go).
	Alerts AlertConfig
	// Transcripts configures live transcripts of calls with agents
	// (transcript.go).
	Transcripts TranscriptConfig
}

// DefaultDispositions are the wrap-up codes when none are configured.
var DefaultDispositions = []Code{
	{"resolved", "Resolved"}, {"follow_up", "Needs follow-up"}, {"escalated", "Escalated"},
	{"callback", "Call back later"}, {"wrong_number", "Wrong number"}, {"no_answer", "Caller silent or gone"},
}

// DefaultAwayReasons are the away reasons when none are configured.
var DefaultAwayReasons = []Code{
	{"break", "Break"}, {"lunch", "Lunch"}, {"meeting", "Meeting"}, {"training", "Training"}, {"admin", "Admin work"},
}

// maxNotes bounds wrap-up notes, in bytes.
const maxNotes = 4000

// Desk is the agents' side of calls: it rings agents' softphones for the
// calls the ACD offers them, connects their browser legs to the calls, and
// carries out what they do (answer, hold, keys, hang up, wrap up). It
// implements the server end of docs/softphone.md; web carries the
// messages.
type Desk struct {
	cfg DeskConfig
	sb  *Switchboard
	acd *agents.ACD
	log *slog.Logger

	alerts *alerter

	mu       sync.Mutex
	sessions map[int64]map[*DeskSession]struct{} // by agent
	calls    map[string]*Call                    // queued or with an agent, by call id
	rings    map[int64]ring                      // the call ringing for each agent
	talks    map[int64]*talk                     // each agent's call, to its wrap-up
	graces   map[int64]*time.Timer
	stopped  bool // Run has returned: no more grace timers
	dropped  atomic.Int64
}

// ring is an offer showing on an agent's page.
type ring struct {
	callID   string
	contact  Contact
	deadline time.Time
	rang     time.Time
	callback bool // a call back to place, not a call waiting
	phone    bool // ringing the agent's desk phone too: answered there
	// cancel stops dialling the agent's phone when the ring is withdrawn.
	cancel context.CancelFunc
	// consult is set when another agent asks this one to consult on the
	// call: the answer goes to that consult, not to the call.
	consult *consultation
}

// talk is an agent's call from answer to wrap-up.
type talk struct {
	call     *Call
	contact  Contact
	ended    string // why the call ended; "" while it goes on
	held     bool
	muted    bool
	answered time.Time
	// fingerprint is the DTLS fingerprint of the page's peer connection.
	fingerprint string
	// phone is set when the agent took the call on their desk phone.
	phone bool
	// consult is set while the agent is consulted on the call by another
	// (the caller on hold); cleared when the call is put through to them.
	consult *consultation
}

func newDesk(cfg DeskConfig, sb *Switchboard, log *slog.Logger) (*Desk, error) {
	if cfg.ACD == nil {
		return nil, errors.New("calls: the desk needs an ACD")
	}
	if len(cfg.Dispositions) == 0 {
		cfg.Dispositions = DefaultDispositions
	}
	if len(cfg.AwayReasons) == 0 {
		cfg.AwayReasons = DefaultAwayReasons
	}
	if cfg.Grace == 0 {
		cfg.Grace = 30 * time.Second
	}
	if cfg.ConnectTimeout == 0 {
		cfg.ConnectTimeout = 10 * time.Second
	}
	if cfg.RingTimeout == 0 {
		cfg.RingTimeout = 20 * time.Second
	}
	return &Desk{cfg: cfg, sb: sb, acd: cfg.ACD, log: log, alerts: newAlerter(cfg.Alerts, sb.cfg.Node, log),
		sessions: map[int64]map[*DeskSession]struct{}{}, calls: map[string]*Call{},
		rings: map[int64]ring{}, talks: map[int64]*talk{}, graces: map[int64]*time.Timer{}}, nil
}

// Run carries the ACD's agent state changes to the agents' pages, and
// delivers the supervisors' alerts, until ctx ends.
func (d *Desk) Run(ctx context.Context) {
	alerting := make(chan struct{})
	go func() {
		defer close(alerting)
		d.alerts.run(ctx)
	}()
	defer func() { <-alerting }()
	defer func() {
		d.mu.Lock()
		d.stopped = true
		for id, t := range d.graces {
			t.Stop()
			delete(d.graces, id)
		}
		d.mu.Unlock()
	}()
	d.acd.Follow(ctx, 256, func(e agents.Event) {
		switch {
		case e.Kind == agents.EventAgentState && e.Agent != nil:
			d.forgetWrapUp(e.Agent)
			d.alerts.agentState(*e.Agent)
			d.send(e.Agent.ID, map[string]any{"type": "agent.state", "state": e.Agent.State,
				"reason": e.Agent.Reason, "since": e.Agent.Since})
		case e.Kind == agents.EventOffered && e.Contact != nil && e.Contact.Callback && e.Agent != nil:
			// A call waiting is offered by its own call; a callback has
			// no call yet, so the desk rings for it.
			d.offerCallback(e)
		case e.Kind == agents.EventRingNoAnswer && e.Agent != nil:
			d.mu.Lock()
			r, ok := d.rings[e.Agent.ID]
			d.mu.Unlock()
			if ok && r.callback && r.callID == e.CallID {
				d.unring(e.Agent.ID, e.CallID, string(e.Kind))
			}
		}
	})
}

// forgetWrapUp drops an ended call the agent has left wrap-up without
// saving (the wrap-up time ran out, or they chose another state), so a
// page that connects later does not show it.
func (d *Desk) forgetWrapUp(ag *agents.Agent) {
	switch ag.State {
	case agents.StateAvailable, agents.StateAway, agents.StateOffline:
	default:
		return
	}
	d.mu.Lock()
	if t := d.talks[ag.ID]; t != nil && t.ended != "" {
		delete(d.talks, ag.ID)
	}
	d.mu.Unlock()
}

// DeskSession is one agent page's connection to the desk.
type DeskSession struct {
	d     *Desk
	agent agents.Agent
	user  store.User
	out   chan []byte
	once  sync.Once
	done  chan struct{}
}

// deskBuffer is how many messages a page may fall behind by before
// messages are dropped (and counted).
const deskBuffer = 64

// Open starts a softphone session for u. A user who is not yet an agent
// becomes one, offline, with no skills (an administrator gives skills).
func (d *Desk) Open(ctx context.Context, u store.User) (*DeskSession, error) {
	if u.Role != store.RoleAgent && u.Role != store.RoleSupervisor {
		return nil, fmt.Errorf("%s is a %s, not an agent or supervisor: only they take calls", u.Name, u.Role)
	}
	ag, err := d.acd.Agent(ctx, u.ID)
	if errors.Is(err, store.ErrNotFound) {
		ag, err = d.acd.UpsertAgent(ctx, agents.Agent{ID: u.ID, Name: u.Name, DisplayName: u.DisplayName})
	}
	if err != nil {
		return nil, fmt.Errorf("the agent record of %s: %w", u.Name, err)
	}
	s := &DeskSession{d: d, agent: ag, user: u, out: make(chan []byte, deskBuffer), done: make(chan struct{})}
	d.mu.Lock()
	if d.sessions[u.ID] == nil {
		d.sessions[u.ID] = map[*DeskSession]struct{}{}
	}
	d.sessions[u.ID][s] = struct{}{}
	if t := d.graces[u.ID]; t != nil {
		t.Stop()
		delete(d.graces, u.ID)
	}
	d.mu.Unlock()
	s.push(d.hello(ag))
	return s, nil
}

// Out carries the messages for the page; it is closed by Close.
func (s *DeskSession) Out() <-chan []byte { return s.out }

// Close ends the session. When the agent's last page goes while they are
// available, they stay so for the grace period, then go away.
func (s *DeskSession) Close() {
	s.once.Do(func() {
		d := s.d
		d.mu.Lock()
		delete(d.sessions[s.agent.ID], s)
		last := len(d.sessions[s.agent.ID]) == 0
		if last {
			delete(d.sessions, s.agent.ID)
		}
		if last && !d.stopped {
			if t := d.graces[s.agent.ID]; t != nil {
				t.Stop()
			}
			id, name := s.agent.ID, s.agent.Name
			d.graces[id] = time.AfterFunc(d.cfg.Grace, func() { d.gone(id, name) })
		}
		close(s.done)
		close(s.out)
		d.mu.Unlock()
	})
}

// gone sets an agent whose pages did not come back away.
func (d *Desk) gone(id int64, name string) {
	d.mu.Lock()
	_, back := d.sessions[id]
	delete(d.graces, id)
	d.mu.Unlock()
	if back {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	ag, err := d.acd.Agent(ctx, id)
	if err != nil || ag.State != agents.StateAvailable {
		return
	}
	if err := d.acd.SetState(ctx, id, agents.StateAway, "disconnected", name); err != nil {
		d.log.Warn("calls: setting a disconnected agent away failed", "agent_id", id, "err", err)
	}
}

// push queues a message for this page, dropping it when the page is far
// behind.
func (s *DeskSession) push(m map[string]any) {
	raw, err := json.Marshal(m)
	if err != nil {
		s.d.log.Error("calls: desk message not encodable", "type", m["type"], "err", err)
		return
	}
	s.d.mu.Lock()
	defer s.d.mu.Unlock()
	select {
	case <-s.done:
		return // closed: out is closed too (both under d.mu)
	default:
	}
	select {
	case s.out <- raw:
	default:
		s.d.dropped.Add(1)
	}
}

// send pushes m to every page of agent id.
func (d *Desk) send(id int64, m map[string]any) {
	for _, s := range d.pagesOf(id) {
		s.push(m)
	}
}

// rtcFor is the configuration of a browser leg on call c (nil: a call
// back, to a phone). Unless the deployer chose the codecs, a call from a
// phone is answered PCMU first, as its caller speaks: the agent's audio
// goes to them and back with no transcoding. A call from a web page is
// transcoded at its own leg anyway, so Opus, which bears loss better,
// comes first when the build has it.
func (d *Desk) rtcFor(c *Call) webrtc.Config {
	cfg := d.cfg.WebRTC
	if len(cfg.Codecs) > 0 {
		return cfg
	}
	cfg.Codecs = webrtc.Codecs()
	if c == nil || !c.fromWeb() {
		cfg.Codecs = append([]string{webrtc.CodecPCMU}, slices.DeleteFunc(cfg.Codecs, func(n string) bool { return n == webrtc.CodecPCMU })...)
	}
	return cfg
}

// pagesOf are the open pages of agent id.
func (d *Desk) pagesOf(id int64) []*DeskSession {
	d.mu.Lock()
	defer d.mu.Unlock()
	ss := make([]*DeskSession, 0, len(d.sessions[id]))
	for s := range d.sessions[id] {
		ss = append(ss, s)
	}
	return ss
}

// hello is the first message of a session: the agent, the choices, the
// ICE servers, and the call ringing or in progress, if any.
func (d *Desk) hello(ag agents.Agent) map[string]any {
	m := map[string]any{"type": "hello", "agent": agentJSON(ag), "away_reasons": d.cfg.AwayReasons,
		"dispositions": d.cfg.Dispositions, "ice_servers": d.ICEServers(), "queues": d.acd.QueueNames()}
	d.mu.Lock()
	defer d.mu.Unlock()
	var call map[string]any
	var k *consultation
	if r, ok := d.rings[ag.ID]; ok {
		call = map[string]any{"call_id": r.callID, "state": "ringing", "contact": r.contact,
			"ring_timeout_ms": time.Until(r.deadline).Milliseconds(), "deadline": r.contact.Deadline}
		k = r.consult
	} else if t := d.talks[ag.ID]; t != nil {
		state := "on_call"
		if t.ended != "" {
			state = "wrap_up"
		}
		call = map[string]any{"call_id": t.call.deskID(), "state": state, "contact": t.contact, "held": t.held,
			"muted": t.muted, "pci": t.call.paused(), "connected_at": t.answered, "reason": t.ended}
		if t.ended == "" {
			k = t.consult
		}
	}
	if k != nil {
		call["consult"] = map[string]any{"from": k.from}
	}
	if call != nil {
		m["call"] = call
	}
	return m
}

func agentJSON(ag agents.Agent) map[string]any {
	return map[string]any{"id": ag.ID, "name": ag.Name, "display_name": ag.DisplayName, "state": ag.State,
		"reason": ag.Reason, "since": ag.Since, "skills": ag.Skills}
}

// Handle acts on one message from the page.
func (s *DeskSession) Handle(ctx context.Context, raw []byte) {
	var m struct {
		Type        string `json:"type"`
		CallID      string `json:"call_id"`
		State       string `json:"state"`
		Reason      string `json:"reason"`
		SDP         string `json:"sdp"`
		On          bool   `json:"on"`
		Digits      string `json:"digits"`
		Disposition string `json:"disposition"`
		Notes       string `json:"notes"`
		Queue       string `json:"queue"`
		Agent       string `json:"agent"`
		Number      string `json:"number"`
	}
	if err := json.Unmarshal(raw, &m); err != nil || m.Type == "" {
		s.fail("", "", "That message is not JSON with a type; see docs/softphone.md.")
		return
	}
	d, id := s.d, s.agent.ID
	var err error
	switch m.Type {
	case "state":
		err = d.setState(ctx, s.agent, m.State, m.Reason)
	case "answer":
		err = d.answer(ctx, s.agent, m.CallID, m.SDP)
	case "restart":
		err = d.restart(ctx, s.agent, m.CallID, m.SDP)
	case "decline":
		err = d.acd.Decline(ctx, id, m.CallID)
		if err == nil {
			d.unring(id, m.CallID, "declined")
		}
	case "hangup":
		err = d.hangup(id, m.CallID)
	case "transfer":
		err = d.transfer(ctx, s.agent, m.CallID, m.Queue, m.Agent, m.Number)
	case "consult":
		err = d.consult(ctx, s.agent, m.CallID, "start", m.Number, m.Agent)
	case "consult.complete":
		err = d.consult(ctx, s.agent, m.CallID, "complete", "", "")
	case "consult.cancel":
		err = d.consult(ctx, s.agent, m.CallID, "cancel", "", "")
	case "hold":
		err = d.hold(id, m.CallID, m.On)
	case "pci":
		err = d.pci(id, s.agent.Name, m.CallID, m.On)
	case "mute":
		err = d.mute(id, m.CallID, m.On)
	case "dtmf":
		err = d.dtmf(id, m.CallID, m.Digits)
	case "wrapup":
		err = d.wrapUp(ctx, s.agent, m.CallID, m.Disposition, m.Notes)
	default:
		err = fmt.Errorf("unknown message type %q", m.Type)
	}
	if err != nil {
		s.fail(m.Type, m.CallID, err.Error())
	}
}

func (s *DeskSession) fail(ref, callID, msg string) {
	s.push(map[string]any{"type": "error", "ref": ref, "call_id": callID, "message": msg})
}

// track and untrack keep the calls that are queued or with an agent, for
// the agents' answers to find.
func (d *Desk) track(c *Call) {
	d.mu.Lock()
	d.calls[c.ID] = c
	d.mu.Unlock()
}

func (d *Desk) untrack(c *Call) {
	d.mu.Lock()
	delete(d.calls, c.ID)
	d.mu.Unlock()
}

// offer rings the agent the ACD chose for c; with k, for another agent's
// consult on it.
func (d *Desk) offer(c *Call, ev agents.Event, w *agents.Waiting, k *consultation) {
	contact := *c.contact.Load()
	if dl := w.Deadline(); !dl.IsZero() {
		contact.Deadline = &dl
	}
	r := ring{callID: c.ID, contact: contact, rang: time.Now(), deadline: time.Now().Add(d.cfg.RingTimeout), consult: k}
	var ctx context.Context
	if ev.Agent.Phone != "" {
		r.phone = true
		ctx, r.cancel = context.WithTimeout(c.ctx, d.cfg.RingTimeout)
	}
	d.mu.Lock()
	d.rings[ev.Agent.ID] = r
	d.mu.Unlock()
	if r.phone {
		ag := *ev.Agent
		go func() {
			defer r.cancel()
			d.ringPhone(ctx, c, ag, contact, k)
		}()
	}
	m := map[string]any{"type": "offer", "call_id": c.ID, "contact": contact,
		"ring_timeout_ms": d.cfg.RingTimeout.Milliseconds(), "phone": r.phone}
	if contact.Deadline != nil {
		m["deadline"] = contact.Deadline
	}
	if k != nil {
		m["consult"] = map[string]any{"from": k.from}
	}
	d.send(ev.Agent.ID, m)
}

// unring stops the ring of callID on the agent's page, saying why.
func (d *Desk) unring(id int64, callID, reason string) {
	if d.unringQuiet(id, callID) {
		d.send(id, map[string]any{"type": "offer.withdrawn", "call_id": callID, "reason": reason})
	}
}

// unringQuiet forgets the ring; it reports whether there was one.
func (d *Desk) unringQuiet(id int64, callID string) bool {
	d.mu.Lock()
	defer d.mu.Unlock()
	if r, ok := d.rings[id]; ok && r.callID == callID {
		delete(d.rings, id)
		if r.cancel != nil {
			r.cancel()
		}
		return true
	}
	return false
}

// callGone withdraws every ring of a call whose caller left.
func (d *Desk) callGone(callID, reason string) {
	d.mu.Lock()
	var ids []int64
	for id, r := range d.rings {
		if r.callID == callID {
			ids = append(ids, id)
		}
	}
	d.mu.Unlock()
	for _, id := range ids {
		d.unring(id, callID, reason)
	}
}

// ended tells the agent's page the call is over, and keeps it for the
// wrap-up.
func (d *Desk) ended(id int64, callID, reason string) {
	d.mu.Lock()
	if t := d.talks[id]; t != nil && t.call.deskID() == callID {
		t.ended = reason
	}
	d.mu.Unlock()
	d.send(id, map[string]any{"type": "call.ended", "call_id": callID, "reason": reason})
}

// answer takes the call ringing for the agent: the browser's offer gets a
// leg and an answer, the ACD puts the agent on the call, and the call
// bridges to the leg.
func (d *Desk) answer(ctx context.Context, ag agents.Agent, callID, offer string) error {
	d.mu.Lock()
	r, ok := d.rings[ag.ID]
	c := d.calls[callID]
	d.mu.Unlock()
	if ok && r.callID == callID && r.callback {
		return d.answerCallback(ctx, ag, r, offer)
	}
	if ok && r.callID == callID && r.phone {
		return errors.New("this call rings on your desk phone: answer it there")
	}
	if !ok || r.callID != callID || c == nil {
		return fmt.Errorf("call %s is not ringing for you (it may have been answered elsewhere or the caller left)", callID)
	}
	sctx, cancel := context.WithTimeout(ctx, d.cfg.ConnectTimeout)
	defer cancel()
	leg, answer, err := webrtc.Answer(sctx, d.rtcFor(c), offer, c.log.With("agent_id", ag.ID))
	if err != nil {
		return fmt.Errorf("your browser's audio: %w", err)
	}
	if err := d.acd.Answer(ctx, ag.ID, callID); err != nil {
		_ = leg.Close()
		return fmt.Errorf("the call is no longer yours to answer: %w", err)
	}
	d.mu.Lock()
	delete(d.rings, ag.ID)
	d.talks[ag.ID] = &talk{call: c, contact: r.contact, answered: time.Now(), fingerprint: fingerprint(offer), consult: r.consult}
	d.mu.Unlock()
	if r.consult != nil {
		d.send(ag.ID, map[string]any{"type": "call.sdp", "call_id": callID, "sdp": answer})
		d.consulted(c, r.consult, agentConn{agent: ag, leg: leg})
		return nil
	}
	select {
	case c.connect <- agentConn{agent: ag, leg: leg}:
	case <-c.ctx.Done():
		// The caller left between the ACD's answer and the bridge: the
		// agent goes to wrap-up as after any call.
		_ = leg.Close()
		if err := d.acd.Hangup(context.WithoutCancel(ctx), ag.ID, callID); err != nil {
			d.log.Warn("calls: the ACD did not take the hang-up", "agent_id", ag.ID, "call_id", callID, "err", err)
		}
		d.ended(ag.ID, callID, "caller_hangup")
		return fmt.Errorf("the caller hung up")
	}
	d.send(ag.ID, map[string]any{"type": "call.sdp", "call_id": callID, "sdp": answer})
	return nil
}

// restart answers a new offer from the agent's page during a call: an ICE
// restart of the same peer connection, or a new one after a reload (a new
// DTLS fingerprint), which gets a new leg.
func (d *Desk) restart(ctx context.Context, ag agents.Agent, callID, offer string) error {
	t, err := d.liveTalk(ag.ID, callID)
	if err != nil {
		return err
	}
	c := t.call
	fp := fingerprint(offer)
	c.bridgeMu.Lock()
	leg, browser := c.agentLeg.(*webrtc.Leg)
	c.bridgeMu.Unlock()
	if t.phone {
		return errors.New("this call is on your desk phone")
	}
	d.mu.Lock()
	k := t.consult
	d.mu.Unlock()
	if k != nil {
		// Consulted: the leg to restart is the consult's. A new page
		// cannot take over a consult; the consult goes on without it.
		k.mu.Lock()
		conn := k.conn
		k.mu.Unlock()
		var cl *webrtc.Leg
		if conn != nil {
			cl, _ = conn.leg.(*webrtc.Leg)
		}
		if cl == nil || fp != t.fingerprint || cl.Err() != nil {
			return errors.New("a consult cannot move to a new page; hang up and ask to be consulted again")
		}
		leg, browser = cl, true
	}
	if browser && fp == t.fingerprint && leg.Err() == nil {
		answer, err := leg.Restart(ctx, offer)
		if err != nil {
			return fmt.Errorf("restarting your audio: %w", err)
		}
		d.send(ag.ID, map[string]any{"type": "call.sdp", "call_id": callID, "sdp": answer})
		return nil
	}
	sctx, cancel := context.WithTimeout(ctx, d.cfg.ConnectTimeout)
	defer cancel()
	nl, answer, err := webrtc.Answer(sctx, d.rtcFor(c), offer, c.log.With("agent_id", ag.ID))
	if err != nil {
		return fmt.Errorf("your browser's audio: %w", err)
	}
	d.mu.Lock()
	t.fingerprint = fp
	d.mu.Unlock()
	select {
	case c.connect <- agentConn{agent: ag, leg: nl}:
	case <-c.ctx.Done():
		_ = nl.Close()
		return errors.New("the caller hung up")
	}
	d.send(ag.ID, map[string]any{"type": "call.sdp", "call_id": callID, "sdp": answer})
	return nil
}

// fingerprint is the DTLS fingerprint of an SDP (the first one): the same
// for every offer of one browser peer connection.
func fingerprint(sdp string) string {
	for _, line := range strings.Split(sdp, "\n") {
		if v, ok := strings.CutPrefix(strings.TrimSpace(line), "a=fingerprint:"); ok {
			return v
		}
	}
	return ""
}
