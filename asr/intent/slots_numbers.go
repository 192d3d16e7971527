package intent

import (
	"math"
	"strings"
)

// Numbers as callers say them: digit runs, and numbers spoken in words in
// English, Malay/Indonesian and Chinese, for slot extraction.

// digitWords are digits said as words, in every language.
var digitWords = map[string]byte{
	"zero": '0', "oh": '0', "o": '0', "nought": '0', "one": '1', "two": '2', "three": '3', "four": '4',
	"five": '5', "six": '6', "seven": '7', "eight": '8', "nine": '9',
	"nol": '0', "kosong": '0', "satu": '1', "dua": '2', "tiga": '3', "empat": '4', "lima": '5',
	"enam": '6', "tujuh": '7', "delapan": '8', "lapan": '8', "sembilan": '9',
	"零": '0', "〇": '0', "洞": '0', "一": '1', "幺": '1', "二": '2', "三": '3', "四": '4', "五": '5',
	"六": '6', "七": '7', "八": '8', "九": '9',
}

// digitRun returns the longest run of at least four digits among the
// tokens not used, or "".
func digitRun(toks []slotToken, used []bool) string {
	best := ""
	var run []byte
	repeat := 1 // "double five", "triple seven"
	digitAt := func(i int) (string, bool) {
		if i < 0 || i >= len(toks) || used[i] {
			return "", false
		}
		t := toks[i]
		if t.kind == 'n' {
			return strings.NewReplacer(".", "", ",", "").Replace(t.text), true
		}
		if d, ok := digitWords[t.text]; ok {
			return string(d), true
		}
		return "", false
	}
	isZeroWord := func(s string) bool { return s == "oh" || s == "o" }
	flush := func() {
		if len(run) >= 4 && len(run) > len(best) {
			best = string(run)
		}
		run, repeat = run[:0], 1
	}
	for i := 0; i < len(toks); i++ {
		t := toks[i]
		d, ok := digitAt(i)
		if ok && isZeroWord(t.text) {
			// "oh" is a zero only among digits: "oh, I see" is not one.
			_, before := digitAt(i - 1)
			_, after := digitAt(i + 1)
			ok = (before && len(run) > 0) || (after && !isZeroWord(toks[i+1].text))
		}
		switch {
		case ok:
			for range repeat {
				run = append(run, d...)
			}
			repeat = 1
		case !used[i] && (t.text == "double" || t.text == "triple") && i+1 < len(toks):
			repeat = 2
			if t.text == "triple" {
				repeat = 3
			}
		case !used[i] && len(run) > 0 && t.kind == 's' && (t.text == "-" || t.text == ","):
			// "123-456", "one, two, three": the run goes on.
		default:
			flush()
		}
	}
	flush()
	return best
}

// --- Numbers ---

var englishNumbers = map[string]float64{
	"zero": 0, "one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7, "eight": 8,
	"nine": 9, "ten": 10, "eleven": 11, "twelve": 12, "thirteen": 13, "fourteen": 14, "fifteen": 15,
	"sixteen": 16, "seventeen": 17, "eighteen": 18, "nineteen": 19, "twenty": 20, "thirty": 30,
	"forty": 40, "fifty": 50, "sixty": 60, "seventy": 70, "eighty": 80, "ninety": 90,
}

var malayDigits = map[string]float64{
	"satu": 1, "dua": 2, "tiga": 3, "empat": 4, "lima": 5, "enam": 6, "tujuh": 7, "delapan": 8,
	"lapan": 8, "sembilan": 9, "sepuluh": 10, "sebelas": 11, "seratus": 100, "seribu": 1000, "sejuta": 1e6,
}

var hanDigits = map[string]float64{
	"零": 0, "〇": 0, "一": 1, "幺": 1, "二": 2, "两": 2, "三": 3, "四": 4, "五": 5, "六": 6, "七": 7,
	"八": 8, "九": 9,
}

var hanUnits = map[string]float64{"十": 10, "百": 100, "千": 1000, "万": 1e4, "亿": 1e8, "廿": 20}

// multipliers scale the number before them: 50 ribu, 2 juta, 5k, 3万.
var multipliers = map[string]float64{
	"k": 1e3, "rb": 1e3, "ribu": 1e3, "thousand": 1e3, "jt": 1e6, "juta": 1e6, "million": 1e6,
	"千": 1e3, "万": 1e4, "百万": 1e6, "亿": 1e8,
}

// A spokenNumber is a number said: its value, or for digits its text until the currency
// says how to read the separators.
type spokenNumber struct {
	value   float64
	digits  string // a digit token, unparsed
	scale   float64
	tokens  int
	hanWord bool // in Han numerals
}

func (n spokenNumber) valueIn(thousandsDot bool) float64 {
	if n.digits == "" {
		return n.value * n.scale
	}
	return parseDigits(n.digits, thousandsDot) * n.scale
}

// parseDigits reads digits with separators: when both . and , appear, the
// last is the decimal point; when one appears once with three digits after
// it, it separates thousands if it is the language's thousands separator
// (. in Indonesian money, , otherwise); more than once, it always does.
func parseDigits(s string, thousandsDot bool) float64 {
	dots, commas := strings.Count(s, "."), strings.Count(s, ",")
	thousands, decimal := ",", "."
	switch {
	case dots > 0 && commas > 0:
		if strings.LastIndex(s, ",") > strings.LastIndex(s, ".") {
			thousands, decimal = ".", ","
		}
	case dots > 1:
		thousands, decimal = ".", ","
	case commas > 1:
	case dots == 1:
		if thousandsDot && len(s)-strings.IndexByte(s, '.') == 4 {
			thousands, decimal = ".", ","
		}
	case commas == 1:
		if thousandsDot || len(s)-strings.IndexByte(s, ',') != 4 {
			thousands, decimal = ".", ","
		}
	}
	s = strings.ReplaceAll(s, thousands, "")
	s = strings.Replace(s, decimal, ".", 1)
	var v, frac float64
	scale := 0.1
	for _, c := range s {
		switch {
		case c == '.':
			frac = 1
		case frac > 0:
			v += float64(c-'0') * scale
			scale /= 10
		default:
			v = v*10 + float64(c-'0')
		}
	}
	return v
}

