package ivr

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/expr-lang/expr"
)

const flowsDir = "../testdata/flows"

func TestValidFlows(t *testing.T) {
	files, err := filepath.Glob(filepath.Join(flowsDir, "valid", "*.yaml"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no valid flows: %v", err)
	}
	for _, file := range files {
		t.Run(filepath.Base(file), func(t *testing.T) {
			f, err := Load(file)
			if err != nil {
				t.Fatalf("Load: %v", err)
			}
			data, _ := os.ReadFile(file)
			if _, diags := Parse(file, data); len(diags) != 0 {
				t.Fatalf("diagnostics on a valid flow:\n%v", diags)
			}
			if f.Hash == "" || f.File != file {
				t.Errorf("Hash %q, File %q", f.Hash, f.File)
			}
		})
	}
}

func TestDemoFlowUsesEveryKind(t *testing.T) {
	f, err := Load(filepath.Join(flowsDir, "valid", "demo.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	used := map[Kind]bool{}
	for _, s := range f.Steps {
		used[s.Kind] = true
	}
	for _, k := range kinds {
		if !used[k] {
			t.Errorf("demo.yaml has no %s step", k)
		}
	}
	if got := f.Languages; strings.Join(got, ",") != "en,id,zh,yue" {
		t.Errorf("Languages = %v", got)
	}
	if !strings.Contains(f.Disclosure["en"], "automated assistant") {
		t.Errorf("Disclosure[en] = %q", f.Disclosure["en"])
	}
	ask := f.Steps["ask"].Listen
	if ask.Intents["order_status"] != "menu" || ask.Digits["0"] != "agent" || ask.Retries != 2 || ask.NoInput != "agent" {
		t.Errorf("ask = %+v", ask)
	}
	g := f.Steps["menu"].Gather
	if g.MaxDigits != 8 || g.Terminator != "#" || g.FirstDigitTimeout != 5*time.Second || g.Into != "order_number" {
		t.Errorf("menu = %+v", g)
	}
	if v := f.Variables["days"].Initial; v != 30 {
		t.Errorf("days = %#v, want int 30", v)
	}
	// The compiled programs run against an environment with the same names.
	env := exprEnv(f)
	env["tier"], env["intent"] = "vip", "billing"
	got, err := expr.Run(f.Steps["route"].Branch.Cases[0].When.Program, env)
	if err != nil || got != true {
		t.Errorf("route case 0 = %v, %v; want true", got, err)
	}
	env["business_hours"] = func(name string) bool { return name == "support" }
	got, err = expr.Run(f.Steps["route"].Branch.Cases[2].When.Program, env)
	if err != nil || got != true {
		t.Errorf("route case 2 = %v, %v; want true", got, err)
	}
	got, err = expr.Run(f.Steps["agent"].Queue.Priority.Program, env)
	if err != nil || got != 10 {
		t.Errorf("priority = %v, %v; want 10", got, err)
	}
	tpl := f.Knowledge["return_policy"]["id"]
	if len(tpl.Parts) != 3 || tpl.Parts[1].Expr == nil || tpl.Parts[1].Expr.Source != "days" {
		t.Errorf("template parts = %+v", tpl.Parts)
	}
}

// want is one expected diagnostic: its position and a phrase of its message.
type want struct {
	pos    string // "line:col"
	phrase string
	warn   bool
}

func TestBrokenFlows(t *testing.T) {
	tests := []struct {
		file string
		want []want
	}{
		{"syntax.yaml", []want{{"5:1", "not valid YAML: found character that cannot start any token", false}}},
		{"unknown_key.yaml", []want{
			{"5:3", `a say step needs next`, false},
			{"5:24", `unknown key "nxt" (did you mean "next"?)`, false},
			{"6:3", `step "b" cannot be reached`, true},
		}},
		{"wrong_type.yaml", []want{{"8:51", `max_digits: expected a whole number from 1 to 32, got "lots"`, false}}},
		{"actions.yaml", []want{
			{"5:24", `step "a" has two actions, say and hangup`, false},
			{"6:3", `step "b" has no action`, false},
			{"6:3", `step "b" cannot be reached`, true},
		}},
		{"unknown_step.yaml", []want{
			{"10:24", `step "ask" goes to "agnet" (intent human), which does not exist (did you mean "agent"?)`, false},
			{"13:5", `a listen step chooses where to go itself; remove next`, false},
			{"14:3", `step "order" cannot be reached from start "ask"`, true},
			{"14:32", `step "order" goes to "ordr" (next), which does not exist (did you mean "order"?)`, false},
			// "agent" is reachable: the escalation goes there.
		}},
		{"unreachable.yaml", []want{{"6:3", `step "lonely" cannot be reached from start "a"`, true}}},
		{"start.yaml", []want{{"3:8", `start "welcom" is not a step (did you mean "welcome"?)`, false}}},
		{"prompt.yaml", []want{
			{"3:1", `disclosure has no text in "id"`, false},
			{"5:3", `knowledge entry "hours" has no text in "id"`, false},
			{"8:12", `step "a" say has no text in "id"`, false},
			{"8:23", `"fr" is not a declared language`, false},
			{"10:23", `survey prompt has no recording in "id"`, false},
		}},
		{"intent.yaml", []want{{"10:17", `intent "order_stats" is not declared (did you mean "order_status"?)`, false}}},
		{"variable.yaml", []want{
			{"8:45", `variable "order_numbr" is not declared (did you mean "order_number"?)`, false},
			{"10:13", `set: variable "tierr" is not declared`, false},
			{"11:57", `lookup map: variable "nam" is not declared`, false},
			{"13:46", `survey into: variable "score" is not declared`, false},
			{"16:46", `variable "order_number" holds a string, but this stores a number`, false},
			{"18:48", `queue context: variable "business_hours" is not declared`, false},
		}},
		{"expr.yaml", []want{
			{"9:21", `expression "tier + 1 > 2": invalid operation: + (mismatched types string and int)`, false},
			{"11:16", `unknown name "tierr": not a declared variable or built-in (did you mean "tier"?)`, false},
			{"13:30", `business_hours("suport"): there is no calendar "suport" (did you mean "support"?)`, false},
			{"16:21", `set count: expression "\"many\"": expected int, but got string`, false},
			{"17:27", `say template: expression "nmae": unknown name "nmae"`, false},
			{"18:41", `queue priority: expression "tier": expected int`, false},
		}},
		{"loop.yaml", []want{{"8:3", `steps "b" -> "c" loop forever`, false}}},
		{"values.yaml", []want{
			{"8:51", `terminator: expected one DTMF key (0-9, * or #, quoted), got "##"`, false},
			{"8:78", `first_digit_timeout: expected a duration such as 500ms, 5s or 2m`, false},
			{"13:16", `digits: expected one DTMF key (0-9, * or #, quoted), got "A"`, false},
			{"16:21", `url "ftp://crm/{{caller" must start with http://, https:// or /`, false},
			{"16:32", `url: {{ is not closed`, false},
			{"16:51", `method must be GET or POST, got "PUT"`, false},
			{"17:17", `"tel:+62123" is not a SIP URI`, false},
			{"20:15", `unknown time zone "Mars/Olympus"`, false},
			{"21:13", `"mon-fry" is not a day or day range`, false},
			{"21:42", `sat: expected hours such as "08:00-20:00"`, false},
			{"22:15", `holiday "2026-13-01" is not a date`, false},
		}},
		{"disclosure.yaml", []want{
			{"3:13", `disclosure cannot be turned off`, false},
			{"6:17", `"fr" is not a declared language`, false},
			{"7:13", `sub-flow file ` + filepath.Join(flowsDir, "broken", "flows", "missing.yaml") + ` does not exist`, false},
			{"8:12", `recording: expected all, none, or the share of calls to record such as 20%`, false},
		}},
	}
	files, _ := filepath.Glob(filepath.Join(flowsDir, "broken", "*.yaml"))
	if len(files) != len(tests) {
		t.Errorf("%d broken fixtures, %d test cases: give each fixture a case", len(files), len(tests))
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			path := filepath.Join(flowsDir, "broken", tt.file)
			data, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			_, diags := Parse(path, data)
			checkDiags(t, path, diags, tt.want)
			_, err = Load(path)
			var ds Diagnostics
			if !errors.As(err, &ds) || !ds.HasErrors() {
				if hasError(tt.want) {
					t.Errorf("Load error = %v, want Diagnostics", err)
				}
			}
		})
	}
}

func hasError(ws []want) bool {
	for _, w := range ws {
		if !w.warn {
			return true
		}
	}
	return false
}

func checkDiags(t *testing.T, file string, diags Diagnostics, ws []want) {
	t.Helper()
	if len(diags) != len(ws) {
		t.Errorf("got %d diagnostics, want %d:\n%v", len(diags), len(ws), diags)
		return
	}
	for i, w := range ws {
		d := diags[i]
		if d.File != file || fmt.Sprintf("%d:%d", d.Line, d.Column) != w.pos || !strings.Contains(d.Message, w.phrase) || (d.Severity == SeverityWarning) != w.warn {
			t.Errorf("diagnostic %d = %v\nwant %s:%s: %q (warning %v)", i, d, file, w.pos, w.phrase, w.warn)
		}
	}
}

func TestDiagnosticsError(t *testing.T) {
	ds := Diagnostics{
		{File: "a.yaml", Line: 2, Column: 3, Message: "first"},
		{File: "a.yaml", Line: 4, Column: 1, Message: "second", Severity: SeverityWarning},
	}
	want := "a.yaml:2:3: first\na.yaml:4:1: warning: second"
	if ds.Error() != want {
		t.Errorf("Error() = %q, want %q", ds.Error(), want)
	}
	if ds.Err() == nil || ds[1:].Err() != nil {
		t.Error("Err: a list with an error is an error, a list of warnings is not")
	}
}

// flowWith is a one-language flow with the given variables, steps and
// calendars, written as YAML text.
func flowWith(vars, steps string) []byte {
	return []byte("name: t\nlanguages: [en]\nvariables:\n" + vars +
		"calendars:\n  support: {timezone: UTC, hours: {mon-sun: \"00:00-24:00\"}}\n" +
		"start: a\nsteps:\n" + steps)
}

func TestLoops(t *testing.T) {
	tests := []struct {
		name, steps string
		want        []want
	}{
		{"no exit", "  a: {set: {n: 'n + 1'}, next: b}\n  b: {branch: [{when: 'n > 1', goto: a}, {else: a}]}\n",
			[]want{{"10:3", `steps "a" -> "b" loop forever`, false}}},
		{"self loop", "  a: {set: {n: 'n + 1'}, next: a}\n",
			[]want{{"10:3", `steps "a" loop forever`, false}}},
		{"exit by branch", "  a: {set: {n: 'n + 1'}, next: b}\n  b: {branch: [{when: 'n > 1', goto: a}, {else: c}]}\n  c: {hangup: {}}\n", nil},
		{"waits for the caller", "  a: {set: {n: 'n + 1'}, next: b}\n  b: {gather: {prompt: {en: \"Number?\"}, into: s}, next: a}\n", nil},
		{"say without input", "  a: {say: {en: Hi}, next: b}\n  b: {say: {en: Hi}, next: a}\n",
			[]want{{"10:3", `steps "a" -> "b" loop forever`, false}}},
		{"interruptible say", "  a: {say: {en: Hi}, interruptible: true, next: b}\n  b: {say: {en: Hi}, next: a}\n", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, diags := Parse("loop.yaml", flowWith("  n: 0\n  s: \"\"\n", tt.steps))
			checkDiags(t, "loop.yaml", diags, tt.want)
		})
	}
}

