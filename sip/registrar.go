package sip

import (
	"context"
	"errors"
	"fmt"
	"hash/maphash"
	"net/netip"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	sipmsg "github.com/emiago/sipgo/sip"
)

// The registrar of RFC 3261 §10.3: REGISTER binds an address-of-record
// (the To URI, "sip:user@Realm") to the Contact URIs where its user can be
// reached, after digest authentication of that user. Bindings live behind
// the Bindings interface (NewMemoryBindings in process, the store later);
// Server.Lookup reads them for outbound calls.

// RegistrarConfig configures the registrar. The zero value leaves it off:
// REGISTER is then answered 405 Method Not Allowed.
type RegistrarConfig struct {
	// Enabled turns the registrar on; Config.Realm must then be set.
	Enabled bool
	// MinExpires is the shortest registration accepted; shorter ones are
	// answered 423 Interval Too Brief (default 60 s, RFC 3261 §10.3 step 7).
	MinExpires time.Duration
	// MaxExpires caps a registration's lifetime, and is the lifetime of one
	// that asks for none (default 3600 s).
	MaxExpires time.Duration
	// NonceTTL is how long a digest nonce stays usable (default 5
	// minutes). Credentials with an older nonce get a new challenge with
	// stale=true.
	NonceTTL time.Duration
	// Algorithms are the digest algorithms offered, one challenge each, in
	// this order: AlgSHA256 and AlgMD5 (default both, SHA-256 first, RFC
	// 8760 §2.4). Clients that read only the first challenge and know only
	// MD5 (sipsak, baresip 1.x with libre 1.x) fail on SHA-256 first: list
	// only AlgMD5 for them.
	Algorithms []string
}

// Defaults of the registrar, filled in by withDefaults.
const (
	defaultMinExpires = 60 * time.Second
	defaultMaxExpires = 3600 * time.Second
)

func (c RegistrarConfig) withDefaults() RegistrarConfig {
	if c.MinExpires <= 0 {
		c.MinExpires = defaultMinExpires
	}
	if c.MaxExpires <= 0 {
		c.MaxExpires = defaultMaxExpires
	}
	c.MaxExpires = max(c.MaxExpires, c.MinExpires)
	if c.NonceTTL <= 0 {
		c.NonceTTL = defaultNonceTTL
	}
	return c
}

// Binding is one Contact registered for an address-of-record.
type Binding struct {
	// Contact is the registered URI, without header field parameters.
	Contact string
	// Expires is when the binding ends.
	Expires time.Time
	// CallID and CSeq are those of the REGISTER that last refreshed the
	// binding (RFC 3261 §10.3 step 7 orders updates by them).
	CallID string
	CSeq   uint32
	// Received is the address the REGISTER came from, and Transport its
	// transport ("UDP", "TCP", "TLS"): where to reach a phone behind NAT.
	Received  netip.AddrPort
	Transport string
	// UserAgent is the REGISTER's User-Agent header field.
	UserAgent string
}

// Bindings stores the registrar's bindings, by address-of-record. It is
// implemented by NewMemoryBindings and the store; the registrar serialises
// its updates to one address-of-record.
type Bindings interface {
	// Put adds b, or replaces the binding of aor with the same Contact.
	Put(ctx context.Context, aor string, b Binding) error
	// Remove removes aor's binding of contact, if any.
	Remove(ctx context.Context, aor, contact string) error
	// RemoveAll removes every binding of aor.
	RemoveAll(ctx context.Context, aor string) error
	// List returns aor's bindings that have not expired at now.
	List(ctx context.Context, aor string, now time.Time) ([]Binding, error)
}

// MemoryBindings is a Bindings held in memory, for a single server and
// for tests. Expired bindings are dropped when read.
type MemoryBindings struct {
	mu   sync.Mutex
	aors map[string]map[string]Binding // aor -> contact -> binding
}

// NewMemoryBindings returns an empty MemoryBindings.
func NewMemoryBindings() *MemoryBindings {
	return &MemoryBindings{aors: make(map[string]map[string]Binding)}
}

// Put implements Bindings.
func (m *MemoryBindings) Put(_ context.Context, aor string, b Binding) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	bs := m.aors[aor]
	if bs == nil {
		bs = make(map[string]Binding)
		m.aors[aor] = bs
	}
	bs[b.Contact] = b
	return nil
}

// Remove implements Bindings.
func (m *MemoryBindings) Remove(_ context.Context, aor, contact string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	delete(m.aors[aor], contact)
	if len(m.aors[aor]) == 0 {
		delete(m.aors, aor)
	}
	return nil
}

