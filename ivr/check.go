package ivr

import (
	"fmt"
	"slices"
	"strings"
)

// checkGraph checks the steps as a graph: the start exists, every
// transition lands on a step, every step can be reached from the start,
// and no loop runs forever without waiting for the caller or ending.
func checkGraph(p *parser, f *Flow) {
	names := mapKeys(f.Steps)
	if f.Start != "" {
		if _, ok := f.Steps[f.Start]; !ok {
			p.at(p.start.Line, p.start.Column, SeverityError, "start %q is not a step%s; name one of the steps", f.Start, didYouMean(f.Start, names))
		}
	}
	for _, name := range names {
		s := f.Steps[name]
		for _, t := range s.transitions {
			if _, ok := f.Steps[t.To]; !ok {
				p.at(t.Pos.Line, t.Pos.Column, SeverityError, "step %q goes to %q (%s), which does not exist%s", s.Name, t.To, t.Via, didYouMean(t.To, names))
			}
		}
	}
	hasListen := false
	for _, s := range f.Steps {
		hasListen = hasListen || s.Kind == KindListen
	}
	esc := f.Escalation
	if _, ok := f.Steps[esc.To]; esc.To != "" && !ok {
		p.at(esc.Pos.Line, esc.Pos.Column, SeverityError, "escalation goes to %q, which does not exist%s", esc.To, didYouMean(esc.To, names))
	}
	if esc.To == "" && hasListen {
		p.at(1, 1, SeverityWarning, "the flow has listen steps but no escalation: callers it fails to understand %d times in a row are not put through to a person; add escalation: {to: STEP}", esc.After)
	}
	if _, ok := f.Steps[f.Start]; ok {
		seen := map[string]bool{f.Start: true}
		queue := []string{f.Start}
		if _, ok := f.Steps[esc.To]; ok && hasListen && !seen[esc.To] {
			seen[esc.To] = true
			queue = append(queue, esc.To)
		}
		for len(queue) > 0 {
			s := f.Steps[queue[0]]
			queue = queue[1:]
			for _, t := range s.transitions {
				if _, ok := f.Steps[t.To]; ok && !seen[t.To] {
					seen[t.To] = true
					queue = append(queue, t.To)
				}
			}
		}
		for _, name := range names {
			if !seen[name] {
				s := f.Steps[name]
				p.at(s.Pos.Line, s.Pos.Column, SeverityWarning, "step %q cannot be reached from start %q; link to it or remove it", name, f.Start)
			}
		}
	}
	for _, loop := range endlessLoops(f) {
		first := f.Steps[loop[0]]
		p.at(first.Pos.Line, first.Pos.Column, SeverityError,
			"steps %s loop forever: no step among them waits for the caller or ends the call, and none leads out; add a listen, gather or survey step, or a way out",
			quoteList(loop))
	}
}

func quoteList(names []string) string {
	q := make([]string, len(names))
	for i, n := range names {
		q[i] = fmt.Sprintf("%q", n)
	}
	return strings.Join(q, " -> ")
}

// waits reports whether s stops for the caller, which breaks a loop: a
// caller who keeps answering keeps the call going on purpose.
func waits(s *Step) bool {
	switch s.Kind {
	case KindListen, KindGather, KindSurvey:
		return true
	case KindSay:
		return s.Say != nil && s.Say.Interruptible
	}
	return false
}

// endlessLoops finds the sets of steps that, once entered, are never left
// and never wait or end: the strongly connected components of the steps
// that neither wait nor end, that contain a cycle and have no transition
// out. Each loop is listed in file order.
func endlessLoops(f *Flow) [][]string {
	free := func(name string) bool {
		s, ok := f.Steps[name]
		return ok && !waits(s) && !s.Kind.ends() && s.Kind != ""
	}
	// Tarjan's algorithm over the free steps.
	index := map[string]int{}
	low := map[string]int{}
	onStack := map[string]bool{}
	var stack []string
	var comps [][]string
	var visit func(string)
	visit = func(v string) {
		index[v] = len(index)
		low[v] = index[v]
		stack = append(stack, v)
		onStack[v] = true
		for _, t := range f.Steps[v].transitions {
			if !free(t.To) {
				continue
			}
			if _, seen := index[t.To]; !seen {
				visit(t.To)
				low[v] = min(low[v], low[t.To])
			} else if onStack[t.To] {
				low[v] = min(low[v], index[t.To])
			}
		}
		if low[v] == index[v] {
			var comp []string
			for {
				w := stack[len(stack)-1]
				stack = stack[:len(stack)-1]
				onStack[w] = false
				comp = append(comp, w)
				if w == v {
					break
				}
			}
			comps = append(comps, comp)
		}
	}
	for _, name := range mapKeys(f.Steps) {
		if _, seen := index[name]; !seen && free(name) {
			visit(name)
		}
	}
	var loops [][]string
	for _, comp := range comps {
		in := map[string]bool{}
		for _, n := range comp {
			in[n] = true
		}
		cyclic, exits := len(comp) > 1, false
		for _, n := range comp {
			for _, t := range f.Steps[n].transitions {
				if t.To == n {
					cyclic = true
				}
				if _, ok := f.Steps[t.To]; ok && !in[t.To] {
					exits = true
				}
			}
		}
		if cyclic && !exits {
			slices.SortFunc(comp, func(a, b string) int { return f.Steps[a].Pos.Line - f.Steps[b].Pos.Line })
			loops = append(loops, comp)
		}
	}
	return loops
}
