package recordings

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"reflect"
	"slices"
	"strings"
)

// Scorecards: a Form is what QA staff fill in for each call they review,
// defined by an admin as sections of yes/no and 1..5 questions with weights;
// a "no" to an auto-fail question fails the whole evaluation. The store keeps
// a form as the JSON object Form marshals to.

// Question kinds.
const (
	KindYesNo = "yes_no" // answered yes (1 point) or no (0 points)
	KindScale = "scale"  // answered 1..5: s counts (s-1)/4 of a point
)

// NoScore is the score of a section, or of a whole evaluation, whose every
// question was marked not applicable.
const NoScore = -1.0

// maxWeight bounds a question's weight: far more than any form needs, and
// small enough that sums of weights stay exact and finite.
const maxWeight = 1000

// maxQuestionID bounds a question's id, which pages put in URLs and
// element ids.
const maxQuestionID = 64

// Form is a scorecard form.
type Form struct {
	Title    string    `json:"title"`
	Sections []Section `json:"sections"`
}

// Section is a titled group of questions; the result scores each section
// on its own as well as the whole form.
type Section struct {
	Title     string     `json:"title"`
	Questions []Question `json:"questions"`
}

// Question is one item of a form.
type Question struct {
	// ID names the question in answers: unique in the form, made of ASCII
	// letters, digits, '_' and '-'.
	ID   string `json:"id"`
	Text string `json:"text"`
	// Kind is KindYesNo or KindScale.
	Kind string `json:"kind"`
	// Weight is how much the question counts against the others: above 0,
	// at most 1000. ParseForm makes an omitted weight 1.
	Weight float64 `json:"weight"`
	// AutoFail, on a yes/no question only, makes a "no" fail the whole
	// evaluation: its score is then 0 whatever the other answers.
	AutoFail bool `json:"auto_fail,omitempty"`
	// Help guides the reviewer, e.g. what counts as a yes.
	Help string `json:"help,omitempty"`
}

// formJSON, sectionJSON and questionJSON mirror Form for decoding, Weight
// as a pointer so that an omitted weight (1) differs from an explicit 0
// (refused).
type formJSON struct {
	Title    string        `json:"title"`
	Sections []sectionJSON `json:"sections"`
}

type sectionJSON struct {
	Title     string         `json:"title"`
	Questions []questionJSON `json:"questions"`
}

type questionJSON struct {
	ID       string   `json:"id"`
	Text     string   `json:"text"`
	Kind     string   `json:"kind"`
	Weight   *float64 `json:"weight"`
	AutoFail bool     `json:"auto_fail"`
	Help     string   `json:"help"`
}

// ParseForm reads a form from its JSON and checks it: a title, at least one
// section, each titled and with at least one question; each question with a
// unique id, a text, a known kind, a weight above 0 (at most 1000), and
// auto_fail only if it is yes/no. Errors name the place, as in
// `sections[1].questions[0] ("greet"): kind "stars" is not yes_no or scale`;
// every problem found is reported, joined. Fields the form does not define
// are refused, so that a misspelt "wieght" is not silently dropped.
func ParseForm(raw []byte) (Form, error) {
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.DisallowUnknownFields()
	var fj formJSON
	if err := dec.Decode(&fj); err != nil {
		return Form{}, fmt.Errorf("scorecard form: %w", decodeError(raw, err))
	}
	end := dec.InputOffset()
	if _, err := dec.Token(); err != io.EOF {
		rest := bytes.TrimLeft(raw[end:], " \t\r\n")
		line, col := lineCol(raw, int64(len(raw)-len(rest)))
		return Form{}, fmt.Errorf("scorecard form: line %d, column %d: more after the form's object", line, col)
	}
	f := Form{Title: fj.Title, Sections: make([]Section, len(fj.Sections))}
	for i, sj := range fj.Sections {
		s := Section{Title: sj.Title, Questions: make([]Question, len(sj.Questions))}
		for j, qj := range sj.Questions {
			q := Question{ID: qj.ID, Text: qj.Text, Kind: qj.Kind, Weight: 1, AutoFail: qj.AutoFail, Help: qj.Help}
			if qj.Weight != nil {
				q.Weight = *qj.Weight
			}
			s.Questions[j] = q
		}
		f.Sections[i] = s
	}
	if err := f.validate(); err != nil {
		return Form{}, err
	}
	return f, nil
}

