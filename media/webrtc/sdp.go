package webrtc

import (
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/pion/sdp/v3"
	pion "github.com/pion/webrtc/v4"
)

// ErrNoPCMU reports that the browser's SDP has no PCMU audio. The leg
// speaks PCMU only, so that audio goes to and from SIP callers without
// transcoding; every current browser offers PCMU unless the page removed
// it (RTCRtpTransceiver.setCodecPreferences).
var ErrNoPCMU = errors.New("webrtc: the browser's SDP offers no PCMU audio")

const mimeTelephoneEvent = "audio/telephone-event"

var pcmuCapability = pion.RTPCodecCapability{MimeType: pion.MimeTypePCMU, ClockRate: 8000, Channels: 1}

// audioCodecs are the audio formats of a session description, as
// "PCMU/8000" or "opus/48000/2", and the payload type of
// telephone-event/8000 (0 if absent). Static payload types without an
// a=rtpmap line are named from RFC 3551.
type audioCodecs struct {
	names   []string
	pcmu    bool
	eventPT uint8
	found   bool // there is an audio section
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
			enc, ok := rtpmap[f]
			if !ok {
				enc = staticPayloadTypes[f]
			}
			if enc == "" {
				enc = "payload type " + f
			}
			ac.names = append(ac.names, enc)
			name, rate, _ := strings.Cut(enc, "/")
			rate, _, _ = strings.Cut(rate, "/")
			switch {
			case strings.EqualFold(name, "PCMU") && rate == "8000":
				ac.pcmu = true
			case strings.EqualFold(name, "telephone-event") && rate == "8000" && ac.eventPT == 0:
				if pt, err := strconv.ParseUint(f, 10, 7); err == nil {
					ac.eventPT = uint8(pt)
				}
			}
		}
	}
	return ac, nil
}

// staticPayloadTypes are RFC 3551's audio payload types a peer may list
// without a=rtpmap.
var staticPayloadTypes = map[string]string{"0": "PCMU/8000", "8": "PCMA/8000", "9": "G722/8000", "18": "G729/8000"}

// checkOffer refuses an offer the leg cannot answer with PCMU, naming what
// it offered.
func checkOffer(offer string) error {
	ac, err := parseAudio(offer)
	switch {
	case err != nil:
		return fmt.Errorf("webrtc: the browser's offer: %w", err)
	case !ac.found:
		return fmt.Errorf("webrtc: the browser's offer has no audio section (m=audio); the page must add a microphone track or an audio transceiver: %w", ErrNoPCMU)
	case !ac.pcmu:
		return fmt.Errorf("webrtc: the browser offers %s but not PCMU/8000; keep PCMU in the page's codec preferences: %w", strings.Join(ac.names, ", "), ErrNoPCMU)
	}
	return nil
}
