package ivr

import (
	"fmt"
	"io/fs"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"
)

// Parse parses and checks a flow from data; name is the file name used in
// diagnostics and the base for sub-flow paths. The flow is returned, as far
// as it could be read, even when the diagnostics hold errors; it is nil only
// when data is not YAML.
func Parse(name string, data []byte) (*Flow, Diagnostics) {
	return parse(&parser{file: name}, data)
}

// ParseFS is Parse for a flow whose neighbouring files are not on disk,
// such as one embedded in the binary: dir is the flow's directory, from
// which the training files the flow names are read (they must lie in it),
// and name is the flow's file name for diagnostics. A training file's
// diagnostics name it beside name.
func ParseFS(dir fs.FS, name string, data []byte) (*Flow, Diagnostics) {
	return parse(&parser{file: name, dir: dir}, data)
}

func parse(p *parser, data []byte) (*Flow, Diagnostics) {
	f := p.parse(data)
	if f != nil {
		checkGraph(p, f)
	}
	p.diags.sort()
	return f, p.diags
}

type parser struct {
	file  string
	diags Diagnostics
	flow  *Flow
	env   map[string]any // expression environment: name -> value of its type
	start Pos            // of the start value
	dir   fs.FS          // the flow's directory, for ParseFS; nil: the disk
	extra [][]byte       // the training files' bytes, part of the version
}

func (p *parser) at(line, col int, sev Severity, format string, args ...any) {
	p.diags = append(p.diags, Diagnostic{File: p.file, Line: line, Column: col, Message: fmt.Sprintf(format, args...), Severity: sev})
}

func (p *parser) errorf(n *yaml.Node, format string, args ...any) {
	p.at(n.Line, n.Column, SeverityError, format, args...)
}

var yamlLineErr = regexp.MustCompile(`^yaml: line (\d+): (.*)$`)

// field is one key: value pair of a mapping.
type field struct{ key, val *yaml.Node }

// fields reads mapping n, described by what, reporting a non-mapping,
// duplicate keys and keys outside known (nil known allows any key).
// It returns nil when n is not a mapping.
func (p *parser) fields(n *yaml.Node, what string, known ...string) map[string]field {
	if n.Kind != yaml.MappingNode {
		p.errorf(n, "%s: expected a mapping (key: value), got %s", what, kindWord(n))
		return nil
	}
	out := map[string]field{}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], n.Content[i+1]
		if k.Kind != yaml.ScalarNode {
			p.errorf(k, "%s: a key must be a plain name, got %s", what, kindWord(k))
			continue
		}
		if known != nil && !slices.Contains(known, k.Value) && p.isLangs(known) {
			p.errorf(k, "%s: %q is not a declared language%s; add it to languages or remove this entry (languages: %s)", what, k.Value, didYouMean(k.Value, known), strings.Join(p.flow.Languages, ", "))
			continue
		}
		if known != nil && !slices.Contains(known, k.Value) {
			p.errorf(k, "%s: unknown key %q%s; known keys: %s", what, k.Value, didYouMean(k.Value, known), strings.Join(known, ", "))
			continue
		}
		if _, dup := out[k.Value]; dup {
			p.errorf(k, "%s: key %q is set twice; keep one", what, k.Value)
			continue
		}
		out[k.Value] = field{k, v}
	}
	return out
}

// isLangs reports whether known is the flow's declared languages, so an
// unknown key there is an undeclared language.
func (p *parser) isLangs(known []string) bool {
	return p.flow != nil && len(known) > 0 && slices.Equal(known, p.flow.Languages)
}

// keysInOrder returns the keys of mapping n as written.
func keysInOrder(n *yaml.Node, fs map[string]field) []string {
	var out []string
	for i := 0; i < len(n.Content); i += 2 {
		if f, ok := fs[n.Content[i].Value]; ok && f.key == n.Content[i] {
			out = append(out, n.Content[i].Value)
		}
	}
	return out
}

func kindWord(n *yaml.Node) string {
	switch n.Kind {
	case yaml.MappingNode:
		return "a mapping"
	case yaml.SequenceNode:
		return "a list"
	case yaml.AliasNode:
		return "an alias"
	}
	if n.Tag == "!!null" {
		return "nothing"
	}
	return fmt.Sprintf("%q", n.Value)
}

// str reads a non-empty scalar.
func (p *parser) str(n *yaml.Node, what string) (string, bool) {
	if n.Kind != yaml.ScalarNode || n.Tag == "!!null" || n.Value == "" {
		p.errorf(n, "%s: expected a non-empty string, got %s", what, kindWord(n))
		return "", false
	}
	return n.Value, true
}

