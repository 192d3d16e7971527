package whisper

import (
	"bytes"
	"context"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"net/http"
	"net/http/httptest"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/sambung/sambung/asr"
	"github.com/sambung/sambung/internal/testenv"
	"github.com/sambung/sambung/media"
)

// checkLeaks fails the test if it leaves goroutines behind. Call it first,
// so that its cleanup runs last, after the servers' and batches'.
func checkLeaks(t *testing.T) {
	t.Helper()
	before := runtime.NumGoroutine()
	t.Cleanup(func() {
		var n int
		for range 250 {
			if n = runtime.NumGoroutine(); n <= before {
				return
			}
			time.Sleep(20 * time.Millisecond) // waiting for goroutines to exit; nothing to select on
		}
		buf := make([]byte, 1<<20)
		t.Errorf("%d goroutines before, %d after:\n%s", before, n, buf[:runtime.Stack(buf, true)])
	})
}

// upload is what a test server received.
type upload struct {
	fields map[string]string
	auth   string
	file   string // file part's filename
	ctype  string // file part's Content-Type
	rate   int
	chans  int
	bits   int
	pcm    []int16
}

// readUpload parses a transcription request as a server would and decodes
// its WAV, failing the test on anything malformed.
func readUpload(t *testing.T, r *http.Request) upload {
	t.Helper()
	if r.Method != http.MethodPost {
		t.Errorf("method %s, want POST", r.Method)
	}
	if err := r.ParseMultipartForm(16 << 20); err != nil {
		t.Errorf("parse multipart form: %v", err)
		return upload{}
	}
	u := upload{fields: map[string]string{}, auth: r.Header.Get("Authorization")}
	for k, v := range r.MultipartForm.Value {
		if len(v) != 1 {
			t.Errorf("field %s sent %d times", k, len(v))
		}
		u.fields[k] = v[0]
	}
	fh := r.MultipartForm.File["file"]
	if len(fh) != 1 {
		t.Errorf("%d file parts, want 1", len(fh))
		return u
	}
	u.file, u.ctype = fh[0].Filename, fh[0].Header.Get("Content-Type")
	f, err := fh[0].Open()
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	b, err := io.ReadAll(f)
	if err != nil {
		t.Fatal(err)
	}
	u.rate, u.chans, u.bits, u.pcm = decodeWAV(t, b)
	return u
}

// decodeWAV reads a canonical PCM WAV, checking every header field.
func decodeWAV(t *testing.T, b []byte) (rate, chans, bits int, pcm []int16) {
	t.Helper()
	le := binary.LittleEndian
	if len(b) < 44 || string(b[0:4]) != "RIFF" || string(b[8:16]) != "WAVEfmt " || string(b[36:40]) != "data" {
		t.Errorf("not a canonical WAV header: % x", b[:min(len(b), 44)])
		return
	}
	if got := int(le.Uint32(b[4:])); got != len(b)-8 {
		t.Errorf("RIFF size %d, want %d", got, len(b)-8)
	}
	if le.Uint32(b[16:]) != 16 || le.Uint16(b[20:]) != 1 {
		t.Errorf("fmt chunk size %d, format %d: want 16, 1 (PCM)", le.Uint32(b[16:]), le.Uint16(b[20:]))
	}
	chans, rate, bits = int(le.Uint16(b[22:])), int(le.Uint32(b[24:])), int(le.Uint16(b[34:]))
	if br, ba := int(le.Uint32(b[28:])), int(le.Uint16(b[32:])); br != rate*chans*bits/8 || ba != chans*bits/8 {
		t.Errorf("byte rate %d, block align %d: inconsistent with %d Hz, %d channels, %d bits", br, ba, rate, chans, bits)
	}
	size := int(le.Uint32(b[40:]))
	if size != len(b)-44 {
		t.Errorf("data size %d, want %d", size, len(b)-44)
		return
	}
	pcm = make([]int16, size/2)
	for i := range pcm {
		pcm[i] = int16(le.Uint16(b[44+2*i:]))
	}
	return
}

