// Package vosk is the speech recognition engine "vosk": a streaming client
// of the Vosk server's WebSocket protocol (alphacep/vosk-server,
// websocket/asr_server.py), which recognises as the caller speaks and finds
// the ends of utterances itself.
//
// The protocol, one connection per stream:
//
//   - the client's first message is text, {"config": {"sample_rate": 8000,
//     "words": 1, "max_alternatives": 0}}: the engine's 8 kHz, word times
//     and confidences in results, one hypothesis (so results keep the
//     {"text", "result"} shape);
//   - then binary messages of 16-bit little-endian mono PCM. The server
//     answers each with one text message: {"partial": "..."} while an
//     utterance goes on, or {"text": "...", "result": [{"word", "start",
//     "end", "conf"}, ...]} when its recogniser has found an utterance's end
//     (text may be empty, for noise);
//   - at the end the client sends the text {"eof" : 1}, byte for byte: the
//     server compares the whole message with that string. It answers with
//     the last result and closes the connection.
//
// The server answers every audio message, so a server that has been sent
// audio and says nothing for the Timeout is taken for stuck.
package vosk

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/gorilla/websocket"

	"github.com/sambung/sambung/asr"
	"github.com/sambung/sambung/media"
)

// Name is the engine's name in asr's registry.
const Name = "vosk"

// DefaultTimeout bounds the wait for a server's answer when the Config
// sets none.
const DefaultTimeout = 10 * time.Second

func init() {
	asr.Register(Name, func(cfg asr.Config) (asr.Recognizer, error) {
		r, err := New(cfg)
		if err != nil {
			return nil, err
		}
		return r, nil
	})
}

// Protocol sizes.
const (
	// batchFrames is how many 20 ms frames go in one audio message: 160 ms,
	// about what Vosk's own clients send (test_microphone.py: 0.1 to 0.2 s),
	// few enough messages for the server to answer each, soon enough for
	// partial results to follow speech.
	batchFrames = 8
	// queueFrames is how much audio may wait for the connection (2 s)
	// before frames are dropped.
	queueFrames = 100
	// maxMessage bounds one message from the server.
	maxMessage = 1 << 20
)

// eofMessage ends the audio. Vosk's servers compare the whole text message
// with this exact string (asr_server.py, asr_server.cpp), spaces included.
const eofMessage = `{"eof" : 1}`

// Recognizer opens streams on one Vosk server.
type Recognizer struct {
	url     string // ws:// or wss://
	server  string // the URL for messages, without credentials
	apiKey  string
	timeout time.Duration
	dialer  websocket.Dialer
}

var _ asr.Recognizer = (*Recognizer)(nil)

// New makes a Recognizer for the server at cfg.URL (ws://host:2700; http
// and https are taken for ws and wss). cfg.APIKey, if set, goes as a bearer
// token in the handshake, for a server behind an authenticating proxy;
// cfg.Timeout bounds the handshake and every wait for the server (default
// 10 s). cfg.Model is not used: a Vosk server runs one model.
func New(cfg asr.Config) (*Recognizer, error) {
	if strings.TrimSpace(cfg.URL) == "" {
		return nil, errors.New("vosk: no server URL (set the engine's url, e.g. ws://127.0.0.1:2700)")
	}
	u, err := url.Parse(strings.TrimSpace(cfg.URL))
	if err != nil {
		return nil, fmt.Errorf("vosk: server URL: %w", err)
	}
	switch u.Scheme {
	case "http":
		u.Scheme = "ws"
	case "https":
		u.Scheme = "wss"
	}
	if u.Scheme != "ws" && u.Scheme != "wss" || u.Host == "" {
		return nil, fmt.Errorf("vosk: server URL %q: want ws://host:port", u.Redacted())
	}
	r := &Recognizer{url: u.String(), server: u.Redacted(), apiKey: cfg.APIKey, timeout: cfg.Timeout}
	if r.timeout <= 0 {
		r.timeout = DefaultTimeout
	}
	r.dialer = websocket.Dialer{
		Proxy:            http.ProxyFromEnvironment,
		HandshakeTimeout: r.timeout,
	}
	return r, nil
}

// Name returns "vosk".
func (r *Recognizer) Name() string { return Name }

// Stream connects to the server and sends the configuration. The stream's
// results carry opts.Language, the language of the server's model; a Vosk
// server's grammar is fixed when it starts, so opts.Phrases are not sent.
func (r *Recognizer) Stream(ctx context.Context, opts asr.Options) (asr.Stream, error) {
	var h http.Header
	if r.apiKey != "" {
		h = http.Header{"Authorization": {"Bearer " + r.apiKey}}
	}
	conn, resp, err := r.dialer.DialContext(ctx, r.url, h)
	if err != nil {
		if resp != nil {
			resp.Body.Close()
			return nil, fmt.Errorf("vosk server %s: no WebSocket: %s", r.server, resp.Status)
		}
		return nil, fmt.Errorf("vosk server %s: connect: %w", r.server, err)
	}
	conn.SetReadLimit(maxMessage)
	config, err := json.Marshal(map[string]any{"config": map[string]any{
		"sample_rate":      media.Rate,
		"words":            1,
		"max_alternatives": 0,
	}})
	if err == nil {
		_ = conn.SetWriteDeadline(time.Now().Add(r.timeout))
		err = conn.WriteMessage(websocket.TextMessage, config)
	}
	if err != nil {
		conn.Close()
		return nil, fmt.Errorf("vosk server %s: send config: %w", r.server, err)
	}
	return newStream(ctx, conn, r.server, r.timeout, opts.Language, queueFrames), nil
}
