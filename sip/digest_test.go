package sip

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	sipmsg "github.com/emiago/sipgo/sip"
)

// TestDigestRFC7616Vectors checks HA1 and the request-digest against the
// example of RFC 7616 §3.9.1 (the values printed there, which follow from
// H(H(A1):nonce:nc:cnonce:qop:H(A2)) with each algorithm).
func TestDigestRFC7616Vectors(t *testing.T) {
	const (
		user, realm, password = "Mufasa", "http-auth@example.org", "Circle of Life"
		method, uri           = "GET", "/dir/index.html"
		nonce                 = "7ypf/xlj9XXwfDPEoM4URrv/xwf94BcCAzFZH4GiTo0v"
		cnonce                = "f2/wE4q74E6zIJEtWaHKaf5wv/H5QzzpXusqGemxURZJ"
	)
	tests := []struct {
		alg, ha1, response string
	}{
		{AlgMD5, "3d78807defe7de2157e2b0b6573a855f", "8ca523f5e9506fed4657c9700eebdbec"},
		{AlgSHA256, "7987c64c30e25f1b74be53f966b49b90f2808aa92faf9a00262392d7b4794232",
			"753927fa0e85d155564e2e272a28d1802ca10daf4496794697cf8db5856cb6c1"},
	}
	for _, tt := range tests {
		t.Run(tt.alg, func(t *testing.T) {
			ha1 := HA1(tt.alg, user, realm, password)
			if ha1 != tt.ha1 {
				t.Errorf("HA1 = %s, want %s", ha1, tt.ha1)
			}
			if got := digestResponse(tt.alg, ha1, method, uri, nonce, "00000001", cnonce, "auth"); got != tt.response {
				t.Errorf("response = %s, want %s", got, tt.response)
			}
		})
	}
	if got := HA1("SHA-512-256", user, realm, password); got != "" {
		t.Errorf("HA1 of an unsupported algorithm = %q, want empty", got)
	}
}

func TestParseDigestParams(t *testing.T) {
	tests := []struct {
		in   string
		want map[string]string // nil: refused
	}{
		{`Digest username="a", realm="r,x", nc=00000001, qop=auth`, map[string]string{"username": "a", "realm": "r,x", "nc": "00000001", "qop": "auth"}},
		{`digest USERNAME="a\"b"`, map[string]string{"username": `a"b`}},
		{`Basic dXNlcjpwYXNz`, nil},
		{`Digest username="a`, nil},
		{`Digest username="a", username="b"`, nil},
		{`Digest =x`, nil},
	}
	for _, tt := range tests {
		got, ok := parseDigestParams(tt.in)
		if tt.want == nil {
			if ok {
				t.Errorf("parseDigestParams(%q) = %v, want refusal", tt.in, got)
			}
			continue
		}
		if !ok || fmt.Sprint(got) != fmt.Sprint(tt.want) {
			t.Errorf("parseDigestParams(%q) = %v, %v, want %v", tt.in, got, ok, tt.want)
		}
	}
}

// passwords is an Accounts of users and their passwords, storing only HA1s.
type passwords struct {
	users    map[string]string // user -> password
	disabled map[string]bool
	err      error
}

func (p passwords) Account(_ context.Context, user, realm string) (Account, error) {
	if p.err != nil {
		return Account{}, p.err
	}
	pw, ok := p.users[user]
	if !ok {
		return Account{}, fmt.Errorf("user %s: %w", user, ErrNoAccount)
	}
	return Account{User: user, Realm: realm, HA1MD5: HA1(AlgMD5, user, realm, pw), HA1SHA256: HA1(AlgSHA256, user, realm, pw), Disabled: p.disabled[user]}, nil
}

// challengeParams parses the WWW-Authenticate header fields of a challenge.
func challengeParams(t testing.TB, hs []sipmsg.Header) []map[string]string {
	t.Helper()
	var out []map[string]string
	for _, h := range hs {
		p, ok := parseDigestParams(h.Value())
		if !ok {
			t.Fatalf("unparsable challenge %q", h.Value())
		}
		out = append(out, p)
	}
	return out
}

// credentialsFor answers challenge chal as a client would.
func credentialsFor(chal map[string]string, method, uri, user, password, nc string) string {
	alg := chal["algorithm"]
	ha1 := HA1(alg, user, chal["realm"], password)
	cnonce := "0a4f113b"
	resp := digestResponse(alg, ha1, method, uri, chal["nonce"], nc, cnonce, "auth")
	return fmt.Sprintf(`Digest username=%q, realm=%q, nonce=%q, uri=%q, response=%q, algorithm=%s, cnonce=%q, opaque=%q, qop=auth, nc=%s`,
		user, chal["realm"], chal["nonce"], uri, resp, alg, cnonce, chal["opaque"], nc)
}

func registerWith(auth string) *sipmsg.Request {
	req := sipmsg.NewRequest(sipmsg.REGISTER, sipmsg.Uri{Scheme: "sip", Host: "sambung.test"})
	if auth != "" {
		req.AppendHeader(sipmsg.NewHeader("Authorization", auth))
	}
	return req
}

func TestDigestChallenge(t *testing.T) {
	a, err := newDigestAuth("sambung.test", 0, nil)
	if err != nil {
		t.Fatal(err)
	}
	chals := challengeParams(t, a.challenge(false))
	if len(chals) != 2 || chals[0]["algorithm"] != AlgSHA256 || chals[1]["algorithm"] != AlgMD5 {
		t.Fatalf("challenges %v, want SHA-256 then MD5", chals)
	}
	for _, c := range chals {
		if c["realm"] != "sambung.test" || c["qop"] != "auth" || c["opaque"] == "" || c["nonce"] == "" || c["stale"] != "" {
			t.Errorf("challenge %v", c)
		}
	}
	if c := challengeParams(t, a.challenge(true))[0]; c["stale"] != "true" {
		t.Errorf("stale challenge %v, want stale=true", c)
	}
}

