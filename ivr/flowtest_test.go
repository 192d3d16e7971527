package ivr

import (
	"context"
	"errors"
	"io"
	"net/http"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
)

const testsDir = "../testdata/flows/tests"

func loadTests(t *testing.T, name string) *TestFile {
	t.Helper()
	tf, err := LoadTests(filepath.Join(testsDir, name))
	if err != nil {
		t.Fatalf("load %s:\n%v", name, err)
	}
	return tf
}

func TestFlowTestsPass(t *testing.T) {
	tf := loadTests(t, "shop.test.yaml")
	results := tf.Run(t.Context())
	if len(results) != len(tf.Tests) || len(results) < 8 {
		t.Errorf("%d results for %d tests", len(results), len(tf.Tests))
	}
	for _, r := range results {
		if !r.Passed || len(r.Failures) > 0 {
			t.Errorf("FAIL %s\n%s\ntranscript:\n%s", r.Name, strings.Join(r.Failures, "\n"), strings.Join(r.Transcript, "\n"))
		}
		if len(r.Transcript) == 0 || !strings.Contains(r.Transcript[0], "automated assistant") {
			t.Errorf("%s: the transcript does not begin with the disclosure: %q", r.Name, r.Transcript)
		}
	}
	if u := tf.Uncovered(); len(u) > 0 {
		t.Errorf("steps of shop.yaml no test enters: %v; add a test that does", u)
	}
}

func TestFlowTestsWrongExpectationFails(t *testing.T) {
	tf := loadTests(t, "wrong.test.yaml")
	results := tf.Run(t.Context())
	if len(results) != 1 {
		t.Fatalf("%d results, want 1", len(results))
	}
	r := results[0]
	want := []string{
		testsDir + "/wrong.test.yaml:12: outcome: got hangup at step end, want queue",
		testsDir + `/wrong.test.yaml:13: variables: csat: got 5, want 4`,
	}
	if r.Passed || !slices.Equal(r.Failures, want) {
		t.Errorf("passed %v, failures:\n%s\nwant:\n%s", r.Passed, strings.Join(r.Failures, "\n"), strings.Join(want, "\n"))
	}
	if !slices.Contains(r.Transcript, "[step survey] survey") || !slices.Contains(r.Transcript, "you> #5") {
		t.Errorf("the transcript lacks the step or the turn:\n%s", strings.Join(r.Transcript, "\n"))
	}
}

// inline parses a test file as if it stood in testdata/flows/tests.
func inline(t *testing.T, src string) (*TestFile, Diagnostics) {
	t.Helper()
	return parseTests(filepath.Join(testsDir, "inline.test.yaml"), []byte(src), Load)
}

func TestFlowTestsBrokenFiles(t *testing.T) {
	_, err := LoadTests(filepath.Join(testsDir, "broken", "unknown_key.test.yaml"))
	var diags Diagnostics
	if !errors.As(err, &diags) || len(diags) != 1 ||
		diags[0].Line != 7 || diags[0].Column != 7 || !strings.Contains(diags[0].Message, `unknown key "paths" (did you mean "path"?)`) {
		t.Errorf("unknown key: got %v, want one diagnostic at 7:7 naming paths", err)
	}
	if s := diags[0].String(); !strings.HasPrefix(s, testsDir+"/broken/unknown_key.test.yaml:7:7: ") {
		t.Errorf("diagnostic %q does not start with file:line:column", s)
	}

	const head = "flow: shop.yaml\ntests:\n  - name: t\n    turns: [\"#1\"]\n    expect:\n"
	for _, tc := range []struct {
		name, src string
		line, col int
		phrase    string
	}{
		{"unknown step", head + "      path: [crm, akс]\n", 6, 19, `the flow has no step "akс"`},
		{"unknown outcome", head + "      outcome: hungup\n", 6, 16, `"hungup" is not an outcome (did you mean "hangup"?)`},
		{"variable of the wrong type", head + "      variables: {csat: five}\n", 6, 25, `csat holds a whole number, and "five" is not one`},
		{"undeclared variable", head + "      variables: {cast: 5}\n", 6, 19, `declares no variable "cast" (did you mean "csat"?)`},
		{"unknown intent", head + "      intent: refunds\n", 6, 15, `no intent "refunds" (did you mean "refund"?)`},
		{"unknown failure reason", head + "      failures: [silence]\n", 6, 18, `"silence" is not a failure reason`},
		{"empty expect", head + "      {}\n", 6, 7, "cannot fail"},
		{"no expect", "flow: shop.yaml\ntests:\n  - name: t\n", 3, 5, "a test needs expect"},
		{"missing flow", "flow: nowhere.yaml\ntests:\n  - name: t\n    expect: {outcome: hangup}\n", 1, 7, "nowhere.yaml"},
		{"broken flow", "flow: ../broken/unknown_step.yaml\ntests:\n  - name: t\n    expect: {outcome: hangup}\n", 1, 7, "does not load"},
		{"bad time", "flow: shop.yaml\ntests:\n  - name: t\n    now: tomorrow\n    expect: {outcome: hangup}\n", 4, 10, "expected a time"},
		{"a failing stub with an answer", "flow: shop.yaml\nlookups:\n  - {url: /x, fail: timeout, status: 200}\ntests:\n  - name: t\n    expect: {outcome: hangup}\n", 3, 15, "gives no answer"},
		{"unknown failure", "flow: shop.yaml\nlookups:\n  - {url: /x, fail: slow}\ntests:\n  - name: t\n    expect: {outcome: hangup}\n", 3, 21, "expected timeout or refused"},
		{"duplicate names", "flow: shop.yaml\ntests:\n  - name: t\n    expect: {outcome: hangup}\n  - name: t\n    expect: {outcome: hangup}\n", 5, 5, "another test has this name"},
		{"bad turn", head[:len(head)-len("    turns: [\"#1\"]\n    expect:\n")] + "    turns: [{press: abc}]\n    expect: {outcome: hangup}\n", 4, 21, "expected DTMF keys"},
		{"not YAML", "flow: [", 1, 1, "not valid YAML"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, diags := inline(t, tc.src)
			if !slices.ContainsFunc(diags, func(d Diagnostic) bool {
				return d.Line == tc.line && d.Column == tc.col && strings.Contains(d.Message, tc.phrase)
			}) {
				t.Errorf("want a diagnostic at %d:%d with %q, got:\n%v", tc.line, tc.col, tc.phrase, diags)
			}
		})
	}
}

