package main

import (
	"encoding/json"
	"regexp"
	"strings"
	"testing"
)

const flowTests = "../../testdata/flows/tests/"

func TestFlowTestCommand(t *testing.T) {
	code, out, errOut := runCLI(t, "", "flow", "test", flowTests+"shop.test.yaml")
	if code != exitOK || strings.Contains(out, "FAIL") || strings.Count(out, "PASS ") < 8 ||
		!strings.Contains(out, "PASS order status by keys\n") || !strings.Contains(out, "ok: 8 passed, 0 failed") {
		t.Errorf("passing tests: exit %d\n%s%s", code, out, errOut)
	}
	if strings.Contains(out, "no test enters") {
		t.Errorf("shop.test.yaml leaves steps uncovered:\n%s", out)
	}

	code, out, _ = runCLI(t, "", "flow", "test", flowTests+"wrong.test.yaml")
	for _, want := range []string{
		"FAIL returns by keys\n",
		"wrong.test.yaml:12: outcome: got hangup at step end, want queue\n",
		"wrong.test.yaml:13: variables: csat: got 5, want 4\n",
		"you> #5\n",                  // the conversation, for the failure
		"FAIL: 0 passed, 1 failed\n", // the summary
	} {
		if !strings.Contains(out, want) {
			t.Errorf("wrong.test.yaml: output lacks %q", want)
		}
	}
	if code != exitError {
		t.Errorf("wrong.test.yaml: exit %d, want %d\n%s", code, exitError, out)
	}

	code, out, _ = runCLI(t, "", "flow", "test", flowTests+"shop.test.yaml", flowTests+"broken/unknown_key.test.yaml")
	if code != exitError || !regexp.MustCompile(`unknown_key\.test\.yaml:7:7: .*unknown key "paths"`).MatchString(out) ||
		!strings.Contains(out, "8 passed, 0 failed, 1 test files broken") {
		t.Errorf("a broken file among good ones: exit %d, want 1 and file:line:column\n%s", code, out)
	}
	if code, _, _ := runCLI(t, "", "flow", "test"); code != exitUsage {
		t.Errorf("flow test with no file: exit %d, want %d", code, exitUsage)
	}
}

func TestFlowSimulate(t *testing.T) {
	code, out, errOut := runCLI(t, "#1\n#12345#\n#5\n", "flow", "simulate", "--caller", "+6281111",
		"--stubs", flowTests+"shop.test.yaml", flowTests+"shop.yaml")
	if code != exitOK {
		t.Fatalf("exit %d\n%s%s", code, out, errOut)
	}
	for _, want := range []string{
		"  IVR (en): You are speaking with an automated assistant.", // the disclosure, first
		"[step crm] lookup\n",
		"  lookup GET http://crm.example/customers/+6281111: ok, set customer_name, tier\n",
		"  IVR (en): Hello Ayu.",
		"you> #12345#\n",
		`  gathered "12345" into order_number`,
		"  IVR (en): Order 12345 is shipped.\n",
		"  survey score 5\n",
		"outcome: hangup at step end\n",
		`  order_number = "12345"`,
		"  csat = 5\n",
		"failures: none\n",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q\n%s", want, out)
		}
	}
	if !strings.HasPrefix(out, "  IVR (en): You are speaking with an automated assistant.") {
		t.Errorf("the call does not begin with the disclosure:\n%s", out)
	}

	// Silence twice escalates; the end of input hangs up in the voicemail
	// or queue the escalation leads to, whichever the clock says.
	code, out, _ = runCLI(t, "\n\n", "flow", "simulate", "--stubs", flowTests+"shop.test.yaml", flowTests+"shop.yaml")
	for _, want := range []string{"failure: no_input at ask (1 in a row)", "escalated to agent after 2 failures: [no_input no_input]",
		"failures: no_input at ask, no_input at ask\n"} {
		if !strings.Contains(out, want) {
			t.Errorf("escalation: output lacks %q\n%s", want, out)
		}
	}
	if code != exitOK {
		t.Errorf("escalation: exit %d", code)
	}

	// Input ends at once: the caller hangs up at the first question.
	_, out, _ = runCLI(t, "", "flow", "simulate", "--stubs", flowTests+"shop.test.yaml", flowTests+"shop.yaml")
	if !strings.Contains(out, "you> (hangs up)") || !strings.Contains(out, "outcome: caller_left at step ask") {
		t.Errorf("EOF did not hang up:\n%s", out)
	}

	if code, _, errOut := runCLI(t, "", "flow", "simulate", "../../testdata/flows/broken/unknown_step.yaml"); code != exitError ||
		!regexp.MustCompile(`unknown_step\.yaml:\d+:\d+: `).MatchString(errOut) {
		t.Errorf("broken flow: exit %d, want 1 and file:line:column\n%s", code, errOut)
	}
}

func TestFlowSchema(t *testing.T) {
	code, out, errOut := runCLI(t, "", "flow", "schema")
	if code != exitOK {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	var schema map[string]any
	if err := json.Unmarshal([]byte(out), &schema); err != nil {
		t.Fatalf("flow schema is not JSON: %v\n%.300s", err, out)
	}
	if schema["$schema"] == nil || schema["properties"] == nil {
		t.Errorf("flow schema lacks $schema or properties: %.300s", out)
	}
}

func TestFlowUsage(t *testing.T) {
	code, _, errOut := runCLI(t, "", "flow", "--help")
	if code != exitOK {
		t.Errorf("flow --help: exit %d", code)
	}
	for _, sub := range []string{"flow check", "flow simulate", "flow test", "flow schema"} {
		if !strings.Contains(errOut, sub) {
			t.Errorf("flow usage lacks %q:\n%s", sub, errOut)
		}
	}
	if code, _, errOut := runCLI(t, "", "flow", "chek", "x.yaml"); code != exitUsage || !strings.Contains(errOut, `unknown command "chek"`) {
		t.Errorf("unknown sub-command: exit %d, %s", code, errOut)
	}
}
