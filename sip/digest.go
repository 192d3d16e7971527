package sip

import (
	"context"
	"crypto/hmac"
	"crypto/md5"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"hash"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	sipmsg "github.com/emiago/sipgo/sip"
)

// Digest authentication of requests (RFC 3261 §22.4 with RFC 7616 and
// RFC 8760 for SHA-256). We offer SHA-256 then MD5 with qop=auth. Nonces
// carry their issue time and a random part, sealed by an HMAC under a
// per-server secret, so a nonce needs no state to be checked; only the
// nonce-counts already used are remembered, in a bounded map, so that a
// captured Authorization cannot be replayed.

// Digest algorithms, as they appear in the algorithm parameter.
const (
	AlgMD5    = "MD5"
	AlgSHA256 = "SHA-256"
)

// ErrNoAccount is what Accounts.Account returns for a user it does not
// know.
var ErrNoAccount = errors.New("sip: no such account")

// Account is a user who may authenticate, with the digest HA1 values of
// their password (see HA1) rather than the password itself.
type Account struct {
	User  string
	Realm string
	// HA1MD5 and HA1SHA256 are HA1(AlgMD5, ...) and HA1(AlgSHA256, ...),
	// in lower-case hex. An empty one disables that algorithm for the
	// account.
	HA1MD5, HA1SHA256 string
	// Disabled accounts fail authentication like a wrong password.
	Disabled bool
}

// Accounts looks up the accounts that may authenticate. It is implemented
// by the store.
type Accounts interface {
	// Account returns user's account in realm, or an error wrapping
	// ErrNoAccount when there is none.
	Account(ctx context.Context, user, realm string) (Account, error)
}

// HA1 returns the digest HA1 of a password, H(user:realm:password) in
// lower-case hex (RFC 7616 §3.4.2), for alg AlgMD5 or AlgSHA256; it
// returns "" for another algorithm. Accounts keep this, never the password.
func HA1(alg, user, realm, password string) string {
	h := newDigestHash(alg)
	if h == nil {
		return ""
	}
	return hexHash(h, user+":"+realm+":"+password)
}

func newDigestHash(alg string) hash.Hash {
	switch {
	case strings.EqualFold(alg, AlgMD5):
		return md5.New()
	case strings.EqualFold(alg, AlgSHA256):
		return sha256.New()
	}
	return nil
}

func hexHash(h hash.Hash, s string) string {
	h.Reset()
	h.Write([]byte(s))
	return hex.EncodeToString(h.Sum(nil))
}

// digestResponse computes the request-digest of RFC 7616 §3.4.1 for
// qop=auth: KD(HA1, nonce:nc:cnonce:qop:H(method:uri)).
func digestResponse(alg, ha1, method, uri, nonce, nc, cnonce, qop string) string {
	h := newDigestHash(alg)
	if h == nil {
		return ""
	}
	ha2 := hexHash(h, method+":"+uri)
	return hexHash(h, ha1+":"+nonce+":"+nc+":"+cnonce+":"+qop+":"+ha2)
}

// authResult is what verifying a request's credentials decided.
type authResult int

const (
	authOK        authResult = iota
	authChallenge            // no usable credentials: 401 with a fresh challenge
	authStale                // right credentials, expired nonce: 401 with stale=true
	authForbidden            // well-formed credentials that are wrong: 403
)

// Defaults for digest authentication.
const (
	defaultNonceTTL  = 5 * time.Minute
	maxTrackedNonces = 65536
)

// digestAuth issues challenges and verifies credentials for one realm.
type digestAuth struct {
	realm  string
	algs   []string // offered, in order
	ttl    time.Duration
	secret []byte
	opaque string
	now    func() time.Time // replaced by tests

	mu   sync.Mutex
	used map[string]nonceUse // nonce -> its last accepted nonce-count
	// floor is the issue time (unix nanoseconds) of the newest nonce ever
	// evicted from used; nonces issued at or before it are refused as
	// stale, since their used counts were forgotten.
	floor int64
	max   int // cap on len(used)
}

type nonceUse struct {
	issued int64
	nc     uint32
}

// defaultAlgorithms are offered when the configuration names none:
// SHA-256 first, as RFC 8760 §2.4 asks, then MD5 for older clients.
var defaultAlgorithms = []string{AlgSHA256, AlgMD5}