func (p *parser) strList(n *yaml.Node, what string) []string {
	if n.Kind != yaml.SequenceNode {
		p.errorf(n, "%s: expected a list of strings, got %s", what, kindWord(n))
		return nil
	}
	var out []string
	for _, c := range n.Content {
		if s, ok := p.str(c, what); ok {
			out = append(out, s)
		}
	}
	return out
}

func (p *parser) integer(n *yaml.Node, what string, lo, hi int) int {
	v, err := strconv.Atoi(n.Value)
	if n.Kind != yaml.ScalarNode || err != nil || v < lo || v > hi {
		p.errorf(n, "%s: expected a whole number from %d to %d, got %s", what, lo, hi, kindWord(n))
		return lo
	}
	return v
}

func (p *parser) boolean(n *yaml.Node, what string) bool {
	if n.Kind != yaml.ScalarNode || n.Tag != "!!bool" {
		p.errorf(n, "%s: expected true or false, got %s", what, kindWord(n))
		return false
	}
	return n.Value == "true"
}

func (p *parser) duration(n *yaml.Node, what string) time.Duration {
	d, err := time.ParseDuration(n.Value)
	if n.Kind != yaml.ScalarNode || err != nil || d <= 0 || d > time.Hour {
		p.errorf(n, "%s: expected a duration such as 500ms, 5s or 2m (at most 1h), got %s", what, kindWord(n))
		return 0
	}
	return d
}

// digit reads one DTMF key: 0-9, * or #.
func (p *parser) digit(n *yaml.Node, what string) (string, bool) {
	if n.Kind != yaml.ScalarNode || len(n.Value) != 1 || !strings.Contains("0123456789*#", n.Value) {
		p.errorf(n, "%s: expected one DTMF key (0-9, * or #, quoted), got %s", what, kindWord(n))
		return "", false
	}
	return n.Value, true
}

