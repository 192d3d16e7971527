package intent

import (
	"unicode"
	"unicode/utf8"

	"golang.org/x/text/unicode/norm"
)

// A script is the writing system of a character, as far as the classifier
// needs to tell them apart: a language's examples are in one script, and a
// text is only ever said to be in a language of its own script.
type script uint8

const (
	scriptNone script = iota
	scriptLatin
	scriptCJK // Han, with Japanese kana: written without spaces
	scriptHangul
	scriptCyrillic
	scriptArabic
	scriptThai
	scriptDevanagari
	scriptOther
	numScripts
)

func scriptOf(r rune) script {
	switch {
	case r < utf8.RuneSelf:
		if 'a' <= r && r <= 'z' || 'A' <= r && r <= 'Z' {
			return scriptLatin
		}
		return scriptNone
	case unicode.Is(unicode.Han, r), unicode.Is(unicode.Hiragana, r), unicode.Is(unicode.Katakana, r):
		return scriptCJK
	case unicode.Is(unicode.Latin, r):
		return scriptLatin
	case unicode.Is(unicode.Hangul, r):
		return scriptHangul
	case unicode.Is(unicode.Cyrillic, r):
		return scriptCyrillic
	case unicode.Is(unicode.Arabic, r):
		return scriptArabic
	case unicode.Is(unicode.Thai, r):
		return scriptThai
	case unicode.Is(unicode.Devanagari, r):
		return scriptDevanagari
	case unicode.IsLetter(r):
		return scriptOther
	}
	return scriptNone
}

// evidence is what normalising a text learns about its language on the way:
// how many letters of each script it has, and which of them point at a
// script variant or a language (Cantonese-only characters, Mandarin
// function words). It is counted on the characters as written, before
// Traditional is folded into Simplified.
type evidence struct {
	letters     [numScripts]int
	words       [numScripts]int // Han characters, and words of other scripts
	traditional int             // Traditional-only characters
	simplified  int             // Simplified-only characters
	markers     [numKnown]int
}

// dominant returns the script most of the text is written in, counting
// words: a Han character is one, since it is a syllable and mostly a word,
// and so is each word of a script written with spaces. Counting letters
// instead would make 我想 refund English, when it is a Chinese sentence
// with an English word in it, as callers in Hong Kong and Jakarta talk.
// A tie goes to CJK for the same reason.
func (e *evidence) dominant() script {
	best, n := scriptNone, 0
	if e.words[scriptCJK] > 0 {
		best, n = scriptCJK, e.words[scriptCJK]
	}
	for s := scriptLatin; s < numScripts; s++ {
		if k := e.words[s]; k > n {
			best, n = s, k
		}
	}
	return best
}

// A normalizer brings texts to the form features are taken from. It keeps
// its NFKC iterator and buffer between texts, so that normalising
// allocates nothing once they have grown; it is not safe for concurrent
// use.
type normalizer struct {
	iter norm.Iter
	nfkc []byte
}

// normalize appends the normal form of text to dst and returns it: NFKC
// (full-width letters and digits become ASCII), lower case, accents
// stripped from Latin letters, Traditional Chinese folded into Simplified,
// punctuation and symbols dropped. What remains is tokens separated by
// single spaces, each either a word (letters and digits of a script written
// with spaces) or a run of CJK characters; a CJK run next to a word, as in
// 我要refund, becomes two tokens. If ev is not nil, the evidence is
// counted into it.
func (n *normalizer) normalize(dst []byte, text string, ev *evidence) []byte {
	tmp := n.nfkc[:0]
	if isASCII(text) {
		tmp = append(tmp, text...)
	} else {
		// norm.Iter rather than NFKC.AppendString, which allocates its
		// reorder buffer on every call.
		n.iter.InitString(norm.NFKC, text)
		for !n.iter.Done() {
			tmp = append(tmp, n.iter.Next()...)
		}
	}
	n.nfkc = tmp
	start := len(dst)
	prev := scriptNone // script of the last rune written; scriptNone after a gap
	for i := 0; i < len(tmp); {
		r, size := utf8.DecodeRune(tmp[i:])
		i += size
		s := scriptOf(r)
		if ev != nil {
			ev.count(r, s)
		}
		r = unicode.ToLower(r)
		switch {
		case s == scriptCJK:
			if f, ok := tradToSimp[r]; ok {
				r = f
			}
			if len(dst) > start && prev != scriptCJK {
				dst = append(dst, ' ')
			}
			if ev != nil {
				ev.words[scriptCJK]++
			}
			dst = utf8.AppendRune(dst, r)
			prev = s
		case s != scriptNone || unicode.IsDigit(r):
			if s == scriptLatin {
				r = foldLatin(r)
			}
			if len(dst) > start && (prev == scriptNone || prev == scriptCJK) {
				dst = append(dst, ' ')
			}
			if ev != nil && s != scriptNone && prev != s {
				ev.words[s]++
			}
			dst = utf8.AppendRune(dst, r)
			prev = s
			if s == scriptNone { // a digit belongs to the word around it
				prev = scriptOther
			}
		case unicode.Is(unicode.Mn, r) || unicode.Is(unicode.Mc, r):
			// A combining mark NFKC could not compose: an accent on a
			// Latin letter is dropped; on other scripts (Thai vowels,
			// Devanagari signs) it is part of the word.
			if prev != scriptNone && prev != scriptLatin && prev != scriptCJK {
				dst = utf8.AppendRune(dst, r)
			}
		default:
			prev = scriptNone
		}
	}
	return dst
}

func isASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= utf8.RuneSelf {
			return false
		}
	}
	return true
}

func (e *evidence) count(r rune, s script) {
	if s == scriptNone {
		return
	}
	e.letters[s]++
	if s != scriptCJK {
		return
	}
	if _, ok := tradToSimp[r]; ok {
		e.traditional++
	} else if simpOnly[r] {
		e.simplified++
	}
	if m, ok := hanMarkers[r]; ok {
		e.markers[m]++
	}
}

// Latin letters with diacritics, from U+00C0 to U+024F and U+1E00 to
// U+1EFF, map to their base letter: the first rune of their canonical
// decomposition when that is ASCII (é -> e, ỗ -> o); others (ø, ß, đ) stay.
const (
	latin1Lo, latin1Hi = 0x00C0, 0x024F
	latin2Lo, latin2Hi = 0x1E00, 0x1EFF
)

var latinBase1, latinBase2 []rune

func init() {
	latinBase1 = baseLetters(latin1Lo, latin1Hi)
	latinBase2 = baseLetters(latin2Lo, latin2Hi)
}

func baseLetters(lo, hi rune) []rune {
	t := make([]rune, hi-lo+1)
	for r := lo; r <= hi; r++ {
		t[r-lo] = r
		d := norm.NFD.String(string(r))
		if b, _ := utf8.DecodeRuneInString(d); b < utf8.RuneSelf && len(d) > 1 {
			t[r-lo] = b
		}
	}
	return t
}

func foldLatin(r rune) rune {
	switch {
	case latin1Lo <= r && r <= latin1Hi:
		return latinBase1[r-latin1Lo]
	case latin2Lo <= r && r <= latin2Hi:
		return latinBase2[r-latin2Lo]
	}
	return r
}
