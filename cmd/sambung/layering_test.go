package main

import (
	"os/exec"
	"slices"
	"strings"
	"testing"
)

const module = "github.com/sambung/sambung/"

// allowedImports is the dependency direction of docs/architecture.md: which
// of our packages each package may import directly. cmd may import anything.
// A package missing here fails the test, so new packages get a rule.
var allowedImports = map[string][]string{
	"media":            {},
	"media/webrtc":     {"media"},
	"asr":              {"media"},
	"store":            {},
	"internal/testenv": {},
	"demo":             {"ivr"},
	"audit":            {"store"},
	"sip":              {"media"},
	"ivr":              {"asr", "asr/intent", "media"},
	"agents":           {"store", "audit"},
	"recordings":       {"store", "media", "audit"},
	"calls":            {"media", "media/webrtc", "ivr", "asr", "asr/intent", "agents", "recordings", "store", "audit"},
	"web":              {"calls", "agents", "recordings", "store", "audit"},
}

// Test-only imports of our own helpers are allowed everywhere.
var testOnly = []string{"internal/testenv"}

// testOnlyFor are further test-only imports of one package: the embedded
// recognizer is measured against the demo flow's whole grammar, as a call
// to the demo line listens with it.
var testOnlyFor = map[string][]string{"asr/sphinx": {"demo"}}

func TestLayering(t *testing.T) {
	out, err := exec.Command("go", "list", "-f", "{{.ImportPath}}|{{join .Imports \" \"}}|{{join .TestImports \" \"}}", module+"...").Output()
	if err != nil {
		t.Fatalf("go list: %v", err)
	}
	for line := range strings.SplitSeq(strings.TrimSpace(string(out)), "\n") {
		parts := strings.Split(line, "|")
		pkg := strings.TrimPrefix(parts[0], module)
		if strings.HasPrefix(pkg, "cmd/") {
			continue
		}
		rule := pkg
		if _, ok := allowedImports[rule]; !ok {
			rule, _, _ = strings.Cut(pkg, "/") // asr/intent follows asr
		}
		allowed, ok := allowedImports[rule]
		if !ok {
			t.Errorf("package %s has no layering rule; add it to allowedImports and docs/architecture.md", pkg)
			continue
		}
		check := func(imports string, extra []string) {
			for imp := range strings.FieldsSeq(imports) {
				ours, isOurs := strings.CutPrefix(imp, module)
				if !isOurs || strings.HasPrefix(ours, rule+"/") || ours == rule {
					continue
				}
				if !slices.Contains(allowed, ours) && !slices.Contains(extra, ours) {
					t.Errorf("%s imports %s; it may import only %v (docs/architecture.md)", pkg, ours, allowed)
				}
			}
		}
		check(parts[1], nil)
		check(parts[2], append(testOnly, testOnlyFor[pkg]...))
	}
}
