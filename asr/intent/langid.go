package intent

import (
	"math"
	"unicode"
	"unicode/utf8"
)

// Language identification of an utterance's text on its own, among the six
// languages Sambung's flows speak: English, Indonesian, Malay, Turkish,
// Mandarin and Cantonese. The classifier (language.go) only chooses among a
// flow's languages with the flow's examples as evidence; DetectLanguage
// needs no flow, for a call that has not chosen its language yet.
//
// The script decides first. Han text is Mandarin or Cantonese, told apart
// by the words only Cantonese writes (喺 嘅 唔 咗 佢 哋, 點解, 而家) and
// those only Mandarin does (的 是 了 吗 这 什么), and, more weakly, by
// Traditional characters (a Cantonese recognizer writes them) against
// Simplified ones. Latin text is scored word by word: function and common
// words of each language (the lexicons below), the letters only Turkish
// has (ç ğ ı ş, and ö ü), and for a word no lexicon holds, character
// trigrams learnt from the lexicons' own words. Indonesian and Malay share
// most of their words and all their spelling habits, so only the words one
// of them uses and the other does not (nggak, gimana, mobil; tak, nak,
// kereta) tell them apart; a text with none of those is Indonesian by a
// hair, with a confidence that says it is a coin toss.

// The languages DetectLanguage knows, Latin-script ones first.
const (
	lidEN = iota
	lidID
	lidMS
	lidTR
	lidZH
	lidYUE
	numLID
	numLatin = lidZH
)

var lidCodes = [numLID]string{"en", "id", "ms", "tr", "zh", "yue"}

// How much each kind of evidence weighs, in log-odds (nats) of the
// language it points at.
const (
	// A word with a letter only Turkish writes (ç ğ ı ş ö ü, İ).
	lidTurkishLetter = 2.5
	// A word no lexicon holds: its trigrams' mean log-probability under
	// each profile, less the mean over profiles, clipped to ±1, times this.
	lidNgramWeight = 0.35
	// Below this much evidence, a Latin text is in no language in
	// particular ("ok", "xyz"): DetectLanguage says "".
	lidMinEvidence = 0.3
	// Ties go to the language of more callers: Indonesian over Malay,
	// Mandarin over Cantonese.
	lidPrior = 0.05
	// Traditional-only characters each add lidTraditional to Cantonese,
	// Simplified-only ones lidSimplified to Mandarin, up to the caps: the
	// script variant is weaker evidence than grammar, so 我的訂單在哪裡 is
	// Mandarin in Traditional characters.
	lidTraditional    = 0.35
	lidTraditionalCap = 1.4
	lidSimplified     = 0.8
	lidSimplifiedCap  = 2.4
)

func init() {
	lidWords = map[string][numLatin]float32{}
	var counts [lidProfiles][lidTrigrams]float32
	var totals [lidProfiles]float32
	var buf []byte
	for _, row := range latinLexicon {
		for _, word := range splitWords(row.words) {
			w := lidWords[word]
			for k := range w {
				w[k] += row.w[k]
			}
			lidWords[word] = w
			buf = foldWord(buf[:0], word)
			profile := -1
			switch {
			case row.w[lidEN] > 0:
				profile = 0
			case row.w[lidID] > 0 || row.w[lidMS] > 0:
				profile = 1
			case row.w[lidTR] > 0:
				profile = 2
			}
			forTrigrams(buf, func(t int) {
				counts[profile][t]++
				totals[profile]++
			})
		}
	}
	// Add-0.1 smoothing: a trigram a language's words never have is
	// unlikely in it, not impossible (names, typos, loanwords).
	for t := range lidTrigrams {
		for p := range lidProfiles {
			lidNgrams[t][p] = float32(math.Log(float64(counts[p][t]+0.1) / float64(totals[p]+0.1*lidTrigrams)))
		}
	}

	lidHanChars = map[rune][2]float32{}
	for _, row := range hanCharWeights {
		for _, r := range row.chars {
			w := lidHanChars[r]
			w[0] += row.zh
			w[1] += row.yue
			lidHanChars[r] = w
		}
	}
	lidHanPairs = map[[2]rune][2]float32{}
	addPairs := func(zh, yue float32, pairs string) {
		rs := []rune(pairs)
		for i := 0; i+1 < len(rs); i += 2 {
			addPair(rs[i], rs[i+1], zh, yue)
		}
	}
	for _, row := range hanPairWeights {
		addPairs(row.zh, row.yue, row.pairs)
	}
	for _, row := range hanPairPenalties {
		addPairs(row.zh, row.yue, row.pairs)
	}
	for _, r := range lidDemonstrative {
		addPair('呢', r, 0, 2.0)
	}
	for _, p := range lidPronouns {
		for _, c := range lidClassifiers {
			addPair(p, c, 0, 1.2)
		}
	}
}