func TestExpressions(t *testing.T) {
	tests := []struct {
		name, when string
		want       []want
	}{
		{"type error", `tier + 1 > 0`, []want{{"9:29", "mismatched types string and int", false}}},
		{"unknown variable", `customer == ""`, []want{{"9:24", `unknown name "customer"`, false}}},
		{"unknown calendar", `business_hours("sales")`, []want{{"9:39", `there is no calendar "sales"`, false}}},
		{"calendar by variable", `business_hours(tier)`, []want{{"9:39", `business_hours takes a calendar name in quotes`, false}}},
		{"not a condition", `confidence * 2`, []want{{"9:24", `expected bool`, false}}},
		{"fine", `business_hours("support") && confidence > 0.5 && now.Hour() < 20 && language == "en"`, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			steps := fmt.Sprintf("  a: {branch: [{when: '%s', goto: b}, {else: b}]}\n  b: {hangup: {}}\n", tt.when)
			_, diags := Parse("expr.yaml", flowWith("  n: 0\n", steps))
			checkDiags(t, "expr.yaml", diags, tt.want)
		})
	}
}

func TestHashFollowsBytes(t *testing.T) {
	data := flowWith("  n: 0\n", "  a: {hangup: {}}\n")
	f1, d1 := Parse("h.yaml", data)
	f2, _ := Parse("h.yaml", append(data, []byte("# a comment\n")...))
	f3, _ := Parse("other.yaml", data)
	if len(d1) != 0 {
		t.Fatal(d1)
	}
	if f1.Hash == f2.Hash {
		t.Error("Hash did not change when the bytes changed")
	}
	if f1.Hash != f3.Hash {
		t.Error("Hash changed with the file name; it must follow the bytes only")
	}
}

