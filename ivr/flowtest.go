package ivr

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math"
	"net/http"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/sambung/sambung/asr/intent"
)

// A TestFile is a file of scripted conversations with one flow, each with
// what it must lead to: the flow's unit tests, run by `sambung flow test`.
// The format is described in testdata/flows/README.md.
type TestFile struct {
	Path    string
	Flow    *Flow
	Lookups []LookupStub // answer every test's lookups, after the test's own
	Tests   []TestCase

	visited map[string]map[string]bool // flow name -> steps the last Run entered
}

// A TestCase is one scripted call and its expected result.
type TestCase struct {
	Name    string
	Line    int // of the test in the file
	Caller  string
	Now     time.Time // the clock for business hours; zero: the real clock
	Turns   []Turn
	Lookups []LookupStub // tried before the file's
	Expect  Expectation
}

// Expectation is what a test checks. A nil list or map and an empty string
// are not checked; an empty, non-nil list is (`failures: []`: none).
type Expectation struct {
	Path      []string // every step, in order
	Visits    []string // steps visited in this order, others in between
	Outcome   string   // hangup, queue, transfer, voicemail, callback or caller_left
	Step      string   // the step the call ended at
	Queue     string
	Skills    []string
	Priority  *int
	Transfer  string
	Language  string
	Intent    string
	Variables map[string]any // name -> value of the variable's type
	Says      []string       // each a part of something said
	Failures  []string       // the failure reasons, in order
	Lines     map[string]int // field -> its line in the file, for messages
}

// A TestResult is how one test went.
type TestResult struct {
	Name   string
	Passed bool
	// Failures are sentences starting with file:line, one per expectation
	// not met.
	Failures []string
	// Transcript is the conversation as the simulator prints it, one line
	// per step, prompt, caller turn and timeline event.
	Transcript []string
	Outcome    Outcome
}

// Outcome names for tests: the step kinds that end a flow, and these two.
const (
	OutcomeCallerLeft = "caller_left" // the turns ran out while the flow waited
	OutcomeError      = "error"       // the flow could not go on
)

var outcomeNames = []string{string(KindHangup), string(KindQueue), string(KindTransfer), string(KindVoicemail),
	string(KindCallback), OutcomeCallerLeft}

var failureReasons = []string{ReasonNoInput, ReasonNoMatch, ReasonLowConfidence, ReasonNone, ReasonAskedForPerson}

// DefaultCaller is the caller's number when a test or the simulator does
// not give one.
const DefaultCaller = "+10000000000"

// testBaseURL is the server's address in tests, for lookup URLs that are a
// path on this server; stubs match such lookups by their path.
const testBaseURL = "http://sambung.test"

// LoadTests reads a test file and loads the flow it names (relative to the
// file). Problems in the file, and in the flow, are returned as Diagnostics
// with their file, line and column.
func LoadTests(path string) (*TestFile, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("load tests: %w", err)
	}
	tf, diags := parseTests(path, data, Load)
	if err := diags.Err(); err != nil {
		return nil, err
	}
	return tf, nil
}

// parseTests parses a test file; load loads the flow it names.
func parseTests(path string, data []byte, load func(path string) (*Flow, error)) (*TestFile, Diagnostics) {
	p := &parser{file: path}
	tf := &TestFile{Path: path}
	p.parseTestFile(tf, data, load)
	p.diags.sort()
	return tf, p.diags
}

