// Package whisper is the speech recognition engine "whisper-http": a client
// of the OpenAI-compatible transcription API (POST /v1/audio/transcriptions)
// that whisper.cpp's server, the faster-whisper servers and cloud providers
// speak. It is a Batch engine: each utterance, cut by asr's endpointer, is
// uploaded as one WAV file and its transcript comes back in one answer.
//
// The request is multipart/form-data (OpenAI's createTranscription):
//
//	file             the utterance, a 16 kHz 16-bit mono PCM WAV
//	model            Config.Model ("whisper-1" unless set)
//	language         the call's language as ISO-639-1 (see language.go)
//	response_format  verbose_json: text, language and per-segment scores
//
// The answer is JSON: {"text": ...} for response_format json, and for
// verbose_json also "language" and "segments", each segment with
// "avg_logprob" (and, from openai/whisper and faster-whisper,
// "no_speech_prob"), from which the confidence comes. whisper.cpp's server
// answers errors with status 200 and {"error": "..."}; OpenAI with a 4xx
// status and {"error": {"message": ...}}; FastAPI servers with
// {"detail": ...}: all three become an error naming the server.
//
// whisper.cpp serves the API at /inference unless started with
// --inference-path /v1/audio/transcriptions; give its full URL
// (http://host:8080/inference) or start it with that option.
package whisper

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"mime/multipart"
	"net/http"
	"net/textproto"
	"net/url"
	"strings"
	"sync/atomic"
	"time"

	"github.com/sambung/sambung/asr"
	"github.com/sambung/sambung/media"
)

// Name is the engine's name in asr's registry.
const Name = "whisper-http"

// Defaults for a Config's zero fields.
const (
	DefaultModel   = "whisper-1"
	DefaultTimeout = 10 * time.Second
)

// maxResponse bounds the answer read from a server. A verbose_json answer
// for a 30 s utterance, words and tokens included, is some tens of kB.
const maxResponse = 1 << 20

// Whisper's own test for a segment that is not speech (openai/whisper
// transcribe.py, no_speech_threshold and logprob_threshold): the model
// thinks there is no speech and is not sure of the text it made up.
const (
	noSpeechThreshold = 0.6
	logprobThreshold  = -1.0
)

// confidenceUnknown is the confidence of a transcript that came without
// scores (a server that only answers {"text": ...}): neither sure nor
// unsure, so the flow's intent classifier decides.
const confidenceUnknown = 0.5

// Config configures a Batch.
type Config struct {
	// URL is the server: its base ("http://host:8000"), the API's base
	// ("http://host:8000/v1") or the full endpoint (".../audio/transcriptions",
	// or whisper.cpp's "http://host:8080/inference").
	URL string
	// APIKey, if set, goes as a bearer token.
	APIKey string
	// Model is the model field (default "whisper-1"; faster-whisper servers
	// take a model name such as "Systran/faster-whisper-small").
	Model string
	// Timeout bounds one utterance's transcription, fallback included
	// (default 10 s).
	Timeout time.Duration
	// Languages maps flow codes to the language field sent, over the
	// defaults (Cantonese, "yue", goes as "zh"). {"yue": "yue"} suits a
	// server running large-v3, which knows Cantonese; an empty value sends
	// no language and lets the server detect it.
	Languages map[string]string
}

// FromASR makes a Config from the registry's configuration.
func FromASR(c asr.Config) Config {
	return Config{URL: c.URL, APIKey: c.APIKey, Model: c.Model, Timeout: c.Timeout}
}

// Batch transcribes utterances on one server. It is safe for concurrent
// use: every call's utterances share its connections.
type Batch struct {
	endpoint string // where requests go
	server   string // the endpoint for messages, without credentials
	apiKey   string
	model    string
	timeout  time.Duration
	langs    map[string]string
	client   *http.Client
	// plainJSON is set once the server has refused verbose_json and
	// accepted json: later utterances ask for json straight away.
	plainJSON atomic.Bool
}

var _ asr.Batch = (*Batch)(nil)

// New makes a Batch for the server at cfg.URL.
func New(cfg Config) (*Batch, error) {
	endpoint, err := endpointURL(cfg.URL)
	if err != nil {
		return nil, err
	}
	b := &Batch{
		endpoint: endpoint.String(),
		server:   endpoint.Redacted(),
		apiKey:   cfg.APIKey,
		model:    cfg.Model,
		timeout:  cfg.Timeout,
		langs:    cfg.Languages,
		client:   &http.Client{Transport: http.DefaultTransport.(*http.Transport).Clone()},
	}
	if b.model == "" {
		b.model = DefaultModel
	}
	if b.timeout <= 0 {
		b.timeout = DefaultTimeout
	}
	return b, nil
}

