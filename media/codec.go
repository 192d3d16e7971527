package media

// Codecs with state. G.711 (Codec) needs none: a sample is a byte, and any
// packet decodes alone. Opus keeps state from packet to packet (prediction,
// loss concealment), so each stream has an Encoder and a Decoder of its
// own, made for it when its format is negotiated.

// An Encoder compresses 20 ms frames of 8 kHz audio for one outgoing stream.
type Encoder interface {
	// Encode writes one frame's payload into dst and returns its length,
	// 0 if the frame could not be encoded (nothing is to be sent).
	Encode(dst []byte, f []int16) int
}

// A Decoder expands one incoming stream's payloads into 8 kHz samples.
type Decoder interface {
	// Decode writes the samples of one payload into dst and returns how
	// many it wrote, 0 for a payload it cannot read.
	Decode(dst []int16, payload []byte) int
}

// A RecoveringDecoder can also rebuild the frame before a payload from the
// redundancy the payload carries (Opus in-band forward error correction,
// RFC 6716 §2.1.7), when that frame's own packet was lost.
type RecoveringDecoder interface {
	Decoder
	// Recover writes the frame before payload into dst and returns how
	// many samples it wrote, 0 if payload carries no such copy.
	Recover(dst []int16, payload []byte) int
}

// MaxPayload is the most bytes an Encoder writes for one frame: RFC 6716's
// largest Opus packet, 1275 bytes, and far more than G.711's 160.
const MaxPayload = 1275
