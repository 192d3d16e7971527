package vosk

import (
	"context"
	"encoding/binary"
	"encoding/json"
	"errors"
	"math"
	"net/http"
	"net/http/httptest"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"github.com/sambung/sambung/asr"
	"github.com/sambung/sambung/internal/testenv"
	"github.com/sambung/sambung/media"
)

// The servers here speak Vosk's protocol as websocket/asr_server.py does:
// a config message, audio messages each answered with one message, and
// {"eof" : 1} answered with the last result before the server closes.

// checkLeaks fails the test if it leaves goroutines behind. Call it first,
// so that its cleanup runs last.
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

// serve starts a WebSocket server that runs handle on each connection;
// at cleanup it stops the handlers (stop is closed) and waits for them.
func serve(t *testing.T, handle func(conn *websocket.Conn, stop <-chan struct{})) *httptest.Server {
	t.Helper()
	var wg sync.WaitGroup
	stop := make(chan struct{})
	up := websocket.Upgrader{}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		// Before the upgrade: httptest's Close waits for the request
		// until then, so this Add happens before the Wait at cleanup.
		wg.Add(1)
		defer wg.Done()
		conn, err := up.Upgrade(w, r, nil)
		if err != nil {
			t.Errorf("upgrade: %v", err)
			return
		}
		defer conn.Close()
		go func() { <-stop; conn.Close() }()
		handle(conn, stop)
	}))
	t.Cleanup(func() {
		close(stop)
		srv.Close()
		wg.Wait()
	})
	return srv
}

func wsURL(srv *httptest.Server) string { return "ws" + strings.TrimPrefix(srv.URL, "http") }

// readConfig reads the first message and checks it is Vosk's config.
func readConfig(t *testing.T, conn *websocket.Conn, stop <-chan struct{}) {
	kind, raw, err := conn.ReadMessage()
	if err != nil {
		select {
		case <-stop: // the test is over before the handler read
		default:
			t.Errorf("read config: %v", err)
		}
		return
	}
	var m struct {
		Config struct {
			SampleRate *float64 `json:"sample_rate"`
			Words      *float64 `json:"words"`
		} `json:"config"`
	}
	if kind != websocket.TextMessage || json.Unmarshal(raw, &m) != nil || m.Config.SampleRate == nil {
		t.Errorf("first message %q: want {\"config\": {\"sample_rate\": ...}}", raw)
		return
	}
	if *m.Config.SampleRate != 8000 {
		t.Errorf("sample_rate %v, want 8000", *m.Config.SampleRate)
	}
	if m.Config.Words == nil || *m.Config.Words == 0 {
		t.Errorf("config %s: want words on, for confidences", raw)
	}
}

// collect reads Results until closed (or a minute has passed).
func collect(t *testing.T, st asr.Stream) <-chan []asr.Result {
	out := make(chan []asr.Result, 1)
	go func() {
		var rs []asr.Result
		limit := time.NewTimer(time.Minute)
		defer limit.Stop()
		for {
			select {
			case r, ok := <-st.Results():
				if !ok {
					out <- rs
					return
				}
				rs = append(rs, r)
			case <-limit.C:
				t.Errorf("Results not closed; results so far: %+v", rs)
				out <- rs
				return
			}
		}
	}()
	return out
}

// tone is d of a 440 Hz tone at 8 kHz, -12 dBFS.
func tone(d time.Duration) []int16 {
	pcm := make([]int16, int(d.Seconds()*media.Rate))
	for i := range pcm {
		pcm[i] = int16(8000 * math.Sin(2*math.Pi*440*float64(i)/media.Rate))
	}
	return pcm
}

// writeAll writes pcm as 20 ms frames, the last possibly short, ten times
// faster than a call would (the stream's queue holds 2 s).
func writeAll(t *testing.T, st asr.Stream, pcm []int16) {
	t.Helper()
	if err := writeUntilEnd(st, pcm); err != nil {
		t.Fatalf("write: %v", err)
	}
}

