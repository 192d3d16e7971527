package sip

import (
	"errors"
	"fmt"
	"net/netip"
	"strconv"
	"strings"
	"time"

	"github.com/pion/sdp/v3"

	"github.com/sambung/sambung/media"
)

// The offer/answer model (RFC 3264) over SDP (RFC 4566), for one audio
// stream of G.711 with RFC 4733 telephone-events. Offers are parsed with
// pion/sdp; answers are written here, line by line, because they are small
// and must mirror the offer's m= lines exactly (RFC 3264 §6).

// Directions of a media stream (RFC 4566 §6, RFC 3264 §5.1).
const (
	SendRecv = "sendrecv"
	SendOnly = "sendonly"
	RecvOnly = "recvonly"
	Inactive = "inactive"
)

// Errors from negotiating media.
var (
	// ErrNoCompatibleCodec means the offer lists none of the codecs in
	// media.Codecs; the INVITE is rejected with 488 Not Acceptable Here.
	ErrNoCompatibleCodec = errors.New("no codec in common")
	// ErrUnsupportedOffer means the offer's audio cannot be had the way
	// it asks: a profile other than RTP/AVP (SRTP, feedback), a host name
	// or multicast address for RTP; 488 Not Acceptable Here.
	ErrUnsupportedOffer = errors.New("offer not supported")
	// ErrMalformedSDP means the body could not be read as SDP; the INVITE
	// is rejected with 400 Bad Request.
	ErrMalformedSDP = errors.New("malformed sdp")
)

// MediaOffer is what the caller's SDP offer asks for, reduced to what the
// media engine needs.
type MediaOffer struct {
	// Addr is where the caller wants to receive RTP. Its address is
	// unspecified (0.0.0.0) for an RFC 2543 hold (c=0.0.0.0).
	Addr netip.AddrPort
	// Codecs are the engine's codecs that the offer lists, in the caller's
	// order of preference. Each carries the payload type the caller mapped
	// it to (usually the static 0 or 8).
	Codecs []media.Codec
	// DTMFPayloadType is the payload type of telephone-event/8000
	// (RFC 4733), or 0 when the offer has none.
	DTMFPayloadType uint8
	// Direction is the caller's direction: SendRecv, SendOnly, RecvOnly or
	// Inactive. An RFC 2543 hold (c=0.0.0.0) takes the receiving side away:
	// sendrecv reads as sendonly, recvonly as inactive.
	Direction string
	// Ptime is the packet time the caller asked for (a=ptime), 0 if none.
	Ptime time.Duration
}

// OnHold reports whether the caller has put the call on hold: it will not
// receive media from us (RFC 3264 §8.4).
func (o MediaOffer) OnHold() bool {
	return o.Direction == SendOnly || o.Direction == Inactive
}

// MediaAnswer is what we answer with: where we receive RTP and in which
// codec.
type MediaAnswer struct {
	// Addr is our RTP address. In the SDP, Config.MediaIP replaces its
	// address when set; an unspecified one (0.0.0.0) becomes the local
	// address the INVITE came in on.
	Addr netip.AddrPort
	// Codec is one of the offer's Codecs.
	Codec media.Codec
	// DTMFPayloadType, when not 0, asks for telephone-events; the answer
	// then uses the payload type of the offer (RFC 3264 §6.1) and carries
	// none when the offer had none.
	DTMFPayloadType uint8
}

// offer is a parsed SDP offer: the MediaOffer of its first usable audio
// stream, and what is needed to mirror all its m= lines in an answer.
type offer struct {
	MediaOffer
	streams []offerStream
	audio   int // index into streams of the chosen audio stream
}

type offerStream struct {
	media, proto, format string
}

// parseOffer reads an SDP offer. It fails with ErrMalformedSDP when the SDP
// cannot be read or has no usable address, and with ErrNoCompatibleCodec
// when no audio stream offers a codec of ours.
func parseOffer(body []byte) (*offer, error) {
	var sd sdp.SessionDescription
	if err := sd.UnmarshalString(string(body)); err != nil {
		return nil, fmt.Errorf("%w: %w", ErrMalformedSDP, err)
	}
	o := &offer{audio: -1}
	sessionDir := direction(sd.Attributes, SendRecv)
	sessionPtime := ptime(sd.Attributes, 0)
	var firstErr error
	for i, md := range sd.MediaDescriptions {
		name := md.MediaName
		format := "0"
		if len(name.Formats) > 0 {
			format = name.Formats[0]
		}
		o.streams = append(o.streams, offerStream{
			media:  name.Media,
			proto:  strings.Join(name.Protos, "/"),
			format: format,
		})
		if o.audio >= 0 || name.Media != "audio" || name.Port.Value == 0 {
			continue
		}
		if o.streams[i].proto != "RTP/AVP" {
			// SRTP (RTP/SAVP), feedback profiles and the rest are not ours.
			firstErr = cmp(firstErr, fmt.Errorf("%w: audio over %s", ErrUnsupportedOffer, o.streams[i].proto))
			continue
		}
		mo, err := audioOffer(&sd, md, sessionDir, sessionPtime)
		if err != nil {
			firstErr = cmp(firstErr, err)
			continue
		}
		o.MediaOffer = mo
		o.audio = i
	}
	if o.audio < 0 {
		if firstErr != nil {
			return nil, firstErr
		}
		return nil, fmt.Errorf("%w: no audio stream", ErrNoCompatibleCodec)
	}
	return o, nil
}

