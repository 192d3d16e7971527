package web

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"math"
	"net"
	"net/http"
	"strconv"
	"time"

	"github.com/sambung/sambung/store"
)

const sessionCookie = "sambung_session"

// touchEvery limits session writes: activity moves the expiry at most once a minute.
const touchEvery = time.Minute

func newToken() string {
	b := make([]byte, 32)
	_, _ = rand.Read(b) // cannot fail since Go 1.24
	return base64.RawURLEncoding.EncodeToString(b)
}

func hashToken(tok string) []byte {
	h := sha256.Sum256([]byte(tok))
	return h[:]
}

// authenticate finds the request's session from its cookie. A disabled
// user's session does not count.
func (s *Server) authenticate(r *http.Request) (principal, bool) {
	c, err := r.Cookie(sessionCookie)
	if err != nil || c.Value == "" {
		return principal{}, false
	}
	sess, u, err := s.store.SessionUser(r.Context(), hashToken(c.Value), s.now())
	if err != nil {
		if !errors.Is(err, store.ErrNotFound) {
			s.log.Error("web: session lookup failed", "err", err)
		}
		return principal{}, false
	}
	if u.Disabled {
		return principal{}, false
	}
	return principal{user: u, session: sess}, true
}

// touch slides the session's expiry on activity.
func (s *Server) touch(ctx context.Context, sess store.Session) {
	now := s.now()
	if now.Sub(sess.LastSeenAt) < touchEvery {
		return
	}
	if err := s.store.TouchSession(ctx, sess.TokenHash, now, now.Add(s.cfg.SessionTTL)); err != nil {
		s.log.Warn("web: session touch failed", "err", err)
	}
}

func (s *Server) setSessionCookie(w http.ResponseWriter, token string, maxAge time.Duration) {
	http.SetCookie(w, &http.Cookie{
		Name:     sessionCookie,
		Value:    token,
		Path:     "/",
		MaxAge:   int(maxAge / time.Second),
		HttpOnly: true,
		Secure:   !s.cfg.InsecureCookies,
		SameSite: http.SameSiteStrictMode,
	})
}

// remoteIP is the client's address without the port. Proxy headers are not
// trusted: behind a proxy, every client would share the proxy's address.
func remoteIP(r *http.Request) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return r.RemoteAddr
	}
	return host
}

func (s *Server) auditEvent(r *http.Request, actor, action, target, outcome string, detail map[string]string) store.AuditEvent {
	return store.AuditEvent{At: s.now(), Actor: actor, Action: action, Target: target,
		RemoteAddr: remoteIP(r), Outcome: outcome, Detail: detail}
}

type loginRequest struct {
	Name     string `json:"name"`
	Password string `json:"password"`
}

// sessionJSON is what login and /me return.
type sessionJSON struct {
	User      userJSON `json:"user"`
	CSRFToken string   `json:"csrf_token"`
	Landing   string   `json:"landing"`
	Node      string   `json:"node,omitempty"`
	Version   string   `json:"version,omitempty"`
}

func (s *Server) login(w http.ResponseWriter, r *http.Request) {
	var req loginRequest
	if !readJSON(w, r, &req) {
		return
	}
	if req.Name == "" || req.Password == "" {
		writeError(w, http.StatusBadRequest, "bad_request", "Give a name and a password.")
		return
	}
	ctx, ip := r.Context(), remoteIP(r)
	wait, err := s.throttle.wait(ctx, req.Name, ip)
	if err != nil {
		s.log.Error("web: login throttle check failed", "err", err)
		writeError(w, http.StatusServiceUnavailable, "unavailable", "Sign-in is unavailable right now; try again shortly.")
		return
	}
	if wait > 0 {
		secs := int(math.Ceil(wait.Seconds()))
		s.metrics.logins.WithLabelValues("throttled").Inc()
		_ = s.audit.Record(ctx, s.auditEvent(r, "", "login.throttled", req.Name, "denied",
			map[string]string{"retry_after_seconds": strconv.Itoa(secs)}))
		w.Header().Set("Retry-After", strconv.Itoa(secs))
		writeJSON(w, http.StatusTooManyRequests, map[string]any{"error": map[string]any{
			"code":                "throttled",
			"message":             "Too many failed sign-ins. Wait " + strconv.Itoa(secs) + " s and try again.",
			"retry_after_seconds": secs,
		}})
		return
	}

	u, err := s.store.UserByName(ctx, req.Name)
	hash, reason := u.PasswordHash, ""
	switch {
	case errors.Is(err, store.ErrNotFound):
		hash, reason = dummyHash(), "unknown_user"
	case err != nil:
		s.log.Error("web: user lookup failed", "err", err)
		writeError(w, http.StatusServiceUnavailable, "unavailable", "Sign-in is unavailable right now; try again shortly.")
		return
	}
	ok, err := CheckPassword(hash, req.Password)
	switch {
	case err != nil:
		s.log.Error("web: stored password hash unreadable", "user", req.Name, "err", err)
		reason = "bad_hash"
	case reason == "" && !ok:
		reason = "wrong_password"
	case reason == "" && u.Disabled:
		reason = "disabled"
	}
	if reason != "" {
		s.metrics.logins.WithLabelValues("failure").Inc()
		_ = s.audit.Record(ctx, s.auditEvent(r, "", "login.failure", req.Name, "denied", map[string]string{"reason": reason}))
		writeError(w, http.StatusUnauthorized, "bad_credentials", "Wrong name or password.")
		return
	}

	token, now := newToken(), s.now()
	sess := store.Session{
		TokenHash: hashToken(token), UserID: u.ID, CSRFToken: newToken(),
		CreatedAt: now, LastSeenAt: now, ExpiresAt: now.Add(s.cfg.SessionTTL),
		RemoteAddr: ip, UserAgent: truncate(r.UserAgent(), 256),
	}
	if err := s.store.CreateSession(ctx, sess); err != nil {
		s.log.Error("web: create session failed", "err", err)
		writeError(w, http.StatusServiceUnavailable, "unavailable", "Sign-in is unavailable right now; try again shortly.")
		return
	}
	s.metrics.logins.WithLabelValues("success").Inc()
	_ = s.audit.Record(ctx, s.auditEvent(r, u.Name, "login.success", u.Name, "ok", nil))
	s.setSessionCookie(w, token, s.cfg.SessionTTL)
	writeJSON(w, http.StatusOK, s.sessionJSON(u, sess))
}

func (s *Server) sessionJSON(u store.User, sess store.Session) sessionJSON {
	return sessionJSON{User: toUserJSON(u), CSRFToken: sess.CSRFToken, Landing: landing[u.Role],
		Node: s.cfg.Node, Version: s.cfg.Version}
}

func (s *Server) logout(w http.ResponseWriter, r *http.Request) {
	p, _ := principalFrom(r.Context())
	if err := s.store.DeleteSession(r.Context(), p.session.TokenHash); err != nil {
		s.log.Error("web: delete session failed", "err", err)
		writeError(w, http.StatusServiceUnavailable, "unavailable", "Could not sign out; try again.")
		return
	}
	s.hub.disconnectSession(p.session.TokenHash)
	_ = s.audit.Record(r.Context(), s.auditEvent(r, p.user.Name, "logout", p.user.Name, "ok", nil))
	s.setSessionCookie(w, "", -1)
	w.WriteHeader(http.StatusNoContent)
}

func (s *Server) me(w http.ResponseWriter, r *http.Request) {
	p, _ := principalFrom(r.Context())
	writeJSON(w, http.StatusOK, s.sessionJSON(p.user, p.session))
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n]
}
