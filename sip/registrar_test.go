package sip

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/emiago/sipgo"
	sipmsg "github.com/emiago/sipgo/sip"
	"github.com/sambung/sambung/internal/testenv"
)

const testRealm = "sambung.test"

// startRegistrar starts a server with the registrar on and alice's and
// bob's accounts.
func startRegistrar(t *testing.T, algs ...string) *Server {
	t.Helper()
	s := startServer(t, Config{Realm: testRealm, Registrar: RegistrarConfig{Enabled: true, Algorithms: algs}}, nil)
	s.SetAccounts(passwords{users: map[string]string{"alice": "wonderland", "bob": "builder"}})
	return s
}

// registration is one client's series of REGISTERs: one Call-ID, rising
// CSeq (RFC 3261 §10.2).
type registration struct {
	t              *testing.T
	p              *phone
	user, password string
	aorUser        string // To user; user's own by default
	callID         string
	cseq           uint32
}

func newRegistration(t *testing.T, s *Server, user, password string) *registration {
	return &registration{t: t, p: newPhone(t, s, "udp"), user: user, password: password, aorUser: user, callID: fmt.Sprintf("reg-%s-%d", user, time.Now().UnixNano()), cseq: 1}
}

// register sends a REGISTER with contacts and an Expires header field
// (none when expires is ""), answering the challenge, and returns the
// final response.
func (r *registration) register(contacts []string, expires string) *sipmsg.Response {
	r.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	server := r.p.server
	req := sipmsg.NewRequest(sipmsg.REGISTER, sipmsg.Uri{Scheme: "sip", Host: server.Addr().String(), Port: int(server.Port())})
	aor := sipmsg.Uri{Scheme: "sip", User: r.aorUser, Host: testRealm}
	req.AppendHeader(&sipmsg.ToHeader{Address: aor})
	req.AppendHeader(&sipmsg.FromHeader{Address: aor, Params: sipmsg.HeaderParams{{K: "tag", V: "t" + strconv.Itoa(int(r.cseq))}}})
	callID := sipmsg.CallIDHeader(r.callID)
	req.AppendHeader(&callID)
	req.AppendHeader(&sipmsg.CSeqHeader{SeqNo: r.cseq, MethodName: sipmsg.REGISTER})
	for _, c := range contacts {
		req.AppendHeader(sipmsg.NewHeader("Contact", c))
	}
	req.AppendHeader(sipmsg.NewHeader("User-Agent", "test-phone"))
	if expires != "" {
		req.AppendHeader(sipmsg.NewHeader("Expires", expires))
	}
	req.SetTransport("UDP")
	res, err := r.p.client.Do(ctx, req)
	if err != nil {
		r.t.Fatalf("REGISTER: %v", err)
	}
	if res.StatusCode == 401 {
		res, err = r.p.client.DoDigestAuth(ctx, req, res, sipgo.DigestAuth{Username: r.user, Password: r.password})
		if err != nil {
			r.t.Fatalf("REGISTER with credentials: %v", err)
		}
	}
	r.cseq = req.CSeq().SeqNo + 1
	return res
}

// contactsOf returns the Contact header fields of a response as
// "uri expires" strings, sorted.
func contactsOf(t *testing.T, res *sipmsg.Response) []string {
	t.Helper()
	var out []string
	for _, h := range res.GetHeaders("Contact") {
		c, ok := h.(*sipmsg.ContactHeader)
		if !ok {
			t.Fatalf("Contact %q not parsed", h.Value())
		}
		e, _ := c.Params.Get("expires")
		out = append(out, c.Address.String()+" "+e)
	}
	slices.Sort(out)
	return out
}

func wantStatus(t *testing.T, res *sipmsg.Response, code int) {
	t.Helper()
	if res.StatusCode != code {
		t.Fatalf("status %d %s, want %d\n%s", res.StatusCode, res.Reason, code, res)
	}
}

func wantContacts(t *testing.T, res *sipmsg.Response, want ...string) {
	t.Helper()
	if got := contactsOf(t, res); !slices.Equal(got, want) {
		t.Fatalf("200 lists %q, want %q", got, want)
	}
}

