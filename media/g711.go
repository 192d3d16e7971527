package media

// G.711 (ITU-T G.711): 8-bit logarithmic PCM, µ-law (PCMU, RTP payload type
// 0) and A-law (PCMA, payload type 8). Both directions go through tables
// built once: a 256-entry decode table and a 64 Ki-entry encode table per
// law, so the per-sample cost is one indexed load and nothing allocates.

// Codec is an audio codec the engine can put in RTP.
type Codec struct {
	Name        string // SDP encoding name, as in a=rtpmap
	PayloadType uint8  // static RTP payload type (RFC 3551)
	ClockRate   int
	encode      *[65536]byte
	decode      *[256]int16
}

// Encode writes one byte per sample of src into dst (which must be as long)
// and returns the number written.
func (c Codec) Encode(dst []byte, src []int16) int {
	n := min(len(dst), len(src))
	for i := range n {
		dst[i] = c.encode[uint16(src[i])]
	}
	return n
}

// Decode writes one sample per byte of src into dst and returns the number written.
func (c Codec) Decode(dst []int16, src []byte) int {
	n := min(len(dst), len(src))
	for i := range n {
		dst[i] = c.decode[src[i]]
	}
	return n
}

var (
	ulawEnc, alawEnc [65536]byte
	ulawDec, alawDec [256]int16
)

// The codecs the engine speaks.
var (
	PCMU = Codec{Name: "PCMU", PayloadType: 0, ClockRate: 8000, encode: &ulawEnc, decode: &ulawDec}
	PCMA = Codec{Name: "PCMA", PayloadType: 8, ClockRate: 8000, encode: &alawEnc, decode: &alawDec}
)

// Codecs lists the audio codecs in order of preference.
var Codecs = []Codec{PCMU, PCMA}

// CodecByName finds a codec by its SDP encoding name (case-insensitive).
func CodecByName(name string) (Codec, bool) {
	for _, c := range Codecs {
		if equalFold(c.Name, name) {
			return c, true
		}
	}
	return Codec{}, false
}

func equalFold(a, b string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range len(a) {
		x, y := a[i]|0x20, b[i]|0x20
		if x != y {
			return false
		}
	}
	return true
}

func init() {
	for i := range 256 {
		ulawDec[i] = ulawToLinear(byte(i))
		alawDec[i] = alawToLinear(byte(i))
	}
	for i := range 65536 {
		s := int16(uint16(i))
		ulawEnc[i] = linearToUlaw(s)
		alawEnc[i] = linearToAlaw(s)
	}
}

// µ-law: a sign bit, a 3-bit segment (exponent) and a 4-bit step within it,
// over the 14-bit magnitude with a bias of 33 so every segment starts on a
// power of two; all bits inverted on the wire.
func linearToUlaw(s int16) byte {
	const bias, clip = 33, 8159
	v := int(s) >> 2 // 14-bit
	mask := byte(0xFF)
	if v < 0 {
		v, mask = -v, 0x7F
	}
	v = min(v, clip) + bias
	seg := 0
	for seg < 8 && v >= 0x40<<seg {
		seg++
	}
	if seg >= 8 {
		return 0x7F ^ mask
	}
	return (byte(seg<<4) | byte(v>>(seg+1))&0x0F) ^ mask
}

func ulawToLinear(u byte) int16 {
	const bias = 0x84
	u = ^u
	t := (int(u&0x0F) << 3) + bias
	t <<= (u & 0x70) >> 4
	if u&0x80 != 0 {
		return int16(bias - t)
	}
	return int16(t - bias)
}

// A-law: a sign bit, a 3-bit segment and a 4-bit step over the 13-bit
// magnitude; the first two segments are linear; even bits inverted (0x55)
// on the wire.
func linearToAlaw(s int16) byte {
	v := int(s) >> 3 // 13-bit
	mask := byte(0xD5)
	if v < 0 {
		v, mask = -v-1, 0x55
	}
	seg := 0
	for seg < 8 && v >= 0x20<<seg {
		seg++
	}
	if seg >= 8 {
		return 0x7F ^ mask
	}
	a := byte(seg << 4)
	if seg < 2 {
		a |= byte(v>>1) & 0x0F
	} else {
		a |= byte(v>>seg) & 0x0F
	}
	return a ^ mask
}

func alawToLinear(a byte) int16 {
	a ^= 0x55
	t := int(a&0x0F) << 4
	switch seg := (a & 0x70) >> 4; seg {
	case 0:
		t += 8
	case 1:
		t += 0x108
	default:
		t = (t + 0x108) << (seg - 1)
	}
	if a&0x80 != 0 {
		return int16(t)
	}
	return int16(-t)
}
