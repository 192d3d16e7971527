package intent

// Sentiment: how a caller feels about what they say, from the words of one
// utterance, and how that changes over a call (Mood).
//
// The method is a sentimentLexicon with rules, in the manner of VADER (Hutto and
// Gilbert, ICWSM 2014), written for the five languages of the demo line:
// each sentiment word or phrase has a valence of -3 to +3, and the words
// around it change it. A negator within three words before it turns it
// over, a positive word fully (not good) and a negative one only partly,
// since "not bad" is faint praise; an intensifier before it (very, sangat,
// 很) or after it (banget, sekali, 死了) multiplies it, a diminisher (a
// bit, agak, 有点) shrinks it; ALL CAPS and exclamation marks strengthen
// it; after "but" (tapi, 但是) words count more than before it. The sum is
// squashed into -1..1.
//
// Texts go through the classifier's normaliser first, so Traditional
// Chinese meets the Simplified sentimentLexicon (唔滿意 is 唔满意), full-width
// letters and accents fold away, and a Cantonese sentimentLexicon entry written in
// Traditional characters is folded the same way when the sentimentLexicon loads.
// Chinese has no spaces: a run of Han characters is cut into sentimentLexicon
// entries by longest match, one character at a time between them. So an
// entry that contains a negator (不满意, 不错, 不好意思) is read as the
// entry, before the negator could be.
//
// Every language's sentimentLexicon is consulted for every text, the call's language
// first, so a caller who mixes English into Indonesian ("pelayanan kalian
// so bad banget") is understood; where two lexicons have the same word,
// the call's language decides what it means.

import (
	"math"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"
)

// A Sentiment is how an utterance feels.
type Sentiment struct {
	// Score is -1 (very negative) to 1 (very positive); 0 is neutral or
	// mixed evenly.
	Score float64
	// Angry says the caller is angry or fed up: the utterance is clearly
	// negative and either uses the words of anger and frustration
	// (ridiculous, third time, kesal, 气死, 嬲) or shouts (ALL CAPS,
	// several exclamation marks) a strongly negative one.
	Angry bool
	// Words are the phrases that decided the score, with the negators and
	// intensifiers that changed them ("not happy", "so bad banget", "好嬲"),
	// in the order said and in normal form (lower case, Chinese folded
	// into Simplified as far as the normaliser knows it); nil when the
	// score is 0.
	Words []string
}

// Tuning of the scores, by hand on the tests' sentences.
const (
	// sentimentAlpha squashes a sum of valences into -1..1 as
	// x/sqrt(x²+alpha): one "good" (+2) scores 0.58, "very good" 0.73,
	// "not bad" 0.27.
	sentimentAlpha = 8
	// A negated positive turns over fully (not good); a negated negative
	// only partly (not bad is faint praise); a negated intensified positive
	// (not very good) is a mild negative.
	negatePositive      = -0.75
	negateNegative      = -0.4
	negateIntensified   = -0.5
	capsBoost           = 1.5 // a sentiment word in ALL CAPS
	exclamationBoost    = 0.2 // per exclamation mark after the clause, up to 3
	beforeContrast      = 0.5 // words before "but"
	afterContrast       = 1.5 // words after it
	defaultBoost        = 1.5 // an intensifier without its own factor
	diminisherFactor    = 0.6
	modifierWindow      = 3    // words before a sentiment word that can modify it
	angryScore          = -0.5 // at most this, with anger words, is Angry
	shoutingAngryScore  = -0.8 // at most this, shouted, is Angry without them
	shoutingExclamation = 2    // exclamation marks that make a shout
)

// A sentimentLexicon is one language's sentiment vocabulary, as written below.
type sentimentLexicon struct {
	// terms are lines of "valence word, word, ...": a valence -3..+3, with
	// "!" after it if the words are words of anger or frustration.
	terms []string
	// neutral are phrases that contain a sentiment word or modifier but
	// mean nothing either way (你好, 不好意思, thank god): read as a whole,
	// they keep their words from counting.
	neutral string
	// Modifiers, comma-separated. Intensifiers may carry their own factor
	// after a colon ("extremely:1.8").
	negators, intensifiers, after, diminishers, contrast string
}

type sentimentRole uint8

