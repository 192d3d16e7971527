package ivr

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/santhosh-tekuri/jsonschema/v6"
	"github.com/santhosh-tekuri/jsonschema/v6/kind"
	"go.yaml.in/yaml/v3"
)

const (
	schemaID    = "https://sambung.dev/schema/flow.schema.json"
	draft202012 = "https://json-schema.org/draft/2020-12/schema"
)

// compileSchema compiles Schema(); compiling also checks it against the
// meta-schema of the draft its $schema names.
func compileSchema(t *testing.T) *jsonschema.Schema {
	t.Helper()
	doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(Schema()))
	if err != nil {
		t.Fatalf("flow.schema.json is not JSON: %v", err)
	}
	c := jsonschema.NewCompiler()
	if err := c.AddResource(schemaID, doc); err != nil {
		t.Fatalf("add flow.schema.json: %v", err)
	}
	sch, err := c.Compile(schemaID)
	if err != nil {
		t.Fatalf("compile flow.schema.json: %v", err)
	}
	return sch
}

// schemaDoc returns Schema() decoded, for looking into its keywords.
func schemaDoc(t *testing.T) map[string]any {
	t.Helper()
	var doc map[string]any
	if err := json.Unmarshal(Schema(), &doc); err != nil {
		t.Fatalf("flow.schema.json is not a JSON object: %v", err)
	}
	return doc
}

// schemaAt follows keys from v, failing the test when one is missing.
func schemaAt(t *testing.T, v any, keys ...string) any {
	t.Helper()
	for i, k := range keys {
		m, ok := v.(map[string]any)
		if !ok || m[k] == nil {
			t.Fatalf("flow.schema.json has no /%s", strings.Join(keys[:i+1], "/"))
		}
		v = m[k]
	}
	return v
}

// schemaKeys returns the names under the "properties" of the schema object
// at path, sorted.
func schemaKeys(t *testing.T, doc map[string]any, path ...string) []string {
	t.Helper()
	props, _ := schemaAt(t, doc, path...).(map[string]any)["properties"].(map[string]any)
	names := make([]string, 0, len(props))
	for name := range props {
		names = append(names, name)
	}
	slices.Sort(names)
	return names
}

// flowValue decodes a YAML flow into the JSON values an editor checks: a
// mapping's keys are strings even when written as numbers ("0" or 0).
func flowValue(t *testing.T, data []byte) any {
	t.Helper()
	var v any
	if err := yaml.Unmarshal(data, &v); err != nil {
		t.Fatalf("not YAML: %v", err)
	}
	b, err := json.Marshal(stringKeys(v))
	if err != nil {
		t.Fatalf("YAML to JSON: %v", err)
	}
	inst, err := jsonschema.UnmarshalJSON(bytes.NewReader(b))
	if err != nil {
		t.Fatalf("YAML to JSON: %v", err)
	}
	return inst
}

func stringKeys(v any) any {
	switch v := v.(type) {
	case map[string]any:
		for k, e := range v {
			v[k] = stringKeys(e)
		}
		return v
	case map[any]any:
		m := make(map[string]any, len(v))
		for k, e := range v {
			m[fmt.Sprint(k)] = stringKeys(e)
		}
		return m
	case []any:
		for i, e := range v {
			v[i] = stringKeys(e)
		}
	}
	return v
}

func TestSchemaIsDraft202012(t *testing.T) {
	doc := schemaDoc(t)
	if doc["$schema"] != draft202012 || doc["$id"] != schemaID || doc["title"] != "Sambung IVR flow" {
		t.Errorf("$schema %v, $id %v, title %v; want %s, %s, Sambung IVR flow", doc["$schema"], doc["$id"], doc["title"], draft202012, schemaID)
	}
	compileSchema(t)

	// Compiling checked it already; say so explicitly against the meta-schema.
	meta, err := jsonschema.NewCompiler().Compile(draft202012)
	if err != nil {
		t.Fatal(err)
	}
	inst, err := jsonschema.UnmarshalJSON(bytes.NewReader(Schema()))
	if err != nil {
		t.Fatal(err)
	}
	if err := meta.Validate(inst); err != nil {
		t.Errorf("flow.schema.json is not a valid draft 2020-12 schema: %v", err)
	}
}

