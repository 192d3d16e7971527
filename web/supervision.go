package web

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/sambung/sambung/agents"
	"github.com/sambung/sambung/calls"
	"github.com/sambung/sambung/store"
)

// Supervision is the supervisors' side of the desk (calls.Desk): the floor,
// stepping into calls with agents (listen, whisper or barge over a WebRTC
// leg of their own), and actions on agents and waiting calls.
type Supervision interface {
	// Monitor puts u on the call in mode, answering their page's SDP
	// offer; it returns the answer.
	Monitor(ctx context.Context, u store.User, callID, mode, offer string) (string, error)
	// MonitorMode switches u's mode on the call.
	MonitorMode(ctx context.Context, u store.User, callID, mode string) error
	// StopMonitor takes u off the call.
	StopMonitor(ctx context.Context, u store.User, callID string) error
	// Floor is the wallboard: queues, agents, and the calls waiting or
	// with an agent.
	Floor(ctx context.Context) (calls.Floor, error)
	// ICEServers are the STUN and TURN servers for the page's peer
	// connection, as RTCIceServer objects.
	ICEServers() []map[string]any
	// HeatMap counts the calls the IVR did not resolve since a time, by
	// intent and hour.
	HeatMap(ctx context.Context, since time.Time) (calls.HeatMap, error)
	// Today is today's queued calls by hour, for the charts.
	Today(ctx context.Context) ([]calls.DayHour, error)
	// SetAgentState sets an agent's state (available, away with a
	// reason, offline) for supervisor u.
	SetAgentState(ctx context.Context, u store.User, agentID int64, state, reason string) error
	// LogOut sets an agent offline and ends their desk pages, for u.
	LogOut(ctx context.Context, u store.User, agentID int64) error
	// MoveCall sends a waiting call to another queue, or to the agent
	// named, for u.
	MoveCall(ctx context.Context, u store.User, callID, queue, agent string) error
	// PausePCI pauses (paused) or resumes what a call with an agent
	// keeps while card details are given: u is the agent on the call, or
	// a supervisor or admin.
	PausePCI(ctx context.Context, u store.User, callID string, paused bool) error
}

// SetSupervision gives the server the desk that supervisors run the floor
// through. Call it before Serve; without it those routes answer 503.
func (s *Server) SetSupervision(sv Supervision) { s.supervision = sv }

// floor: GET /api/v1/floor is the wallboard: every queue and agent, the
// calls waiting or with an agent, and the ICE servers a supervisor's page
// needs to step into one.
func (s *Server) floor(w http.ResponseWriter, r *http.Request) {
	if s.supervision == nil {
		writeJSON(w, http.StatusOK, map[string]any{"queues": []any{}, "agents": []any{}, "calls": []any{}, "ice_servers": []any{}})
		return
	}
	f, err := s.supervision.Floor(r.Context())
	if err != nil {
		s.storeFailed(w, "read the floor", err)
		return
	}
	ice := s.supervision.ICEServers()
	if ice == nil {
		ice = []map[string]any{}
	}
	writeJSON(w, http.StatusOK, map[string]any{"queues": f.Queues, "agents": f.Agents, "calls": f.Calls, "ice_servers": ice})
}

// heatMap: GET /api/v1/floor/heatmap?days=N is what the IVR could not
// resolve over the last N days (default 7, at most 31): the calls that
// went to agents or were abandoned, by intent and hour of the day.
func (s *Server) heatMap(w http.ResponseWriter, r *http.Request) {
	days, ok := queryInt(w, r, "days")
	if !ok {
		return
	}
	if days == 0 {
		days = 7
	}
	if days > 31 {
		writeError(w, http.StatusBadRequest, "bad_request", "Query parameter days is at most 31.")
		return
	}
	if s.supervision == nil {
		writeJSON(w, http.StatusOK, calls.HeatMap{Intents: []string{}, Cells: []calls.HeatCell{}})
		return
	}
	hm, err := s.supervision.HeatMap(r.Context(), s.now().Add(-time.Duration(days)*24*time.Hour))
	if err != nil {
		s.storeFailed(w, "read the heat map", err)
		return
	}
	writeJSON(w, http.StatusOK, hm)
}

