package intent

import "unicode/utf8"

// Features are the same for every language, so one model serves a flow's
// English, Malay and Chinese alike:
//
//   - a word and each pair of neighbouring words, for text written with
//     spaces ("track", "track my");
//   - each word's character 3- and 4-grams with # marking its edges
//     ("#tra", "ack#"), so a misspelt or inflected word ("pakage",
//     "shipping") still shares most of its features with the right one;
//   - each character, pair and triple of a CJK run (订, 订单, 的订单), since
//     Chinese is written without spaces and a word is one to three
//     characters.
//
// A feature is a key: one byte naming its kind, then its text.
const (
	kindWord    = 'w'
	kindBigram  = 'b'
	kindLatinNG = 'c'
	kindHanNG   = 'h'
	kindHanRun  = 'H' // a CJK pair or triple; kindHanNG is then a single character (see oovWeight)
	kindFeeling = 's' // a strongly negative word of the sentiment lexicons (see addFeelings)
)

// feelingWeight is the weight of a feeling (see addFeelings) against a
// word's 1.5.
const feelingWeight = 1.0

// kindWeight scales a feature by its kind: whole words and word pairs say
// more than one of a word's many character n-grams.
func kindWeight(kind byte) float64 {
	switch kind {
	case kindWord:
		return 1.5
	case kindBigram:
		return 1.5
	case kindFeeling:
		return feelingWeight
	}
	return 1
}

// keys holds the features of one text, packed into one buffer to keep a
// classification free of allocations once its scratch has grown.
type keys struct {
	buf  []byte
	ends []int
	pad  []byte // a word with its edge markers
}

func (k *keys) reset() {
	k.buf, k.ends = k.buf[:0], k.ends[:0]
}

func (k *keys) len() int { return len(k.ends) }

func (k *keys) key(i int) []byte {
	start := 0
	if i > 0 {
		start = k.ends[i-1]
	}
	return k.buf[start:k.ends[i]]
}

func (k *keys) add(kind byte, text []byte) {
	k.buf = append(k.buf, kind)
	k.buf = append(k.buf, text...)
	k.ends = append(k.ends, len(k.buf))
}

func (k *keys) addPair(kind byte, a, b []byte) {
	k.buf = append(k.buf, kind)
	k.buf = append(k.buf, a...)
	k.buf = append(k.buf, ' ')
	k.buf = append(k.buf, b...)
	k.ends = append(k.ends, len(k.buf))
}

// extract adds the features of normalised text to k and, if ev is not nil,
// counts the function words among its words.
func extract(k *keys, text []byte, ev *evidence) {
	all := text
	var prev []byte // the previous word, for pairs
	for len(text) > 0 {
		tok := text
		text = nil
		for i, b := range tok {
			if b == ' ' {
				tok, text = tok[:i], tok[i+1:]
				break
			}
		}
		if r, _ := utf8.DecodeRune(tok); scriptOf(r) == scriptCJK {
			ngrams(k, kindHanNG, tok, 1, 3)
			prev = nil
			continue
		}
		k.add(kindWord, tok)
		if prev != nil {
			k.addPair(kindBigram, prev, tok)
		}
		prev = tok
		k.pad = append(append(append(k.pad[:0], '#'), tok...), '#')
		ngrams(k, kindLatinNG, k.pad, 3, 4)
		if ev != nil {
			for set, lang := stopwords[string(tok)], known(0); set != 0; set, lang = set>>1, lang+1 {
				if set&1 != 0 {
					ev.markers[lang]++
				}
			}
		}
	}
	addFeelings(k, all)
}

// The features addFeelings adds: one for each strongly negative word or
// phrase, one more when it is a word of anger.
var (
	featureNegative = []byte("negative")
	featureAngry    = []byte("angry")
)

// addFeelings adds a feature for each word or phrase of the sentiment
// lexicons (sentiment_lexicon.go) with a valence of -2 or below, whatever
// the word: furious, pathetic, kesal, 气死, 嬲. A complaint says how the
// caller feels more often than what about, in words as many as there are
// ways to be angry, and no flow's examples can hold them all; the lexicon
// holds them, so a complaint in words no example has still shares this
// feature with the examples of complaint. It is one feature among the
// others: the linear model learns from the examples how much it says (a
// damaged parcel is a return, not a complaint). Entries are matched
// longest first, as SentimentOf reads them, so that 不错 (not bad) is
// not 错 (wrong), and a negated word counts only as the lexicon lists it
// (not happy, tidak puas, 唔滿意).
func addFeelings(k *keys, text []byte) {
	for i := 0; i < len(text); {
		if text[i] == ' ' {
			i++
			continue
		}
		r, size := utf8.DecodeRune(text[i:])
		han := scriptOf(r) == scriptCJK
		// The longest entry that starts here: up to maxHanRunes Han
		// characters, or up to maxLatinWords words.
		end, next := 0, i+size
		if !han {
			next = wordEnd(text, i)
		}
		for j, n := next, 1; ; n++ {
			if _, ok := feelingOf(text[i:j]); ok {
				end = j
			}
			if j >= len(text) {
				break
			}
			if han {
				if n >= maxHanRunes {
					break
				}
				r, size := utf8.DecodeRune(text[j:])
				if scriptOf(r) != scriptCJK {
					break
				}
				j += size
			} else {
				if n >= maxLatinWords || text[j] != ' ' {
					break
				}
				j = wordEnd(text, j+1)
			}
		}
		if end == 0 {
			i = next
			continue
		}
		if f, _ := feelingOf(text[i:end]); f != 0 {
			k.add(kindFeeling, featureNegative)
			if f > 1 {
				k.add(kindFeeling, featureAngry)
			}
		}
		i = end
	}
}

// wordEnd is the end of the Latin word that starts at i.
func wordEnd(text []byte, i int) int {
	for i < len(text) && text[i] != ' ' {
		r, size := utf8.DecodeRune(text[i:])
		if scriptOf(r) == scriptCJK {
			break
		}
		i += size
	}
	return i
}

// feelingOf says whether phrase is an entry of any language's sentiment
// lexicon and, if so, what addFeelings makes of it: 0 for most entries, 1
// for a strongly negative one (valence -2 or below in every lexicon that
// gives it a valence), 2 for one that is also a word of anger.
func feelingOf(phrase []byte) (feeling int, ok bool) {
	neg, pos, anger := false, false, false
	for _, lex := range sentimentLexicons {
		e, found := lex[string(phrase)]
		if !found {
			continue
		}
		ok = true
		switch {
		case e.valence <= -2:
			neg = true
			anger = anger || e.anger
		case e.valence != 0:
			pos = true // or mildly negative: not strong evidence
		}
	}
	switch {
	case !neg || pos:
		return 0, ok
	case anger:
		return 2, ok
	}
	return 1, ok
}

// ngrams adds every run of lo to hi characters of s.
func ngrams(k *keys, kind byte, s []byte, lo, hi int) {
	for i := 0; i < len(s); {
		end := i
		for n := 1; n <= hi && end < len(s); n++ {
			_, size := utf8.DecodeRune(s[end:])
			end += size
			if n >= lo {
				kd := kind
				if kind == kindHanNG && n > 1 {
					kd = kindHanRun
				}
				k.add(kd, s[i:end])
			}
		}
		_, size := utf8.DecodeRune(s[i:])
		i += size
	}
}
