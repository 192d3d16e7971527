package web

import (
	"bufio"
	"encoding/json"
	"net/http"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/sambung/sambung/store"
)

func TestSignInSetsAHardenedCookie(t *testing.T) {
	h := newHarness(t)
	c := h.anonymous()
	resp, body := c.do("POST", "/api/v1/login", map[string]string{"name": "qa", "password": testPassword})
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("sign in: %d %s", resp.StatusCode, body)
	}
	var s sessionJSON
	if err := json.Unmarshal(body, &s); err != nil {
		t.Fatal(err)
	}
	if s.User.Name != "qa" || s.User.Role != store.RoleQA || s.Landing != "/qa/" || len(s.CSRFToken) < 40 {
		t.Errorf("sign-in answer: %+v", s)
	}
	cookies := resp.Cookies()
	if len(cookies) != 1 {
		t.Fatalf("want one cookie, got %v", cookies)
	}
	ck := cookies[0]
	if ck.Name != sessionCookie || !ck.HttpOnly || !ck.Secure || ck.SameSite != http.SameSiteStrictMode || ck.Path != "/" || len(ck.Value) < 40 {
		t.Errorf("session cookie not hardened: %+v", ck)
	}
	// The store keeps the token's hash, never the token.
	if _, _, err := h.st.SessionUser(t.Context(), []byte(ck.Value), h.clock.Now()); err == nil {
		t.Error("the raw cookie value finds a session: tokens are stored in the clear")
	}
	if _, u, err := h.st.SessionUser(t.Context(), hashToken(ck.Value), h.clock.Now()); err != nil || u.Name != "qa" {
		t.Errorf("session by token hash: %v %v", u.Name, err)
	}
}

func TestWrongPasswordAndUnknownUserLookAlike(t *testing.T) {
	h := newHarness(t)
	c := h.anonymous()
	const wrong = "not-the-password-42"
	for _, name := range []string{"agent", "ghost"} {
		resp, body := c.do("POST", "/api/v1/login", map[string]string{"name": name, "password": wrong})
		if resp.StatusCode != http.StatusUnauthorized || errCode(body) != "bad_credentials" || !strings.Contains(string(body), "Wrong name or password.") {
			t.Errorf("%s: %d %s", name, resp.StatusCode, body)
		}
		if len(resp.Cookies()) != 0 {
			t.Errorf("%s: a failed sign-in set a cookie", name)
		}
	}
	fails, err := h.st.ListAudit(t.Context(), store.AuditFilter{Action: "login.failure"})
	if err != nil {
		t.Fatal(err)
	}
	reasons := map[string]string{}
	for _, e := range fails {
		reasons[e.Target] = e.Detail["reason"]
		if e.RemoteAddr != "127.0.0.1" || e.Outcome != "denied" {
			t.Errorf("failure event lacks where/how: %+v", e)
		}
	}
	if reasons["agent"] != "wrong_password" || reasons["ghost"] != "unknown_user" {
		t.Errorf("audited reasons: %v", reasons)
	}
	// No password, right or wrong, reaches the audit file.
	raw, err := os.ReadFile(h.auditPath)
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(string(raw), wrong) || strings.Contains(string(raw), testPassword) {
		t.Error("a password is in the audit file")
	}
}

func TestDisabledUserCannotSignIn(t *testing.T) {
	h := newHarness(t)
	agentSession := h.signIn(store.RoleAgent)
	adminC := h.signIn(store.RoleAdmin)
	if resp, b := adminC.do("POST", "/api/v1/users/agent/disable", nil); resp.StatusCode != http.StatusOK {
		t.Fatalf("disable: %d %s", resp.StatusCode, b)
	}
	if resp, _ := agentSession.do("GET", "/api/v1/me", nil); resp.StatusCode != http.StatusUnauthorized {
		t.Errorf("disabled user's session still works: %d", resp.StatusCode)
	}
	resp, body := h.anonymous().do("POST", "/api/v1/login", map[string]string{"name": "agent", "password": testPassword})
	if resp.StatusCode != http.StatusUnauthorized || errCode(body) != "bad_credentials" {
		t.Errorf("disabled user signed in: %d %s", resp.StatusCode, body)
	}
	if resp, b := adminC.do("POST", "/api/v1/users/agent/enable", nil); resp.StatusCode != http.StatusOK {
		t.Fatalf("enable: %d %s", resp.StatusCode, b)
	}
	h.signIn(store.RoleAgent) // fatal if it fails
	if resp, b := adminC.do("POST", "/api/v1/users/admin/disable", nil); resp.StatusCode != http.StatusBadRequest {
		t.Errorf("admin disabled themself: %d %s", resp.StatusCode, b)
	}
}