// TestRegistrar walks one address-of-record through register, refresh,
// query, removal of one binding, 423, clamping and removal of all.
func TestRegistrar(t *testing.T) {
	s := startRegistrar(t)
	r := newRegistration(t, s, "alice", "wonderland")
	const a, b = "sip:alice@192.0.2.1:5062", "sip:alice@192.0.2.2:5062"

	res := r.register([]string{"<" + a + ">"}, "600")
	wantStatus(t, res, 200)
	wantContacts(t, res, a+" 600")

	// Refresh, with the parameter beating the header field.
	wantContacts(t, r.register([]string{"<" + a + ">;expires=120"}, "600"), a+" 120")

	wantContacts(t, r.register([]string{"<" + b + ">"}, "300"), a+" 120", b+" 300")

	// A query: no Contact.
	wantContacts(t, r.register(nil, ""), a+" 120", b+" 300")

	bs, err := s.Lookup(context.Background(), "sip:alice@"+testRealm)
	if err != nil || len(bs) != 2 || bs[0].Contact != a || bs[1].Contact != b {
		t.Fatalf("Lookup = %+v, %v", bs, err)
	}
	if bs[0].Transport != "UDP" || !bs[0].Received.IsValid() || bs[0].UserAgent != "test-phone" || bs[0].CallID != r.callID {
		t.Errorf("binding %+v lacks where it came from", bs[0])
	}
	// Our own address names the same address-of-record.
	if bs, err := s.Lookup(context.Background(), "sip:alice@"+s.Addrs().UDP[0].String()); err != nil || len(bs) != 2 {
		t.Errorf("Lookup by address = %d bindings, %v", len(bs), err)
	}

	// Remove one.
	wantContacts(t, r.register([]string{"<" + a + ">"}, "0"), b+" 300")

	// Too brief, then clamped.
	res = r.register([]string{"<" + a + ">"}, "30")
	wantStatus(t, res, 423)
	if h := res.GetHeader("Min-Expires"); h == nil || h.Value() != "60" {
		t.Errorf("423 Min-Expires = %v, want 60", h)
	}
	wantContacts(t, r.register([]string{"<" + a + ">"}, "99999"), a+" 3600", b+" 300")

	// "*" needs Expires: 0 and to be alone.
	wantStatus(t, r.register([]string{"*"}, "60"), 400)
	wantStatus(t, r.register([]string{"*", "<" + a + ">"}, "0"), 400)
	res = r.register([]string{"*"}, "0")
	wantStatus(t, res, 200)
	wantContacts(t, res)
	if bs, err := s.Lookup(context.Background(), "sip:alice@"+testRealm); err != nil || len(bs) != 0 {
		t.Errorf("Lookup after removing all = %+v, %v", bs, err)
	}
}

// TestRegistrarExpiry moves the registrar's clock past a binding's end.
func TestRegistrarExpiry(t *testing.T) {
	// The clock is set before Serve: the race detector does not see the
	// sockets between this test and the server as synchronisation.
	s, err := New(Config{UDP: []string{"127.0.0.1:0"}, Realm: testRealm, Registrar: RegistrarConfig{Enabled: true}}, testLog(t))
	if err != nil {
		t.Fatal(err)
	}
	var skew atomic.Int64
	s.registrar.now = func() time.Time { return time.Now().Add(time.Duration(skew.Load())) }
	s.SetAccounts(passwords{users: map[string]string{"bob": "builder"}})
	ctx, cancel := context.WithCancel(context.Background())
	served := make(chan error, 1)
	go func() { served <- s.Serve(ctx) }()
	t.Cleanup(func() {
		cancel()
		if err := <-served; err != nil {
			t.Errorf("Serve: %v", err)
		}
	})
	r := newRegistration(t, s, "bob", "builder")
	wantStatus(t, r.register([]string{"<sip:bob@192.0.2.9>"}, "60"), 200)
	aor := "sip:bob@" + testRealm
	if bs, _ := s.Lookup(context.Background(), aor); len(bs) != 1 {
		t.Fatalf("Lookup = %+v, want one binding", bs)
	}
	skew.Store(int64(61 * time.Second))
	if bs, _ := s.Lookup(context.Background(), aor); len(bs) != 0 {
		t.Errorf("Lookup after expiry = %+v, want none", bs)
	}
	wantContacts(t, r.register(nil, ""))
}

