package intent

import (
	"slices"
	"sync"
	"testing"
)

// demo is the demo line's intents.
var demo = Examples{
	"order_status": {
		"en":  {"where is my order", "track my parcel", "has my package shipped", "order status"},
		"id":  {"di mana pesanan saya", "lacak paket saya", "status pesanan"},
		"zh":  {"我的订单在哪里", "查询订单状态", "我的包裹到哪了"},
		"yue": {"我張單喺邊", "查下我張訂單", "我啲貨到咗未"},
	},
	"refund": {
		"en":  {"I want to return this", "how do I get my money back", "exchange an item", "refund"},
		"id":  {"saya mau mengembalikan barang", "minta uang kembali", "tukar barang"},
		"zh":  {"我要退货", "怎么退款", "我想换货"},
		"yue": {"我想退貨", "點樣退錢", "我想換貨"},
	},
	"billing": {
		"en":  {"I have a question about my bill", "why was I charged twice", "invoice", "payment problem"},
		"id":  {"pertanyaan tentang tagihan", "kenapa saya ditagih dua kali", "masalah pembayaran"},
		"zh":  {"账单问题", "为什么扣了两次钱", "付款问题"},
		"yue": {"張單有問題", "點解扣咗兩次錢", "俾錢有問題"},
	},
	"complaint": {
		"en":  {"I want to make a complaint", "this is terrible service", "I am very unhappy"},
		"id":  {"saya mau komplain", "pelayanan buruk sekali", "saya kecewa"},
		"zh":  {"我要投诉", "服务太差了", "我很不满意"},
		"yue": {"我要投訴", "服務好差", "我好唔滿意"},
	},
}

var demoClassifier = sync.OnceValue(func() *Classifier { return Train(demo, Options{}) })

// paraphrases are utterances of the demo line not among its examples, or
// the built-in human ones.
var paraphrases = []struct {
	lang, text, want string
}{
	{"en", "where's my package", "order_status"},
	{"en", "track my package", "order_status"},
	{"en", "where's my order please", "order_status"},
	{"en", "can I get a refund please", "refund"},
	{"en", "I was charged twice", "billing"},
	{"en", "I'd like to speak to an agent", Human},
	{"id", "pesanan saya di mana ya", "order_status"},
	{"id", "saya mau bicara dengan orang", Human},
	{"zh", "我的订单到哪里了", "order_status"},
	{"zh", "转人工", Human},
	{"zh", "我的訂單在哪裡", "order_status"}, // Traditional script, Mandarin words
	{"yue", "我想搵真人", Human},
	{"yue", "點解扣咗我兩次錢", "billing"},
	{"en", "ｒｅｆｕｎｄ", "refund"}, // full-width
	{"en", "REFUND!", "refund"},
	{"en", "the weather is lovely today", None},
	{"en", "asdf qwerty", None},
	{"zh", "今天天气很好", None},
	{"en", "สวัสดีครับ", None}, // Thai: no language of the flow
}

func TestExamplesClassifyAsThemselves(t *testing.T) {
	c := demoClassifier()
	for name, byLang := range demo {
		for lang, phrases := range byLang {
			for _, p := range phrases {
				r := c.Classify(p, lang)
				if r.Intent != name || r.Confidence < 0.9 {
					t.Errorf("Classify(%q, %q) = %s (%.3f), want %s with confidence >= 0.9", p, lang, r.Intent, r.Confidence, name)
				}
			}
		}
	}
	for lang, phrases := range humanExamples {
		for _, p := range phrases {
			r := c.Classify(p, lang)
			if r.Intent != Human || r.Confidence < 0.9 {
				t.Errorf("Classify(%q, %q) = %s (%.3f), want human with confidence >= 0.9", p, lang, r.Intent, r.Confidence)
			}
		}
	}
}

