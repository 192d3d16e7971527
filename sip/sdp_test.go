package sip

import (
	"errors"
	"net/netip"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/pion/sdp/v3"

	"github.com/sambung/sambung/media"
)

func TestParseOffer(t *testing.T) {
	sdpLines := func(lines ...string) []byte { return []byte(strings.Join(lines, "\r\n") + "\r\n") }
	head := []string{"v=0", "o=- 1 1 IN IP4 192.0.2.1", "s=-"}
	with := func(lines ...string) []byte { return sdpLines(append(append([]string{}, head...), lines...)...) }

	cases := []struct {
		name    string
		sdp     []byte
		addr    string
		codecs  string // names:payload types
		dtmf    uint8
		dir     string
		ptime   time.Duration
		wantErr error
	}{
		{"g711 and dtmf", with("c=IN IP4 192.0.2.1", "t=0 0", "m=audio 5004 RTP/AVP 0 8 101", "a=rtpmap:101 telephone-event/8000", "a=fmtp:101 0-16", "a=ptime:20"),
			"192.0.2.1:5004", "PCMU:0 PCMA:8", 101, SendRecv, 20 * time.Millisecond, nil},
		{"caller prefers PCMA", with("c=IN IP4 192.0.2.1", "t=0 0", "m=audio 5004 RTP/AVP 8 0"),
			"192.0.2.1:5004", "PCMA:8 PCMU:0", 0, SendRecv, 0, nil},
		{"dynamic payload type", with("c=IN IP4 192.0.2.1", "t=0 0", "m=audio 5004 RTP/AVP 96 97", "a=rtpmap:96 pcmu/8000", "a=rtpmap:97 telephone-event/8000"),
			"192.0.2.1:5004", "PCMU:96", 97, SendRecv, 0, nil},
		{"codecs we lack are skipped", with("c=IN IP4 192.0.2.1", "t=0 0", "m=audio 5004 RTP/AVP 18 9 0 96", "a=rtpmap:18 G729/8000", "a=rtpmap:96 PCMA/16000"),
			"192.0.2.1:5004", "PCMU:0", 0, SendRecv, 0, nil},
		{"wideband telephone-event ignored", with("c=IN IP4 192.0.2.1", "t=0 0", "m=audio 5004 RTP/AVP 0 100 101", "a=rtpmap:100 telephone-event/16000", "a=rtpmap:101 telephone-event/8000"),
			"192.0.2.1:5004", "PCMU:0", 101, SendRecv, 0, nil},
		{"media c= overrides session c=", with("c=IN IP4 192.0.2.1", "t=0 0", "m=audio 5004 RTP/AVP 0", "c=IN IP4 198.51.100.7"),
			"198.51.100.7:5004", "PCMU:0", 0, SendRecv, 0, nil},
		{"media-level c= only", with("t=0 0", "m=audio 5004 RTP/AVP 0", "c=IN IP4 198.51.100.7"),
			"198.51.100.7:5004", "PCMU:0", 0, SendRecv, 0, nil},
		{"IPv6", with("c=IN IP6 2001:db8::1", "t=0 0", "m=audio 5004 RTP/AVP 0"),
			"[2001:db8::1]:5004", "PCMU:0", 0, SendRecv, 0, nil},
		{"session sendonly", with("c=IN IP4 192.0.2.1", "t=0 0", "a=sendonly", "m=audio 5004 RTP/AVP 0"),
			"192.0.2.1:5004", "PCMU:0", 0, SendOnly, 0, nil},
		{"media direction overrides session", with("c=IN IP4 192.0.2.1", "t=0 0", "a=sendonly", "m=audio 5004 RTP/AVP 0", "a=inactive"),
			"192.0.2.1:5004", "PCMU:0", 0, Inactive, 0, nil},
		{"recvonly", with("c=IN IP4 192.0.2.1", "t=0 0", "m=audio 5004 RTP/AVP 0", "a=recvonly"),
			"192.0.2.1:5004", "PCMU:0", 0, RecvOnly, 0, nil},
		{"rfc2543 hold", with("c=IN IP4 0.0.0.0", "t=0 0", "m=audio 5004 RTP/AVP 0"),
			"0.0.0.0:5004", "PCMU:0", 0, SendOnly, 0, nil},
		{"rfc2543 hold recvonly", with("c=IN IP4 0.0.0.0", "t=0 0", "m=audio 5004 RTP/AVP 0", "a=recvonly"),
			"0.0.0.0:5004", "PCMU:0", 0, Inactive, 0, nil},
		{"ptime 30 at session level", with("c=IN IP4 192.0.2.1", "t=0 0", "a=ptime:30", "m=audio 5004 RTP/AVP 0"),
			"192.0.2.1:5004", "PCMU:0", 0, SendRecv, 30 * time.Millisecond, nil},
		{"rejected first audio stream", with("c=IN IP4 192.0.2.1", "t=0 0", "m=audio 0 RTP/AVP 0", "m=video 5006 RTP/AVP 31", "m=audio 5008 RTP/AVP 8"),
			"192.0.2.1:5008", "PCMA:8", 0, SendRecv, 0, nil},
		{"G.729 only", with("c=IN IP4 192.0.2.1", "t=0 0", "m=audio 5004 RTP/AVP 18", "a=rtpmap:18 G729/8000"),
			"", "", 0, "", 0, ErrNoCompatibleCodec},
		{"SRTP", with("c=IN IP4 192.0.2.1", "t=0 0", "m=audio 5004 RTP/SAVP 0"),
			"", "", 0, "", 0, ErrUnsupportedOffer},
		{"video only", with("c=IN IP4 192.0.2.1", "t=0 0", "m=video 5004 RTP/AVP 31"),
			"", "", 0, "", 0, ErrNoCompatibleCodec},
		{"no c=", with("t=0 0", "m=audio 5004 RTP/AVP 0"),
			"", "", 0, "", 0, ErrMalformedSDP},
		{"host name in c=", with("c=IN IP4 media.example.com", "t=0 0", "m=audio 5004 RTP/AVP 0"),
			"", "", 0, "", 0, ErrUnsupportedOffer},
		{"not SDP", []byte("hello"), "", "", 0, "", 0, ErrMalformedSDP},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			o, err := parseOffer(tc.sdp)
			if tc.wantErr != nil {
				if !errors.Is(err, tc.wantErr) {
					t.Fatalf("err = %v, want %v", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			var codecs []string
			for _, c := range o.Codecs {
				codecs = append(codecs, c.Name+":"+strconv.Itoa(int(c.PayloadType)))
			}
			if got := strings.Join(codecs, " "); got != tc.codecs {
				t.Errorf("codecs %q, want %q", got, tc.codecs)
			}
			if o.Addr.String() != tc.addr || o.DTMFPayloadType != tc.dtmf || o.Direction != tc.dir || o.Ptime != tc.ptime {
				t.Errorf("offer %+v, want %s dtmf %d %s ptime %v", o.MediaOffer, tc.addr, tc.dtmf, tc.dir, tc.ptime)
			}
		})
	}
}

func TestAnswer(t *testing.T) {
	offerText := "v=0\r\no=- 1 1 IN IP4 192.0.2.1\r\ns=-\r\nc=IN IP4 192.0.2.1\r\nt=0 0\r\n" +
		"m=video 5000 RTP/AVP 31\r\nm=audio 5004 RTP/AVP 8 96 101\r\na=rtpmap:96 PCMU/8000\r\na=rtpmap:101 telephone-event/8000\r\na=sendonly\r\n"
	o, err := parseOffer([]byte(offerText))
	if err != nil {
		t.Fatal(err)
	}
	sess := sdpSession{id: 42, version: 42}
	ans := MediaAnswer{Addr: netip.MustParseAddrPort("10.0.0.5:20000"), Codec: media.PCMU, DTMFPayloadType: 101}
	body, err := sess.answer(o, ans, netip.Addr{}, netip.Addr{})
	if err != nil {
		t.Fatal(err)
	}
	want := "v=0\r\no=sambung 42 43 IN IP4 10.0.0.5\r\ns=-\r\nc=IN IP4 10.0.0.5\r\nt=0 0\r\n" +
		"m=video 0 RTP/AVP 31\r\n" +
		"m=audio 20000 RTP/AVP 96 101\r\na=rtpmap:96 PCMU/8000\r\na=rtpmap:101 telephone-event/8000\r\na=fmtp:101 0-16\r\na=ptime:20\r\na=recvonly\r\n"
	if string(body) != want {
		t.Errorf("answer\n%s\nwant\n%s", body, want)
	}
	var parsed sdp.SessionDescription
	if err := parsed.Unmarshal(body); err != nil {
		t.Errorf("our answer does not parse: %v", err)
	}

	// MediaIP replaces an unspecified address, and the version goes up.
	ans.Addr = netip.MustParseAddrPort("0.0.0.0:20000")
	body, err = sess.answer(o, ans, netip.MustParseAddr("203.0.113.9"), netip.Addr{})
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(body), "o=sambung 42 44 IN IP4 203.0.113.9\r\n") || !strings.Contains(string(body), "c=IN IP4 203.0.113.9\r\n") {
		t.Errorf("answer with MediaIP:\n%s", body)
	}
	if _, err := sess.answer(o, ans, netip.Addr{}, netip.Addr{}); err == nil {
		t.Error("answered with 0.0.0.0 and no MediaIP")
	}
	// Without MediaIP, 0.0.0.0 becomes the local address of the call.
	body, err = sess.answer(o, ans, netip.MustParseAddr("0.0.0.0"), netip.MustParseAddr("192.0.2.44"))
	if err != nil || !strings.Contains(string(body), "c=IN IP4 192.0.2.44\r\n") {
		t.Errorf("answer with the local address: %v\n%s", err, body)
	}
	ans.Addr = netip.MustParseAddrPort("10.0.0.5:20000")
	ans.Codec = media.Codec{Name: "G729"}
	if _, err := sess.answer(o, ans, netip.Addr{}, netip.Addr{}); !errors.Is(err, ErrNoCompatibleCodec) {
		t.Errorf("answer with a codec not offered: %v", err)
	}

	// No telephone-event in the offer: none in the answer.
	o, _ = parseOffer([]byte(strings.ReplaceAll(offerText, " 101", "")))
	body, _ = sess.answer(o, MediaAnswer{Addr: netip.MustParseAddrPort("10.0.0.5:20000"), Codec: media.PCMA, DTMFPayloadType: 101}, netip.Addr{}, netip.Addr{})
	if strings.Contains(string(body), "telephone-event") || !strings.Contains(string(body), "m=audio 20000 RTP/AVP 8\r\n") {
		t.Errorf("answer to an offer without DTMF:\n%s", body)
	}
}

