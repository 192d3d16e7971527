//go:build pocketsphinx

package sphinx

import (
	"cmp"
	"fmt"
	"math"
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
// ways out along the tree are equally likely. With loop > 0 two loops run
// beside the tree, from the start state to the final one: the yardsticks
// of rejection (see Config.MinMargin), a path through either meaning no
// phrase was heard.
//
//   - A loop of phones, each loop times as likely as one of the 39 chosen
//     at random: a loop word per phone (loopPrefix).
//   - A loop of common words, common, entered with a penalty
//     (wordLoopEntry), each word as likely as its probability there says,
//     with the phones among them so that it can cover words it lacks.
func (g *grammar) fsg(loop float64, common []loopWord) string {
	var t strings.Builder
	states := g.states
	if loop > 0 {
		states++
		if len(common) > 0 {
			states++
		}
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
		l := g.states // the phone loop's state
		each := prob(loop / float64(len(phones)))
		for _, w := range loopWords {
			fmt.Fprintf(&t, "TRANSITION 0 %d %s %s\nTRANSITION %d %d %s %s\n", l, each, w.word, l, l, each, w.word)
		}
		fmt.Fprintf(&t, "TRANSITION %d 1 1\n", l) // no word: the loop may end after any phone
		if len(common) > 0 {
			c := l + 1 // the word loop's state
			fmt.Fprintf(&t, "TRANSITION 0 %d %s\n", c, prob(math.Exp(wordLoopEntry)))
			for _, w := range common {
				fmt.Fprintf(&t, "TRANSITION %d %d %s %s\n", c, c, prob(w.p), w.word)
			}
			for _, w := range loopWords {
				fmt.Fprintf(&t, "TRANSITION %d %d %s %s\n", c, c, each, w.word)
			}
			fmt.Fprintf(&t, "TRANSITION %d 1 1\n", c)
		}
	}
	t.WriteString("FSG_END\n")
	return t.String()
}

// The word loop: speech that is none of the phrases but English is
// explained by the model's commonest words better than by a phrase
// forced onto it, whose words' triphones fit it worse than the words'
// own. The phone loop alone, its phones without context, could not do
// that: a phrase forced onto other English often beat it (see doc.go).
// Its words are the wordLoopSize words that the model's own language
// model finds likeliest, each as likely in the loop as its unigram
// probability among them, times e^wordLoopWeight; the loop is entered at
// e^wordLoopEntry, so that a phrase of one word fitting poorly ("invoice")
// is not lost to one common word fitting a little better ("you").
// Measured on the first three rejection sets (see sphinx_test.go): 50
// words, an entry of -9 and a weight of -2 rejected what the phone loop
// had let through, and kept every phrase; an entry of -12 rejected less,
// -8 cost more; 20 or 30 words (with other entries) rejected less. The
// fourth set was measured once, after.
const (
	wordLoopSize   = 50
	wordLoopEntry  = -9.0
	wordLoopWeight = -2.0
)

// wordPrefix starts the name of each word of the word loop.
const wordPrefix = "word_"

// A loopWord is one word of the word loop: its dictionary entry (named
// wordPrefix and the word) and its probability in the loop.
type loopWord struct {
	entry
	p float64
}

// commonWords returns the word loop: the n words of dict that the language
// model at lm finds likeliest alone, likeliest first, ties in alphabetical
// order; words with anything but letters (contractions) left out.
func commonWords(dict dictionary, lm string, n int) ([]loopWord, error) {
	var words []string
	for w := range dict {
		if strings.IndexFunc(w, func(r rune) bool { return r < 'a' || r > 'z' }) < 0 {
			words = append(words, w)
		}
	}
	slices.Sort(words)
	lp, err := unigrams(lm, words)
	if err != nil {
		return nil, err
	}
	idx := make([]int, 0, len(words))
	for i := range words {
		if lp[i] <= 0 {
			idx = append(idx, i)
		}
	}
	slices.SortStableFunc(idx, func(a, b int) int { return cmp.Compare(lp[b], lp[a]) })
	idx = idx[:min(n, len(idx))]
	total := 0.0
	for _, i := range idx {
		total += math.Exp(lp[i])
	}
	out := make([]loopWord, 0, len(idx))
	for _, i := range idx {
		out = append(out, loopWord{
			entry: entry{wordPrefix + words[i], dict[words[i]][0]},
			p:     math.Exp(lp[i]) / total * math.Exp(wordLoopWeight),
		})
	}
	return out, nil
}

// isLoop reports whether a best path's words went through a loop, not a
// phrase.
func isLoop(hyp string) bool {
	return strings.Contains(hyp, loopPrefix) || strings.Contains(hyp, wordPrefix)
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