func TestParaphrases(t *testing.T) {
	c := demoClassifier()
	th := c.threshold
	for _, tc := range paraphrases {
		r := c.Classify(tc.text, tc.lang)
		t.Logf("%-32q -> %-12s %.3f best %-12s lang %q", tc.text, r.Intent, r.Confidence, r.Best, r.Language)
		if r.Intent != tc.want {
			t.Errorf("Classify(%q, %q) = %s (%.3f, best %s), want %s", tc.text, tc.lang, r.Intent, r.Confidence, r.Best, tc.want)
			continue
		}
		if tc.want == None && r.Confidence >= th {
			t.Errorf("Classify(%q) confidence %.3f, want below %.2f", tc.text, r.Confidence, th)
		}
		if tc.want != None && r.Confidence < th {
			t.Errorf("Classify(%q) confidence %.3f, want at least %.2f", tc.text, r.Confidence, th)
		}
	}
}

// moreParaphrases are further utterances, written after the classifier,
// which it is not tuned to: at least 95% of them must be understood, and
// none of the unrelated ones.
var moreParaphrases = []struct {
	lang, text, want string
}{
	{"en", "I want my money back", "refund"},
	{"en", "where is my parcel", "order_status"},
	{"en", "has my order shipped yet", "order_status"},
	{"en", "status of my order", "order_status"},
	{"en", "I need to return an item", "refund"},
	{"en", "I want a refund", "refund"},
	{"en", "my bill is wrong", "billing"},
	{"en", "question about my invoice", "billing"},
	{"en", "I have a payment problem", "billing"},
	{"en", "you charged me twice", "billing"},
	{"en", "I want to complain", "complaint"},
	{"en", "your service is terrible", "complaint"},
	{"en", "I'm very unhappy with this", "complaint"},
	{"en", "let me talk to a human", Human},
	{"en", "operator please", Human},
	{"en", "customer service please", Human},
	{"en", "can I speak to a real person", Human},
	{"en", "wheres my oder", "order_status"}, // misspelt
	{"en", "refnd", "refund"},
	{"id", "paket saya di mana", "order_status"},
	{"id", "cek status pesanan saya", "order_status"},
	{"id", "saya mau uang kembali", "refund"},
	{"id", "saya mau tukar barang", "refund"},
	{"id", "tagihan saya salah", "billing"},
	{"id", "saya ditagih dua kali", "billing"},
	{"id", "saya mau komplain pelayanan", "complaint"},
	{"id", "pelayanan buruk", "complaint"},
	{"id", "sambungkan ke petugas", Human},
	{"zh", "我的包裹在哪里", "order_status"},
	{"zh", "查一下我的订单", "order_status"},
	{"zh", "我想退款", "refund"},
	{"zh", "我要换货", "refund"},
	{"zh", "账单有问题", "billing"},
	{"zh", "扣了我两次钱", "billing"},
	{"zh", "我要投诉你们", "complaint"},
	{"zh", "你们服务太差", "complaint"},
	{"zh", "我要人工服务", Human},
	{"zh", "帮我转客服", Human},
	{"yue", "我啲貨喺邊", "order_status"},
	{"yue", "我想查下張單", "order_status"},
	{"yue", "我要退錢", "refund"},
	{"yue", "張單錯咗", "billing"}, // 張單 is in order_status too: missed, 0.30
	{"yue", "我想投訴", "complaint"},
	{"yue", "你哋服務好差", "complaint"},
	{"yue", "我要搵客服", Human},
	{"yue", "轉真人", Human},
	{"en", "what time do you open", None},
	{"en", "I like pizza", None},
	{"en", "hello", None},
	{"en", "yes", None},
	{"en", "my name is john", None},
	{"id", "selamat pagi", None},
	{"id", "terima kasih", None},
	{"zh", "你好", None},
	{"zh", "我喜欢吃饭", None},
	{"yue", "早晨", None},
	{"yue", "唔該", None},
	{"en", "bonjour je voudrais", None},
	{"en", "こんにちは", None},
}

func TestMoreParaphrases(t *testing.T) {
	c := demoClassifier()
	right, total := 0, 0
	for _, tc := range moreParaphrases {
		r := c.Classify(tc.text, tc.lang)
		if tc.want == None {
			if r.Intent != None {
				t.Errorf("Classify(%q) = %s (%.3f), want None", tc.text, r.Intent, r.Confidence)
			}
			continue
		}
		total++
		if r.Intent == tc.want {
			right++
		} else {
			t.Logf("missed: Classify(%q) = %s (%.3f, best %s), want %s", tc.text, r.Intent, r.Confidence, r.Best, tc.want)
		}
	}
	if acc := float64(right) / float64(total); acc < 0.95 {
		t.Errorf("understood %d of %d paraphrases (%.0f%%), want at least 95%%", right, total, 100*acc)
	}
}

