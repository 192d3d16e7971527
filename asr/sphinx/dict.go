//go:build pocketsphinx

package sphinx

import (
	"bufio"
	"fmt"
	"os"
	"strings"
	"unicode"
)

// dictionary is the pronunciation dictionary (CMUdict as PocketSphinx
// ships it): each word and its pronunciations, the first the most common.
// The Engine reads it once; each grammar's decoder gets only the words it
// uses, which makes a decoder start in milliseconds instead of parsing
// 134,000 entries.
type dictionary map[string][]string

// readDictionary reads a PocketSphinx dictionary: lines of "word PH ON ES",
// alternative pronunciations spelt "word(2)".
func readDictionary(path string) (dictionary, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("read pronunciation dictionary: %w", err)
	}
	defer f.Close()
	d := make(dictionary, 140000)
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		word, phones, ok := strings.Cut(strings.TrimSpace(sc.Text()), " ")
		if !ok || word == "" {
			continue
		}
		if i := strings.IndexByte(word, '('); i > 0 && strings.HasSuffix(word, ")") {
			word = word[:i]
		}
		d[word] = append(d[word], strings.TrimSpace(phones))
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("read pronunciation dictionary %s: %w", path, err)
	}
	if len(d) == 0 {
		return nil, fmt.Errorf("read pronunciation dictionary %s: no words in it", path)
	}
	return d, nil
}

// An entry is one pronunciation: a word (alternatives named as
// PocketSphinx names them, "read(2)") and its phones ("R IY D").
type entry struct{ word, phones string }

// entries returns the dictionary entries for words, each once, a word's
// alternative pronunciations right after it (PocketSphinx adds them to
// the word before).
func (d dictionary) entries(words []string) []entry {
	var out []entry
	seen := map[string]bool{}
	for _, w := range words {
		if seen[w] {
			continue
		}
		seen[w] = true
		for i, p := range d[w] {
			name := w
			if i > 0 {
				name = fmt.Sprintf("%s(%d)", w, i+1)
			}
			out = append(out, entry{name, p})
		}
	}
	return out
}

// normalize turns a phrase as a flow writes it ("I want to return this!")
// into the dictionary's spelling: lower-case words of letters, digits and
// apostrophes.
func normalize(phrase string) []string {
	f := strings.FieldsFunc(strings.ToLower(phrase), func(r rune) bool {
		return !unicode.IsLetter(r) && !unicode.IsDigit(r) && r != '\''
	})
	out := f[:0]
	for _, w := range f {
		if w = strings.Trim(w, "'"); w != "" {
			out = append(out, w)
		}
	}
	return out
}