// tone is d of a 440 Hz tone at 8 kHz, -12 dBFS.
func tone(d time.Duration) []int16 {
	pcm := make([]int16, int(d.Seconds()*media.Rate))
	for i := range pcm {
		pcm[i] = int16(8000 * math.Sin(2*math.Pi*440*float64(i)/media.Rate))
	}
	return pcm
}

func newBatch(t *testing.T, cfg Config) *Batch {
	t.Helper()
	b, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(b.CloseIdleConnections)
	return b
}

func serve(t *testing.T, h http.HandlerFunc) *httptest.Server {
	t.Helper()
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	return srv
}

func writeJSON(w http.ResponseWriter, v any) {
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(v)
}

func TestTranscribeRequestAndAnswer(t *testing.T) {
	checkLeaks(t)
	cases := []struct {
		name      string
		lang      string
		overrides map[string]string
		sent      string // language field; "" = absent
		answer    string // the server's language
		want      string // Result.Language
	}{
		{"english", "en", nil, "en", "english", "en"},
		{"indonesian", "id", nil, "id", "indonesian", "id"},
		{"malay", "ms", nil, "ms", "malay", "ms"},
		{"mandarin", "zh", nil, "zh", "chinese", "zh"},
		{"cantonese as chinese", "yue", nil, "zh", "chinese", "yue"},
		{"cantonese as code", "yue", nil, "zh", "zh", "yue"},
		{"cantonese sent as yue", "yue", map[string]string{"yue": "yue"}, "yue", "cantonese", "yue"},
		{"region dropped", "en-US", nil, "en", "en", "en"},
		{"detect", "", nil, "", "indonesian", "id"},
		{"detect unknown", "", nil, "", "klingon", ""},
		{"switch heard", "en", nil, "en", "malay", "ms"},
	}
	pcm := tone(700 * time.Millisecond)
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var got upload
			srv := serve(t, func(w http.ResponseWriter, r *http.Request) {
				if r.URL.Path != "/v1/audio/transcriptions" {
					t.Errorf("path %s, want /v1/audio/transcriptions", r.URL.Path)
				}
				got = readUpload(t, r)
				writeJSON(w, map[string]any{
					"task": "transcribe", "language": tc.answer, "duration": 0.7, "text": " hello there",
					"segments": []map[string]any{
						{"id": 0, "start": 0.0, "end": 0.3, "text": " hello", "avg_logprob": -0.1, "no_speech_prob": 0.1},
						{"id": 1, "start": 0.3, "end": 0.7, "text": " there", "avg_logprob": -0.5},
					},
				})
			})
			b := newBatch(t, Config{URL: srv.URL, APIKey: "sk-test", Languages: tc.overrides})
			r, err := b.Transcribe(context.Background(), pcm, asr.Options{Language: tc.lang})
			if err != nil {
				t.Fatal(err)
			}
			want := map[string]string{"model": "whisper-1", "response_format": "verbose_json"}
			if tc.sent != "" {
				want["language"] = tc.sent
			}
			if fmt.Sprint(got.fields) != fmt.Sprint(want) {
				t.Errorf("fields %v, want %v", got.fields, want)
			}
			if got.auth != "Bearer sk-test" {
				t.Errorf("Authorization %q, want the bearer token", got.auth)
			}
			if !strings.HasSuffix(got.file, ".wav") || got.ctype != "audio/wav" {
				t.Errorf("file part %q (%s), want a .wav of audio/wav", got.file, got.ctype)
			}
			if got.rate != 16000 || got.chans != 1 || got.bits != 16 {
				t.Errorf("WAV %d Hz, %d channels, %d bits; want 16000 Hz mono 16-bit", got.rate, got.chans, got.bits)
			}
			if len(got.pcm) != 2*len(pcm) {
				t.Errorf("WAV has %d samples, want %d (twice the 8 kHz input)", len(got.pcm), 2*len(pcm))
			}
			if l := media.DBFS(got.pcm); math.Abs(l-media.DBFS(pcm)) > 0.5 {
				t.Errorf("upload at %.1f dBFS, input at %.1f", l, media.DBFS(pcm))
			}
			if r.Text != "hello there" || !r.Final || r.Err != nil {
				t.Errorf("result %+v, want final \"hello there\"", r)
			}
			if r.Language != tc.want {
				t.Errorf("language %q, want %q", r.Language, tc.want)
			}
			// Segments weighted by length: 0.3 s of exp(-0.1)*0.9, 0.4 s of exp(-0.5).
			conf := (0.3*math.Exp(-0.1)*0.9 + 0.4*math.Exp(-0.5)) / 0.7
			if math.Abs(r.Confidence-conf) > 1e-6 {
				t.Errorf("confidence %.4f, want %.4f", r.Confidence, conf)
			}
			if r.End != 700*time.Millisecond {
				t.Errorf("End %v, want the utterance's 700ms", r.End)
			}
		})
	}
}

