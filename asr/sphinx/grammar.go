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
// this"; as a tree it accepts them.
//
// Beside the tree, the grammar may have a free loop of phones from the
// start state to the final one (see fsg): speech that no phrase fits ends
// up there, in the same search, rather than in a second decode.
type grammar struct {
	phrases []string       // normalised phrases, sorted, no duplicates
	missing []string       // words of the flow's phrases the dictionary lacks, sorted
	words   []entry        // dictionary entries it uses
	phones  map[string]int // phones of each entry, by its name ("read(2)")
	arcs    []arc          // the tree of phrases: state 0 starts, 1 ends
	states  int            // states of the tree
}

// An arc is one word's transition of a grammar.
type arc struct {
	from, to int
	word     string
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
	g.phones = make(map[string]int, len(g.words))
	for _, e := range g.words {
		g.phones[e.word] = len(strings.Fields(e.phones))
	}

	// States: 0 starts, 1 ends; the phrases share their common beginnings
	// (a trie), so "i want to ..." is searched once, not once per phrase.
	g.states = 2
	node := map[string]int{"": 0} // phrase prefix -> state
	seenArc := map[arc]bool{}
	emit := func(a arc) {
		if !seenArc[a] {
			seenArc[a] = true
			g.arcs = append(g.arcs, a)
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
				to = g.states
				node[prefix] = to
				g.states++
			}
			emit(arc{from, to, w})
		}
	}
	return g, nil
}

// fsg returns the grammar in PocketSphinx's FSG text format. Each state's
// ways out along the tree are equally likely. With loop > 0 a loop of
// phones runs beside the tree, from the start state to the final one, each
// phone loop times as likely as one of the 39 chosen at random: the
// yardstick of rejection (see Config.MinMargin). A path through it is a
// loop word per phone (loopPrefix), and means no phrase was heard.
func (g *grammar) fsg(loop float64) string {
	var t strings.Builder
	states := g.states
	if loop > 0 {
		states++
	}
	fmt.Fprintf(&t, "FSG_BEGIN phrases\nNUM_STATES %d\nSTART_STATE 0\nFINAL_STATE 1\n", states)
	out := map[int]int{}
	for _, a := range g.arcs {
		out[a.from]++
	}
	for _, a := range g.arcs {
		fmt.Fprintf(&t, "TRANSITION %d %d %s %s\n", a.from, a.to, prob(1/float64(out[a.from])), a.word)
	}
	if loop > 0 {
		l := g.states // the loop's state
		each := prob(loop / float64(len(phones)))
		for _, w := range loopWords {
			fmt.Fprintf(&t, "TRANSITION 0 %d %s %s\nTRANSITION %d %d %s %s\n", l, each, w.word, l, l, each, w.word)
		}
		fmt.Fprintf(&t, "TRANSITION %d 1 1\n", l) // no word: the loop may end after any phone
	}
	t.WriteString("FSG_END\n")
	return t.String()
}

// The phone loop has one loop word per base phone of the model. With no
// lexical constraint it fits any speech about as well as a phrase does
// when that phrase was said; speech that is none of the phrases it fits
// much better.

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

func prob(p float64) string { return strconv.FormatFloat(p, 'g', -1, 64) }