// RemoveAll implements Bindings.
func (m *MemoryBindings) RemoveAll(_ context.Context, aor string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	delete(m.aors, aor)
	return nil
}

// List implements Bindings, sorted by Contact.
func (m *MemoryBindings) List(_ context.Context, aor string, now time.Time) ([]Binding, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	var out []Binding
	for c, b := range m.aors[aor] {
		if !now.Before(b.Expires) {
			delete(m.aors[aor], c)
			continue
		}
		out = append(out, b)
	}
	if len(m.aors[aor]) == 0 {
		delete(m.aors, aor)
	}
	slices.SortFunc(out, func(a, b Binding) int { return strings.Compare(a.Contact, b.Contact) })
	return out, nil
}

// ErrRegistrarDisabled is what Server.Lookup returns when
// Config.Registrar.Enabled is false.
var ErrRegistrarDisabled = errors.New("sip: registrar not enabled")

// registrar serves REGISTER for one Server.
type registrar struct {
	s     *Server
	cfg   RegistrarConfig
	realm string
	auth  *digestAuth
	now   func() time.Time // replaced by tests

	accounts atomic.Pointer[Accounts]
	bindings atomic.Pointer[Bindings]

	// locks serialise the updates of one address-of-record (striped), so
	// that two REGISTERs cannot interleave their checks and writes.
	seed  maphash.Seed
	locks [64]sync.Mutex
}