// validate reports every problem of f, each with its place.
func (f Form) validate() error {
	var errs []error
	bad := func(place, format string, args ...any) {
		errs = append(errs, fmt.Errorf("scorecard form: %s: %s", place, fmt.Sprintf(format, args...)))
	}
	if strings.TrimSpace(f.Title) == "" {
		bad("title", "empty: give the form a title")
	}
	if len(f.Sections) == 0 {
		bad("sections", "none: a form needs at least one section with a question")
	}
	seen := map[string]string{} // id -> place of its first use
	for i, s := range f.Sections {
		if strings.TrimSpace(s.Title) == "" {
			bad(fmt.Sprintf("sections[%d].title", i), "empty: give the section a title")
		}
		if len(s.Questions) == 0 {
			bad(fmt.Sprintf("sections[%d].questions", i), "none: a section needs at least one question")
		}
		for j, q := range s.Questions {
			place := questionPlace(i, j, q.ID)
			if err := checkQuestionID(q.ID); err != nil {
				bad(place, "%v", err)
			} else if first, dup := seen[q.ID]; dup {
				bad(place, "id %q is also used by %s: give each question an id of its own", q.ID, first)
			} else {
				seen[q.ID] = fmt.Sprintf("sections[%d].questions[%d]", i, j)
			}
			if strings.TrimSpace(q.Text) == "" {
				bad(place, "text is empty: write the question")
			}
			if q.Kind != KindYesNo && q.Kind != KindScale {
				bad(place, "kind %q is not %s or %s", q.Kind, KindYesNo, KindScale)
			}
			// The negated test also catches NaN, which Go code could set.
			if !(q.Weight > 0 && q.Weight <= maxWeight) {
				bad(place, "weight %v: must be above 0 and at most %d (omit it for 1)", q.Weight, maxWeight)
			}
			if q.AutoFail && q.Kind != KindYesNo {
				bad(place, "auto_fail is only for %s questions, this one is %q", KindYesNo, q.Kind)
			}
		}
	}
	return errors.Join(errs...)
}

// questionPlace names a question for errors: its position, and its id
// when it has one.
func questionPlace(section, question int, id string) string {
	place := fmt.Sprintf("sections[%d].questions[%d]", section, question)
	if id != "" {
		place += fmt.Sprintf(" (%q)", id)
	}
	return place
}

func checkQuestionID(id string) error {
	if id == "" {
		return errors.New("id is empty: give the question an id, such as \"greeting\"")
	}
	if len(id) > maxQuestionID {
		return fmt.Errorf("id of %d bytes, more than %d", len(id), maxQuestionID)
	}
	for _, c := range []byte(id) {
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '_' || c == '-') {
			return fmt.Errorf("id %q has %q: use letters, digits, '_' and '-' only", id, c)
		}
	}
	return nil
}

// decodeError turns a decoding error into one that names where it went
// wrong: the line and column, or for a field the form does not define, its
// place in the form (encoding/json names the field only).
func decodeError(raw []byte, err error) error {
	var syn *json.SyntaxError
	var typ *json.UnmarshalTypeError
	switch {
	case errors.As(err, &syn):
		line, col := lineCol(raw, syn.Offset-1) // Offset counts the bad byte
		return fmt.Errorf("line %d, column %d: %s", line, col, strings.TrimPrefix(syn.Error(), "json: "))
	case errors.As(err, &typ):
		line, col := lineCol(raw, typ.Offset-1) // Offset is just past the value
		field := typ.Field
		if field == "" {
			field = "the form"
		}
		return fmt.Errorf("line %d, column %d: %s is a JSON %s, want %s", line, col, field, typ.Value, jsonKind(typ.Type))
	case strings.HasPrefix(err.Error(), "json: unknown field "):
		if place, ok := unknownFieldPlace(raw); ok {
			return errors.New(place)
		}
	case errors.Is(err, io.EOF):
		return errors.New("empty: want a JSON object")
	}
	return err
}

// jsonKind says what JSON a Go type decodes from.
func jsonKind(t reflect.Type) string {
	switch t.Kind() {
	case reflect.String:
		return "a string"
	case reflect.Bool:
		return "true or false"
	case reflect.Float64, reflect.Float32, reflect.Int, reflect.Int64:
		return "a number"
	case reflect.Slice:
		return "an array"
	case reflect.Struct, reflect.Map:
		return "an object"
	case reflect.Pointer:
		return jsonKind(t.Elem())
	}
	return t.String()
}

// lineCol turns the offset of a byte of raw into its 1-based line and
// column.
func lineCol(raw []byte, off int64) (line, col int) {
	off = min(max(off, 0), int64(len(raw)))
	before := raw[:off]
	line = 1 + bytes.Count(before, []byte("\n"))
	col = int(off) - bytes.LastIndexByte(before, '\n')
	return line, col
}

