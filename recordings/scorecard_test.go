package recordings

import (
	"encoding/json"
	"math"
	"reflect"
	"strings"
	"testing"
)

// testForm is a small form whose scores are worked out by hand below:
// section "Opening" weighs 2 + 1, section "Outcome" 1 + 3.
const testForm = `{
  "title": "Test review",
  "sections": [
    {"title": "Opening", "questions": [
      {"id": "greet", "text": "Greeted?", "kind": "yes_no", "weight": 2},
      {"id": "tone", "text": "Tone?", "kind": "scale"}
    ]},
    {"title": "Outcome", "questions": [
      {"id": "disclosure", "text": "Disclosure given?", "kind": "yes_no", "auto_fail": true},
      {"id": "solved", "text": "Solved?", "kind": "scale", "weight": 3}
    ]}
  ]
}`

func yesNo(b bool) Answer  { return Answer{Yes: &b} }
func scaleOf(s int) Answer { return Answer{Scale: s} }

var na = Answer{NA: true}

func mustParseForm(t *testing.T, raw string) Form {
	t.Helper()
	f, err := ParseForm([]byte(raw))
	if err != nil {
		t.Fatalf("ParseForm: %v", err)
	}
	return f
}

func TestParseForm(t *testing.T) {
	f := mustParseForm(t, testForm)
	if f.Title != "Test review" || len(f.Sections) != 2 || len(f.Sections[0].Questions) != 2 {
		t.Fatalf("form = %+v", f)
	}
	if w := f.Sections[0].Questions[1].Weight; w != 1 {
		t.Errorf("omitted weight = %v, want 1", w)
	}
	if q := f.Sections[1].Questions[0]; !q.AutoFail || q.Weight != 1 || q.Kind != KindYesNo {
		t.Errorf("disclosure = %+v", q)
	}
}

func TestParseFormErrors(t *testing.T) {
	// question wraps one question into an otherwise valid form, as the
	// first question of its second section.
	question := func(q string) string {
		return `{"title": "T", "sections": [
		  {"title": "A", "questions": [{"id": "a", "text": "A?", "kind": "yes_no"}]},
		  {"title": "B", "questions": [` + q + `]}]}`
	}
	cases := []struct {
		name, raw string
		want      []string // each must be in the error
	}{
		{"kind", question(`{"id": "greet", "text": "Hi?", "kind": "stars"}`),
			[]string{`sections[1].questions[0] ("greet"): kind "stars" is not yes_no or scale`}},
		{"no title", `{"sections": [{"title": "A", "questions": [{"id": "a", "text": "A?", "kind": "yes_no"}]}]}`,
			[]string{"title: empty"}},
		{"no sections", `{"title": "T", "sections": []}`, []string{"sections: none"}},
		{"empty section", `{"title": "T", "sections": [{"title": "A", "questions": []}]}`,
			[]string{"sections[0].questions: none"}},
		{"untitled section", `{"title": "T", "sections": [{"title": " ", "questions": [{"id": "a", "text": "A?", "kind": "yes_no"}]}]}`,
			[]string{"sections[0].title: empty"}},
		{"no id", question(`{"text": "Hi?", "kind": "yes_no"}`), []string{"sections[1].questions[0]: id is empty"}},
		{"bad id", question(`{"id": "a b", "text": "Hi?", "kind": "yes_no"}`),
			[]string{`sections[1].questions[0] ("a b"): id "a b" has ' '`}},
		{"duplicate id", question(`{"id": "a", "text": "Again?", "kind": "yes_no"}`),
			[]string{`sections[1].questions[0] ("a"): id "a" is also used by sections[0].questions[0]`}},
		{"no text", question(`{"id": "q", "kind": "yes_no"}`), []string{`sections[1].questions[0] ("q"): text is empty`}},
		{"zero weight", question(`{"id": "q", "text": "Q?", "kind": "scale", "weight": 0}`),
			[]string{`sections[1].questions[0] ("q"): weight 0: must be above 0`}},
		{"huge weight", question(`{"id": "q", "text": "Q?", "kind": "scale", "weight": 1e308}`),
			[]string{`("q"): weight 1e+308: must be above 0 and at most 1000`}},
		{"negative weight", question(`{"id": "q", "text": "Q?", "kind": "scale", "weight": -2}`),
			[]string{`("q"): weight -2: must be above 0`}},
		{"auto-fail scale", question(`{"id": "q", "text": "Q?", "kind": "scale", "auto_fail": true}`),
			[]string{`sections[1].questions[0] ("q"): auto_fail is only for yes_no questions`}},
		{"several problems", question(`{"id": "q", "kind": "stars", "weight": -1}`),
			[]string{"text is empty", `kind "stars"`, "weight -1"}},
		{"unknown question field", question(`{"id": "q", "text": "Q?", "kind": "scale", "wieght": 2}`),
			[]string{`sections[1].questions[0] ("q"): unknown field "wieght"`}},
		{"unknown section field", `{"title": "T", "sections": [{"title": "A", "colour": "red", "questions": []}]}`,
			[]string{`sections[0]: unknown field "colour"`}},
		{"unknown form field", `{"title": "T", "version": 2, "sections": []}`, []string{`unknown field "version"`}},
		{"wrong type", "{\"title\": \"T\",\n \"sections\": [{\"title\": \"A\", \"questions\": [{\"id\": \"q\", \"weight\": \"2\"}]}]}",
			[]string{"line 2, column", "sections.questions.weight is a JSON string, want a number"}},
		{"syntax", "{\"title\": \"T\",\n \"sections\": [}", []string{"line 2, column 15"}},
		{"trailing", `{"title": "T", "sections": []} {}`, []string{"line 1, column 32: more after the form's object"}},
		{"empty", ``, []string{"empty: want a JSON object"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := ParseForm([]byte(c.raw))
			if err == nil {
				t.Fatal("ParseForm accepted it")
			}
			for _, w := range c.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q\ndoes not say %q", err, w)
				}
			}
		})
	}
}

