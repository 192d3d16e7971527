//go:build pocketsphinx

package main

// The embedded engine, PocketSphinx with its US-English model, in a build
// with the pocketsphinx tag (make build does that where
// libpocketsphinx-dev is installed).
import _ "github.com/sambung/sambung/asr/sphinx"