const (
	roleNegator sentimentRole = 1 << iota
	roleIntensifier
	roleAfter // an intensifier that follows its word
	roleDiminisher
	roleContrast
)

// A sentimentEntry is what a sentimentLexicon says about a word or phrase.
type sentimentEntry struct {
	valence float64
	anger   bool
	roles   sentimentRole
	boost   float64
}

var (
	// sentimentLexicons holds each known language's sentimentLexicon, by normalised
	// word or phrase (Latin words separated by one space).
	sentimentLexicons [numKnown]map[string]sentimentEntry
	maxLatinWords     int // words in the longest Latin entry
	maxHanRunes       int // characters in the longest Han entry
)

var lexiconSources = [numKnown]*sentimentLexicon{
	knownEN: &lexiconEN, knownID: &lexiconID, knownMS: &lexiconMS,
	knownZH: &lexiconZH, knownYUE: &lexiconYUE,
}

func init() {
	var n normalizer
	for k, src := range lexiconSources {
		sentimentLexicons[k] = src.compile(&n)
	}
}

// compile reads the sentimentLexicon into a map of normalised entries. It panics on
// a malformed line: the lexicons are constants of this file.
func (l *sentimentLexicon) compile(n *normalizer) map[string]sentimentEntry {
	m := map[string]sentimentEntry{}
	add := func(phrase string, f func(*sentimentEntry)) {
		key := string(n.normalize(nil, phrase, nil))
		if key == "" {
			panic("intent: sentiment sentimentLexicon entry " + strconv.Quote(phrase) + " normalises to nothing")
		}
		e := m[key]
		f(&e)
		m[key] = e
		if r, _ := utf8.DecodeRuneInString(key); scriptOf(r) == scriptCJK {
			maxHanRunes = max(maxHanRunes, utf8.RuneCountInString(key))
		} else {
			maxLatinWords = max(maxLatinWords, strings.Count(key, " ")+1)
		}
	}
	list := func(s string, f func(*sentimentEntry, float64)) {
		for _, w := range strings.Split(s, ",") {
			w = strings.TrimSpace(w)
			if w == "" {
				continue
			}
			factor := 0.0
			if word, num, ok := strings.Cut(w, ":"); ok {
				v, err := strconv.ParseFloat(num, 64)
				if err != nil {
					panic("intent: sentiment sentimentLexicon factor " + strconv.Quote(w) + ": " + err.Error())
				}
				w, factor = word, v
			}
			add(w, func(e *sentimentEntry) { f(e, factor) })
		}
	}
	for _, line := range l.terms {
		head, words, _ := strings.Cut(line, " ")
		anger := strings.HasSuffix(head, "!")
		v, err := strconv.ParseFloat(strings.TrimSuffix(head, "!"), 64)
		if err != nil || v == 0 || math.Abs(v) > 3 {
			panic("intent: sentiment sentimentLexicon line " + strconv.Quote(line) + ": want a valence -3..+3 first")
		}
		list(words, func(e *sentimentEntry, _ float64) { e.valence, e.anger = v, anger })
	}
	list(l.neutral, func(e *sentimentEntry, _ float64) {})
	list(l.negators, func(e *sentimentEntry, _ float64) { e.roles |= roleNegator })
	intens := func(r sentimentRole) func(e *sentimentEntry, f float64) {
		return func(e *sentimentEntry, f float64) {
			e.roles |= r
			e.boost = cmpOr(f, defaultBoost)
		}
	}
	list(l.intensifiers, intens(roleIntensifier))
	list(l.after, intens(roleAfter))
	list(l.diminishers, func(e *sentimentEntry, _ float64) { e.roles |= roleDiminisher })
	list(l.contrast, func(e *sentimentEntry, _ float64) { e.roles |= roleContrast })
	return m
}

func cmpOr(v, def float64) float64 {
	if v == 0 {
		return def
	}
	return v
}

// termCount is the number of sentiment words and phrases in a sentimentLexicon.
func (l *sentimentLexicon) termCount() int {
	n := 0
	for _, line := range l.terms {
		_, words, _ := strings.Cut(line, " ")
		n += strings.Count(words, ",") + 1
	}
	return n
}