func TestFormScore(t *testing.T) {
	f := mustParseForm(t, testForm)
	cases := []struct {
		name     string
		answers  map[string]Answer
		score    float64
		sections [2]float64
		failedOn []string
	}{
		{"all best", map[string]Answer{"greet": yesNo(true), "tone": scaleOf(5), "disclosure": yesNo(true), "solved": scaleOf(5)},
			100, [2]float64{100, 100}, nil},
		{"all worst but the auto-fail", map[string]Answer{"greet": yesNo(false), "tone": scaleOf(1), "disclosure": yesNo(true), "solved": scaleOf(1)},
			// Only disclosure (weight 1 of 7) scores: 100/7; Outcome 1 of 4.
			100.0 / 7, [2]float64{0, 25}, nil},
		// greet 2*1, tone 1*(3-1)/4 = 0.5, disclosure 1*1, solved 3*(4-1)/4 = 2.25:
		// (2 + 0.5 + 1 + 2.25) / 7 = 5.75/7; Opening 2.5/3; Outcome 3.25/4.
		{"mixed", map[string]Answer{"greet": yesNo(true), "tone": scaleOf(3), "disclosure": yesNo(true), "solved": scaleOf(4)},
			100 * 5.75 / 7, [2]float64{100 * 2.5 / 3, 81.25}, nil},
		// tone NA leaves it out of the weights: (2 + 1 + 2.25) / 6; Opening 2/2.
		{"not applicable", map[string]Answer{"greet": yesNo(true), "tone": na, "disclosure": yesNo(true), "solved": scaleOf(4)},
			87.5, [2]float64{100, 81.25}, nil},
		// A whole section NA: it has no score, and the form scores on Outcome alone.
		{"section not applicable", map[string]Answer{"greet": na, "tone": na, "disclosure": yesNo(true), "solved": scaleOf(4)},
			81.25, [2]float64{NoScore, 81.25}, nil},
		// A "no" to disclosure fails it all; Outcome still shows (0 + 2.25) / 4.
		{"auto-fail", map[string]Answer{"greet": yesNo(true), "tone": scaleOf(5), "disclosure": yesNo(false), "solved": scaleOf(4)},
			0, [2]float64{100, 56.25}, []string{"disclosure"}},
		{"auto-fail not applicable", map[string]Answer{"greet": yesNo(true), "tone": scaleOf(5), "disclosure": na, "solved": scaleOf(5)},
			100, [2]float64{100, 100}, nil},
		{"everything not applicable", map[string]Answer{"greet": na, "tone": na, "disclosure": na, "solved": na},
			NoScore, [2]float64{NoScore, NoScore}, nil},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r, err := f.Score(c.answers)
			if err != nil {
				t.Fatalf("Score: %v", err)
			}
			if !near(r.Score, c.score) {
				t.Errorf("score = %v, want %v", r.Score, c.score)
			}
			if r.Failed != (c.failedOn != nil) || !reflect.DeepEqual(r.FailedOn, c.failedOn) {
				t.Errorf("failed = %t on %q, want on %q", r.Failed, r.FailedOn, c.failedOn)
			}
			if len(r.Sections) != 2 || r.Sections[0].Title != "Opening" || r.Sections[1].Title != "Outcome" {
				t.Fatalf("sections = %+v", r.Sections)
			}
			for i, want := range c.sections {
				if !near(r.Sections[i].Score, want) {
					t.Errorf("section %q = %v, want %v", r.Sections[i].Title, r.Sections[i].Score, want)
				}
			}
		})
	}
}

func near(a, b float64) bool { return math.Abs(a-b) < 1e-9 }

