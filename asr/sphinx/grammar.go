//go:build pocketsphinx

package sphinx

import (
	"fmt"
	"slices"
	"strconv"
	"strings"
)

// A grammar is the phrases one listen step expects, in the dictionary's
// words, compiled to a finite-state grammar: a tree of words from the
// start state, phrases sharing their common beginnings, each phrase's last
// word going to the final state, every state's ways out equally likely.
// Sharing matters: with one chain per phrase, the demo flow's 171 English
// phrases (many of them "I want to ...") made the search score the right
// phrase so poorly that rejection refused "refund" and "I want to return
// this"; as a tree it accepts them, and the 21-phrase figures are
// unchanged.
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

	// States: 0 starts, 1 ends; the phrases share their common beginnings
	// (a trie), so "i want to ..." is searched once, not once per phrase.
	var t strings.Builder
	n := 2
	node := map[string]int{"": 0} // phrase prefix -> state
	type arc struct {
		from, to int
		word     string
	}
	seenArc := map[arc]bool{}
	var arcs []arc
	emit := func(a arc) {
		if !seenArc[a] {
			seenArc[a] = true
			arcs = append(arcs, a)
		}
	}
	for _, p := range g.phrases {
		ws := strings.Fields(p)
		prefix := ""
		for i, w := range ws {
			from := node[prefix]
			if prefix != "" {
				prefix += " "
			}
			prefix += w
			if i == len(ws)-1 {
				emit(arc{from, 1, w})
				continue
			}
			to, ok := node[prefix]
			if !ok {
				to = n
				node[prefix] = n
				n++
			}
			emit(arc{from, to, w})
		}
	}
	// Each state's ways out are equally likely.
	out := map[int]int{}
	for _, a := range arcs {
		out[a.from]++
	}
	for _, a := range arcs {
		fmt.Fprintf(&t, "TRANSITION %d %d %s %s\n", a.from, a.to, prob(1/float64(out[a.from])), a.word)
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
