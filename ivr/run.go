package ivr

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/sambung/sambung/asr"
	"github.com/sambung/sambung/asr/intent"
	"github.com/sambung/sambung/media"
)

// An Input is one thing the caller did: a DTMF key, an utterance the
// recognizer finished, or the start of speech or of a key press (which
// only stop an interruptible prompt; the key itself follows as a Digit).
type Input struct {
	Digit       rune        // '0'-'9', '*', '#'; 0 if none
	Speech      *asr.Result // a final result; nil if none
	SpeechStart bool
	KeyDown     bool
}

// A Channel is a call as the runtime sees it. The calls package implements
// it on a phone call; the simulator and flow tests implement it with text.
type Channel interface {
	// Caller is the caller's number.
	Caller() string
	// Play starts saying sp and returns at once; the channel closes the
	// returned channel when it has been said or stopped. A new Play or
	// Stop replaces what is playing.
	Play(sp Spoken) <-chan struct{}
	// Stop stops what is playing.
	Stop()
	// Inputs delivers what the caller does.
	Inputs() <-chan Input
	// Event appends an entry to the call's timeline.
	Event(kind string, data map[string]any)
}

// A Hearer is a Channel that recognises speech. The runtime tells it what
// to listen for when the flow starts and whenever that changes;
// utterances then arrive on Inputs.
type Hearer interface {
	Hear(Hearing)
}

// Hearing is what a Hearer listens for.
type Hearing struct {
	Language string // the call's language
	// Phrases are what the flow expects to hear, for engines that use a
	// grammar or hints.
	Phrases []string
	// Engine is the recognizer the flow chose for the language (Speech),
	// by the server's name for it; "" leaves the choice to the server.
	Engine string
}

// A Pauser is a Channel that can pause what the call keeps while a caller
// gives card details (a pci step): the recording goes silent, and keys
// reach nothing, the flow included, until it resumes.
type Pauser interface {
	PausePCI(on bool)
}

// A Waiter is a Channel that decides itself when a wait for the caller
// times out: the simulator and flow tests, where time is the script's.
type Waiter interface {
	// Wait is called when the flow starts waiting up to d for the caller;
	// the returned channel fires when the wait times out.
	Wait(d time.Duration) <-chan time.Time
}

// Spoken is one prompt as the caller hears it.
type Spoken struct {
	Lang string
	Text string // the text, templates filled in; for a WAV prompt, its path
	// Audio is what to play, in order; nil when the runtime has no Voice
	// (the simulator shows Text instead).
	Audio []*media.Prompt
	// Interruptible prompts stop when the caller presses a key or speaks.
	Interruptible bool
}

// A Voice turns prompts into audio: text through a TTS or pre-rendered
// recordings, WAV prompts from their files.
type Voice interface {
	// Speak returns the audio of text in lang. pieces is the same text cut
	// into its literal parts and the values its templates filled in, for
	// voices that can only say pre-rendered phrases and digits.
	Speak(ctx context.Context, lang, text string, pieces []Piece) ([]*media.Prompt, error)
	// File returns the audio of a WAV prompt, its path resolved against
	// the flow's directory.
	File(path string) (*media.Prompt, error)
}

// A Piece is part of a spoken text: literal text from the flow, or a value
// a template filled in.
type Piece struct {
	Text  string
	Value bool
}

// A Runtime runs flows on calls. One Runtime serves every call; it is safe
// for concurrent use.
type Runtime struct {
	// Voice renders prompts; nil passes text only (simulator, flow tests).
	Voice Voice
	// HTTP makes lookup requests; nil uses a client with no redirects to
	// other hosts and the step's timeout.
	HTTP *http.Client
	// BaseURL is this server's own address ("http://127.0.0.1:8080"), for
	// lookup URLs that start with "/".
	BaseURL string
	// Now gives the time for business hours and now; nil is time.Now.
	Now func() time.Time
	// NotRecorded: this server does not record calls, so a flow's built-in
	// disclosure says so instead of "this call may be recorded".
	NotRecorded bool
	// Defaults for listen steps that leave them out.
	ListenTimeout time.Duration // 8s
	MinConfidence float64       // 0.5
	// Defaults for gather steps that leave them out.
	FirstDigitTimeout time.Duration // 5s
	InterDigitTimeout time.Duration // 3s
	Log               *slog.Logger
}

