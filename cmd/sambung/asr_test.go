package main

import (
	"io"
	"log/slog"
	"strings"
	"testing"

	"github.com/sambung/sambung/ivr"
)

func TestRecognizerConfigErrors(t *testing.T) {
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"--asr.recognizers", "Cloud=whisper-http"}, `name "Cloud": use lower-case letters`},
		{[]string{"--asr.recognizers", "vosk=whisper-http"}, `name "vosk" is taken`},
		{[]string{"--asr.recognizers", "a=whisper-http,a=vosk"}, `name "a" is given twice`},
		{[]string{"--asr.recognizers", "a=whisper"}, `no engine "whisper" in this build (engines: `},
		{[]string{"--asr.recognizers", "a=whisper-http api_key=sk-123"}, `api_key: expected env:VARIABLE`},
		{[]string{"--asr.recognizers", "a=whisper-http modle=x"}, `unknown setting "modle" (did you mean "model"?)`},
		{[]string{"--asr.recognizers", "a=whisper-http timeout=soon"}, `timeout: expected a duration of at least 1s`},
		{[]string{"--asr.engine", "cloud"}, `asr.engine: no recognizer "cloud" (known: none, `},
		{[]string{"--asr.fallback", "backup"}, `asr.fallback: no recognizer "backup"`},
		{[]string{"--asr.languages", "id"}, `asr.languages: "id" is not LANG=RECOGNIZER`},
		{[]string{"--asr.languages", "id=cloud"}, `asr.languages id: no recognizer "cloud"`},
	} {
		_, _, err := resolve(t, tc.args, nil)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%v: %v, want an error saying %q", tc.args, err, tc.want)
		}
	}
	cfg, _, err := resolve(t, []string{"--asr.recognizers", "cloud=whisper-http url=http://127.0.0.1:9 api_key=env:CLOUD_KEY timeout=3s",
		"--asr.languages", "id=cloud", "--asr.fallback", "none"}, nil)
	if err != nil {
		t.Fatalf("a good configuration refused: %v", err)
	}
	if specs, _ := cfg.ASR.recognizerSpecs(); len(specs) != 1 || specs[0].apiKeyVar != "CLOUD_KEY" || specs[0].timeout.Seconds() != 3 {
		t.Errorf("specs %+v", specs)
	}
}

// The call's recognizer is the flow's choice for its language, else
// asr.languages, else asr.engine; each behind the fallback, except the
// fallback itself and none.
func TestSpeechChoice(t *testing.T) {
	cfg := defaultConfig().ASR
	cfg.Recognizers = []string{"cloud=whisper-http url=http://127.0.0.1:9", "backup=whisper-http url=http://127.0.0.1:10",
		"keyed=whisper-http url=http://127.0.0.1:11 api_key=env:SAMBUNG_TEST_KEY"}
	cfg.Engine, cfg.Fallback = "cloud", "backup"
	cfg.Languages = []string{"yue=none", "id=backup"}
	if errs := cfg.checkChoices(mustSpecs(t, cfg)); len(errs) > 0 {
		t.Fatal(errs)
	}
	sp, err := newSpeech(cfg, nil, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		t.Fatal(err)
	}
	cloud := sp.For("", "en")
	if cloud == nil || cloud.Name() != "cloud: whisper-http (fallback whisper-http)" || sp.For("cloud", "zh") != cloud {
		t.Errorf("asr.engine's recognizer: %v", cloud)
	}
	if r := sp.For("", "yue"); r != nil {
		t.Errorf("yue=none gave %v", r.Name())
	}
	backup := sp.For("", "id")
	if backup == nil || backup == cloud || backup.Name() != "backup: whisper-http" {
		t.Errorf("id=backup, the fallback itself, gave %v; want it without a fallback behind it", backup)
	}
	if r := sp.For("none", "en"); r != nil {
		t.Errorf("a flow's none gave %v", r.Name())
	}
	if r := sp.For("cloud", "yue"); r != cloud {
		t.Errorf("the flow's cloud for yue gave %v, want asr.languages overridden", r)
	}

	flow := func(speech string) *ivr.Flow {
		f, diags := ivr.Parse("line.yaml", []byte("name: s\nlanguages: [en]\nspeech: "+speech+"\nstart: a\nsteps:\n  a: {hangup: {}}\n"))
		if diags.HasErrors() {
			t.Fatal(diags)
		}
		return f
	}
	if err := sp.Check(flow("{engine: cloud, languages: {en: backup}}")); err != nil {
		t.Errorf("a flow naming known recognizers: %v", err)
	}
	err = sp.Check(flow("{engine: clod}"))
	if err == nil || !strings.Contains(err.Error(), `line.yaml:3:18: speech: recognizer "clod": no recognizer "clod" on this server (known: none, `) {
		t.Errorf("a flow naming an unknown recognizer: %v", err)
	}
	err = sp.Check(flow("keyed"))
	if err == nil || !strings.Contains(err.Error(), "line.yaml:3:9:") || !strings.Contains(err.Error(), "SAMBUNG_TEST_KEY, which is not set") {
		t.Errorf("a flow naming a recognizer whose key is missing: %v", err)
	}
	sp.environ = []string{"SAMBUNG_TEST_KEY=sk-test"}
	if err := sp.Check(flow("keyed")); err != nil {
		t.Errorf("with its key set: %v", err)
	}
}

func mustSpecs(t *testing.T, cfg ASRConfig) []recognizerSpec {
	t.Helper()
	specs, err := cfg.recognizerSpecs()
	if err != nil {
		t.Fatal(err)
	}
	return specs
}