// Editors show a key's description when the author hovers over it.
func TestSchemaDescribesEveryKey(t *testing.T) {
	doc := schemaDoc(t)
	defs, _ := doc["$defs"].(map[string]any)
	var walk func(path string, v any)
	walk = func(path string, v any) {
		switch v := v.(type) {
		case map[string]any:
			if props, ok := v["properties"].(map[string]any); ok {
				for name, p := range props {
					p, ok := p.(map[string]any)
					if !ok {
						continue // true in a step's shape: described where it is typed
					}
					if p["description"] == nil {
						ref, _ := p["$ref"].(string)
						def, _ := defs[strings.TrimPrefix(ref, "#/$defs/")].(map[string]any)
						if def == nil || def["description"] == nil {
							t.Errorf("%s/properties/%s has no description", path, name)
						}
					}
				}
			}
			for k, e := range v {
				walk(path+"/"+k, e)
			}
		case []any:
			for i, e := range v {
				walk(fmt.Sprintf("%s/%d", path, i), e)
			}
		}
	}
	walk("", doc)
}

func TestSchemaValidFlows(t *testing.T) {
	sch := compileSchema(t)
	var files []string
	for _, pattern := range []string{"*.yaml", "flows/*.yaml"} {
		m, err := filepath.Glob(filepath.Join(flowsDir, "valid", pattern))
		if err != nil {
			t.Fatal(err)
		}
		files = append(files, m...)
	}
	if len(files) < 3 {
		t.Fatalf("found only %v in %s/valid", files, flowsDir)
	}
	for _, file := range files {
		t.Run(strings.TrimPrefix(file, flowsDir+"/valid/"), func(t *testing.T) {
			data, err := os.ReadFile(file)
			if err != nil {
				t.Fatal(err)
			}
			if err := sch.Validate(flowValue(t, data)); err != nil {
				t.Errorf("a valid flow fails the schema:\n%v", err)
			}
		})
	}
}

// schemaFlow is a small valid flow with the given steps.
func schemaFlow(steps string) string {
	return `{name: t, languages: [en], start: a, steps: {` + steps + `}}`
}

// stepShape is where the schema lists the keys a step of kind k may hold;
// TestSchemaStepKinds checks that the shapes follow the order of kinds.
func stepShape(k Kind) string {
	return fmt.Sprintf("/$defs/step/allOf/%d/then", slices.Index(kinds, k))
}

