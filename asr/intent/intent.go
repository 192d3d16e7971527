// Package intent classifies what a caller said into one of a flow's
// intents, and says which of the flow's languages it was said in. It is
// trained when a flow loads, from the flow's intents and their example
// phrases per language, and needs no external service.
//
// Every example phrase and every utterance is a TF-IDF vector of weighted
// features (words, word pairs, character n-grams; see extract). Two models
// score an utterance against them, and each intent gets the sum of their
// scores:
//
//   - nearest example: the cosine similarity of the utterance to the
//     intent's best-matching example. An example said back verbatim
//     scores exactly 1, however few examples its intent has; character
//     n-grams make a paraphrase or a misrecognised word still share most
//     of its features with the right example.
//   - a linear model: a multinomial logistic regression over the same
//     vectors, trained on the examples when the flow loads (see train). It
//     learns which features tell the intents apart (退, 投诉, tagihan)
//     wherever they stand, where nearest-example matching is diluted by
//     the rest of a long utterance that is like no one example. It speaks
//     only as loudly as the nearest example is near, so that text like no
//     example is not let through on one word.
//
// Inverse document frequency, counted over examples, keeps words every
// intent uses (my, saya, 我) from deciding anything.
//
// Confidence is a softmax over every intent's score and a fixed score a
// match must beat (noneScore). So an utterance is confident only when it
// matches one intent well and the others clearly less. Examples a flow
// gives for None make a class of their own: unrelated text that resembles
// them is None.
//
// A Classifier is read-only after Train and safe for concurrent use.
package intent

import (
	"maps"
	"math"
	"slices"
	"sync"
)

// Examples is intent -> language -> example phrases, as a flow declares them.
type Examples map[string]map[string][]string

// Names of the two built-in intents.
const (
	None  = "none"  // nothing matched well enough
	Human = "human" // the caller asks for a person
)

// DefaultThreshold is the confidence below which Classify returns None
// when Options.Threshold is zero.
const DefaultThreshold = 0.5

// Options tune a Classifier.
type Options struct {
	// Threshold: below this confidence, Classify returns None. 0 means the
	// default 0.5.
	Threshold float64
}

// Calibration of the confidence: the similarity (cosine, 0..1) at which a
// match is as likely as none; the temperature of the softmax, which sets
// how fast confidence rises with similarity; how much the linear model's
// score counts; and the similarity of the nearest example at which it
// counts fully (below, in proportion). Chosen with sambung eval intents on
// testdata/intents/dev.tsv, with the unrelated texts of the tests held
// below the threshold: examples score 1, paraphrases 0.3 to 0.7, unrelated
// text under 0.2.
const (
	noneScore    = 0.35
	temperature  = 0.15
	linearWeight = 2
	linearGate   = 0.5
)

// A Classifier says which intent an utterance expresses. Build one with
// Train.
type Classifier struct {
	threshold float64
	intents   []string   // by index; sorted
	langs     []language // by index; sorted by code
	flowLangs []string   // sorted codes of the languages a text may be in

	vocab    map[string]int32 // feature key -> feature
	idf      []float64        // by feature, scaled by its kind's weight
	oov      [256]float64     // weight of a feature not in vocab, by kind
	postings [][]posting      // by feature: the examples that have it
	examples []example
	weights  []float32 // by feature, then intent: the linear model's weights (see train)

	scratch sync.Pool // *scratch
}

type example struct {
	intent int32
	lang   int32
}

type posting struct {
	example int32
	weight  float32
}

// scratch is one classification's working memory, pooled so that
// classifying allocates nothing once the pool is warm.
type scratch struct {
	normalizer
	norm     []byte
	keys     keys
	ids      []int32
	exScore  []float64
	intScore []float64
	linear   []float64 // by intent: the linear model's score
	langSim  []float64
	ev       evidence
	lid      lidScan
}