// unknownFieldPlace finds the first field, in document order of sections
// and questions, that the form does not define, and says where it is.
// Keys match as encoding/json matches them: case-insensitively.
func unknownFieldPlace(raw []byte) (string, bool) {
	var form map[string]json.RawMessage
	if json.Unmarshal(raw, &form) != nil {
		return "", false
	}
	if k, ok := unknownKey(form, reflect.TypeFor[formJSON]()); ok {
		return fmt.Sprintf("unknown field %q: a form has title and sections", k), true
	}
	var sections []map[string]json.RawMessage
	_ = json.Unmarshal(lookupKey(form, "sections"), &sections)
	for i, s := range sections {
		if k, ok := unknownKey(s, reflect.TypeFor[sectionJSON]()); ok {
			return fmt.Sprintf("sections[%d]: unknown field %q: a section has title and questions", i, k), true
		}
		var questions []map[string]json.RawMessage
		_ = json.Unmarshal(lookupKey(s, "questions"), &questions)
		for j, q := range questions {
			if k, ok := unknownKey(q, reflect.TypeFor[questionJSON]()); ok {
				var id string
				_ = json.Unmarshal(lookupKey(q, "id"), &id)
				return fmt.Sprintf("%s: unknown field %q: a question has %s", questionPlace(i, j, id), k,
					strings.Join(jsonFields(reflect.TypeFor[questionJSON]()), ", ")), true
			}
		}
	}
	return "", false
}

// unknownKey returns the first key of m, in sorted order, that names no
// field of t.
func unknownKey(m map[string]json.RawMessage, t reflect.Type) (string, bool) {
	fields := jsonFields(t)
	for _, k := range slices.Sorted(maps.Keys(m)) {
		if !slices.ContainsFunc(fields, func(f string) bool { return strings.EqualFold(f, k) }) {
			return k, true
		}
	}
	return "", false
}

// lookupKey finds a field's value as encoding/json would: the exact key,
// or else one equal under case folding.
func lookupKey(m map[string]json.RawMessage, name string) json.RawMessage {
	if v, ok := m[name]; ok {
		return v
	}
	for k, v := range m {
		if strings.EqualFold(k, name) {
			return v
		}
	}
	return nil
}

// jsonFields lists the JSON names of t's fields.
func jsonFields(t reflect.Type) []string {
	names := make([]string, t.NumField())
	for i := range names {
		names[i], _, _ = strings.Cut(t.Field(i).Tag.Get("json"), ",")
	}
	return names
}

// Answer is a reviewer's answer to one question: Yes for a yes/no
// question, Scale (1..5) for a scale question, or NA when the question does
// not apply to the call (then it counts for nothing, either way).
type Answer struct {
	Yes   *bool `json:"yes,omitempty"`
	Scale int   `json:"scale,omitempty"`
	NA    bool  `json:"na,omitempty"`
}

// Result is a scored evaluation.
type Result struct {
	// Score is 0..100: the weighted share of points over the questions
	// that apply; 0 when Failed; NoScore if no question applied.
	Score float64 `json:"score"`
	// Failed reports a "no" to an auto-fail question; FailedOn lists
	// their ids, in the form's order.
	Failed   bool     `json:"failed"`
	FailedOn []string `json:"failed_on,omitempty"`
	// Sections scores each section on its own, in the form's order. An
	// auto-fail leaves them as answered, so that the reviewer still sees
	// where the call did well.
	Sections []SectionScore `json:"sections"`
}

// SectionScore is one section's score: 0..100, or NoScore if every
// question in it was marked not applicable.
type SectionScore struct {
	Title string  `json:"title"`
	Score float64 `json:"score"`
}

// Score scores answers, by question id, against f: 100 times the sum of
// weight times points over the sum of weights, counting the questions not
// marked NA, where yes is 1 point, no 0 and a scale answer s is (s-1)/4. A
// "no" to an auto-fail question fails the evaluation, whose score is then 0.
// Every question must be answered or marked NA, and answers to questions
// the form does not have are refused; errors name the question.
func (f Form) Score(answers map[string]Answer) (Result, error) {
	if err := f.validate(); err != nil {
		return Result{}, err
	}
	known := map[string]bool{}
	for _, s := range f.Sections {
		for _, q := range s.Questions {
			known[q.ID] = true
		}
	}
	var errs []error
	for _, id := range slices.Sorted(maps.Keys(answers)) {
		if !known[id] {
			errs = append(errs, fmt.Errorf("scorecard: question %q: the form %q has no such question", id, f.Title))
		}
	}
	r := Result{Sections: make([]SectionScore, len(f.Sections))}
	var points, weights float64
	for i, s := range f.Sections {
		var sp, sw float64
		for _, q := range s.Questions {
			p, applies, err := q.points(answers)
			if err != nil {
				errs = append(errs, fmt.Errorf("scorecard: question %q: %w", q.ID, err))
				continue
			}
			if !applies {
				continue
			}
			if q.AutoFail && p == 0 {
				r.Failed = true
				r.FailedOn = append(r.FailedOn, q.ID)
			}
			sp += q.Weight * p
			sw += q.Weight
		}
		r.Sections[i] = SectionScore{Title: s.Title, Score: percent(sp, sw)}
		points += sp
		weights += sw
	}
	if err := errors.Join(errs...); err != nil {
		return Result{}, err
	}
	r.Score = percent(points, weights)
	if r.Failed {
		r.Score = 0
	}
	return r, nil
}