func TestLogoutEndsTheSession(t *testing.T) {
	h := newHarness(t)
	c := h.signIn(store.RoleSupervisor)
	u, _ := http.NewRequest("GET", h.url, nil)
	stolen := c.http.Jar.Cookies(u.URL)
	if resp, b := c.do("POST", "/api/v1/logout", nil); resp.StatusCode != http.StatusNoContent {
		t.Fatalf("logout: %d %s", resp.StatusCode, b)
	}
	if resp, _ := c.do("GET", "/api/v1/me", nil); resp.StatusCode != http.StatusUnauthorized {
		t.Errorf("after logout /me answers %d", resp.StatusCode)
	}
	// Replaying the old cookie does not bring the session back.
	replay := h.anonymous()
	replay.http.Jar.SetCookies(u.URL, stolen)
	if resp, _ := replay.do("GET", "/api/v1/me", nil); resp.StatusCode != http.StatusUnauthorized {
		t.Errorf("replayed cookie works after logout: %d", resp.StatusCode)
	}
}

func TestCSRF(t *testing.T) {
	h := newHarness(t)
	c := h.signIn(store.RoleAdmin)
	newUser := map[string]string{"name": "rudi", "role": "agent", "password": "long enough pw"}
	cases := []struct {
		name     string
		headers  []string
		wantCode string
	}{
		{"no token", []string{"X-CSRF-Token", ""}, "csrf"},
		{"wrong token", []string{"X-CSRF-Token", "forged"}, "csrf"},
		{"cross-origin Origin", []string{"Origin", "http://evil.example"}, "cross_origin"},
		{"cross-site fetch", []string{"Sec-Fetch-Site", "cross-site"}, "cross_origin"},
	}
	for _, cs := range cases {
		resp, body := c.do("POST", "/api/v1/users", newUser, cs.headers...)
		if resp.StatusCode != http.StatusForbidden || errCode(body) != cs.wantCode {
			t.Errorf("%s: %d %s, want 403 %s", cs.name, resp.StatusCode, body, cs.wantCode)
		}
	}
	if _, err := h.st.UserByName(t.Context(), "rudi"); err == nil {
		t.Fatal("a refused request created the user")
	}
	// Sign-in itself is guarded by the origin check.
	resp, body := h.anonymous().do("POST", "/api/v1/login", map[string]string{"name": "admin", "password": testPassword}, "Origin", "http://evil.example")
	if resp.StatusCode != http.StatusForbidden || errCode(body) != "cross_origin" {
		t.Errorf("cross-origin sign-in: %d %s", resp.StatusCode, body)
	}
	if resp, body := c.do("POST", "/api/v1/users", newUser); resp.StatusCode != http.StatusCreated {
		t.Errorf("with the token: %d %s", resp.StatusCode, body)
	}
}

func TestFailedSignInsSlowDown(t *testing.T) {
	h := newHarness(t)
	c := h.anonymous()
	try := func(pw string) (*http.Response, []byte) {
		return c.do("POST", "/api/v1/login", map[string]string{"name": "agent", "password": pw})
	}
	for i := range nameFreeFailures {
		if resp, b := try("wrong"); resp.StatusCode != http.StatusUnauthorized {
			t.Fatalf("failure %d: %d %s", i+1, resp.StatusCode, b)
		}
	}
	// Now even the right password waits.
	resp, body := try(testPassword)
	if resp.StatusCode != http.StatusTooManyRequests || errCode(body) != "throttled" || resp.Header.Get("Retry-After") != "1" {
		t.Fatalf("after %d failures: %d Retry-After=%q %s", nameFreeFailures, resp.StatusCode, resp.Header.Get("Retry-After"), body)
	}
	throttled, _ := h.st.ListAudit(t.Context(), store.AuditFilter{Action: "login.throttled", Target: "agent"})
	if len(throttled) != 1 {
		t.Errorf("throttled attempts audited: %d, want 1", len(throttled))
	}
	// The wait doubles with each further failure.
	h.clock.Advance(1100 * time.Millisecond)
	if resp, _ := try("wrong"); resp.StatusCode != http.StatusUnauthorized {
		t.Fatalf("after the wait: %d", resp.StatusCode)
	}
	if resp, _ := try(testPassword); resp.Header.Get("Retry-After") != "2" {
		t.Errorf("sixth failure: Retry-After %q, want 2", resp.Header.Get("Retry-After"))
	}
	h.clock.Advance(2100 * time.Millisecond)
	if resp, b := try(testPassword); resp.StatusCode != http.StatusOK {
		t.Fatalf("right password after the wait: %d %s", resp.StatusCode, b)
	}
	// A success starts the count again.
	h.clock.Advance(time.Millisecond)
	if resp, _ := try("wrong"); resp.StatusCode != http.StatusUnauthorized {
		t.Errorf("first failure after a success: %d, want 401", resp.StatusCode)
	}
}