// today: GET /api/v1/floor/today is today's queued calls by hour:
// answered, answered within the service level, abandoned.
func (s *Server) today(w http.ResponseWriter, r *http.Request) {
	if s.supervision == nil {
		writeJSON(w, http.StatusOK, map[string]any{"hours": []calls.DayHour{}})
		return
	}
	hs, err := s.supervision.Today(r.Context())
	if err != nil {
		s.storeFailed(w, "read today's figures", err)
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"hours": hs})
}

type monitorRequest struct {
	Mode string `json:"mode"`
	SDP  string `json:"sdp,omitempty"`
}

// monitorCall: POST /api/v1/calls/{id}/monitor {mode, sdp} answers the
// supervisor's WebRTC offer with the call's audio in that mode.
func (s *Server) monitorCall(w http.ResponseWriter, r *http.Request) {
	var req monitorRequest
	if !readJSON(w, r, &req) {
		return
	}
	if req.SDP == "" {
		writeError(w, http.StatusBadRequest, "bad_request", "sdp: your page's WebRTC offer is missing.")
		return
	}
	s.monitorAction(w, r, "call.monitor", req.Mode, func(ctx context.Context, u store.User, id string) (map[string]any, error) {
		answer, err := s.supervision.Monitor(ctx, u, id, req.Mode, req.SDP)
		return map[string]any{"sdp": answer, "mode": req.Mode}, err
	})
}

// monitorMode: POST /api/v1/calls/{id}/monitor/mode {mode} switches
// between listen, whisper and barge.
func (s *Server) monitorMode(w http.ResponseWriter, r *http.Request) {
	var req monitorRequest
	if !readJSON(w, r, &req) {
		return
	}
	s.monitorAction(w, r, "call.monitor_mode", req.Mode, func(ctx context.Context, u store.User, id string) (map[string]any, error) {
		return map[string]any{"mode": req.Mode}, s.supervision.MonitorMode(ctx, u, id, req.Mode)
	})
}

// stopMonitor: DELETE /api/v1/calls/{id}/monitor leaves the call.
func (s *Server) stopMonitor(w http.ResponseWriter, r *http.Request) {
	s.monitorAction(w, r, "call.monitor_stop", "", func(ctx context.Context, u store.User, id string) (map[string]any, error) {
		return map[string]any{}, s.supervision.StopMonitor(ctx, u, id)
	})
}

// monitorAction runs one supervisor action on call {id} (mode, when
// set, is audited with it).
func (s *Server) monitorAction(w http.ResponseWriter, r *http.Request, action, mode string,
	act func(context.Context, store.User, string) (map[string]any, error)) {
	id := r.PathValue("id")
	detail := map[string]string{}
	if mode != "" {
		detail["mode"] = mode
	}
	s.supervised(w, r, action, id, "Call "+id, detail, func(ctx context.Context, u store.User) (map[string]any, error) {
		return act(ctx, u, id)
	})
}

// supervised runs one supervisor action on target (what, in messages),
// audits it whatever its outcome, with detail, and answers: out, or the
// status the error calls for.
func (s *Server) supervised(w http.ResponseWriter, r *http.Request, action, target, what string, detail map[string]string,
	act func(context.Context, store.User) (map[string]any, error)) {
	if s.supervision == nil {
		writeError(w, http.StatusServiceUnavailable, "unavailable", "This server takes no calls to agents.")
		return
	}
	p, _ := principalFrom(r.Context())
	out, err := act(r.Context(), p.user)
	outcome := "ok"
	if err != nil {
		outcome, detail["error"] = "failed", err.Error()
	}
	_ = s.audit.Record(r.Context(), s.auditEvent(r, p.user.Name, action, target, outcome, detail))
	switch {
	case err == nil:
		writeJSON(w, http.StatusOK, out)
	case errors.Is(err, calls.ErrNoSuchCall):
		writeError(w, http.StatusNotFound, "not_found", "No call "+target+" is in progress on this server.")
	case errors.Is(err, store.ErrNotFound):
		writeError(w, http.StatusNotFound, "not_found", "No "+strings.ToLower(what)+".")
	case errors.Is(err, calls.ErrNoAgent), errors.Is(err, calls.ErrNotOnCall), errors.Is(err, agents.ErrNotWaiting),
		errors.Is(err, agents.ErrTransition):
		writeError(w, http.StatusConflict, "conflict", what+": "+err.Error()+".")
	case errors.Is(err, calls.ErrBadMode):
		writeError(w, http.StatusBadRequest, "bad_request", "mode: "+err.Error()+".")
	default:
		writeError(w, http.StatusBadRequest, "bad_request", what+": "+err.Error()+".")
	}
}