func TestSchemaRefusesInvalidFlows(t *testing.T) {
	sch := compileSchema(t)
	// The cases below change one thing each in a flow the schema accepts.
	if err := sch.Validate(flowValue(t, []byte(schemaFlow(`a: {hangup: {}}`)))); err != nil {
		t.Fatalf("the base flow fails the schema:\n%v", err)
	}
	listen := `listen: {prompt: {en: Hi}, no_input: a, no_match: a`
	cases := []struct {
		name string
		flow string
		rule string // the keyword of the schema that must refuse it, a JSON pointer
	}{
		{"unknown top-level key", `{name: t, languages: [en], colour: blue, start: a, steps: {a: {hangup: {}}}}`, "/additionalProperties"},
		{"languages not a list", `{name: t, languages: en, start: a, steps: {a: {hangup: {}}}}`, "/properties/languages/type"},
		{"language code", `{name: t, languages: [English], start: a, steps: {a: {hangup: {}}}}`, "/$defs/languageCode/pattern"},
		{"disclosure false", `{name: t, languages: [en], disclosure: false, start: a, steps: {a: {hangup: {}}}}`, "/properties/disclosure/then/const"},
		{"recording sometimes", `{name: t, languages: [en], recording: sometimes, start: a, steps: {a: {hangup: {}}}}`, "/properties/recording/oneOf/0/pattern"},
		{"recording kept forever", `{name: t, languages: [en], recording: {retain: forever}, start: a, steps: {a: {hangup: {}}}}`, "/properties/recording/oneOf/1/properties/retain/pattern"},
		{"built-in variable", `{name: t, languages: [en], variables: {caller: ""}, start: a, steps: {a: {hangup: {}}}}`, "/properties/variables/propertyNames/allOf/1/not"},
		{"calendar hours", `{name: t, languages: [en], calendars: {c: {timezone: UTC, hours: {sat: "9-13"}}}, start: a, steps: {a: {hangup: {}}}}`, "/$defs/calendar/properties/hours/additionalProperties/pattern"},
		{"escalation after 11", `{name: t, languages: [en], escalation: {after: 11, to: a}, start: a, steps: {a: {hangup: {}}}}`, "/$defs/escalation/properties/after/maximum"},
		{"step name", schemaFlow(`"a b": {hangup: {}}`), "/$defs/stepName/pattern"},
		{"two actions", schemaFlow(`a: {say: {en: Hi}, hangup: {}, next: a}`), stepShape(KindSay) + "/additionalProperties"},
		{"no action", schemaFlow(`a: {next: a}`), "/$defs/step/anyOf"},
		{"unknown step key", schemaFlow(`a: {say: {en: Hi}, nxt: a}`), "/$defs/step/additionalProperties"},
		{"say without next", schemaFlow(`a: {say: {en: Hi}}`), stepShape(KindSay) + "/required"},
		{"next after hangup", schemaFlow(`a: {hangup: {}, next: a}`), stepShape(KindHangup) + "/additionalProperties"},
		{"interruptible listen", schemaFlow(`a: {` + listen + `}, interruptible: true}`), stepShape(KindListen) + "/additionalProperties"},
		{"wav and text", schemaFlow(`a: {say: {wav: {en: hi.wav}, en: Hi}, next: a}`), "/$defs/prompt/then/additionalProperties"},
		{"bad duration", schemaFlow(`a: {voicemail: {max_length: 5 seconds}}`), "/$defs/duration/pattern"},
		{"DTMF key", schemaFlow(`a: {` + listen + `, digits: {"A": a}}}`), "/$defs/dtmf/enum"},
		{"min_confidence above 1", schemaFlow(`a: {` + listen + `, min_confidence: 1.5}}`), "/$defs/listen/properties/min_confidence/maximum"},
		{"gather max_digits 0", schemaFlow(`a: {gather: {prompt: {en: Number}, max_digits: 0, into: n}, next: a}`), "/$defs/gather/properties/max_digits/minimum"},
		{"branch without else", schemaFlow(`a: {branch: [{when: "true", goto: a}]}`), "/$defs/branch/contains"},
		{"lookup method PUT", schemaFlow(`a: {lookup: {url: "https://crm/x", method: PUT, timeout: 2s}, next: a, on_failure: a}`), "/$defs/lookup/properties/method/enum"},
		{"lookup url ftp", schemaFlow(`a: {lookup: {url: "ftp://crm/x", timeout: 2s}, next: a, on_failure: a}`), "/$defs/lookup/properties/url/pattern"},
		{"lookup without on_failure", schemaFlow(`a: {lookup: {url: "/crm/x", timeout: 2s}, next: a}`), stepShape(KindLookup) + "/required"},
		{"transfer tel", schemaFlow(`a: {transfer: "tel:123"}`), "/$defs/step/properties/transfer/pattern"},
		{"survey without into", schemaFlow(`a: {survey: {prompt: {en: Rate us}}, next: a}`), "/$defs/survey/required"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			err := sch.Validate(flowValue(t, []byte(c.flow)))
			if err == nil {
				t.Fatalf("the schema accepts %s", c.flow)
			}
			var ve *jsonschema.ValidationError
			if !errors.As(err, &ve) {
				t.Fatalf("Validate: %v", err)
			}
			if rules := failedKeywords(ve); !slices.Contains(rules, c.rule) {
				t.Errorf("refused by %q, want %q among them:\n%v", rules, c.rule, err)
			}
		})
	}
}

// failedKeywords lists the schema keywords, as JSON pointers into the
// schema, that refused the instance in e and its causes. (The schema side
// is used because the validator may report a wrong instance location for
// propertyNames.)
func failedKeywords(e *jsonschema.ValidationError) []string {
	_, loc, _ := strings.Cut(e.SchemaURL, "#")
	path := e.ErrorKind.KeywordPath()
	if _, not := e.ErrorKind.(*kind.Not); not {
		path = []string{"not"}
	}
	out := []string{loc + "/" + strings.Join(path, "/")}
	for _, c := range e.Causes {
		out = append(out, failedKeywords(c)...)
	}
	return out
}

