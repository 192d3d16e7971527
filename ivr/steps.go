package ivr

import (
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"go.yaml.in/yaml/v3"
)

// stepKeys are the keys a step may hold besides its action.
var stepKeys = []string{"next", "interruptible", "on_failure"}

func (p *parser) parseSteps(n *yaml.Node) {
	known := slices.Clone(stepKeys)
	for _, k := range kinds {
		known = append(known, string(k))
	}
	fs := p.fields(n, "steps")
	for _, name := range keysInOrder(n, fs) {
		fd := fs[name]
		if !stepName.MatchString(name) {
			p.errorf(fd.key, "step %q: a step name is letters, digits, _ and -", name)
			continue
		}
		s := &Step{Name: name, Pos: Pos{fd.key.Line, fd.key.Column}}
		p.flow.Steps[name] = s
		p.parseStep(s, fd.key, fd.val, known)
	}
}

var sipURI = regexp.MustCompile(`^sips?:[^\s@]*@?[^\s@]+$`)

var stepName = regexp.MustCompile(`^[A-Za-z0-9_][A-Za-z0-9_-]*$`)

func (p *parser) parseStep(s *Step, key, n *yaml.Node, known []string) {
	what := fmt.Sprintf("step %q", s.Name)
	fs := p.fields(n, what, known...)
	if fs == nil {
		return
	}
	var actions []string
	for _, k := range keysInOrder(n, fs) {
		if !slices.Contains(stepKeys, k) {
			actions = append(actions, k)
		}
	}
	switch len(actions) {
	case 0:
		p.errorf(key, "%s has no action; give it one of %s", what, kindList())
		return
	case 1:
	default:
		p.errorf(fs[actions[1]].key, "%s has two actions, %s and %s; split it into two steps joined by next", what, actions[0], actions[1])
		return
	}
	s.Kind = Kind(actions[0])
	act := fs[actions[0]]
	what = fmt.Sprintf("step %q %s", s.Name, s.Kind)

	needsNext := false
	switch s.Kind {
	case KindSay:
		s.Say = &Say{Prompt: p.prompt(act.val, what)}
		if fd, ok := fs["interruptible"]; ok {
			s.Say.Interruptible = p.boolean(fd.val, what+" interruptible")
		}
		needsNext = true
	case KindListen:
		s.Listen = p.parseListen(s, act.val, what)
	case KindGather:
		s.Gather = p.parseGather(s, act.val, what)
		needsNext = true
	case KindBranch:
		s.Branch = p.parseBranch(s, act.val, what)
	case KindSet:
		s.Set = p.parseSet(act.val, what)
		needsNext = true
	case KindLookup:
		s.Lookup = p.parseLookup(act.val, what)
		needsNext = true
	case KindAnswer:
		if e, ok := p.str(act.val, what); ok {
			if _, known := p.flow.Knowledge[e]; !known {
				p.errorf(act.val, "%s: there is no knowledge entry %q%s; add it under knowledge", what, e, didYouMean(e, mapKeys(p.flow.Knowledge)))
			}
			s.Answer = &Answer{Entry: e}
		}
		needsNext = true
	case KindLanguage:
		if c, ok := p.str(act.val, what); ok {
			if !slices.Contains(p.flow.Languages, c) {
				p.errorf(act.val, "%s: %q is not a declared language (languages: %s)", what, c, strings.Join(p.flow.Languages, ", "))
			}
			s.Language = &Language{Code: c}
		}
		needsNext = true
	case KindQueue:
		s.Queue = p.parseQueue(act.val, what)
	case KindTransfer:
		if u, ok := p.str(act.val, what); ok {
			if !sipURI.MatchString(u) {
				p.errorf(act.val, "%s: %q is not a SIP URI such as sip:sales@pbx.example.com", what, u)
			}
			s.Transfer = &Transfer{URI: u}
		}
	case KindVoicemail:
		s.Voicemail = &Voicemail{}
		if vfs := p.optFields(act.val, what, "prompt", "max_length"); vfs != nil {
			if fd, ok := vfs["prompt"]; ok {
				pr := p.prompt(fd.val, what+" prompt")
				s.Voicemail.Prompt = &pr
			}
			if fd, ok := vfs["max_length"]; ok {
				s.Voicemail.MaxLength = p.duration(fd.val, what+" max_length")
			}
		}
	case KindCallback:
		s.Callback = &Callback{}
		if cfs := p.optFields(act.val, what, "prompt"); cfs != nil {
			if fd, ok := cfs["prompt"]; ok {
				pr := p.prompt(fd.val, what+" prompt")
				s.Callback.Prompt = &pr
			}
		}
	case KindSurvey:
		s.Survey = &Survey{}
		if sfs := p.fields(act.val, what, "prompt", "into"); sfs != nil {
			p.require(act.val, what, sfs, "prompt", "into")
			if fd, ok := sfs["prompt"]; ok {
				s.Survey.Prompt = p.prompt(fd.val, what+" prompt")
			}
			if fd, ok := sfs["into"]; ok {
				s.Survey.Into = p.variable(fd.val, what+" into", reflect.Int)
			}
		}
		needsNext = true
	case KindPCI:
		if v, ok := p.str(act.val, what); ok {
			if v != "pause" && v != "resume" {
				p.errorf(act.val, "%s: expected pause or resume, got %q", what, v)
			}
			s.PCI = &PCI{Pause: v == "pause"}
		}
		needsNext = true
	case KindHangup:
		p.optFields(act.val, what)
		s.Hangup = &Hangup{}
	case KindGoto:
		if path, ok := p.str(act.val, what); ok {
			s.Goto = &Goto{Path: path}
			full := path
			if !filepath.IsAbs(full) {
				full = filepath.Join(filepath.Dir(p.file), path)
			}
			if st, err := os.Stat(full); err != nil || st.IsDir() {
				p.errorf(act.val, "%s: sub-flow file %s does not exist (paths are relative to this flow's file)", what, full)
			}
		}
	}

	if fd, ok := fs["interruptible"]; ok && s.Kind != KindSay {
		p.errorf(fd.key, "step %q: interruptible applies to say steps only; remove it", s.Name)
	}
	if fd, ok := fs["on_failure"]; ok {
		if s.Kind != KindLookup {
			p.errorf(fd.key, "step %q: on_failure applies to lookup steps only; remove it", s.Name)
		} else {
			s.Lookup.OnFailure = p.transition(s, "on_failure", fd.val)
		}
	} else if s.Kind == KindLookup {
		p.errorf(key, "step %q: a lookup needs on_failure, the step to go to when the CRM does not answer", s.Name)
	}
	fd, hasNext := fs["next"]
	switch {
	case hasNext && !needsNext:
		p.errorf(fd.key, "step %q: a %s step chooses where to go itself; remove next", s.Name, s.Kind)
	case hasNext:
		s.Next = p.transition(s, "next", fd.val)
	case needsNext:
		p.errorf(key, "step %q: a %s step needs next, the step that follows it", s.Name, s.Kind)
	}
}