func TestAnswerDirection(t *testing.T) {
	for offered, want := range map[string]string{SendRecv: SendRecv, SendOnly: RecvOnly, RecvOnly: SendOnly, Inactive: Inactive} {
		if got := answerDirection(offered); got != want {
			t.Errorf("answerDirection(%s) = %s, want %s", offered, got, want)
		}
	}
}

// FuzzSDPOffer checks that any body parses or fails cleanly, and that an
// offer we accept gets an answer that is valid SDP with one m= line per
// offered stream.
func FuzzSDPOffer(f *testing.F) {
	f.Add([]byte(offerSDP(30000, "")))
	f.Add([]byte(sdpText("0.0.0.0", 1, "inactive", "8 0 96", "a=rtpmap:96 PCMU/8000", "a=ptime:30")))
	for _, file := range tortureFiles(f) {
		msg, err := os.ReadFile(file)
		if err != nil {
			f.Fatal(err)
		}
		if _, body, ok := strings.Cut(string(msg), "\r\n\r\n"); ok && strings.HasPrefix(body, "v=") {
			f.Add([]byte(body))
		}
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		o, err := parseOffer(body)
		if err != nil {
			if !errors.Is(err, ErrMalformedSDP) && !errors.Is(err, ErrNoCompatibleCodec) && !errors.Is(err, ErrUnsupportedOffer) {
				t.Fatalf("unexpected error kind: %v", err)
			}
			return
		}
		if len(o.Codecs) == 0 || o.audio < 0 || o.audio >= len(o.streams) {
			t.Fatalf("accepted offer without codec or stream: %+v", o)
		}
		sess := sdpSession{id: 1, version: 1}
		ans, err := sess.answer(o, MediaAnswer{Addr: netip.MustParseAddrPort("192.0.2.9:4000"), Codec: o.Codecs[0], DTMFPayloadType: 101}, netip.Addr{}, netip.Addr{})
		if err != nil {
			t.Fatalf("answer: %v", err)
		}
		var parsed sdp.SessionDescription
		if err := parsed.Unmarshal(ans); err != nil {
			t.Fatalf("answer does not parse: %v\n%s", err, ans)
		}
		if len(parsed.MediaDescriptions) != len(o.streams) {
			t.Fatalf("answer has %d m= lines for %d offered", len(parsed.MediaDescriptions), len(o.streams))
		}
	})
}

func tortureFiles(t testing.TB) []string {
	t.Helper()
	files, err := filepath.Glob(filepath.Join("..", "testdata", "sip", "rfc4475", "*.dat"))
	if err != nil {
		t.Fatal(err)
	}
	return files
}