// A sentimentUnit is a word, a phrase of the sentimentLexicon, or a Han character of
// an utterance.
type sentimentUnit struct {
	text   string
	latin  bool
	clause int
	caps   bool
	entry  sentimentEntry
	known  bool // the text is a sentimentLexicon entry
}

// hanParticles end a clause as far as 好 is concerned: 好了, 好啊 are "good".
const hanParticles = "了啊呀啦喇嘞哦喔吧嘅咯啰噢嘛"

// SentimentOf scores what a caller said. lang is the call's language as a
// flow code (en, id, ms, zh, yue); it decides between lexicons that share
// a word, and any language (or none) may be given.
func SentimentOf(text, lang string) Sentiment {
	order := lexiconOrder(lang)
	units, exclaim := sentimentUnits(text, order)

	contrastAt := -1
	for i, u := range units {
		if u.entry.roles&roleContrast != 0 {
			contrastAt = i
		}
	}

	var (
		sum             float64
		anger, shouting bool
		spans           [][2]int // first and last unit of each decisive phrase
		signs           []float64
	)
	for i, u := range units {
		v := u.entry.valence
		if v == 0 || actsAsIntensifier(units, i) {
			continue
		}
		s := v
		start := i
		negated, intensifiedAfterNegator := false, false
		for j := i - 1; j >= 0 && j >= i-modifierWindow; j-- {
			w := units[j]
			if w.clause != u.clause || w.entry.roles&roleContrast != 0 {
				break
			}
			if w.entry.valence != 0 && !actsAsIntensifier(units, j) {
				break // another sentiment word: its own modifiers
			}
			switch {
			case w.entry.roles&roleNegator != 0:
				negated = true
				start = j
			case w.entry.roles&roleIntensifier != 0 || actsAsIntensifier(units, j):
				if negated {
					s *= w.entry.boost // before the negator: "really not good"
				} else {
					intensifiedAfterNegator = true
					s *= w.entry.boost
				}
				start = j
			case w.entry.roles&roleDiminisher != 0:
				s *= diminisherFactor
				start = j
			}
		}
		if negated && intensifiedAfterNegator && v > 0 {
			// "not very good": the intensifier softens the negation
			// instead of strengthening it.
			s = v * negateIntensified
		} else if negated && v > 0 {
			s *= negatePositive
		} else if negated {
			s *= negateNegative
		}
		end := i
		for j := i + 1; j < len(units) && j <= i+2; j++ {
			w := units[j]
			if w.clause != u.clause || (w.entry.valence != 0 && w.entry.roles&roleAfter == 0) {
				break
			}
			if w.entry.roles&roleAfter != 0 {
				s *= w.entry.boost
				end = j
			}
		}
		if u.caps {
			s *= capsBoost
			shouting = true
		}
		if n := exclaim[u.clause]; n > 0 {
			s *= 1 + exclamationBoost*float64(min(n, 3))
			if n >= shoutingExclamation {
				shouting = true
			}
		}
		if contrastAt >= 0 {
			if i < contrastAt {
				s *= beforeContrast
			} else {
				s *= afterContrast
			}
		}
		if u.entry.anger && !negated && s < 0 {
			anger = true
		}
		sum += s
		spans = append(spans, [2]int{start, end})
		signs = append(signs, s)
	}
	if sum == 0 {
		return Sentiment{}
	}
	out := Sentiment{Score: sum / math.Sqrt(sum*sum+sentimentAlpha)}
	out.Angry = out.Score <= angryScore && (anger || shouting && out.Score <= shoutingAngryScore)
	for k, sp := range spans {
		if signs[k]*out.Score > 0 {
			out.Words = append(out.Words, joinUnits(units[sp[0]:sp[1]+1]))
		}
	}
	return out
}

// actsAsIntensifier says whether the unit at i, a sentiment word that is
// also an intensifier (好: good, and very), intensifies the next one here.
// Before a sentiment word it does (好嬲, 好开心); at the end of a clause or
// before a particle it is the word itself (很好, 好啊); before anything
// else it is neither (好多, 唔好挂线).
func actsAsIntensifier(units []sentimentUnit, i int) bool {
	u := units[i]
	if u.entry.valence == 0 || u.entry.roles&roleIntensifier == 0 {
		return false
	}
	next := i + 1
	return next < len(units) && units[next].clause == u.clause && units[next].entry.valence != 0
}