func (p *parser) parseTestFile(tf *TestFile, data []byte, load func(string) (*Flow, error)) {
	var doc yaml.Node
	if err := yaml.Unmarshal(data, &doc); err != nil {
		msg := err.Error()
		if m := yamlLineErr.FindStringSubmatch(msg); m != nil {
			line, _ := strconv.Atoi(m[1])
			p.at(line, 1, SeverityError, "not valid YAML: %s", m[2])
		} else {
			p.at(1, 1, SeverityError, "not valid YAML: %s", strings.TrimPrefix(msg, "yaml: "))
		}
		return
	}
	if len(doc.Content) == 0 {
		p.at(1, 1, SeverityError, "the test file is empty; it needs flow and tests")
		return
	}
	if a := findAlias(&doc, 0); a != nil {
		p.errorf(a, "YAML aliases and deep nesting are not allowed in a test file; write the value out")
		return
	}
	root := doc.Content[0]
	fs := p.fields(root, "test file", "flow", "lookups", "tests")
	if fs == nil {
		return
	}
	p.require(root, "the test file", fs, "flow", "tests")
	if fd, ok := fs["flow"]; ok {
		tf.Flow = p.testFlow(fd.val, load)
	}
	if fd, ok := fs["lookups"]; ok {
		tf.Lookups = p.stubs(fd.val, "lookups")
	}
	fd, ok := fs["tests"]
	if !ok {
		return
	}
	if fd.val.Kind != yaml.SequenceNode || len(fd.val.Content) == 0 {
		p.errorf(fd.val, "tests: expected a list of tests (- name: ...), got %s", kindWord(fd.val))
		return
	}
	names := map[string]bool{}
	for _, n := range fd.val.Content {
		tc, ok := p.testCase(tf.Flow, n)
		if !ok {
			continue
		}
		if names[tc.Name] {
			p.errorf(n, "test %q: another test has this name; names say which test failed, so make it unique", tc.Name)
		}
		names[tc.Name] = true
		tf.Tests = append(tf.Tests, tc)
	}
}

// testFlow loads the flow a test file names; its problems are reported
// both at the name and in the flow's own file.
func (p *parser) testFlow(n *yaml.Node, load func(string) (*Flow, error)) *Flow {
	rel, ok := p.str(n, "flow")
	if !ok {
		return nil
	}
	path := rel
	if !filepath.IsAbs(path) {
		path = filepath.Join(filepath.Dir(p.file), rel)
	}
	f, err := load(path)
	var diags Diagnostics
	switch {
	case errors.As(err, &diags):
		p.errorf(n, "flow %s does not load (%d problems below); `sambung flow check %s` lists them", rel, len(diags), path)
		p.diags = append(p.diags, diags...)
		return nil
	case err != nil:
		p.errorf(n, "flow %s: %v; the path is relative to this test file", rel, err)
		return nil
	}
	return f
}

func (p *parser) stubs(n *yaml.Node, what string) []LookupStub {
	if n.Kind != yaml.SequenceNode {
		p.errorf(n, "%s: expected a list of stubs (- url: ...), got %s", what, kindWord(n))
		return nil
	}
	var out []LookupStub
	for _, c := range n.Content {
		fs := p.fields(c, what, "url", "method", "status", "json", "body", "fail")
		if fs == nil {
			continue
		}
		p.require(c, what+" stub", fs, "url")
		s := LookupStub{Line: c.Line, Status: http.StatusOK}
		if fd, ok := fs["url"]; ok {
			s.URL, _ = p.str(fd.val, what+" url")
		}
		if fd, ok := fs["method"]; ok {
			if m, ok := p.str(fd.val, what+" method"); ok && m != http.MethodGet && m != http.MethodPost {
				p.errorf(fd.val, "%s method: expected GET or POST, got %q", what, m)
			} else {
				s.Method = m
			}
		}
		if fd, ok := fs["status"]; ok {
			s.Status = p.integer(fd.val, what+" status", 100, 599)
		}
		_, hasJSON := fs["json"]
		_, hasBody := fs["body"]
		if fd, ok := fs["json"]; ok {
			var v any
			err := fd.val.Decode(&v)
			if err == nil {
				s.Body, err = json.Marshal(v)
			}
			if err != nil {
				p.errorf(fd.val, "%s json: this value cannot be JSON (%v); keys must be strings", what, err)
			}
		}
		if fd, ok := fs["body"]; ok {
			if hasJSON {
				p.errorf(fd.key, "%s: give json or body, not both", what)
			}
			if fd.val.Kind != yaml.ScalarNode {
				p.errorf(fd.val, "%s body: expected the answer's text, got %s", what, kindWord(fd.val))
			}
			s.Body = []byte(fd.val.Value)
		}
		if fd, ok := fs["fail"]; ok {
			s.Fail, _ = p.str(fd.val, what+" fail")
			if s.Fail != failTimeout && s.Fail != failRefused {
				p.errorf(fd.val, "%s fail: expected %s or %s, got %q", what, failTimeout, failRefused, s.Fail)
			}
			if _, hasStatus := fs["status"]; hasStatus || hasJSON || hasBody {
				p.errorf(fd.key, "%s: a stub that fails gives no answer; remove status, json and body, or fail", what)
			}
		}
		out = append(out, s)
	}
	return out
}

