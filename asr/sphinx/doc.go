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
// telephone audio, upsamples it to the 16 kHz the model requires, and
// decodes it with a finite-state grammar of the flow's expected phrases
// (asr.Options.Phrases). A grammar "hears" one of its phrases in anything,
// other English and other languages alike, so each result is checked: the
// same audio is decoded again with a free loop of phones, and the margin,
// the phrase's score less the loop's per 10 ms frame, must reach
// Config.MinMargin. Below it the Text is empty. Confidence maps the margin
// to 0..1, 0.5 at the threshold.
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
// BenchmarkGrammar): 81% of phrases recognised exactly (the issue asks
// 90%), 0% of the English sentences and 2 to 4% of the foreign ones
// accepted; grammar mode, both passes, decodes at a real-time factor of
// 0.07 (open vocabulary 0.34), about 29 calls at real time on 2 cores.
package sphinx
