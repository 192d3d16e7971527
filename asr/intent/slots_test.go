package intent

import (
	"fmt"
	"math"
	"testing"
	"time"
)

var slotsNow = time.Date(2025, time.November, 25, 14, 30, 0, 0, time.FixedZone("WIB", 7*3600))

func slotDay(y int, m time.Month, d int) *time.Time {
	t := time.Date(y, m, d, 0, 0, 0, 0, slotsNow.Location())
	return &t
}

func slotMoney(v float64, cur string) *Amount { return &Amount{v, cur} }

func (s Slots) String() string {
	out := fmt.Sprintf("Digits %q", s.Digits)
	if s.Amount != nil {
		out += fmt.Sprintf(" Amount %v %s", s.Amount.Value, s.Amount.Currency)
	}
	if s.Date != nil {
		out += " Date " + s.Date.Format("2006-01-02")
	}
	return out
}

func slotsEqual(a, b Slots) bool {
	if a.Digits != b.Digits || (a.Amount == nil) != (b.Amount == nil) || (a.Date == nil) != (b.Date == nil) {
		return false
	}
	if a.Amount != nil && (math.Abs(a.Amount.Value-b.Amount.Value) > 1e-9 || a.Amount.Currency != b.Amount.Currency) {
		return false
	}
	return a.Date == nil || a.Date.Equal(*b.Date)
}

func TestExtractSlots(t *testing.T) {
	cases := []struct {
		lang, text string
		want       Slots
	}{
		// English
		{"en", "My order number is 12345", Slots{Digits: "12345"}},
		{"en", "one two three four five", Slots{Digits: "12345"}},
		{"en", "it's one 2 three four", Slots{Digits: "1234"}},
		{"en", "order oh seven double five nine", Slots{Digits: "07559"}},
		{"en", "my number is 0812-3456-7890", Slots{Digits: "081234567890"}},
		{"en", "I have two questions", Slots{}},
		{"en", "option 3 please", Slots{}},
		{"en", "one two three", Slots{}},
		{"en", "oh, I see", Slots{}},
		{"en", "I paid $25 yesterday", Slots{Amount: slotMoney(25, "USD"), Date: slotDay(2025, 11, 24)}},
		{"en", "it was 25 dollars", Slots{Amount: slotMoney(25, "USD")}},
		{"en", "twenty five dollars", Slots{Amount: slotMoney(25, "USD")}},
		{"en", "a hundred and fifty bucks", Slots{Amount: slotMoney(150, "USD")}},
		{"en", "I was charged $1,250.50 for order 98765", Slots{Digits: "98765", Amount: slotMoney(1250.5, "USD")}},
		{"en", "two thousand five hundred ringgit", Slots{Amount: slotMoney(2500, "MYR")}},
		{"en", "it arrived today", Slots{Date: slotDay(2025, 11, 25)}},
		{"en", "delivery tomorrow", Slots{Date: slotDay(2025, 11, 26)}},
		{"en", "I ordered on 23 November", Slots{Date: slotDay(2025, 11, 23)}},
		{"en", "on the 3rd of December 2024", Slots{Date: slotDay(2024, 12, 3)}},
		{"en", "November 23rd, 2024", Slots{Date: slotDay(2024, 11, 23)}},
		{"en", "paid on 23/11", Slots{Date: slotDay(2025, 11, 23)}},
		{"en", "paid on 11/23", Slots{Date: slotDay(2025, 11, 23)}},
		{"en", "delivery on 5/1", Slots{Date: slotDay(2026, 1, 5)}}, // January is nearer next year
		{"en", "on 31/02", Slots{}},
		{"en", "may I speak to someone", Slots{}},
		// Indonesian
		{"id", "nomor pesanan saya satu dua tiga empat lima", Slots{Digits: "12345"}},
		{"id", "satu dua tiga", Slots{}},
		{"id", "saya punya dua pertanyaan", Slots{}},
		{"id", "saya bayar Rp 50.000 kemarin", Slots{Amount: slotMoney(50000, "IDR"), Date: slotDay(2025, 11, 24)}},
		{"id", "Rp50.000,00", Slots{Amount: slotMoney(50000, "IDR")}},
		{"id", "50 ribu", Slots{Amount: slotMoney(50000, "IDR")}},
		{"id", "lima puluh ribu rupiah", Slots{Amount: slotMoney(50000, "IDR")}},
		{"id", "dua ratus lima puluh ribu", Slots{Amount: slotMoney(250000, "IDR")}},
		{"id", "1,5 juta", Slots{Amount: slotMoney(1.5e6, "IDR")}},
		{"id", "hari ini", Slots{Date: slotDay(2025, 11, 25)}},
		{"id", "besok pagi", Slots{Date: slotDay(2025, 11, 26)}},
		{"id", "tanggal 23 November", Slots{Date: slotDay(2025, 11, 23)}},
		{"id", "pesanan 4455 tanggal 23/11", Slots{Digits: "4455", Date: slotDay(2025, 11, 23)}},
		// Malay
		{"ms", "nombor pesanan satu dua tiga empat lapan kosong", Slots{Digits: "123480"}},
		{"ms", "RM50 semalam", Slots{Amount: slotMoney(50, "MYR"), Date: slotDay(2025, 11, 24)}},
		{"ms", "RM 12.50", Slots{Amount: slotMoney(12.5, "MYR")}},
		{"ms", "dua puluh ringgit", Slots{Amount: slotMoney(20, "MYR")}},
		{"ms", "5 ribu", Slots{Amount: slotMoney(5000, "MYR")}},
		{"ms", "esok", Slots{Date: slotDay(2025, 11, 26)}},
		{"ms", "23 Ogos", Slots{Date: slotDay(2025, 8, 23)}},
		{"ms", "saya ada tiga soalan", Slots{}},
		// Mandarin
		{"zh", "我的订单号是一二三四五", Slots{Digits: "12345"}},
		{"zh", "订单号幺二三四", Slots{Digits: "1234"}},
		{"zh", "我的订单号是12345", Slots{Digits: "12345"}},
		{"zh", "一百块", Slots{Amount: slotMoney(100, "CNY")}},
		{"zh", "一共两千三百元", Slots{Amount: slotMoney(2300, "CNY")}},
		{"zh", "三块五", Slots{Amount: slotMoney(3.5, "CNY")}},
		{"zh", "５０元", Slots{Amount: slotMoney(50, "CNY")}},
		{"zh", "我昨天付了一百五十块", Slots{Amount: slotMoney(150, "CNY"), Date: slotDay(2025, 11, 24)}},
		{"zh", "11月23日", Slots{Date: slotDay(2025, 11, 23)}},
		{"zh", "十一月二十三号", Slots{Date: slotDay(2025, 11, 23)}},
		{"zh", "二零二四年十二月三日", Slots{Date: slotDay(2024, 12, 3)}},
		{"zh", "今天", Slots{Date: slotDay(2025, 11, 25)}},
		{"zh", "我想查一下", Slots{}},
		{"zh", "我有两个问题", Slots{}},
		// Cantonese
		{"yue", "我張單號碼係一二三四五", Slots{Digits: "12345"}},
		{"yue", "五十蚊", Slots{Amount: slotMoney(50, "HKD")}},
		{"yue", "一百五十蚊", Slots{Amount: slotMoney(150, "HKD")}},
		{"yue", "百五蚊", Slots{Amount: slotMoney(150, "HKD")}},
		{"yue", "廿蚊", Slots{Amount: slotMoney(20, "HKD")}},
		{"yue", "一百蚊", Slots{Amount: slotMoney(100, "HKD")}},
		{"yue", "兩百塊", Slots{Amount: slotMoney(200, "HKD")}},
		{"yue", "$25", Slots{Amount: slotMoney(25, "HKD")}},
		{"yue", "琴日", Slots{Date: slotDay(2025, 11, 24)}},
		{"yue", "尋日", Slots{Date: slotDay(2025, 11, 24)}},
		{"yue", "聽日", Slots{Date: slotDay(2025, 11, 26)}},
		{"yue", "今日", Slots{Date: slotDay(2025, 11, 25)}},
		{"yue", "我有三個問題", Slots{}},
	}
	for _, c := range cases {
		got := ExtractSlots(c.text, c.lang, slotsNow)
		if !slotsEqual(got, c.want) {
			t.Errorf("%s: ExtractSlots(%q) = %v, want %v", c.lang, c.text, got, c.want)
		}
	}
}

