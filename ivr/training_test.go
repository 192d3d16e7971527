package ivr

import (
	"os"
	"path/filepath"
	"slices"
	"testing"
	"testing/fstest"
)

// trainingFlow is a small flow whose classifier learns from training.
func trainingFlow(training string) []byte {
	return []byte("name: t\nlanguages: [en, id]\n" +
		"intents:\n" +
		"  order_status: {en: [where is my order], id: [di mana pesanan saya]}\n" +
		"  refund: {en: [I want a refund], id: [saya mau refund]}\n" +
		training +
		"start: a\nsteps:\n  a: {hangup: {}}\n")
}

const trainingHeaderLine = "text\tlanguage\tintent\n"

// writeFlow writes the flow and files into a new directory and parses the
// flow from disk, as Load does.
func parseTrainingFlow(t *testing.T, training string, files map[string]string) (*Flow, Diagnostics, string) {
	t.Helper()
	dir := t.TempDir()
	for name, data := range files {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(data), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	path := filepath.Join(dir, "flow.yaml")
	f, diags := Parse(path, trainingFlow(training))
	return f, diags, dir
}

func TestTrainingDiagnostics(t *testing.T) {
	tests := []struct {
		name     string
		training string
		file     string // the data of rows.tsv; "" for no file
		inFile   string // the file the diagnostic names: flow.yaml or rows.tsv
		want     []want
	}{
		{"missing file", "training: [nothere.tsv]\n", "", "flow.yaml",
			[]want{{"6:12", "nothere.tsv: the file does not exist (paths are relative to this flow's file)", false}}},
		{"not a list", "training: rows.tsv\n", "", "flow.yaml",
			[]want{{"6:11", `training: expected a list of TSV files`, false}}},
		{"listed twice", "training: [rows.tsv, rows.tsv]\n", trainingHeaderLine + "parcel\ten\torder_status\n", "flow.yaml",
			[]want{{"6:22", "rows.tsv is listed twice", false}}},
		{"bad header", "training: [rows.tsv]\n", "# a comment\ntext\tintent\tlanguage\nparcel\ten\torder_status\n", "rows.tsv",
			[]want{{"2:1", `the header text<TAB>language<TAB>intent (tab-separated), got "text\tintent\tlanguage"`, false}}},
		{"no header", "training: [rows.tsv]\n", "# only a comment\n", "rows.tsv",
			[]want{{"1:1", "the file has no header line", false}}},
		{"two fields", "training: [rows.tsv]\n", trainingHeaderLine + "where is my parcel\ten\n", "rows.tsv",
			[]want{{"2:1", "2 fields, want 3: text, language and intent, separated by tabs", false}}},
		{"four fields", "training: [rows.tsv]\n", trainingHeaderLine + "where is my parcel\ten\torder_status\textra\n", "rows.tsv",
			[]want{{"2:1", "4 fields, want 3", false}}},
		{"unknown intent", "training: [rows.tsv]\n", trainingHeaderLine + "where is my parcel\ten\torder_stats\n", "rows.tsv",
			[]want{{"2:23", `intent "order_stats" is not declared (did you mean "order_status"?)`, false}}},
		{"undeclared language", "training: [rows.tsv]\n", trainingHeaderLine + "我想退款\tzh\trefund\n", "rows.tsv",
			[]want{{"2:6", `language "zh" is not declared by the flow; use one of en, id`, false}}},
		{"language typo", "training: [rows.tsv]\n", trainingHeaderLine + "mana paket saya\tidn\torder_status\n", "rows.tsv",
			[]want{{"2:17", `language "idn" is not declared by the flow (did you mean "id"?)`, false}}},
		{"empty text", "training: [rows.tsv]\n", trainingHeaderLine + "  \ten\trefund\n", "rows.tsv",
			[]want{{"2:1", "the text is empty", false}}},
		{"header only", "training: [rows.tsv]\n", trainingHeaderLine, "rows.tsv",
			[]want{{"1:1", "the file has no rows after the header", true}}},
		{"fine", "training: [rows.tsv]\n", "# examples\r\n" + "Text\tLanguage\tIntent\r\n" + "where is my parcel\ten\torder_status\r\n\r\n" + "uang saya kembali\tid\trefund\n" + "please hold\ten\thuman\n", "", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			files := map[string]string{}
			if tt.file != "" {
				files["rows.tsv"] = tt.file
			}
			_, diags, dir := parseTrainingFlow(t, tt.training, files)
			checkDiags(t, filepath.Join(dir, tt.inFile), diags, tt.want)
		})
	}
}

