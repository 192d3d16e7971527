package whisper

import "strings"

// Languages between Sambung's flows and Whisper servers.
//
// A flow names its language with a short code ("en", "id", "ms", "zh",
// "yue"). The request's language field takes an ISO-639-1 code, and
// Whisper's tokenizer has one for each of those but Cantonese: "yue" was
// added only with large-v3, so tiny, base and small (what a call centre runs
// on a CPU) reject it, and the nearest they know is "zh". The answer's
// language is a code from some servers (faster-whisper) and an English name
// from others (whisper.cpp's whisper_lang_str_full, OpenAI): both are mapped
// back to flow codes.

// defaultLanguages are the request codes that differ from the flow's.
var defaultLanguages = map[string]string{
	"yue": "zh", // Cantonese: no yue token before large-v3
}

// requestLanguage is what to send in the language field for the flow code
// lang, with overrides over defaultLanguages; "" sends no field (the server
// detects the language).
func requestLanguage(lang string, overrides map[string]string) string {
	lang = baseCode(lang)
	if lang == "" {
		return ""
	}
	if v, ok := overrides[lang]; ok {
		return v
	}
	if v, ok := defaultLanguages[lang]; ok {
		return v
	}
	return lang
}

// baseCode lowercases a language tag and drops its region ("en-US" -> "en").
func baseCode(tag string) string {
	tag = strings.ToLower(strings.TrimSpace(tag))
	if i := strings.IndexAny(tag, "-_"); i >= 0 {
		tag = tag[:i]
	}
	return tag
}

// languageNames maps Whisper's English language names (whisper.cpp's
// g_lang, openai/whisper's tokenizer.LANGUAGES) to flow codes, for the
// languages Sambung's flows and their neighbours speak.
var languageNames = map[string]string{
	"english":    "en",
	"indonesian": "id",
	"malay":      "ms",
	"chinese":    "zh",
	"mandarin":   "zh",
	"cantonese":  "yue",
	"tamil":      "ta",
	"tagalog":    "tl",
	"thai":       "th",
	"vietnamese": "vi",
	"japanese":   "ja",
	"korean":     "ko",
	"hindi":      "hi",
	"arabic":     "ar",
	"javanese":   "jv",
	"sundanese":  "su",
	"burmese":    "my",
	"khmer":      "km",
	"lao":        "lo",
}

// heardLanguage maps the answer's language to a flow code. asked is the
// flow's language hint and sent what went in the request: when Cantonese
// went out as Chinese, Chinese coming back is the caller's Cantonese, not a
// switch to Mandarin. An answer without a language is in the language the
// server was told to decode.
func heardLanguage(answer, asked, sent string) string {
	code := baseCode(answer)
	if v, ok := languageNames[code]; ok {
		code = v
	} else if len(code) < 2 || len(code) > 3 {
		code = "" // not a code, nor a name we know
	}
	asked = baseCode(asked)
	switch {
	case code == "":
		if sent != "" {
			return asked
		}
		return ""
	case code == baseCode(sent) && asked != "":
		return asked
	}
	return code
}
