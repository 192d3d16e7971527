package ivr

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"slices"
	"strings"
	"unicode/utf8"

	"github.com/sambung/sambung/asr/intent"

	"go.yaml.in/yaml/v3"
)

// Training files: more examples for the flow's intent classifier, kept in
// TSV files beside the flow (training: [FILE.tsv, ...]). A file has a
// header line, text<TAB>language<TAB>intent, then one example a line;
// lines starting with # are comments. The rows teach the classifier only:
// they are not phrases the recogniser listens for (Flow.Phrases), since a
// grammar of thousands of phrases makes a small recogniser such as
// PocketSphinx slower and less accurate, while the classifier gains from
// every way of saying an intent.

// maxTrainingFile bounds a training file: far more than any flow needs
// (the demo's is about 60 KiB), and a guard against a path that names
// something endless.
const maxTrainingFile = 16 << 20

// trainingHeader is a training file's header line, column by column.
var trainingHeader = []string{"text", "language", "intent"}

// ClassifierExamples returns what f's intent classifier learns from: the
// examples written under intents and the rows of the training files.
func (f *Flow) ClassifierExamples() intent.Examples {
	all := intent.Examples{}
	for _, src := range []map[string]map[string][]string{f.Intents, f.Training} {
		for name, byLang := range src {
			if all[name] == nil {
				all[name] = map[string][]string{}
			}
			for lang, ex := range byLang {
				all[name][lang] = append(all[name][lang], ex...)
			}
		}
	}
	return all
}

// parseTraining reads training: [FILE.tsv, ...], after the languages and
// intents, against which every row is checked.
func (p *parser) parseTraining(n *yaml.Node) {
	if n.Kind != yaml.SequenceNode {
		p.errorf(n, "training: expected a list of TSV files, such as [more-examples.tsv], got %s", kindWord(n))
		return
	}
	seen := map[string]bool{}
	for _, c := range n.Content {
		rel, ok := p.str(c, "training")
		if !ok {
			continue
		}
		if seen[rel] {
			p.errorf(c, "training: %s is listed twice; keep one", rel)
			continue
		}
		seen[rel] = true
		shown := rel
		if !filepath.IsAbs(rel) {
			shown = filepath.Join(filepath.Dir(p.file), rel)
		}
		data, err := p.readBeside(rel)
		if err != nil {
			p.errorf(c, "training: %s: %v", shown, err)
			continue
		}
		p.flow.TrainingFiles = append(p.flow.TrainingFiles, rel)
		p.extra = append(p.extra, data)
		p.trainingRows(shown, data)
	}
}

// readBeside reads the file at rel, relative to the flow's file: from
// p.dir when the flow was read from a file system of its own (ParseFS),
// else from disk. Its errors say what is wrong and how to fix it.
func (p *parser) readBeside(rel string) ([]byte, error) {
	var (
		fh  fs.File
		err error
	)
	if p.dir != nil {
		name := path.Clean(filepath.ToSlash(rel))
		if !fs.ValidPath(name) {
			return nil, errors.New("this flow is read from embedded files, so a file it names must be in its directory or below, without .. or a leading /")
		}
		fh, err = p.dir.Open(name)
	} else {
		full := rel
		if !filepath.IsAbs(full) {
			full = filepath.Join(filepath.Dir(p.file), rel)
		}
		fh, err = os.Open(full)
	}
	if errors.Is(err, fs.ErrNotExist) {
		return nil, errors.New("the file does not exist (paths are relative to this flow's file)")
	}
	if err != nil {
		return nil, pathless(err)
	}
	defer fh.Close()
	st, err := fh.Stat()
	switch {
	case err != nil:
		return nil, pathless(err)
	case !st.Mode().IsRegular():
		return nil, errors.New("not a regular file; name a TSV file")
	case st.Size() > maxTrainingFile:
		return nil, fmt.Errorf("%d bytes, over the %d MiB a training file may hold; split it", st.Size(), maxTrainingFile>>20)
	}
	data, err := io.ReadAll(io.LimitReader(fh, maxTrainingFile+1))
	if err != nil {
		return nil, pathless(err)
	}
	if len(data) > maxTrainingFile {
		return nil, fmt.Errorf("over the %d MiB a training file may hold; split it", maxTrainingFile>>20)
	}
	return data, nil
}

