package main

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/sambung/sambung/store"
)

// TestAgentCommands gives agents skills, a team and a level from the
// command line, and checks what reaches the database and the audit trail.
func TestAgentCommands(t *testing.T) {
	dir := t.TempDir()
	dd := "--data-dir=" + dir
	for _, u := range [][]string{{"siti", "agent"}, {"budi", "supervisor"}, {"quinn", "qa"}} {
		if code, _, errOut := runCLI(t, "s3cret-pass\n", "user", "add", u[0], "--role", u[1], dd); code != exitOK {
			t.Fatalf("user add %s: exit %d: %s", u[0], code, errOut)
		}
	}
	steps := []struct {
		args       []string
		code       int
		stdoutHas  []string
		stderrHas  []string
		stdoutLack []string
	}{
		{[]string{"agent", "list", dd}, 0, []string{"NAME"}, nil, []string{"siti"}},
		{[]string{"agent", "set", "siti", "--skills", "language:en,intent:billing", "--team", "billing", "--level", "2", dd}, 0,
			[]string{"made agent siti", "intent:billing, language:en", "billing", "offline"}, nil, nil},
		{[]string{"agent", "set", "budi", "--skills", "language:id", dd}, 0, []string{"made agent budi", "language:id"}, nil, nil},
		{[]string{"agent", "list", dd}, 0, []string{"intent:billing,language:en", "billing", "offline"}, nil, nil},
		// Editing keeps what is not named: the team, the level, the other skills.
		{[]string{"agent", "set", "siti", "--add-skills", "language:id,language:en", "--remove-skills", "intent:billing", dd}, 0,
			[]string{"updated agent siti", "language:en, language:id", "billing", "2"}, nil, []string{"intent:billing"}},
		{[]string{"agent", "set", "siti", "--remove-skills", "intent:refund", dd}, 0, []string{"language:en, language:id"},
			[]string{"siti has no skill intent:refund"}, nil},
		{[]string{"agent", "set", "siti", "--phone", "sip:siti@10.0.0.7:5062", dd}, 0, []string{"sip:siti@10.0.0.7:5062"}, nil, nil},
		{[]string{"agent", "show", "siti", dd}, 0, []string{"takes calls on:", "sip:siti@10.0.0.7:5062", "language:en, language:id"}, nil, nil},
		{[]string{"agent", "set", "quinn", "--skills", "language:en", dd}, 1, nil, []string{`user "quinn" has role qa`}, nil},
		{[]string{"agent", "set", "ghost", "--skills", "language:en", dd}, 1, nil, []string{`user "ghost" does not exist`}, nil},
		{[]string{"agent", "set", "siti", "--skills", "language:en,intent:bill ing", dd}, 2, nil,
			[]string{`skill "intent:bill ing"`, "kind:value"}, nil},
		{[]string{"agent", "set", "siti", "--phone", "1001", dd}, 2, nil, []string{`--phone`, "sip:"}, nil},
		{[]string{"agent", "set", "siti", "--add-skills", "billing", dd}, 2, nil, []string{`skill "billing"`, "kind:value"}, nil},
		{[]string{"agent", "set", "siti", "--add-skills", "agent:7", dd}, 2, nil, []string{`skill "agent:7"`, "implicit"}, nil},
		{[]string{"agent", "set", "siti", "--level", "-1", dd}, 2, nil, []string{"--level", `"-1"`}, nil},
		{[]string{"agent", "set", "siti", dd}, 2, nil, []string{"nothing to set"}, nil},
		{[]string{"agent", "list", "--skills", "language:en", dd}, 2, nil, []string{"are for set"}, nil},
		{[]string{"agent", "show", "quinn", dd}, 1, nil, []string{`user "quinn" is not an agent`}, nil},
		{[]string{"agent", "show", "ghost", dd}, 1, nil, []string{`user "ghost" does not exist`}, nil},
		{[]string{"agent", "fire", "siti", dd}, 2, nil, []string{`unknown action "fire"`}, nil},
	}
	for _, s := range steps {
		code, out, errOut := runCLI(t, "", s.args...)
		ok := code == s.code
		for _, w := range s.stdoutHas {
			ok = ok && strings.Contains(out, w)
		}
		for _, w := range s.stderrHas {
			ok = ok && strings.Contains(errOut, w)
		}
		for _, w := range s.stdoutLack {
			ok = ok && !strings.Contains(out, w)
		}
		if !ok {
			t.Errorf("%v: exit %d, want %d\nstdout: %s\nstderr: %s", s.args, code, s.code, out, errOut)
		}
	}

	// What the ACD routes by is in the database.
	st := openTestStore(t, dir)
	siti, err := st.UserByName(context.Background(), "siti")
	if err != nil {
		t.Fatal(err)
	}
	a, err := st.AgentByID(context.Background(), siti.ID)
	if err != nil {
		t.Fatal(err)
	}
	if want := []string{"language:en", "language:id"}; !slices.Equal(a.Skills, want) || a.Team != "billing" || a.Level != 2 {
		t.Errorf("stored agent: skills %v team %q level %d, want %v billing 2", a.Skills, a.Team, a.Level, want)
	}

	// The list is sorted by name.
	_, out, _ := runCLI(t, "", "agent", "list", dd)
	if b, s := strings.Index(out, "budi"), strings.Index(out, "siti"); b < 0 || s < b {
		t.Errorf("agent list not sorted by name:\n%s", out)
	}

	// Every change is audited, and only the changes that happened.
	raw, err := os.ReadFile(filepath.Join(dir, "audit.log"))
	if err != nil {
		t.Fatal(err)
	}
	if n := strings.Count(string(raw), `"action":"agent.set"`); n != 5 {
		t.Errorf("audit file has %d agent.set events, want 5 (one per change made):\n%s", n, raw)
	}
	for _, want := range []string{`"target":"siti"`, `"target":"budi"`, `"skills":"language:en,language:id"`, `"actor":"cli`, `"phone":"sip:siti@10.0.0.7:5062"`} {
		if !strings.Contains(string(raw), want) {
			t.Errorf("audit file lacks %s:\n%s", want, raw)
		}
	}
	if strings.Contains(string(raw), `"action":"agent.set","target":"quinn"`) || strings.Contains(string(raw), `"target":"ghost"`) {
		t.Errorf("audit file has a refused change:\n%s", raw)
	}
}