// endpointURL turns the configured URL into the transcription endpoint.
func endpointURL(raw string) (*url.URL, error) {
	if strings.TrimSpace(raw) == "" {
		return nil, errors.New("whisper-http: no server URL (set the engine's url, e.g. http://127.0.0.1:8000/v1)")
	}
	u, err := url.Parse(strings.TrimSpace(raw))
	if err != nil {
		return nil, fmt.Errorf("whisper-http: server URL: %w", err)
	}
	if u.Scheme != "http" && u.Scheme != "https" || u.Host == "" {
		return nil, fmt.Errorf("whisper-http: server URL %q: want http://host:port or https://host, optionally ending in /v1", u.Redacted())
	}
	p := strings.TrimRight(u.Path, "/")
	switch {
	case strings.HasSuffix(p, "/audio/transcriptions"), strings.HasSuffix(p, "/inference"):
	case strings.HasSuffix(p, "/v1"):
		p += "/audio/transcriptions"
	default:
		p += "/v1/audio/transcriptions"
	}
	u.Path, u.RawPath = p, ""
	return u, nil
}

// Name returns "whisper-http".
func (b *Batch) Name() string { return Name }

// CloseIdleConnections closes the connections kept open between requests.
func (b *Batch) CloseIdleConnections() { b.client.CloseIdleConnections() }

// Transcribe uploads one utterance of 8 kHz PCM and returns what the server
// heard, as a final Result whose End is the utterance's length. An error
// names the server; a server that takes longer than the Config's Timeout
// fails with an error that wraps context.DeadlineExceeded.
func (b *Batch) Transcribe(ctx context.Context, pcm []int16, opts asr.Options) (asr.Result, error) {
	length := time.Duration(len(pcm)) * time.Second / media.Rate
	up, err := upsample(pcm)
	if err != nil {
		return asr.Result{}, fmt.Errorf("whisper-http: %w", err)
	}
	wav := appendWAV(make([]byte, 0, 44+2*len(up)), up, uploadRate)
	sent := requestLanguage(opts.Language, b.langs)

	ctx, cancel := context.WithTimeout(ctx, b.timeout)
	defer cancel()
	format := "verbose_json"
	if b.plainJSON.Load() {
		format = "json"
	}
	t, err := b.post(ctx, wav, sent, format)
	var refused *formatRefused
	if errors.As(err, &refused) {
		// A server that knows only json (or a model that cannot give
		// segments) refuses verbose_json with 400 or 422.
		format = "json"
		if t, err = b.post(ctx, wav, sent, format); err == nil {
			b.plainJSON.Store(true)
		}
	}
	if err != nil {
		return asr.Result{}, err
	}
	r := t.result()
	r.Language = heardLanguage(t.Language, opts.Language, sent)
	r.Final = true
	r.End = length
	return r, nil
}

// formatRefused is a 400 or 422 answer to a verbose_json request.
type formatRefused struct{ err error }

func (e *formatRefused) Error() string { return e.err.Error() }
func (e *formatRefused) Unwrap() error { return e.err }