func TestDigestVerify(t *testing.T) {
	accounts := passwords{users: map[string]string{"alice": "wonderland", "mallory": "x"}, disabled: map[string]bool{"mallory": true}}
	const uri = "sip:sambung.test"
	now := time.Unix(1_800_000_000, 0)
	a, err := newDigestAuth("sambung.test", time.Minute, nil)
	if err != nil {
		t.Fatal(err)
	}
	a.now = func() time.Time { return now }
	fresh := func(i int) map[string]string { return challengeParams(t, a.challenge(false))[i] }
	sha, md := 0, 1

	tampered := fresh(sha)
	n := []byte(tampered["nonce"])
	n[5] = map[bool]byte{true: 'b', false: 'a'}[n[5] == 'a'] // still base64url, no longer sealed by the HMAC
	tampered["nonce"] = string(n)
	replayed := credentialsFor(fresh(md), "REGISTER", uri, "alice", "wonderland", "00000001")
	ncTwo := fresh(sha)
	otherRealm := fresh(sha)
	otherRealm["realm"] = "elsewhere"

	tests := []struct {
		name  string
		auth  string
		after time.Duration // clock moved before verifying
		want  authResult
	}{
		{"sha-256", credentialsFor(fresh(sha), "REGISTER", uri, "alice", "wonderland", "00000001"), 0, authOK},
		{"md5", replayed, 0, authOK},
		{"replayed nc", replayed, 0, authChallenge},
		{"nc 1", credentialsFor(ncTwo, "REGISTER", uri, "alice", "wonderland", "00000001"), 0, authOK},
		{"nc 2 same nonce", credentialsFor(ncTwo, "REGISTER", uri, "alice", "wonderland", "00000002"), 0, authOK},
		{"nc 1 again", credentialsFor(ncTwo, "REGISTER", uri, "alice", "wonderland", "00000001"), 0, authChallenge},
		{"wrong password", credentialsFor(fresh(sha), "REGISTER", uri, "alice", "rabbit", "00000001"), 0, authForbidden},
		{"unknown user", credentialsFor(fresh(md), "REGISTER", uri, "bob", "wonderland", "00000001"), 0, authForbidden},
		{"disabled", credentialsFor(fresh(sha), "REGISTER", uri, "mallory", "x", "00000001"), 0, authForbidden},
		{"wrong method", credentialsFor(fresh(sha), "INVITE", uri, "alice", "wonderland", "00000001"), 0, authForbidden},
		{"tampered nonce", credentialsFor(tampered, "REGISTER", uri, "alice", "wonderland", "00000001"), 0, authChallenge},
		{"other realm", credentialsFor(otherRealm, "REGISTER", uri, "alice", "wonderland", "00000001"), 0, authChallenge},
		{"no credentials", "", 0, authChallenge},
		{"basic", "Basic YWxpY2U6d29uZGVybGFuZA==", 0, authChallenge},
		{"expired nonce", credentialsFor(fresh(sha), "REGISTER", uri, "alice", "wonderland", "00000001"), 2 * time.Minute, authStale},
		{"expired nonce, wrong password", credentialsFor(fresh(sha), "REGISTER", uri, "alice", "rabbit", "00000001"), 2 * time.Minute, authForbidden},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			saved := now
			now = now.Add(tt.after)
			defer func() { now = saved }()
			got, user, err := a.verify(context.Background(), accounts, registerWith(tt.auth))
			if err != nil || got != tt.want {
				t.Fatalf("verify = %v, %v, want %v", got, err, tt.want)
			}
			if (got == authOK) != (user == "alice") {
				t.Errorf("user = %q for result %v", user, got)
			}
		})
	}

	// A store that fails is an error, not a verdict on the credentials.
	broken := passwords{err: errors.New("database down")}
	if _, _, err := a.verify(context.Background(), broken, registerWith(credentialsFor(fresh(sha), "REGISTER", uri, "alice", "wonderland", "00000001"))); err == nil {
		t.Error("verify with a failing store returned no error")
	}
}

// TestDigestNonceEviction fills the map of used nonces: the nonces it
// forgets must be refused from then on, not accepted afresh.
func TestDigestNonceEviction(t *testing.T) {
	accounts := passwords{users: map[string]string{"alice": "wonderland"}}
	a, err := newDigestAuth("sambung.test", time.Minute, nil)
	if err != nil {
		t.Fatal(err)
	}
	a.max = 4
	clock := time.Unix(1_800_000_000, 0)
	a.now = func() time.Time { return clock }
	var first string
	for i := range 6 {
		clock = clock.Add(time.Millisecond)
		auth := credentialsFor(challengeParams(t, a.challenge(false))[0], "REGISTER", "sip:sambung.test", "alice", "wonderland", "00000001")
		if i == 0 {
			first = auth
		}
		if got, _, _ := a.verify(context.Background(), accounts, registerWith(auth)); got != authOK {
			t.Fatalf("nonce %d: %v, want OK", i, got)
		}
	}
	if len(a.used) > a.max {
		t.Errorf("%d nonces tracked, cap %d", len(a.used), a.max)
	}
	if got, _, _ := a.verify(context.Background(), accounts, registerWith(first)); got == authOK {
		t.Error("an evicted nonce was accepted again")
	}
}
