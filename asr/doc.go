// Package asr owns speech recognition: the Recognizer and Stream interfaces,
// endpointing, and one folder per engine; asr/intent holds language
// identification, intent classification and sentiment. It imports nothing
// else of Sambung's.
//
// Its code arrives with the speech work.
package asr
