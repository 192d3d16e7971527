package whisper

import (
	"context"
	"errors"
	"math"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/sambung/sambung/asr"
	"github.com/sambung/sambung/internal/testenv"
	"github.com/sambung/sambung/media"
)

// The engine as the registry makes it: FromBatch endpointing the call's
// audio and this package transcribing each utterance.

// quiet is d of line noise at about -60 dBFS.
func quiet(d time.Duration) []int16 {
	pcm := make([]int16, int(d.Seconds()*media.Rate))
	x := uint32(1)
	for i := range pcm {
		x = x*1664525 + 1013904223
		pcm[i] = int16(int32(x>>16)%64) - 32
	}
	return pcm
}

// writeAll writes pcm as 20 ms frames, padding the last with silence.
func writeAll(t *testing.T, st asr.Stream, pcm []int16) {
	t.Helper()
	var frame [media.FrameSamples]int16
	for len(pcm) > 0 {
		n := copy(frame[:], pcm)
		clear(frame[n:])
		pcm = pcm[n:]
		if err := st.Write(frame[:]); err != nil {
			t.Fatalf("write: %v", err)
		}
	}
}

// finals closes st and returns its final results; it fails the test if
// Results is not closed within a minute.
func finals(t *testing.T, st asr.Stream) []asr.Result {
	t.Helper()
	if err := st.Close(); err != nil {
		t.Errorf("close: %v", err)
	}
	var out []asr.Result
	limit := time.NewTimer(time.Minute)
	defer limit.Stop()
	for {
		select {
		case r, ok := <-st.Results():
			if !ok {
				return out
			}
			if r.Final {
				out = append(out, r)
			}
		case <-limit.C:
			t.Fatalf("Results not closed; finals so far: %+v", out)
		}
	}
}

func TestRegistered(t *testing.T) {
	found := false
	for _, e := range asr.Engines() {
		found = found || e == Name
	}
	if !found {
		t.Fatalf("engines %v: no %s", asr.Engines(), Name)
	}
	if _, err := asr.New(Name, asr.Config{}); err == nil || !strings.Contains(err.Error(), "URL") {
		t.Errorf("New without a URL: %v, want an error asking for it", err)
	}
}

// TestStreamSurvivesSlowServer: the first utterance times out and comes
// back as a Final Result with Err; the next one is transcribed.
func TestStreamSurvivesSlowServer(t *testing.T) {
	checkLeaks(t)
	var n atomic.Int32
	srv := serve(t, func(w http.ResponseWriter, r *http.Request) {
		u := readUpload(t, r)
		if media.DBFS(u.pcm) < -30 {
			t.Errorf("utterance at %.1f dBFS: the endpointer sent silence", media.DBFS(u.pcm))
		}
		if n.Add(1) == 1 {
			<-r.Context().Done()
			return
		}
		writeJSON(w, map[string]any{"text": "the second", "language": "english",
			"segments": []map[string]any{{"start": 0, "end": 1, "text": "the second", "avg_logprob": -0.2}}})
	})
	rec, err := asr.New(Name, asr.Config{URL: srv.URL, Timeout: 300 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	st, err := rec.Stream(context.Background(), asr.Options{Language: "en"})
	if err != nil {
		t.Fatal(err)
	}
	for range 2 {
		writeAll(t, st, quiet(500*time.Millisecond))
		writeAll(t, st, tone(600*time.Millisecond))
	}
	writeAll(t, st, quiet(time.Second))
	got := finals(t, st)
	if len(got) != 2 {
		t.Fatalf("finals %+v, want 2", got)
	}
	if got[0].Err == nil || !errors.Is(got[0].Err, context.DeadlineExceeded) || !strings.Contains(got[0].Err.Error(), srv.URL) || got[0].Text != "" {
		t.Errorf("first final %+v: want a timeout naming the server", got[0])
	}
	if r := got[1]; r.Err != nil || r.Text != "the second" || r.Language != "en" || math.Abs(r.Confidence-math.Exp(-0.2)) > 1e-9 {
		t.Errorf("second final %+v: want \"the second\" in en, confidence exp(-0.2)", r)
	}
	if !(got[0].Start < got[0].End && got[0].End < got[1].Start && got[1].Start < got[1].End) {
		t.Errorf("utterances at %v-%v and %v-%v: not in order", got[0].Start, got[0].End, got[1].Start, got[1].End)
	}
}

// TestStreamSpeech: real speech, endpointed, reaches the server whole and
// its transcript comes back in the caller's language.
func TestStreamSpeech(t *testing.T) {
	checkLeaks(t)
	speech := testenv.ReadWAV(t, testenv.Speech(t, "yue", "我想查詢帳單", 0))
	var got upload
	srv := serve(t, func(w http.ResponseWriter, r *http.Request) {
		got = readUpload(t, r)
		writeJSON(w, map[string]any{"text": "我想查詢帳單", "language": "chinese",
			"segments": []map[string]any{{"start": 0, "end": 1, "text": "我想查詢帳單", "avg_logprob": -0.3, "no_speech_prob": 0.01}}})
	})
	rec, err := asr.New(Name, asr.Config{URL: srv.URL})
	if err != nil {
		t.Fatal(err)
	}
	st, err := rec.Stream(context.Background(), asr.Options{Language: "yue"})
	if err != nil {
		t.Fatal(err)
	}
	writeAll(t, st, quiet(500*time.Millisecond))
	writeAll(t, st, speech.Channels[0])
	writeAll(t, st, quiet(time.Second))
	res := finals(t, st)
	if len(res) != 1 {
		t.Fatalf("finals %+v, want 1", res)
	}
	if r := res[0]; r.Err != nil || r.Text != "我想查詢帳單" || r.Language != "yue" {
		t.Errorf("final %+v: want the text, in yue", r)
	}
	if got.fields["language"] != "zh" {
		t.Errorf("language field %q, want zh for Cantonese", got.fields["language"])
	}
	// The utterance uploaded holds the speech: as voiced, give or take the
	// endpointer's edges.
	up := testenv.Audio{Rate: got.rate, Channels: [][]int16{got.pcm}}
	vIn, vUp := speech.Voiced(0, -40), up.Voiced(0, -40)
	if vIn < 500*time.Millisecond {
		t.Fatalf("the speech is voiced for only %v: the test proves nothing", vIn)
	}
	if vUp < vIn-100*time.Millisecond || vUp > vIn+60*time.Millisecond {
		t.Errorf("upload voiced for %v, the speech for %v", vUp, vIn)
	}
}
