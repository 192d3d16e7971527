package intent

// Slots: the order number, amount and date in what a caller said, as a
// recognizer writes them: in digits ("12345", "$25", "23/11") or in words
// ("one two three four five", "lima puluh ribu", "一百块", "琴日"), in
// any of the five languages and mixed ("one 2 three").
//
// The text is cut into tokens after NFKC (full-width digits and signs
// become ASCII), lower case and the Traditional-to-Simplified fold: a run of
// digits (with the separators inside it: 1,250.50), a Latin word, one Han
// character, or one sign ($ / -). Dates are read first, then amounts, then
// the order number from the digits that are left, so the 23 and 11 of
// "23/11" or the 50 of "$50" are not taken for an order number.

import (
	"math"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"golang.org/x/text/unicode/norm"
)

// Slots are what ExtractSlots found; a slot not found is empty.
type Slots struct {
	// Digits is the longest run of four or more digits said one after
	// another (an order, account or phone number), as ASCII digits. Fewer
	// than four are not taken: "two questions", "option 3" and "I have 2
	// orders" are counts, not numbers to look up.
	Digits string
	// Amount is a sum of money: a number with a currency or a money word
	// around it ($25, 25 dollars, Rp 50.000, 50 ribu, 一百块, 五十蚊).
	Amount *Amount
	// Date is a day said as a word (today, kemarin, 昨天, 琴日) or a date
	// (23 November, 23/11, 11月23日), at midnight in now's location.
	Date *time.Time
}

// An Amount is a sum of money.
type Amount struct {
	Value float64
	// Currency is an ISO 4217 code: said (RM, rupiah, 港币), or implied by
	// the money word in the call's language (dollars are HKD in Cantonese
	// and USD otherwise; 块 is CNY in Mandarin and HKD in Cantonese; ribu
	// alone is IDR in Indonesian, MYR in Malay). Empty if nothing says.
	Currency string
}

// ExtractSlots finds the slots in text, said in the call's language lang
// (en, id, ms, zh, yue; others are read with every language's words). now
// anchors relative dates (yesterday) and the year of a date said without
// one, which is the year that puts it nearest to now: "23 November" said
// in January is last November.
//
// A date written with slashes or dashes is day first (23/11, 23-11-2024),
// as in Indonesia, Malaysia and Hong Kong, unless only month first makes
// sense (11/23). Of several amounts or dates, the first is taken.
func ExtractSlots(text, lang string, now time.Time) Slots {
	toks := slotTokens(text)
	used := make([]bool, len(toks))
	var s Slots
	for i := 0; i < len(toks) && s.Date == nil; i++ {
		if d, n, ok := dateAt(toks, i, now); ok {
			s.Date = &d
			markUsed(used, i, n)
		}
	}
	for i := 0; i < len(toks) && s.Amount == nil; i++ {
		if used[i] {
			continue
		}
		if a, n, ok := amountAt(toks, used, i, lang); ok {
			s.Amount = &a
			markUsed(used, i, n)
		}
	}
	s.Digits = digitRun(toks, used)
	return s
}

func markUsed(used []bool, i, n int) {
	for k := i; k < i+n && k < len(used); k++ {
		used[k] = true
	}
}

// A slotToken is a piece of an utterance: kind 'n' a number (ASCII digits,
// perhaps with . and , inside), 'w' a Latin word, 'h' a Han character, 's'
// any other sign.
type slotToken struct {
	kind byte
	text string
}

