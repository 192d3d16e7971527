package web

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"strconv"
	"time"

	"github.com/sambung/sambung/store"
)

// JSON shapes of the API. Times are RFC 3339 in UTC; absent times are null.

type userJSON struct {
	ID          int64      `json:"id"`
	Name        string     `json:"name"`
	DisplayName string     `json:"display_name"`
	Role        store.Role `json:"role"`
	Disabled    bool       `json:"disabled"`
	CreatedAt   time.Time  `json:"created_at"`
}

func toUserJSON(u store.User) userJSON {
	return userJSON{ID: u.ID, Name: u.Name, DisplayName: u.DisplayName, Role: u.Role, Disabled: u.Disabled, CreatedAt: u.CreatedAt}
}

type auditEventJSON struct {
	ID         int64             `json:"id"`
	At         time.Time         `json:"at"`
	Actor      string            `json:"actor"`
	Action     string            `json:"action"`
	Target     string            `json:"target"`
	RemoteAddr string            `json:"remote_addr"`
	Outcome    string            `json:"outcome"`
	Detail     map[string]string `json:"detail"`
}

func auditJSON(e store.AuditEvent) auditEventJSON {
	return auditEventJSON{ID: e.ID, At: e.At, Actor: e.Actor, Action: e.Action, Target: e.Target,
		RemoteAddr: e.RemoteAddr, Outcome: e.Outcome, Detail: e.Detail}
}

type callJSON struct {
	ID         string     `json:"id"`
	Direction  string     `json:"direction"`
	From       string     `json:"from"`
	To         string     `json:"to"`
	Node       string     `json:"node"`
	StartedAt  time.Time  `json:"started_at"`
	AnsweredAt *time.Time `json:"answered_at"`
	EndedAt    *time.Time `json:"ended_at"`
	Outcome    string     `json:"outcome"`
	EndReason  string     `json:"end_reason"`
	// The summary QA searches by (store.CallSummary), once known.
	AgentID     int64    `json:"agent_id,omitempty"`
	Disposition string   `json:"disposition,omitempty"`
	Queue       string   `json:"queue,omitempty"`
	Intent      string   `json:"intent,omitempty"`
	Language    string   `json:"language,omitempty"`
	Sentiment   *float64 `json:"sentiment,omitempty"`
	Angry       bool     `json:"angry,omitempty"`
	CSAT        int      `json:"csat,omitempty"`
	Resolution  string   `json:"resolution,omitempty"`
	DurationMs  *int64   `json:"duration_ms,omitempty"`
}

func optTime(t time.Time) *time.Time {
	if t.IsZero() {
		return nil
	}
	return &t
}

func toCallJSON(c store.Call) callJSON {
	j := callJSON{ID: c.ID, Direction: string(c.Direction), From: c.From, To: c.To, Node: c.Node,
		StartedAt: c.StartedAt, AnsweredAt: optTime(c.AnsweredAt), EndedAt: optTime(c.EndedAt),
		Outcome: c.Outcome, EndReason: c.EndReason,
		AgentID: c.AgentID, Disposition: c.Disposition, Queue: c.Queue, Intent: c.Intent, Language: c.Language,
		Sentiment: c.Sentiment, Angry: c.Angry, CSAT: c.CSAT, Resolution: string(c.Resolution)}
	if !c.EndedAt.IsZero() {
		ms := c.Duration.Milliseconds()
		j.DurationMs = &ms
	}
	return j
}

type callEventJSON struct {
	ID   int64           `json:"id"`
	At   time.Time       `json:"at"`
	Kind string          `json:"kind"`
	Data json.RawMessage `json:"data"`
}

// storeFailed answers 503 for a store error the user cannot fix.
func (s *Server) storeFailed(w http.ResponseWriter, what string, err error) {
	s.log.Error("web: "+what, "err", err)
	writeError(w, http.StatusServiceUnavailable, "unavailable", "The database did not answer; try again shortly.")
}

func (s *Server) healthz(w http.ResponseWriter, r *http.Request) {
	writeJSON(w, http.StatusOK, map[string]string{"status": "ok", "node": s.cfg.Node, "version": s.cfg.Version})
}

