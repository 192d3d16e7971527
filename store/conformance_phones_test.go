package store

import (
	"context"
	"errors"
	"testing"
	"time"
)

func testPhones(t *testing.T, s Store) {
	ctx := context.Background()
	a, err := s.CreateSIPAccount(ctx, SIPAccount{Name: "desk1", Realm: "sambung", DisplayName: "Front desk",
		HA1MD5: "md5hex", HA1SHA256: "sha256hex"})
	if err != nil || a.ID == 0 || a.CreatedAt.IsZero() {
		t.Fatalf("create: %+v %v", a, err)
	}
	if _, err := s.CreateSIPAccount(ctx, SIPAccount{Name: "desk1", Realm: "sambung"}); !errors.Is(err, ErrExists) {
		t.Errorf("duplicate: %v", err)
	}
	if _, err := s.CreateSIPAccount(ctx, SIPAccount{Name: "desk1", Realm: "other"}); err != nil {
		t.Errorf("same name, other realm: %v", err)
	}
	got, err := s.SIPAccount(ctx, "desk1", "sambung")
	if err != nil || got.HA1MD5 != "md5hex" || got.HA1SHA256 != "sha256hex" || got.DisplayName != "Front desk" || got.Disabled {
		t.Errorf("read back: %+v %v", got, err)
	}
	if _, err := s.SIPAccount(ctx, "nobody", "sambung"); !errors.Is(err, ErrNotFound) {
		t.Errorf("unknown: %v", err)
	}
	if err := s.SetSIPAccountDisabled(ctx, "desk1", true); err != nil {
		t.Fatal(err)
	}
	if got, _ := s.SIPAccount(ctx, "desk1", "sambung"); !got.Disabled {
		t.Error("not disabled")
	}
	if err := s.SetSIPAccountDisabled(ctx, "nobody", true); !errors.Is(err, ErrNotFound) {
		t.Errorf("disable unknown: %v", err)
	}
	all, _ := s.ListSIPAccounts(ctx)
	if len(all) != 2 || all[0].Realm != "other" || all[1].Realm != "sambung" {
		t.Errorf("list: %+v", all)
	}

	now := time.Date(2026, 11, 23, 9, 0, 0, 0, time.UTC)
	aor := "sip:desk1@sambung"
	put := func(contact string, ttl time.Duration, cseq uint32) {
		t.Helper()
		if err := s.PutSIPBinding(ctx, SIPBinding{AOR: aor, Contact: contact, Expires: now.Add(ttl), CallID: "reg-1",
			CSeq: cseq, Received: "127.0.0.1:5062", Transport: "udp", UserAgent: "baresip", Node: "n1"}); err != nil {
			t.Fatal(err)
		}
	}
	put("sip:desk1@127.0.0.1:5062", time.Hour, 1)
	put("sip:desk1@127.0.0.1:5064", 30*time.Minute, 1)
	put("sip:desk1@127.0.0.1:5066", -time.Minute, 1) // already expired
	put("sip:desk1@127.0.0.1:5062", 2*time.Hour, 2)  // refresh replaces
	bs, err := s.SIPBindings(ctx, aor, now)
	if err != nil || len(bs) != 2 || bs[0].Contact != "sip:desk1@127.0.0.1:5062" || bs[0].CSeq != 2 || !bs[0].Expires.Equal(now.Add(2*time.Hour)) {
		t.Fatalf("bindings: %+v %v", bs, err)
	}
	if err := s.RemoveSIPBinding(ctx, aor, "sip:desk1@127.0.0.1:5064"); err != nil {
		t.Fatal(err)
	}
	if bs, _ := s.SIPBindings(ctx, aor, now); len(bs) != 1 {
		t.Errorf("after remove: %+v", bs)
	}
	if err := s.RemoveSIPBindings(ctx, aor); err != nil {
		t.Fatal(err)
	}
	if bs, _ := s.SIPBindings(ctx, aor, now); len(bs) != 0 {
		t.Errorf("after remove all: %+v", bs)
	}
}
