package intent

import (
	"bufio"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// A langRow is an utterance labelled with its language.
type langRow struct{ text, lang string }

// readLangRows reads the text and language columns of a TSV file whose
// header names them; lines starting with # are comments.
func readLangRows(t testing.TB, name string) []langRow {
	t.Helper()
	f, err := os.Open(filepath.Join("..", "..", "testdata", "intents", name))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var rows []langRow
	textCol, langCol := -1, -1
	sc := bufio.NewScanner(f)
	for line := 1; sc.Scan(); line++ {
		if sc.Text() == "" || strings.HasPrefix(sc.Text(), "#") {
			continue
		}
		cols := strings.Split(sc.Text(), "\t")
		if textCol < 0 {
			textCol, langCol = slices.Index(cols, "text"), slices.Index(cols, "language")
			if textCol < 0 || langCol < 0 {
				t.Fatalf("%s:%d: header %q has no text and language columns", name, line, sc.Text())
			}
			continue
		}
		if len(cols) <= max(textCol, langCol) {
			t.Fatalf("%s:%d: %d columns, want at least %d", name, line, len(cols), max(textCol, langCol)+1)
		}
		rows = append(rows, langRow{cols[textCol], cols[langCol]})
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return rows
}

// scoreLanguages runs DetectLanguage on rows with all six languages as
// candidates and returns the accuracy per language, logging each miss.
func scoreLanguages(t *testing.T, name string, rows []langRow) (right, total map[string]int) {
	right, total = map[string]int{}, map[string]int{}
	for _, r := range rows {
		total[r.lang]++
		got, conf := DetectLanguage(r.text, nil)
		if got == r.lang {
			right[r.lang]++
		} else {
			t.Logf("%s: %q is %s, got %q (%.2f)", name, r.text, r.lang, got, conf)
		}
	}
	for _, lang := range lidCodes {
		if total[lang] > 0 {
			t.Logf("%s: %-3s %5.1f%% (%d/%d)", name, lang, 100*float64(right[lang])/float64(total[lang]), right[lang], total[lang])
		}
	}
	return right, total
}

// TestDetectLanguageSet holds every language of langid.tsv at 98%.
func TestDetectLanguageSet(t *testing.T) {
	rows := readLangRows(t, "langid.tsv")
	right, total := scoreLanguages(t, "langid.tsv", rows)
	for _, lang := range lidCodes {
		if total[lang] < 60 {
			t.Errorf("langid.tsv has %d %s rows, want at least 60", total[lang], lang)
			continue
		}
		if acc := float64(right[lang]) / float64(total[lang]); acc < 0.98 {
			t.Errorf("langid.tsv: %s identified %.1f%% of the time, want 98%%", lang, 100*acc)
		}
	}
	// The set measures what neither intent set holds.
	seen := map[string]bool{}
	for _, name := range []string{"dev.tsv", "heldout.tsv", "blind2.tsv"} {
		for _, r := range readLangRows(t, name) {
			seen[r.text] = true
		}
	}
	for _, r := range rows {
		if seen[r.text] {
			t.Errorf("langid.tsv: %q is also a row of an intent set", r.text)
		}
	}
}

// Levels reached on the intent sets' rows (en, id, zh, yue), all six
// languages as candidates. Their misses are mostly rows no text can place:
// hmm, ok, cs in English and Indonesian alike, and 你好, 嗯, 我想 refund
// written the same by Mandarin and Cantonese callers (dev.tsv has 我想
// refund under both). See README.md.
var langSetLevels = map[string]float64{
	"dev.tsv":     0.97,
	"heldout.tsv": 0.98,
	"blind2.tsv":  0.98,
}

func TestDetectLanguageIntentSets(t *testing.T) {
	for name, level := range langSetLevels {
		right, total := scoreLanguages(t, name, readLangRows(t, name))
		r, n := 0, 0
		for lang := range total {
			r += right[lang]
			n += total[lang]
		}
		acc := float64(r) / float64(n)
		t.Logf("%s: overall %.1f%% (%d/%d)", name, 100*acc, r, n)
		if acc < level {
			t.Errorf("%s: language identified %.1f%% of the time, want %.0f%%", name, 100*acc, 100*level)
		}
	}
}

func TestDetectLanguage(t *testing.T) {
	for _, tc := range []struct {
		text       string
		candidates []string
		want       string
	}{
		{"", nil, ""},
		{"   ...!? 123", nil, ""},
		{"ok", nil, ""},
		{"안녕하세요 주문 확인하고 싶어요", nil, ""},
		{"私の注文はどこですか", nil, ""}, // Japanese: kana outnumber the Han characters
		{"where is my order", nil, "en"},
		{"ｗｈｅｒｅ ｉｓ ｍｙ ｏｒｄｅｒ", nil, "en"},
		{"saya mau refund dong", nil, "id"}, // Indonesian with an English word
		{"saya nak refund, boleh tak", nil, "ms"},
		{"我想 cancel 張單退錢", nil, "yue"}, // Cantonese with an English word
		{"帮我 check 一下订单", nil, "zh"},
		{"我的訂單在哪裡", nil, "zh"}, // Mandarin grammar in Traditional characters
		{"查訂單", nil, "yue"},    // Traditional characters and nothing else
		{"沒關係", nil, "zh"},
		// The Turkish letters decide.
		{"şu", nil, "tr"},
		{"Günaydın", nil, "tr"},
		{"İade", nil, "tr"},
		{"refund çok geç", nil, "tr"},
		// Candidates restrict the answer.
		{"saya nak refund, boleh tak", []string{"en", "id"}, "id"},
		{"pesanan saya belum sampai", []string{"ms"}, "ms"},
		{"where is my order", []string{"id", "zh"}, "id"},
		{"我張單喺邊度", []string{"en", "zh"}, "zh"},
		{"我張單喺邊度", []string{"en", "id"}, ""}, // Chinese among Latin-script languages
		{"where is my order", []string{"zh", "yue"}, ""},
		{"where is my order", []string{"fr"}, ""},
		{"where is my order", []string{}, ""},
	} {
		got, conf := DetectLanguage(tc.text, tc.candidates)
		if got != tc.want {
			t.Errorf("DetectLanguage(%q, %q) = %q (%.2f), want %q", tc.text, tc.candidates, got, conf, tc.want)
		}
		if !(conf >= 0 && conf <= 1) || got == "" && conf != 0 {
			t.Errorf("DetectLanguage(%q, %q) confidence %v", tc.text, tc.candidates, conf)
		}
	}
}

// TestDetectLanguageConfidence checks that the confidence says how sure
// the answer is: high with evidence, near a half when only a tie-break
// chose, and low when the candidates left out the likely language.
func TestDetectLanguageConfidence(t *testing.T) {
	for _, tc := range []struct {
		text       string
		candidates []string
		lo, hi     float64
	}{
		{"where is my order, I have been waiting for two weeks", nil, 0.9, 1},
		{"我張單喺邊度，點解仲未到", nil, 0.9, 1},
		{"terima kasih", nil, 0.4, 0.6}, // Indonesian and Malay alike
		{"我想退款", nil, 0.4, 0.6},         // Mandarin and Cantonese alike
		{"我張單喺邊度", []string{"zh"}, 0, 0.2},
	} {
		_, conf := DetectLanguage(tc.text, tc.candidates)
		if conf < tc.lo || conf > tc.hi {
			t.Errorf("DetectLanguage(%q, %q) confidence %.2f, want %.2f..%.2f", tc.text, tc.candidates, conf, tc.lo, tc.hi)
		}
	}
}

// Allocation bound for DetectLanguage: measured 0 on every path (ASCII,
// Turkish letters, full-width, Chinese); under -race, the same.
const maxLangIDAllocs = 0

func TestDetectLanguageAllocations(t *testing.T) {
	for _, text := range []string{"where's my package", "siparişim nerede", "ｒｅｆｕｎｄ", "點解扣咗我兩次錢", "saya mau refund dong"} {
		if n := testing.AllocsPerRun(200, func() { DetectLanguage(text, nil) }); n > maxLangIDAllocs {
			t.Errorf("DetectLanguage(%q) allocates %.1f times, want at most %v", text, n, maxLangIDAllocs)
		}
	}
}

func BenchmarkDetectLanguage(b *testing.B) {
	texts := []string{
		"where is my order, it has been two weeks",
		"pesanan saya belum sampai, gimana sih",
		"saya nak buat aduan pasal bil",
		"siparişim nerede kaldı",
		"我的快递什么时候到",
		"點解扣咗我兩次錢",
	}
	b.ReportAllocs()
	n := 0
	for b.Loop() {
		for _, text := range texts {
			DetectLanguage(text, nil)
		}
		n++
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(n*len(texts)), "ns/utterance")
}

func FuzzDetectLanguage(f *testing.F) {
	f.Add("saya mau refund dong", "id")
	f.Add("我想 cancel 張單退錢", "zh")
	f.Add("e\u0301\u0301 şu\xff", "tr")
	f.Fuzz(func(t *testing.T, text, candidate string) {
		candidates := []string{candidate}
		got, conf := DetectLanguage(text, candidates)
		if !(conf >= 0 && conf <= 1) {
			t.Fatalf("DetectLanguage(%q) confidence %v, want 0..1", text, conf)
		}
		if got != "" && got != candidate {
			t.Fatalf("DetectLanguage(%q, %q) = %q, not a candidate", text, candidates, got)
		}
	})
}
