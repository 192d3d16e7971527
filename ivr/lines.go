package ivr

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync/atomic"
)

// Lines maps the numbers callers dial to the flows that answer them. A
// reload replaces the whole map at once; a call in progress keeps the
// *Flow it was given, so it finishes on the version it started with.
type Lines struct {
	v atomic.Pointer[lineMap]
}

type lineMap struct {
	byNumber map[string]*Flow
	fallback *Flow
}

// DefaultLine is the file name (without .yaml) of the flow that answers
// every number that has no flow of its own.
const DefaultLine = "default"

// For returns the flow for the number dialled, the default flow, or nil.
func (l *Lines) For(number string) *Flow {
	m := l.v.Load()
	if m == nil {
		return nil
	}
	if f, ok := m.byNumber[number]; ok {
		return f
	}
	return m.fallback
}

// Set replaces every line at once; fallback answers other numbers (nil: none).
func (l *Lines) Set(byNumber map[string]*Flow, fallback *Flow) {
	l.v.Store(&lineMap{byNumber: byNumber, fallback: fallback})
}

// Numbers lists the numbers with a flow of their own, sorted, and whether
// there is a default.
func (l *Lines) Numbers() ([]string, bool) {
	m := l.v.Load()
	if m == nil {
		return nil, false
	}
	out := make([]string, 0, len(m.byNumber))
	for n := range m.byNumber {
		out = append(out, n)
	}
	sort.Strings(out)
	return out, m.fallback != nil
}

// LoadDir loads the flows of a directory: NUMBER.yaml answers NUMBER, and
// default.yaml every other number. Sub-flows belong in a subdirectory, and
// flow tests (*.test.yaml) are skipped. Any broken flow fails the whole
// load, with every diagnostic, so a reload never half applies.
func LoadDir(dir string) (map[string]*Flow, *Flow, error) {
	files, err := filepath.Glob(filepath.Join(dir, "*.yaml"))
	if err != nil {
		return nil, nil, fmt.Errorf("flows %s: %w", dir, err)
	}
	if _, err := os.Stat(dir); err != nil {
		return nil, nil, fmt.Errorf("flows: %w", err)
	}
	byNumber := map[string]*Flow{}
	var fallback *Flow
	var errs []error
	for _, file := range files {
		if strings.HasSuffix(file, ".test.yaml") {
			continue
		}
		f, err := Load(file)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		number := strings.TrimSuffix(filepath.Base(file), ".yaml")
		if number == DefaultLine {
			fallback = f
		} else {
			byNumber[number] = f
		}
	}
	if len(errs) > 0 {
		return nil, nil, errors.Join(errs...)
	}
	if len(byNumber) == 0 && fallback == nil {
		return nil, nil, fmt.Errorf("flows %s: no flow files (NUMBER.yaml, or default.yaml for every number)", dir)
	}
	return byNumber, fallback, nil
}
