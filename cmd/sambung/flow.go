package main

import (
	"context"
	"fmt"
	"os"

	"github.com/sambung/sambung/ivr"
)

const flowUsage = `
Usage:
  sambung flow check FILE...

Checks IVR flow files (the format: testdata/flows/README.md). Every problem
is printed as file:line:column and a sentence saying what is wrong and how
to fix it; warnings (an unreachable step) too. The exit status is 1 when
any file has an error, so it fits in a CI job or a pre-commit hook.
`

func (e *env) flow(ctx context.Context, args []string) int {
	fs := e.flagSet("flow", flowUsage)
	pos, err := parseInterleaved(fs, args)
	if err != nil {
		return parseErr(err)
	}
	if len(pos) < 2 || pos[0] != "check" {
		fs.Usage()
		return exitUsage
	}
	failed := false
	for _, path := range pos[1:] {
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