// Train builds a classifier. The built-in Human intent gets built-in
// examples in en, id, ms, zh and yue, merged with any examples the flow
// gives for it. Examples a flow gives for None are things callers say that
// must not match an intent: when one of them is nearest, Classify returns
// None. The languages a text may be said to be in are those of ex; if ex
// has none, those of the built-in examples.
//
// Examples that normalise to nothing are skipped, and an intent left with
// none is never the result. A phrase that is an example of two intents
// makes them tie on it, so it classifies as None.
func Train(ex Examples, opts Options) *Classifier {
	c := &Classifier{threshold: opts.Threshold, vocab: map[string]int32{}}
	if c.threshold == 0 {
		c.threshold = DefaultThreshold
	}

	all := Examples{}
	flowLangs := map[string]bool{}
	for name, byLang := range ex {
		for lang, phrases := range byLang {
			if len(phrases) > 0 {
				flowLangs[lang] = true
			}
			addExamples(all, name, lang, phrases)
		}
	}
	for lang, phrases := range humanExamples {
		addExamples(all, Human, lang, phrases)
	}

	type doc struct {
		example
		tf map[int32]int
	}
	var (
		docs    []doc
		df      []int
		langIdx = map[string]int32{}
		langEv  []evidence
		s       scratch
	)
	for _, lang := range sortedKeysOfLangs(all) {
		langIdx[lang] = int32(len(c.langs))
		l := language{code: lang, inFlow: flowLangs[lang] || len(flowLangs) == 0}
		l.known, l.isKnown = knownOf(lang)
		l.lid = lidIndex(lang)
		c.langs = append(c.langs, l)
		if l.inFlow {
			c.flowLangs = append(c.flowLangs, lang)
		}
	}
	langEv = make([]evidence, len(c.langs))
	for _, name := range sortedKeys(all) {
		intent := int32(len(c.intents))
		kept := 0
		for _, lang := range sortedKeys(all[name]) {
			li := langIdx[lang]
			seen := map[string]bool{}
			for _, phrase := range all[name][lang] {
				s.norm = s.normalize(s.norm[:0], phrase, &langEv[li])
				if len(s.norm) == 0 || seen[string(s.norm)] {
					continue
				}
				seen[string(s.norm)] = true
				kept++
				s.keys.reset()
				extract(&s.keys, s.norm, nil)
				d := doc{example{intent, li}, map[int32]int{}}
				for i := range s.keys.len() {
					key := s.keys.key(i)
					id, ok := c.vocab[string(key)]
					if !ok {
						id = int32(len(df))
						c.vocab[string(key)] = id
						df = append(df, 0)
						c.idf = append(c.idf, kindWeight(key[0]))
					}
					if d.tf[id] == 0 {
						df[id]++
					}
					d.tf[id]++
				}
				docs = append(docs, d)
			}
		}
		if kept > 0 {
			c.intents = append(c.intents, name)
		}
	}

	// Smoothed IDF, as if one more example had every feature; a feature
	// no example has weighs as much as the rarest, less for the kinds
	// oovWeight discounts.
	n := float64(len(docs))
	for id := range c.idf {
		c.idf[id] *= math.Log((n+1)/float64(df[id]+1)) + 1
	}
	for kind := range c.oov {
		c.oov[kind] = oovWeight(byte(kind)) * kindWeight(byte(kind)) * (math.Log(n+1) + 1)
	}
	c.postings = make([][]posting, len(c.idf))
	vecs := make([][]posting, len(docs)) // by example: its features (posting.example is the feature) and weights
	for i, d := range docs {
		var norm2 float64
		for id, tf := range d.tf {
			w := tfWeight(tf) * c.idf[id]
			norm2 += w * w
		}
		norm := math.Sqrt(norm2)
		for id, tf := range d.tf {
			w := tfWeight(tf) * c.idf[id] / norm
			c.postings[id] = append(c.postings[id], posting{int32(i), float32(w)})
			vecs[i] = append(vecs[i], posting{id, float32(w)})
		}
		slices.SortFunc(vecs[i], func(a, b posting) int { return int(a.example - b.example) })
		c.examples = append(c.examples, d.example)
	}
	c.weights = train(vecs, c.examples, len(c.idf), len(c.intents))

	for i := range c.langs {
		ev := &langEv[i]
		c.langs[i].script = ev.dominant()
		switch {
		case ev.traditional > ev.simplified:
			c.langs[i].variant = 1
		case ev.simplified > ev.traditional:
			c.langs[i].variant = -1
		}
	}
	c.scratch.New = func() any { return new(scratch) }
	return c
}

func addExamples(all Examples, name, lang string, phrases []string) {
	if len(phrases) == 0 {
		return
	}
	if all[name] == nil {
		all[name] = map[string][]string{}
	}
	all[name][lang] = append(all[name][lang], phrases...)
}

// tfWeight dampens repeats: a word said twice is not twice the evidence.
func tfWeight(tf int) float64 { return 1 + math.Log(float64(tf)) }

// Result is the classification of one utterance.
type Result struct {
	Intent     string  // an intent of Examples, Human, or None
	Confidence float64 // 0..1: an example said back scores over 0.9; below the threshold, Intent is None
	Language   string  // the language the text most likely is in, among the languages that have examples ("" if unknown)
	Best       string  // the best-scoring intent even when Intent is None
}