// hanWordIsMeaningless says whether a Han sentiment word that doubles as an
// intensifier means nothing where it stands: followed by a character that
// is neither a sentiment word nor a particle.
func hanWordIsMeaningless(units []sentimentUnit, i int) bool {
	u := units[i]
	if u.latin || u.entry.roles&roleIntensifier == 0 {
		return false
	}
	next := i + 1
	if next >= len(units) || units[next].clause != u.clause || units[next].latin {
		return false
	}
	r, _ := utf8.DecodeRuneInString(units[next].text)
	return units[next].entry.valence == 0 && !strings.ContainsRune(hanParticles, r)
}

func joinUnits(us []sentimentUnit) string {
	var b strings.Builder
	for k, u := range us {
		if k > 0 && (u.latin || us[k-1].latin) {
			b.WriteByte(' ')
		}
		b.WriteString(u.text)
	}
	return b.String()
}

// lexiconOrder lists the lexicons to consult, the call's language first.
func lexiconOrder(lang string) [numKnown]known {
	var order [numKnown]known
	first, ok := knownOf(lang)
	if lang == "zh-hk" || lang == "zh-HK" {
		first, ok = knownYUE, true
	}
	n := 0
	if ok {
		order[0], n = first, 1
	}
	for k := range numKnown {
		if !ok || k != first {
			order[n] = k
			n++
		}
	}
	return order
}

func lookupSentiment(key string, order [numKnown]known) (sentimentEntry, bool) {
	for _, k := range order {
		if e, ok := sentimentLexicons[k][key]; ok {
			return e, true
		}
	}
	return sentimentEntry{}, false
}

// isClauseEnd says whether r ends a clause: a negation or an intensifier
// does not reach across it.
func isClauseEnd(r rune) bool {
	switch r {
	case '.', ',', ';', ':', '!', '?', '。', '，', '；', '：', '！', '？', '、', '…', '\n':
		return true
	}
	return false
}

// sentimentUnits cuts text into clauses and each clause into units, and
// counts the exclamation marks after each clause.
func sentimentUnits(text string, order [numKnown]known) ([]sentimentUnit, []int) {
	var (
		n       normalizer
		units   []sentimentUnit
		exclaim []int
		buf     []byte
	)
	for clause := 0; text != ""; clause++ {
		end := strings.IndexFunc(text, isClauseEnd)
		if end < 0 {
			end = len(text)
		}
		raw := text[:end]
		marks := 0
		rest := text[end:]
		for rest != "" {
			r, size := utf8.DecodeRuneInString(rest)
			if !isClauseEnd(r) && !unicode.IsSpace(r) {
				break
			}
			if r == '!' || r == '！' {
				marks++
			}
			rest = rest[size:]
		}
		text = rest
		exclaim = append(exclaim, marks)

		caps := capsWords(&n, raw)
		buf = n.normalize(buf[:0], raw, nil)
		tokens := strings.Fields(string(buf))
		for i := 0; i < len(tokens); {
			tok := tokens[i]
			if r, _ := utf8.DecodeRuneInString(tok); scriptOf(r) == scriptCJK {
				units = appendHanUnits(units, tok, clause, order)
				i++
				continue
			}
			u := sentimentUnit{text: tok, latin: true, clause: clause}
			words := 1
			for k := min(maxLatinWords, len(tokens)-i); k > 1; k-- {
				phrase := strings.Join(tokens[i:i+k], " ")
				if e, ok := lookupSentiment(phrase, order); ok {
					u.text, u.entry, u.known, words = phrase, e, true, k
					break
				}
			}
			if !u.known {
				u.entry, u.known = lookupSentiment(tok, order)
				// "don't", "isn't": the apostrophe splits off a t.
				if tok == "t" && i > 0 && strings.HasSuffix(tokens[i-1], "n") {
					u.entry, u.known = sentimentEntry{roles: roleNegator}, true
				}
			}
			for _, w := range tokens[i : i+words] {
				if caps[w] {
					u.caps = true
				}
			}
			units = append(units, u)
			i += words
		}
	}
	// 好 and its kind, where they are neither good nor very, are nothing.
	for i := range units {
		if units[i].entry.valence != 0 && hanWordIsMeaningless(units, i) {
			units[i].entry.valence = 0
		}
	}
	return units, exclaim
}

