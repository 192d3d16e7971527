package webrtc

import (
	"errors"
	"strings"
	"testing"
	"time"
)

func sdpWith(media ...string) string {
	s := "v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\n"
	for _, m := range media {
		s += strings.ReplaceAll(m, "\n", "\r\n")
	}
	return s
}

func TestCheckOffer(t *testing.T) {
	for _, tc := range []struct {
		name    string
		sdp     string
		eventPT uint8
		refuse  string // what the error must name; empty: accepted
	}{
		{"chromium", sdpWith("m=audio 9 UDP/TLS/RTP/SAVPF 0 111 8 126\na=rtpmap:0 PCMU/8000\na=rtpmap:111 opus/48000/2\na=rtpmap:8 PCMA/8000\na=rtpmap:126 telephone-event/8000\n"), 126, ""},
		{"static PCMU without rtpmap", sdpWith("m=audio 9 RTP/SAVPF 0\n"), 0, ""},
		{"telephone-event at 48 kHz only", sdpWith("m=audio 9 RTP/SAVPF 0 110\na=rtpmap:110 telephone-event/48000\n"), 0, ""},
		{"opus only", sdpWith("m=audio 9 RTP/SAVPF 111\na=rtpmap:111 opus/48000/2\n"), 0, "opus/48000/2"},
		{"PCMA only, static", sdpWith("m=audio 9 RTP/SAVPF 8 9\n"), 0, "PCMA/8000, G722/8000"},
		{"PCMU on a rejected section", sdpWith("m=audio 0 RTP/SAVPF 0\n"), 0, "no audio section"},
		{"video only", sdpWith("m=video 9 RTP/SAVPF 96\na=rtpmap:96 VP8/90000\n"), 0, "no audio section"},
		{"not SDP", "hello", 0, "parse SDP"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := checkOffer(tc.sdp)
			if tc.refuse == "" {
				if err != nil {
					t.Fatalf("refused: %v", err)
				}
				ac, _ := parseAudio(tc.sdp)
				if ac.eventPT != tc.eventPT {
					t.Errorf("telephone-event payload type %d, want %d", ac.eventPT, tc.eventPT)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tc.refuse) {
				t.Fatalf("err = %v, want it to name %q", err, tc.refuse)
			}
			if tc.refuse != "parse SDP" && !errors.Is(err, ErrNoPCMU) {
				t.Errorf("err = %v, want ErrNoPCMU", err)
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
	for _, bad := range []Config{{PortMin: 10000}, {PortMin: 20000, PortMax: 10000}, {NAT1To1IPs: []string{"example.org"}}} {
		if err := bad.fillDefaults(); err == nil {
			t.Errorf("%+v accepted", bad)
		}
	}
}