// TestUploadIsTheSpeech sends real speech and checks, on the server, that
// the WAV holds the same sound: as long, voiced for as long, as loud.
func TestUploadIsTheSpeech(t *testing.T) {
	checkLeaks(t)
	in := testenv.ReadWAV(t, testenv.Speech(t, "en", "please transfer me to billing", 300*time.Millisecond))
	pcm := in.Channels[0]
	var got upload
	srv := serve(t, func(w http.ResponseWriter, r *http.Request) {
		got = readUpload(t, r)
		writeJSON(w, map[string]string{"text": "please transfer me to billing"})
	})
	b := newBatch(t, Config{URL: srv.URL + "/v1/", Model: "small"})
	r, err := b.Transcribe(context.Background(), pcm, asr.Options{Language: "en"})
	if err != nil {
		t.Fatal(err)
	}
	if r.Text != "please transfer me to billing" {
		t.Errorf("text %q", r.Text)
	}
	if got.fields["model"] != "small" {
		t.Errorf("model %q, want the configured small", got.fields["model"])
	}
	up := testenv.Audio{Rate: got.rate, Channels: [][]int16{got.pcm}}
	if up.Duration() != in.Duration() {
		t.Errorf("upload lasts %v, the speech %v", up.Duration(), in.Duration())
	}
	vIn, vUp := in.Voiced(0, -40), up.Voiced(0, -40)
	if vIn < 500*time.Millisecond {
		t.Fatalf("the speech is voiced for only %v: the test proves nothing", vIn)
	}
	if d := vUp - vIn; d < -60*time.Millisecond || d > 60*time.Millisecond {
		t.Errorf("upload voiced for %v, the speech for %v", vUp, vIn)
	}
	if lIn, lUp := in.DBFS(0, 0, in.Duration()), up.DBFS(0, 0, up.Duration()); math.Abs(lIn-lUp) > 1 {
		t.Errorf("upload at %.1f dBFS, the speech at %.1f", lUp, lIn)
	}
}

func TestEndpointURL(t *testing.T) {
	cases := map[string]string{
		"http://127.0.0.1:8000":                  "http://127.0.0.1:8000/v1/audio/transcriptions",
		"http://127.0.0.1:8000/":                 "http://127.0.0.1:8000/v1/audio/transcriptions",
		"http://127.0.0.1:8000/v1":               "http://127.0.0.1:8000/v1/audio/transcriptions",
		"https://api.example.com/v1/":            "https://api.example.com/v1/audio/transcriptions",
		"http://h:8080/inference":                "http://h:8080/inference",
		"http://h/proxy/v1/audio/transcriptions": "http://h/proxy/v1/audio/transcriptions",
		"  http://h:9000/openai  ":               "http://h:9000/openai/v1/audio/transcriptions",
		"http://user:secret@h:1/v1":              "http://user:secret@h:1/v1/audio/transcriptions",
	}
	for in, want := range cases {
		u, err := endpointURL(in)
		if err != nil {
			t.Errorf("endpointURL(%q): %v", in, err)
			continue
		}
		if u.String() != want {
			t.Errorf("endpointURL(%q) = %s, want %s", in, u, want)
		}
	}
	for _, bad := range []string{"", "127.0.0.1:8000", "ws://h:1", "http://", "::"} {
		if _, err := New(Config{URL: bad}); err == nil {
			t.Errorf("New(%q) accepted", bad)
		}
	}
	// Credentials in the URL stay out of messages.
	b := newBatch(t, Config{URL: "http://user:secret@127.0.0.1:1/v1"})
	_, err := b.Transcribe(context.Background(), tone(100*time.Millisecond), asr.Options{})
	if err == nil || strings.Contains(err.Error(), "secret") || !strings.Contains(err.Error(), "127.0.0.1:1") {
		t.Errorf("error %v: want one naming the server without its password", err)
	}
}