// Outcome is how a flow ended and what it hands on.
type Outcome struct {
	// Kind is the step kind that ended the flow (queue, transfer,
	// voicemail, callback or hangup), or "" when the caller left or the
	// flow failed.
	Kind     Kind
	Step     string
	Queue    *QueueRequest
	Transfer string // SIP URI
	Context  *Context
	Err      error // the flow could not go on (a bug or a missing prompt)
}

// QueueRequest is a queue step, evaluated for this call.
type QueueRequest struct {
	Name     string
	Skills   []string
	Priority int
	// Variables are the step's `context` variables and their values at
	// the queue step: what the flow's author chose to show the agent.
	Variables map[string]any
}

// Context is what the IVR learnt about the call, handed to agents and
// reporting.
type Context struct {
	Flow, Version string
	Caller        string
	Language      string
	Intent        string
	Confidence    float64
	Variables     map[string]any
	// Failures are every time the flow did not understand the caller, in
	// order; they go to the agent and to reporting.
	Failures []Failure
	Path     []string // the steps taken
	Heard    []Heard  // what the caller said or pressed in listen steps
	// Mood is the caller's sentiment over the call, from what they said.
	Mood intent.Mood
	// Switches are the changes of the call's language, in order.
	Switches []Switch
	// Disclosure is what the caller was told at the start.
	Disclosure Disclosure
}

// A Switch is one change of the call's language.
type Switch struct {
	From, To string
	Reason   string // "step", "asked" (a request such as "English please"), "detected" (an utterance in To)
	At       time.Time
}

// Disclosure is the notice every call begins with.
type Disclosure struct {
	Text, Language string
	At             time.Time
}

// A Failure is one time the flow failed to understand the caller.
type Failure struct {
	Step   string
	Reason string // no_input, no_match, low_confidence, none, asked_for_person
	At     time.Time
}

// Heard is one answer in a listen step.
type Heard struct {
	Step       string
	Text       string // what was said, or "#" and the key
	Intent     string
	Confidence float64
	Language   string
	// Sentiment of what was said, -1..1, and whether it sounds angry.
	Sentiment float64
	Angry     bool
	Raised    bool // said louder and higher than the caller's own baseline
	At        time.Time
}

// Failure reasons.
const (
	ReasonNoInput        = "no_input"
	ReasonNoMatch        = "no_match"
	ReasonLowConfidence  = "low_confidence"
	ReasonNone           = "none"
	ReasonAskedForPerson = "asked_for_person"
)

// maxSteps bounds the steps of one call, in case a loop that waits for the
// caller meets a caller who keeps answering forever (or a robot).
const maxSteps = 10000

// errCallerGone ends a run when the call's context ends.
var errCallerGone = errors.New("the caller left")

// Run runs f on the call ch until the flow ends or ctx is done. It begins
// with the disclosure. f stays the version the call started with: a reload
// makes a new *Flow for new calls.
func (rt *Runtime) Run(ctx context.Context, f *Flow, ch Channel) Outcome {
	r := &run{rt: rt, ctx: ctx, ch: ch, root: f}
	r.cx = &Context{Flow: f.Name, Version: f.Hash, Caller: ch.Caller(), Language: f.Languages[0], Variables: map[string]any{}}
	r.enter(f)
	out := r.run()
	out.Context = r.cx
	r.cx.Variables = r.vars
	data := map[string]any{"outcome": string(out.Kind), "step": out.Step, "failures": len(r.cx.Failures)}
	if out.Err != nil && !errors.Is(out.Err, errCallerGone) {
		data["error"] = out.Err.Error()
	}
	if out.Queue != nil {
		data["queue"] = out.Queue.Name
		data["skills"] = out.Queue.Skills
		data["priority"] = out.Queue.Priority
	}
	if out.Transfer != "" {
		data["transfer"] = out.Transfer
	}
	ch.Event("ivr.ended", data)
	return out
}