func (p *parser) testCase(f *Flow, n *yaml.Node) (TestCase, bool) {
	tc := TestCase{Line: n.Line, Caller: DefaultCaller}
	fs := p.fields(n, "test", "name", "caller", "now", "turns", "lookups", "expect")
	if fs == nil {
		return tc, false
	}
	p.require(n, "a test", fs, "name", "expect")
	if fd, ok := fs["name"]; ok {
		tc.Name, _ = p.str(fd.val, "test name")
	}
	what := fmt.Sprintf("test %q", tc.Name)
	if fd, ok := fs["caller"]; ok {
		tc.Caller, _ = p.str(fd.val, what+" caller")
	}
	if fd, ok := fs["now"]; ok {
		t, err := time.Parse(time.RFC3339, fd.val.Value)
		if fd.val.Kind != yaml.ScalarNode || err != nil {
			p.errorf(fd.val, "%s now: expected a time such as 2026-11-23T10:00:00+07:00, got %s", what, kindWord(fd.val))
		}
		tc.Now = t
	}
	if fd, ok := fs["turns"]; ok {
		tc.Turns = p.turns(fd.val, what+" turns")
	}
	if fd, ok := fs["lookups"]; ok {
		tc.Lookups = p.stubs(fd.val, what+" lookups")
	}
	if fd, ok := fs["expect"]; ok {
		tc.Expect = p.expectation(f, fd.val, what+" expect")
	}
	return tc, true
}

// turns reads the caller's turns: a string in the simulator's syntax, or
// {say: TEXT}, {press: KEYS} or {silence: true}.
func (p *parser) turns(n *yaml.Node, what string) []Turn {
	if n.Kind != yaml.SequenceNode {
		p.errorf(n, "%s: expected a list such as [\"#1\", \"where is my order\", \"\"], got %s", what, kindWord(n))
		return nil
	}
	out := make([]Turn, 0, len(n.Content))
	for _, c := range n.Content {
		switch {
		case c.Kind == yaml.ScalarNode && c.Tag == "!!null":
			out = append(out, Turn{Silence: true})
		case c.Kind == yaml.ScalarNode:
			out = append(out, ParseTurn(c.Value))
		default:
			fs := p.fields(c, what, "say", "press", "silence")
			if len(fs) != 1 {
				if fs != nil {
					p.errorf(c, "%s: a turn is one of say, press or silence", what)
				}
				continue
			}
			switch {
			case fs["say"].val != nil:
				s, _ := p.str(fs["say"].val, what+" say")
				out = append(out, Turn{Say: s})
			case fs["press"].val != nil:
				keys, _ := p.str(fs["press"].val, what+" press")
				if strings.Trim(keys, "0123456789*#") != "" {
					p.errorf(fs["press"].val, "%s press: expected DTMF keys (0-9, * and #), got %q", what, keys)
				}
				out = append(out, Turn{Press: keys})
			default:
				if !p.boolean(fs["silence"].val, what+" silence") {
					p.errorf(fs["silence"].val, "%s: silence: false is not a turn; remove it", what)
				}
				out = append(out, Turn{Silence: true})
			}
		}
	}
	return out
}

