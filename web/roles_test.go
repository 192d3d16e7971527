package web

import (
	"net/http"
	"slices"
	"sort"
	"strings"
	"testing"

	"github.com/sambung/sambung/store"
)

// anon stands for a request with no session.
const anon = "anonymous"

// wantAccess is the access matrix, written out independently of the
// server's table: who may use each route. A route added to the server
// without a row here fails TestRoleMatrix, so the matrix stays complete.
var wantAccess = map[string][]string{
	"GET /healthz":                           {anon, "agent", "supervisor", "qa", "admin"},
	"GET /readyz":                            {anon, "agent", "supervisor", "qa", "admin"},
	"GET /metrics":                           {anon, "agent", "supervisor", "qa", "admin"},
	"GET /demo/crm/":                         {anon, "agent", "supervisor", "qa", "admin"},
	"GET /{$}":                               {anon, "agent", "supervisor", "qa", "admin"},
	"GET /login":                             {anon, "agent", "supervisor", "qa", "admin"},
	"GET /static/":                           {anon, "agent", "supervisor", "qa", "admin"},
	"POST /api/v1/login":                     {anon, "agent", "supervisor", "qa", "admin"},
	"GET /call/{$}":                          {anon, "agent", "supervisor", "qa", "admin"},
	"GET /widget.js":                         {anon, "agent", "supervisor", "qa", "admin"},
	"GET /api/v1/webcall":                    {anon, "agent", "supervisor", "qa", "admin"},
	"GET /agent/{$}":                         {"agent", "supervisor"},
	"GET /supervisor/{$}":                    {"supervisor", "admin"},
	"GET /qa/{$}":                            {"agent", "qa", "supervisor", "admin"},
	"GET /admin/{$}":                         {"admin"},
	"POST /api/v1/logout":                    {"agent", "supervisor", "qa", "admin"},
	"GET /api/v1/me":                         {"agent", "supervisor", "qa", "admin"},
	"GET /api/v1/events":                     {"agent", "supervisor", "qa", "admin"},
	"GET /api/v1/softphone":                  {"agent", "supervisor"},
	"GET /api/v1/users":                      {"admin"},
	"POST /api/v1/users":                     {"admin"},
	"POST /api/v1/users/{name}/disable":      {"admin"},
	"POST /api/v1/users/{name}/enable":       {"admin"},
	"GET /api/v1/audit":                      {"admin"},
	"GET /api/v1/calls":                      {"supervisor", "qa", "admin"},
	"GET /api/v1/calls/{id}":                 {"agent", "supervisor", "qa", "admin"},
	"GET /api/v1/calls/{id}/recording":       {"agent", "supervisor", "qa", "admin"},
	"GET /api/v1/calls/{id}/recording/peaks": {"agent", "supervisor", "qa", "admin"},
	"GET /api/v1/qa/calls":                   {"agent", "supervisor", "qa", "admin"},
	"GET /api/v1/qa/reviews":                 {"supervisor", "qa", "admin"},
	"GET /api/v1/qa/scores":                  {"agent", "supervisor", "qa", "admin"},
	"GET /api/v1/scorecards":                 {"agent", "supervisor", "qa", "admin"},
	"POST /api/v1/scorecards":                {"admin"},
	"GET /api/v1/calls/{id}/review":          {"agent", "supervisor", "qa", "admin"},
	"PUT /api/v1/calls/{id}/evaluation":      {"supervisor", "qa", "admin"},
	"POST /api/v1/calls/{id}/comments":       {"supervisor", "qa", "admin"},
	"POST /api/v1/calls/{id}/hold":           {"admin"},
	"POST /api/v1/erasures":                  {"admin"},
	// The floor's live calls and stepping into one: an agent is refused,
	// and audited (below).
	"GET /api/v1/floor":                    {"supervisor", "admin"},
	"GET /api/v1/floor/heatmap":            {"supervisor", "admin"},
	"GET /api/v1/floor/today":              {"supervisor", "admin"},
	"POST /api/v1/calls/{id}/monitor":      {"supervisor", "admin"},
	"POST /api/v1/calls/{id}/monitor/mode": {"supervisor", "admin"},
	"DELETE /api/v1/calls/{id}/monitor":    {"supervisor", "admin"},
	"POST /api/v1/agents/{id}/state":       {"supervisor", "admin"},
	"POST /api/v1/agents/{id}/logout":      {"supervisor", "admin"},
	"POST /api/v1/calls/{id}/move":         {"supervisor", "admin"},
	"POST /api/v1/calls/{id}/pci":          {"agent", "supervisor", "admin"},
}

