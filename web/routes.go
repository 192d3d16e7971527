package web

import (
	"context"
	"crypto/subtle"
	"fmt"
	"net/http"
	"net/url"
	"runtime/debug"
	"slices"
	"strings"
	"time"

	"github.com/sambung/sambung/store"
)

// access says who may use a route.
type access struct {
	public bool         // anyone, signed in or not
	roles  []store.Role // signed-in users with one of these roles; nil: any role
}

var (
	public   = access{public: true}
	signedIn = access{}
)

func only(roles ...store.Role) access { return access{roles: roles} }

func (a access) allows(r store.Role) bool {
	return a.public || a.roles == nil || slices.Contains(a.roles, r)
}

// kind decides how refusals look: JSON for the API, redirects and HTML for pages.
type kind int

const (
	apiRoute kind = iota
	pageRoute
)

// route is one row of the access table.
type route struct {
	pattern string // net/http ServeMux pattern, method first
	access  access
	kind    kind
	handler http.HandlerFunc
}

const (
	agent      = store.RoleAgent
	supervisor = store.RoleSupervisor
	qa         = store.RoleQA
	admin      = store.RoleAdmin
)

// routes is the one table of route -> roles. Every route the server has is
// here, and nothing else registers handlers.
func (s *Server) routes() []route {
	return []route{
		// Probes and metrics, for load balancers and Prometheus.
		{"GET /healthz", public, apiRoute, s.healthz},
		{"GET /readyz", public, apiRoute, s.readyz},
		{"GET /metrics", public, apiRoute, s.metrics.serve},

		// The demo line's CRM (a 404 when the server runs no demo).
		{"GET /demo/crm/", public, apiRoute, s.demoCRM},

		// Pages.
		{"GET /{$}", public, pageRoute, s.rootPage},
		{"GET /login", public, pageRoute, s.page("login.html")},
		{"GET /static/", public, pageRoute, s.static},
		{"GET /agent/{$}", only(agent, supervisor), pageRoute, s.page("agent.html")},
		{"GET /supervisor/{$}", only(supervisor, admin), pageRoute, s.page("supervisor.html")},
		{"GET /qa/{$}", only(qa, supervisor, admin, agent), pageRoute, s.page("qa.html")},
		{"GET /admin/{$}", only(admin), pageRoute, s.page("admin.html")},
		// Customers calling from the web: the click-to-call page, the widget
		// other sites embed, and the call's socket (docs/webcall.md).
		{"GET /call/{$}", public, pageRoute, s.page("call.html")},
		{"GET /widget.js", public, pageRoute, s.widget},
		{"GET /api/v1/webcall", public, apiRoute, s.webCall},

		// Sessions.
		{"POST /api/v1/login", public, apiRoute, s.login},
		{"POST /api/v1/logout", signedIn, apiRoute, s.logout},
		{"GET /api/v1/me", signedIn, apiRoute, s.me},
		{"GET /api/v1/events", signedIn, apiRoute, s.events},
		{"GET /api/v1/softphone", only(agent, supervisor), apiRoute, s.softphone},

		// Administration.
		{"GET /api/v1/users", only(admin), apiRoute, s.listUsers},
		{"POST /api/v1/users", only(admin), apiRoute, s.addUser},
		{"POST /api/v1/users/{name}/disable", only(admin), apiRoute, s.disableUser},
		{"POST /api/v1/users/{name}/enable", only(admin), apiRoute, s.enableUser},
		{"GET /api/v1/audit", only(admin), apiRoute, s.listAudit},

		// Calls.
		{"GET /api/v1/calls", only(supervisor, qa, admin), apiRoute, s.listCalls},
		{"GET /api/v1/calls/{id}", only(agent, supervisor, qa, admin), apiRoute, s.getCall},
		{"GET /api/v1/calls/{id}/recording", only(agent, supervisor, qa, admin), apiRoute, s.playRecording},
		// Quality review: search, scorecards, evaluations, comments, each
		// reviewer's queue and each agent's scores (an agent: their own).
		{"GET /api/v1/qa/calls", only(agent, supervisor, qa, admin), apiRoute, s.searchCalls},
		{"GET /api/v1/qa/reviews", only(supervisor, qa, admin), apiRoute, s.reviewQueue},
		{"GET /api/v1/qa/scores", only(agent, supervisor, qa, admin), apiRoute, s.agentScores},
		{"GET /api/v1/scorecards", only(agent, supervisor, qa, admin), apiRoute, s.listScorecards},
		{"POST /api/v1/scorecards", only(admin), apiRoute, s.createScorecard},
		{"GET /api/v1/calls/{id}/review", only(agent, supervisor, qa, admin), apiRoute, s.callReview},
		{"PUT /api/v1/calls/{id}/evaluation", only(supervisor, qa, admin), apiRoute, s.saveEvaluation},
		{"POST /api/v1/calls/{id}/comments", only(supervisor, qa, admin), apiRoute, s.addComment},
		// Legal hold and a caller's erasure: admins.
		{"POST /api/v1/calls/{id}/hold", only(admin), apiRoute, s.legalHold},
		{"POST /api/v1/erasures", only(admin), apiRoute, s.eraseCaller},
		{"GET /api/v1/calls/{id}/recording/peaks", only(agent, supervisor, qa, admin), apiRoute, s.recordingPeaks},
		// The floor's live calls, and stepping into one: listen, whisper,
		// barge.
		{"GET /api/v1/floor", only(supervisor, admin), apiRoute, s.floor},
		{"GET /api/v1/floor/heatmap", only(supervisor, admin), apiRoute, s.heatMap},
		{"GET /api/v1/floor/today", only(supervisor, admin), apiRoute, s.today},
		{"POST /api/v1/calls/{id}/monitor", only(supervisor, admin), apiRoute, s.monitorCall},
		{"POST /api/v1/calls/{id}/monitor/mode", only(supervisor, admin), apiRoute, s.monitorMode},
		{"DELETE /api/v1/calls/{id}/monitor", only(supervisor, admin), apiRoute, s.stopMonitor},
		// Supervisors' actions on agents and waiting calls.
		{"POST /api/v1/agents/{id}/state", only(supervisor, admin), apiRoute, s.agentState},
		{"POST /api/v1/agents/{id}/logout", only(supervisor, admin), apiRoute, s.agentLogout},
		{"POST /api/v1/calls/{id}/move", only(supervisor, admin), apiRoute, s.moveCall},
		// A PCI pause: the agent on the call, or a supervisor.
		{"POST /api/v1/calls/{id}/pci", only(agent, supervisor, admin), apiRoute, s.pciPause},
	}
}