func (p *parser) expectation(f *Flow, n *yaml.Node, what string) Expectation {
	e := Expectation{Lines: map[string]int{}}
	fs := p.fields(n, what, "path", "visits", "outcome", "step", "queue", "skills", "priority", "transfer",
		"language", "intent", "variables", "says", "failures")
	if fs == nil {
		return e
	}
	if len(fs) == 0 {
		p.errorf(n, "%s: expect nothing is a test that cannot fail; add path, outcome, says, ...", what)
	}
	flows := flowsOf(f)
	steps := func(key string) []string {
		fd, ok := fs[key]
		if !ok {
			return nil
		}
		names := p.list(fd.val, what+" "+key)
		for i, name := range names {
			p.step(flows, fd.val.Content[i], name, what+" "+key)
		}
		return names
	}
	str := func(key string) string {
		fd, ok := fs[key]
		if !ok {
			return ""
		}
		s, _ := p.str(fd.val, what+" "+key)
		return s
	}
	for key, fd := range fs {
		e.Lines[key] = fd.key.Line
	}
	e.Path, e.Visits = steps("path"), steps("visits")
	e.Step, e.Queue, e.Transfer = str("step"), str("queue"), str("transfer")
	e.Outcome, e.Language, e.Intent = str("outcome"), str("language"), str("intent")
	if e.Step != "" {
		p.step(flows, fs["step"].val, e.Step, what+" step")
	}
	if e.Outcome != "" && !slices.Contains(outcomeNames, e.Outcome) {
		p.errorf(fs["outcome"].val, "%s outcome: %q is not an outcome%s; use one of %s", what, e.Outcome,
			didYouMean(e.Outcome, outcomeNames), strings.Join(outcomeNames, ", "))
	}
	if fd, ok := fs["skills"]; ok {
		e.Skills = p.list(fd.val, what+" skills")
	}
	if fd, ok := fs["priority"]; ok {
		pr := p.integer(fd.val, what+" priority", math.MinInt32, math.MaxInt32)
		e.Priority = &pr
	}
	if fd, ok := fs["says"]; ok {
		e.Says = p.list(fd.val, what+" says")
	}
	if fd, ok := fs["failures"]; ok {
		e.Failures = p.list(fd.val, what+" failures")
		for i, r := range e.Failures {
			if !slices.Contains(failureReasons, r) {
				p.errorf(fd.val.Content[i], "%s failures: %q is not a failure reason%s; use %s", what, r,
					didYouMean(r, failureReasons), strings.Join(failureReasons, ", "))
			}
		}
	}
	if f == nil {
		return e // the flow did not load: names cannot be checked
	}
	if e.Language != "" && !slices.ContainsFunc(flows, func(f *Flow) bool { return slices.Contains(f.Languages, e.Language) }) {
		p.errorf(fs["language"].val, "%s language: the flow has no language %q (languages: %s)", what, e.Language, strings.Join(f.Languages, ", "))
	}
	if e.Intent != "" && e.Intent != intent.None && e.Intent != intent.Human &&
		!slices.ContainsFunc(flows, func(f *Flow) bool { _, ok := f.Intents[e.Intent]; return ok }) {
		p.errorf(fs["intent"].val, "%s intent: the flow declares no intent %q%s", what, e.Intent, didYouMean(e.Intent, mapKeys(f.Intents)))
	}
	if fd, ok := fs["variables"]; ok {
		e.Variables = p.expectedVariables(flows, fd.val, what+" variables")
	}
	return e
}

// list reads a list of strings; an empty list is not nil.
func (p *parser) list(n *yaml.Node, what string) []string {
	out := p.strList(n, what)
	if out == nil && n.Kind == yaml.SequenceNode && len(n.Content) == 0 {
		out = []string{}
	}
	return out
}

// step reports name at n when no flow has a step of that name.
func (p *parser) step(flows []*Flow, n *yaml.Node, name, what string) {
	if len(flows) == 0 || slices.ContainsFunc(flows, func(f *Flow) bool { return f.Steps[name] != nil }) {
		return
	}
	p.errorf(n, "%s: the flow has no step %q%s", what, name, didYouMean(name, mapKeys(flows[0].Steps)))
}