// TestRegistrarOrdering: RFC 3261 §10.3 step 7 refuses a REGISTER older
// (same Call-ID, lower CSeq) than the one that made a binding.
func TestRegistrarOrdering(t *testing.T) {
	s := startRegistrar(t)
	r := newRegistration(t, s, "alice", "wonderland")
	r.cseq = 100
	wantStatus(t, r.register([]string{"<sip:alice@192.0.2.1>"}, "600"), 200)
	r.cseq = 5
	wantStatus(t, r.register([]string{"<sip:alice@192.0.2.1>"}, "0"), 500)
	if bs, _ := s.Lookup(context.Background(), "sip:alice@"+testRealm); len(bs) != 1 {
		t.Errorf("Lookup = %+v: the out-of-order REGISTER changed the bindings", bs)
	}
	// Another Call-ID may replace it.
	r2 := newRegistration(t, s, "alice", "wonderland")
	wantStatus(t, r2.register([]string{"<sip:alice@192.0.2.1>"}, "0"), 200)
}

// TestRegistrarRefuses covers who may not register.
func TestRegistrarRefuses(t *testing.T) {
	s := startRegistrar(t)
	contact := []string{"<sip:x@192.0.2.1>"}

	wrong := newRegistration(t, s, "alice", "rabbit")
	res := wrong.register(contact, "600")
	wantStatus(t, res, 403)
	unknown := newRegistration(t, s, "carol", "rabbit")
	res2 := unknown.register(contact, "600")
	wantStatus(t, res2, 403)
	if res.Reason != res2.Reason || len(res.Headers()) != len(res2.Headers()) {
		t.Errorf("unknown user answered %q, wrong password %q: they must look alike", res2.Reason, res.Reason)
	}
	// Bob's credentials do not register alice.
	impostor := newRegistration(t, s, "bob", "builder")
	impostor.aorUser = "alice"
	wantStatus(t, impostor.register(contact, "600"), 403)
	if got := s.Stats().AuthFailures; got != 3 {
		t.Errorf("AuthFailures = %d, want 3", got)
	}

	// No credentials: a challenge, SHA-256 first.
	p := newPhone(t, s, "udp")
	res = p.request(context.Background(), sipmsg.REGISTER, "alice")
	wantStatus(t, res, 401)
	chals := challengeParams(t, res.GetHeaders("WWW-Authenticate"))
	if len(chals) != 2 || chals[0]["algorithm"] != AlgSHA256 || chals[1]["algorithm"] != AlgMD5 || chals[0]["realm"] != testRealm {
		t.Errorf("challenges %v", chals)
	}

	// Another domain.
	other := sipmsg.NewRequest(sipmsg.REGISTER, sipmsg.Uri{Scheme: "sip", Host: "example.com"})
	other.SetDestination(s.Addrs().UDP[0].String())
	other.SetTransport("UDP")
	res, err := p.client.Do(context.Background(), other)
	if err != nil {
		t.Fatal(err)
	}
	wantStatus(t, res, 404)
}

// TestRegistrarDisabled: without the registrar REGISTER stays 405.
func TestRegistrarDisabled(t *testing.T) {
	s := startServer(t, Config{}, nil)
	p := newPhone(t, s, "udp")
	wantStatus(t, p.request(context.Background(), sipmsg.REGISTER, "alice"), 405)
	if _, err := s.Lookup(context.Background(), "sip:alice@"+testRealm); err != ErrRegistrarDisabled {
		t.Errorf("Lookup = %v, want ErrRegistrarDisabled", err)
	}
	if _, err := New(Config{UDP: []string{"127.0.0.1:0"}, Registrar: RegistrarConfig{Enabled: true}}, nil); err == nil {
		t.Error("New accepted a registrar without Realm")
	}
	if _, err := New(Config{UDP: []string{"127.0.0.1:0"}, Realm: testRealm, Registrar: RegistrarConfig{Enabled: true, Algorithms: []string{"SHA-512-256"}}}, nil); err == nil {
		t.Error("New accepted an unsupported digest algorithm")
	}
}

