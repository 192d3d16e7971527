package intent

import (
	"testing"
	"unicode"
)

func TestNormalize(t *testing.T) {
	tests := []struct{ in, want string }{
		{"Where's my ORDER?", "where s my order"},
		{"  refund,   please!! ", "refund please"},
		{"ｒｅｆｕｎｄ １２３", "refund 123"}, // full-width
		{"crème brûlée, Ångström", "creme brulee angstrom"},
		{"e\u0301", "e"}, // a decomposed accent
		{"我的訂單在哪裡？", "我的订单在哪里"},        // Traditional folded, CJK punctuation dropped
		{"我要refund謝謝", "我要 refund 谢谢"}, // CJK runs and words are separate tokens
		{"我要退货，谢谢", "我要退货 谢谢"},
		{"สวัสดีครับ", "สวัสดีครับ"}, // Thai vowel signs are part of the word
		{"order #12345", "order 12345"},
		{"", ""},
		{" \t\n?!", ""},
	}
	var n normalizer
	for _, tc := range tests {
		if got := string(n.normalize(nil, tc.in, nil)); got != tc.want {
			t.Errorf("normalize(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

func TestNormalizeEvidence(t *testing.T) {
	var n normalizer
	var ev evidence
	n.normalize(nil, "我張單喺邊 ok", &ev)
	if ev.letters[scriptCJK] != 5 || ev.letters[scriptLatin] != 2 {
		t.Errorf("letters = %v, want 5 CJK and 2 Latin", ev.letters)
	}
	if ev.traditional != 3 || ev.simplified != 0 { // 張 單 邊
		t.Errorf("traditional, simplified = %d, %d, want 3, 0", ev.traditional, ev.simplified)
	}
	if ev.markers[knownYUE] != 1 || ev.markers[knownZH] != 0 { // 喺
		t.Errorf("markers = %v, want one of Cantonese", ev.markers)
	}
	if ev.dominant() != scriptCJK {
		t.Errorf("dominant script = %v, want CJK", ev.dominant())
	}
}

// TestTradSimpTable checks the table as written: whole pairs of Han
// characters, each Traditional character once, and folding idempotent (no
// Simplified form is itself folded again).
func TestTradSimpTable(t *testing.T) {
	rs := []rune(tradSimpPairs)
	if len(rs)%2 != 0 {
		t.Fatalf("tradSimpPairs has %d characters, want pairs", len(rs))
	}
	seen := map[rune]rune{}
	for i := 0; i < len(rs); i += 2 {
		trad, simp := rs[i], rs[i+1]
		if !unicode.Is(unicode.Han, trad) || !unicode.Is(unicode.Han, simp) {
			t.Errorf("pair %c%c: not two Han characters", trad, simp)
		}
		if trad == simp {
			t.Errorf("pair %c%c: the same character", trad, simp)
		}
		if prev, ok := seen[trad]; ok {
			t.Errorf("%c is listed twice, as %c and %c", trad, prev, simp)
		}
		seen[trad] = simp
	}
	for trad, simp := range seen {
		if _, ok := seen[simp]; ok {
			t.Errorf("%c folds to %c, which folds again", trad, simp)
		}
	}
	if len(seen) < 150 {
		t.Errorf("the table has %d pairs, want at least 150", len(seen))
	}
	for _, r := range simpAlsoTraditional {
		if simpOnly[r] {
			t.Errorf("%c is common in Traditional text but counts as Simplified-only", r)
		}
	}
}