func slotTokens(text string) []slotToken {
	text = norm.NFKC.String(text)
	var toks []slotToken
	var b strings.Builder
	for i := 0; i < len(text); {
		r, size := utf8.DecodeRuneInString(text[i:])
		r = unicode.ToLower(r)
		switch s := scriptOf(r); {
		case '0' <= r && r <= '9':
			j := i
			for j < len(text) {
				c := text[j]
				if '0' <= c && c <= '9' || (c == '.' || c == ',') && j+1 < len(text) && '0' <= text[j+1] && text[j+1] <= '9' && j > i {
					j++
					continue
				}
				break
			}
			toks = append(toks, slotToken{'n', text[i:j]})
			i = j
			continue
		case s == scriptLatin:
			b.Reset()
			j := i
			for j < len(text) {
				r, size := utf8.DecodeRuneInString(text[j:])
				if scriptOf(r) != scriptLatin {
					break
				}
				b.WriteRune(foldLatin(unicode.ToLower(r)))
				j += size
			}
			toks = append(toks, slotToken{'w', b.String()})
			i = j
			continue
		case s == scriptCJK:
			if f, ok := tradToSimp[r]; ok {
				r = f
			}
			toks = append(toks, slotToken{'h', string(r)})
		case unicode.IsSpace(r):
		default:
			toks = append(toks, slotToken{'s', string(r)})
		}
		i += size
	}
	return toks
}

// phraseAt says whether the tokens at i spell phrase (Latin words
// separated by spaces, Han characters one token each), and how many
// tokens it takes.
func phraseAt(toks []slotToken, i int, phrase string) (int, bool) {
	n := 0
	for phrase != "" {
		if i+n >= len(toks) {
			return 0, false
		}
		var want string
		r, size := utf8.DecodeRuneInString(phrase)
		switch {
		case r == ' ':
			phrase = phrase[size:]
			continue
		case scriptOf(r) == scriptCJK:
			want, phrase = phrase[:size], phrase[size:]
		default:
			end := strings.IndexByte(phrase, ' ')
			if end < 0 {
				end = len(phrase)
			}
			want, phrase = phrase[:end], phrase[end:]
		}
		if toks[i+n].text != want {
			return 0, false
		}
		n++
	}
	return n, n > 0
}

// longestAt returns the value of the longest phrase of table at i.
func longestAt[V any](toks []slotToken, i int, table map[string]V) (v V, n int, ok bool) {
	for phrase, val := range table {
		if k, found := phraseAt(toks, i, phrase); found && k > n {
			v, n, ok = val, k, true
		}
	}
	return v, n, ok
}

// --- Digits ---

// currencyBefore are the signs and words that come before a sum.
var currencyBefore = map[string]string{
	"$": "", "us $": "USD", "hk $": "HKD", "s $": "SGD", "a $": "AUD", "¥": "CNY", "€": "EUR",
	"£": "GBP", "rp": "IDR", "rm": "MYR", "usd": "USD", "idr": "IDR", "myr": "MYR", "hkd": "HKD",
	"sgd": "SGD", "rmb": "CNY", "cny": "CNY",
}

// currencyAfter are the words that come after one. "" is the dollar, whose
// currency the call's language decides.
var currencyAfter = map[string]string{
	"dollar": "", "dollars": "", "bucks": "", "usd": "USD", "us dollars": "USD", "rupiah": "IDR",
	"idr": "IDR", "ringgit": "MYR", "rm": "MYR", "myr": "MYR", "hkd": "HKD", "hong kong dollars": "HKD",
	"sgd": "SGD", "yuan": "CNY", "rmb": "CNY", "euro": "EUR", "euros": "EUR", "pounds": "GBP",
	"元": "CNY", "块": "", "块钱": "", "蚊": "HKD", "港币": "HKD", "港元": "HKD", "港纸": "HKD",
	"人民币": "CNY", "美元": "USD", "美金": "USD", "令吉": "MYR", "印尼盾": "IDR",
}

