package web

import (
	"encoding/json"
	"errors"
	"net/http"
	"strconv"
	"strings"

	"github.com/sambung/sambung/recordings"
	"github.com/sambung/sambung/store"
)

// SetRecordings gives the server where the calls' recordings are kept, for
// playback. Call it before Serve; without it playback answers 503.
func (s *Server) SetRecordings(st recordings.Storage) { s.recordings = st }

// playRecording: GET /api/v1/calls/{id}/recording is the call's recording,
// a stereo WAV (the caller left, what the caller heard right), decrypted
// on the fly when it is kept sealed. It serves range requests, so a
// browser's player can seek. QA, supervisors and admins may play any
// call's; an agent only those of calls they took (403 otherwise, audited
// as recording.play denied). A playback is audited once, at its first
// request (no Range, or a range from byte 0), not at every seek.
func (s *Server) playRecording(w http.ResponseWriter, r *http.Request) {
	pb, rec, user, ok := s.openRecording(w, r, "recording.play")
	if !ok {
		return
	}
	defer pb.Close()
	if rg := r.Header.Get("Range"); rg == "" || strings.HasPrefix(rg, "bytes=0-") {
		_ = s.audit.Record(r.Context(), s.auditEvent(r, user.Name, "recording.play", rec.CallID, "ok",
			map[string]string{"recording_id": strconv.FormatInt(rec.ID, 10)}))
	}
	w.Header().Set("Content-Type", "audio/wav")
	w.Header().Set("Cache-Control", "private, no-store")
	http.ServeContent(w, r, "", pb.ModTime(), pb)
}

// recordingPeaks: GET /api/v1/calls/{id}/recording/peaks?n=N is the
// recording's waveform for the player: each channel's loudest sample in
// each of N stretches (default 600, at most 4000), and its duration. The
// same people may read it as may play the recording.
func (s *Server) recordingPeaks(w http.ResponseWriter, r *http.Request) {
	n, ok := queryInt(w, r, "n")
	if !ok {
		return
	}
	if n == 0 {
		n = 600
	}
	if n < 1 || n > 4000 {
		writeError(w, http.StatusBadRequest, "bad_request", "n: the number of stretches is 1 to 4000.")
		return
	}
	pb, rec, _, ok := s.openRecording(w, r, "recording.peaks")
	if !ok {
		return
	}
	defer pb.Close()
	p, err := recordings.ReadPeaks(pb, n)
	if err != nil {
		s.log.Error("web: recording unreadable", "call_id", rec.CallID, "path", rec.Path, "err", err)
		writeError(w, http.StatusInternalServerError, "recording_unreadable", "The recording of call "+rec.CallID+" could not be read; the server log says why.")
		return
	}
	writeJSON(w, http.StatusOK, p)
}

// openRecording opens the recording of the call the request names, for
// the user asking, or answers why not (audited as action, denied, when an
// agent asks for another's call).
func (s *Server) openRecording(w http.ResponseWriter, r *http.Request, action string) (recordings.Playback, store.Recording, store.User, bool) {
	id := r.PathValue("id")
	p, _ := principalFrom(r.Context())
	fail := func() (recordings.Playback, store.Recording, store.User, bool) {
		return nil, store.Recording{}, p.user, false
	}
	if s.recordings == nil {
		writeError(w, http.StatusServiceUnavailable, "unavailable", "This server keeps no recordings.")
		return fail()
	}
	c, err := s.store.CallByID(r.Context(), id)
	if errors.Is(err, store.ErrNotFound) {
		writeError(w, http.StatusNotFound, "not_found", "No call with id "+strconv.Quote(id)+".")
		return fail()
	}
	if err != nil {
		s.storeFailed(w, "get call", err)
		return fail()
	}
	if p.user.Role == store.RoleAgent {
		mine, err := s.agentTook(r, c, p.user.ID)
		if err != nil {
			s.storeFailed(w, "call events", err)
			return fail()
		}
		if !mine {
			_ = s.audit.Record(r.Context(), s.auditEvent(r, p.user.Name, action, id, "denied",
				map[string]string{"reason": "not the agent's call"}))
			writeError(w, http.StatusForbidden, "forbidden", "You can play only the recordings of calls you took.")
			return fail()
		}
	}
	recs, err := s.store.CallRecordings(r.Context(), id)
	if err != nil {
		s.storeFailed(w, "call recordings", err)
		return fail()
	}
	if len(recs) == 0 {
		writeError(w, http.StatusNotFound, "not_found", "Call "+id+" was not recorded.")
		return fail()
	}
	rec := recs[0]
	pb, err := s.recordings.Open(rec.Path)
	if errors.Is(err, recordings.ErrNoRecording) {
		writeError(w, http.StatusNotFound, "not_found", "The recording of call "+id+" is no longer kept.")
		return fail()
	}
	if err != nil {
		s.log.Error("web: recording not opened", "call_id", id, "path", rec.Path, "err", err)
		writeError(w, http.StatusInternalServerError, "recording_unreadable", "The recording of call "+id+" could not be read; the server log says why.")
		return fail()
	}
	return pb, rec, p.user, true
}

// agentTook reports whether agent uid had call c: its wrap-up is theirs,
// or they were connected to it (a call transferred on has several agents).
func (s *Server) agentTook(r *http.Request, c store.Call, uid int64) (bool, error) {
	if c.AgentID == uid {
		return true, nil
	}
	evs, err := s.store.CallEvents(r.Context(), c.ID)
	if err != nil {
		return false, err
	}
	for _, e := range evs {
		if e.Kind != "agent.connected" {
			continue
		}
		var d struct {
			AgentID int64 `json:"agent_id"`
		}
		if json.Unmarshal(e.Data, &d) == nil && d.AgentID == uid {
			return true, nil
		}
	}
	return false, nil
}