func cmp(first, err error) error {
	if first != nil {
		return first
	}
	return err
}

func audioOffer(sd *sdp.SessionDescription, md *sdp.MediaDescription, sessionDir string, sessionPtime time.Duration) (MediaOffer, error) {
	ci := md.ConnectionInformation
	if ci == nil {
		ci = sd.ConnectionInformation
	}
	if ci == nil || ci.Address == nil {
		return MediaOffer{}, fmt.Errorf("%w: no c= line for audio", ErrMalformedSDP)
	}
	if ci.NetworkType != "IN" || (ci.AddressType != "IP4" && ci.AddressType != "IP6") {
		return MediaOffer{}, fmt.Errorf("%w: connection %s %s", ErrMalformedSDP, ci.NetworkType, ci.AddressType)
	}
	// Host names are not resolved: a carrier or PBX puts an address here.
	ip, err := netip.ParseAddr(ci.Address.Address)
	if err != nil || ip.Zone() != "" || ip.IsMulticast() {
		return MediaOffer{}, fmt.Errorf("%w: connection address %q", ErrUnsupportedOffer, ci.Address.Address)
	}
	port := md.MediaName.Port.Value
	if port <= 0 || port > 65535 {
		return MediaOffer{}, fmt.Errorf("%w: port %d", ErrMalformedSDP, port)
	}

	mo := MediaOffer{
		Addr:      netip.AddrPortFrom(ip.Unmap(), uint16(port)),
		Direction: direction(md.Attributes, sessionDir),
		Ptime:     ptime(md.Attributes, sessionPtime),
	}
	if ip.IsUnspecified() {
		// RFC 3264 §8.4: c=0.0.0.0 is the RFC 2543 way to ask for no media.
		switch mo.Direction {
		case SendRecv:
			mo.Direction = SendOnly
		case RecvOnly:
			mo.Direction = Inactive
		}
	}

	rtpmaps := make(map[string]string) // payload type -> "name/rate[/channels]"
	for _, a := range md.Attributes {
		if a.Key != "rtpmap" {
			continue
		}
		pt, enc, ok := strings.Cut(a.Value, " ")
		if ok {
			rtpmaps[pt] = strings.TrimSpace(enc)
		}
	}
	for _, f := range md.MediaName.Formats {
		n, err := strconv.ParseUint(f, 10, 8)
		if err != nil || n > 127 {
			continue
		}
		pt := uint8(n)
		enc, mapped := rtpmaps[f]
		if !mapped {
			// RFC 3551 static payload types need no rtpmap.
			switch pt {
			case media.PCMU.PayloadType:
				enc = "PCMU/8000"
			case media.PCMA.PayloadType:
				enc = "PCMA/8000"
			default:
				continue
			}
		}
		name, rate, channels := splitEncoding(enc)
		if rate != 8000 || channels != 1 {
			continue
		}
		if strings.EqualFold(name, "telephone-event") {
			if mo.DTMFPayloadType == 0 {
				mo.DTMFPayloadType = pt
			}
			continue
		}
		c, ok := media.CodecByName(name)
		if !ok || hasCodec(mo.Codecs, c.Name) {
			continue
		}
		c.PayloadType = pt
		mo.Codecs = append(mo.Codecs, c)
	}
	if len(mo.Codecs) == 0 {
		return MediaOffer{}, fmt.Errorf("%w: offered %s", ErrNoCompatibleCodec, strings.Join(md.MediaName.Formats, " "))
	}
	return mo, nil
}

// splitEncoding splits "PCMU/8000/1" into its parts; channels default to 1.
func splitEncoding(enc string) (name string, rate, channels int) {
	parts := strings.Split(enc, "/")
	name, channels = parts[0], 1
	if len(parts) > 1 {
		rate, _ = strconv.Atoi(parts[1])
	}
	if len(parts) > 2 {
		if n, err := strconv.Atoi(parts[2]); err == nil {
			channels = n
		}
	}
	return name, rate, channels
}