// run is one call's walk through a flow.
type run struct {
	rt   *Runtime
	ctx  context.Context
	ch   Channel
	root *Flow
	flow *Flow // the current flow: root, or a sub-flow after goto
	cx   *Context
	vars map[string]any

	pending     []Input // keys and utterances not yet used by a step
	consecutive int     // failures in a row
}

func (rt *Runtime) now() time.Time {
	if rt.Now != nil {
		return rt.Now()
	}
	return time.Now()
}

func (rt *Runtime) log() *slog.Logger {
	if rt.Log != nil {
		return rt.Log
	}
	return slog.Default()
}

// enter makes f the current flow. Variables it declares start at their
// initial values, or keep the value they had when the calling flow has a
// variable of the same name and type.
func (r *run) enter(f *Flow) {
	vars := map[string]any{}
	for name, v := range f.Variables {
		vars[name] = v.Initial
		if old, ok := r.vars[name]; ok && fmt.Sprintf("%T", old) == fmt.Sprintf("%T", v.Initial) {
			vars[name] = old
		}
	}
	r.flow, r.vars = f, vars
	if !slices.Contains(f.Languages, r.cx.Language) {
		r.cx.Language = f.Languages[0]
	}
	r.hear()
}

// hear tells a Channel that recognises speech what to listen for now.
// A flow with no listen step never asks for speech, so it is not heard.
func (r *run) hear() {
	h, ok := r.ch.(Hearer)
	if !ok || !r.flow.listens() {
		return
	}
	lang := r.cx.Language
	engine := r.flow.Speech.For(lang)
	if engine == "" {
		engine = r.root.Speech.For(lang) // a sub-flow hears as its caller chose
	}
	h.Hear(Hearing{Language: lang, Phrases: r.flow.Phrases(lang), Engine: engine})
}

// listens reports whether f has a listen step.
func (f *Flow) listens() bool {
	for _, s := range f.Steps {
		if s.Kind == KindListen {
			return true
		}
	}
	return false
}

// Phrases lists what callers of f may say in lang: its intents' examples,
// the built-in ways to ask for a person, and the names of its languages.
func (f *Flow) Phrases(lang string) []string {
	var out []string
	for _, name := range mapKeys(f.Intents) {
		out = append(out, f.Intents[name][lang]...)
	}
	out = append(out, intent.HumanPhrases(lang)...)
	for _, code := range f.Languages {
		if code != lang {
			out = append(out, languageTriggers[code]...)
		}
	}
	return out
}

func (r *run) run() Outcome {
	f := r.flow
	text := f.Disclosure[r.cx.Language]
	if f.BuiltinDisclosure && (r.rt.NotRecorded || f.RecordShare == 0) {
		text = builtinUnrecorded[r.cx.Language]
	}
	r.cx.Disclosure = Disclosure{Text: text, Language: r.cx.Language, At: r.rt.now().UTC()}
	r.ch.Event("ivr.disclosure", map[string]any{"text": text, "language": r.cx.Language, "flow": f.Name,
		"version": f.Hash, "at": r.cx.Disclosure.At.Format(time.RFC3339Nano)})
	if err := r.say(Spoken{Lang: r.cx.Language, Text: text}, []Piece{{Text: text}}); err != nil {
		return Outcome{Err: err}
	}
	step := f.Start
	for range maxSteps {
		if r.ctx.Err() != nil {
			return Outcome{Step: step, Err: errCallerGone}
		}
		s := r.flow.Steps[step]
		if s == nil {
			return Outcome{Step: step, Err: fmt.Errorf("flow %s: no step %q", r.flow.Name, step)}
		}
		r.cx.Path = append(r.cx.Path, step)
		r.ch.Event("ivr.step", map[string]any{"step": step, "kind": string(s.Kind), "flow": r.flow.Name})
		next, out, err := r.step(s)
		if err != nil {
			return Outcome{Step: step, Err: err}
		}
		if out != nil {
			out.Step = step
			return *out
		}
		step = next
	}
	return Outcome{Step: step, Err: fmt.Errorf("flow %s: more than %d steps in one call", r.flow.Name, maxSteps)}
}

