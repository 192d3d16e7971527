package intent

import "slices"

// HumanPhrases are the built-in ways callers ask for a person in lang, for
// recognizers that listen for expected phrases (grammars, hints).
func HumanPhrases(lang string) []string { return slices.Clone(humanExamples[lang]) }