// expectedVariables reads variable: value, each value read as the
// variable's type: `csat: 5` is the whole number 5, `order_number: 12345`
// the string "12345" when order_number holds text.
func (p *parser) expectedVariables(flows []*Flow, n *yaml.Node, what string) map[string]any {
	fs := p.fields(n, what)
	out := map[string]any{}
	for _, name := range keysInOrder(n, fs) {
		fd := fs[name]
		var v Variable
		var declared bool
		for _, f := range flows {
			if v, declared = f.Variables[name]; declared {
				break
			}
		}
		if !declared {
			p.errorf(fd.key, "%s: the flow declares no variable %q%s", what, name, didYouMean(name, mapKeys(flows[0].Variables)))
			continue
		}
		if fd.val.Kind != yaml.ScalarNode || fd.val.Tag == "!!null" {
			p.errorf(fd.val, "%s: %s: expected a value, got %s", what, name, kindWord(fd.val))
			continue
		}
		text := fd.val.Value
		var val any
		var err error
		switch v.Initial.(type) {
		case string:
			val = text
		case int:
			val, err = strconv.Atoi(text)
		case float64:
			val, err = strconv.ParseFloat(text, 64)
		case bool:
			val, err = strconv.ParseBool(text)
		}
		if err != nil {
			p.errorf(fd.val, "%s: %s holds a %s, and %q is not one", what, name, typeName(reflect.TypeOf(v.Initial)), text)
			continue
		}
		out[name] = val
	}
	return out
}

// flowsOf lists f and every sub-flow it reaches, f first.
func flowsOf(f *Flow) []*Flow {
	if f == nil {
		return nil
	}
	out := []*Flow{f}
	for i := 0; i < len(out); i++ {
		for _, path := range mapKeys(out[i].Subflows) {
			if sub := out[i].Subflows[path]; !slices.Contains(out, sub) {
				out = append(out, sub)
			}
		}
	}
	return out
}

// Run runs every test, in order, and returns their results. It also
// records which steps the tests entered, for Uncovered.
func (tf *TestFile) Run(ctx context.Context) []TestResult {
	tf.visited = map[string]map[string]bool{}
	results := make([]TestResult, 0, len(tf.Tests))
	for i := range tf.Tests {
		results = append(results, tf.run(ctx, &tf.Tests[i]))
	}
	return results
}

// Uncovered lists the steps no test entered in the last Run, sorted: a
// step's name for the tested flow, "flow.step" for a sub-flow's. Before
// any Run, every step is uncovered.
func (tf *TestFile) Uncovered() []string {
	var out []string
	for i, f := range flowsOf(tf.Flow) {
		for _, name := range mapKeys(f.Steps) {
			if tf.visited[f.Name][name] {
				continue
			}
			if i > 0 {
				name = f.Name + "." + name
			}
			out = append(out, name)
		}
	}
	sort.Strings(out)
	return out
}

func (tf *TestFile) run(ctx context.Context, tc *TestCase) TestResult {
	res := TestResult{Name: tc.Name}
	if tf.Flow == nil {
		res.Failures = []string{fmt.Sprintf("%s:%d: the flow did not load", tf.Path, tc.Line)}
		return res
	}
	stubs := &StubTransport{Stubs: append(slices.Clip(tc.Lookups), tf.Lookups...)}
	rt := &Runtime{HTTP: &http.Client{Transport: stubs}, BaseURL: testBaseURL, Log: slog.New(slog.DiscardHandler)}
	if !tc.Now.IsZero() {
		now := tc.Now
		rt.Now = func() time.Time { return now }
	}
	var said []string
	used := 0
	ch := &TextChannel{
		From: tc.Caller,
		Next: func() (Turn, bool) {
			if used >= len(tc.Turns) {
				res.Transcript = append(res.Transcript, "you> (hangs up: no more turns)")
				return Turn{}, false
			}
			used++
			res.Transcript = append(res.Transcript, "you> "+FormatTurn(tc.Turns[used-1]))
			return tc.Turns[used-1], true
		},
		OnSay: func(sp Spoken) {
			said = append(said, sp.Text)
			res.Transcript = append(res.Transcript, FormatSpoken(sp))
		},
		OnEvent: func(kind string, data map[string]any) {
			if kind == "ivr.step" {
				flow, _ := data["flow"].(string)
				step, _ := data["step"].(string)
				if tf.visited[flow] == nil {
					tf.visited[flow] = map[string]bool{}
				}
				tf.visited[flow][step] = true
			}
			if line := FormatEvent(kind, data); line != "" {
				res.Transcript = append(res.Transcript, line)
			}
		},
	}
	callCtx, cancel := context.WithCancel(ctx)
	defer cancel()
	out := rt.Run(ch.Start(callCtx), tf.Flow, ch)
	res.Outcome = out
	res.Transcript = append(res.Transcript, "outcome: "+FormatOutcome(out))

	fail := func(line int, format string, args ...any) {
		res.Failures = append(res.Failures, fmt.Sprintf("%s:%d: ", tf.Path, line)+fmt.Sprintf(format, args...))
	}
	got := OutcomeName(out)
	if got == OutcomeError {
		fail(tc.Line, "the flow failed at step %q: %v", out.Step, out.Err)
	}
	for _, u := range stubs.Unmatched() {
		fail(tc.Line, "lookup %s matched no stub; add one under lookups (url: %q)", u, strings.TrimPrefix(u[strings.IndexByte(u, ' ')+1:], testBaseURL))
	}
	if used < len(tc.Turns) && got != OutcomeCallerLeft {
		fail(tc.Line, "turns: the call ended (%s) after %d of %d turns; the flow never waited for the rest", got, used, len(tc.Turns))
	}
	tf.check(tc, out, said, fail)
	res.Passed = len(res.Failures) == 0
	return res
}