func kindList() string {
	names := make([]string, len(kinds))
	for i, k := range kinds {
		names[i] = string(k)
	}
	return strings.Join(names, ", ")
}

// optFields reads a mapping that may also be empty (`{}` or nothing).
func (p *parser) optFields(n *yaml.Node, what string, known ...string) map[string]field {
	if n.Kind == yaml.ScalarNode && n.Tag == "!!null" {
		return nil
	}
	if known == nil {
		known = []string{}
	}
	return p.fields(n, what, known...)
}

func (p *parser) require(n *yaml.Node, what string, fs map[string]field, keys ...string) {
	for _, k := range keys {
		if _, ok := fs[k]; !ok {
			p.errorf(n, "%s needs %s", what, k)
		}
	}
}

// transition reads the name of a target step and records it on s.
func (p *parser) transition(s *Step, via string, n *yaml.Node) string {
	to, ok := p.str(n, fmt.Sprintf("step %q %s", s.Name, via))
	if ok {
		s.transitions = append(s.transitions, Transition{Via: via, To: to, Pos: Pos{n.Line, n.Column}})
	}
	return to
}

// variable reads the name of a declared variable; want, when not Invalid,
// is the kind of value that will be stored in it.
func (p *parser) variable(n *yaml.Node, what string, want reflect.Kind) string {
	name, ok := p.str(n, what)
	if !ok {
		return ""
	}
	v, declared := p.flow.Variables[name]
	if !declared {
		p.errorf(n, "%s: variable %q is not declared%s; add it under variables", what, name, didYouMean(name, mapKeys(p.flow.Variables)))
		return name
	}
	got := reflect.TypeOf(v.Initial).Kind()
	if want == reflect.Int && got == reflect.Float64 {
		got = reflect.Int // a score fits any number
	}
	if want != reflect.Invalid && got != want {
		stores, example := "digits as a string", `""`
		if want == reflect.Int {
			stores, example = "a number", "0"
		}
		p.errorf(n, "%s: variable %q holds a %s, but this stores %s; use a variable declared like %s: %s", what, name,
			typeName(reflect.TypeOf(v.Initial)), stores, name, example)
	}
	return name
}

