package intent

import (
	"math"
	"slices"
	"testing"
)

type sentimentClass int

const (
	feelPositive sentimentClass = iota
	feelNeutral
	feelNegative
	feelAngry
)

func (f sentimentClass) String() string {
	return [...]string{"positive", "neutral", "negative", "angry"}[f]
}

func (f sentimentClass) check(s Sentiment) bool {
	switch f {
	case feelPositive:
		return s.Score >= 0.2 && !s.Angry
	case feelNeutral:
		return math.Abs(s.Score) < 0.2 && !s.Angry
	case feelNegative:
		return s.Score <= -0.2 && !s.Angry
	}
	return s.Angry && s.Score <= angryScore
}

// What callers say, by language and by how they feel: at least eight of
// each kind in each language.
var sentimentCases = map[string]map[sentimentClass][]string{
	"en": {
		feelPositive: {
			"Thank you so much, that was really helpful",
			"Great, the refund arrived this morning",
			"I'm very happy with the service",
			"Excellent, that's exactly what I needed",
			"The agent was friendly and patient",
			"Perfect, thanks",
			"Not bad at all, it works now",
			"I appreciate your help",
			"That's wonderful news!",
		},
		feelNeutral: {
			"I want to check the status of my order",
			"What is my account balance",
			"Can I speak to someone about my bill",
			"My order number is one two three four five",
			"I'd like to change my delivery address",
			"Do you open on Sunday",
			"I have two questions about my plan",
			"Please send me the invoice by email",
			"Good morning, I'm calling about a payment",
		},
		feelNegative: {
			"The delivery is late again",
			"I'm not happy with the service",
			"That's not good",
			"The parcel arrived broken",
			"I'm quite disappointed with the product",
			"The app is terrible",
			"Your website is a bit confusing",
			"The package never arrived",
			"It's not very good",
		},
		feelAngry: {
			"This is ridiculous, I've been waiting for two weeks",
			"Your service is absolutely useless",
			"I'm so angry right now",
			"I'm fed up with this company",
			"This is the third time I'm calling about this",
			"THIS IS UNACCEPTABLE",
			"You people are incompetent!",
			"I'm sick and tired of waiting",
			"I'm really frustrated, nobody called me back",
			"THE WORST SERVICE EVER!!!",
		},
	},
	"id": {
		feelPositive: {
			"Terima kasih banyak, sangat membantu",
			"Pelayanannya bagus sekali",
			"Saya puas dengan layanan kalian",
			"Mantap, paketnya sudah sampai",
			"Keren banget, cepat sekali prosesnya",
			"Makasih ya mbak, ramah banget",
			"Oke, tidak masalah",
			"Saya senang sekali, terima kasih",
			"Lumayan bagus kok",
		},
		feelNeutral: {
			"Saya mau cek status pesanan saya",
			"Berapa saldo rekening saya",
			"Nomor pesanan saya satu dua tiga empat lima",
			"Saya ingin ganti alamat pengiriman",
			"Tolong kirim tagihan ke email saya",
			"Saya tidak tahu nomor pesanannya",
			"Kapan kantor buka hari Senin",
			"Bisa bicara dengan petugas",
			"Selamat pagi, saya mau tanya soal pembayaran",
		},
		feelNegative: {
			"Paket saya belum sampai",
			"Saya kecewa dengan pelayanannya",
			"Saya tidak puas",
			"Barangnya rusak",
			"Aplikasinya jelek",
			"Prosesnya lambat sekali",
			"Pelayanan kalian so bad banget",
			"Kurang bagus pelayanannya",
			"Agak mengecewakan sih",
		},
		feelAngry: {
			"Saya kesal sekali, sudah berapa kali saya telepon",
			"Pelayanan kalian parah banget",
			"Saya marah, ini keterlaluan",
			"Kalian nggak becus kerja, bikin kesal",
			"Ini sudah ketiga kalinya saya komplain",
			"Dasar penipu, uang saya hilang",
			"Capek banget nunggu, nggak ada yang telepon balik",
			"Aplikasi kalian nggak berguna!",
			"Saya muak dengan layanan kalian",
		},
	},
	"ms": {
		feelPositive: {
			"Terima kasih banyak, sangat membantu",
			"Servis ni memang terbaik",
			"Saya puas hati dengan layanan awak",
			"Best betul, barang dah sampai",
			"Bagus, cepat sangat",
			"Saya gembira, masalah dah selesai",
			"Tak apa, boleh lah",
			"Staf sangat mesra dan membantu",
		},
		feelNeutral: {
			"Saya nak semak status pesanan saya",
			"Berapa baki akaun saya",
			"Nombor pesanan saya satu dua tiga empat lima",
			"Saya nak tukar alamat penghantaran",
			"Tolong hantar bil ke emel saya",
			"Pukul berapa pejabat buka",
			"Boleh saya cakap dengan pegawai",
			"Selamat pagi, saya nak tanya pasal bayaran",
		},
		feelNegative: {
			"Bungkusan saya belum sampai lagi",
			"Saya kecewa dengan servis ni",
			"Saya tak puas hati",
			"Barang rosak",
			"Servis teruk",
			"Lambat sangat proses ni",
			"Tidak bagus langsung",
			"Agak mengecewakan",
		},
		feelAngry: {
			"Saya geram betul, dah banyak kali saya telefon",
			"Servis awak memang hampeh",
			"Saya marah, ini sudah melampau",
			"Ini kali ketiga saya buat aduan",
			"Aplikasi ni tak guna langsung!",
			"Saya bengang dengan syarikat awak",
			"Buang masa saya je",
			"Penipu, duit saya hilang",
		},
	},
	"zh": {
		feelPositive: {
			"谢谢，你们的服务很好",
			"非常感谢，帮了大忙",
			"我很满意",
			"太好了，退款已经到了",
			"客服态度不错",
			"你们的客服很专业也很耐心",
			"没问题，谢谢你",
			"很方便，我很喜欢",
			"服務很好，謝謝",
		},
		feelNeutral: {
			"我想查一下我的订单",
			"我的账户余额是多少",
			"我的订单号是一二三四五",
			"我想改一下收货地址",
			"请问你们几点开门",
			"你好，我想问一个问题",
			"我的快递到哪里了",
			"好的，我知道了",
			"不好意思，我想转人工",
		},
		feelNegative: {
			"我不满意",
			"快递太慢了",
			"东西坏了",
			"你们的服务很差",
			"我有点失望",
			"不是很满意",
			"这个应用很难用",
			"包裹还没收到",
			"質量不好",
		},
		feelAngry: {
			"气死我了，你们到底怎么回事",
			"太过分了，我要投诉",
			"这已经是第三次了",
			"你们的客服就是垃圾",
			"我受不了了，等了半天没人理",
			"真是离谱，钱到现在还没退",
			"我很生气！",
			"你们就是骗子",
			"真是太過分了",
		},
	},
	"yue": {
		feelPositive: {
			"多謝晒，你哋好幫手",
			"服務好好，好滿意",
			"好正呀，已經收到",
			"唔該晒，搞掂咗",
			"我好開心",
			"你哋啲職員好專業",
			"冇問題，多謝",
			"都幾好",
		},
		feelNeutral: {
			"我想查下我張單",
			"我戶口仲有幾多錢",
			"我張單號碼係一二三四五",
			"我想改送貨地址",
			"你哋幾點開門",
			"唔該，我想搵真人",
			"你好，我想問下",
			"唔好意思，我想問下退款",
		},
		feelNegative: {
			"我唔滿意",
			"送貨好慢",
			"啲嘢壞咗",
			"你哋服務好差",
			"有啲失望",
			"唔係幾好",
			"個app好難用",
			"仲未收到",
		},
		feelAngry: {
			"我好嬲呀",
			"激氣，等咗好耐都冇人理",
			"你哋真係太過分",
			"呢個已經係第三次",
			"你哋啲服務冇用",
			"離譜到極",
			"頂唔順你哋",
			"搞乜鬼呀，講咗幾次",
		},
	},
}

