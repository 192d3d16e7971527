package main

// The speech engines this binary has: each registers itself with asr by
// name. pocketsphinx registers only in a build with its tag (see the
// Makefile); `sambung version` and the start-up log list what is built in.
import (
	_ "github.com/sambung/sambung/asr/vosk"
	_ "github.com/sambung/sambung/asr/whisper"
)