// amountAt reads a sum of money at i.
func amountAt(toks []slotToken, used []bool, i int, lang string) (Amount, int, bool) {
	if cur, k, ok := longestAt(toks, i, currencyBefore); ok {
		if n, ok := numberAt(toks, used, i+k); ok {
			if cur == "" {
				cur = dollarOf(lang)
			}
			return Amount{n.valueIn(cur == "IDR"), cur}, k + n.tokens, true
		}
		return Amount{}, 0, false
	}
	n, ok := numberAt(toks, used, i)
	if !ok {
		return Amount{}, 0, false
	}
	j := i + n.tokens
	cur, k, ok := longestAt(toks, j, currencyAfter)
	if !ok {
		// "50 ribu", "lima puluh ribu": thousands of the local money.
		if n.scale >= 1e3 && (lang == "id" || lang == "ms") && toks[j-1].kind == 'w' {
			cur = "IDR"
			if lang == "ms" {
				cur = "MYR"
			}
			return Amount{n.valueIn(cur == "IDR"), cur}, n.tokens, true
		}
		return Amount{}, 0, false
	}
	switch toks[j].text {
	case "块":
		cur = "CNY"
		if lang == "yue" {
			cur = "HKD"
		}
	case "dollar", "dollars", "bucks":
		cur = dollarOf(lang)
	}
	v := n.valueIn(cur == "IDR" || lang == "id")
	// 三块五: a digit after the yuan is tenths (jiao, 毫).
	if e := j + k; toks[j].kind == 'h' && e < len(toks) && !used[e] {
		if d, ok := hanDigits[toks[e].text]; ok && d > 0 {
			v += d / 10
			k++
		}
	}
	return Amount{v, cur}, n.tokens + k, true
}

func dollarOf(lang string) string {
	if lang == "yue" {
		return "HKD"
	}
	return "USD"
}

// --- Dates ---

// relativeDays are days said relative to today.
var relativeDays = map[string]int{
	"today": 0, "yesterday": -1, "tomorrow": 1, "day before yesterday": -2, "day after tomorrow": 2,
	"hari ini": 0, "kemarin": -1, "kemarin lusa": -2, "besok": 1, "lusa": 2,
	"semalam": -1, "kelmarin": -2, "esok": 1, "esok lusa": 2,
	"今天": 0, "今日": 0, "昨天": -1, "昨日": -1, "明天": 1, "明日": 1, "前天": -2, "后天": 2,
	"琴日": -1, "寻日": -1, "听日": 1, "前日": -2, "后日": 2,
}

var monthNames = map[string]time.Month{
	"january": 1, "jan": 1, "januari": 1, "february": 2, "feb": 2, "februari": 2, "march": 3, "mar": 3,
	"maret": 3, "mac": 3, "april": 4, "apr": 4, "may": 5, "mei": 5, "june": 6, "jun": 6, "juni": 6,
	"july": 7, "jul": 7, "juli": 7, "julai": 7, "august": 8, "aug": 8, "agustus": 8, "ogos": 8,
	"september": 9, "sep": 9, "sept": 9, "october": 10, "oct": 10, "oktober": 10, "november": 11,
	"nov": 11, "december": 12, "dec": 12, "desember": 12, "disember": 12,
}