// writeUntilEnd is writeAll for a stream that may end on the way: it
// stops at the first error, and returns it.
func writeUntilEnd(st asr.Stream, pcm []int16) error {
	tick := time.NewTicker(media.FrameDuration / 10)
	defer tick.Stop()
	for len(pcm) > 0 {
		n := min(len(pcm), media.FrameSamples)
		if err := st.Write(pcm[:n]); err != nil {
			return err
		}
		pcm = pcm[n:]
		<-tick.C
	}
	return nil
}

func open(t *testing.T, url string, timeout time.Duration, lang string) asr.Stream {
	t.Helper()
	rec, err := asr.New(Name, asr.Config{URL: url, Timeout: timeout})
	if err != nil {
		t.Fatal(err)
	}
	st, err := rec.Stream(context.Background(), asr.Options{Language: lang})
	if err != nil {
		t.Fatal(err)
	}
	return st
}

func reply(conn *websocket.Conn, v any) error {
	b, _ := json.Marshal(v)
	return conn.WriteMessage(websocket.TextMessage, b)
}

func TestRecognise(t *testing.T) {
	checkLeaks(t)
	pcm := tone(860 * time.Millisecond) // 43 frames: 5 full messages and 3 frames
	var (
		mu       sync.Mutex
		received []int16
		messages int
		eof      bool
	)
	srv := serve(t, func(conn *websocket.Conn, stop <-chan struct{}) {
		readConfig(t, conn, stop)
		for i := 1; ; i++ {
			kind, raw, err := conn.ReadMessage()
			if err != nil {
				t.Errorf("read: %v", err)
				return
			}
			if kind == websocket.TextMessage {
				if string(raw) != `{"eof" : 1}` {
					t.Errorf("text message %q, want exactly {\"eof\" : 1}", raw)
				}
				mu.Lock()
				eof = true
				mu.Unlock()
				reply(conn, map[string]any{"text": "world", "result": []map[string]any{
					{"word": "world", "start": 0.9, "end": 1.2, "conf": 0.6}}})
				return // the server closes
			}
			mu.Lock()
			messages++
			for j := 0; j+1 < len(raw); j += 2 {
				received = append(received, int16(binary.LittleEndian.Uint16(raw[j:])))
			}
			mu.Unlock()
			switch i {
			case 2:
				reply(conn, map[string]string{"partial": "hello"})
			case 3:
				reply(conn, map[string]string{"partial": "hello there"})
			case 4:
				reply(conn, map[string]any{"text": "hello there", "result": []map[string]any{
					{"word": "hello", "start": 0.1, "end": 0.4, "conf": 1.0},
					{"word": "there", "start": 0.4, "end": 0.7, "conf": 0.8}}})
			case 5:
				reply(conn, map[string]string{"partial": "world"})
			default:
				reply(conn, map[string]string{"partial": ""})
			}
		}
	})
	st := open(t, wsURL(srv), 5*time.Second, "en")
	results := collect(t, st)
	writeAll(t, st, pcm)
	if err := st.Close(); err != nil {
		t.Fatal(err)
	}
	got := <-results
	if err := st.Write(pcm[:160]); !errors.Is(err, ErrClosed) {
		t.Errorf("Write after Close: %v, want ErrClosed", err)
	}

	mu.Lock()
	defer mu.Unlock()
	if !eof {
		t.Error("no eof")
	}
	if len(received) != len(pcm) {
		t.Errorf("server got %d samples, %d written", len(received), len(pcm))
	}
	if messages != 6 {
		t.Errorf("%d audio messages for 43 frames, want 6 (8 frames each, then the rest)", messages)
	}
	if l, want := media.DBFS(received), media.DBFS(pcm); math.Abs(l-want) > 0.01 {
		t.Errorf("server got audio at %.2f dBFS, %.2f written", l, want)
	}

	type brief struct {
		start, final bool
		text         string
	}
	var seq []brief
	for _, r := range got {
		seq = append(seq, brief{r.SpeechStart, r.Final, r.Text})
		if r.Err != nil {
			t.Errorf("result %+v has an error", r)
		}
		if !r.SpeechStart && r.Language != "en" {
			t.Errorf("result %+v: language %q, want the stream's en", r, r.Language)
		}
	}
	want := []brief{{true, false, ""}, {false, false, "hello"}, {false, false, "hello there"}, {false, true, "hello there"},
		{true, false, ""}, {false, false, "world"}, {false, true, "world"}}
	if len(seq) != len(want) {
		t.Fatalf("results %+v, want %+v", seq, want)
	}
	for i := range want {
		if seq[i] != want[i] {
			t.Fatalf("result %d: %+v, want %+v (all: %+v)", i, seq[i], want[i], seq)
		}
	}
	first, last := got[3], got[6]
	if math.Abs(first.Confidence-0.9) > 1e-9 || first.Start != 100*time.Millisecond || first.End != 700*time.Millisecond {
		t.Errorf("first final: confidence %v, %v-%v; want 0.9, 100ms-700ms from its words", first.Confidence, first.Start, first.End)
	}
	if math.Abs(last.Confidence-0.6) > 1e-9 || last.Start != 900*time.Millisecond || last.End != 1200*time.Millisecond {
		t.Errorf("last final: confidence %v, %v-%v; want 0.6, 900ms-1.2s", last.Confidence, last.Start, last.End)
	}
}

