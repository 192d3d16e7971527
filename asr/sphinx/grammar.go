//go:build pocketsphinx

package sphinx

import (
	"fmt"
	"slices"
	"strconv"
	"strings"
)

// A grammar is the phrases one listen step expects, in the dictionary's
// words, compiled to a finite-state grammar: each phrase a chain of words
// from the start state to the final one, all phrases equally likely.
type grammar struct {
	phrases []string // normalised phrases, sorted, no duplicates
	missing []string // words of the flow's phrases the dictionary lacks, sorted
	fsg     string   // the grammar in PocketSphinx's FSG text format
	words   []entry  // dictionary entries it uses
}

// newGrammar builds the grammar for phrases. A word the dictionary lacks is
// dropped from its phrase (and listed in missing); a phrase left empty is
// dropped.
func newGrammar(dict dictionary, phrases []string) (*grammar, error) {
	seen := map[string]bool{}
	miss := map[string]bool{}
	g := &grammar{}
	var words []string
	for _, p := range phrases {
		var kept []string
		for _, w := range normalize(p) {
			if _, ok := dict[w]; !ok {
				miss[w] = true
				continue
			}
			kept = append(kept, w)
		}
		s := strings.Join(kept, " ")
		if s == "" || seen[s] {
			continue
		}
		seen[s] = true
		g.phrases = append(g.phrases, s)
		words = append(words, kept...)
	}
	for w := range miss {
		g.missing = append(g.missing, w)
	}
	slices.Sort(g.missing)
	if len(g.phrases) == 0 {
		return nil, fmt.Errorf("no phrase has a word in the pronunciation dictionary (missing: %s)", strings.Join(g.missing, ", "))
	}
	slices.Sort(g.phrases)
	g.words = dict.entries(words)

	// States: 0 starts, 1 ends, each phrase a chain between them.
	var t strings.Builder
	n := 2
	prior := prob(1 / float64(len(g.phrases)))
	for _, p := range g.phrases {
		ws := strings.Fields(p)
		from, pr := 0, prior
		for i, w := range ws {
			to := 1
			if i < len(ws)-1 {
				to = n
				n++
			}
			fmt.Fprintf(&t, "TRANSITION %d %d %s %s\n", from, to, pr, w)
			from, pr = to, "1"
		}
	}
	g.fsg = fmt.Sprintf("FSG_BEGIN phrases\nNUM_STATES %d\nSTART_STATE 0\nFINAL_STATE 1\n%sFSG_END\n", n, t.String())
	return g, nil
}

// The phone loop is the yardstick of rejection: a grammar of any sequence
// of phones, one loop word per phone, each equally likely. With no
// lexical constraint it fits any speech at least about as well as the
// phrases do; how much worse the phrases fit is the margin (see
// Config.MinMargin).

// loopPrefix starts the name of each loop word.
const loopPrefix = "phone_"

// phones are the base phones of the US-English model.
var phones = strings.Fields("AA AE AH AO AW AY B CH D DH EH ER EY F G HH IH IY JH K L M N NG OW OY P R S SH T TH UH UW V W Y Z ZH")

// loopWords are the dictionary entries of the phone loop.
var loopWords = func() []entry {
	var ws []entry
	for _, ph := range phones {
		ws = append(ws, entry{loopPrefix + strings.ToLower(ph), ph})
	}
	return ws
}()

// loopFSG is the phone loop in PocketSphinx's FSG text format.
var loopFSG = func() string {
	var t strings.Builder
	t.WriteString("FSG_BEGIN loop\nNUM_STATES 2\nSTART_STATE 0\nFINAL_STATE 1\n")
	each := prob(1 / float64(len(phones)))
	for _, w := range loopWords {
		fmt.Fprintf(&t, "TRANSITION 0 1 %s %s\nTRANSITION 1 1 %s %s\n", each, w.word, each, w.word)
	}
	t.WriteString("FSG_END\n")
	return t.String()
}()

func prob(p float64) string { return strconv.FormatFloat(p, 'g', -1, 64) }
