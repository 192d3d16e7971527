// Package ivr owns the flow language: parsing and checking flow files with
// line numbers, running them on a call, prompts per language, the TTS
// interface and the simulator. It may import asr and media.
//
// A flow file is YAML. Its top-level keys are:
//
//	name:       the flow's name (required)
//	languages:  language codes, the first being the default (required)
//	disclosure: the text every call begins with, per language; optional,
//	            defaulting to built-in text in each language. It cannot be
//	            turned off: `disclosure: false` is refused.
//	variables:  name: initial value (string, number or true/false); the
//	            value's type is the variable's type
//	intents:    intent name -> example phrases per language
//	training:   TSV files of more examples (text, language, intent) for
//	            the intent classifier only, relative to this file
//	knowledge:  entry name -> answer template per language
//	calendars:  name -> {timezone, hours: {mon-fri: "08:00-20:00", ...}, holidays: [YYYY-MM-DD]}
//	escalation: {after: 2, to: step}: where callers go after that many
//	            failures in a row to understand them
//	speech:     the recognizer callers are heard with, by a name the server
//	            configures (asr.recognizers, or an engine's own name, or
//	            none): one for every language, or {engine: NAME, languages:
//	            {LANG: NAME}}; optional, the server's choice by default
//	start:      the first step after the disclosure (required)
//	steps:      step name -> step (required)
//
// A step holds exactly one action, plus next (the step after it) where the
// action does not decide on its own:
//
//	say: PROMPT, interruptible: BOOL, next
//	listen: {prompt, intents: {intent: step}, digits: {"0": step}, retries, reprompt, timeout, min_confidence, slots: {digits|amount|date: variable}, no_input: step, no_match: step}
//	gather: {prompt, max_digits, terminator, first_digit_timeout, inter_digit_timeout, into: variable, no_input: step}, next
//	branch: [{when: EXPR, goto: step}, ..., {else: step}]
//	set: {variable: EXPR}, next
//	lookup: {url: TEMPLATE (or /path on this server), method: GET|POST, timeout, map: {variable: json.field}}, next, on_failure
//	answer: knowledge entry, next
//	language: code, next
//	queue: {name, skills: [..], priority: EXPR, context: [variable]}
//	transfer: sip:URI
//	voicemail: {prompt, max_length}
//	callback: {prompt}
//	survey: {prompt, into: variable}, next
//	hangup: {}
//	goto: path of a sub-flow file, relative to this one
//
// A PROMPT is text per language ({en: "Hello", id: "Halo"}) or recordings
// per language ({wav: {en: prompts/hello-en.wav}}); every declared language
// needs one. Text may hold {{ EXPR }} templates.
//
// Expressions use the expr language (github.com/expr-lang/expr): sandboxed,
// typed, and compiled when the flow loads against the declared variables and
// caller, language, intent, tier (strings), confidence (float), now (time)
// and business_hours("calendar") (bool).
//
// Runtime.Run runs a flow on a Channel (a phone call, or text in the
// simulator and flow tests); see run.go.
//
// Parse and Load check a flow and report every problem with its file, line
// and column: YAML syntax, unknown keys, wrong types, transitions to unknown
// steps, unreachable steps (a warning), missing prompts, unknown intents and
// variables, expression type errors, loops that never wait for the caller
// and never end, durations, digits, calendars and URLs.
package ivr

import (
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"time"

	"github.com/sambung/sambung/asr/intent"

	"github.com/expr-lang/expr/vm"
)

// A Flow is a checked flow file: the script of a phone line.
type Flow struct {
	Name       string
	Languages  []string          // the first is the default
	Disclosure map[string]string // language -> text said before the first step
	// BuiltinDisclosure: the flow did not write its own, so the runtime
	// says whether the call is recorded as the server does.
	BuiltinDisclosure bool
	// RecordShare is the flow's recording policy: the share of its calls
	// that are recorded, 1 (all, the default), 0 (none) or a sample in
	// between, each call drawn when it is answered.
	RecordShare float64
	// RecordRetain is how long the flow's recordings are kept; zero: as
	// long as the server keeps recordings (recordings.retention).
	RecordRetain time.Duration
	Variables    map[string]Variable
	Intents      map[string]map[string][]string // intent -> language -> examples
	// Training holds more examples of the intents, intent -> language ->
	// examples, from the rows of the files the flow names under training.
	// The classifier learns from them as from Intents (ClassifierExamples),
	// but they are not phrases the recogniser listens for (Phrases): a
	// grammar of thousands of phrases hurts a small recogniser.
	Training map[string]map[string][]string
	// TrainingFiles are the training files, as written in the flow.
	TrainingFiles []string
	Knowledge     map[string]map[string]*Template
	Calendars     map[string]*Calendar
	Escalation    Escalation
	// Speech is the flow's choice of recognizers; empty, the server's.
	Speech Speech
	Start  string
	Steps  map[string]*Step

	File string // the name given to Parse or the path given to Load
	// Hash is the flow's version: the hex SHA-256 of the file's bytes,
	// and of its training files' when it names any.
	Hash string

	// Subflows are the flows goto steps go to, by the path as written;
	// filled by Load, not by Parse.
	Subflows map[string]*Flow

	understandOnce sync.Once
	understand     *intent.Classifier
}