// TestRecogniseSpeech streams real speech and checks, on the server, that
// it arrives whole: as long and as voiced as what was written.
func TestRecogniseSpeech(t *testing.T) {
	checkLeaks(t)
	speech := testenv.ReadWAV(t, testenv.Speech(t, "id", "saya mau bicara dengan agen", 200*time.Millisecond))
	var received []int16
	srv := serve(t, func(conn *websocket.Conn, stop <-chan struct{}) {
		readConfig(t, conn, stop)
		for {
			kind, raw, err := conn.ReadMessage()
			if err != nil {
				t.Errorf("read: %v", err)
				return
			}
			if kind == websocket.TextMessage {
				reply(conn, map[string]any{"text": "saya mau bicara dengan agen", "result": []map[string]any{
					{"word": "saya", "start": 0.2, "end": 0.5, "conf": 0.9}, {"word": "agen", "start": 1.5, "end": 1.9, "conf": 0.7}}})
				return
			}
			for j := 0; j+1 < len(raw); j += 2 {
				received = append(received, int16(binary.LittleEndian.Uint16(raw[j:])))
			}
			reply(conn, map[string]string{"partial": "saya"})
		}
	})
	st := open(t, wsURL(srv), 5*time.Second, "id")
	results := collect(t, st)
	writeAll(t, st, speech.Channels[0])
	st.Close()
	got := <-results
	var final *asr.Result
	for i := range got {
		if got[i].Final {
			final = &got[i]
		}
	}
	if final == nil || final.Text != "saya mau bicara dengan agen" || final.Language != "id" || math.Abs(final.Confidence-0.8) > 1e-9 {
		t.Fatalf("results %+v: want the final in id, confidence 0.8", got)
	}
	if !got[0].SpeechStart {
		t.Errorf("first result %+v, want the speech start", got[0])
	}
	heard := testenv.Audio{Rate: media.Rate, Channels: [][]int16{received}}
	if heard.Duration() != speech.Duration() {
		t.Errorf("server got %v of audio, %v written", heard.Duration(), speech.Duration())
	}
	if v, want := heard.Voiced(0, -40), speech.Voiced(0, -40); v != want || want < 500*time.Millisecond {
		t.Errorf("server's audio voiced for %v, the speech for %v", v, want)
	}
}

// TestSlowServer: a server that takes the audio and never answers. The
// stream reports it as a Final Result with Err and ends.
func TestSlowServer(t *testing.T) {
	checkLeaks(t)
	srv := serve(t, func(conn *websocket.Conn, stop <-chan struct{}) {
		readConfig(t, conn, stop)
		<-stop
	})
	st := open(t, wsURL(srv), 300*time.Millisecond, "en")
	results := collect(t, st)
	writeUntilEnd(st, tone(400*time.Millisecond))
	got := <-results
	if len(got) != 1 || !got[0].Final || got[0].Err == nil {
		t.Fatalf("results %+v, want one Final with Err", got)
	}
	if msg := got[0].Err.Error(); !strings.Contains(msg, wsURL(srv)) || !strings.Contains(msg, "no answer within 300ms") {
		t.Errorf("error %q: want it to name the server and the timeout", msg)
	}
	if err := st.Write(tone(20 * time.Millisecond)); err == nil || !strings.Contains(err.Error(), "no answer") {
		t.Errorf("Write after the failure: %v, want the failure", err)
	}
	st.Close()
}