// readyz says whether this node should be given work: not while draining,
// and not while the database is unreachable.
func (s *Server) readyz(w http.ResponseWriter, r *http.Request) {
	if s.draining.Load() {
		writeJSON(w, http.StatusServiceUnavailable, map[string]string{"status": "draining"})
		return
	}
	ctx, cancel := context.WithTimeout(r.Context(), 2*time.Second)
	defer cancel()
	if err := s.store.Ping(ctx); err != nil {
		s.log.Warn("web: readiness: database unreachable", "err", err)
		writeJSON(w, http.StatusServiceUnavailable, map[string]string{"status": "database unreachable"})
		return
	}
	writeJSON(w, http.StatusOK, map[string]string{"status": "ready"})
}

func (s *Server) actor(r *http.Request) Actor {
	p, _ := principalFrom(r.Context())
	return Actor{Name: p.user.Name, RemoteAddr: remoteIP(r)}
}

func (s *Server) listUsers(w http.ResponseWriter, r *http.Request) {
	users, err := s.store.ListUsers(r.Context())
	if err != nil {
		s.storeFailed(w, "list users", err)
		return
	}
	out := make([]userJSON, 0, len(users))
	for _, u := range users {
		out = append(out, toUserJSON(u))
	}
	writeJSON(w, http.StatusOK, map[string]any{"users": out})
}

type addUserRequest struct {
	Name        string     `json:"name"`
	DisplayName string     `json:"display_name"`
	Role        store.Role `json:"role"`
	Password    string     `json:"password"`
}

func (s *Server) addUser(w http.ResponseWriter, r *http.Request) {
	var req addUserRequest
	if !readJSON(w, r, &req) {
		return
	}
	u, err := s.accounts.Add(r.Context(), s.actor(r), req.Name, req.DisplayName, req.Role, req.Password)
	switch {
	case errors.Is(err, ErrBadUserName), errors.Is(err, ErrBadPassword), errors.Is(err, ErrBadRole):
		writeError(w, http.StatusBadRequest, "invalid", sentence(err))
	case errors.Is(err, store.ErrExists):
		writeError(w, http.StatusConflict, "exists", "A user named "+strconv.Quote(req.Name)+" already exists.")
	case err != nil:
		s.storeFailed(w, "add user", err)
	default:
		writeJSON(w, http.StatusCreated, map[string]any{"user": toUserJSON(u)})
	}
}

func (s *Server) disableUser(w http.ResponseWriter, r *http.Request) { s.setDisabled(w, r, true) }
func (s *Server) enableUser(w http.ResponseWriter, r *http.Request)  { s.setDisabled(w, r, false) }

func (s *Server) setDisabled(w http.ResponseWriter, r *http.Request, disabled bool) {
	name := r.PathValue("name")
	if p, _ := principalFrom(r.Context()); disabled && p.user.Name == name {
		writeError(w, http.StatusBadRequest, "invalid", "You cannot disable your own account.")
		return
	}
	u, err := s.accounts.SetDisabled(r.Context(), s.actor(r), name, disabled)
	switch {
	case errors.Is(err, store.ErrNotFound):
		writeError(w, http.StatusNotFound, "not_found", "No user named "+strconv.Quote(name)+".")
	case err != nil:
		s.storeFailed(w, "set user disabled", err)
	default:
		if disabled {
			s.hub.disconnect(func(c *wsClient) bool { return c.user.ID == u.ID })
		}
		writeJSON(w, http.StatusOK, map[string]any{"user": toUserJSON(u)})
	}
}