func TestEmptyText(t *testing.T) {
	c := demoClassifier()
	for _, text := range []string{"", "   ", "\t\n", "?!", "。"} {
		if r := c.Classify(text, "en"); r != (Result{Intent: None}) {
			t.Errorf("Classify(%q) = %+v, want None with confidence 0 and no language", text, r)
		}
	}
}

func TestLanguage(t *testing.T) {
	c := demoClassifier()
	tests := []struct{ text, hint, want string }{
		{"where is my order", "id", "en"},
		{"di mana pesanan saya", "en", "id"},
		{"我的订单在哪里", "yue", "zh"},
		{"我張單喺邊", "zh", "yue"},
		{"I'd like to speak to an agent", "zh", "en"},
		{"saya mau bicara dengan orang", "en", "id"},
		{"我的訂單在哪裡", "yue", "zh"},    // Mandarin in Traditional script
		{"我想退货", "", "zh"},          // a Cantonese example, but in Simplified
		{"佢唔明", "zh", "yue"},        // no example matches; Cantonese words
		{"asdf qwerty", "en", "en"}, // nothing says: the call's language
		{"สวัสดีครับ", "en", ""},    // no flow language is written in Thai
		{"", "en", ""},
	}
	for _, tc := range tests {
		if got := c.Classify(tc.text, tc.hint).Language; got != tc.want {
			t.Errorf("Classify(%q, %q).Language = %q, want %q", tc.text, tc.hint, got, tc.want)
		}
	}
}

func TestLanguages(t *testing.T) {
	// ms has built-in human examples, but the demo line does not speak it.
	if got, want := demoClassifier().Languages(), []string{"en", "id", "yue", "zh"}; !slices.Equal(got, want) {
		t.Errorf("Languages() = %q, want %q", got, want)
	}
	if got, want := Train(nil, Options{}).Languages(), []string{"en", "id", "ms", "yue", "zh"}; !slices.Equal(got, want) {
		t.Errorf("Languages() of a flow without examples = %q, want %q", got, want)
	}
}

func TestFlowHumanExamplesMerge(t *testing.T) {
	const phrase = "put me through to the manager"
	before := demoClassifier().Classify(phrase, "en")
	if before.Intent == Human && before.Confidence >= 0.9 {
		t.Fatalf("without the flow's example, %q is already human (%.3f): the test proves nothing", phrase, before.Confidence)
	}

	ex := Examples{Human: {"en": {phrase}}}
	for name, byLang := range demo {
		ex[name] = byLang
	}
	c := Train(ex, Options{})
	if r := c.Classify(phrase, "en"); r.Intent != Human || r.Confidence < 0.9 {
		t.Errorf("Classify(%q) = %s (%.3f), want human with confidence >= 0.9", phrase, r.Intent, r.Confidence)
	}
	if r := c.Classify("转人工", "zh"); r.Intent != Human { // the built-in ones stay
		t.Errorf("Classify(转人工) = %s, want human", r.Intent)
	}
}

func TestFlowNoneExamples(t *testing.T) {
	ex := Examples{None: {"en": {"what are your opening hours"}}}
	for name, byLang := range demo {
		ex[name] = byLang
	}
	c := Train(ex, Options{})
	r := c.Classify("what are your opening hours", "en")
	if r.Intent != None || r.Best != None {
		t.Errorf("a flow's none example: %+v, want Intent and Best none", r)
	}
	if r := c.Classify("where is my order", "en"); r.Intent != "order_status" {
		t.Errorf("Classify(where is my order) = %s, want order_status", r.Intent)
	}
}

func TestThreshold(t *testing.T) {
	c := Train(demo, Options{Threshold: 1})
	r := c.Classify("I was charged twice", "en")
	if r.Intent != None || r.Best != "billing" {
		t.Errorf("with threshold 1, Classify = %+v, want None with Best billing", r)
	}
}

func TestTiedIntentsAreNotConfident(t *testing.T) {
	c := Train(Examples{
		"sales":   {"en": {"new account"}},
		"support": {"en": {"new account"}},
	}, Options{})
	if r := c.Classify("new account", "en"); r.Intent != None || r.Confidence >= 0.5 {
		t.Errorf("an utterance two intents share: %+v, want None below 0.5", r)
	}
}