func TestFallbackToPlainJSON(t *testing.T) {
	checkLeaks(t)
	var verbose, plain atomic.Int32
	srv := serve(t, func(w http.ResponseWriter, r *http.Request) {
		u := readUpload(t, r)
		switch u.fields["response_format"] {
		case "verbose_json":
			verbose.Add(1)
			w.WriteHeader(http.StatusBadRequest)
			writeJSON(w, map[string]any{"error": map[string]string{"message": "response_format 'verbose_json' is not compatible with this model"}})
		case "json":
			plain.Add(1)
			writeJSON(w, map[string]string{"text": "ya, betul"})
		default:
			t.Errorf("response_format %q", u.fields["response_format"])
		}
	})
	b := newBatch(t, Config{URL: srv.URL})
	for i := range 2 {
		r, err := b.Transcribe(context.Background(), tone(200*time.Millisecond), asr.Options{Language: "id"})
		if err != nil {
			t.Fatalf("utterance %d: %v", i, err)
		}
		if r.Text != "ya, betul" || r.Language != "id" || r.Confidence != confidenceUnknown {
			t.Errorf("utterance %d: %+v, want the text in id with the unknown confidence", i, r)
		}
	}
	if verbose.Load() != 1 || plain.Load() != 2 {
		t.Errorf("%d verbose_json and %d json requests, want 1 and 2: the refusal is remembered", verbose.Load(), plain.Load())
	}
}

func TestNoSpeechSegments(t *testing.T) {
	checkLeaks(t)
	cases := []struct {
		name     string
		segments []map[string]any
		text     string
	}{
		{"all silence", []map[string]any{
			{"start": 0, "end": 1, "text": " Thank you.", "avg_logprob": -1.3, "no_speech_prob": 0.9},
		}, ""},
		{"silence then speech", []map[string]any{
			{"start": 0, "end": 1, "text": " Thank you.", "avg_logprob": -1.3, "no_speech_prob": 0.9},
			{"start": 1, "end": 2, "text": " yes please", "avg_logprob": -0.2, "no_speech_prob": 0.05},
		}, "yes please"},
		{"unsure but speech", []map[string]any{
			{"start": 0, "end": 1, "text": " yes", "avg_logprob": -1.3, "no_speech_prob": 0.2},
		}, "yes"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			srv := serve(t, func(w http.ResponseWriter, r *http.Request) {
				var text string
				for _, s := range tc.segments {
					text += s["text"].(string)
				}
				writeJSON(w, map[string]any{"language": "english", "text": text, "segments": tc.segments})
			})
			r, err := newBatch(t, Config{URL: srv.URL}).Transcribe(context.Background(), tone(time.Second), asr.Options{})
			if err != nil {
				t.Fatal(err)
			}
			if r.Text != tc.text {
				t.Errorf("text %q, want %q", r.Text, tc.text)
			}
			if (r.Text == "") != (r.Confidence == 0) || r.Confidence < 0 || r.Confidence > 1 {
				t.Errorf("confidence %v for text %q", r.Confidence, r.Text)
			}
		})
	}
}

