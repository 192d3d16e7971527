package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"maps"
	"net/http"
	"os"
	"slices"
	"strings"

	"golang.org/x/term"

	"github.com/sambung/sambung/ivr"
)

const flowUsage = `
Usage:
  sambung flow check FILE...        check flow files
  sambung flow simulate [flags] FILE
                                    talk to a flow in the terminal
  sambung flow test FILE...         run a flow's test files
  sambung flow schema               print the JSON Schema of flow files
  sambung flow prompts --out DIR FILE
                                    render every text prompt of a flow
                                    with espeak-ng, for servers with no TTS

The flow format and the test format: testdata/flows/README.md.

check prints every problem as file:line:column and a sentence saying what is
wrong and how to fix it; warnings (an unreachable step) too.

simulate runs a flow as a call made of text: type what the caller says, #123
to press keys, an empty line to stay silent until the flow gives up
waiting, and Ctrl-D to hang up. It shows each step, prompt and event, and at
the end the outcome, the variables and the failures.

test runs the scripted calls of test files (*.test.yaml) and prints PASS or
FAIL for each, with the expectations not met and the conversation.

prompts renders what the flow may say into DIR, named as the server's
ivr.prompts setting expects; the demo's prompts are made this way
(scripts/prompts.sh).

check and test exit with status 1 when a file has an error or a test fails,
so they fit in a CI job or a pre-commit hook.
`

const flowSimulateUsage = `
Usage:
  sambung flow simulate [--caller NUMBER] [--base-url URL] [--stubs FILE.test.yaml] FILE

Runs the flow in FILE as a call made of text. At each "you> " type what the
caller says, #123 to press keys (#123# with the hash key), an empty line to
stay silent, and Ctrl-D to hang up. Lookups go to the network, or, with
--stubs, are answered by the lookups of a test file.
`

func (e *env) flow(ctx context.Context, args []string) int {
	if len(args) == 0 || strings.HasPrefix(args[0], "-") {
		fs := e.flagSet("flow", flowUsage)
		if err := fs.Parse(args); err != nil {
			return parseErr(err)
		}
		fs.Usage()
		return exitUsage
	}
	switch args[0] {
	case "check":
		return e.flowCheck(args[1:])
	case "simulate":
		return e.flowSimulate(ctx, args[1:])
	case "test":
		return e.flowTest(ctx, args[1:])
	case "schema":
		return e.flowSchema(args[1:])
	case "prompts":
		return e.flowPrompts(ctx, args[1:])
	}
	fmt.Fprintf(e.stderr, "sambung flow: unknown command %q; run 'sambung help flow'\n", args[0])
	return exitUsage
}

// flowFiles parses the flags of a flow command taking files.
func (e *env) flowFiles(name, usage string, args []string) ([]string, int, bool) {
	fs := e.flagSet("flow "+name, usage)
	pos, err := parseInterleaved(fs, args)
	if err != nil {
		return nil, parseErr(err), false
	}
	if len(pos) == 0 {
		fs.Usage()
		return nil, exitUsage, false
	}
	return pos, exitOK, true
}

func (e *env) flowCheck(args []string) int {
	paths, code, ok := e.flowFiles("check", flowUsage, args)
	if !ok {
		return code
	}
	failed := false
	for _, path := range paths {
		data, err := os.ReadFile(path)
		if err != nil {
			fmt.Fprintf(e.stderr, "sambung flow check: %v\n", err)
			failed = true
			continue
		}
		f, diags := ivr.Parse(path, data)
		if len(diags) > 0 {
			fmt.Fprintln(e.stdout, diags.Error())
		}
		if diags.HasErrors() || f == nil {
			failed = true
			continue
		}
		fmt.Fprintf(e.stdout, "%s: flow %q is fine: %d steps, languages %v\n", path, f.Name, len(f.Steps), f.Languages)
	}
	if failed {
		return exitError
	}
	return exitOK
}

func (e *env) flowTest(ctx context.Context, args []string) int {
	paths, code, ok := e.flowFiles("test", flowUsage, args)
	if !ok {
		return code
	}
	passed, failed, broken := 0, 0, 0
	for _, path := range paths {
		tf, err := ivr.LoadTests(path)
		if err != nil {
			fmt.Fprintf(e.stdout, "BROKEN %s\n%v\n", path, err)
			broken++
			continue
		}
		for _, r := range tf.Run(ctx) {
			if r.Passed {
				fmt.Fprintf(e.stdout, "PASS %s\n", r.Name)
				passed++
				continue
			}
			failed++
			fmt.Fprintf(e.stdout, "FAIL %s\n", r.Name)
			for _, f := range r.Failures {
				fmt.Fprintf(e.stdout, "    %s\n", f)
			}
			fmt.Fprintln(e.stdout, "  conversation:")
			for _, line := range r.Transcript {
				fmt.Fprintf(e.stdout, "    %s\n", line)
			}
		}
		if u := tf.Uncovered(); len(u) > 0 {
			fmt.Fprintf(e.stdout, "%s: no test enters %s\n", path, strings.Join(u, ", "))
		}
	}
	summary := fmt.Sprintf("%d passed, %d failed", passed, failed)
	if broken > 0 {
		summary += fmt.Sprintf(", %d test files broken", broken)
	}
	if failed > 0 || broken > 0 {
		fmt.Fprintf(e.stdout, "FAIL: %s\n", summary)
		return exitError
	}
	fmt.Fprintf(e.stdout, "ok: %s\n", summary)
	return exitOK
}