func TestSentimentOfCallers(t *testing.T) {
	for lang, byFeeling := range sentimentCases {
		for want, texts := range byFeeling {
			if len(texts) < 8 {
				t.Errorf("%s %v: %d sentences, want at least 8", lang, want, len(texts))
			}
			for _, text := range texts {
				s := SentimentOf(text, lang)
				if !want.check(s) {
					t.Errorf("%s: SentimentOf(%q) = %+v, want %v", lang, text, s, want)
				}
			}
		}
	}
}

// Negation turns a positive word fully and a negative one partly; the
// lexicon's own negative words (不满意) and a negator before a positive one
// (唔滿意 read as 唔 + 满意) both come out negative.
func TestSentimentNegation(t *testing.T) {
	cases := []struct {
		lang, text string
		lo, hi     float64
	}{
		{"en", "good", 0.4, 0.8},
		{"en", "not good", -0.8, -0.3},
		{"en", "bad", -0.8, -0.4},
		{"en", "not bad", 0.1, 0.4},
		{"en", "never happy", -0.8, -0.3},
		{"en", "I don't like it, it isn't good", -0.8, -0.3},
		{"en", "not very good", -0.5, -0.1},
		{"id", "puas", 0.4, 0.8},
		{"id", "tidak puas", -0.8, -0.3},
		{"id", "nggak jelek", 0.1, 0.4},
		{"id", "bukan masalah besar", 0.05, 0.3},
		{"id", "gak bagus", -0.8, -0.3},
		{"ms", "tak bagus", -0.8, -0.3},
		{"zh", "满意", 0.4, 0.8},
		{"zh", "不满意", -0.8, -0.3},
		{"zh", "没有不满意", -0.8, 0.4}, // a double negative is not a strong feeling
		{"zh", "不开心", -0.8, -0.3},
		{"zh", "不差", 0.1, 0.4},
		{"yue", "滿意", 0.4, 0.8},
		{"yue", "唔滿意", -0.8, -0.3},
		{"yue", "唔開心", -0.8, -0.3},
		{"yue", "冇嬲", 0.0, 0.5},
	}
	for _, c := range cases {
		s := SentimentOf(c.text, c.lang)
		if s.Score < c.lo || s.Score > c.hi {
			t.Errorf("%s: SentimentOf(%q) = %+v, want a score in %.2f..%.2f", c.lang, c.text, s, c.lo, c.hi)
		}
	}
	if s := SentimentOf("I'm not angry, just curious", "en"); s.Angry {
		t.Errorf("not angry: %+v", s)
	}
}

