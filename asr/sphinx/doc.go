// Package sphinx is the embedded speech recognizer: PocketSphinx 0.8 with
// its US-English model, driven by cgo, registered in package asr as
// "pocketsphinx". It is what `make run` recognises speech with on a bare
// machine, without a server.
//
// It is built only with the build tag pocketsphinx and cgo, and needs the
// Debian packages libpocketsphinx-dev and pocketsphinx-en-us (which
// scripts/deps.sh installs):
//
//	go build -tags pocketsphinx ./cmd/sambung
//
// Without the tag this package is empty, and asr.Engines() does not list
// "pocketsphinx".
//
// # How it recognises
//
// The Engine is an asr.Batch engine: it takes one utterance of 8 kHz
// telephone audio, upsamples it to the 16 kHz the model requires, puts
// noise shaped like the speech's 2 to 4 kHz band into the empty band above
// 4 kHz (the model expects fricatives there), and decodes it once with a
// finite-state grammar of the flow's expected phrases
// (asr.Options.Phrases). A grammar "hears" one of its phrases in anything,
// other English and other languages alike, so two things reject:
//
//   - Beside the phrases the grammar has a free loop of phones, each
//     weighted by Config.MinMargin. Speech that is none of the phrases
//     fits the loop better, and the result is empty.
//   - Forced onto other speech, a phrase explains part of it and the
//     silence model the rest. A result whose path spends more than 200 ms
//     of speech (by energy) in silence or noise is empty.
//
// Confidence falls from near 1, with no speech left unexplained, to 0.5 at
// the limit; 0 when the loop won.
//
// Without phrases it decodes with the open-vocabulary language model; the
// result is not rejected, and it is poor (most words wrong on synthetic
// speech, about a quarter wrong on read speech).
//
// Only English: any other Options.Language is ErrLanguage, so the IVR can
// offer the keypad instead.
//
// # Measured
//
// On espeak-ng speech at telephone quality (8 kHz, G.711 µ-law), the demo
// flow's 21 English phrases, 33 everyday English sentences and 48
// sentences in Indonesian, Mandarin, Cantonese and Turkish (see
// BenchmarkGrammar): 90% of phrases recognised exactly (19 of 21; the issue
// asks 90%), none of the English sentences and 1 of the 48 foreign ones
// (2%) accepted. 32 further
// phrases of the flow, not used in tuning, against its whole 202-phrase
// English grammar: all recognised. Grammar mode decodes at a real-time
// factor of 0.03 (open vocabulary 0.26), about 60 calls at real time on 2
// cores; before the single search and the check for unexplained speech it
// took two decodes, at 0.07 and 29 calls.
package sphinx