func TestCalendarOpen(t *testing.T) {
	f, err := Load(filepath.Join(flowsDir, "valid", "demo.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	c := f.Calendars["support"]
	jkt, _ := time.LoadLocation("Asia/Jakarta")
	tests := []struct {
		at   time.Time
		open bool
	}{
		{time.Date(2026, 11, 23, 8, 0, 0, 0, jkt), true},         // Monday opening
		{time.Date(2026, 11, 23, 20, 0, 0, 0, jkt), false},       // Monday closing
		{time.Date(2026, 11, 23, 2, 0, 0, 0, time.UTC), true},    // 09:00 in Jakarta
		{time.Date(2026, 11, 28, 12, 59, 0, 0, jkt), true},       // Saturday
		{time.Date(2026, 11, 29, 12, 0, 0, 0, jkt), false},       // Sunday
		{time.Date(2026, 12, 25, 10, 0, 0, 0, jkt), false},       // holiday, a Friday
		{time.Date(2026, 12, 24, 23, 30, 0, 0, time.UTC), false}, // 06:30 on the holiday in Jakarta
	}
	for _, tt := range tests {
		if got := c.Open(tt.at); got != tt.open {
			t.Errorf("Open(%v) = %v, want %v", tt.at, got, tt.open)
		}
	}
}

func TestLoadMissingFile(t *testing.T) {
	if _, err := Load(filepath.Join(t.TempDir(), "none.yaml")); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("Load = %v, want a not-exist error", err)
	}
}

func FuzzParse(f *testing.F) {
	for _, dir := range []string{"valid", "broken"} {
		files, _ := filepath.Glob(filepath.Join(flowsDir, dir, "*.yaml"))
		for _, file := range files {
			data, err := os.ReadFile(file)
			if err != nil {
				f.Fatal(err)
			}
			f.Add(data)
		}
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		flow, diags := Parse("fuzz.yaml", data)
		if flow == nil && !diags.HasErrors() {
			t.Fatal("no flow and no error")
		}
		for _, d := range diags {
			if d.Line < 1 || d.Column < 1 || d.Message == "" {
				t.Fatalf("diagnostic without a position or message: %v", d)
			}
		}
	})
}