// pathless drops the path from a *fs.PathError: the diagnostic names the
// file already.
func pathless(err error) error {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return pe.Err
	}
	return err
}

// trainingRows checks the rows of the training file shown as file and adds
// them to the flow's Training. Every problem is reported at its line and
// column in that file.
func (p *parser) trainingRows(file string, data []byte) {
	intents := []string{intent.Human, intent.None}
	for name := range p.flow.Intents {
		if !slices.Contains(intents, name) {
			intents = append(intents, name)
		}
	}
	slices.Sort(intents)
	at := func(line, col int, sev Severity, format string, args ...any) {
		p.diags = append(p.diags, Diagnostic{File: file, Line: line, Column: col, Message: fmt.Sprintf(format, args...), Severity: sev})
	}

	header, rows := false, 0
	for i, line := range strings.Split(string(data), "\n") {
		n := i + 1
		line = strings.TrimSuffix(line, "\r")
		if strings.TrimSpace(line) == "" || strings.HasPrefix(line, "#") {
			continue
		}
		if !utf8.ValidString(line) {
			at(n, 1, SeverityError, "the line is not UTF-8 text; save the file as UTF-8")
			continue
		}
		fields := strings.Split(line, "\t")
		if !header {
			if !isTrainingHeader(fields) {
				at(n, 1, SeverityError, "the first line that is not a comment must be the header text<TAB>language<TAB>intent (tab-separated), got %q", line)
				return // the columns are unknown: no row can be read
			}
			header = true
			continue
		}
		if len(fields) != len(trainingHeader) {
			at(n, 1, SeverityError, "%d fields, want 3: text, language and intent, separated by tabs", len(fields))
			continue
		}
		text, lang, name := strings.TrimSpace(fields[0]), strings.TrimSpace(fields[1]), strings.TrimSpace(fields[2])
		langCol := utf8.RuneCountInString(fields[0]) + 2
		intentCol := langCol + utf8.RuneCountInString(fields[1]) + 1
		switch {
		case text == "":
			at(n, 1, SeverityError, "the text is empty; write what a caller says, or remove the row")
		case !slices.Contains(p.flow.Languages, lang):
			at(n, langCol, SeverityError, "language %q is not declared by the flow%s; use one of %s, or remove the row",
				lang, didYouMean(lang, p.flow.Languages), strings.Join(p.flow.Languages, ", "))
		case !slices.Contains(intents, name):
			at(n, intentCol, SeverityError, "intent %q is not declared%s; declare it under intents, or use one of %s",
				name, didYouMean(name, intents), strings.Join(intents, ", "))
		default:
			rows++
			if p.flow.Training[name] == nil {
				p.flow.Training[name] = map[string][]string{}
			}
			p.flow.Training[name][lang] = append(p.flow.Training[name][lang], text)
		}
	}
	switch {
	case !header:
		at(1, 1, SeverityError, "the file has no header line; begin it with text<TAB>language<TAB>intent")
	case rows == 0 && !slices.ContainsFunc(p.diags, func(d Diagnostic) bool { return d.File == file }):
		at(1, 1, SeverityWarning, "the file has no rows after the header; add examples or remove it from training")
	}
}

func isTrainingHeader(fields []string) bool {
	if len(fields) != len(trainingHeader) {
		return false
	}
	for i, f := range fields {
		if !strings.EqualFold(strings.TrimSpace(f), trainingHeader[i]) {
			return false
		}
	}
	return true
}