// appendHanUnits cuts a run of Han characters into sentimentLexicon entries, longest
// first from the left, and characters between them.
func appendHanUnits(units []sentimentUnit, run string, clause int, order [numKnown]known) []sentimentUnit {
	for run != "" {
		u := sentimentUnit{clause: clause}
		size := 0
		// Try the longest prefix of up to maxHanRunes characters first.
		var ends [16]int
		k := 0
		for i := range run {
			if i > 0 {
				ends[k] = i
				k++
			}
			if k == len(ends) || k == maxHanRunes {
				break
			}
		}
		if k < len(ends) && k < maxHanRunes {
			ends[k] = len(run)
			k++
		}
		for ; k > 0; k-- {
			if e, ok := lookupSentiment(run[:ends[k-1]], order); ok {
				u.entry, u.known, size = e, true, ends[k-1]
				break
			}
		}
		if size == 0 {
			_, size = utf8.DecodeRuneInString(run)
		}
		u.text = run[:size]
		units = append(units, u)
		run = run[size:]
	}
	return units
}

// capsWords returns the normalised forms of the words of raw written in
// capitals (two letters or more, all upper case): shouted.
func capsWords(n *normalizer, raw string) map[string]bool {
	var caps map[string]bool
	for _, w := range strings.FieldsFunc(raw, func(r rune) bool { return !unicode.IsLetter(r) }) {
		letters, upper := 0, 0
		for _, r := range w {
			if scriptOf(r) != scriptLatin {
				letters = 0
				break
			}
			letters++
			if unicode.IsUpper(r) {
				upper++
			}
		}
		if letters >= 2 && upper == letters {
			if caps == nil {
				caps = map[string]bool{}
			}
			caps[string(n.normalize(nil, w, nil))] = true
		}
	}
	return caps
}

// A Mood follows a caller's sentiment over a call: add each utterance's
// Sentiment as it comes. The zero value is a call that has not started.
type Mood struct {
	// Score is the exponentially weighted average of the utterances'
	// scores, the latest weighing moodWeight: -1..1.
	Score float64
	// Utterances counts the utterances added.
	Utterances int
	// TurningNegative is set when Score falls below MoodNegative after it
	// was neutral or positive (at least MoodNeutral) earlier in the call;
	// it stays set until Score is back at MoodNeutral. A caller who is
	// unhappy from their first word is not turning: they came that way.
	TurningNegative bool
	// Angry counts the angry utterances: angry in words, or negative
	// (by MoodNegative) in a raised voice.
	Angry int

	wasFine bool
}

// Thresholds of a Mood, and the weight of each new utterance.
const (
	MoodNeutral  = -0.15
	MoodNegative = -0.35
	moodWeight   = 0.5
	// raisedVoiceBoost scales a negative utterance said in a raised voice.
	raisedVoiceBoost = 1.5
)

// Add takes the next utterance's sentiment, and whether the caller's voice
// was raised as they said it (asr.VoiceCue.Raised; false if unknown). A
// raised voice makes a negative utterance count more, and an angry one of
// it; it does not make a neutral or positive one negative, since people
// also raise their voice on a bad line.
func (m *Mood) Add(s Sentiment, raisedVoice bool) {
	score := s.Score
	angry := s.Angry
	if raisedVoice && score < 0 {
		score = max(score*raisedVoiceBoost, -1)
		angry = angry || score <= MoodNegative
	}
	if angry {
		m.Angry++
	}
	if m.Utterances == 0 {
		m.Score = score
	} else {
		m.Score = moodWeight*score + (1-moodWeight)*m.Score
	}
	m.Utterances++
	switch {
	case m.Score >= MoodNeutral:
		m.wasFine = true
		m.TurningNegative = false
	case m.Score < MoodNegative && m.wasFine:
		m.TurningNegative = true
	}
}

// The lexicons. Valences follow VADER's scale, -3..+3 here: 1 is mild
// (fine, slow), 2 clear (good, disappointed), 3 strong (excellent,
// terrible). Words of customer-service calls come first: the service, the
// wait, the agent, the refund. A word that is also a common neutral word
// is left out (like, help, problem as 问题 "question"), or comes in as a
// phrase that is unambiguous (有问题, "still waiting").