// step runs s and returns the next step, or the outcome when s ends the flow.
func (r *run) step(s *Step) (string, *Outcome, error) {
	switch s.Kind {
	case KindSay:
		return s.Next, nil, r.prompt(s.Say.Prompt, s.Say.Interruptible)
	case KindListen:
		next, err := r.listen(s)
		return next, nil, err
	case KindGather:
		next, err := r.gather(s)
		return next, nil, err
	case KindBranch:
		for _, c := range s.Branch.Cases {
			ok, err := r.evalBool(c.When)
			if err != nil {
				return "", nil, err
			}
			if ok {
				return c.Goto, nil, nil
			}
		}
		return s.Branch.Else, nil, nil
	case KindSet:
		for _, a := range s.Set.Assign {
			v, err := r.eval(a.Value)
			if err != nil {
				return "", nil, err
			}
			r.vars[a.Variable] = v
		}
		return s.Next, nil, nil
	case KindLookup:
		if err := r.lookup(s.Lookup); err != nil {
			if errors.Is(err, errCallerGone) {
				return "", nil, err
			}
			r.rt.log().Warn("ivr: lookup failed", "step", s.Name, "err", err)
			return s.Lookup.OnFailure, nil, nil
		}
		return s.Next, nil, nil
	case KindAnswer:
		entry := r.flow.Knowledge[s.Answer.Entry]
		text, pieces, err := r.render(entry[r.cx.Language])
		if err != nil {
			return "", nil, err
		}
		r.ch.Event("ivr.answer", map[string]any{"entry": s.Answer.Entry, "language": r.cx.Language, "text": text})
		return s.Next, nil, r.say(Spoken{Lang: r.cx.Language, Text: text, Interruptible: true}, pieces)
	case KindLanguage:
		r.switchLanguage(s.Language.Code, "step")
		return s.Next, nil, nil
	case KindPCI:
		if p, ok := r.ch.(Pauser); ok {
			p.PausePCI(s.PCI.Pause)
		}
		return s.Next, nil, nil
	case KindSurvey:
		return s.Next, nil, r.survey(s)
	case KindQueue:
		q := &QueueRequest{Name: s.Queue.Name}
		for _, sk := range s.Queue.Skills {
			if v := r.skill(sk); v != "" {
				q.Skills = append(q.Skills, v)
			}
		}
		if len(s.Queue.Context) > 0 {
			q.Variables = map[string]any{}
			for _, name := range s.Queue.Context {
				switch name {
				case "intent":
					q.Variables[name] = r.cx.Intent
				case "confidence":
					q.Variables[name] = r.cx.Confidence
				case "language":
					q.Variables[name] = r.cx.Language
				default:
					if v, ok := r.vars[name]; ok {
						q.Variables[name] = v
					}
				}
			}
		}
		if s.Queue.Priority != nil {
			v, err := r.eval(s.Queue.Priority)
			if err != nil {
				return "", nil, err
			}
			q.Priority, _ = v.(int)
		}
		return "", &Outcome{Kind: KindQueue, Queue: q}, nil
	case KindTransfer:
		return "", &Outcome{Kind: KindTransfer, Transfer: s.Transfer.URI}, nil
	case KindVoicemail:
		if s.Voicemail.Prompt != nil {
			if err := r.prompt(*s.Voicemail.Prompt, false); err != nil {
				return "", nil, err
			}
		}
		return "", &Outcome{Kind: KindVoicemail}, nil
	case KindCallback:
		if s.Callback.Prompt != nil {
			if err := r.prompt(*s.Callback.Prompt, false); err != nil {
				return "", nil, err
			}
		}
		return "", &Outcome{Kind: KindCallback}, nil
	case KindHangup:
		return "", &Outcome{Kind: KindHangup}, nil
	case KindGoto:
		sub := r.flow.Subflows[s.Goto.Path]
		if sub == nil {
			return "", nil, fmt.Errorf("flow %s: sub-flow %s was not loaded (use ivr.Load)", r.flow.Name, s.Goto.Path)
		}
		r.ch.Event("ivr.subflow", map[string]any{"from": r.flow.Name, "to": sub.Name, "version": sub.Hash})
		r.enter(sub)
		return sub.Start, nil, nil
	}
	return "", nil, fmt.Errorf("flow %s: step %q has no action", r.flow.Name, s.Name)
}