func TestFormScoreRefuses(t *testing.T) {
	f := mustParseForm(t, testForm)
	good := func() map[string]Answer {
		return map[string]Answer{"greet": yesNo(true), "tone": scaleOf(3), "disclosure": yesNo(true), "solved": scaleOf(4)}
	}
	yes := true
	cases := []struct {
		name   string
		change func(map[string]Answer)
		want   string
	}{
		{"missing", func(a map[string]Answer) { delete(a, "tone") }, `question "tone": not answered`},
		{"unknown", func(a map[string]Answer) { a["smile"] = yesNo(true) }, `question "smile": the form "Test review" has no such question`},
		{"scale too high", func(a map[string]Answer) { a["solved"] = scaleOf(6) }, `question "solved": a 1-5 question: answer 1 to 5, not 6`},
		{"scale zero", func(a map[string]Answer) { a["tone"] = Answer{} }, `question "tone": a 1-5 question`},
		{"scale negative", func(a map[string]Answer) { a["tone"] = scaleOf(-1) }, `question "tone": a 1-5 question`},
		{"yes on a scale", func(a map[string]Answer) { a["tone"] = yesNo(true) }, `question "tone": a 1-5 question: answer 1 to 5, not yes=true`},
		{"no yes", func(a map[string]Answer) { a["greet"] = Answer{} }, `question "greet": a yes/no question`},
		{"scale on a yes/no", func(a map[string]Answer) { a["greet"] = scaleOf(4) }, `question "greet": a yes/no question`},
		{"NA and answered", func(a map[string]Answer) { a["greet"] = Answer{Yes: &yes, NA: true} }, `question "greet": both answered and marked not applicable`},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			a := good()
			c.change(a)
			r, err := f.Score(a)
			if err == nil {
				t.Fatalf("Score accepted it: %+v", r)
			}
			if !strings.Contains(err.Error(), c.want) {
				t.Errorf("error %q\ndoes not say %q", err, c.want)
			}
		})
	}
	if _, err := f.Score(good()); err != nil {
		t.Fatalf("the good answers: %v", err)
	}
	bad := f
	bad.Sections = []Section{{Title: "S", Questions: []Question{{ID: "q", Text: "Q?", Kind: "stars", Weight: 1}}}}
	if _, err := bad.Score(map[string]Answer{"q": scaleOf(3)}); err == nil || !strings.Contains(err.Error(), `kind "stars"`) {
		t.Errorf("Score on an invalid form: %v", err)
	}
}

func TestDefaultForm(t *testing.T) {
	f := DefaultForm()
	raw, err := json.Marshal(f)
	if err != nil {
		t.Fatal(err)
	}
	back, err := ParseForm(raw)
	if err != nil {
		t.Fatalf("DefaultForm does not parse: %v\n%s", err, raw)
	}
	if !reflect.DeepEqual(back, f) {
		t.Errorf("round trip through JSON changed the form:\n got %+v\nwant %+v", back, f)
	}
	best := map[string]Answer{}
	worst := map[string]Answer{}
	var kinds = map[string]int{}
	var autoFail []string
	for _, s := range f.Sections {
		for _, q := range s.Questions {
			kinds[q.Kind]++
			if q.Kind == KindScale {
				best[q.ID], worst[q.ID] = scaleOf(5), scaleOf(1)
			} else {
				best[q.ID], worst[q.ID] = yesNo(true), yesNo(false)
			}
			if q.AutoFail {
				autoFail = append(autoFail, q.ID)
			}
		}
	}
	if kinds[KindYesNo] == 0 || kinds[KindScale] == 0 || len(autoFail) == 0 {
		t.Errorf("DefaultForm has kinds %v and auto-fail items %q: want both kinds and a compliance item", kinds, autoFail)
	}
	if r, err := f.Score(best); err != nil || r.Score != 100 || r.Failed {
		t.Errorf("best answers: %+v, %v", r, err)
	}
	r, err := f.Score(worst)
	if err != nil || r.Score != 0 || !reflect.DeepEqual(r.FailedOn, autoFail) {
		t.Errorf("worst answers: %+v, %v; want failed on %q", r, err, autoFail)
	}
}

// FuzzParseForm checks that ParseForm never panics and that what it
// accepts survives a round trip through JSON unchanged.
func FuzzParseForm(f *testing.F) {
	f.Add([]byte(testForm))
	raw, _ := json.Marshal(DefaultForm())
	f.Add(raw)
	f.Add([]byte(`{"title": "T", "sections": [{"title": "A", "questions": [{"id": "a", "text": "A?", "kind": "scale", "weight": 1e308}]}]}`))
	f.Fuzz(func(t *testing.T, raw []byte) {
		form, err := ParseForm(raw)
		if err != nil {
			return
		}
		again, err := json.Marshal(form)
		if err != nil {
			t.Fatal(err)
		}
		back, err := ParseForm(again)
		if err != nil {
			t.Fatalf("a parsed form does not parse again: %v\n%s", err, again)
		}
		if !reflect.DeepEqual(back, form) {
			t.Fatalf("round trip changed the form:\n got %+v\nwant %+v", back, form)
		}
	})
}