// concretePath turns a route pattern into a request path. Wildcards name
// things that do not exist, so allowed requests change nothing.
func concretePath(pattern string) (method, path string) {
	method, path, _ = strings.Cut(pattern, " ")
	r := strings.NewReplacer("{$}", "", "{name}", "nobody", "{id}", "no-such-call")
	path = r.Replace(path)
	if path == "/static/" {
		path = "/static/app.css"
	}
	return method, path
}

func TestRoleMatrix(t *testing.T) {
	h := newHarness(t)

	var declared []string
	kinds := map[string]kind{}
	for _, rt := range h.srv.routes() {
		declared = append(declared, rt.pattern)
		kinds[rt.pattern] = rt.kind
	}
	var expected []string
	for p := range wantAccess {
		expected = append(expected, p)
	}
	sort.Strings(declared)
	sort.Strings(expected)
	if !slices.Equal(declared, expected) {
		t.Fatalf("the server's routes and the expected matrix differ:\nserver:   %v\nexpected: %v", declared, expected)
	}

	clients := map[string]*client{anon: h.anonymous()}
	for _, r := range store.Roles {
		clients[string(r)] = h.signIn(r)
	}
	who := append([]string{anon}, "agent", "supervisor", "qa", "admin")

	for _, pattern := range expected {
		method, path := concretePath(pattern)
		for _, name := range who {
			c := clients[name]
			if pattern == "POST /api/v1/logout" && name != anon {
				c = h.signIn(store.Role(name)) // do not end the shared session
			}
			var body any
			if method == http.MethodPost {
				body = map[string]string{}
			}
			resp, b := c.do(method, path, body)
			allowed := slices.Contains(wantAccess[pattern], name)
			got := resp.StatusCode
			switch {
			case allowed && (got == http.StatusUnauthorized || got == http.StatusForbidden):
				t.Errorf("%s as %s: got %d, want allowed (%s)", pattern, name, got, b)
			case allowed && kinds[pattern] == pageRoute && got == http.StatusSeeOther && strings.HasPrefix(resp.Header.Get("Location"), "/login?next="):
				t.Errorf("%s as %s: redirected to sign in, want allowed", pattern, name)
			case !allowed && name == anon && kinds[pattern] == apiRoute && got != http.StatusUnauthorized:
				t.Errorf("%s as anonymous: got %d, want 401", pattern, got)
			case !allowed && name == anon && kinds[pattern] == pageRoute &&
				(got != http.StatusSeeOther || !strings.HasPrefix(resp.Header.Get("Location"), "/login?next=")):
				t.Errorf("%s as anonymous: got %d Location %q, want 303 to /login?next=", pattern, got, resp.Header.Get("Location"))
			case !allowed && name != anon && got != http.StatusForbidden:
				t.Errorf("%s as %s: got %d, want 403", pattern, name, got)
			}
			if !allowed && name != anon && kinds[pattern] == apiRoute && errCode(b) != "forbidden" {
				t.Errorf("%s as %s: error code %q, want forbidden", pattern, name, errCode(b))
			}
		}
	}

	// Every refusal of a signed-in user is audited.
	denied, err := h.st.ListAudit(t.Context(), store.AuditFilter{Action: "access.denied", Actor: "agent", Limit: 1000})
	if err != nil {
		t.Fatal(err)
	}
	wantDenied := 0
	for _, roles := range wantAccess {
		if !slices.Contains(roles, "agent") {
			wantDenied++
		}
	}
	if len(denied) != wantDenied {
		t.Errorf("agent was refused %d routes, but %d access.denied events were audited", wantDenied, len(denied))
	}
}