// TestBaresipRegister registers baresip, a real user agent, with the
// right password, then a wrong one. baresip 1.0 (libre 1.1) knows only
// MD5 and gives up on a SHA-256 challenge listed first, so the server
// offers MD5 alone.
func TestBaresipRegister(t *testing.T) {
	bin := testenv.LookPath(t, "baresip", "Debian package baresip-core")
	s := startRegistrar(t, AlgMD5)
	// run runs baresip until it prints want, calls then, and stops it.
	run := func(password, want string, then func()) {
		t.Helper()
		dir := t.TempDir()
		sipPort := testenv.FreeSIPPort(t)
		rtp := testenv.FreeUDPRange(t, 4)
		config := fmt.Sprintf("poll_method epoll\nsip_listen 127.0.0.1:%d\nnet_interface 127.0.0.1\nrtp_ports %d-%d\n"+
			"module_path /usr/lib/baresip/modules\nmodule_tmp account.so\n", sipPort, rtp, rtp+3)
		account := fmt.Sprintf("<sip:alice@%s>;auth_pass=%s;regint=300\n", s.Addrs().UDP[0], password)
		if err := os.WriteFile(filepath.Join(dir, "config"), []byte(config), 0o644); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, "accounts"), []byte(account), 0o644); err != nil {
			t.Fatal(err)
		}
		cmd := exec.Command(bin, "-f", dir, "-t", "10")
		pr, pw := io.Pipe()
		cmd.Stdout, cmd.Stderr = pw, pw
		if err := cmd.Start(); err != nil {
			t.Fatalf("start baresip: %v", err)
		}
		exited := make(chan struct{})
		go func() { cmd.Wait(); pw.Close(); close(exited) }()
		defer func() {
			cmd.Process.Signal(os.Interrupt) // baresip unregisters on the way out
			<-exited
		}()
		var out strings.Builder
		sc := bufio.NewScanner(pr)
		for sc.Scan() {
			out.WriteString(sc.Text() + "\n")
			if strings.Contains(sc.Text(), want) {
				then()
				go io.Copy(io.Discard, pr)
				return
			}
		}
		t.Fatalf("baresip with password %q did not print %q:\n%s", password, want, out.String())
	}
	aor := "sip:alice@" + testRealm
	run("wonderland", "200 OK", func() {
		bs, err := s.Lookup(context.Background(), aor)
		if err != nil || len(bs) != 1 || !strings.Contains(bs[0].Contact, "127.0.0.1") || !strings.Contains(bs[0].UserAgent, "baresip") {
			t.Errorf("Lookup while baresip is registered = %+v, %v", bs, err)
		}
	})
	failures := s.Stats().AuthFailures
	run("rabbit", "403 Forbidden", func() {})
	if s.Stats().AuthFailures <= failures {
		t.Error("AuthFailures did not grow for a wrong password")
	}
	if bs, err := s.Lookup(context.Background(), aor); err != nil || len(bs) != 0 {
		t.Errorf("Lookup after baresip unregistered = %+v, %v", bs, err)
	}
}

// TestSipsakRegister registers with sipsak, a real client, with the right
// and a wrong password. sipsak knows only MD5 and reads only the first
// challenge, so the server offers MD5 alone.
func TestSipsakRegister(t *testing.T) {
	bin := testenv.LookPath(t, "sipsak", "Debian package sipsak")
	s := startRegistrar(t, AlgMD5)
	port := strconv.Itoa(int(s.Addrs().UDP[0].Port()))
	run := func(password string) (string, error) {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		local := strconv.Itoa(freePort(t, "udp"))
		cmd := exec.CommandContext(ctx, bin, "-vv", "-U", "-i", "-H", "127.0.0.1", "-l", local,
			"-C", "sip:alice@127.0.0.1:"+local, "-x", "300",
			"-s", "sip:alice@127.0.0.1:"+port, "-u", "alice", "-a", password)
		out, err := cmd.CombinedOutput()
		return string(out), err
	}
	out, err := run("wonderland")
	if err != nil {
		t.Fatalf("sipsak register: %v\n%s", err, out)
	}
	bs, err := s.Lookup(context.Background(), "sip:alice@"+testRealm)
	if err != nil || len(bs) != 1 || !strings.HasPrefix(bs[0].Contact, "sip:alice@127.0.0.1:") || time.Until(bs[0].Expires) < 290*time.Second {
		t.Fatalf("Lookup after sipsak = %+v, %v\n%s", bs, err, out)
	}
	failures := s.Stats().AuthFailures
	if out, err := run("rabbit"); err == nil || !strings.Contains(out, "403") {
		t.Errorf("sipsak with a wrong password: %v, want a 403\n%s", err, out)
	}
	if s.Stats().AuthFailures <= failures {
		t.Error("AuthFailures did not grow for a wrong password")
	}
}