// Intensifiers, capitals and exclamation marks make a sentimentClass stronger;
// diminishers make it weaker; the sign stays.
func TestSentimentIntensity(t *testing.T) {
	cases := []struct {
		lang, weaker, stronger string
	}{
		{"en", "good", "very good"},
		{"en", "bad", "so bad"},
		{"en", "bad", "really really bad"},
		{"en", "a bit slow", "slow"},
		{"en", "this is bad", "this is BAD"},
		{"en", "this is bad", "this is bad!!"},
		{"en", "happy", "extremely happy"},
		{"id", "bagus", "sangat bagus"},
		{"id", "jelek", "jelek banget"},
		{"id", "lambat", "lambat sekali"},
		{"id", "agak lambat", "lambat"},
		{"id", "pelayanan kalian bad", "pelayanan kalian so bad banget"},
		{"ms", "teruk", "teruk sangat"},
		{"ms", "sikit lambat", "lambat"},
		{"zh", "满意", "很满意"},
		{"zh", "满意", "非常满意"},
		{"zh", "差", "超差"},
		{"zh", "慢", "太慢"},
		{"zh", "有点慢", "慢"},
		{"zh", "生气", "生气！！"},
		{"yue", "差", "好差"},
		{"yue", "開心", "好開心"},
		{"yue", "嬲", "嬲到死"},
		{"yue", "有啲慢", "慢"},
	}
	for _, c := range cases {
		w, s := SentimentOf(c.weaker, c.lang), SentimentOf(c.stronger, c.lang)
		if w.Score == 0 || math.Signbit(w.Score) != math.Signbit(s.Score) || math.Abs(s.Score) <= math.Abs(w.Score) {
			t.Errorf("%s: %q scores %.3f, %q %.3f: want the second stronger, same sign", c.lang, c.weaker, w.Score, c.stronger, s.Score)
		}
	}
}