// TestAgentShowAndStateKept checks that set keeps the agent's state and
// that show lists the latest state changes.
func TestAgentShowAndStateKept(t *testing.T) {
	dir := t.TempDir()
	dd := "--data-dir=" + dir
	if code, _, errOut := runCLI(t, "s3cret-pass\n", "user", "add", "siti", "--role", "agent", dd); code != exitOK {
		t.Fatalf("user add: exit %d: %s", code, errOut)
	}
	if code, _, errOut := runCLI(t, "", "agent", "set", "siti", "--skills", "language:en", dd); code != exitOK {
		t.Fatalf("agent set: exit %d: %s", code, errOut)
	}
	code, out, _ := runCLI(t, "", "agent", "show", "siti", dd)
	if code != exitOK || !strings.Contains(out, "no state changes yet") {
		t.Errorf("show before any change: exit %d\n%s", code, out)
	}

	st := openTestStore(t, dir)
	ctx := context.Background()
	u, err := st.UserByName(ctx, "siti")
	if err != nil {
		t.Fatal(err)
	}
	for i := 1; i <= 12; i++ {
		if _, err := st.SetAgentState(ctx, store.AgentStateChange{AgentID: u.ID, To: store.AgentAway,
			Reason: fmt.Sprintf("break-%02d", i), Actor: "siti"}); err != nil {
			t.Fatal(err)
		}
	}
	if err := st.Close(); err != nil {
		t.Fatal(err)
	}

	code, out, errOut := runCLI(t, "", "agent", "set", "siti", "--add-skills", "intent:billing", dd)
	if code != exitOK || !strings.Contains(out, "away (break-12)") || !strings.Contains(out, "intent:billing, language:en") {
		t.Errorf("set on an away agent: exit %d, want the state kept\nstdout: %s\nstderr: %s", code, out, errOut)
	}
	code, out, _ = runCLI(t, "", "agent", "show", "siti", dd)
	if code != exitOK {
		t.Fatalf("show: exit %d", code)
	}
	for i := 1; i <= 12; i++ {
		reason := fmt.Sprintf("break-%02d", i)
		if shown := strings.Contains(out, reason); shown != (i > 12-agentHistory) {
			t.Errorf("show: %s shown %v, want only the last %d changes\n%s", reason, shown, agentHistory, out)
		}
	}
}

func openTestStore(t *testing.T, dir string) store.Store {
	t.Helper()
	st, err := store.Open(context.Background(), store.Config{DataDir: dir}, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = st.Close() })
	return st
}
