package web

import (
	"context"
	"errors"
	"net/http"

	"github.com/sambung/sambung/calls"
	"github.com/sambung/sambung/store"
)

// Monitor lets supervisors step into calls with agents: listen, whisper
// or barge over a WebRTC leg of their own (calls.Desk).
type Monitor interface {
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
}

// SetMonitor gives the server the desk that supervisors step into calls
// through. Call it before Serve; without it those routes answer 503.
func (s *Server) SetMonitor(m Monitor) { s.monitor = m }

// floor: GET /api/v1/floor is the wallboard: every queue and agent, the
// calls waiting or with an agent, and the ICE servers a supervisor's page
// needs to step into one.
func (s *Server) floor(w http.ResponseWriter, r *http.Request) {
	if s.monitor == nil {
		writeJSON(w, http.StatusOK, map[string]any{"queues": []any{}, "agents": []any{}, "calls": []any{}, "ice_servers": []any{}})
		return
	}
	f, err := s.monitor.Floor(r.Context())
	if err != nil {
		s.storeFailed(w, "read the floor", err)
		return
	}
	ice := s.monitor.ICEServers()
	if ice == nil {
		ice = []map[string]any{}
	}
	writeJSON(w, http.StatusOK, map[string]any{"queues": f.Queues, "agents": f.Agents, "calls": f.Calls, "ice_servers": ice})
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
		answer, err := s.monitor.Monitor(ctx, u, id, req.Mode, req.SDP)
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
		return map[string]any{"mode": req.Mode}, s.monitor.MonitorMode(ctx, u, id, req.Mode)
	})
}

// stopMonitor: DELETE /api/v1/calls/{id}/monitor leaves the call.
func (s *Server) stopMonitor(w http.ResponseWriter, r *http.Request) {
	s.monitorAction(w, r, "call.monitor_stop", "", func(ctx context.Context, u store.User, id string) (map[string]any, error) {
		return map[string]any{}, s.monitor.StopMonitor(ctx, u, id)
	})
}

// monitorAction runs one supervisor action on call {id}, audits it
// whatever its outcome, and answers.
func (s *Server) monitorAction(w http.ResponseWriter, r *http.Request, action, mode string,
	act func(context.Context, store.User, string) (map[string]any, error)) {
	if s.monitor == nil {
		writeError(w, http.StatusServiceUnavailable, "unavailable", "This server takes no calls to agents.")
		return
	}
	p, _ := principalFrom(r.Context())
	id := r.PathValue("id")
	out, err := act(r.Context(), p.user, id)
	outcome, detail := "ok", map[string]string{}
	if mode != "" {
		detail["mode"] = mode
	}
	if err != nil {
		outcome, detail["error"] = "failed", err.Error()
	}
	_ = s.audit.Record(r.Context(), s.auditEvent(r, p.user.Name, action, id, outcome, detail))
	switch {
	case err == nil:
		writeJSON(w, http.StatusOK, out)
	case errors.Is(err, calls.ErrNoSuchCall):
		writeError(w, http.StatusNotFound, "not_found", "No call "+id+" is in progress on this server.")
	case errors.Is(err, calls.ErrNoAgent), errors.Is(err, calls.ErrNotOnCall):
		writeError(w, http.StatusConflict, "conflict", "Call "+id+": "+err.Error()+".")
	case errors.Is(err, calls.ErrBadMode):
		writeError(w, http.StatusBadRequest, "bad_request", "mode: "+err.Error()+".")
	default:
		writeError(w, http.StatusBadRequest, "bad_request", "Call "+id+": "+err.Error()+".")
	}
}