func addPair(a, b rune, zh, yue float32) {
	w := lidHanPairs[[2]rune{a, b}]
	w[0] += zh
	w[1] += yue
	lidHanPairs[[2]rune{a, b}] = w
}

func splitWords(s string) []string {
	var words []string
	start := 0
	for i := 0; i <= len(s); i++ {
		if i == len(s) || s[i] == ' ' {
			if i > start {
				words = append(words, s[start:i])
			}
			start = i + 1
		}
	}
	return words
}

// foldWord appends word's letters to dst as a..z: lower case, accents and
// Turkish letters folded to their base (ş -> s, ı -> i), others dropped.
func foldWord(dst []byte, word string) []byte {
	for _, r := range word {
		if b, ok := lidFold(r); ok {
			dst = append(dst, b)
		}
	}
	return dst
}

// lidFold is a Latin letter's base letter a..z, if it has one.
func lidFold(r rune) (byte, bool) {
	r = unicode.ToLower(r)
	// Turkish letters first, without foldLatin's tables: the lexicons are
	// folded in this file's init, before normalize.go's has built them.
	switch r {
	case 'ç':
		return 'c', true
	case 'ğ':
		return 'g', true
	case 'ı', 'î':
		return 'i', true
	case 'ö':
		return 'o', true
	case 'ş':
		return 's', true
	case 'ü', 'û':
		return 'u', true
	case 'â':
		return 'a', true
	}
	r = foldLatin(r)
	if 'a' <= r && r <= 'z' {
		return byte(r), true
	}
	return 0, false
}

func isTurkishLetter(r rune) bool {
	switch r {
	case 'ç', 'Ç', 'ğ', 'Ğ', 'ı', 'İ', 'ş', 'Ş', 'ö', 'Ö', 'ü', 'Ü':
		return true
	}
	return false
}

// forTrigrams calls f with the index of each trigram of the word w
// (letters a..z), padded with a boundary on each side.
func forTrigrams(w []byte, f func(int)) {
	if len(w) == 0 {
		return
	}
	sym := func(i int) int {
		if i < 0 || i >= len(w) {
			return 0
		}
		return int(w[i]-'a') + 1
	}
	for i := -1; i+1 <= len(w); i++ {
		f(sym(i)*lidSymbols*lidSymbols + sym(i+1)*lidSymbols + sym(i+2))
	}
}

// A lidScan is the evidence gathered from one text.
type lidScan struct {
	latin         [numLatin]float64
	han           [2]float64 // zh, yue
	latinEvidence float64
	latinWords    int
	hanChars      int
	otherWords    int
	traditional   int
	simplified    int
	// sangat after its adjective (lambat sangat) is Malay; Indonesian
	// puts it first (sangat lambat). sangatLast is set when the word just
	// read is sangat after another word, and counts if no word follows it
	// in its clause.
	sangatLast     bool
	wordsInClause  int
	word           [24]byte // the Latin word being read, folded
	wordLen        int
	wordTurkish    bool
	prevHan        rune // the Han character before this one; 0 after anything else
	prevOtherWords bool
}