// TestSlowServerAtClose: a server that answers audio but not the end of
// it; Close gives up after the Timeout.
func TestSlowServerAtClose(t *testing.T) {
	checkLeaks(t)
	srv := serve(t, func(conn *websocket.Conn, stop <-chan struct{}) {
		readConfig(t, conn, stop)
		for {
			kind, _, err := conn.ReadMessage()
			if err != nil || kind == websocket.TextMessage {
				break
			}
			reply(conn, map[string]string{"partial": "hm"})
		}
		<-stop
	})
	st := open(t, wsURL(srv), 300*time.Millisecond, "en")
	results := collect(t, st)
	writeAll(t, st, tone(400*time.Millisecond))
	st.Close()
	got := <-results
	last := got[len(got)-1]
	if !last.Final || last.Err == nil || !strings.Contains(last.Err.Error(), "no last result within 300ms") {
		t.Errorf("results %+v: want them to end in a Final with Err for the missing last result", got)
	}
}

// TestConnectionDrops: the server goes away mid-utterance, without a
// closing handshake.
func TestConnectionDrops(t *testing.T) {
	checkLeaks(t)
	srv := serve(t, func(conn *websocket.Conn, stop <-chan struct{}) {
		readConfig(t, conn, stop)
		conn.ReadMessage()
		reply(conn, map[string]string{"partial": "hel"})
		conn.ReadMessage()
		conn.NetConn().Close()
	})
	st := open(t, wsURL(srv), 5*time.Second, "en")
	results := collect(t, st)
	writeUntilEnd(st, tone(320*time.Millisecond))
	got := <-results
	if len(got) != 3 || !got[0].SpeechStart || got[1].Text != "hel" {
		t.Fatalf("results %+v: want speech start, partial, Final with Err", got)
	}
	if r := got[2]; !r.Final || r.Err == nil || !strings.Contains(r.Err.Error(), "connection lost") || !strings.Contains(r.Err.Error(), wsURL(srv)) {
		t.Errorf("last result %+v: want a Final with Err naming the server", r)
	}
	if err := st.Write(tone(20 * time.Millisecond)); err == nil {
		t.Error("Write after the connection dropped: no error")
	}
	st.Close()
}

func TestGarbage(t *testing.T) {
	cases := []struct {
		name   string
		answer func(*websocket.Conn) error
		want   string
	}{
		{"html", func(c *websocket.Conn) error {
			return c.WriteMessage(websocket.TextMessage, []byte("<html>502 Bad Gateway</html>"))
		}, `not Vosk's JSON: "<html>502 Bad Gateway</html>"`},
		{"binary", func(c *websocket.Conn) error {
			return c.WriteMessage(websocket.BinaryMessage, []byte{0, 1, 2})
		}, "not Vosk's JSON"},
		{"huge", func(c *websocket.Conn) error {
			return c.WriteMessage(websocket.TextMessage, []byte(`{"partial": "`+strings.Repeat("a", 2<<20)+`"}`))
		}, "larger than 1048576 bytes"},
		{"close 1011", func(c *websocket.Conn) error {
			return c.WriteMessage(websocket.CloseMessage, websocket.FormatCloseMessage(websocket.CloseInternalServerErr, "model failed"))
		}, "model failed"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			checkLeaks(t)
			srv := serve(t, func(conn *websocket.Conn, stop <-chan struct{}) {
				readConfig(t, conn, stop)
				conn.ReadMessage()
				tc.answer(conn)
				<-stop
			})
			st := open(t, wsURL(srv), 5*time.Second, "en")
			results := collect(t, st)
			writeUntilEnd(st, tone(200*time.Millisecond))
			got := <-results
			st.Close()
			if len(got) != 1 || got[0].Err == nil || !got[0].Final {
				t.Fatalf("results %+v, want one Final with Err", got)
			}
			if msg := got[0].Err.Error(); !strings.Contains(msg, tc.want) || !strings.Contains(msg, wsURL(srv)) || len(msg) > 400 {
				t.Errorf("error %q: want it to say %q and name the server, briefly", msg, tc.want)
			}
		})
	}
}