// Training rows change what the classifier says, and the flow's version,
// but not the phrases the recogniser listens for.
func TestTrainingTeachesClassifierNotRecogniser(t *testing.T) {
	const said = "the courier lost my shipment"
	plain, diags, _ := parseTrainingFlow(t, "", nil)
	if len(diags) != 0 {
		t.Fatal(diags)
	}
	rows := trainingHeaderLine +
		"the courier lost my shipment\ten\torder_status\n" +
		"courier shipment lost\ten\torder_status\n" +
		"kurir kehilangan kiriman saya\tid\torder_status\n"
	trained, diags, _ := parseTrainingFlow(t, "training: [rows.tsv]\n", map[string]string{"rows.tsv": rows})
	if len(diags) != 0 {
		t.Fatal(diags)
	}
	if got := plain.Classify(said, "en").Intent; got == "order_status" {
		t.Fatalf("without training, %q is already order_status: the test proves nothing", said)
	}
	if got := trained.Classify(said, "en"); got.Intent != "order_status" {
		t.Errorf("with training, %q is %s (%.2f), want order_status", said, got.Intent, got.Confidence)
	}
	if got := trained.Training["order_status"]["en"]; !slices.Equal(got, []string{"the courier lost my shipment", "courier shipment lost"}) {
		t.Errorf("Training[order_status][en] = %q", got)
	}
	for _, lang := range []string{"en", "id"} {
		if p, q := plain.Phrases(lang), trained.Phrases(lang); !slices.Equal(p, q) {
			t.Errorf("%s: phrases with training %q, want those without %q", lang, q, p)
		}
	}
	if slices.Contains(trained.Phrases("en"), said) || !slices.Contains(trained.Phrases("en"), "where is my order") {
		t.Errorf("phrases %q: want the intents' examples and no training row", trained.Phrases("en"))
	}
	if plain.Hash == trained.Hash {
		t.Error("the training file did not change the flow's version")
	}
}

// ParseFS reads training files from the flow's directory as a file
// system (an embedded demo), names them beside the flow in diagnostics,
// and keeps them inside it.
func TestParseFSTraining(t *testing.T) {
	dir := fstest.MapFS{
		"rows.tsv": {Data: []byte(trainingHeaderLine + "courier lost it\ten\torder_status\n")},
		"bad.tsv":  {Data: []byte(trainingHeaderLine + "courier lost it\ten\tshipping\n")},
	}
	f, diags := ParseFS(dir, "flows/main.yaml", trainingFlow("training: [rows.tsv]\n"))
	if len(diags) != 0 || len(f.Training["order_status"]["en"]) != 1 || !slices.Equal(f.TrainingFiles, []string{"rows.tsv"}) {
		t.Fatalf("Training %v from %v, diagnostics %v", f.Training, f.TrainingFiles, diags)
	}
	_, diags = ParseFS(dir, "flows/main.yaml", trainingFlow("training: [bad.tsv]\n"))
	checkDiags(t, filepath.Join("flows", "bad.tsv"), diags, []want{{"2:20", `intent "shipping" is not declared`, false}})
	_, diags = ParseFS(dir, "flows/main.yaml", trainingFlow("training: [../rows.tsv]\n"))
	checkDiags(t, "flows/main.yaml", diags, []want{{"6:12", "must be in its directory or below", false}})
}