// check compares out with what tc expects, calling fail for each miss.
func (tf *TestFile) check(tc *TestCase, out Outcome, said []string, fail func(line int, format string, args ...any)) {
	e := &tc.Expect
	cx := out.Context
	if cx == nil {
		cx = &Context{}
	}
	line := func(key string) int { return e.Lines[key] }
	if e.Path != nil && !slices.Equal(cx.Path, e.Path) {
		fail(line("path"), "path: got %v, want %v", cx.Path, e.Path)
	}
	if e.Visits != nil && !subsequence(cx.Path, e.Visits) {
		fail(line("visits"), "visits: the path %v does not visit %v in that order", cx.Path, e.Visits)
	}
	if e.Outcome != "" && OutcomeName(out) != e.Outcome {
		fail(line("outcome"), "outcome: got %s, want %s", FormatOutcome(out), e.Outcome)
	}
	if e.Step != "" && out.Step != e.Step {
		fail(line("step"), "step: the call ended at %q, want %q", out.Step, e.Step)
	}
	q := out.Queue
	if q == nil {
		q = &QueueRequest{}
	}
	if e.Queue != "" && q.Name != e.Queue {
		fail(line("queue"), "queue: got %s, want %s", orNone(q.Name, "no queue"), e.Queue)
	}
	if e.Skills != nil && !slices.Equal(q.Skills, e.Skills) {
		fail(line("skills"), "skills: got %v, want %v", q.Skills, e.Skills)
	}
	if e.Priority != nil && (out.Queue == nil || q.Priority != *e.Priority) {
		fail(line("priority"), "priority: got %s, want %d", orNone(queuePriority(out.Queue), "no queue"), *e.Priority)
	}
	if e.Transfer != "" && out.Transfer != e.Transfer {
		fail(line("transfer"), "transfer: got %s, want %s", orNone(out.Transfer, "no transfer"), e.Transfer)
	}
	if e.Language != "" && cx.Language != e.Language {
		fail(line("language"), "language: got %s, want %s", cx.Language, e.Language)
	}
	if e.Intent != "" && cx.Intent != e.Intent {
		fail(line("intent"), "intent: got %s, want %s", orNone(cx.Intent, "no intent"), e.Intent)
	}
	for _, name := range mapKeys(e.Variables) {
		want := e.Variables[name]
		if got, ok := cx.Variables[name]; !ok || got != want {
			fail(line("variables"), "variables: %s: got %s, want %s", name, formatVar(got, ok), formatVar(want, true))
		}
	}
	for _, s := range e.Says {
		if !slices.ContainsFunc(said, func(t string) bool { return strings.Contains(t, s) }) {
			fail(line("says"), "says: nothing said contains %q", s)
		}
	}
	if e.Failures != nil {
		reasons := make([]string, 0, len(cx.Failures))
		for _, f := range cx.Failures {
			reasons = append(reasons, f.Reason)
		}
		if !slices.Equal(reasons, e.Failures) {
			fail(line("failures"), "failures: got %v, want %v", reasons, e.Failures)
		}
	}
}

