package web

import (
	"errors"
	"net/http"
	"strconv"
	"strings"

	"github.com/sambung/sambung/recordings"
	"github.com/sambung/sambung/store"
)

// Legal hold and erasure (docs/qa.md): admins put a call on hold, which
// retention and erasure leave alone, and erase everything about a caller
// on request. Both are audited.

type holdRequest struct {
	On     *bool  `json:"on"`
	Reason string `json:"reason"`
}

// legalHold: POST /api/v1/calls/{id}/hold {"on": true, "reason": "..."}
// puts the call on legal hold, or {"on": false} releases it.
func (s *Server) legalHold(w http.ResponseWriter, r *http.Request) {
	var req holdRequest
	if !readJSON(w, r, &req) {
		return
	}
	if req.On == nil {
		writeError(w, http.StatusBadRequest, "bad_request", `Say "on": true to hold the call, or false to release it.`)
		return
	}
	id := r.PathValue("id")
	p, _ := principalFrom(r.Context())
	action := "call.release"
	if *req.On {
		action = "call.hold"
	}
	reason := strings.TrimSpace(req.Reason)
	err := s.store.SetLegalHold(r.Context(), id, *req.On, p.user.Name, reason)
	outcome, detail := "ok", map[string]string{"reason": reason}
	if err != nil {
		outcome, detail["error"] = "failed", err.Error()
	}
	_ = s.audit.Record(r.Context(), s.auditEvent(r, p.user.Name, action, id, outcome, detail))
	switch {
	case err == nil:
		writeJSON(w, http.StatusOK, map[string]any{"call_id": id, "on": *req.On})
	case errors.Is(err, store.ErrNotFound):
		writeError(w, http.StatusNotFound, "not_found", "No call with id "+strconv.Quote(id)+".")
	case errors.Is(err, store.ErrInvalid):
		writeError(w, http.StatusBadRequest, "bad_request", "reason: say why the call is held (a case, a request).")
	default:
		s.storeFailed(w, "legal hold", err)
	}
}

type erasureRequest struct {
	Caller string `json:"caller"`
}

// eraseCaller: POST /api/v1/erasures {"caller": "+62811..."} erases every
// call from that caller: recordings, transcripts, timelines, evaluations,
// comments. A call of theirs on legal hold stops it before anything is
// erased (409, naming the call). The audit trail names the caller by a
// digest only (recordings.CallerRef).
func (s *Server) eraseCaller(w http.ResponseWriter, r *http.Request) {
	var req erasureRequest
	if !readJSON(w, r, &req) {
		return
	}
	caller := strings.TrimSpace(req.Caller)
	if caller == "" {
		writeError(w, http.StatusBadRequest, "bad_request", "caller: the caller's number (or SIP user), exactly as the calls have it.")
		return
	}
	if s.recordings == nil {
		writeError(w, http.StatusServiceUnavailable, "unavailable", "This server does not know where recordings are kept, so it cannot erase them.")
		return
	}
	p, _ := principalFrom(r.Context())
	e, err := recordings.EraseCaller(r.Context(), s.store, s.recordings, s.audit, p.user.Name, caller)
	switch {
	case errors.Is(err, store.ErrHeld):
		writeError(w, http.StatusConflict, "held", strings.TrimPrefix(err.Error(), "erase calls: ")+": release the hold first, or keep the caller's calls.")
	case err != nil && e.Calls > 0:
		s.log.Error("web: erasure left files behind", "err", err)
		writeError(w, http.StatusInternalServerError, "partial", "The calls were erased, but some recording files could not be deleted; the server log names them.")
	case err != nil:
		s.storeFailed(w, "erase caller", err)
	default:
		writeJSON(w, http.StatusOK, map[string]any{"calls": e.Calls, "files": e.Files, "caller_ref": recordings.CallerRef(caller)})
	}
}
