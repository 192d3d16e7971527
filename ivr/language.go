package ivr

import "strings"

// languageTriggers are what callers say to ask for a language, in that
// language and in English, by flow language code. Said in a listen step,
// one switches the call to that language (when the flow has it) and asks
// again, without counting as a failure.
var languageTriggers = map[string][]string{
	"en":  {"english"},
	"id":  {"bahasa indonesia", "indonesian", "pakai bahasa"},
	"ms":  {"bahasa melayu", "malay"},
	"zh":  {"普通话", "普通話", "国语", "國語", "mandarin"},
	"yue": {"广东话", "廣東話", "粤语", "粵語", "cantonese"},
}

// askedLanguage returns the language text asks for among langs, or "".
// Only a short request counts ("English please", "bahasa Indonesia
// saja"): a sentence that merely mentions a language is left to the
// intent classifier.
func askedLanguage(text string, langs []string) string {
	t := strings.ToLower(strings.TrimSpace(text))
	if len(strings.Fields(t)) > 4 || len([]rune(t)) > 24 {
		return ""
	}
	for _, code := range langs {
		for _, trig := range languageTriggers[code] {
			if strings.Contains(t, trig) {
				return code
			}
		}
	}
	return ""
}