// DetectLanguage says which language text is in, among candidates (flow
// codes: en, id, ms, zh, yue, tr; nil: all six), with a confidence 0..1:
// how likely the answer is among all six, so that a Cantonese text told to
// choose among en and zh says zh with a low confidence. It returns "" when
// there is no text, when the text is in none of the candidates' scripts
// (Chinese among en and id, or Korean), or when nothing decides (ok, xyz).
// It allocates nothing.
func DetectLanguage(text string, candidates []string) (lang string, confidence float64) {
	var want [numLID]bool
	if candidates == nil {
		want = [numLID]bool{true, true, true, true, true, true}
	}
	for _, c := range candidates {
		for i, code := range lidCodes {
			if c == code {
				want[i] = true
			}
		}
	}
	var s lidScan
	s.scan(text)

	switch {
	case s.hanChars > 0 && s.hanChars >= s.latinWords && s.hanChars >= s.otherWords:
		return s.decideHan(want)
	case s.latinWords > 0 && s.latinWords >= s.otherWords:
		return s.decideLatin(want)
	}
	return "", 0
}

func (s *lidScan) scan(text string) {
	for i := 0; i < len(text); {
		r, size := rune(text[i]), 1
		if r >= utf8.RuneSelf {
			r, size = utf8.DecodeRuneInString(text[i:])
		}
		i += size
		if 0xFF01 <= r && r <= 0xFF5E { // full-width ASCII
			r -= 0xFEE0
		}
		switch {
		case r < utf8.RuneSelf:
			if 'a' <= r && r <= 'z' || 'A' <= r && r <= 'Z' {
				s.endHan()
				s.prevOtherWords = false
				if s.wordLen < len(s.word) {
					s.word[s.wordLen] = byte(r) | 0x20
					s.wordLen++
				}
				continue
			}
		case unicode.Is(unicode.Han, r):
			s.endWord()
			s.prevOtherWords = false
			s.addHan(r)
			continue
		case unicode.Is(unicode.Latin, r):
			s.endHan()
			s.prevOtherWords = false
			if isTurkishLetter(r) {
				s.wordTurkish = true
			}
			if b, ok := lidFold(r); ok && s.wordLen < len(s.word) {
				s.word[s.wordLen] = b
				s.wordLen++
			}
			continue
		case unicode.Is(unicode.Mn, r):
			continue // a combining accent: part of the word
		case unicode.Is(unicode.Hiragana, r) || unicode.Is(unicode.Katakana, r):
			// Japanese: each kana counts as a word against the Han
			// characters around it, so Japanese is not taken for Chinese.
			s.endWord()
			s.endHan()
			s.otherWords++
			continue
		case unicode.IsLetter(r):
			s.endWord()
			s.endHan()
			if !s.prevOtherWords {
				s.otherWords++
			}
			s.prevOtherWords = true
			continue
		}
		// Anything else (digits, spaces, punctuation, apostrophes) ends
		// a word, and anything but a space ends a clause.
		s.endWord()
		s.endHan()
		s.prevOtherWords = false
		if r != ' ' {
			s.endClause()
		}
	}
	s.endWord()
	s.endHan()
	s.endClause()
}

func (s *lidScan) endClause() {
	if s.sangatLast {
		s.latin[lidMS] += 1
	}
	s.sangatLast = false
	s.wordsInClause = 0
}

func (s *lidScan) endWord() {
	if s.wordLen == 0 && !s.wordTurkish {
		return
	}
	w := s.word[:s.wordLen]
	s.latinWords++
	s.wordsInClause++
	s.sangatLast = string(w) == "sangat" && s.wordsInClause > 1
	if s.wordTurkish {
		s.latin[lidTR] += lidTurkishLetter
		s.latinEvidence += lidTurkishLetter
	}
	if lw, ok := lidWords[string(w)]; ok {
		for k := range lw {
			s.latin[k] += float64(lw[k])
		}
		s.latinEvidence += 1
	} else if len(w) >= 2 {
		var ll [lidProfiles]float64
		n := 0
		for j := -1; j+1 <= len(w); j++ {
			t := lidSym(w, j)*lidSymbols*lidSymbols + lidSym(w, j+1)*lidSymbols + lidSym(w, j+2)
			for p := range lidProfiles {
				ll[p] += float64(lidNgrams[t][p])
			}
			n++
		}
		mean := (ll[0] + ll[1] + ll[2]) / 3
		var d [lidProfiles]float64
		best := 0.0
		for p := range lidProfiles {
			d[p] = lidNgramWeight * max(-1, min(1, (ll[p]-mean)/float64(n)))
			best = max(best, d[p])
		}
		s.latin[lidEN] += d[0]
		s.latin[lidID] += d[1]
		s.latin[lidMS] += d[1]
		s.latin[lidTR] += d[2]
		s.latinEvidence += best
	}
	s.wordLen = 0
	s.wordTurkish = false
}