func TestParseDigits(t *testing.T) {
	cases := []struct {
		s            string
		thousandsDot bool
		want         float64
	}{
		{"1250", false, 1250},
		{"1,250", false, 1250},
		{"1,250.50", false, 1250.5},
		{"12.50", false, 12.5},
		{"50.000", true, 50000},
		{"50.000", false, 50},
		{"50.000,00", true, 50000},
		{"1.000.000", false, 1e6},
		{"1,5", true, 1.5},
		{"2,50", false, 2.5},
	}
	for _, c := range cases {
		if got := parseDigits(c.s, c.thousandsDot); math.Abs(got-c.want) > 1e-9 {
			t.Errorf("parseDigits(%q, %v) = %v, want %v", c.s, c.thousandsDot, got, c.want)
		}
	}
}

func FuzzExtractSlots(f *testing.F) {
	f.Add("I paid $1,250.50 on 23/11 for order one two three four", "en")
	f.Add("五十蚊 琴日 一二三四五", "yue")
	f.Add("Rp 50.000 kemarin", "id")
	f.Fuzz(func(t *testing.T, text, lang string) {
		s := ExtractSlots(text, lang, slotsNow)
		for _, c := range s.Digits {
			if c < '0' || c > '9' {
				t.Fatalf("Digits %q", s.Digits)
			}
		}
		if len(s.Digits) > 0 && len(s.Digits) < 4 {
			t.Fatalf("Digits %q: fewer than 4", s.Digits)
		}
	})
}
