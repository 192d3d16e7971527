package main

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/sambung/sambung/internal/testenv"
	"github.com/sambung/sambung/store"
)

// TestSIPpLoad places 300 calls at 20 calls per second with SIPp, each
// streaming a spoken sentence as RTP for 3 s to the echo test. Every call
// must complete, and each must have its call record, its timeline and its
// recording with the caller's audio in it.
func TestSIPpLoad(t *testing.T) {
	const calls, rate, holdMs = 300, 20, 3000
	sipp := testenv.LookPath(t, "sipp", "Debian package sip-tester")
	sox := testenv.LookPath(t, "sox", "Debian package sox")
	tp := startTelephone(t, "--log.level", "warn")

	speech := testenv.Speech(t, "en", "I want to check the status of my order", 0)
	ulaw := filepath.Join(t.TempDir(), "caller-ulaw.wav")
	if out, err := exec.Command(sox, speech, "-e", "mu-law", "-r", "8000", ulaw).CombinedOutput(); err != nil {
		t.Fatalf("sox: %v\n%s", err, out)
	}
	tmpl, err := os.ReadFile("../../testdata/sip/sipp/uac-rtp.xml")
	if err != nil {
		t.Fatal(err)
	}
	scenario := filepath.Join(t.TempDir(), "uac.xml")
	text := strings.NewReplacer("{{AUDIO}}", ulaw, "{{HOLD_MS}}", fmt.Sprint(holdMs)).Replace(string(tmpl))
	if err := os.WriteFile(scenario, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}

	work := t.TempDir()
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, sipp, tp.sip, "-sf", scenario, "-s", "echo",
		"-i", "127.0.0.1", "-p", fmt.Sprint(testenv.FreeUDPPort(t)),
		"-mi", "127.0.0.1", "-mp", fmt.Sprint(testenv.FreeUDPRange(t, 800)),
		"-m", fmt.Sprint(calls), "-r", fmt.Sprint(rate), "-l", "150",
		"-nostdin", "-trace_err", "-trace_screen")
	cmd.Dir = work
	out, err := cmd.CombinedOutput()
	screen, _ := filepath.Glob(filepath.Join(work, "*_screen.log"))
	report := string(out)
	if len(screen) == 1 {
		b, _ := os.ReadFile(screen[0])
		report = string(b)
	}
	if err != nil {
		errs, _ := filepath.Glob(filepath.Join(work, "*_errors.log"))
		var firstErrors string
		if len(errs) == 1 {
			b, _ := os.ReadFile(errs[0])
			firstErrors = string(b[:min(len(b), 3000)])
		}
		t.Fatalf("sipp: %v\n%s\n%s", err, report, firstErrors)
	}
	if m := regexp.MustCompile(`Successful call\s+\|\s+\d+\s+\|\s+(\d+)`).FindStringSubmatch(report); m == nil || m[1] != fmt.Sprint(calls) {
		t.Fatalf("SIPp's successful calls: %v, want %d\n%s", m, calls, report)
	}

	// The server's side: every call stored, ended by the caller's BYE, with
	// a full timeline and a recording carrying the caller's speech.
	bg := context.Background()
	var all []store.Call
	for before := ""; ; {
		page, err := tp.st.ListCalls(bg, store.CallFilter{Before: before, Limit: 500})
		if err != nil {
			t.Fatal(err)
		}
		all = append(all, page...)
		if len(page) < 500 {
			break
		}
		before = page[len(page)-1].ID
	}
	if len(all) != calls {
		t.Fatalf("%d calls stored, want %d", len(all), calls)
	}
	// The last BYEs may still be in teardown: wait for every record to close.
	deadline := time.Now().Add(20 * time.Second)
	for _, c := range all {
		for c.EndedAt.IsZero() && time.Now().Before(deadline) {
			time.Sleep(50 * time.Millisecond)
			c, _ = tp.st.CallByID(bg, c.ID)
		}
		if c.Outcome != "completed" || c.EndReason != "caller_bye" || c.AnsweredAt.IsZero() {
			t.Errorf("call %s: outcome %q reason %q answered %v", c.ID, c.Outcome, c.EndReason, !c.AnsweredAt.IsZero())
			continue
		}
		evs, err := tp.st.CallEvents(bg, c.ID)
		if err != nil || len(evs) < 5 || evs[len(evs)-1].Kind != "call.ended" {
			t.Errorf("call %s: timeline of %d events ending %v (%v)", c.ID, len(evs), lastKind(evs), err)
		}
		recs, err := tp.st.CallRecordings(bg, c.ID)
		if err != nil || len(recs) != 1 {
			t.Errorf("call %s: %d recordings (%v)", c.ID, len(recs), err)
			continue
		}
		rec := testenv.ReadWAV(t, filepath.Join(tp.dir, "recordings", recs[0].Path))
		if d := rec.Duration(); d < holdMs*time.Millisecond*7/10 {
			t.Errorf("call %s: recording lasts %s", c.ID, d)
		}
		if lvl := rec.DBFS(0, 0, 2*time.Second); lvl < -40 {
			t.Errorf("call %s: caller's channel at %.1f dBFS; want the streamed speech", c.ID, lvl)
		}
	}
}

func lastKind(evs []store.CallEvent) string {
	if len(evs) == 0 {
		return "nothing"
	}
	return evs[len(evs)-1].Kind
}