func TestFlowTestsNoticeWhatTheScriptMissed(t *testing.T) {
	tf, diags := inline(t, `flow: shop.yaml
tests:
  - name: no stub for the CRM
    caller: "+6281111"
    turns: ["#2", "#5", "#1", "#1"]
    expect:
      outcome: hangup
`)
	if diags.HasErrors() {
		t.Fatal(diags)
	}
	r := tf.Run(t.Context())[0]
	joined := strings.Join(r.Failures, "\n")
	for _, want := range []string{
		`inline.test.yaml:3: lookup GET http://crm.example/customers/+6281111 matched no stub; add one under lookups (url: "http://crm.example/customers/+6281111")`,
		"inline.test.yaml:3: turns: the call ended (hangup) after 2 of 4 turns",
	} {
		if !strings.Contains(joined, want) {
			t.Errorf("failures lack %q:\n%s", want, joined)
		}
	}
	if r.Passed {
		t.Error("the test passed")
	}
	// One test covers a few steps: the rest are uncovered.
	u := tf.Uncovered()
	for _, step := range []string{"agent", "agents", "closed", "number", "order", "tell", "unknown"} {
		if !slices.Contains(u, step) {
			t.Errorf("uncovered %v lacks %s", u, step)
		}
	}
	if slices.Contains(u, "returns") || slices.Contains(u, "crm") {
		t.Errorf("uncovered %v holds steps the test entered", u)
	}
}

func TestFlowTestsStubsAndClock(t *testing.T) {
	tf, diags := inline(t, `flow: shop.yaml
lookups:
  - {url: "http://crm.example/", status: 404}
  - {url: "http://crm.example/orders/1", body: "<html>oops</html>"}
tests:
  - name: a test's own stub wins a tie
    lookups:
      - {url: "http://crm.example/", fail: refused}
    now: "2026-11-23T10:00:00+07:00"
    turns: ["#1", "#12#"]
    expect: {outcome: queue, queue: support}
  - name: closed on a holiday-free Sunday
    now: "2026-11-22T10:00:00+07:00"
    turns: ["#1", "#12#"]
    expect: {outcome: voicemail}
`)
	if diags.HasErrors() {
		t.Fatal(diags)
	}
	for _, r := range tf.Run(t.Context()) {
		if !r.Passed {
			t.Errorf("%s: %v\n%s", r.Name, r.Failures, strings.Join(r.Transcript, "\n"))
		}
		transcript := strings.Join(r.Transcript, "\n")
		if strings.HasPrefix(r.Name, "a test's own") && !strings.Contains(transcript, "connection refused") {
			t.Errorf("the test's refusing stub was not used:\n%s", transcript)
		}
		if !strings.Contains(transcript, "orders/12: error: lookup http://crm.example/orders/12: the answer is not JSON") {
			t.Errorf("the garbage body did not fail the order lookup:\n%s", transcript)
		}
	}
}

