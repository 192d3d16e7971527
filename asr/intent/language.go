package intent

import "math"

// The languages the classifier knows something about beyond a flow's
// examples: their function words, which say what language a text is in
// even when it matches no example.
type known uint8

const (
	knownEN known = iota
	knownID
	knownMS
	knownZH
	knownYUE
	numKnown
)

var knownCodes = [numKnown]string{"en", "id", "ms", "zh", "yue"}

func knownOf(code string) (known, bool) {
	for k, c := range knownCodes {
		if c == code {
			return known(k), true
		}
	}
	return 0, false
}

// Function words of the Latin-script languages. Indonesian and Malay share
// most of theirs; the words only one of them uses (mau, nggak; nak, mahu)
// tell them apart.
var stopwordLists = [numKnown]string{
	knownEN: "the a an is are was were am be been my me i you your it its this that to of in on at for and or " +
		"what where when why how who which please can could would will do does did have has had not no yes " +
		"get want like with about from there here just need",
	knownID: "saya aku kamu anda di ke dari mana apa bagaimana gimana kenapa mengapa tolong yang ini itu tidak " +
		"nggak enggak gak mau ingin bisa sudah belum dengan untuk dan atau ada adalah ya dong sih kok kah " +
		"sama buat banget",
	knownMS: "saya aku awak anda di ke dari mana apa bagaimana macam kenapa mengapa tolong yang ini itu tidak " +
		"tak nak hendak mahu boleh sudah belum dengan untuk dan atau ada ialah adalah ya lah kah sahaja " +
		"kerana tu ni",
}

// Characters that mark Mandarin or Cantonese. Cantonese writes its own
// function words (喺 at, 嘅 of, 唔 not, 冇 have not, 咗 done, 佢 he, 哋
// plural, 係 is); Mandarin writes 的 在 不 没有 了 他 们 是 for them.
const (
	mandarinMarkers  = "的是在哪什么麼吗嗎呢没沒这這那他们們给給怎吧很"
	cantoneseMarkers = "喺嘅咩唔冇啲佢哋嚟噉乜咗俾畀係嘢咁嗰囉喎嘞晒搵揾睇諗谂攞啱㗎"
)

var (
	stopwords  map[string]uint8 // word -> set of known languages (bit k)
	hanMarkers map[rune]known
)

func init() {
	stopwords = map[string]uint8{}
	for k, list := range stopwordLists {
		word := 0
		for i := 0; i <= len(list); i++ {
			if i == len(list) || list[i] == ' ' {
				if i > word {
					stopwords[list[word:i]] |= 1 << k
				}
				word = i + 1
			}
		}
	}
	hanMarkers = map[rune]known{}
	for _, r := range mandarinMarkers {
		hanMarkers[r] = knownZH
	}
	for _, r := range cantoneseMarkers {
		hanMarkers[r] = knownYUE
	}
}

// How much each kind of evidence weighs in choosing a text's language.
// The best match among a language's examples is a cosine, 0..1. Function
// words add up to langWeightMarkers, half of it for the first and half of
// what is left for each next one: a few of them in a short utterance are
// strong evidence, and one can be a coincidence. The script variant weighs
// nearly as much as a verbatim match: a Mandarin recognizer writes
// Simplified and a Cantonese one Traditional, and once Traditional is
// folded into Simplified the two languages share most features, so 我想退货
// is Mandarin even though, folded, it is a Cantonese example word for
// word. Grammar still wins over script: 我的訂單在哪裡 is Mandarin in
// Traditional characters. The call's language counts too: callers rarely
// switch language mid-call, and an IVR that switches its prompts on weak
// evidence (a phrase both languages say alike) confuses them.
const (
	langWeightMarkers = 1.0
	langWeightVariant = 0.8
	langWeightHint    = 0.25
	// langWeightSimKnown scales the examples' match for a language
	// DetectLanguage knows, whose lexicon is the better evidence.
	langWeightSimKnown = 0.2
)

// A language of the classifier: its code, the script of its examples, and
// for Chinese whether its examples are written in Traditional (+1) or
// Simplified (-1) characters.
type language struct {
	code    string
	script  script
	variant int
	known   known
	isKnown bool
	inFlow  bool // the flow has examples in it: a text may be said to be in it
	lid     int  // its index among DetectLanguage's languages (lidEN...), or -1
}

// detectLanguage chooses the flow language text is most likely in, from the
// evidence normalising and featurising it gathered, from what
// DetectLanguage's scan of it found (lid), and from how well each
// language's examples matched (sim, by language index). It returns "" when
// the text has no letters or is in a script no flow language uses.
//
// For a language DetectLanguage knows (en, id, ms, tr, zh, yue), its
// lexicons and character weights are the evidence. A flow's examples count
// only a little for Latin-script languages (langWeightSimKnown): they say
// how the flow's callers talk, code-switching included (saya mau refund),
// so resembling an Indonesian example does not make "return" Indonesian.
// For Mandarin against Cantonese they do not count at all: Traditional is
// folded into Simplified before features are taken, and the two share so
// much written vocabulary that resembling a Cantonese example does not make
// 我想退款 Cantonese. What tells them apart is the words only one of them
// writes (喺 嘅 咗 唔 冇 係 啲, 點樣 邊度; 的 了 吗 什么 这) and the script:
// Traditional characters point at the language whose examples are
// Traditional, Simplified ones at the language whose examples are
// Simplified (langWeightVariant). Han text with neither, written alike by
// both (晚上好, 我要真人, 退款多久能到), is Mandarin, the language of more
// callers (lidPrior), unless the call is already in Cantonese: the hint
// outweighs that tie-break, and a Mandarin or Cantonese word outweighs the
// hint.
func (c *Classifier) detectLanguage(ev *evidence, lid *lidScan, sim []float64, hint string) string {
	dom := ev.dominant()
	if dom == scriptNone {
		return ""
	}
	variant := 0
	switch {
	case ev.traditional > ev.simplified:
		variant = 1
	case ev.simplified > ev.traditional:
		variant = -1
	}
	best, bestScore, candidates := "", math.Inf(-1), 0
	for i, l := range c.langs {
		if !l.inFlow || l.script != dom {
			continue
		}
		candidates++
		var score float64
		switch {
		case l.lid == lidZH || l.lid == lidYUE:
			score = lid.evidence(l.lid) // not sim: see above
		case l.lid >= 0:
			score = langWeightSimKnown*sim[i] + lid.evidence(l.lid)
		default:
			score = sim[i]
			if l.isKnown {
				score += langWeightMarkers * (1 - math.Pow(0.5, float64(ev.markers[l.known])))
			}
		}
		if variant != 0 && variant == l.variant {
			score += langWeightVariant
		}
		if l.code == hint {
			score += langWeightHint
		}
		if score > bestScore {
			best, bestScore = l.code, score
		}
	}
	if bestScore <= 0 && candidates > 1 {
		return "" // nothing says which
	}
	return best
}