// Escalation is where callers go when the flow keeps failing to
// understand them: after After consecutive failures (no input, no match,
// low confidence, the none intent, asking for a person), to step To.
type Escalation struct {
	After int    // default 2
	To    string // "" : no automatic escalation; each listen's own outcomes apply
	Pos   Pos
}

// Speech is a flow's choice of speech recognizers, by the names the
// server configures them under. The server checks the names when it loads
// the flow; the flow itself does not know what a server has.
type Speech struct {
	Engine    string            // for every language not in Languages; "" : the server's choice
	Languages map[string]string // language -> recognizer
	// Names are the names written, each with where it was first written.
	Names map[string]Pos
}

// For returns the recognizer the flow chose for lang, or "" for the
// server's choice.
func (s Speech) For(lang string) string {
	if n, ok := s.Languages[lang]; ok {
		return n
	}
	return s.Engine
}

// A Variable is a declared flow variable; its type is that of its initial value.
type Variable struct {
	Name    string
	Initial any // string, int, float64 or bool
}

// Pos is a position in a flow file, line and column from 1.
type Pos struct {
	Line, Column int
}

// Kind names a step's action.
type Kind string

// The step kinds.
const (
	KindSay       Kind = "say"
	KindListen    Kind = "listen"
	KindGather    Kind = "gather"
	KindBranch    Kind = "branch"
	KindSet       Kind = "set"
	KindLookup    Kind = "lookup"
	KindAnswer    Kind = "answer"
	KindLanguage  Kind = "language"
	KindQueue     Kind = "queue"
	KindTransfer  Kind = "transfer"
	KindVoicemail Kind = "voicemail"
	KindCallback  Kind = "callback"
	KindSurvey    Kind = "survey"
	KindHangup    Kind = "hangup"
	KindGoto      Kind = "goto"
	KindPCI       Kind = "pci"
)

var kinds = []Kind{KindSay, KindListen, KindGather, KindBranch, KindSet, KindLookup, KindAnswer,
	KindLanguage, KindQueue, KindTransfer, KindVoicemail, KindCallback, KindSurvey, KindHangup, KindGoto, KindPCI}

// ends reports whether a step of kind k ends the flow (the call leaves it).
func (k Kind) ends() bool {
	switch k {
	case KindQueue, KindTransfer, KindVoicemail, KindCallback, KindHangup, KindGoto:
		return true
	}
	return false
}

// A Step is one named step of a flow. Exactly one of the action fields,
// the one named by Kind, is set.
type Step struct {
	Name string
	Kind Kind
	Pos  Pos    // of the step's name
	Next string // the following step, for actions that do not choose one

	Say       *Say
	Listen    *Listen
	Gather    *Gather
	Branch    *Branch
	Set       *Set
	Lookup    *Lookup
	Answer    *Answer
	Language  *Language
	PCI       *PCI
	Queue     *Queue
	Transfer  *Transfer
	Voicemail *Voicemail
	Callback  *Callback
	Survey    *Survey
	Hangup    *Hangup
	Goto      *Goto

	transitions []Transition
}

// A Transition is one way out of a step: To is the step, Via says when
// ("next", "intent order_status", "no_input", ...).
type Transition struct {
	Via string
	To  string
	Pos Pos // of the target's name in the file
}

// Transitions lists every way out of s, in file order.
func (s *Step) Transitions() []Transition { return s.transitions }

// A Prompt is what the caller hears: text for TTS or a WAV file, per language.
type Prompt struct {
	Text map[string]*Template // language -> text
	WAV  map[string]string    // language -> file path, relative to the flow
}

// A Template is text with {{ EXPR }} parts filled in when it is spoken.
type Template struct {
	Source string
	Parts  []TemplatePart
}

// A TemplatePart is literal text or an expression, one of the two.
type TemplatePart struct {
	Text string
	Expr *Expr
}

// An Expr is an expression compiled when the flow loads.
type Expr struct {
	Source  string
	Program *vm.Program
}