// dateAt reads a date at i.
func dateAt(toks []slotToken, i int, now time.Time) (time.Time, int, bool) {
	today := time.Date(now.Year(), now.Month(), now.Day(), 0, 0, 0, 0, now.Location())
	if d, n, ok := longestAt(toks, i, relativeDays); ok {
		return today.AddDate(0, 0, d), n, true
	}
	none := make([]bool, len(toks))
	t := toks[i]
	switch {
	case t.kind == 'n' || t.kind == 'h':
		// 11月23日, 十一月二十三号, 2024年11月23日
		if d, n, ok := hanDate(toks, none, i, today); ok {
			return d, n, true
		}
		if t.kind != 'n' || strings.ContainsAny(t.text, ".,") {
			return time.Time{}, 0, false
		}
		a := atoi(t.text)
		// 23/11, 23/11/2024, 23-11-2024
		if i+2 < len(toks) && (toks[i+1].text == "/" || toks[i+1].text == "-") && toks[i+2].kind == 'n' {
			b, n := atoi(toks[i+2].text), 3
			year := 0
			if i+4 < len(toks) && toks[i+3].text == toks[i+1].text && toks[i+4].kind == 'n' {
				year, n = atoi(toks[i+4].text), 5
			}
			day, month := a, b
			if b > 12 && a <= 12 {
				day, month = b, a
			}
			if d, ok := makeDate(year, time.Month(month), day, today); ok {
				return d, n, true
			}
			return time.Time{}, 0, false
		}
		// 23 November 2024, 23rd of November
		j := i + 1
		if j < len(toks) && (toks[j].text == "st" || toks[j].text == "nd" || toks[j].text == "rd" || toks[j].text == "th") {
			j++
		}
		if j < len(toks) && toks[j].text == "of" {
			j++
		}
		if j < len(toks) {
			if m, ok := monthNames[toks[j].text]; ok {
				year, n := yearAt(toks, j+1)
				if d, ok := makeDate(year, m, a, today); ok {
					return d, j + 1 + n - i, true
				}
			}
		}
	case t.kind == 'w':
		// November 23, November 23rd, 2024
		m, ok := monthNames[t.text]
		if !ok || i+1 >= len(toks) || toks[i+1].kind != 'n' {
			return time.Time{}, 0, false
		}
		j := i + 2
		if j < len(toks) && (toks[j].text == "st" || toks[j].text == "nd" || toks[j].text == "rd" || toks[j].text == "th") {
			j++
		}
		k := j
		if k < len(toks) && toks[k].text == "," {
			k++
		}
		year, n := yearAt(toks, k)
		if n > 0 {
			j = k + n
		}
		if d, ok := makeDate(year, m, atoi(toks[i+1].text), today); ok {
			return d, j - i, true
		}
	}
	return time.Time{}, 0, false
}

// hanDate reads [Y年]M月D日 or D号, in digits or Han numerals.
func hanDate(toks []slotToken, none []bool, i int, today time.Time) (time.Time, int, bool) {
	j := i
	read := func() (int, bool) {
		n, ok := numberAt(toks, none, j)
		if !ok || n.scale != 1 {
			return 0, false
		}
		j += n.tokens
		return int(n.valueIn(false)), true
	}
	year := 0
	v, ok := read()
	if !ok || j >= len(toks) {
		return time.Time{}, 0, false
	}
	if toks[j].text == "年" {
		year = v
		j++
		if v, ok = read(); !ok || j >= len(toks) {
			return time.Time{}, 0, false
		}
	}
	if toks[j].text != "月" {
		return time.Time{}, 0, false
	}
	j++
	month := v
	day, ok := read()
	if !ok || j >= len(toks) || toks[j].text != "日" && toks[j].text != "号" {
		return time.Time{}, 0, false
	}
	j++
	d, ok := makeDate(year, time.Month(month), day, today)
	return d, j - i, ok
}

func yearAt(toks []slotToken, j int) (int, int) {
	if j < len(toks) && toks[j].kind == 'n' && len(toks[j].text) == 4 {
		return atoi(toks[j].text), 1
	}
	return 0, 0
}

// makeDate returns the date, in the year nearest today if year is 0; a
// two-digit year is this century's.
func makeDate(year int, month time.Month, day int, today time.Time) (time.Time, bool) {
	if month < 1 || month > 12 || day < 1 || day > 31 {
		return time.Time{}, false
	}
	if 0 < year && year < 100 {
		year += 2000
	}
	mk := func(y int) (time.Time, bool) {
		d := time.Date(y, month, day, 0, 0, 0, 0, today.Location())
		return d, d.Day() == day && d.Month() == month
	}
	if year != 0 {
		return mk(year)
	}
	var best time.Time
	found := false
	for y := today.Year() - 1; y <= today.Year()+1; y++ {
		d, ok := mk(y)
		if ok && (!found || math.Abs(d.Sub(today).Hours()) < math.Abs(best.Sub(today).Hours())) {
			best, found = d, true
		}
	}
	return best, found
}

func atoi(s string) int {
	n := 0
	for _, c := range s {
		if c < '0' || c > '9' || n > 1e6 {
			return 0
		}
		n = n*10 + int(c-'0')
	}
	return n
}