// landing is the page each role starts on.
var landing = map[store.Role]string{
	agent:      "/agent/",
	supervisor: "/supervisor/",
	qa:         "/qa/",
	admin:      "/admin/",
}

func (s *Server) buildHandler() http.Handler {
	mux := http.NewServeMux()
	for _, rt := range s.routes() {
		mux.Handle(rt.pattern, s.handle(rt))
	}
	mux.Handle("/", s.handle(route{pattern: "unmatched", access: public, kind: apiRoute, handler: s.notFound}))
	return mux
}

// principal is the signed-in user of a request.
type principal struct {
	user    store.User
	session store.Session
}

type principalKey struct{}

func principalFrom(ctx context.Context) (principal, bool) {
	p, ok := ctx.Value(principalKey{}).(principal)
	return p, ok
}

// handle wraps a route's handler in the checks every request passes, in this
// order: recover, metrics, security headers, cross-origin check for unsafe
// methods, session, role, CSRF token for unsafe methods.
func (s *Server) handle(rt route) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		sw := &statusWriter{ResponseWriter: w}
		defer func() {
			if v := recover(); v != nil {
				s.log.Error("web: handler panicked", "route", rt.pattern, "panic", v, "stack", string(debug.Stack()))
				if !sw.wrote {
					writeError(sw, http.StatusInternalServerError, "internal", "The server hit an internal error; it has been logged.")
				}
			}
			s.metrics.observe(rt.pattern, sw.status(), time.Since(start))
		}()
		securityHeaders(sw.Header())

		unsafe := !isSafeMethod(r.Method)
		if unsafe {
			if err := s.xorigin.Check(r); err != nil {
				writeError(sw, http.StatusForbidden, "cross_origin", "Cross-origin request refused.")
				return
			}
		}
		p, signed := s.authenticate(r)
		if !rt.access.public {
			if !signed {
				s.refuseAnonymous(sw, r, rt.kind)
				return
			}
			if !rt.access.allows(p.user.Role) {
				s.refuseRole(sw, r, rt, p)
				return
			}
			if unsafe && !validCSRF(r, p.session) {
				writeError(sw, http.StatusForbidden, "csrf", "Missing or wrong X-CSRF-Token header; reload the page and try again.")
				return
			}
			s.touch(r.Context(), p.session)
		}
		if signed {
			r = r.WithContext(context.WithValue(r.Context(), principalKey{}, p))
		}
		rt.handler(sw, r)
	})
}

func isSafeMethod(m string) bool {
	return m == http.MethodGet || m == http.MethodHead || m == http.MethodOptions
}

func validCSRF(r *http.Request, sess store.Session) bool {
	got := r.Header.Get("X-CSRF-Token")
	return got != "" && subtle.ConstantTimeCompare([]byte(got), []byte(sess.CSRFToken)) == 1
}

func (s *Server) refuseAnonymous(w http.ResponseWriter, r *http.Request, k kind) {
	if k == pageRoute {
		http.Redirect(w, r, "/login?next="+url.QueryEscape(r.URL.Path), http.StatusSeeOther)
		return
	}
	writeError(w, http.StatusUnauthorized, "unauthenticated", "Sign in first.")
}

// refuseRole answers 403 and audits the attempt: a user reaching for what
// their role does not allow is worth knowing about.
func (s *Server) refuseRole(w http.ResponseWriter, r *http.Request, rt route, p principal) {
	_ = s.audit.Record(r.Context(), s.auditEvent(r, p.user.Name, "access.denied", r.Method+" "+r.URL.Path,
		"denied", map[string]string{"role": string(p.user.Role), "route": rt.pattern}))
	msg := fmt.Sprintf("Your role (%s) does not allow this.", p.user.Role)
	if rt.kind == pageRoute {
		s.forbiddenPage(w, msg, landing[p.user.Role])
		return
	}
	writeError(w, http.StatusForbidden, "forbidden", msg)
}

func (s *Server) notFound(w http.ResponseWriter, r *http.Request) {
	if strings.HasPrefix(r.URL.Path, "/api/") {
		writeError(w, http.StatusNotFound, "not_found", "No such API route: "+r.Method+" "+r.URL.Path)
		return
	}
	http.NotFound(w, r)
}

func securityHeaders(h http.Header) {
	h.Set("Content-Security-Policy", "default-src 'self'; img-src 'self' data:; connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'")
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Referrer-Policy", "same-origin")
	h.Set("X-Frame-Options", "DENY")
}

// demoCRM serves Config.DemoCRM, the demo flow's customer records.
func (s *Server) demoCRM(w http.ResponseWriter, r *http.Request) {
	if s.cfg.DemoCRM == nil {
		http.NotFound(w, r)
		return
	}
	s.cfg.DemoCRM.ServeHTTP(w, r)
}
