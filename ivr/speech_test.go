package ivr

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// hearChannel is a TextChannel that also records what it is asked to hear.
type hearChannel struct {
	*TextChannel
	heard []Hearing
}

func (h *hearChannel) Hear(x Hearing) { h.heard = append(h.heard, x) }

func TestSpeechParses(t *testing.T) {
	f := mustParse(t, "name: s\nlanguages: [en, yue]\nspeech: {engine: cloud, languages: {yue: canto-vosk}}\nstart: a\nsteps:\n  a: {hangup: {}}\n")
	if f.Speech.For("en") != "cloud" || f.Speech.For("yue") != "canto-vosk" || f.Speech.For("id") != "cloud" {
		t.Errorf("speech %+v", f.Speech)
	}
	if p := f.Speech.Names["canto-vosk"]; p.Line != 3 || p.Column != 42 {
		t.Errorf("canto-vosk written at %+v, want 3:42", p)
	}
	f = mustParse(t, "name: s\nlanguages: [en]\nspeech: none\nstart: a\nsteps:\n  a: {hangup: {}}\n")
	if f.Speech.For("en") != "none" {
		t.Errorf("speech %+v", f.Speech)
	}
	if f = mustParse(t, "name: s\nlanguages: [en]\nstart: a\nsteps:\n  a: {hangup: {}}\n"); f.Speech.For("en") != "" {
		t.Errorf("a flow without speech chose %q", f.Speech.For("en"))
	}
}

func TestSpeechErrors(t *testing.T) {
	for _, tc := range []struct{ speech, want string }{
		{"Cloud Engine", `3:9: speech: "Cloud Engine" is not a recognizer's name`},
		{"{engine: [a]}", `3:18: speech engine: expected a non-empty string, got a list`},
		{"{languages: {id: cloud}}", `3:22: speech languages: "id" is not a declared language`},
		{"{engin: cloud}", `3:10: speech: unknown key "engin" (did you mean "engine"?)`},
		{"[cloud]", `3:9: speech: expected a mapping`},
	} {
		_, diags := Parse("f.yaml", []byte("name: s\nlanguages: [en]\nspeech: "+tc.speech+"\nstart: a\nsteps:\n  a: {hangup: {}}\n"))
		if !diags.HasErrors() || !strings.Contains(diags.Error(), "f.yaml:"+tc.want) {
			t.Errorf("speech: %s gave\n%v\nwant f.yaml:%s", tc.speech, diags, tc.want)
		}
	}
}

// The runtime tells the channel the flow's recognizer for the call's
// language, again when the language changes, and a sub-flow that chose
// none hears with its caller's choice.
func TestRunHearsWithTheFlowsRecognizer(t *testing.T) {
	dir := t.TempDir()
	write := func(name, src string) {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(src), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	write("main.yaml", `
name: main
languages: [en, yue]
speech: {engine: cloud, languages: {yue: canto}}
intents:
  more: {en: [more please], yue: [再嚟]}
start: ask
steps:
  ask: {listen: {prompt: {en: Say more, yue: 講多啲}, intents: {more: sub}, no_input: bye, no_match: bye}}
  sub: {goto: sub.yaml}
  bye: {hangup: {}}
`)
	write("sub.yaml", `
name: sub
languages: [en, yue]
intents:
  yes: {en: [yes], yue: [係]}
start: ask
steps:
  ask: {listen: {prompt: {en: Sure, yue: 係咪}, intents: {yes: bye}, no_input: bye, no_match: bye}}
  bye: {hangup: {}}
`)
	f, err := Load(filepath.Join(dir, "main.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	turns := []Turn{{Say: "廣東話"}, {Say: "再嚟"}, {Say: "係"}}
	i := 0
	ch := &hearChannel{TextChannel: &TextChannel{From: "+1", Next: func() (Turn, bool) {
		if i >= len(turns) {
			return Turn{}, false
		}
		i++
		return turns[i-1], true
	}}}
	out := (&Runtime{}).Run(ch.Start(t.Context()), f, ch)
	if out.Err != nil {
		t.Fatal(out.Err)
	}
	var got []string
	for _, h := range ch.heard {
		got = append(got, h.Language+"="+h.Engine)
		if len(h.Phrases) == 0 {
			t.Errorf("heard %+v with no phrases", h)
		}
	}
	if want := []string{"en=cloud", "yue=canto", "yue=canto"}; !slices.Equal(got, want) {
		t.Errorf("heard with %v, want %v", got, want)
	}
}
