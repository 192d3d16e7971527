package webrtc

import (
	"errors"
	"fmt"
	"strings"

	pion "github.com/pion/webrtc/v4"

	"github.com/sambung/sambung/media"
)

// The leg's audio codecs. PCMU goes to a SIP caller and back untouched;
// Opus is decoded and encoded at the leg, but carries in-band forward
// error correction and conceals loss far better, which an agent on home
// Wi-Fi needs more than the server needs the CPU it costs (BenchmarkFrame
// has both). A leg speaks one codec for its whole life: the first of
// Config.Codecs that the browser offers.

// ErrNoCodec reports that the browser's SDP has none of the leg's codecs
// (Config.Codecs): every current browser offers Opus and PCMU, unless the
// page removed them (RTCRtpTransceiver.setCodecPreferences).
var ErrNoCodec = errors.New("webrtc: the browser's SDP offers none of the leg's audio codecs")

// Codec names, as Config.Codecs takes them.
const (
	CodecOpus = "opus"
	CodecPCMU = "PCMU"
)

// format is an audio codec the leg can speak, and the telephone-event
// that goes with it: RFC 4733 events share the audio's RTP clock, so a
// browser sending Opus sends telephone-event/48000.
type format struct {
	name       string
	capability pion.RTPCodecCapability
	pt         pion.PayloadType // ours, when we offer; an answer takes the browser's
	eventPT    pion.PayloadType
	newEncoder func() (media.Encoder, error)
	newDecoder func() (media.Decoder, error)
}

func (f *format) clock() int { return int(f.capability.ClockRate) }

// tsStep is how far the RTP timestamp moves in a 20 ms frame.
func (f *format) tsStep() uint32 { return f.capability.ClockRate / 50 }

func (f *format) event() pion.RTPCodecCapability {
	return pion.RTPCodecCapability{MimeType: mimeTelephoneEvent, ClockRate: f.capability.ClockRate, SDPFmtpLine: "0-15"}
}

// sdpName is the codec as a=rtpmap names it, without channels.
func (f *format) sdpName() string {
	return fmt.Sprintf("%s/%d", strings.TrimPrefix(f.capability.MimeType, "audio/"), f.capability.ClockRate)
}

var (
	pcmuFormat = &format{
		name:       CodecPCMU,
		capability: pion.RTPCodecCapability{MimeType: pion.MimeTypePCMU, ClockRate: 8000, Channels: 1},
		pt:         0, eventPT: 101,
		newEncoder: func() (media.Encoder, error) { return media.PCMU, nil },
		newDecoder: func() (media.Decoder, error) { return media.PCMU, nil },
	}
	// Opus's payload types are Chromium's. maxplaybackrate and
	// sprop-maxcapturerate tell the browser the leg's audio is 8 kHz, so
	// its encoder spends nothing on frequencies nobody will hear (RFC 7587
	// §6.1).
	opusFormat = &format{
		name: CodecOpus,
		capability: pion.RTPCodecCapability{MimeType: pion.MimeTypeOpus, ClockRate: 48000, Channels: 2,
			SDPFmtpLine: "minptime=10;useinbandfec=1;maxplaybackrate=8000;sprop-maxcapturerate=8000"},
		pt: 111, eventPT: 110,
		newEncoder: media.NewOpusEncoder,
		newDecoder: media.NewOpusDecoder,
	}
)

// Codecs are the codecs this build speaks, in the default order of
// preference: Opus first when it was built with libopus (media.OpusAvailable).
func Codecs() []string {
	if media.OpusAvailable {
		return []string{CodecOpus, CodecPCMU}
	}
	return []string{CodecPCMU}
}

// CheckCodecs says whether this build speaks every codec named, for a
// configuration to be refused at start rather than at the first call.
func CheckCodecs(names []string) error {
	for _, n := range names {
		if _, err := formatNamed(n); err != nil {
			return err
		}
	}
	return nil
}

// formatNamed finds a codec by its name in Config.Codecs, in any case.
func formatNamed(name string) (*format, error) {
	switch {
	case strings.EqualFold(name, CodecPCMU):
		return pcmuFormat, nil
	case strings.EqualFold(name, CodecOpus) && media.OpusAvailable:
		return opusFormat, nil
	case strings.EqualFold(name, CodecOpus):
		return nil, fmt.Errorf("webrtc: codec opus: this build has no Opus; build it where libopus-dev is installed (make build), or leave opus out")
	}
	return nil, fmt.Errorf("webrtc: unknown codec %q; this build speaks %s", name, strings.Join(Codecs(), ", "))
}

// choose picks the first of prefs that ac offers, and the payload types
// the offer gave it and its telephone-event (0: none).
func choose(prefs []*format, ac audioCodecs) (f *format, pt, eventPT uint8, ok bool) {
	for _, f := range prefs {
		if pt, ok := ac.find(f.sdpName()); ok {
			eventPT, _ := ac.find(fmt.Sprintf("telephone-event/%d", f.clock()))
			return f, pt, eventPT, true
		}
	}
	return nil, 0, 0, false
}

// codecList names prefs for a message: "opus/48000, PCMU/8000".
func codecList(prefs []*format) string {
	names := make([]string, len(prefs))
	for i, f := range prefs {
		names[i] = f.sdpName()
	}
	return strings.Join(names, ", ")
}
