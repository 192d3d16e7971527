package main

import (
	"context"
	"errors"
	"fmt"
	"net/netip"
	"text/tabwriter"
	"time"

	"github.com/sambung/sambung/sip"
	"github.com/sambung/sambung/store"
)

// sipAccounts and sipBindings adapt the store to the registrar's
// interfaces, here in the binary so that sip imports nothing of ours but media.
type sipAccounts struct{ st store.Store }

func (a sipAccounts) Account(ctx context.Context, user, realm string) (sip.Account, error) {
	acc, err := a.st.SIPAccount(ctx, user, realm)
	if errors.Is(err, store.ErrNotFound) {
		return sip.Account{}, fmt.Errorf("%s@%s: %w", user, realm, sip.ErrNoAccount)
	}
	if err != nil {
		return sip.Account{}, err
	}
	return sip.Account{User: acc.Name, Realm: acc.Realm, HA1MD5: acc.HA1MD5, HA1SHA256: acc.HA1SHA256, Disabled: acc.Disabled}, nil
}

type sipBindings struct {
	st   store.Store
	node string
}

func (b sipBindings) Put(ctx context.Context, aor string, x sip.Binding) error {
	return b.st.PutSIPBinding(ctx, store.SIPBinding{AOR: aor, Contact: x.Contact, Expires: x.Expires, CallID: x.CallID,
		CSeq: x.CSeq, Received: x.Received.String(), Transport: x.Transport, UserAgent: x.UserAgent, Node: b.node})
}

func (b sipBindings) Remove(ctx context.Context, aor, contact string) error {
	return b.st.RemoveSIPBinding(ctx, aor, contact)
}

func (b sipBindings) RemoveAll(ctx context.Context, aor string) error {
	return b.st.RemoveSIPBindings(ctx, aor)
}

func (b sipBindings) List(ctx context.Context, aor string, now time.Time) ([]sip.Binding, error) {
	bs, err := b.st.SIPBindings(ctx, aor, now)
	if err != nil {
		return nil, err
	}
	out := make([]sip.Binding, len(bs))
	for i, x := range bs {
		received, _ := netip.ParseAddrPort(x.Received)
		out[i] = sip.Binding{Contact: x.Contact, Expires: x.Expires, CallID: x.CallID, CSeq: x.CSeq,
			Received: received, Transport: x.Transport, UserAgent: x.UserAgent}
	}
	return out, nil
}

const phoneUsage = `
Usage:
  sambung phone add NAME [--display-name TEXT]
  sambung phone list
  sambung phone disable NAME
  sambung phone enable NAME

A phone is a SIP account that a desk phone, softphone or trunk registers
with: user NAME, the password you give, realm sip.realm. Only the digest
hashes (MD5 and SHA-256) of the password are stored. The password is asked
for at the terminal, or read as the first line of standard input.
`

func (e *env) phone(ctx context.Context, args []string) int {
	fs := e.flagSet("phone", phoneUsage)
	cf := bindConfigFlags(fs)
	display := fs.String("display-name", "", "for add: the name shown for calls from it (default: NAME)")
	pos, err := parseInterleaved(fs, args)
	if err != nil {
		return parseErr(err)
	}
	if len(pos) == 0 {
		fs.Usage()
		return exitUsage
	}
	verb, rest := pos[0], pos[1:]
	want := map[string]int{"add": 1, "list": 0, "disable": 1, "enable": 1}
	n, known := want[verb]
	if !known || len(rest) != n {
		fmt.Fprintf(e.stderr, "sambung phone: expected add NAME, list, disable NAME or enable NAME; see sambung help phone\n")
		return exitUsage
	}
	st, al, cfg, closeStores, code := e.commandStores(ctx, "phone", cf)
	if code != exitOK {
		return code
	}
	defer closeStores()
	switch verb {
	case "list":
		var as []store.SIPAccount
		if as, err = st.ListSIPAccounts(ctx); err == nil {
			tw := tabwriter.NewWriter(e.stdout, 0, 4, 2, ' ', 0)
			fmt.Fprintln(tw, "NAME\tREALM\tSTATUS\tDISPLAY NAME")
			for _, a := range as {
				status := "active"
				if a.Disabled {
					status = "disabled"
				}
				fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", a.Name, a.Realm, status, a.DisplayName)
			}
			err = tw.Flush()
		}
	case "add":
		name := rest[0]
		if !validPhoneName(name) {
			err = fmt.Errorf("phone %q: a name is 1 to 64 letters, digits, '.', '_' or '-'", name)
			break
		}
		var pw string
		if pw, err = e.newPassword(name); err != nil {
			break
		}
		dn := *display
		if dn == "" {
			dn = name
		}
		realm := cfg.SIP.Realm
		_, err = st.CreateSIPAccount(ctx, store.SIPAccount{Name: name, Realm: realm, DisplayName: dn,
			HA1MD5: sip.HA1(sip.AlgMD5, name, realm, pw), HA1SHA256: sip.HA1(sip.AlgSHA256, name, realm, pw)})
		if err == nil {
			_ = al.Record(ctx, store.AuditEvent{Actor: cliActor(), Action: "phone.add", Target: name, Detail: map[string]string{"realm": realm}})
			fmt.Fprintf(e.stdout, "added phone %s (realm %s): register as sip:%s@<this server>\n", name, realm, name)
		}
	case "disable", "enable":
		if err = st.SetSIPAccountDisabled(ctx, rest[0], verb == "disable"); err == nil {
			_ = al.Record(ctx, store.AuditEvent{Actor: cliActor(), Action: "phone." + verb, Target: rest[0]})
			fmt.Fprintf(e.stdout, "%sd phone %s\n", verb, rest[0])
		}
	}
	if err != nil {
		fmt.Fprintf(e.stderr, "sambung phone %s: %s\n", verb, userErrText(err))
		return exitError
	}
	return exitOK
}

func validPhoneName(s string) bool {
	if s == "" || len(s) > 64 {
		return false
	}
	for _, r := range s {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '.' || r == '_' || r == '-') {
			return false
		}
	}
	return true
}