// Say speaks a prompt.
type Say struct {
	Prompt        Prompt
	Interruptible bool // the caller may barge in with speech or a digit
}

// Listen asks and waits for speech or digits, then goes by outcome.
type Listen struct {
	Prompt   Prompt
	Reprompt *Prompt // said on retries; nil repeats Prompt
	Intents  map[string]string
	Digits   map[string]string
	Retries  int
	Timeout  time.Duration // zero: the runtime's default
	// MinConfidence is the confidence under which an understood intent
	// counts as a failure (low_confidence); zero: the runtime's default.
	MinConfidence float64
	// Slots name the variables that take values said by the caller:
	// "digits", "amount" and "date" -> variable.
	Slots   map[string]string
	NoInput string
	NoMatch string
}

// Gather collects DTMF digits into a variable.
type Gather struct {
	Prompt            Prompt
	MaxDigits         int
	Terminator        string // "" for none
	FirstDigitTimeout time.Duration
	InterDigitTimeout time.Duration
	Into              string
	NoInput           string // "" goes to Next with no digits
}

// A Branch goes to the first case whose condition holds, else to Else.
type Branch struct {
	Cases []BranchCase
	Else  string
}

// BranchCase is one condition of a Branch.
type BranchCase struct {
	When *Expr // boolean
	Goto string
}

// Set assigns expressions to variables, in file order.
type Set struct {
	Assign []Assignment
}

// An Assignment sets one variable.
type Assignment struct {
	Variable string
	Value    *Expr
}

// Lookup fetches JSON from a CRM and maps its fields into variables.
type Lookup struct {
	URL       *Template
	Method    string // GET or POST
	Timeout   time.Duration
	Map       map[string]string // variable -> JSON field path (dotted)
	OnFailure string
}

// Answer speaks an entry of the knowledge base in the call's language.
type Answer struct {
	Entry string
}

// Language switches the call's language.
// PCI pauses (or resumes) what the call keeps while a caller gives card
// details: the recording goes silent, and keys reach nothing and are kept
// nowhere, not even by the flow (a Pauser does it).
type PCI struct {
	Pause bool
}

type Language struct {
	Code string
}

// Queue hands the call to agents.
type Queue struct {
	Name     string
	Skills   []string
	Priority *Expr // int; nil is 0
	Context  []string
}

// Transfer sends the call to a SIP URI.
type Transfer struct {
	URI string
}

// Voicemail records a message.
type Voicemail struct {
	Prompt    *Prompt
	MaxLength time.Duration
}

// Callback offers the caller a call back.
type Callback struct {
	Prompt *Prompt
}

// Survey asks for a satisfaction score from 1 to 5 by DTMF.
type Survey struct {
	Prompt Prompt
	Into   string
}

// Hangup ends the call.
type Hangup struct{}

// Goto continues in a sub-flow file.
type Goto struct {
	Path string // as written, relative to the flow's file
}

// Load reads, parses and checks the flow file at path, and the sub-flows
// its goto steps name, recursively. When any diagnostic is an error it
// returns nil and the Diagnostics as the error. The sub-flows are read now,
// with the flow: a call keeps the version of every file it started with.
func Load(path string) (*Flow, error) {
	return load(path, map[string]*Flow{})
}

func load(path string, loaded map[string]*Flow) (*Flow, error) {
	abs, err := filepath.Abs(path)
	if err != nil {
		return nil, fmt.Errorf("load flow: %w", err)
	}
	if f, ok := loaded[abs]; ok {
		return f, nil
	}
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("load flow: %w", err)
	}
	f, diags := Parse(path, data)
	if err := diags.Err(); err != nil {
		return nil, err
	}
	loaded[abs] = f // before the sub-flows, which may come back here
	f.Subflows = map[string]*Flow{}
	for _, name := range mapKeys(f.Steps) {
		g := f.Steps[name].Goto
		if g == nil {
			continue
		}
		sub := g.Path
		if !filepath.IsAbs(sub) {
			sub = filepath.Join(filepath.Dir(path), sub)
		}
		sf, err := load(sub, loaded)
		if err != nil {
			return nil, fmt.Errorf("%s: step %q goes to sub-flow %s: %w", path, name, g.Path, err)
		}
		f.Subflows[g.Path] = sf
	}
	return f, nil
}

// hashOf returns the hex SHA-256 of data, or, with extra files, of data
// and each file after its length.
func hashOf(data []byte, extra ...[]byte) string {
	h := sha256.New()
	h.Write(data)
	for _, b := range extra {
		h.Write(binary.BigEndian.AppendUint64(nil, uint64(len(b))))
		h.Write(b)
	}
	return hex.EncodeToString(h.Sum(nil))
}