// subsequence reports whether want appears in path in order.
func subsequence(path, want []string) bool {
	i := 0
	for _, s := range path {
		if i < len(want) && s == want[i] {
			i++
		}
	}
	return i == len(want)
}

func orNone(s, none string) string {
	if s == "" {
		return none
	}
	return s
}

func queuePriority(q *QueueRequest) string {
	if q == nil {
		return ""
	}
	return strconv.Itoa(q.Priority)
}

func formatVar(v any, ok bool) string {
	switch x := v.(type) {
	case string:
		return strconv.Quote(x)
	case nil:
		if !ok {
			return "no such variable"
		}
	}
	return fmt.Sprint(v)
}

// OutcomeName names how a call ended: the kind of the step that ended it,
// "caller_left" when the caller hung up first, or "error".
func OutcomeName(out Outcome) string {
	switch {
	case out.Err == nil && out.Kind != "":
		return string(out.Kind)
	case errors.Is(out.Err, errCallerGone):
		return OutcomeCallerLeft
	}
	return OutcomeError
}

// FormatOutcome says how a call ended, in a line: "queue support
// (skills [intent:refund], priority 10) at step agents".
func FormatOutcome(out Outcome) string {
	name := OutcomeName(out)
	var b strings.Builder
	b.WriteString(name)
	switch {
	case out.Queue != nil:
		fmt.Fprintf(&b, " %s (skills %v, priority %d)", out.Queue.Name, out.Queue.Skills, out.Queue.Priority)
	case out.Transfer != "":
		fmt.Fprintf(&b, " to %s", out.Transfer)
	case name == OutcomeError:
		fmt.Fprintf(&b, " (%v)", out.Err)
	}
	if out.Step != "" {
		fmt.Fprintf(&b, " at step %s", out.Step)
	}
	return b.String()
}

// FormatTurn shows a caller's turn as the simulator reads it.
func FormatTurn(t Turn) string {
	switch {
	case t.Silence:
		return "(silence)"
	case t.Press != "":
		return "#" + t.Press
	}
	return t.Say
}

// FormatSpoken shows a prompt: "  IVR (en): How can I help?".
func FormatSpoken(sp Spoken) string {
	return fmt.Sprintf("  IVR (%s): %s", sp.Lang, sp.Text)
}

// FormatEvent shows a timeline event of a text call as a line, or returns
// "" for one that shows otherwise (prompts, by FormatSpoken) or is not
// worth a line. A step reads "[step ask] listen"; other events are
// indented under it.
func FormatEvent(kind string, d map[string]any) string {
	str := func(k string) string { return fmt.Sprint(d[k]) }
	switch kind {
	case "ivr.step":
		return fmt.Sprintf("[step %s] %s", str("step"), str("kind"))
	case "ivr.disclosure", "ivr.prompt", "ivr.answer", "ivr.ended":
		return ""
	case "ivr.heard":
		if _, ok := d["intent"]; !ok {
			return ""
		}
		return fmt.Sprintf("  heard %q: intent %s, confidence %.2f (%s)", str("text"), str("intent"), d["confidence"], str("language"))
	case "ivr.language":
		return fmt.Sprintf("  language %s -> %s (%s)", str("from"), str("to"), str("reason"))
	case "ivr.lookup":
		if d["ok"] == true {
			s := fmt.Sprintf("  lookup %s %s: ok", str("method"), str("url"))
			if set, ok := d["set"].([]string); ok && len(set) > 0 {
				s += ", set " + strings.Join(set, ", ")
			}
			if missing, ok := d["missing"].([]string); ok && len(missing) > 0 {
				s += ", missing " + strings.Join(missing, ", ")
			}
			return s
		}
		return fmt.Sprintf("  lookup %s %s: error: %s", str("method"), str("url"), str("error"))
	case "ivr.failure":
		return fmt.Sprintf("  failure: %s at %s (%s in a row)", str("reason"), str("step"), str("consecutive"))
	case "ivr.escalated":
		return fmt.Sprintf("  escalated to %s after %s failures: %v", str("to"), str("after"), d["reasons"])
	case "ivr.gathered":
		return fmt.Sprintf("  gathered %q into %s", str("digits"), str("into"))
	case "ivr.survey":
		if d["score"] == nil {
			return "  survey: no score"
		}
		return "  survey score " + str("score")
	case "ivr.barge_in":
		return fmt.Sprintf("  (barge-in by %s)", str("by"))
	case "ivr.prompt_skipped":
		return fmt.Sprintf("  (prompt skipped: %s)", str("reason"))
	case "ivr.subflow":
		return fmt.Sprintf("  goto sub-flow %s", str("to"))
	}
	// An event added after this was written still shows, plainly.
	keys := mapKeys(d)
	parts := make([]string, 0, len(keys))
	for _, k := range keys {
		parts = append(parts, fmt.Sprintf("%s=%v", k, d[k]))
	}
	return fmt.Sprintf("  %s %s", strings.TrimPrefix(kind, "ivr."), strings.Join(parts, " "))
}