// The schema's step kinds are the parser's, and a step's other keys are
// stepKeys.
func TestSchemaStepKinds(t *testing.T) {
	doc := schemaDoc(t)
	var inOrder []string
	for _, k := range kinds {
		inOrder = append(inOrder, string(k))
	}
	want := slices.Sorted(slices.Values(inOrder))
	withKeys := slices.Sorted(slices.Values(append(slices.Clone(want), stepKeys...)))
	if got := schemaKeys(t, doc, "$defs", "step"); !slices.Equal(got, withKeys) {
		t.Errorf("step properties %v, want the kinds and stepKeys %v", got, withKeys)
	}
	// Each kind needs both halves of the one-action rule: "at least one"
	// (a branch of anyOf) and the keys allowed beside it (an if/then of
	// allOf, in the order of kinds, which stepShape relies on).
	var anyOf, allOf []string
	for _, s := range schemaAt(t, doc, "$defs", "step", "anyOf").([]any) {
		anyOf = append(anyOf, schemaAt(t, s, "required").([]any)[0].(string))
	}
	for _, s := range schemaAt(t, doc, "$defs", "step", "allOf").([]any) {
		k := schemaAt(t, s, "if", "required").([]any)[0].(string)
		allOf = append(allOf, k)
		if then := schemaAt(t, s, "then", "properties").(map[string]any); then[k] == nil {
			t.Errorf("the shape of a %s step does not allow %s", k, k)
		}
	}
	slices.Sort(anyOf)
	if !slices.Equal(anyOf, want) {
		t.Errorf("step anyOf requires %v; want the kinds %v", anyOf, want)
	}
	if !slices.Equal(allOf, inOrder) {
		t.Errorf("step allOf has shapes for %v; want the kinds in order %v", allOf, inOrder)
	}
}

// Every mapping whose keys the parser checks has, in the schema, the same
// keys. The parser lists the keys it knows when it meets an unknown one.
func TestSchemaKeysMatchParser(t *testing.T) {
	doc := schemaDoc(t)
	const unknown = "zz_unknown"
	top := func(extra string) string {
		return `{name: t, languages: [en], ` + extra + `, start: a, steps: {a: {hangup: {}}}}`
	}
	cases := []struct {
		name string
		path []string // of the schema object whose properties are compared
		flow string   // a flow with key zz_unknown in that mapping
	}{
		{"flow", nil, top(unknown + `: 1`)},
		{"step", []string{"$defs", "step"}, schemaFlow(`a: {hangup: {}, zz_unknown: 1}`)},
		{"listen", []string{"$defs", "listen"}, schemaFlow(`a: {listen: {zz_unknown: 1}}`)},
		{"gather", []string{"$defs", "gather"}, schemaFlow(`a: {gather: {zz_unknown: 1}, next: a}`)},
		{"branch", []string{"$defs", "branchCase"}, schemaFlow(`a: {branch: [{zz_unknown: 1}]}`)},
		{"lookup", []string{"$defs", "lookup"}, schemaFlow(`a: {lookup: {zz_unknown: 1}, next: a, on_failure: a}`)},
		{"queue", []string{"$defs", "queue"}, schemaFlow(`a: {queue: {zz_unknown: 1}}`)},
		{"voicemail", []string{"$defs", "voicemail"}, schemaFlow(`a: {voicemail: {zz_unknown: 1}}`)},
		{"callback", []string{"$defs", "callback"}, schemaFlow(`a: {callback: {zz_unknown: 1}}`)},
		{"survey", []string{"$defs", "survey"}, schemaFlow(`a: {survey: {zz_unknown: 1}, next: a}`)},
		{"hangup", []string{"$defs", "hangup"}, schemaFlow(`a: {hangup: {zz_unknown: 1}}`)},
		{"calendar", []string{"$defs", "calendar"}, top(`calendars: {c: {zz_unknown: 1}}`)},
		{"escalation", []string{"$defs", "escalation"}, top(`escalation: {zz_unknown: 1}`)},
		{"speech", []string{"$defs", "speech"}, top(`speech: {zz_unknown: 1}`)},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, diags := Parse("schema.yaml", []byte(c.flow))
			var known []string
			found := false
			for _, d := range diags {
				if _, list, ok := strings.Cut(d.Message, "unknown key \""+unknown+"\""); ok {
					_, list, found = strings.Cut(list, "known keys: ")
					if list != "" {
						known = strings.Split(list, ", ")
					}
				}
			}
			if !found {
				t.Fatalf("the parser did not list its known keys for %s:\n%v", c.flow, diags)
			}
			slices.Sort(known)
			if got := schemaKeys(t, doc, c.path...); !slices.Equal(got, known) {
				t.Errorf("the schema has keys %v; the parser knows %v", got, known)
			}
		})
	}
}