// post sends one request and decodes its answer.
func (b *Batch) post(ctx context.Context, wav []byte, lang, format string) (*transcription, error) {
	body, contentType, err := b.form(wav, lang, format)
	if err != nil {
		return nil, fmt.Errorf("whisper-http: build request: %w", err)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, b.endpoint, bytes.NewReader(body))
	if err != nil {
		return nil, fmt.Errorf("whisper-http: request to %s: %w", b.server, err)
	}
	req.Header.Set("Content-Type", contentType)
	req.Header.Set("Accept", "application/json")
	if b.apiKey != "" {
		req.Header.Set("Authorization", "Bearer "+b.apiKey)
	}
	resp, err := b.client.Do(req)
	if err != nil {
		return nil, b.transportError(ctx, err)
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(io.LimitReader(resp.Body, maxResponse+1))
	if err != nil {
		return nil, b.transportError(ctx, err)
	}
	if len(raw) > maxResponse {
		return nil, fmt.Errorf("whisper server %s: %s: answer larger than %d bytes", b.server, resp.Status, maxResponse)
	}
	if resp.StatusCode/100 != 2 {
		err := fmt.Errorf("whisper server %s: %s%s", b.server, resp.Status, serverMessage(raw))
		if format == "verbose_json" && (resp.StatusCode == http.StatusBadRequest || resp.StatusCode == http.StatusUnprocessableEntity) {
			return nil, &formatRefused{err}
		}
		return nil, err
	}
	var t transcription
	if err := json.Unmarshal(raw, &t); err != nil {
		return nil, fmt.Errorf("whisper server %s: answer is not the JSON of a transcription (%v): %s", b.server, err, excerpt(raw))
	}
	if msg := errorText(t.Error); msg != "" {
		return nil, fmt.Errorf("whisper server %s: %s", b.server, msg)
	}
	if t.Text == nil {
		return nil, fmt.Errorf("whisper server %s: answer has no text: %s", b.server, excerpt(raw))
	}
	return &t, nil
}

// transportError explains a request that got no complete answer.
func (b *Batch) transportError(ctx context.Context, err error) error {
	if errors.Is(ctx.Err(), context.DeadlineExceeded) {
		return fmt.Errorf("whisper server %s: took longer than %s: %w", b.server, b.timeout, context.DeadlineExceeded)
	}
	var uerr *url.Error
	if errors.As(err, &uerr) {
		err = uerr.Err // its message repeats the URL
	}
	return fmt.Errorf("whisper server %s: %w", b.server, err)
}

// form builds the multipart body.
func (b *Batch) form(wav []byte, lang, format string) ([]byte, string, error) {
	var buf bytes.Buffer
	buf.Grow(len(wav) + 1024)
	w := multipart.NewWriter(&buf)
	h := make(textproto.MIMEHeader)
	h.Set("Content-Disposition", `form-data; name="file"; filename="utterance.wav"`)
	h.Set("Content-Type", "audio/wav")
	part, err := w.CreatePart(h)
	if err != nil {
		return nil, "", err
	}
	if _, err := part.Write(wav); err != nil {
		return nil, "", err
	}
	fields := [][2]string{{"model", b.model}, {"response_format", format}, {"language", lang}}
	for _, f := range fields {
		if f[1] == "" {
			continue
		}
		if err := w.WriteField(f[0], f[1]); err != nil {
			return nil, "", err
		}
	}
	if err := w.Close(); err != nil {
		return nil, "", err
	}
	return buf.Bytes(), w.FormDataContentType(), nil
}

// transcription is the answer, json or verbose_json.
type transcription struct {
	Text     *string         `json:"text"`
	Language string          `json:"language"`
	Segments []segment       `json:"segments"`
	Error    json.RawMessage `json:"error"` // whisper.cpp: a string; OpenAI: an object
}

type segment struct {
	Start        float64  `json:"start"`
	End          float64  `json:"end"`
	Text         string   `json:"text"`
	AvgLogprob   *float64 `json:"avg_logprob"`
	NoSpeechProb *float64 `json:"no_speech_prob"`
}

// noSpeech reports whether Whisper itself would drop the segment as
// silence made into words.
func (s segment) noSpeech() bool {
	return s.NoSpeechProb != nil && *s.NoSpeechProb > noSpeechThreshold &&
		s.AvgLogprob != nil && *s.AvgLogprob < logprobThreshold
}

// confidence is the segment's mean token probability, exp(avg_logprob),
// times the probability that it is speech at all.
func (s segment) confidence() float64 {
	c := confidenceUnknown
	if s.AvgLogprob != nil {
		c = math.Exp(min(*s.AvgLogprob, 0))
	}
	if s.NoSpeechProb != nil {
		c *= 1 - min(max(*s.NoSpeechProb, 0), 1)
	}
	return c
}

// result makes the Result's text and confidence: segments Whisper would
// call silence are dropped, and the confidence is the mean of the kept
// segments' confidences weighted by their length.
func (t *transcription) result() asr.Result {
	if len(t.Segments) == 0 {
		return asr.Result{Text: strings.TrimSpace(*t.Text), Confidence: confidenceUnknown}
	}
	var (
		texts      []string
		sum, total float64
		dropped    bool
	)
	for _, s := range t.Segments {
		if s.noSpeech() {
			dropped = true
			continue
		}
		texts = append(texts, strings.TrimSpace(s.Text))
		w := s.End - s.Start
		if !(w > 0) {
			w = 1
		}
		sum += w * s.confidence()
		total += w
	}
	r := asr.Result{Text: strings.TrimSpace(*t.Text)}
	if dropped {
		r.Text = strings.TrimSpace(strings.Join(texts, " "))
	}
	if total > 0 {
		r.Confidence = min(max(sum/total, 0), 1)
	}
	if r.Text == "" {
		r.Confidence = 0
	}
	return r
}

// serverMessage is the explanation in an error answer, after ": ", or "".
func serverMessage(raw []byte) string {
	var e struct {
		Error  json.RawMessage `json:"error"`
		Detail json.RawMessage `json:"detail"`
	}
	if json.Unmarshal(raw, &e) == nil {
		if msg := errorText(e.Error); msg != "" {
			return ": " + msg
		}
		if msg := errorText(e.Detail); msg != "" {
			return ": " + msg
		}
	}
	if len(bytes.TrimSpace(raw)) == 0 {
		return ""
	}
	return ": " + excerpt(raw)
}

// errorText reads an error field: a string, an object with a message, or
// anything else as its JSON.
func errorText(raw json.RawMessage) string {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 || string(raw) == "null" {
		return ""
	}
	var s string
	if json.Unmarshal(raw, &s) == nil {
		return s
	}
	var o struct {
		Message string `json:"message"`
	}
	if json.Unmarshal(raw, &o) == nil && o.Message != "" {
		return o.Message
	}
	return excerpt(raw)
}

// excerpt quotes the start of a body for an error message.
func excerpt(raw []byte) string {
	const n = 120
	raw = bytes.TrimSpace(raw)
	if len(raw) > n {
		return fmt.Sprintf("%q...", raw[:n])
	}
	return fmt.Sprintf("%q", raw)
}