func hasCodec(cs []media.Codec, name string) bool {
	for _, c := range cs {
		if strings.EqualFold(c.Name, name) {
			return true
		}
	}
	return false
}

func direction(attrs []sdp.Attribute, def string) string {
	for _, a := range attrs {
		switch a.Key {
		case SendRecv, SendOnly, RecvOnly, Inactive:
			return a.Key
		}
	}
	return def
}

func ptime(attrs []sdp.Attribute, def time.Duration) time.Duration {
	for _, a := range attrs {
		if a.Key != "ptime" {
			continue
		}
		ms, err := strconv.ParseFloat(strings.TrimSpace(a.Value), 64)
		if err == nil && ms > 0 && ms <= 1000 {
			return time.Duration(ms * float64(time.Millisecond))
		}
	}
	return def
}

// answerDirection mirrors the offer's direction (RFC 3264 §6.1).
func answerDirection(offered string) string {
	switch offered {
	case SendOnly:
		return RecvOnly
	case RecvOnly:
		return SendOnly
	case Inactive:
		return Inactive
	}
	return SendRecv
}

// sdpSession is our side of one call's SDP: the o= line's identity, whose
// version goes up with every new answer (RFC 3264 §8).
type sdpSession struct {
	id      uint64
	version uint64
}

// answer writes the SDP answer to o. The address advertised is the first
// specific one (not 0.0.0.0 or ::) of mediaIP, ans.Addr's and local. It
// fails when ans.Codec is not in the offer or there is no address to
// advertise.
func (s *sdpSession) answer(o *offer, ans MediaAnswer, mediaIP, local netip.Addr) ([]byte, error) {
	var codec media.Codec
	found := false
	for _, c := range o.Codecs {
		if strings.EqualFold(c.Name, ans.Codec.Name) {
			codec, found = c, true
			break
		}
	}
	if !found {
		return nil, fmt.Errorf("answer with %s: %w", ans.Codec.Name, ErrNoCompatibleCodec)
	}
	ip, family := sdpAddr(mediaIP, ans.Addr.Addr(), local)
	if !ip.IsValid() || ans.Addr.Port() == 0 {
		return nil, fmt.Errorf("answer address %s: set Config.MediaIP or answer with a routable address", ans.Addr)
	}
	s.version++

	var b strings.Builder
	line := s.writeHeader(&b, family, ip)
	for i, st := range o.streams {
		if i != o.audio {
			// RFC 3264 §6: every offered stream gets a line; port 0 rejects it.
			line("m=%s 0 %s %s", st.media, st.proto, st.format)
			continue
		}
		dtmf := ans.DTMFPayloadType != 0 && o.DTMFPayloadType != 0
		if dtmf {
			line("m=audio %d RTP/AVP %d %d", ans.Addr.Port(), codec.PayloadType, o.DTMFPayloadType)
		} else {
			line("m=audio %d RTP/AVP %d", ans.Addr.Port(), codec.PayloadType)
		}
		line("a=rtpmap:%d %s/%d", codec.PayloadType, codec.Name, codec.ClockRate)
		if dtmf {
			line("a=rtpmap:%d telephone-event/8000", o.DTMFPayloadType)
			line("a=fmtp:%d 0-16", o.DTMFPayloadType)
		}
		line("a=ptime:%d", media.FrameDuration/time.Millisecond)
		line("a=%s", answerDirection(o.Direction))
	}
	return []byte(b.String()), nil
}

// sdpAddr is the address our SDP announces: the first specific one of
// mediaIP, the media's own address and the local signalling address, with
// its c= family. The address is invalid when none is specific.
func sdpAddr(mediaIP, own, local netip.Addr) (netip.Addr, string) {
	for _, a := range []netip.Addr{mediaIP, own, local} {
		if a = a.Unmap(); a.IsValid() && !a.IsUnspecified() {
			if a.Is6() {
				return a, "IP6"
			}
			return a, "IP4"
		}
	}
	return netip.Addr{}, ""
}

// writeHeader writes the session-level lines every SDP of ours starts with
// (v, o, s, c, t) and returns the line writer for the rest.
func (s *sdpSession) writeHeader(b *strings.Builder, family string, ip netip.Addr) func(format string, args ...any) {
	line := func(format string, args ...any) {
		fmt.Fprintf(b, format, args...)
		b.WriteString("\r\n")
	}
	line("v=0")
	line("o=sambung %d %d IN %s %s", s.id, s.version, family, ip)
	line("s=-")
	line("c=IN %s %s", family, ip)
	line("t=0 0")
	return line
}