func (e *env) flowSchema(args []string) int {
	fs := e.flagSet("flow schema", flowUsage)
	pos, err := parseInterleaved(fs, args)
	if err != nil {
		return parseErr(err)
	}
	if len(pos) > 0 {
		fs.Usage()
		return exitUsage
	}
	if err := printFlowSchema(e.stdout); err != nil {
		fmt.Fprintf(e.stderr, "sambung flow schema: %v\n", err)
		return exitError
	}
	return exitOK
}

func (e *env) flowPrompts(ctx context.Context, args []string) int {
	fs := e.flagSet("flow prompts", flowUsage)
	out := fs.String("out", "", "the `directory` to render into")
	pos, err := parseInterleaved(fs, args)
	if err != nil {
		return parseErr(err)
	}
	if len(pos) != 1 || *out == "" {
		fs.Usage()
		return exitUsage
	}
	if err := renderPrompts(ctx, pos[0], *out, e.stdout); err != nil {
		fmt.Fprintf(e.stderr, "sambung flow prompts: %v\n", err)
		return exitError
	}
	return exitOK
}

func (e *env) flowSimulate(ctx context.Context, args []string) int {
	fs := e.flagSet("flow simulate", flowSimulateUsage)
	caller := fs.String("caller", ivr.DefaultCaller, "the caller's `number`")
	baseURL := fs.String("base-url", "http://127.0.0.1:8080", "the server's `URL`, for lookups whose URL is a path (/crm/...)")
	stubs := fs.String("stubs", "", "a flow test `file` whose lookups stubs answer the flow's lookups")
	pos, err := parseInterleaved(fs, args)
	if err != nil {
		return parseErr(err)
	}
	if len(pos) != 1 {
		fs.Usage()
		return exitUsage
	}
	f, err := ivr.Load(pos[0])
	if err != nil {
		fmt.Fprintf(e.stderr, "sambung flow simulate: %v\n", err)
		return exitError
	}
	rt := &ivr.Runtime{BaseURL: *baseURL, Log: slog.New(slog.DiscardHandler)}
	if *stubs != "" {
		tf, err := ivr.LoadTests(*stubs)
		if err != nil {
			fmt.Fprintf(e.stderr, "sambung flow simulate: --stubs: %v\n", err)
			return exitError
		}
		rt.HTTP = &http.Client{Transport: &ivr.StubTransport{Stubs: tf.Lookups}}
	}

	// Typed lines show as typed; piped ones are echoed after the prompt,
	// so the output reads as a conversation either way.
	echo := true
	if file, ok := e.stdin.(*os.File); ok && term.IsTerminal(int(file.Fd())) {
		echo = false
	}
	in := bufio.NewScanner(e.stdin)
	ch := &ivr.TextChannel{
		From: *caller,
		Next: func() (ivr.Turn, bool) {
			fmt.Fprint(e.stdout, "you> ")
			if !in.Scan() {
				fmt.Fprintln(e.stdout, "(hangs up)")
				return ivr.Turn{}, false
			}
			if echo {
				fmt.Fprintln(e.stdout, in.Text())
			}
			return ivr.ParseTurn(in.Text()), true
		},
		OnSay: func(sp ivr.Spoken) { fmt.Fprintln(e.stdout, ivr.FormatSpoken(sp)) },
		OnEvent: func(kind string, data map[string]any) {
			if line := ivr.FormatEvent(kind, data); line != "" {
				fmt.Fprintln(e.stdout, line)
			}
		},
	}
	callCtx, cancel := context.WithCancel(ctx)
	defer cancel()
	out := rt.Run(ch.Start(callCtx), f, ch)
	if err := in.Err(); err != nil && !errors.Is(err, io.EOF) {
		fmt.Fprintf(e.stderr, "sambung flow simulate: reading the caller's turns: %v\n", err)
	}
	e.printOutcome(out)
	if ivr.OutcomeName(out) == ivr.OutcomeError {
		return exitError
	}
	return exitOK
}

// printOutcome shows how a simulated call ended and what the IVR learnt.
func (e *env) printOutcome(out ivr.Outcome) {
	fmt.Fprintf(e.stdout, "\noutcome: %s\n", ivr.FormatOutcome(out))
	cx := out.Context
	if cx == nil {
		return
	}
	if cx.Intent != "" {
		fmt.Fprintf(e.stdout, "intent: %s (confidence %.2f)\n", cx.Intent, cx.Confidence)
	}
	fmt.Fprintf(e.stdout, "language: %s\n", cx.Language)
	fmt.Fprintf(e.stdout, "path: %s\n", strings.Join(cx.Path, " -> "))
	fmt.Fprintln(e.stdout, "variables:")
	for _, name := range slices.Sorted(maps.Keys(cx.Variables)) {
		v := cx.Variables[name]
		if s, ok := v.(string); ok {
			v = fmt.Sprintf("%q", s)
		}
		fmt.Fprintf(e.stdout, "  %s = %v\n", name, v)
	}
	if len(cx.Failures) == 0 {
		fmt.Fprintln(e.stdout, "failures: none")
		return
	}
	reasons := make([]string, len(cx.Failures))
	for i, fl := range cx.Failures {
		reasons[i] = fl.Reason + " at " + fl.Step
	}
	fmt.Fprintf(e.stdout, "failures: %s\n", strings.Join(reasons, ", "))
}