type agentStateRequest struct {
	State  string `json:"state"`
	Reason string `json:"reason,omitempty"`
}

// agentState: POST /api/v1/agents/{id}/state {state, reason} sets an
// agent's state: available, away (with one of the away reasons) or
// offline.
func (s *Server) agentState(w http.ResponseWriter, r *http.Request) {
	var req agentStateRequest
	if !readJSON(w, r, &req) {
		return
	}
	s.agentAction(w, r, "agent.set_state", func(ctx context.Context, u store.User, id int64) error {
		return s.supervision.SetAgentState(ctx, u, id, req.State, req.Reason)
	})
}

// agentLogout: POST /api/v1/agents/{id}/logout sets the agent offline and
// signs them out: their desk pages end, and their sessions with them.
func (s *Server) agentLogout(w http.ResponseWriter, r *http.Request) {
	s.agentAction(w, r, "agent.logout", func(ctx context.Context, u store.User, id int64) error {
		if err := s.supervision.LogOut(ctx, u, id); err != nil {
			return err
		}
		if _, err := s.store.DeleteUserSessions(ctx, id); err != nil {
			return fmt.Errorf("end their sessions: %w", err)
		}
		s.hub.disconnect(func(c *wsClient) bool { return c.user.ID == id })
		return nil
	})
}

// agentAction runs one supervisor action on agent {id}.
func (s *Server) agentAction(w http.ResponseWriter, r *http.Request, action string,
	act func(context.Context, store.User, int64) error) {
	id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
	if err != nil || id <= 0 {
		writeError(w, http.StatusNotFound, "not_found", "No agent "+strconv.Quote(r.PathValue("id"))+".")
		return
	}
	target := strconv.FormatInt(id, 10)
	s.supervised(w, r, action, target, "Agent "+target, map[string]string{}, func(ctx context.Context, u store.User) (map[string]any, error) {
		return map[string]any{}, act(ctx, u, id)
	})
}

type moveRequest struct {
	Queue string `json:"queue,omitempty"`
	Agent string `json:"agent,omitempty"`
}

// moveCall: POST /api/v1/calls/{id}/move {queue} or {agent} sends a call
// waiting in a queue to another queue, or to one agent by sign-in name.
func (s *Server) moveCall(w http.ResponseWriter, r *http.Request) {
	var req moveRequest
	if !readJSON(w, r, &req) {
		return
	}
	if (req.Queue == "") == (req.Agent == "") {
		writeError(w, http.StatusBadRequest, "bad_request", "Name a queue or an agent to move the call to, not both.")
		return
	}
	to := req.Queue
	if req.Agent != "" {
		to = "agent " + req.Agent
	}
	s.monitorAction(w, r, "call.move", to, func(ctx context.Context, u store.User, id string) (map[string]any, error) {
		return map[string]any{}, s.supervision.MoveCall(ctx, u, id, req.Queue, req.Agent)
	})
}

type pciRequest struct {
	Paused *bool `json:"paused"`
}

// pciPause: POST /api/v1/calls/{id}/pci {"paused": true|false} pauses or
// resumes what a call keeps while a caller gives card details (the
// recording goes silent, keys are masked; docs/softphone.md). The agent
// on the call may, and supervisors and admins; another agent gets the
// same 404 as for a call that does not exist. Audited either way.
func (s *Server) pciPause(w http.ResponseWriter, r *http.Request) {
	var req pciRequest
	if !readJSON(w, r, &req) {
		return
	}
	if req.Paused == nil {
		writeError(w, http.StatusBadRequest, "bad_request", `Say "paused": true to pause the recording, or false to resume it.`)
		return
	}
	action := "call.pci_resume"
	if *req.Paused {
		action = "call.pci_pause"
	}
	s.monitorAction(w, r, action, "", func(ctx context.Context, u store.User, id string) (map[string]any, error) {
		return map[string]any{"paused": *req.Paused}, s.supervision.PausePCI(ctx, u, id, *req.Paused)
	})
}