func TestOneAddressCannotSprayNames(t *testing.T) {
	h := newHarness(t)
	c := h.anonymous()
	for i := range ipFreeFailures {
		name := "guess" + string(rune('a'+i))
		if resp, _ := c.do("POST", "/api/v1/login", map[string]string{"name": name, "password": "x"}); resp.StatusCode != http.StatusUnauthorized {
			t.Fatalf("failure %d: %d", i, resp.StatusCode)
		}
	}
	resp, _ := c.do("POST", "/api/v1/login", map[string]string{"name": "qa", "password": testPassword})
	if resp.StatusCode != http.StatusTooManyRequests {
		t.Errorf("after %d failures from one address: %d, want 429", ipFreeFailures, resp.StatusCode)
	}
}

func TestAddUserValidation(t *testing.T) {
	h := newHarness(t)
	c := h.signIn(store.RoleAdmin)
	cases := []struct {
		body map[string]string
		want int
	}{
		{map[string]string{"name": "bad name", "role": "agent", "password": "long enough"}, http.StatusBadRequest},
		{map[string]string{"name": "siti", "role": "agent", "password": "short"}, http.StatusBadRequest},
		{map[string]string{"name": "siti", "role": "boss", "password": "long enough"}, http.StatusBadRequest},
		{map[string]string{"name": "agent", "role": "agent", "password": "long enough"}, http.StatusConflict},
		{map[string]string{"name": "siti", "role": "agent", "password": "long enough", "extra": "x"}, http.StatusBadRequest},
		{map[string]string{"name": "siti", "display_name": "Siti R.", "role": "supervisor", "password": "long enough"}, http.StatusCreated},
	}
	for _, cs := range cases {
		resp, body := c.do("POST", "/api/v1/users", cs.body)
		if resp.StatusCode != cs.want {
			t.Errorf("%v: %d %s, want %d", cs.body, resp.StatusCode, body, cs.want)
		}
		if resp.StatusCode == http.StatusBadRequest && !strings.HasSuffix(strings.TrimSpace(gjson(body, "message")), ".") {
			t.Errorf("%v: message is not a sentence: %s", cs.body, body)
		}
	}
	resp, body := h.anonymous().do("POST", "/api/v1/login", map[string]string{"name": "siti", "password": "long enough"})
	if resp.StatusCode != http.StatusOK || !strings.Contains(string(body), `"landing":"/supervisor/"`) {
		t.Errorf("new user signs in: %d %s", resp.StatusCode, body)
	}
	adds, _ := h.st.ListAudit(t.Context(), store.AuditFilter{Action: "user.add", Target: "siti"})
	if len(adds) != 1 || adds[0].Actor != "admin" || adds[0].Detail["role"] != "supervisor" {
		t.Errorf("user.add audit: %+v", adds)
	}
}

// gjson reads error.<field> from an API error body.
func gjson(body []byte, field string) string {
	var e struct {
		Error map[string]any `json:"error"`
	}
	_ = json.Unmarshal(body, &e)
	s, _ := e.Error[field].(string)
	return s
}

func TestAuditFileIsOneJSONObjectPerLine(t *testing.T) {
	h := newHarness(t)
	h.signIn(store.RoleAgent)
	h.anonymous().do("POST", "/api/v1/login", map[string]string{"name": "agent", "password": "nope-nope"})
	f, err := os.Open(h.auditPath)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	actions := map[string]int{}
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		var ev map[string]any
		if err := json.Unmarshal(sc.Bytes(), &ev); err != nil {
			t.Fatalf("line is not JSON: %q", sc.Text())
		}
		for _, k := range []string{"at", "actor", "action", "outcome"} {
			if _, ok := ev[k]; !ok {
				t.Errorf("line lacks %q: %s", k, sc.Text())
			}
		}
		actions[ev["action"].(string)]++
	}
	if actions["user.add"] != 4 || actions["login.success"] != 1 || actions["login.failure"] != 1 {
		t.Errorf("audit file actions: %v", actions)
	}
}

func TestSessionsExpireAndAreSwept(t *testing.T) {
	h := newHarness(t)
	c := h.signIn(store.RoleAgent)
	h.signIn(store.RoleQA)
	if n := h.srv.sweepSessions(t.Context()); n != 0 {
		t.Errorf("swept %d live sessions", n)
	}
	h.clock.Advance(h.srv.cfg.SessionTTL + time.Second)
	if resp, _ := c.do("GET", "/api/v1/me", nil); resp.StatusCode != http.StatusUnauthorized {
		t.Errorf("a session idle past its TTL still works: %d", resp.StatusCode)
	}
	if n := h.srv.sweepSessions(t.Context()); n != 2 {
		t.Errorf("swept %d expired sessions, want 2", n)
	}
}

func TestActivityKeepsASessionAlive(t *testing.T) {
	h := newHarness(t)
	c := h.signIn(store.RoleAgent)
	// Active every two hours for a day: more than the 12 h TTL in total.
	for range 12 {
		h.clock.Advance(2 * time.Hour)
		if resp, _ := c.do("GET", "/api/v1/me", nil); resp.StatusCode != http.StatusOK {
			t.Fatalf("an active session expired: %d", resp.StatusCode)
		}
	}
}