// points is what q's answer is worth, 0..1, and whether it applies (it
// does not when marked NA).
func (q Question) points(answers map[string]Answer) (float64, bool, error) {
	a, ok := answers[q.ID]
	switch {
	case !ok:
		return 0, false, errors.New("not answered: answer it or mark it not applicable")
	case a.NA && (a.Yes != nil || a.Scale != 0):
		return 0, false, errors.New("both answered and marked not applicable: pick one")
	case a.NA:
		return 0, false, nil
	}
	switch q.Kind {
	case KindYesNo:
		if a.Scale != 0 || a.Yes == nil {
			return 0, false, errors.New("a yes/no question: answer yes or no")
		}
		if *a.Yes {
			return 1, true, nil
		}
		return 0, true, nil
	default: // KindScale, as validate checked
		if a.Yes != nil || a.Scale < 1 || a.Scale > 5 {
			return 0, false, fmt.Errorf("a 1-5 question: answer 1 to 5, not %s", describeAnswer(a))
		}
		return float64(a.Scale-1) / 4, true, nil
	}
}

func describeAnswer(a Answer) string {
	if a.Yes != nil {
		return fmt.Sprintf("yes=%t", *a.Yes)
	}
	return fmt.Sprint(a.Scale)
}

func percent(points, weights float64) float64 {
	if weights == 0 {
		return NoScore
	}
	return 100 * points / weights
}

// DefaultForm is a demo form for a contact centre, to start from: greeting
// and identification, understanding the need, resolution and courtesy,
// with two compliance items that fail the evaluation when answered no.
func DefaultForm() Form {
	yes := func(id string, weight float64, text, help string) Question {
		return Question{ID: id, Text: text, Kind: KindYesNo, Weight: weight, Help: help}
	}
	scale := func(id string, weight float64, text, help string) Question {
		return Question{ID: id, Text: text, Kind: KindScale, Weight: weight, Help: help}
	}
	mustPass := func(q Question) Question { q.AutoFail = true; return q }
	return Form{
		Title: "Call quality review",
		Sections: []Section{
			{Title: "Greeting and identification", Questions: []Question{
				yes("greeting", 1, "Did the agent greet the caller with the company's name and their own?", ""),
				mustPass(yes("recording_disclosure", 1, "Was the call recording disclosure given?",
					"The IVR's disclosure counts; on a call placed by the agent, the agent must give it.")),
				yes("verify_identity", 2, "Did the agent verify the caller's identity before discussing the account?",
					"Not applicable when no account was discussed."),
			}},
			{Title: "Understanding the need", Questions: []Question{
				scale("listening", 2, "How well did the agent listen and let the caller explain?",
					"1: talked over the caller; 5: let them finish and acknowledged what they said."),
				scale("probing", 1, "How well did the agent's questions find the real need?", ""),
				yes("confirm_need", 1, "Did the agent restate the need to confirm it?", ""),
			}},
			{Title: "Resolution", Questions: []Question{
				yes("accurate", 3, "Was the information given correct and complete?", ""),
				yes("resolved", 3, "Was the need resolved, or a next step with a date agreed?", ""),
				mustPass(yes("card_details", 1, "Did the agent avoid reading card details aloud?",
					"No if the agent repeated a card number, expiry date or security code. Not applicable when no payment was discussed.")),
				yes("wrap_up", 1, "Do the disposition and notes match the call?", ""),
			}},
			{Title: "Courtesy", Questions: []Question{
				scale("tone", 2, "How courteous and professional was the agent's tone?", ""),
				yes("hold_etiquette", 1, "Did the agent ask before putting the caller on hold, and thank them after?",
					"Not applicable when the caller was not put on hold."),
				yes("closing", 1, "Did the agent offer further help and close the call politely?", ""),
			}},
		},
	}
}
