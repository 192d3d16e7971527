//go:build pocketsphinx

package main

import (
	"context"
	"os"
	"testing"
	"time"

	"github.com/sambung/sambung/asr"
	"github.com/sambung/sambung/asr/sphinx"
	"github.com/sambung/sambung/demo"
	"github.com/sambung/sambung/internal/testenv"
	"github.com/sambung/sambung/media"
)

// TestDitherSteadiesTheMargin: a baresip caller's "I want to speak to
// someone about my bill" (asr/sphinx/testdata/bill-through-baresip.ulaw,
// as the server received it) and our own rendering of the sentence differ
// by one µ-law step in 8% of samples. Against the demo flow's grammar,
// without dither in the decoder, the phone loop fitted the baresip one far
// better and it was rejected, while ours scored well above the threshold.
// Both must be heard.
func TestDitherSteadiesTheMargin(t *testing.T) {
	testenv.NeedPeers(t, "espeak-ng and sox")
	f, diags := demo.ParseFlow()
	if diags.HasErrors() {
		t.Fatal(diags)
	}
	e, err := sphinx.New(sphinx.Config{})
	if err != nil {
		t.Fatal(err)
	}
	defer e.Close()
	law, err := os.ReadFile("../../asr/sphinx/testdata/bill-through-baresip.ulaw")
	if err != nil {
		t.Fatal(err)
	}
	baresip := make([]int16, len(law))
	media.PCMU.Decode(baresip, law)
	ours := testenv.ReadWAV(t, testenv.Speech(t, "en", callerSays, 300*time.Millisecond)).Channels[0]
	enc := make([]byte, len(ours))
	media.PCMU.Encode(enc, ours)
	media.PCMU.Decode(ours, enc)

	const said = "i want to speak to someone about my bill"
	for _, c := range []struct {
		name string
		pcm  []int16
	}{{"ours", ours}, {"baresip", baresip}} {
		r, err := e.Transcribe(context.Background(), c.pcm, asr.Options{Language: "en", Phrases: f.Phrases("en")})
		if err != nil {
			t.Fatal(err)
		}
		t.Logf("%s: %q, confidence %.3f", c.name, r.Text, r.Confidence)
		if r.Text != said {
			t.Errorf("%s encoding: heard %q (confidence %.2f), want %q", c.name, r.Text, r.Confidence, said)
		}
	}
}