// A LookupStub answers the lookups whose URL starts with URL, in place of
// the CRM.
type LookupStub struct {
	// URL is a prefix of the lookup's URL, its templates filled in. One
	// starting with "/" matches the path (and query) on any host.
	URL    string
	Method string // "" matches GET and POST
	Status int
	Body   []byte // the answer; JSON unless the test wants garbage
	Fail   string // "timeout" or "refused": no answer, and Status and Body unused
	Line   int    // in the test file
}

// Ways a stub fails.
const (
	failTimeout = "timeout"
	failRefused = "refused"
)

// StubTransport is an http.RoundTripper that answers from stubs and never
// touches the network. Of the stubs that match a request the one with the
// longest URL wins, the first on a tie. A request no stub matches fails,
// and is kept for Unmatched.
type StubTransport struct {
	Stubs []LookupStub

	mu        sync.Mutex
	unmatched []string
}

// errStubTimeout is what a `fail: timeout` stub returns at once, in place
// of waiting out the lookup's timeout.
type errStubTimeout struct{}

func (errStubTimeout) Error() string { return "no answer within the timeout (stub: fail: timeout)" }
func (errStubTimeout) Timeout() bool { return true }
func (errStubTimeout) Unwrap() error { return context.DeadlineExceeded }

// RoundTrip answers req from the best matching stub.
func (t *StubTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	if req.Body != nil {
		_, _ = io.Copy(io.Discard, req.Body)
		_ = req.Body.Close()
	}
	full, path := req.URL.String(), req.URL.RequestURI()
	var best *LookupStub
	for i := range t.Stubs {
		s := &t.Stubs[i]
		target := full
		if strings.HasPrefix(s.URL, "/") {
			target = path
		}
		if !strings.HasPrefix(target, s.URL) || (s.Method != "" && s.Method != req.Method) {
			continue
		}
		if best == nil || len(s.URL) > len(best.URL) {
			best = s
		}
	}
	switch {
	case best == nil:
		t.mu.Lock()
		t.unmatched = append(t.unmatched, req.Method+" "+full)
		t.mu.Unlock()
		return nil, fmt.Errorf("no lookup stub matches %s %s", req.Method, full)
	case best.Fail == failTimeout:
		return nil, errStubTimeout{}
	case best.Fail == failRefused:
		return nil, errors.New("connection refused (stub: fail: refused)")
	}
	status := best.Status
	if status == 0 {
		status = http.StatusOK
	}
	return &http.Response{
		Status:        fmt.Sprintf("%d %s", status, http.StatusText(status)),
		StatusCode:    status,
		Proto:         "HTTP/1.1",
		ProtoMajor:    1,
		ProtoMinor:    1,
		Header:        http.Header{"Content-Type": {"application/json"}},
		Body:          io.NopCloser(bytes.NewReader(best.Body)),
		ContentLength: int64(len(best.Body)),
		Request:       req,
	}, nil
}

// Unmatched lists the requests no stub matched, as "GET url".
func (t *StubTransport) Unmatched() []string {
	t.mu.Lock()
	defer t.mu.Unlock()
	return slices.Clone(t.unmatched)
}