func TestConcurrentClassify(t *testing.T) {
	c := demoClassifier()
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Go(func() {
			for i := range 200 {
				tc := paraphrases[(g+i)%len(paraphrases)]
				if r := c.Classify(tc.text, tc.lang); r.Intent != tc.want {
					t.Errorf("goroutine %d: Classify(%q) = %s, want %s", g, tc.text, r.Intent, tc.want)
					return
				}
			}
		})
	}
	wg.Wait()
}

// Allocation bounds for one classification once the classifier's scratch
// pool is warm: measured 0 (every path: ASCII, Chinese, full-width, Latin
// accents). Under -race, sync.Pool drops a quarter of what is put back on
// purpose, so a classification sometimes builds its scratch anew: measured
// 5 to 7.
const (
	maxAllocs     = 2
	maxAllocsRace = 16
)

var raceEnabled bool // set by race_test.go

func TestClassifyAllocations(t *testing.T) {
	c := demoClassifier()
	bound := float64(maxAllocs)
	if raceEnabled {
		bound = maxAllocsRace
	}
	for _, text := range []string{"where's my package", "點解扣咗我兩次錢", "ｒｅｆｕｎｄ", "crème brûlée"} {
		c.Classify(text, "en")
		if n := testing.AllocsPerRun(200, func() { c.Classify(text, "en") }); n > bound {
			t.Errorf("Classify(%q) allocates %.1f times, want at most %v", text, n, bound)
		}
	}
}

func BenchmarkClassify(b *testing.B) {
	c := demoClassifier()
	b.ReportAllocs()
	for b.Loop() {
		c.Classify("where's my package", "en")
	}
}

func FuzzClassify(f *testing.F) {
	for _, tc := range paraphrases {
		f.Add(tc.text, tc.lang)
	}
	f.Add("e\u0301\u0301\u0301 我要refund!!", "yue")
	f.Add("\xff\xfe", "")
	c := demoClassifier()
	langs := append(c.Languages(), "")
	f.Fuzz(func(t *testing.T, text, lang string) {
		r := c.Classify(text, lang)
		if !(r.Confidence >= 0 && r.Confidence <= 1) {
			t.Fatalf("Classify(%q) confidence %v, want 0..1", text, r.Confidence)
		}
		if r.Intent != None && r.Intent != r.Best {
			t.Fatalf("Classify(%q) = %+v: Intent is neither None nor Best", text, r)
		}
		if !slices.Contains(langs, r.Language) {
			t.Fatalf("Classify(%q).Language = %q, not a language of the flow", text, r.Language)
		}
	})
}

// TestLanguageMandarinOrCantonese checks the rules that tell Mandarin from
// Cantonese in a flow whose zh examples are Simplified and yue examples
// Traditional (language.go): the words only one of them writes, then the
// script, then Mandarin for text both write alike, unless the call is in
// Cantonese. Resembling one language's examples does not decide.
func TestLanguageMandarinOrCantonese(t *testing.T) {
	// The demo line's examples, and Cantonese examples that the neutral
	// texts below match word for word once Traditional is folded into
	// Simplified, so that resemblance points at Cantonese.
	ex := Examples{None: {"yue": {"晚上好", "我要真人", "退款多久能到", "我想退款"}}}
	for name, byLang := range demo {
		ex[name] = byLang
	}
	c := Train(ex, Options{})
	tests := []struct{ text, hint, want string }{
		// Characters the same in both scripts, no marker: Mandarin.
		{"晚上好", "", "zh"},
		{"我要真人", "", "zh"},
		{"退款多久能到", "", "zh"},
		{"我想退款", "", "zh"},
		{"我要投诉", "", "zh"}, // 投訴 in Traditional: here the same as a Cantonese example
		{"我想 refund", "", "zh"},
		// ... unless the call is in Cantonese.
		{"我要真人", "yue", "yue"},
		{"我想 refund", "yue", "yue"},
		// Traditional-only characters: Cantonese, the flow's Traditional language.
		{"查訂單", "", "yue"},
		{"我要發票", "", "yue"},
		{"幾時到", "zh", "yue"},
		// Simplified-only characters: Mandarin, even in a Cantonese call.
		{"我要发票", "yue", "zh"},
		{"订单", "yue", "zh"},
		// Cantonese words in characters both scripts share: Cantonese.
		{"我想退款呀唔該", "", "yue"},
		{"佢唔明", "zh", "yue"},
		{"嘢冇到", "", "yue"},
		{"我要退返啲錢", "", "yue"},
		// Mandarin words outweigh the Traditional script.
		{"我的訂單在哪裡", "yue", "zh"},
		{"為什麼扣了兩次錢", "", "zh"},
		// 喂 (hello on the phone) is Traditional too: not Simplified evidence.
		{"喂", "yue", "yue"},
	}
	for _, tc := range tests {
		if got := c.Classify(tc.text, tc.hint).Language; got != tc.want {
			t.Errorf("Classify(%q, hint %q).Language = %q, want %q", tc.text, tc.hint, got, tc.want)
		}
	}
}

