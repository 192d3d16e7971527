//go:build opus

package media

import (
	"fmt"

	"github.com/hraban/opus"
)

// Opus (RFC 6716), through Debian's libopus and github.com/hraban/opus's
// cgo binding: built with the opus tag, which scripts/tags.sh adds when
// libopus-dev is installed. The engine's audio stays 8 kHz, so the encoder
// takes 8 kHz frames (narrowband Opus) and the decoder downsamples
// whatever the browser sends to 8 kHz; the RTP clock is still 48 kHz
// (RFC 7587 §4.1), 960 ticks a frame.

// OpusAvailable says whether this build speaks Opus.
const OpusAvailable = true

// opusBitrate is what the encoder spends: narrowband speech is clear at
// 12 kbit/s, and the rest carries in-band forward error correction (a
// coarse copy of the previous frame), which Opus only adds above about
// 16 kbit/s at this rate.
const opusBitrate = 24000

// opusExpectedLoss is the packet loss the encoder plans its redundancy
// for, in percent: a home Wi-Fi's, not a data centre's.
const opusExpectedLoss = 5

// opusComplexity trades the encoder's CPU for quality, 0 to 10. A browser
// uses 9 or 10 for its one stream; a server encodes one per call, and 5
// costs half of 10 (about 80 µs a frame here, against 160 µs) for speech
// that is hard to tell apart at 8 kHz. BenchmarkFrame in media/webrtc
// measures it against PCMU.
const opusComplexity = 5

type opusEncoder struct{ enc *opus.Encoder }

// NewOpusEncoder returns an encoder of 8 kHz mono speech, 20 ms a packet,
// with in-band forward error correction.
func NewOpusEncoder() (Encoder, error) {
	enc, err := opus.NewEncoder(Rate, 1, opus.AppVoIP)
	if err != nil {
		return nil, fmt.Errorf("media: new Opus encoder: %w", err)
	}
	for _, set := range []func() error{
		func() error { return enc.SetBitrate(opusBitrate) },
		func() error { return enc.SetInBandFEC(true) },
		func() error { return enc.SetPacketLossPerc(opusExpectedLoss) },
		func() error { return enc.SetComplexity(opusComplexity) },
	} {
		if err := set(); err != nil {
			return nil, fmt.Errorf("media: configure the Opus encoder: %w", err)
		}
	}
	return opusEncoder{enc}, nil
}

func (e opusEncoder) Encode(dst []byte, f []int16) int {
	n, err := e.enc.Encode(f, dst)
	if err != nil {
		return 0
	}
	return n
}

type opusDecoder struct{ dec *opus.Decoder }

// NewOpusDecoder returns a decoder to 8 kHz mono, whatever the sender's
// bandwidth and channels.
func NewOpusDecoder() (Decoder, error) {
	dec, err := opus.NewDecoder(Rate, 1)
	if err != nil {
		return nil, fmt.Errorf("media: new Opus decoder: %w", err)
	}
	return opusDecoder{dec}, nil
}

// Decode decodes one packet into dst. A packet longer than dst (a sender
// that packs 40 ms or more into one) is refused: the jitter buffer holds
// one 20 ms frame per packet.
func (d opusDecoder) Decode(dst []int16, payload []byte) int {
	if len(payload) == 0 || len(dst) == 0 {
		return 0
	}
	n, err := d.dec.Decode(payload, dst[:len(dst):len(dst)])
	if err != nil {
		return 0
	}
	return n
}

// Recover rebuilds the 20 ms before payload, whose packet was lost, from
// the coarse copy payload carries (in-band FEC); when it carries none,
// libopus conceals the gap itself, which sounds better than repeating a
// frame.
func (d opusDecoder) Recover(dst []int16, payload []byte) int {
	if len(payload) == 0 || len(dst) < FrameSamples {
		return 0
	}
	if d.dec.DecodeFEC(payload, dst[:FrameSamples:FrameSamples]) != nil {
		return 0
	}
	return FrameSamples
}