func TestSlowServer(t *testing.T) {
	checkLeaks(t)
	var n atomic.Int32
	srv := serve(t, func(w http.ResponseWriter, r *http.Request) {
		readUpload(t, r)
		if n.Add(1) == 1 {
			<-r.Context().Done() // answers only when the client has gone
			return
		}
		writeJSON(w, map[string]string{"text": "second"})
	})
	b := newBatch(t, Config{URL: srv.URL, Timeout: 300 * time.Millisecond})
	_, err := b.Transcribe(context.Background(), tone(200*time.Millisecond), asr.Options{})
	if !errors.Is(err, context.DeadlineExceeded) || !strings.Contains(err.Error(), srv.URL) {
		t.Fatalf("error %v: want a timeout naming %s", err, srv.URL)
	}
	r, err := b.Transcribe(context.Background(), tone(200*time.Millisecond), asr.Options{})
	if err != nil || r.Text != "second" {
		t.Fatalf("after a timeout: %+v, %v; want the next utterance transcribed", r, err)
	}
}

func TestCallerCancels(t *testing.T) {
	checkLeaks(t)
	srv := serve(t, func(w http.ResponseWriter, r *http.Request) {
		readUpload(t, r)
		<-r.Context().Done()
	})
	b := newBatch(t, Config{URL: srv.URL})
	ctx, cancel := context.WithCancel(context.Background())
	errc := make(chan error, 1)
	go func() {
		_, err := b.Transcribe(ctx, tone(200*time.Millisecond), asr.Options{})
		errc <- err
	}()
	cancel()
	if err := <-errc; !errors.Is(err, context.Canceled) {
		t.Errorf("error %v, want one wrapping context.Canceled", err)
	}
}

func TestServerDropsConnection(t *testing.T) {
	checkLeaks(t)
	srv := serve(t, func(w http.ResponseWriter, r *http.Request) {
		readUpload(t, r)
		conn, buf, err := http.NewResponseController(w).Hijack()
		if err != nil {
			t.Error(err)
			return
		}
		// Half an answer, then nothing.
		buf.WriteString("HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 400\r\n\r\n{\"text\": \"hel")
		buf.Flush()
		conn.Close()
	})
	b := newBatch(t, Config{URL: srv.URL})
	_, err := b.Transcribe(context.Background(), tone(200*time.Millisecond), asr.Options{})
	if err == nil || !strings.Contains(err.Error(), srv.URL) {
		t.Fatalf("error %v: want one naming %s", err, srv.URL)
	}
	if !errors.Is(err, io.ErrUnexpectedEOF) {
		t.Errorf("error %v: want it to say the answer was cut short", err)
	}
}

func TestGarbageAnswers(t *testing.T) {
	checkLeaks(t)
	huge := `{"text": "` + strings.Repeat("a", 2<<20) + `"}`
	cases := []struct {
		name   string
		status int
		ctype  string
		body   string
		want   []string // in the error
	}{
		{"html", 200, "text/html", "<html><body>Welcome to nginx!</body></html>", []string{"not the JSON", "Welcome to nginx"}},
		{"500 text", 500, "text/plain", "500 Internal Server Error\nstd::bad_alloc", []string{"500 Internal Server Error", "bad_alloc"}},
		{"500 empty", 500, "text/plain", "", []string{"500 Internal Server Error"}},
		{"openai error", 401, "application/json", `{"error": {"message": "Incorrect API key provided", "type": "invalid_request_error"}}`, []string{"401 Unauthorized", "Incorrect API key provided"}},
		{"whisper.cpp error", 200, "application/json", `{"error":"failed to read WAV file"}`, []string{"failed to read WAV file"}},
		{"fastapi error", 422, "application/json", `{"detail": "language 'zz' is not supported"}`, []string{"422 Unprocessable Entity", "language 'zz' is not supported"}},
		{"no text", 200, "application/json", `{"task": "transcribe"}`, []string{"no text"}},
		{"huge", 200, "application/json", huge, []string{"larger than"}},
		{"404", 404, "text/plain", "File Not Found (/v1/audio/transcriptions)", []string{"404 Not Found", "File Not Found"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			srv := serve(t, func(w http.ResponseWriter, r *http.Request) {
				readUpload(t, r)
				w.Header().Set("Content-Type", tc.ctype)
				w.WriteHeader(tc.status)
				io.WriteString(w, tc.body)
			})
			_, err := newBatch(t, Config{URL: srv.URL}).Transcribe(context.Background(), tone(100*time.Millisecond), asr.Options{})
			if err == nil {
				t.Fatal("no error")
			}
			for _, s := range append(tc.want, "whisper server "+srv.URL) {
				if !strings.Contains(err.Error(), s) {
					t.Errorf("error %q does not say %q", err, s)
				}
			}
			if len(err.Error()) > 400 {
				t.Errorf("error is %d bytes long: the server's body is not cut short", len(err.Error()))
			}
		})
	}
}