// The words that decided a score come back, with their modifiers.
func TestSentimentWords(t *testing.T) {
	cases := []struct {
		lang, text string
		words      []string
	}{
		{"en", "I'm not happy with the service", []string{"not happy"}},
		{"en", "Thanks, but this is useless", []string{"useless"}},
		{"id", "pelayanan kalian so bad banget", []string{"so bad banget"}},
		{"zh", "我真的不是很满意", []string{"真的不是很满意"}},
		{"yue", "我好嬲呀", []string{"好嬲"}},
		{"yue", "我唔滿意", []string{"唔满意"}},
		{"en", "I want to check my order", nil},
	}
	for _, c := range cases {
		if got := SentimentOf(c.text, c.lang).Words; !slices.Equal(got, c.words) {
			t.Errorf("%s: SentimentOf(%q).Words = %q, want %q", c.lang, c.text, got, c.words)
		}
	}
}

// Where lexicons share a word, the call's language decides: senang is
// "happy" in Indonesian (+2) and "easy" in Malay (+1).
func TestSentimentLanguageDecides(t *testing.T) {
	id, ms := SentimentOf("senang", "id"), SentimentOf("senang", "ms")
	if id.Score <= ms.Score || ms.Score <= 0 {
		t.Errorf("senang: id %.2f, ms %.2f: want both positive, Indonesian more", id.Score, ms.Score)
	}
}

// Every lexicon entry is read as itself: normalising it gives the key it
// is found by, and a sentence of just the entry carries its valence.
func TestSentimentLexiconsAreWhole(t *testing.T) {
	for k, src := range lexiconSources {
		lang := knownCodes[k]
		if n := src.termCount(); n < 60 {
			t.Errorf("%s: %d sentiment terms, want at least 60", lang, n)
		}
		t.Logf("%s: %d terms", lang, src.termCount())
		for key, e := range sentimentLexicons[k] {
			if e.valence == 0 {
				continue
			}
			s := SentimentOf(key, lang)
			if s.Score == 0 || math.Signbit(s.Score) != math.Signbit(e.valence) {
				t.Errorf("%s: entry %q (valence %v) alone scores %+v", lang, key, e.valence, s)
			}
		}
	}
}

func TestMood(t *testing.T) {
	say := func(m *Mood, text, lang string, raised bool) {
		m.Add(SentimentOf(text, lang), raised)
	}

	var m Mood
	say(&m, "Hi, I want to check my order", "en", false)
	say(&m, "Thanks, that's good", "en", false)
	if m.TurningNegative || m.Score <= 0 {
		t.Fatalf("after a neutral and a positive utterance: %+v", m)
	}
	say(&m, "It still hasn't arrived, that's bad", "en", false)
	say(&m, "This is ridiculous", "en", false)
	if !m.TurningNegative || m.Angry != 1 {
		t.Fatalf("after two negative utterances: %+v, want turning negative, one angry", m)
	}
	say(&m, "OK thank you, that's great, really helpful", "en", false)
	say(&m, "Perfect, thanks", "en", false)
	if m.TurningNegative {
		t.Errorf("after recovering: %+v, want not turning negative", m)
	}

	// A caller who starts unhappy is not turning negative.
	var sour Mood
	say(&sour, "This is terrible", "en", false)
	say(&sour, "Still bad", "en", false)
	if sour.TurningNegative || sour.Score >= MoodNegative {
		t.Errorf("unhappy from the start: %+v", sour)
	}

	// A raised voice makes a mildly negative utterance angry; it leaves a
	// neutral one alone.
	var loud Mood
	say(&loud, "I want my refund", "en", true)
	if loud.Angry != 0 || loud.Score != 0 {
		t.Errorf("neutral words in a raised voice: %+v", loud)
	}
	say(&loud, "The parcel is late again and that's bad", "en", true)
	if loud.Angry != 1 {
		t.Errorf("negative words in a raised voice: %+v, want angry", loud)
	}
}

func BenchmarkSentimentOf(b *testing.B) {
	b.ReportAllocs()
	for b.Loop() {
		SentimentOf("Pelayanan kalian so bad banget, saya kesal sekali", "id")
		SentimentOf("你哋真係太過分，等咗好耐都冇人理", "yue")
	}
}