// numberAt reads a number at i: digits, or a number in English,
// Indonesian/Malay or Han numerals, with a multiplier after it.
func numberAt(toks []slotToken, used []bool, i int) (spokenNumber, bool) {
	if i >= len(toks) || used[i] {
		return spokenNumber{}, false
	}
	var n spokenNumber
	switch t := toks[i]; {
	case t.kind == 'n':
		n = spokenNumber{digits: t.text, tokens: 1}
	case t.kind == 'h':
		n = hanNumberAt(toks, i)
	default:
		if n = englishNumberAt(toks, i); n.tokens == 0 {
			n = malayNumberAt(toks, i)
		}
	}
	if n.tokens == 0 || i+n.tokens > len(used) || used[i+n.tokens-1] {
		return spokenNumber{}, false
	}
	n.scale = 1
	if j := i + n.tokens; j < len(toks) {
		m, k, ok := longestAt(toks, j, multipliers)
		// A Han numeral took its own 万 already.
		if ok && !(n.hanWord && toks[j].kind == 'h') {
			n.scale, n.tokens = m, n.tokens+k
		}
	}
	return n, true
}

func englishNumberAt(toks []slotToken, i int) spokenNumber {
	var total, small float64
	j := i
words:
	for ; j < len(toks); j++ {
		w := toks[j].text
		if v, ok := englishNumbers[w]; ok {
			// "one two three" is digits, not a sum: a word adds only to
			// a round number above it (twenty five, a hundred and ten).
			if j > i && (v < 10 && math.Mod(small, 10) != 0 || v >= 10 && math.Mod(small, 100) != 0) {
				break
			}
			small += v
			continue
		}
		next := ""
		if j+1 < len(toks) {
			next = toks[j+1].text
		}
		switch {
		case w == "a" && j == i && (next == "hundred" || next == "thousand"):
			small = 1
		case w == "hundred" && j > i:
			small = max(small, 1) * 100
		case w == "thousand" && j > i && englishNumbers[next] > 0:
			// "two thousand five hundred": part of the number; a thousand
			// at its end is a multiplier (see numberAt).
			total += max(small, 1) * 1e3
			small = 0
		case w == "and" && j > i && englishNumbers[next] > 0:
		default:
			break words
		}
	}
	if j == i || j == i+1 && toks[i].text == "a" {
		return spokenNumber{}
	}
	return spokenNumber{value: total + small, tokens: j - i}
}

// malayNumberAt reads a number in Indonesian or Malay words: dua ratus
// lima puluh ribu is ((2 ratus) + (5 puluh)) ribu.
func malayNumberAt(toks []slotToken, i int) spokenNumber {
	var total, group, small float64
	j := i
words:
	for ; j < len(toks); j++ {
		w := toks[j].text
		if v, ok := malayDigits[w]; ok {
			switch v {
			case 100:
				group += 100
			case 1000, 1e6:
				total += v
			default:
				small += v
			}
			continue
		}
		if j == i {
			break
		}
		switch w {
		case "belas":
			small += 10
		case "puluh":
			group += small * 10
			small = 0
		case "ratus":
			group += small * 100
			small = 0
		case "ribu", "juta":
			if j+1 >= len(toks) || malayDigits[toks[j+1].text] == 0 {
				break words // at its end, a multiplier (see numberAt)
			}
			scale := 1e3
			if w == "juta" {
				scale = 1e6
			}
			total += (group + small) * scale
			group, small = 0, 0
		default:
			break words
		}
	}
	if j == i {
		return spokenNumber{}
	}
	return spokenNumber{value: total + group + small, tokens: j - i}
}

// hanNumberAt reads Han numerals: 一百二十, 两千三 (2300: a digit after a
// unit counts in the next unit down), 廿五, and digits read one by one
// (二零二四).
func hanNumberAt(toks []slotToken, i int) spokenNumber {
	var total, section, num, lastUnit, digits float64
	j := i
	units := false
	for ; j < len(toks); j++ {
		c := toks[j].text
		if d, ok := hanDigits[c]; ok {
			num = d
			digits = digits*10 + d
			if c == "零" {
				lastUnit = 0
			}
			continue
		}
		u, ok := hanUnits[c]
		if !ok {
			break
		}
		units = true
		switch {
		case u == 20:
			section += 20
			num = 0
		case u >= 1e4:
			total += max(section+num, 1) * u
			section, num = 0, 0
		default:
			if num == 0 && (u == 10 || section == 0 && total == 0) {
				num = 1 // 十五, 百五
			}
			section += num * u
			num = 0
		}
		lastUnit = u
	}
	switch {
	case j == i:
		return spokenNumber{}
	case !units:
		return spokenNumber{value: digits, tokens: j - i, hanWord: true}
	}
	if num > 0 && lastUnit >= 100 {
		num *= lastUnit / 10
	}
	return spokenNumber{value: total + section + num, tokens: j - i, hanWord: true}
}

// --- Amounts ---