func TestHeardLanguage(t *testing.T) {
	cases := []struct{ answer, asked, sent, want string }{
		{"english", "en", "en", "en"},
		{"English", "", "", "en"},
		{"chinese", "yue", "zh", "yue"},
		{"chinese", "zh", "zh", "zh"},
		{"cantonese", "", "", "yue"},
		{"yue", "yue", "yue", "yue"},
		{"", "id", "id", "id"},
		{"", "", "", ""},
		{"malay", "id", "id", "ms"},
		{"not a language", "en", "en", "en"},
		{"zz-ZZ", "", "", "zz"},
	}
	for _, tc := range cases {
		if got := heardLanguage(tc.answer, tc.asked, tc.sent); got != tc.want {
			t.Errorf("heardLanguage(%q, asked %q, sent %q) = %q, want %q", tc.answer, tc.asked, tc.sent, got, tc.want)
		}
	}
}

func TestConcurrentUtterances(t *testing.T) {
	checkLeaks(t)
	srv := serve(t, func(w http.ResponseWriter, r *http.Request) {
		u := readUpload(t, r)
		writeJSON(w, map[string]string{"text": fmt.Sprint(len(u.pcm))})
	})
	b := newBatch(t, Config{URL: srv.URL})
	var wg sync.WaitGroup
	for i := 1; i <= 8; i++ {
		wg.Go(func() {
			pcm := tone(time.Duration(i) * 100 * time.Millisecond)
			r, err := b.Transcribe(context.Background(), pcm, asr.Options{})
			if err != nil || r.Text != fmt.Sprint(2*len(pcm)) {
				t.Errorf("utterance %d: %+v, %v", i, r, err)
			}
		})
	}
	wg.Wait()
}

func TestUpsample(t *testing.T) {
	for _, n := range []int{0, 1, 15, 160, 8000} {
		up, err := upsample(tone(time.Duration(n) * time.Second / media.Rate))
		if err != nil {
			t.Fatal(err)
		}
		if len(up) != 2*n {
			t.Errorf("%d samples in, %d out; want %d", n, len(up), 2*n)
		}
	}
	// Aligned: a click at sample 4000 comes out at 8000.
	pcm := make([]int16, 8000)
	pcm[4000] = 20000
	up, _ := upsample(pcm)
	peak := 0
	for i, v := range up {
		if abs(v) > abs(up[peak]) {
			peak = i
		}
	}
	if peak < 7999 || peak > 8001 {
		t.Errorf("click at 8 kHz sample 4000 came out at 16 kHz sample %d, want 8000", peak)
	}
}

func abs(v int16) int {
	if v < 0 {
		return -int(v)
	}
	return int(v)
}

func TestWAVHeader(t *testing.T) {
	b := appendWAV(nil, []int16{1, -1, 32767, -32768}, 16000)
	rate, chans, bits, pcm := decodeWAV(t, b)
	if rate != 16000 || chans != 1 || bits != 16 || !bytes.Equal(b[44:], []byte{1, 0, 0xff, 0xff, 0xff, 0x7f, 0, 0x80}) || len(pcm) != 4 {
		t.Errorf("WAV %d Hz %d ch %d bits, data % x", rate, chans, bits, b[44:])
	}
}