func newDigestAuth(realm string, ttl time.Duration, algs []string) (*digestAuth, error) {
	if ttl <= 0 {
		ttl = defaultNonceTTL
	}
	if len(algs) == 0 {
		algs = defaultAlgorithms
	}
	for _, alg := range algs {
		if alg != AlgSHA256 && alg != AlgMD5 {
			return nil, fmt.Errorf("sip config: digest algorithm %q is not supported; use %q or %q", alg, AlgSHA256, AlgMD5)
		}
	}
	var buf [48]byte
	if _, err := rand.Read(buf[:]); err != nil {
		return nil, fmt.Errorf("sip: digest secret: %w", err)
	}
	return &digestAuth{
		realm:  realm,
		algs:   slices.Clone(algs),
		ttl:    ttl,
		secret: buf[:32],
		opaque: hex.EncodeToString(buf[32:]),
		now:    time.Now,
		used:   make(map[string]nonceUse),
		max:    maxTrackedNonces,
	}, nil
}

// Nonce layout, before base64url: issue time (8 bytes, unix nanoseconds),
// random (8 bytes), HMAC-SHA256 of both (first 16 bytes).
const (
	nonceRawLen = 8 + 8 + 16
)

func (a *digestAuth) newNonce() string {
	var raw [nonceRawLen]byte
	binary.BigEndian.PutUint64(raw[:8], uint64(a.now().UnixNano()))
	rand.Read(raw[8:16])
	copy(raw[16:], a.mac(raw[:16]))
	return base64.RawURLEncoding.EncodeToString(raw[:])
}

func (a *digestAuth) mac(b []byte) []byte {
	m := hmac.New(sha256.New, a.secret)
	m.Write(b)
	return m.Sum(nil)[:16]
}

// checkNonce reports whether nonce is one of ours, and when it was issued.
func (a *digestAuth) checkNonce(nonce string) (issued int64, ok bool) {
	raw, err := base64.RawURLEncoding.DecodeString(nonce)
	if err != nil || len(raw) != nonceRawLen {
		return 0, false
	}
	if !hmac.Equal(raw[16:], a.mac(raw[:16])) {
		return 0, false
	}
	return int64(binary.BigEndian.Uint64(raw[:8])), true
}

// challenge returns the WWW-Authenticate header fields of a 401: one per
// algorithm offered, in order, with one fresh nonce.
func (a *digestAuth) challenge(stale bool) []sipmsg.Header {
	nonce := a.newNonce()
	var hs []sipmsg.Header
	for _, alg := range a.algs {
		v := fmt.Sprintf(`Digest realm=%q, nonce=%q, opaque=%q, algorithm=%s, qop="auth"`, a.realm, nonce, a.opaque, alg)
		if stale {
			v += ", stale=true"
		}
		hs = append(hs, sipmsg.NewHeader("WWW-Authenticate", v))
	}
	return hs
}

// credentials are the parameters of an Authorization header field.
type credentials struct {
	user, realm, nonce, uri, response, alg, opaque, qop, nc, cnonce string
}

// authorization returns the Digest credentials of req for our realm, and
// whether it carried any that are well formed.
func (a *digestAuth) authorization(req *sipmsg.Request) (credentials, bool) {
	for _, h := range req.GetHeaders("Authorization") {
		params, ok := parseDigestParams(h.Value())
		if !ok || params["realm"] != a.realm {
			continue // RFC 3261 §22.4: credentials for other realms are not ours
		}
		c := credentials{
			user: params["username"], realm: params["realm"], nonce: params["nonce"],
			uri: params["uri"], response: params["response"], alg: params["algorithm"],
			opaque: params["opaque"], qop: params["qop"], nc: params["nc"], cnonce: params["cnonce"],
		}
		if c.alg == "" {
			c.alg = AlgMD5 // RFC 7616 §3.4: absent means MD5
		}
		if c.user == "" || c.nonce == "" || c.uri == "" || c.response == "" || c.cnonce == "" ||
			!strings.EqualFold(c.qop, "auth") || !slices.ContainsFunc(a.algs, func(alg string) bool { return strings.EqualFold(alg, c.alg) }) || len(c.nc) != 8 {
			return c, false
		}
		if _, err := strconv.ParseUint(c.nc, 16, 32); err != nil {
			return c, false
		}
		return c, true
	}
	return credentials{}, false
}