func (p *parser) parseListen(s *Step, n *yaml.Node, what string) *Listen {
	l := &Listen{Intents: map[string]string{}, Digits: map[string]string{}}
	fs := p.fields(n, what, "prompt", "intents", "digits", "retries", "reprompt", "timeout", "min_confidence", "slots", "no_input", "no_match")
	if fs == nil {
		return l
	}
	p.require(n, what, fs, "prompt", "no_input", "no_match")
	if fd, ok := fs["prompt"]; ok {
		l.Prompt = p.prompt(fd.val, what+" prompt")
	}
	if fd, ok := fs["reprompt"]; ok {
		pr := p.prompt(fd.val, what+" reprompt")
		l.Reprompt = &pr
	}
	if fd, ok := fs["retries"]; ok {
		l.Retries = p.integer(fd.val, what+" retries", 0, 10)
	}
	if fd, ok := fs["timeout"]; ok {
		l.Timeout = p.duration(fd.val, what+" timeout")
	}
	if fd, ok := fs["min_confidence"]; ok {
		x, err := strconv.ParseFloat(fd.val.Value, 64)
		if fd.val.Kind != yaml.ScalarNode || err != nil || x < 0 || x > 1 {
			p.errorf(fd.val, "%s min_confidence: expected a number from 0 to 1, such as 0.5, got %s", what, kindWord(fd.val))
		} else {
			l.MinConfidence = x
		}
	}
	if fd, ok := fs["slots"]; ok {
		l.Slots = map[string]string{}
		sfs := p.fields(fd.val, what+" slots", "digits", "amount", "date")
		for _, kind := range keysInOrder(fd.val, sfs) {
			want := reflect.String
			if kind == "amount" {
				want = reflect.Float64
			}
			l.Slots[kind] = p.slotVariable(sfs[kind].val, what+" slots "+kind, want)
		}
	}
	if fd, ok := fs["intents"]; ok {
		ifs := p.fields(fd.val, what+" intents")
		for _, intent := range keysInOrder(fd.val, ifs) {
			f := ifs[intent]
			if _, known := p.flow.Intents[intent]; !known && intent != "none" && intent != "human" {
				p.errorf(f.key, "%s: intent %q is not declared%s; add it under intents (none and human are built in)", what, intent, didYouMean(intent, append(mapKeys(p.flow.Intents), "none", "human")))
			}
			l.Intents[intent] = p.transition(s, "intent "+intent, f.val)
		}
	}
	if fd, ok := fs["digits"]; ok {
		dfs := p.fields(fd.val, what+" digits")
		for _, d := range keysInOrder(fd.val, dfs) {
			f := dfs[d]
			if _, ok := p.digit(f.key, what+" digits"); ok {
				l.Digits[d] = p.transition(s, "digit "+d, f.val)
			}
		}
	}
	if fd, ok := fs["no_input"]; ok {
		l.NoInput = p.transition(s, "no_input", fd.val)
	}
	if fd, ok := fs["no_match"]; ok {
		l.NoMatch = p.transition(s, "no_match", fd.val)
	}
	return l
}