var namePattern = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*$`)

func (p *parser) parse(data []byte) *Flow {
	var doc yaml.Node
	if err := yaml.Unmarshal(data, &doc); err != nil {
		msg := err.Error()
		if m := yamlLineErr.FindStringSubmatch(msg); m != nil {
			line, _ := strconv.Atoi(m[1])
			p.at(line, 1, SeverityError, "not valid YAML: %s", m[2])
		} else {
			p.at(1, 1, SeverityError, "not valid YAML: %s", strings.TrimPrefix(msg, "yaml: "))
		}
		return nil
	}
	if len(doc.Content) == 0 {
		p.at(1, 1, SeverityError, "the flow is empty; it needs at least name, languages, start and steps")
		return nil
	}
	if a := findAlias(&doc, 0); a != nil {
		p.errorf(a, "YAML aliases and deep nesting are not allowed in a flow; write the value out")
		return nil
	}
	root := doc.Content[0]
	f := &Flow{
		File:        p.file,
		Hash:        hashOf(data),
		Disclosure:  map[string]string{},
		Variables:   map[string]Variable{},
		Intents:     map[string]map[string][]string{},
		Training:    map[string]map[string][]string{},
		Knowledge:   map[string]map[string]*Template{},
		Calendars:   map[string]*Calendar{},
		Steps:       map[string]*Step{},
		RecordShare: 1,
	}
	p.flow = f
	fs := p.fields(root, "flow", "name", "languages", "disclosure", "recording", "variables", "intents", "training", "knowledge", "calendars", "escalation", "speech", "start", "steps")
	if fs == nil {
		return nil
	}
	for _, k := range []string{"name", "languages", "start", "steps"} {
		if _, ok := fs[k]; !ok {
			p.errorf(root, "the flow has no %q; add it at the top level", k)
		}
	}
	if fd, ok := fs["name"]; ok {
		f.Name, _ = p.str(fd.val, "name")
	}
	if fd, ok := fs["languages"]; ok {
		p.parseLanguages(fd.val)
	}
	if fd, ok := fs["variables"]; ok {
		p.parseVariables(fd.val)
	}
	if fd, ok := fs["calendars"]; ok {
		p.parseCalendars(fd.val)
	}
	p.env = exprEnv(f)
	if fd, ok := fs["intents"]; ok {
		p.parseIntents(fd.val)
	}
	if fd, ok := fs["training"]; ok {
		p.parseTraining(fd.val)
		f.Hash = hashOf(data, p.extra...)
	}
	if fd, ok := fs["knowledge"]; ok {
		p.parseKnowledge(fd.val)
	}
	if fd, ok := fs["recording"]; ok {
		p.parseRecording(fd.val)
	}
	p.parseDisclosure(fs)
	if fd, ok := fs["start"]; ok {
		f.Start, _ = p.str(fd.val, "start")
		p.start = Pos{fd.val.Line, fd.val.Column}
	}
	if fd, ok := fs["steps"]; ok {
		p.parseSteps(fd.val)
	}
	f.Escalation = Escalation{After: 2}
	if fd, ok := fs["escalation"]; ok {
		p.parseEscalation(fd.val)
	}
	if fd, ok := fs["speech"]; ok {
		p.parseSpeech(fd.val)
	}
	return f
}

// RecognizerName is what a server may call a recognizer, and so what a
// flow's speech key may name (the server's asr.recognizers use it too).
var RecognizerName = regexp.MustCompile(`^[a-z0-9][a-z0-9_.-]*$`)

// parseSpeech reads speech: NAME, or {engine: NAME, languages: {LANG: NAME}}.
func (p *parser) parseSpeech(n *yaml.Node) {
	sp := &p.flow.Speech
	name := func(v *yaml.Node, what string) (string, bool) {
		s, ok := p.str(v, what)
		if !ok {
			return "", false
		}
		if !RecognizerName.MatchString(s) {
			p.errorf(v, "%s: %q is not a recognizer's name (lower-case letters, digits, '.', '_' and '-'), as the server's asr.recognizers names them, or none", what, s)
			return "", false
		}
		if sp.Names == nil {
			sp.Names = map[string]Pos{}
		}
		if _, seen := sp.Names[s]; !seen {
			sp.Names[s] = Pos{v.Line, v.Column}
		}
		return s, true
	}
	if n.Kind == yaml.ScalarNode {
		sp.Engine, _ = name(n, "speech")
		return
	}
	fs := p.fields(n, "speech", "engine", "languages")
	if fs == nil {
		return
	}
	if fd, ok := fs["engine"]; ok {
		sp.Engine, _ = name(fd.val, "speech engine")
	}
	fd, ok := fs["languages"]
	if !ok {
		return
	}
	lfs := p.fields(fd.val, "speech languages", p.flow.Languages...)
	sp.Languages = map[string]string{}
	for _, lang := range keysInOrder(fd.val, lfs) {
		if s, ok := name(lfs[lang].val, "speech languages "+lang); ok {
			sp.Languages[lang] = s
		}
	}
}

// parseEscalation reads escalation: {after: N, to: step}.
func (p *parser) parseEscalation(n *yaml.Node) {
	efs := p.fields(n, "escalation", "after", "to")
	if efs == nil {
		return
	}
	p.require(n, "escalation", efs, "to")
	if fd, ok := efs["after"]; ok {
		p.flow.Escalation.After = p.integer(fd.val, "escalation after", 1, 10)
	}
	if fd, ok := efs["to"]; ok {
		if to, ok := p.str(fd.val, "escalation to"); ok {
			p.flow.Escalation.To = to
			p.flow.Escalation.Pos = Pos{fd.val.Line, fd.val.Column}
		}
	}
}

// findAlias returns a YAML alias, or a node nested too deep, in n. Flows do
// not use aliases: written-out values keep every position meaningful and
// rule out alias bombs.
func findAlias(n *yaml.Node, depth int) *yaml.Node {
	if n.Kind == yaml.AliasNode || depth > 64 {
		return n
	}
	for _, c := range n.Content {
		if a := findAlias(c, depth+1); a != nil {
			return a
		}
	}
	return nil
}

func (p *parser) parseLanguages(n *yaml.Node) {
	for _, c := range p.strList(n, "languages") {
		if slices.Contains(p.flow.Languages, c) {
			p.errorf(n, "languages: %q is listed twice", c)
			continue
		}
		p.flow.Languages = append(p.flow.Languages, c)
	}
	if n.Kind == yaml.SequenceNode && len(p.flow.Languages) == 0 {
		p.errorf(n, "languages: list at least one language code, such as [en]")
	}
}

func (p *parser) parseVariables(n *yaml.Node) {
	fs := p.fields(n, "variables")
	for _, name := range keysInOrder(n, fs) {
		fd := fs[name]
		if !namePattern.MatchString(name) {
			p.errorf(fd.key, "variable %q: a name is letters, digits and _, not starting with a digit", name)
			continue
		}
		if t, ok := builtins[name]; ok && (name != "tier" || fd.val.Tag != "!!str") {
			p.errorf(fd.key, "variable %q is built in (%s); pick another name", name, typeName(t))
			continue
		}
		v := fd.val
		var val any
		switch {
		case v.Kind == yaml.ScalarNode && v.Tag == "!!str":
			val = v.Value
		case v.Kind == yaml.ScalarNode && v.Tag == "!!int":
			n, err := strconv.Atoi(v.Value)
			if err != nil {
				p.errorf(v, "variable %q: %q is not a whole number that fits", name, v.Value)
				continue
			}
			val = n
		case v.Kind == yaml.ScalarNode && v.Tag == "!!float":
			x, err := strconv.ParseFloat(v.Value, 64)
			if err != nil {
				p.errorf(v, "variable %q: %q is not a number", name, v.Value)
				continue
			}
			val = x
		case v.Kind == yaml.ScalarNode && v.Tag == "!!bool":
			val = v.Value == "true"
		default:
			p.errorf(v, "variable %q: the initial value must be a string, a number or true/false, got %s", name, kindWord(v))
			continue
		}
		p.flow.Variables[name] = Variable{Name: name, Initial: val}
	}
}

func (p *parser) parseIntents(n *yaml.Node) {
	fs := p.fields(n, "intents")
	for _, name := range keysInOrder(n, fs) {
		fd := fs[name]
		what := fmt.Sprintf("intent %q", name)
		if !namePattern.MatchString(name) {
			p.errorf(fd.key, "%s: a name is letters, digits and _, not starting with a digit", what)
			continue
		}
		ex := map[string][]string{}
		lfs := p.fields(fd.val, what, p.flow.Languages...)
		for lang, lf := range lfs {
			ex[lang] = p.strList(lf.val, what+" in "+lang)
		}
		if lfs != nil {
			p.missingLanguages(fd.key, what+" has no examples", lfs)
		}
		p.flow.Intents[name] = ex
	}
}

func (p *parser) parseKnowledge(n *yaml.Node) {
	fs := p.fields(n, "knowledge")
	for _, name := range keysInOrder(n, fs) {
		fd := fs[name]
		what := fmt.Sprintf("knowledge entry %q", name)
		lfs := p.fields(fd.val, what, p.flow.Languages...)
		if lfs == nil {
			continue
		}
		p.missingLanguages(fd.key, what+" has no text", lfs)
		entry := map[string]*Template{}
		for lang, lf := range lfs {
			if s, ok := p.str(lf.val, what+" in "+lang); ok {
				entry[lang] = p.template(lf.val, s, what)
			}
		}
		p.flow.Knowledge[name] = entry
	}
}

// missingLanguages reports each declared language absent from fs, at n.
func (p *parser) missingLanguages(n *yaml.Node, what string, fs map[string]field) {
	for _, lang := range p.flow.Languages {
		if _, ok := fs[lang]; !ok {
			p.errorf(n, "%s in %q, a declared language; add %s: ...", what, lang, lang)
		}
	}
}

// builtinUnrecorded is the built-in disclosure on a server that does not
// record calls (Runtime.NotRecorded).
var builtinUnrecorded = map[string]string{
	"en":  "You are speaking with an automated assistant. This call is not recorded.",
	"id":  "Anda berbicara dengan asisten otomatis. Panggilan ini tidak direkam.",
	"ms":  "Anda bercakap dengan pembantu automatik. Panggilan ini tidak dirakam.",
	"zh":  "您正在与自动助理通话。本次通话不会录音。",
	"yue": "你而家同自動助理通話。今次通話唔會錄音。",
}

// builtinDisclosure is said when a flow does not write its own.
var builtinDisclosure = map[string]string{
	"en":  "You are speaking with an automated assistant. This call may be recorded.",
	"id":  "Anda berbicara dengan asisten otomatis. Panggilan ini dapat direkam.",
	"ms":  "Anda bercakap dengan pembantu automatik. Panggilan ini mungkin dirakam.",
	"zh":  "您正在与自动助理通话。本次通话可能会被录音。",
	"yue": "你而家同自動助理通話。今次通話可能會被錄音。",
}

// parseRecording reads the flow's recording policy: all, none, or a
// sample such as 20%; or {record: that, retain: 90d}, how long its
// recordings are kept.
func (p *parser) parseRecording(n *yaml.Node) {
	if n.Kind == yaml.MappingNode {
		fs := p.fields(n, "recording", "record", "retain")
		if fd, ok := fs["record"]; ok {
			p.recordShare(fd.val)
		}
		if fd, ok := fs["retain"]; ok {
			d, err := parseRetain(fd.val.Value)
			if fd.val.Kind != yaml.ScalarNode || err != nil {
				p.errorf(fd.val, "recording retain: expected a duration such as 90d or 720h, got %s", kindWord(fd.val))
			}
			p.flow.RecordRetain = d
		}
		return
	}
	p.recordShare(n)
}

// recordShare reads all, none or a share such as 20%.
func (p *parser) recordShare(n *yaml.Node) {
	v := strings.TrimSpace(n.Value)
	switch {
	case n.Kind != yaml.ScalarNode:
	case v == "all":
		p.flow.RecordShare = 1
		return
	case v == "none":
		p.flow.RecordShare = 0
		return
	case strings.HasSuffix(v, "%"):
		pc, err := strconv.ParseFloat(strings.TrimSuffix(v, "%"), 64)
		if err == nil && pc > 0 && pc < 100 {
			p.flow.RecordShare = pc / 100
			return
		}
	}
	p.errorf(n, "recording: expected all, none, or the share of calls to record such as 20%%, got %s", kindWord(n))
}

// parseRetain reads a positive duration: whole days such as 90d, or a Go
// duration such as 720h.
func parseRetain(s string) (time.Duration, error) {
	if days, ok := strings.CutSuffix(s, "d"); ok {
		if n, err := strconv.Atoi(days); err == nil && n > 0 {
			return time.Duration(n) * 24 * time.Hour, nil
		}
		return 0, fmt.Errorf("%q is not a number of days", s)
	}
	d, err := time.ParseDuration(s)
	if err == nil && d <= 0 {
		err = fmt.Errorf("%q is not positive", s)
	}
	return d, err
}

func (p *parser) parseDisclosure(fs map[string]field) {
	fd, ok := fs["disclosure"]
	if ok && fd.val.Kind == yaml.ScalarNode && fd.val.Tag == "!!bool" {
		if fd.val.Value == "false" {
			p.errorf(fd.val, "disclosure cannot be turned off: every call begins by saying it is automated; remove `disclosure: false` or write the text per language")
			return
		}
		ok = false // true: the built-in text
	}
	if !ok {
		p.flow.BuiltinDisclosure = true
		for _, lang := range p.flow.Languages {
			text, has := builtinDisclosure[lang]
			if !has {
				p.errorf(fs["languages"].val, "there is no built-in disclosure in %q; add disclosure: {%s: \"...\"}", lang, lang)
				continue
			}
			p.flow.Disclosure[lang] = text
		}
		return
	}
	lfs := p.fields(fd.val, "disclosure", p.flow.Languages...)
	if lfs == nil {
		return
	}
	p.missingLanguages(fd.key, "disclosure has no text", lfs)
	for lang, lf := range lfs {
		if s, ok := p.str(lf.val, "disclosure in "+lang); ok {
			p.flow.Disclosure[lang] = s
		}
	}
}

// prompt reads a PROMPT: text per language or {wav: {lang: path}}.
func (p *parser) prompt(n *yaml.Node, what string) Prompt {
	var pr Prompt
	if n.Kind == yaml.MappingNode && len(n.Content) == 2 && n.Content[0].Value == "wav" {
		lfs := p.fields(n.Content[1], what+" wav", p.flow.Languages...)
		if lfs == nil {
			return pr
		}
		p.missingLanguages(n.Content[0], what+" has no recording", lfs)
		pr.WAV = map[string]string{}
		for lang, lf := range lfs {
			if s, ok := p.str(lf.val, what+" wav in "+lang); ok {
				pr.WAV[lang] = s
			}
		}
		return pr
	}
	if n.Kind == yaml.MappingNode && len(n.Content) > 2 && n.Content[0].Value == "wav" {
		p.errorf(n.Content[0], "%s: use either wav: or text per language, not both", what)
		return pr
	}
	lfs := p.fields(n, what, p.flow.Languages...)
	if lfs == nil {
		return pr
	}
	p.missingLanguages(n, what+" has no text", lfs)
	pr.Text = map[string]*Template{}
	for lang, lf := range lfs {
		if s, ok := p.str(lf.val, what+" in "+lang); ok {
			pr.Text[lang] = p.template(lf.val, s, what)
		}
	}
	return pr
}