// verify checks req's credentials against accounts. On authOK it returns
// the authenticated user. err is set only when the account store failed.
func (a *digestAuth) verify(ctx context.Context, accounts Accounts, req *sipmsg.Request) (authResult, string, error) {
	c, ok := a.authorization(req)
	if !ok {
		return authChallenge, "", nil
	}
	issued, ok := a.checkNonce(c.nonce)
	if !ok || c.opaque != a.opaque {
		return authChallenge, "", nil // not a nonce we issued
	}
	nc, _ := strconv.ParseUint(c.nc, 16, 32)
	if nc == 0 {
		return authChallenge, "", nil
	}

	acct, err := accounts.Account(ctx, c.user, a.realm)
	known := err == nil
	if err != nil && !errors.Is(err, ErrNoAccount) {
		return 0, "", fmt.Errorf("look up account %q: %w", c.user, err)
	}
	ha1 := acct.HA1MD5
	if strings.EqualFold(c.alg, AlgSHA256) {
		ha1 = acct.HA1SHA256
	}
	if ha1 == "" || !known {
		// An unknown user costs the same work, and gets the same 403, as a
		// wrong password: the answer must not tell which user names exist.
		ha1 = HA1(c.alg, c.user, a.realm, string(a.secret))
		known = false
	}
	want := digestResponse(c.alg, strings.ToLower(ha1), string(req.Method), c.uri, c.nonce, c.nc, c.cnonce, strings.ToLower(c.qop))
	match := subtle.ConstantTimeCompare([]byte(want), []byte(strings.ToLower(c.response))) == 1
	if !match || !known || acct.Disabled || acct.User != c.user {
		return authForbidden, "", nil
	}
	// RFC 7616 §3.3: stale=true only when the digest was right, so the
	// client may retry with the new nonce without asking its user again.
	now := a.now().UnixNano()
	if now-issued > int64(a.ttl) || now < issued {
		return authStale, "", nil
	}
	if !a.useNonce(c.nonce, issued, uint32(nc), now) {
		return authChallenge, "", nil // a replayed nonce-count
	}
	return authOK, c.user, nil
}

// useNonce records nc as used with nonce, reporting false when it is not
// above the last count accepted with that nonce (RFC 7616 §3.4: replay).
func (a *digestAuth) useNonce(nonce string, issued int64, nc uint32, now int64) bool {
	a.mu.Lock()
	defer a.mu.Unlock()
	if issued <= a.floor {
		return false
	}
	if u, ok := a.used[nonce]; ok {
		if nc <= u.nc {
			return false
		}
		a.used[nonce] = nonceUse{issued: issued, nc: nc}
		return true
	}
	if len(a.used) >= a.max {
		a.evict(now)
	}
	a.used[nonce] = nonceUse{issued: issued, nc: nc}
	return true
}

// evict forgets expired nonces and, if the map is still full, the oldest
// half, raising floor so that those can never be accepted again.
func (a *digestAuth) evict(now int64) {
	for n, u := range a.used {
		if now-u.issued > int64(a.ttl) {
			delete(a.used, n)
		}
	}
	if len(a.used) < a.max {
		return
	}
	issued := make([]int64, 0, len(a.used))
	for _, u := range a.used {
		issued = append(issued, u.issued)
	}
	slices.Sort(issued)
	a.floor = max(a.floor, issued[len(issued)/2])
	for n, u := range a.used {
		if u.issued <= a.floor {
			delete(a.used, n)
		}
	}
}

// parseDigestParams parses the value of an Authorization header field,
// `Digest k=v, k="quoted", ...` (RFC 7616 §3.4, RFC 3261 §25.1), with
// lower-case keys. ok is false for another scheme or a malformed list.
func parseDigestParams(v string) (map[string]string, bool) {
	v = strings.TrimSpace(v)
	scheme, rest, _ := strings.Cut(v, " ")
	if !strings.EqualFold(scheme, "Digest") {
		return nil, false
	}
	params := make(map[string]string)
	s := rest
	for {
		s = strings.TrimLeft(s, " \t,")
		if s == "" {
			return params, true
		}
		eq := strings.IndexByte(s, '=')
		if eq <= 0 {
			return nil, false
		}
		key := strings.ToLower(strings.TrimSpace(s[:eq]))
		s = strings.TrimLeft(s[eq+1:], " \t")
		var val string
		if strings.HasPrefix(s, `"`) {
			var b strings.Builder
			i := 1
			for ; i < len(s) && s[i] != '"'; i++ {
				if s[i] == '\\' && i+1 < len(s) {
					i++
				}
				b.WriteByte(s[i])
			}
			if i >= len(s) {
				return nil, false // unterminated quoted string
			}
			val, s = b.String(), s[i+1:]
		} else {
			end := strings.IndexAny(s, ", \t")
			if end < 0 {
				end = len(s)
			}
			val, s = s[:end], s[end:]
		}
		if _, dup := params[key]; dup || !isToken(key) {
			return nil, false
		}
		params[key] = val
	}
}