// TestLanguageLatinLexicon checks that a Latin-script text's language is
// decided by the words of each language (the lexicons of DetectLanguage),
// not by which language's examples it resembles: Indonesian examples hold
// English words callers mix in (saya mau refund), and that must not make an
// English word Indonesian, nor the English words of an Indonesian sentence
// make it English.
func TestLanguageLatinLexicon(t *testing.T) {
	// The examples are chosen so that resemblance points the wrong way:
	// "return" is an Indonesian example word for word, and the English
	// examples share more with the Indonesian texts below than the
	// Indonesian ones do.
	c := Train(Examples{
		"refund": {
			"en": {"cancel my order and refund", "refund ok", "operator refund"},
			"id": {"return", "refund status", "saya mau uang kembali"},
		},
		"order_status": {
			"en": {"where is my order"},
			"id": {"pesanan saya di mana"},
		},
	}, Options{})
	tests := []struct{ text, want string }{
		{"return", "en"},
		{"refund status", "en"},
		{"batalin pesanan terus refund", "id"},
		{"oke siap", "id"},
		{"minta operator", "id"},
		{"refund dong kak", "id"},
	}
	for _, tc := range tests {
		if got := c.Classify(tc.text, "").Language; got != tc.want {
			t.Errorf("Classify(%q).Language = %q, want %q", tc.text, got, tc.want)
		}
	}
	if got := c.Classify("ok", "id").Language; got != "id" {
		t.Errorf("Classify(ok, hint id).Language = %q, want the call's language", got)
	}
}

// TestFeelings checks the features strongly negative words add (see
// addFeelings), which let a complaint in words no example has share
// something with the examples of complaint.
func TestFeelings(t *testing.T) {
	tests := []struct {
		text           string
		negative, angr int
	}{
		{"i m furious", 1, 1},
		{"this is pathetic", 1, 1},
		{"terrible terrible service", 2, 0},
		{"saya kesal banget", 1, 1},
		{"气死我了", 1, 1},
		{"服务很差", 1, 0},
		{"我好嬲", 1, 1},
		{"where is my order", 0, 0},
		{"not bad at all", 0, 0}, // a positive entry, read as one
		{"不错", 0, 0},             // 不错 (not bad) is not 错 (wrong)
		{"i am happy", 0, 0},
	}
	var k keys
	var n normalizer
	for _, tc := range tests {
		k.reset()
		extract(&k, n.normalize(nil, tc.text, nil), nil)
		neg, angry := 0, 0
		for i := range k.len() {
			switch key := string(k.key(i)); key {
			case string(kindFeeling) + string(featureNegative):
				neg++
			case string(kindFeeling) + string(featureAngry):
				angry++
			}
		}
		if neg != tc.negative || angry != tc.angr {
			t.Errorf("features of %q: %d negative, %d angry; want %d and %d", tc.text, neg, angry, tc.negative, tc.angr)
		}
	}

	// An angry word no example has is a complaint.
	c := demoClassifier()
	for _, text := range []string{"I'm furious", "this is pathetic"} {
		if r := c.Classify(text, "en"); r.Best != "complaint" {
			t.Errorf("Classify(%q) = %+v, want complaint best", text, r)
		}
	}
}