func lidSym(w []byte, i int) int {
	if i < 0 || i >= len(w) {
		return 0
	}
	return int(w[i]-'a') + 1
}

func (s *lidScan) addHan(r rune) {
	s.hanChars++
	if w, ok := lidHanChars[r]; ok {
		s.han[0] += float64(w[0])
		s.han[1] += float64(w[1])
	}
	if s.prevHan != 0 {
		if w, ok := lidHanPairs[[2]rune{s.prevHan, r}]; ok {
			s.han[0] += float64(w[0])
			s.han[1] += float64(w[1])
		}
		if s.prevHan == '未' && (r == '呀' || r == '啊' || r == '啦') {
			s.han[1] += 1.0 // 寄咗未呀: Cantonese asks with 未 last
		}
	}
	if _, ok := tradToSimp[r]; ok {
		s.traditional++
	} else if simpOnly[r] {
		s.simplified++
	}
	s.prevHan = r
}

// endHan ends a run of Han characters. A run that ends in 未 is a
// Cantonese question (到咗未, has it arrived); Mandarin ends it with 了没.
func (s *lidScan) endHan() {
	if s.prevHan == '未' {
		s.han[1] += 1.0
	}
	s.prevHan = 0
}

// lidIndex is the index of a flow's language code among DetectLanguage's
// languages, or -1 if it is not one of them.
func lidIndex(code string) int {
	for i, c := range lidCodes {
		if c == code {
			return i
		}
	}
	return -1
}

// evidence is the scan's log-odds for language k (lidEN...) against the
// others of its script, without the script variant, which the classifier
// weighs by its flow's examples (language.go). Han text that says nothing
// is Mandarin, as in DetectLanguage; Indonesian's tie-break over Malay is
// left to the flow's examples, since it would also tip text that says
// nothing from English to Indonesian.
func (s *lidScan) evidence(k int) float64 {
	switch k {
	case lidZH:
		return s.han[0] + lidPrior
	case lidYUE:
		return s.han[1]
	}
	if s.latinEvidence < lidMinEvidence {
		return 0 // no language in particular (ok, hmm), as DetectLanguage says
	}
	return s.latin[k]
}

func (s *lidScan) decideHan(want [numLID]bool) (string, float64) {
	zh := s.han[0] + min(lidSimplifiedCap, lidSimplified*float64(s.simplified)) + lidPrior
	yue := s.han[1] + min(lidTraditionalCap, lidTraditional*float64(s.traditional))
	pYue := 1 / (1 + math.Exp(zh-yue))
	switch {
	case want[lidZH] && (yue <= zh || !want[lidYUE]):
		return "zh", 1 - pYue
	case want[lidYUE]:
		return "yue", pYue
	}
	return "", 0
}

func (s *lidScan) decideLatin(want [numLID]bool) (string, float64) {
	if s.latinEvidence < lidMinEvidence {
		return "", 0
	}
	scores := s.latin
	scores[lidID] += lidPrior
	best := -1
	for k := range numLatin {
		if want[k] && (best < 0 || scores[k] > scores[best]) {
			best = k
		}
	}
	if best < 0 {
		return "", 0
	}
	hi := scores[0]
	for _, v := range scores {
		hi = max(hi, v)
	}
	sum := 0.0
	for _, v := range scores {
		sum += math.Exp(v - hi)
	}
	return lidCodes[best], math.Exp(scores[best]-hi) / sum
}