func TestStubTransport(t *testing.T) {
	st := &StubTransport{Stubs: []LookupStub{
		{URL: "http://crm/", Status: 404},
		{URL: "http://crm/customers/", Body: []byte(`{"name": "Ayu"}`)},
		{URL: "/crm/slow", Fail: failTimeout},
		{URL: "http://crm/customers/", Method: http.MethodPost, Status: 500},
	}}
	client := &http.Client{Transport: st}
	get := func(url string) (*http.Response, error) {
		req, err := http.NewRequestWithContext(t.Context(), http.MethodGet, url, nil)
		if err != nil {
			t.Fatal(err)
		}
		return client.Do(req)
	}
	resp, err := get("http://crm/customers/42?x=1")
	if err != nil || resp.StatusCode != 200 {
		t.Fatalf("longest prefix: %v %v", resp, err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if string(body) != `{"name": "Ayu"}` {
		t.Errorf("body %q", body)
	}
	if resp, err := get("http://crm/other"); err != nil || resp.StatusCode != 404 {
		t.Errorf("shorter prefix: %v %v", resp, err)
	}
	start := time.Now()
	_, err = get("http://anyhost:8080/crm/slow/1")
	if !errors.Is(err, context.DeadlineExceeded) || time.Since(start) > time.Second {
		t.Errorf("timeout stub: %v after %v, want context.DeadlineExceeded at once", err, time.Since(start))
	}
	var te interface{ Timeout() bool }
	if !errors.As(err, &te) || !te.Timeout() {
		t.Errorf("timeout stub: %v is not a timeout", err)
	}
	if _, err := get("http://elsewhere/x"); err == nil || !strings.Contains(err.Error(), "no lookup stub matches GET http://elsewhere/x") {
		t.Errorf("unmatched: %v", err)
	}
	if got := st.Unmatched(); !slices.Equal(got, []string{"GET http://elsewhere/x"}) {
		t.Errorf("unmatched %v", got)
	}
}

func TestFormatEvent(t *testing.T) {
	for _, tc := range []struct {
		kind string
		data map[string]any
		want string
	}{
		{"ivr.step", map[string]any{"step": "ask", "kind": "listen"}, "[step ask] listen"},
		{"ivr.heard", map[string]any{"text": "where is my order", "intent": "order_status", "confidence": 0.834, "language": "en"},
			`  heard "where is my order": intent order_status, confidence 0.83 (en)`},
		{"ivr.heard", map[string]any{"text": "#1", "language": "en"}, ""},
		{"ivr.lookup", map[string]any{"method": "GET", "url": "http://crm/x", "ok": true, "set": []string{"name"}}, "  lookup GET http://crm/x: ok, set name"},
		{"ivr.lookup", map[string]any{"method": "GET", "url": "http://crm/x", "ok": false, "error": "status 404"}, "  lookup GET http://crm/x: error: status 404"},
		{"ivr.escalated", map[string]any{"to": "agent", "after": 2, "reasons": []string{"no_input", "none"}}, "  escalated to agent after 2 failures: [no_input none]"},
		{"ivr.prompt", map[string]any{"text": "hi"}, ""},
		{"ivr.something_new", map[string]any{"b": 2, "a": "x"}, "  something_new a=x b=2"},
	} {
		if got := FormatEvent(tc.kind, tc.data); got != tc.want {
			t.Errorf("FormatEvent(%s, %v) = %q, want %q", tc.kind, tc.data, got, tc.want)
		}
	}
}

func FuzzParseTests(f *testing.F) {
	f.Add([]byte("flow: shop.yaml\ntests:\n  - name: t\n    turns: [\"#1\", \"\", {say: hi}]\n    expect: {outcome: hangup, variables: {csat: 5}}\n"))
	f.Add([]byte("flow: shop.yaml\nlookups:\n  - {url: /x, json: {a: [1, 2]}}\ntests: []\n"))
	f.Add([]byte("tests:\n  - expect:\n      path: [a, b]\n"))
	shop, err := Load(filepath.Join(testsDir, "shop.yaml"))
	if err != nil {
		f.Fatal(err)
	}
	// Whatever flow the input names, the fuzzer gets shop: it must not
	// read the files an input names.
	load := func(string) (*Flow, error) { return shop, nil }
	f.Fuzz(func(t *testing.T, data []byte) {
		tf, diags := parseTests(filepath.Join(testsDir, "fuzz.test.yaml"), data, load)
		if tf == nil {
			t.Fatal("nil test file")
		}
		for _, d := range diags {
			if d.Line < 1 || d.Column < 1 {
				t.Errorf("diagnostic without a position: %v", d)
			}
		}
	})
}