// skill resolves a queue skill: "language" and "intent" give
// "language:CODE" and "intent:NAME", a variable gives "NAME:VALUE", and
// anything else is taken as written.
//
// The intent skill is the intent understood, and no skill when there is
// none to route by: nothing understood, "none", or only a wish for a
// person (the built-in "human").
func (r *run) skill(name string) string {
	switch name {
	case "language":
		return "language:" + r.cx.Language
	case "intent":
		switch r.cx.Intent {
		case "", "none", intent.Human:
			return ""
		}
		return "intent:" + r.cx.Intent
	}
	if v, ok := r.vars[name]; ok {
		return fmt.Sprintf("%s:%v", name, v)
	}
	return name
}

func (r *run) switchLanguage(to, why string) {
	if to == r.cx.Language || !slices.Contains(r.flow.Languages, to) {
		return
	}
	r.ch.Event("ivr.language", map[string]any{"from": r.cx.Language, "to": to, "reason": why})
	r.cx.Switches = append(r.cx.Switches, Switch{From: r.cx.Language, To: to, Reason: why, At: r.rt.now().UTC()})
	r.cx.Language = to
	r.hear()
}

// env is the expression environment of the call now.
func (r *run) env() map[string]any {
	env := make(map[string]any, len(r.vars)+8)
	tier := ""
	if t, ok := r.vars["tier"].(string); ok {
		tier = t
	}
	env["caller"] = r.cx.Caller
	env["language"] = r.cx.Language
	env["intent"] = r.cx.Intent
	env["confidence"] = r.cx.Confidence
	env["tier"] = tier
	env["now"] = r.rt.now()
	cals := r.flow.Calendars
	now := r.rt.now()
	env["business_hours"] = func(name string) bool {
		c := cals[name]
		return c != nil && c.Open(now)
	}
	for k, v := range r.vars {
		env[k] = v
	}
	return env
}

func (r *run) eval(e *Expr) (any, error) {
	if e == nil {
		return nil, nil
	}
	v, err := runExpr(e, r.env())
	if err != nil {
		return nil, fmt.Errorf("flow %s: expression %q: %w", r.flow.Name, e.Source, err)
	}
	return v, nil
}

func (r *run) evalBool(e *Expr) (bool, error) {
	v, err := r.eval(e)
	if err != nil {
		return false, err
	}
	b, _ := v.(bool)
	return b, nil
}

// render fills in a template's expressions.
func (r *run) render(t *Template) (string, []Piece, error) {
	if t == nil {
		return "", nil, nil
	}
	env := r.env()
	var b strings.Builder
	pieces := make([]Piece, 0, len(t.Parts))
	for _, p := range t.Parts {
		if p.Expr == nil {
			b.WriteString(p.Text)
			pieces = append(pieces, Piece{Text: p.Text})
			continue
		}
		v, err := runExpr(p.Expr, env)
		if err != nil {
			return "", nil, fmt.Errorf("flow %s: template %q: %w", r.flow.Name, t.Source, err)
		}
		s := formatValue(v)
		b.WriteString(s)
		pieces = append(pieces, Piece{Text: s, Value: true})
	}
	return b.String(), pieces, nil
}

func formatValue(v any) string {
	switch x := v.(type) {
	case nil:
		return ""
	case string:
		return x
	case float64:
		return strings.TrimSuffix(strings.TrimRight(fmt.Sprintf("%.2f", x), "0"), ".")
	}
	return fmt.Sprint(v)
}