// Classify classifies text said in the call's language lang (a hint, not a
// filter: a caller speaking another language of the flow must still be
// understood). Text with no letters or digits, or with not one feature in
// common with any example, is None with confidence 0. When Intent is None
// because confidence is below the threshold, Confidence and Best are still
// those of the best-scoring intent.
func (c *Classifier) Classify(text, lang string) Result {
	s := c.scratch.Get().(*scratch)
	defer c.scratch.Put(s)
	s.ev = evidence{}
	s.norm = s.normalize(s.norm[:0], text, &s.ev)
	if len(s.norm) == 0 {
		return Result{Intent: None}
	}
	s.keys.reset()
	extract(&s.keys, s.norm, &s.ev)

	// The query's vector: known features by id, and the weight of the
	// unknown ones, which count against the match through the norm.
	s.ids = s.ids[:0]
	var norm2 float64
	for i := range s.keys.len() {
		key := s.keys.key(i)
		if id, ok := c.vocab[string(key)]; ok {
			s.ids = append(s.ids, id)
		} else {
			norm2 += c.oov[key[0]] * c.oov[key[0]]
		}
	}
	slices.Sort(s.ids)
	s.exScore = resize(s.exScore, len(c.examples))
	k := len(c.intents)
	s.linear = resize(s.linear, k)
	for i := 0; i < len(s.ids); {
		j := i + 1
		for j < len(s.ids) && s.ids[j] == s.ids[i] {
			j++
		}
		id := s.ids[i]
		w := tfWeight(j-i) * c.idf[id]
		norm2 += w * w
		for _, p := range c.postings[id] {
			s.exScore[p.example] += w * float64(p.weight)
		}
		for n, cw := range c.weights[int(id)*k : int(id)*k+k] {
			s.linear[n] += w * float64(cw)
		}
		i = j
	}
	norm := math.Sqrt(norm2)

	s.intScore = resize(s.intScore, k)
	s.langSim = resize(s.langSim, len(c.langs))
	for i, e := range c.examples {
		sim := s.exScore[i] / norm
		s.intScore[e.intent] = max(s.intScore[e.intent], sim)
		s.langSim[e.lang] = max(s.langSim[e.lang], sim)
	}
	s.lid = lidScan{}
	s.lid.scan(text)
	r := Result{Language: c.detectLanguage(&s.ev, &s.lid, s.langSim, lang)}
	var anyMatch bool
	for _, sc := range s.intScore {
		anyMatch = anyMatch || sc > 0
	}
	if !anyMatch {
		r.Intent, r.Best = None, None // not one feature in common
		return r
	}

	// One softmax over every intent and the score at which nothing
	// matched. An intent's logit is its nearest example's similarity over
	// the temperature, plus the linear model's score, which speaks only as
	// loudly as the nearest example of any intent is near (linearGate):
	// text like no example is not let through on one word the linear
	// model learnt to trust.
	var nearest float64
	for _, sim := range s.intScore {
		nearest = max(nearest, sim)
	}
	gate := min(1, nearest/linearGate) / norm
	best, top := 0, math.Inf(-1)
	for n, sim := range s.intScore {
		z := sim/temperature + linearWeight*gate*s.linear[n]
		s.intScore[n] = z
		if z > top {
			best, top = n, z
		}
	}
	sum := math.Exp(noneScore/temperature - top)
	for _, z := range s.intScore {
		sum += math.Exp(z - top)
	}
	r.Best = c.intents[best]
	r.Confidence = 1 / sum
	r.Intent = r.Best
	if r.Confidence < c.threshold || r.Intent == None {
		r.Intent = None
	}
	return r
}

func resize(s []float64, n int) []float64 {
	if cap(s) < n {
		return make([]float64, n)
	}
	s = s[:n]
	clear(s)
	return s
}

// Languages lists the languages the classifier has examples for, sorted:
// those of the flow's examples, not of the built-in human ones, unless the
// flow gave none.
func (c *Classifier) Languages() []string {
	return slices.Clone(c.flowLangs)
}

func sortedKeys[V any](m map[string]V) []string {
	return slices.Sorted(maps.Keys(m))
}

func sortedKeysOfLangs(all Examples) []string {
	set := map[string]bool{}
	for _, byLang := range all {
		for lang := range byLang {
			set[lang] = true
		}
	}
	return sortedKeys(set)
}

// oovWeight discounts, in an utterance's norm, the features of kinds that
// are fragments of words when no example has them: a character n-gram of a
// word, a pair or triple of CJK characters. Every word of a paraphrase
// brings a handful of them, and at full weight they buried its matching
// features, so that a Chinese paraphrase (all n-grams, no spaces) scored
// under the threshold; unknown whole words and single CJK characters still
// count fully, which keeps unrelated text below it. Measured with sambung
// eval intents on testdata/intents/dev.tsv: 0.3 took Mandarin from 77% to
// 84%, Cantonese from 79% to 84% and English from 90% to 92%; lower
// discounts gain little more and let a greeting (你好) match an example
// that shares one character with it (服務好差).
func oovWeight(kind byte) float64 {
	switch kind {
	case kindLatinNG, kindHanRun:
		return 0.3
	}
	return 1
}