func TestSchemaReturnsACopy(t *testing.T) {
	a := Schema()
	a[0] = 'x'
	if b := Schema(); b[0] != '{' {
		t.Errorf("changing what Schema returned changed the schema: %q", b[:1])
	}
}

// The schema accepts the less common forms the parser accepts, so editors
// do not flag a flow that loads.
func TestSchemaAcceptsWhatTheParserAccepts(t *testing.T) {
	sch := compileSchema(t)
	top := func(extra string) string {
		return `{name: t, languages: [en], ` + extra + `, start: a, steps: {a: {hangup: {}}}}`
	}
	cases := []struct{ name, flow string }{
		{"disclosure true", top(`disclosure: true`)},
		{"recording a sample", top(`recording: 20%`)},
		{"recording none", top(`recording: none`)},
		{"recording kept 90 days", top(`recording: {record: 20%, retain: 90d}`)},
		{"speech for every language", top(`speech: whisper-http`)},
		{"speech per language", `{name: t, languages: [en, yue], speech: {engine: cloud, languages: {yue: none}}, start: a, steps: {a: {hangup: {}}}}`},
		{"variables of each type", top(`variables: {s: "", i: 3, f: 0.5, b: false, tier: gold}`)},
		{"calendar spans", top(`calendars: {c: {timezone: Asia/Jakarta, hours: {fri-mon: "08:00-12:00, 13:00-24:00"}, holidays: ["2026-12-25"]}}`)},
		{"escalation without after", `{name: t, languages: [en], escalation: {to: b}, start: a, steps: {a: {listen: {prompt: {en: Hi}, no_input: b, no_match: b}}, b: {hangup: {}}}}`},
		{"empty actions", schemaFlow(`a: {say: {en: Hi}, next: b}, b: {voicemail: }, c: {callback: {}}, d: {hangup: }`)},
		{"literal expressions", `{name: t, languages: [en], variables: {n: 0, v: false}, start: a, steps: {a: {set: {n: 1, v: true}, next: b}, b: {branch: [{when: true, goto: c}, {else: c}]}, c: {queue: {name: q, priority: 5, context: [caller, n]}}}}`},
		{"lookup on this server", `{name: t, languages: [en], variables: {x: ""}, start: a, steps: {a: {lookup: {url: "/api/x/{{caller}}", method: POST, timeout: 1m30s, map: {x: "a.b"}}, next: b, on_failure: b}, b: {hangup: {}}}}`},
		{"wav prompt and interruptible", schemaFlow(`a: {say: {wav: {en: hi.wav}}, interruptible: false, next: b}, b: {hangup: {}}`)},
		{"listen everything", `{name: t, languages: [en, pt-BR], disclosure: {en: Robot, pt-BR: Robô}, start: a, steps: {a: {listen: {prompt: {en: Hi, pt-BR: Oi}, reprompt: {en: Again, pt-BR: De novo}, intents: {human: b, none: b}, digits: {"0": b, "*": b, "#": b}, retries: 0, timeout: 500ms, min_confidence: 0, no_input: b, no_match: b}}, b: {transfer: "sips:desk@pbx.example.com"}}}`},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if _, diags := Parse("schema.yaml", []byte(c.flow)); diags.HasErrors() {
				t.Fatalf("the parser refuses %s:\n%v", c.flow, diags)
			}
			if err := sch.Validate(flowValue(t, []byte(c.flow))); err != nil {
				t.Errorf("the schema refuses a flow the parser accepts:\n%v", err)
			}
		})
	}
}
