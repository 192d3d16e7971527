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
)

// kindWeight scales a feature by its kind: whole words and word pairs say
// more than one of a word's many character n-grams.
func kindWeight(kind byte) float64 {
	switch kind {
	case kindWord:
		return 1.5
	case kindBigram:
		return 1.5
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