// slotVariable reads the variable a slot goes into: text for digits and
// dates, a number (whole or not) for amounts.
func (p *parser) slotVariable(n *yaml.Node, what string, want reflect.Kind) string {
	if want != reflect.Float64 {
		return p.variable(n, what, want)
	}
	name := p.variable(n, what, reflect.Invalid)
	if v, ok := p.flow.Variables[name]; ok {
		if k := reflect.TypeOf(v.Initial).Kind(); k != reflect.Float64 && k != reflect.Int {
			p.errorf(n, "%s: variable %q holds a %s, but an amount is a number; declare it like %s: 0.0", what, name, typeName(reflect.TypeOf(v.Initial)), name)
		}
	}
	return name
}

func (p *parser) parseGather(s *Step, n *yaml.Node, what string) *Gather {
	g := &Gather{MaxDigits: 1}
	fs := p.fields(n, what, "prompt", "max_digits", "terminator", "first_digit_timeout", "inter_digit_timeout", "into", "no_input")
	if fs == nil {
		return g
	}
	p.require(n, what, fs, "prompt", "into")
	if fd, ok := fs["prompt"]; ok {
		g.Prompt = p.prompt(fd.val, what+" prompt")
	}
	if fd, ok := fs["max_digits"]; ok {
		g.MaxDigits = p.integer(fd.val, what+" max_digits", 1, 32)
	}
	if fd, ok := fs["terminator"]; ok {
		g.Terminator, _ = p.digit(fd.val, what+" terminator")
	}
	if fd, ok := fs["first_digit_timeout"]; ok {
		g.FirstDigitTimeout = p.duration(fd.val, what+" first_digit_timeout")
	}
	if fd, ok := fs["inter_digit_timeout"]; ok {
		g.InterDigitTimeout = p.duration(fd.val, what+" inter_digit_timeout")
	}
	if fd, ok := fs["into"]; ok {
		g.Into = p.variable(fd.val, what+" into", reflect.String)
	}
	if fd, ok := fs["no_input"]; ok {
		g.NoInput = p.transition(s, "no_input", fd.val)
	}
	return g
}

func (p *parser) parseBranch(s *Step, n *yaml.Node, what string) *Branch {
	b := &Branch{}
	if n.Kind != yaml.SequenceNode || len(n.Content) == 0 {
		p.errorf(n, "%s: expected a list of {when: EXPR, goto: step} ending with {else: step}, got %s", what, kindWord(n))
		return b
	}
	for i, c := range n.Content {
		last := i == len(n.Content)-1
		cfs := p.fields(c, what+" case", "when", "goto", "else")
		if cfs == nil {
			continue
		}
		if e, ok := cfs["else"]; ok {
			if len(cfs) > 1 || !last {
				p.errorf(e.key, "%s: else stands alone, as the last item of the branch", what)
			}
			b.Else = p.transition(s, "else", e.val)
			continue
		}
		p.require(c, what+" case", cfs, "when", "goto")
		var bc BranchCase
		if w, ok := cfs["when"]; ok {
			if src, ok := p.str(w.val, what+" when"); ok {
				bc.When = p.compile(w.val, src, 0, reflect.Bool, what+" when")
			}
		}
		if g, ok := cfs["goto"]; ok {
			bc.Goto = p.transition(s, "when", g.val)
		}
		b.Cases = append(b.Cases, bc)
		if last {
			p.errorf(c, "%s has no else; end the list with {else: step} for when no condition holds", what)
		}
	}
	return b
}