func newRegistrar(s *Server, cfg Config) (*registrar, error) {
	if cfg.Realm == "" || !validHeaderValue(cfg.Realm) || strings.ContainsAny(cfg.Realm, `"\`) {
		return nil, errors.New("sip config: the registrar needs Realm, a domain name such as sip.example.com, without quotes")
	}
	auth, err := newDigestAuth(cfg.Realm, cfg.Registrar.NonceTTL, cfg.Registrar.Algorithms)
	if err != nil {
		return nil, err
	}
	r := &registrar{s: s, cfg: cfg.Registrar, realm: cfg.Realm, auth: auth, now: time.Now, seed: maphash.MakeSeed()}
	var b Bindings = NewMemoryBindings()
	r.bindings.Store(&b)
	return r, nil
}

// SetAccounts sets the accounts REGISTER authenticates against. Until it
// is called every REGISTER fails authentication.
func (s *Server) SetAccounts(a Accounts) {
	if s.registrar != nil {
		s.registrar.accounts.Store(&a)
	}
}

// SetBindings replaces where registrations are kept (by default a
// MemoryBindings of the server's own). Call it before Serve.
func (s *Server) SetBindings(b Bindings) {
	if s.registrar != nil {
		s.registrar.bindings.Store(&b)
	}
}

// Lookup returns the current bindings of an address-of-record,
// "sip:user@Realm" (or with one of our addresses as host), for placing a
// call to a registered user.
func (s *Server) Lookup(ctx context.Context, aor string) ([]Binding, error) {
	r := s.registrar
	if r == nil {
		return nil, ErrRegistrarDisabled
	}
	u := sipmsg.Uri{}
	if err := sipmsg.ParseUri(aor, &u); err != nil {
		return nil, fmt.Errorf("sip: lookup %q: %w", aor, err)
	}
	key, ok := r.aor(&u)
	if !ok {
		return nil, fmt.Errorf("sip: lookup %q: not an address-of-record of realm %s", aor, r.realm)
	}
	bs, err := (*r.bindings.Load()).List(ctx, key, r.now())
	if err != nil {
		return nil, fmt.Errorf("sip: lookup %s: %w", key, err)
	}
	return bs, nil
}

// ours reports whether host names this server: the realm, or an address
// a listener is bound to (any address, for a listener on 0.0.0.0 or ::).
func (r *registrar) ours(host string) bool {
	if strings.EqualFold(host, r.realm) {
		return true
	}
	ip, err := netip.ParseAddr(strings.Trim(host, "[]"))
	if err != nil {
		return false
	}
	a := r.s.Addrs()
	for _, ap := range slices.Concat(a.UDP, a.TCP, a.TLS) {
		if ap.Addr().IsUnspecified() || ap.Addr().Unmap() == ip.Unmap() {
			return true
		}
	}
	return r.s.cfg.MediaIP.IsValid() && r.s.cfg.MediaIP.Unmap() == ip.Unmap()
}

// ourPort reports whether port (0: none given) is one a listener of ours
// is bound to: sip:user@OURHOST:OTHERPORT is another agent on this host.
func (r *registrar) ourPort(port int) bool {
	if port == 0 {
		return true
	}
	a := r.s.Addrs()
	for _, ap := range slices.Concat(a.UDP, a.TCP, a.TLS) {
		if int(ap.Port()) == port {
			return true
		}
	}
	return false
}

// aor returns the canonical address-of-record of u, sip:user@Realm, and
// whether u is one of ours.
func (r *registrar) aor(u *sipmsg.Uri) (string, bool) {
	if (u.Scheme != "sip" && u.Scheme != "sips") || u.User == "" || !r.ours(u.Host) {
		return "", false
	}
	return "sip:" + u.User + "@" + r.realm, true
}

// checks applies to REGISTER the part of validate that comes after its
// method check, which validate answers 405 for REGISTER.
func (r *registrar) checks(req *sipmsg.Request) *rejection {
	if *req.MaxForwards() == 0 {
		return reject(483, "Too Many Hops")
	}
	if s := req.Recipient.Scheme; s != "sip" && s != "sips" {
		return reject(416, "Unsupported URI Scheme")
	}
	if tags := requiredOptions(req); len(tags) > 0 {
		return reject(420, "Bad Extension", sipmsg.NewHeader("Unsupported", strings.Join(tags, ", ")))
	}
	return nil
}

// serve handles a validated REGISTER (RFC 3261 §10.3).
func (r *registrar) serve(req *sipmsg.Request, tx sipmsg.ServerTransaction) {
	s := r.s
	ctx, cancel := context.WithTimeout(s.base, 5*time.Second)
	defer cancel()

	// Step 1: the Request-URI names our domain. Its user part, which
	// RFC 3261 §10.2 forbids but some clients send, is ignored.
	if !r.ours(req.Recipient.Host) {
		s.respond(req, tx, 404, "Not Found", nil)
		return
	}
	// Step 3: authenticate.
	var accounts Accounts = noAccounts{}
	if a := r.accounts.Load(); a != nil {
		accounts = *a
	}
	res, user, err := r.auth.verify(ctx, accounts, req)
	if err != nil {
		s.log.Error("sip: registrar: authentication", "call_id", callIDOf(req), "error", err)
		s.respond(req, tx, 500, "Server Internal Error", nil)
		return
	}
	switch res {
	case authChallenge, authStale:
		if res == authChallenge && req.GetHeader("Authorization") != nil {
			s.stats.authFailures.Add(1)
		}
		s.respond(req, tx, 401, "Unauthorized", nil, r.auth.challenge(res == authStale)...)
		return
	case authForbidden:
		s.stats.authFailures.Add(1)
		s.log.Info("sip: registrar: authentication failed", "call_id", callIDOf(req), "source", req.Source())
		s.respond(req, tx, 403, "Forbidden", nil)
		return
	}
	// Steps 4 and 5: the To URI is an address-of-record of ours, and the
	// authenticated user is its owner.
	aor, ok := r.aor(&req.To().Address)
	if !ok {
		s.respond(req, tx, 404, "Not Found", nil)
		return
	}
	if req.To().Address.User != user {
		s.stats.authFailures.Add(1)
		s.respond(req, tx, 403, "Forbidden", nil)
		return
	}

	// Steps 6 to 8, under the lock of this address-of-record.
	lock := &r.locks[maphash.String(r.seed, aor)%uint64(len(r.locks))]
	lock.Lock()
	defer lock.Unlock()
	code, reason, headers, err := r.update(ctx, req, aor)
	if err != nil {
		s.log.Error("sip: registrar: update bindings", "call_id", callIDOf(req), "aor", aor, "error", err)
		s.respond(req, tx, 500, "Server Internal Error", nil)
		return
	}
	s.respond(req, tx, code, reason, nil, headers...)
}

// change is one binding update of a REGISTER.
type change struct {
	remove bool
	b      Binding
}

// update applies the Contacts of req to aor's bindings and returns the
// response. The changes are made only when all of them are acceptable
// (RFC 3261 §10.3 step 7).
func (r *registrar) update(ctx context.Context, req *sipmsg.Request, aor string) (int, string, []sipmsg.Header, error) {
	store := *r.bindings.Load()
	now := r.now()

	// RFC 3261 §10.2.2: Expires header field, else the Contact's expires
	// parameter, else our default.
	defExpires := r.cfg.MaxExpires
	if h := req.GetHeader("Expires"); h != nil {
		d, ok := parseExpires(h.Value())
		if !ok {
			return 400, "Invalid Expires", nil, nil
		}
		defExpires = d
	}
	contacts := req.GetHeaders("Contact")
	existing, err := store.List(ctx, aor, now)
	if err != nil {
		return 0, "", nil, err
	}
	callID, cseq := callIDOf(req), cseqOf(req)
	// outOfOrder reports a request older than what made b (step 7).
	outOfOrder := func(b Binding) bool { return b.CallID == callID && cseq <= b.CSeq }

	var changes []change
	wildcard := false
	for _, h := range contacts {
		c, ok := h.(*sipmsg.ContactHeader)
		if !ok {
			return 400, "Invalid Contact", nil, nil
		}
		if c.Address.Wildcard {
			wildcard = true
			continue
		}
		expires := defExpires
		if v, ok := c.Params.Get("expires"); ok {
			if expires, ok = parseExpires(v); !ok {
				return 400, "Invalid Contact expires", nil, nil
			}
		}
		if expires > 0 && expires < r.cfg.MinExpires {
			// RFC 3261 §10.3 step 7: 423 with our Min-Expires.
			return 423, "Interval Too Brief", []sipmsg.Header{
				sipmsg.NewHeader("Min-Expires", strconv.Itoa(int(r.cfg.MinExpires/time.Second))),
			}, nil
		}
		expires = min(expires, r.cfg.MaxExpires)
		contact := c.Address.String()
		if i := slices.IndexFunc(existing, func(b Binding) bool { return b.Contact == contact }); i >= 0 && outOfOrder(existing[i]) {
			return 500, "Out Of Order Request", nil, nil
		}
		b := Binding{
			Contact: contact, Expires: now.Add(expires), CallID: callID, CSeq: cseq,
			Transport: strings.ToUpper(req.Transport()),
		}
		b.Received, _ = netip.ParseAddrPort(req.Source())
		if ua := req.GetHeader("User-Agent"); ua != nil {
			b.UserAgent = ua.Value()
		}
		changes = append(changes, change{remove: expires == 0, b: b})
	}

	if wildcard {
		// RFC 3261 §10.3 step 6: "*" only alone and with Expires: 0.
		if len(contacts) != 1 || req.GetHeader("Expires") == nil || defExpires != 0 {
			return 400, "Invalid Wildcard Contact", nil, nil
		}
		if slices.ContainsFunc(existing, outOfOrder) {
			return 500, "Out Of Order Request", nil, nil
		}
		if err := store.RemoveAll(ctx, aor); err != nil {
			return 0, "", nil, err
		}
		return 200, "OK", r.okHeaders(nil, now), nil
	}
	for _, c := range changes {
		if c.remove {
			err = store.Remove(ctx, aor, c.b.Contact)
		} else {
			err = store.Put(ctx, aor, c.b)
		}
		if err != nil {
			return 0, "", nil, err
		}
	}
	current, err := store.List(ctx, aor, now)
	if err != nil {
		return 0, "", nil, err
	}
	return 200, "OK", r.okHeaders(current, now), nil
}

// okHeaders lists the current bindings in a 200 (RFC 3261 §10.3 step 8),
// each with the seconds it has left.
func (r *registrar) okHeaders(bs []Binding, now time.Time) []sipmsg.Header {
	hs := make([]sipmsg.Header, 0, len(bs)+1)
	for _, b := range bs {
		left := max(int64(b.Expires.Sub(now).Round(time.Second)/time.Second), 1)
		hs = append(hs, sipmsg.NewHeader("Contact", "<"+b.Contact+">;expires="+strconv.FormatInt(left, 10)))
	}
	hs = append(hs, sipmsg.NewHeader("Date", now.UTC().Format(http1123)))
	return hs
}

// http1123 is the SIP-date format (RFC 3261 §20.17).
const http1123 = "Mon, 02 Jan 2006 15:04:05 GMT"

// parseExpires parses delta-seconds (RFC 3261 §20.19); values too large
// for 32 bits are taken as the largest.
func parseExpires(v string) (time.Duration, bool) {
	v = strings.TrimSpace(v)
	if v == "" || strings.TrimLeft(v, "0123456789") != "" {
		return 0, false
	}
	n, err := strconv.ParseUint(v, 10, 32)
	if err != nil {
		n = 1<<32 - 1
	}
	return time.Duration(n) * time.Second, true
}

// noAccounts is the Accounts of a registrar before SetAccounts.
type noAccounts struct{}

func (noAccounts) Account(context.Context, string, string) (Account, error) {
	return Account{}, ErrNoAccount
}

var _ Bindings = (*MemoryBindings)(nil)