func TestNoServer(t *testing.T) {
	checkLeaks(t)
	// A server that refuses the upgrade.
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Error(w, "no", http.StatusInternalServerError)
	}))
	defer srv.Close()
	rec, err := New(asr.Config{URL: srv.URL}) // http:// is taken for ws://
	if err != nil {
		t.Fatal(err)
	}
	_, err = rec.Stream(context.Background(), asr.Options{})
	if err == nil || !strings.Contains(err.Error(), "500 Internal Server Error") || !strings.Contains(err.Error(), wsURL(srv)) {
		t.Errorf("Stream: %v, want an error naming the server and its status", err)
	}
	// Nothing listening.
	srv2 := httptest.NewServer(http.NotFoundHandler())
	url := wsURL(srv2)
	srv2.Close()
	rec, _ = New(asr.Config{URL: url})
	if _, err := rec.Stream(context.Background(), asr.Options{}); err == nil || !strings.Contains(err.Error(), url) {
		t.Errorf("Stream to a closed port: %v, want an error naming it", err)
	}
	for _, bad := range []string{"", "127.0.0.1:2700", "ftp://h/", "ws://"} {
		if _, err := asr.New(Name, asr.Config{URL: bad}); err == nil {
			t.Errorf("New(%q) accepted", bad)
		}
	}
}

// TestCancel: the call ends; the stream stops at once, with no error to
// report.
func TestCancel(t *testing.T) {
	checkLeaks(t)
	srv := serve(t, func(conn *websocket.Conn, stop <-chan struct{}) {
		readConfig(t, conn, stop)
		for {
			if _, _, err := conn.ReadMessage(); err != nil {
				return
			}
			reply(conn, map[string]string{"partial": ""})
		}
	})
	rec, err := asr.New(Name, asr.Config{URL: wsURL(srv)})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	st, err := rec.Stream(ctx, asr.Options{Language: "en"})
	if err != nil {
		t.Fatal(err)
	}
	results := collect(t, st)
	writeAll(t, st, tone(400*time.Millisecond))
	cancel()
	for _, r := range <-results {
		if r.Err != nil {
			t.Errorf("result %+v after cancel: want no error", r)
		}
	}
	st.Close()
}

// TestWriteDropsWhenBehind: with the writer stuck, Write still returns at
// once, drops what does not fit and says so once.
func TestWriteDropsWhenBehind(t *testing.T) {
	s := makeStream(context.Background(), nil, "ws://127.0.0.1:1", time.Second, "en", 4)
	defer s.cancel()
	frame := tone(20 * time.Millisecond)
	for range 10 {
		if err := s.Write(frame); err != nil {
			t.Fatal(err)
		}
	}
	if len(s.queue) != 4 || s.dropped.Load() != 6 {
		t.Errorf("%d queued, %d dropped; want 4 and 6", len(s.queue), s.dropped.Load())
	}
	if len(s.results) != 1 {
		t.Fatalf("%d results, want one report of the drop", len(s.results))
	}
	if r := <-s.results; !r.Final || r.Err == nil || !strings.Contains(r.Err.Error(), "falls behind") {
		t.Errorf("report %+v", r)
	}
	// A longer frame is split; what does not fit is dropped too.
	<-s.queue
	if err := s.Write(tone(40 * time.Millisecond)); err != nil || s.dropped.Load() != 7 || len(s.results) != 0 {
		t.Errorf("40 ms into room for 20: err %v, %d dropped, %d more reports", err, s.dropped.Load(), len(s.results))
	}
}

func TestWriteAllocatesNothing(t *testing.T) {
	s := makeStream(context.Background(), nil, "ws://127.0.0.1:1", time.Second, "en", 4)
	defer s.cancel()
	frame := tone(20 * time.Millisecond)
	for range 5 {
		s.Write(frame) // the queue full, the drop reported
	}
	allocs := testing.AllocsPerRun(100, func() {
		select {
		case <-s.queue:
		default:
		}
		if err := s.Write(frame); err != nil {
			t.Fatal(err)
		}
		s.Write(frame) // dropped
	})
	if allocs != 0 {
		t.Errorf("Write allocates %.1f times per frame, want 0", allocs)
	}
}
