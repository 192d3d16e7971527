package web

import (
	"errors"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/sambung/sambung/store"
)

// searchCalls: GET /api/v1/qa/calls finds calls for review (docs/qa.md).
// Query parameters, each optional: since, until (RFC 3339), agent (a
// sign-in name), queue, intent, language, disposition, resolution (ivr,
// agent, abandoned), from (the caller), mood (angry, or negative: a
// sentiment below -0.35), min_duration, max_duration (Go durations such
// as 60s), csat_min, csat_max (1-5), recorded (1: only calls with a
// recording), before (the next page's cursor), limit (1-200, default 50),
// count (1: the total too). QA, supervisors and admins search every call;
// an agent only the calls they wrapped up, whatever agent they name.
func (s *Server) searchCalls(w http.ResponseWriter, r *http.Request) {
	p, _ := principalFrom(r.Context())
	f, msg := parseSearch(r.URL.Query())
	if msg != "" {
		writeError(w, http.StatusBadRequest, "bad_request", msg)
		return
	}
	users, err := s.store.ListUsers(r.Context())
	if err != nil {
		s.storeFailed(w, "list users", err)
		return
	}
	names := make(map[int64]string, len(users))
	for _, u := range users {
		names[u.ID] = u.Name
		if u.DisplayName != "" {
			names[u.ID] = u.DisplayName
		}
	}
	if name := r.URL.Query().Get("agent"); name != "" && p.user.Role != store.RoleAgent {
		f.AgentID = -1 // nobody: an unknown name matches no call
		for _, u := range users {
			if u.Name == name {
				f.AgentID = u.ID
			}
		}
		if f.AgentID < 0 {
			writeJSON(w, http.StatusOK, map[string]any{"calls": []any{}, "next": "", "total": 0})
			return
		}
	}
	if p.user.Role == store.RoleAgent {
		f.AgentID = p.user.ID
	}
	page, err := s.store.SearchCalls(r.Context(), f)
	switch {
	case errors.Is(err, store.ErrInvalid):
		writeError(w, http.StatusBadRequest, "bad_request", "The search "+strings.TrimPrefix(err.Error(), "search calls: ")+".")
		return
	case errors.Is(err, store.ErrNotFound):
		writeError(w, http.StatusBadRequest, "bad_request", "before: no such call; start again from the first page.")
		return
	case err != nil:
		s.storeFailed(w, "search calls", err)
		return
	}
	type found struct {
		callJSON
		Agent string `json:"agent,omitempty"`
	}
	out := make([]found, 0, len(page.Calls))
	for _, c := range page.Calls {
		out = append(out, found{callJSON: toCallJSON(c), Agent: names[c.AgentID]})
	}
	resp := map[string]any{"calls": out, "next": page.Next}
	if f.Count {
		resp["total"] = page.Total
	}
	writeJSON(w, http.StatusOK, resp)
}

// parseSearch reads a search's query parameters (all but agent), or says
// which is wrong and how.
func parseSearch(q url.Values) (store.CallSearch, string) {
	var f store.CallSearch
	var msg string
	at := func(name string) time.Time {
		v := q.Get(name)
		if v == "" || msg != "" {
			return time.Time{}
		}
		t, err := time.Parse(time.RFC3339, v)
		if err != nil {
			msg = name + " must be an RFC 3339 time such as 2026-11-23T09:00:00Z."
		}
		return t
	}
	num := func(name string, lo, hi int) int {
		v := q.Get(name)
		if v == "" || msg != "" {
			return 0
		}
		n, err := strconv.Atoi(v)
		if err != nil || n < lo || n > hi {
			msg = name + " must be a whole number from " + strconv.Itoa(lo) + " to " + strconv.Itoa(hi) + "."
		}
		return n
	}
	dur := func(name string) time.Duration {
		v := q.Get(name)
		if v == "" || msg != "" {
			return 0
		}
		d, err := time.ParseDuration(v)
		if err != nil || d < 0 {
			msg = name + " must be a duration such as 60s or 5m."
		}
		return d
	}
	f.Since, f.Until = at("since"), at("until")
	f.Queue, f.Intent, f.Language = q.Get("queue"), q.Get("intent"), q.Get("language")
	f.Disposition, f.From, f.Before = q.Get("disposition"), q.Get("from"), q.Get("before")
	f.Resolution = store.Resolution(q.Get("resolution"))
	if !f.Resolution.Valid() {
		msg = "resolution must be ivr, agent or abandoned."
	}
	switch q.Get("mood") {
	case "":
	case "angry":
		f.AngryOnly = true
	case "negative":
		neg := -0.35
		f.MaxSentiment = &neg
	default:
		msg = "mood must be angry or negative."
	}
	f.MinDuration, f.MaxDuration = dur("min_duration"), dur("max_duration")
	f.MinCSAT, f.MaxCSAT = num("csat_min", 1, 5), num("csat_max", 1, 5)
	f.Limit = num("limit", 1, 200)
	f.Count = q.Get("count") == "1"
	f.HasRecording = q.Get("recorded") == "1"
	return f, msg
}
