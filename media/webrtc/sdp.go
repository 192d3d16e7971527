package webrtc

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/pion/sdp/v3"
)

const mimeTelephoneEvent = "audio/telephone-event"

// audioCodecs are the audio formats of a session description in its
// order, as "PCMU/8000" or "opus/48000/2", with their payload types.
// Static payload types without an a=rtpmap line are named from RFC 3551.
type audioCodecs struct {
	names []string
	pts   []uint8
	found bool // there is an audio section
}

// find returns the payload type of the first format named name ("opus/48000",
// "telephone-event/8000"), in any case and whatever its channels.
func (ac audioCodecs) find(name string) (uint8, bool) {
	for i, n := range ac.names {
		if strings.EqualFold(n, name) || (len(n) > len(name) && n[len(name)] == '/' && strings.EqualFold(n[:len(name)], name)) {
			return ac.pts[i], true
		}
	}
	return 0, false
}

func parseAudio(desc string) (audioCodecs, error) {
	var sd sdp.SessionDescription
	var ac audioCodecs
	if err := sd.UnmarshalString(desc); err != nil {
		return ac, fmt.Errorf("parse SDP: %w", err)
	}
	for _, m := range sd.MediaDescriptions {
		if m.MediaName.Media != "audio" || m.MediaName.Port.Value == 0 {
			continue
		}
		ac.found = true
		rtpmap := map[string]string{}
		for _, a := range m.Attributes {
			if a.Key != "rtpmap" {
				continue
			}
			if pt, enc, ok := strings.Cut(a.Value, " "); ok {
				rtpmap[pt] = enc
			}
		}
		for _, f := range m.MediaName.Formats {
			pt, err := strconv.ParseUint(f, 10, 7)
			if err != nil {
				continue // not an RTP payload type
			}
			enc, ok := rtpmap[f]
			if !ok {
				enc = staticPayloadTypes[f]
			}
			if enc == "" {
				enc = "payload type " + f
			}
			ac.names = append(ac.names, enc)
			ac.pts = append(ac.pts, uint8(pt))
		}
	}
	return ac, nil
}

// staticPayloadTypes are RFC 3551's audio payload types a peer may list
// without a=rtpmap.
var staticPayloadTypes = map[string]string{"0": "PCMU/8000", "8": "PCMA/8000", "9": "G722/8000", "18": "G729/8000"}

// checkOffer picks the codec to answer an offer with: the first of prefs
// the offer has. An offer with none of them is refused with an error
// that names what it offered.
func checkOffer(offer string, prefs []*format) (*format, error) {
	ac, err := parseAudio(offer)
	switch {
	case err != nil:
		return nil, fmt.Errorf("webrtc: the browser's offer: %w", err)
	case !ac.found:
		return nil, fmt.Errorf("webrtc: the browser's offer has no audio section (m=audio); the page must add a microphone track or an audio transceiver: %w", ErrNoCodec)
	}
	f, _, _, ok := choose(prefs, ac)
	if !ok {
		return nil, fmt.Errorf("webrtc: the browser offers %s but none of %s; keep one of them in the page's codec preferences: %w",
			strings.Join(ac.names, ", "), codecList(prefs), ErrNoCodec)
	}
	return f, nil
}