// queryInt reads an optional non-negative integer query parameter.
func queryInt(w http.ResponseWriter, r *http.Request, name string) (int, bool) {
	v := r.URL.Query().Get(name)
	if v == "" {
		return 0, true
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < 0 {
		writeError(w, http.StatusBadRequest, "bad_request", "Query parameter "+name+" must be a whole number.")
		return 0, false
	}
	return n, true
}

// queryTime reads an optional RFC 3339 time query parameter.
func queryTime(w http.ResponseWriter, r *http.Request, name string) (time.Time, bool) {
	v := r.URL.Query().Get(name)
	if v == "" {
		return time.Time{}, true
	}
	t, err := time.Parse(time.RFC3339, v)
	if err != nil {
		writeError(w, http.StatusBadRequest, "bad_request", "Query parameter "+name+" must be an RFC 3339 time such as 2026-11-23T09:00:00Z.")
		return time.Time{}, false
	}
	return t, true
}

func (s *Server) listAudit(w http.ResponseWriter, r *http.Request) {
	limit, ok := queryInt(w, r, "limit")
	if !ok {
		return
	}
	since, ok := queryTime(w, r, "since")
	if !ok {
		return
	}
	q := r.URL.Query()
	events, err := s.store.ListAudit(r.Context(), store.AuditFilter{
		Action: q.Get("action"), Actor: q.Get("actor"), Target: q.Get("target"), Since: since, Limit: limit,
	})
	if err != nil {
		s.storeFailed(w, "list audit", err)
		return
	}
	out := make([]auditEventJSON, 0, len(events))
	for _, e := range events {
		out = append(out, auditJSON(e))
	}
	writeJSON(w, http.StatusOK, map[string]any{"events": out})
}

func (s *Server) listCalls(w http.ResponseWriter, r *http.Request) {
	limit, ok := queryInt(w, r, "limit")
	if !ok {
		return
	}
	since, ok := queryTime(w, r, "since")
	if !ok {
		return
	}
	until, ok := queryTime(w, r, "until")
	if !ok {
		return
	}
	calls, err := s.store.ListCalls(r.Context(), store.CallFilter{Since: since, Until: until, Before: r.URL.Query().Get("before"), Limit: limit})
	if err != nil {
		s.storeFailed(w, "list calls", err)
		return
	}
	out := make([]callJSON, 0, len(calls))
	for _, c := range calls {
		out = append(out, toCallJSON(c))
	}
	resp := map[string]any{"calls": out}
	if len(calls) > 0 {
		resp["next"] = calls[len(calls)-1].ID
	}
	writeJSON(w, http.StatusOK, resp)
}

// getCall: GET /api/v1/calls/{id} is the call's record and timeline. An
// agent may read only the calls they took (403 otherwise, audited).
func (s *Server) getCall(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("id")
	c, err := s.store.CallByID(r.Context(), id)
	if errors.Is(err, store.ErrNotFound) {
		writeError(w, http.StatusNotFound, "not_found", "No call with id "+strconv.Quote(id)+".")
		return
	}
	if err != nil {
		s.storeFailed(w, "get call", err)
		return
	}
	if p, _ := principalFrom(r.Context()); p.user.Role == store.RoleAgent {
		mine, err := s.agentTook(r, c, p.user.ID)
		if err != nil {
			s.storeFailed(w, "call events", err)
			return
		}
		if !mine {
			_ = s.audit.Record(r.Context(), s.auditEvent(r, p.user.Name, "call.read", id, "denied",
				map[string]string{"reason": "not the agent's call"}))
			writeError(w, http.StatusForbidden, "forbidden", "You can see only the calls you took.")
			return
		}
	}
	evs, err := s.store.CallEvents(r.Context(), id)
	if err != nil {
		s.storeFailed(w, "call events", err)
		return
	}
	out := make([]callEventJSON, 0, len(evs))
	for _, e := range evs {
		out = append(out, callEventJSON{ID: e.ID, At: e.At, Kind: e.Kind, Data: e.Data})
	}
	writeJSON(w, http.StatusOK, map[string]any{"call": toCallJSON(c), "events": out})
}

// sentence turns an account error into a message for a person: the policy
// sentence, capitalised, with a full stop.
func sentence(err error) string {
	for _, e := range []error{ErrBadUserName, ErrBadPassword, ErrBadRole} {
		if errors.Is(err, e) {
			m := e.Error()
			return string(m[0]-'a'+'A') + m[1:] + "."
		}
	}
	return err.Error()
}