func (p *parser) parseSet(n *yaml.Node, what string) *Set {
	st := &Set{}
	fs := p.fields(n, what)
	for _, name := range keysInOrder(n, fs) {
		fd := fs[name]
		v, declared := p.flow.Variables[name]
		if !declared {
			p.errorf(fd.key, "%s: variable %q is not declared%s; add it under variables", what, name, didYouMean(name, mapKeys(p.flow.Variables)))
			continue
		}
		src, ok := p.str(fd.val, what+" "+name)
		if !ok {
			continue
		}
		st.Assign = append(st.Assign, Assignment{Variable: name, Value: p.compile(fd.val, src, 0, reflect.TypeOf(v.Initial).Kind(), what+" "+name)})
	}
	return st
}

func (p *parser) parseLookup(n *yaml.Node, what string) *Lookup {
	l := &Lookup{Method: "GET", Map: map[string]string{}}
	fs := p.fields(n, what, "url", "method", "timeout", "map")
	if fs == nil {
		return l
	}
	p.require(n, what, fs, "url", "timeout")
	if fd, ok := fs["url"]; ok {
		if u, ok := p.str(fd.val, what+" url"); ok {
			if !strings.HasPrefix(u, "http://") && !strings.HasPrefix(u, "https://") && !strings.HasPrefix(u, "/") {
				p.errorf(fd.val, "%s: url %q must start with http://, https:// or / (a path on this server)", what, u)
			}
			l.URL = p.template(fd.val, u, what+" url")
		}
	}
	if fd, ok := fs["method"]; ok {
		l.Method = fd.val.Value
		if l.Method != "GET" && l.Method != "POST" {
			p.errorf(fd.val, "%s: method must be GET or POST, got %s", what, kindWord(fd.val))
		}
	}
	if fd, ok := fs["timeout"]; ok {
		l.Timeout = p.duration(fd.val, what+" timeout")
	}
	if fd, ok := fs["map"]; ok {
		mfs := p.fields(fd.val, what+" map")
		for _, name := range keysInOrder(fd.val, mfs) {
			mf := mfs[name]
			p.variable(mf.key, what+" map", reflect.Invalid)
			if field, ok := p.str(mf.val, what+" map "+name); ok {
				l.Map[name] = field
			}
		}
	}
	return l
}

func (p *parser) parseQueue(n *yaml.Node, what string) *Queue {
	q := &Queue{}
	fs := p.fields(n, what, "name", "skills", "priority", "context")
	if fs == nil {
		return q
	}
	p.require(n, what, fs, "name")
	if fd, ok := fs["name"]; ok {
		q.Name, _ = p.str(fd.val, what+" name")
	}
	if fd, ok := fs["skills"]; ok {
		q.Skills = p.strList(fd.val, what+" skills")
	}
	if fd, ok := fs["priority"]; ok {
		if src, ok := p.str(fd.val, what+" priority"); ok {
			q.Priority = p.compile(fd.val, src, 0, reflect.Int, what+" priority")
		}
	}
	if fd, ok := fs["context"]; ok && fd.val.Kind == yaml.SequenceNode {
		for _, c := range fd.val.Content {
			if t, builtin := builtins[c.Value]; builtin && t.Kind() != reflect.Func {
				q.Context = append(q.Context, c.Value)
				continue
			}
			q.Context = append(q.Context, p.variable(c, what+" context", reflect.Invalid))
		}
	} else if ok {
		p.errorf(fd.val, "%s context: expected a list of variable names, got %s", what, kindWord(fd.val))
	}
	return q
}

func mapKeys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}
