package demo

import (
	"bytes"
	"context"
	"encoding/json"
	"io/fs"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/sambung/sambung/ivr"
)

// The demo flow loads from the binary alone, its training file included,
// and the training rows teach the classifier without joining the phrases
// the recogniser listens for.
func TestDemoFlowTraining(t *testing.T) {
	f, diags := ParseFlow()
	if diags.HasErrors() {
		t.Fatal(diags)
	}
	rows := 0
	for _, byLang := range f.Training {
		for _, ex := range byLang {
			rows += len(ex)
		}
	}
	if rows < 1000 || len(f.TrainingFiles) != 1 {
		t.Fatalf("%d training rows from %v, want the rows of default.training.tsv", rows, f.TrainingFiles)
	}
	for _, lang := range f.Languages {
		if n := len(f.Phrases(lang)); n > 400 {
			t.Errorf("%s: %d phrases to listen for; the training rows must not be among them", lang, n)
		}
	}
}

func BenchmarkDemoFlowLoad(b *testing.B) {
	b.ReportAllocs()
	for b.Loop() {
		f, diags := ParseFlow()
		if diags.HasErrors() {
			b.Fatal(diags)
		}
		f.Classify("where is my parcel", "en") // trains the classifier
	}
}

// The demo flow's conversations pass, and together they enter every step.
func TestDemoFlowTests(t *testing.T) {
	tf, err := ivr.LoadTests("flows/default.test.yaml")
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range tf.Run(context.Background()) {
		if !r.Passed {
			t.Errorf("%s: %v", r.Name, r.Failures)
		}
	}
	if left := tf.Uncovered(); len(left) != 0 {
		t.Errorf("no test enters %v", left)
	}
}

// The embedded flow is the file on disk, and it loads clean.
func TestEmbeddedFlowIsTheFile(t *testing.T) {
	disk, err := os.ReadFile("flows/default.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(disk, Flow()) {
		t.Fatal("the embedded flow differs from flows/default.yaml")
	}
	training, err := fs.ReadFile(Files(), "default.training.tsv")
	if disk, _ := os.ReadFile("flows/default.training.tsv"); err != nil || !bytes.Equal(disk, training) {
		t.Fatalf("the embedded training file differs from flows/default.training.tsv (%v)", err)
	}
	if _, diags := ParseFlow(); len(diags) != 0 {
		t.Fatalf("the demo flow has diagnostics:\n%v", diags)
	}
}

// Everything the flow may say is pre-rendered and audible, so `make run`
// speaks with no TTS: a voice with no TTS says every prompt of the flow.
func TestEveryPromptIsPrerendered(t *testing.T) {
	f, diags := ParseFlow()
	if diags.HasErrors() {
		t.Fatal(diags)
	}
	for _, tx := range ivr.Texts(f) {
		fh, err := Prompts().Open(ivr.SeedName(tx[0], tx[1]))
		if err != nil {
			t.Errorf("%s %q is not rendered; run bash scripts/prompts.sh", tx[0], tx[1])
			continue
		}
		fh.Close()
	}
	v := &ivr.PromptVoice{Seed: Prompts()}
	if err := v.Prepare(context.Background(), f); err != nil {
		t.Errorf("with no TTS: %v", err)
	}
	// A templated answer is said from its pieces and the digits.
	audio, err := v.Speak(context.Background(), "en", "Order 12345 has shipped and should arrive in 2 days.", []ivr.Piece{
		{Text: "Order "}, {Text: "12345", Value: true}, {Text: " has shipped and should arrive in "}, {Text: "2", Value: true}, {Text: " days."}})
	if err != nil {
		t.Fatal(err)
	}
	if len(audio) != 1+5+1+1+1 {
		t.Errorf("%d pieces of audio, want 9 (text, 5 digits, text, a digit, text)", len(audio))
	}
	var total time.Duration
	for _, a := range audio {
		total += a.Duration()
	}
	if total < 3*time.Second {
		t.Errorf("the answer lasts %v", total)
	}
}

func TestCRM(t *testing.T) {
	srv := httptest.NewServer(CRM())
	defer srv.Close()
	for _, tc := range []struct {
		path   string
		status int
		want   string
	}{
		{"/demo/crm/customers/+6281100001111", 200, `{"name":"Ayu","tier":"vip"}`},
		{"/demo/crm/customers/+620000", 404, ""},
		{"/demo/crm/orders/12345", 200, `{"state":"shipped","eta_days":2}`},
		{"/demo/crm/orders/0", 404, ""},
	} {
		resp, err := http.Get(srv.URL + tc.path)
		if err != nil {
			t.Fatal(err)
		}
		var got any
		_ = json.NewDecoder(resp.Body).Decode(&got)
		resp.Body.Close()
		if resp.StatusCode != tc.status {
			t.Errorf("%s: status %d, want %d", tc.path, resp.StatusCode, tc.status)
		}
		if tc.want != "" {
			var want any
			_ = json.Unmarshal([]byte(tc.want), &want)
			if gb, _ := json.Marshal(got); string(gb) != mustJSON(want) {
				t.Errorf("%s: %s, want %s", tc.path, gb, tc.want)
			}
		}
	}
}

func mustJSON(v any) string {
	b, _ := json.Marshal(v)
	return string(b)
}

// A deliberately wrong expectation in the demo's own tests fails, naming
// the field: the tests above can fail.
func TestDemoFlowTestsCanFail(t *testing.T) {
	dir := t.TempDir()
	tests, err := os.ReadFile("flows/default.test.yaml")
	if err != nil {
		t.Fatal(err)
	}
	wrong := bytes.Replace(tests, []byte("eta_days: 2, csat: 5}"), []byte("eta_days: 2, csat: 4}"), 1)
	if bytes.Equal(wrong, tests) {
		t.Fatal("the expectation to break is not in the test file any more")
	}
	if err := os.WriteFile(dir+"/default.test.yaml", wrong, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(dir+"/default.yaml", Flow(), 0o600); err != nil {
		t.Fatal(err)
	}
	training, err := fs.ReadFile(Files(), "default.training.tsv")
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(dir+"/default.training.tsv", training, 0o600); err != nil {
		t.Fatal(err)
	}
	tf, err := ivr.LoadTests(dir + "/default.test.yaml")
	if err != nil {
		t.Fatal(err)
	}
	failed := 0
	for _, r := range tf.Run(context.Background()) {
		if !r.Passed {
			failed++
			if len(r.Failures) != 1 || !strings.Contains(r.Failures[0], "csat: got 5, want 4") {
				t.Errorf("%s failed with %q", r.Name, r.Failures)
			}
		}
	}
	if failed != 1 {
		t.Errorf("%d tests failed, want exactly the one with the wrong expectation", failed)
	}
}
