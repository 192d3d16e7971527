package webrtc

import (
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/sambung/sambung/media"
)

func sdpWith(media ...string) string {
	s := "v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\n"
	for _, m := range media {
		s += strings.ReplaceAll(m, "\n", "\r\n")
	}
	return s
}

func TestCheckOffer(t *testing.T) {
	both := []*format{opusFormat, pcmuFormat}
	pcmu := []*format{pcmuFormat}
	chromium := sdpWith("m=audio 9 UDP/TLS/RTP/SAVPF 111 0 8 110 126\na=rtpmap:111 opus/48000/2\na=rtpmap:0 PCMU/8000\na=rtpmap:8 PCMA/8000\na=rtpmap:110 telephone-event/48000\na=rtpmap:126 telephone-event/8000\n")
	for _, tc := range []struct {
		name    string
		sdp     string
		prefs   []*format
		want    *format // nil: refused
		pt      uint8
		eventPT uint8
		refuse  string // what the error must name
	}{
		{"chromium, opus first", chromium, both, opusFormat, 111, 110, ""},
		{"chromium, PCMU only", chromium, pcmu, pcmuFormat, 0, 126, ""},
		{"static PCMU without rtpmap", sdpWith("m=audio 9 RTP/SAVPF 0\n"), both, pcmuFormat, 0, 0, ""},
		{"telephone-event at 48 kHz only, with PCMU", sdpWith("m=audio 9 RTP/SAVPF 0 110\na=rtpmap:110 telephone-event/48000\n"), both, pcmuFormat, 0, 0, ""},
		{"Firefox's opus payload type", sdpWith("m=audio 9 RTP/SAVPF 109 101\na=rtpmap:109 opus/48000/2\na=rtpmap:101 telephone-event/8000\n"), both, opusFormat, 109, 0, ""},
		{"opus to a PCMU leg", sdpWith("m=audio 9 RTP/SAVPF 111\na=rtpmap:111 opus/48000/2\n"), pcmu, nil, 0, 0, "opus/48000/2 but none of PCMU/8000"},
		{"PCMA only, static", sdpWith("m=audio 9 RTP/SAVPF 8 9\n"), both, nil, 0, 0, "PCMA/8000, G722/8000 but none of opus/48000, PCMU/8000"},
		{"PCMU on a rejected section", sdpWith("m=audio 0 RTP/SAVPF 0\n"), both, nil, 0, 0, "no audio section"},
		{"video only", sdpWith("m=video 9 RTP/SAVPF 96\na=rtpmap:96 VP8/90000\n"), both, nil, 0, 0, "no audio section"},
		{"not SDP", "hello", both, nil, 0, 0, "parse SDP"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f, err := checkOffer(tc.sdp, tc.prefs)
			if tc.want != nil {
				if err != nil {
					t.Fatalf("refused: %v", err)
				}
				ac, _ := parseAudio(tc.sdp)
				g, pt, eventPT, _ := choose(tc.prefs, ac)
				if f != tc.want || g != f || pt != tc.pt || eventPT != tc.eventPT {
					t.Errorf("chose %s (payload type %d, telephone-event %d), want %s (%d, %d)", f.name, pt, eventPT, tc.want.name, tc.pt, tc.eventPT)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tc.refuse) {
				t.Fatalf("err = %v, want it to name %q", err, tc.refuse)
			}
			if tc.refuse != "parse SDP" && !errors.Is(err, ErrNoCodec) {
				t.Errorf("err = %v, want ErrNoCodec", err)
			}
		})
	}
}

func TestConfigDefaults(t *testing.T) {
	var c Config
	if err := c.fillDefaults(); err != nil {
		t.Fatal(err)
	}
	if c.Timeout != 15*time.Second || c.JitterDelay != 60*time.Millisecond {
		t.Errorf("defaults %+v", c)
	}
	if d, f, k := c.iceTimeouts(); d+f != c.Timeout || k >= d {
		t.Errorf("ICE timeouts %v + %v (keepalive %v) for a %v timeout", d, f, k, c.Timeout)
	}
	if !slices.Equal(c.Codecs, Codecs()) || len(c.prefs) != len(c.Codecs) || c.prefs[len(c.prefs)-1] != pcmuFormat {
		t.Errorf("codecs %v (%d resolved), want %v", c.Codecs, len(c.prefs), Codecs())
	}
	c = Config{Codecs: []string{"pcmu", "PCMU"}}
	if err := c.fillDefaults(); err != nil || len(c.prefs) != 1 {
		t.Errorf("Codecs pcmu, PCMU: %v, %d resolved", err, len(c.prefs))
	}
	bads := []Config{{PortMin: 10000}, {PortMin: 20000, PortMax: 10000}, {NAT1To1IPs: []string{"example.org"}}, {Codecs: []string{"G729"}}}
	if !media.OpusAvailable {
		bads = append(bads, Config{Codecs: []string{"opus"}})
	}
	for _, bad := range bads {
		if err := bad.fillDefaults(); err == nil {
			t.Errorf("%+v accepted", bad)
		}
	}
}
