package recordings

import (
	"encoding/binary"
	"math"

	"github.com/sambung/sambung/media"
)

// The format every recording is written in: 16-bit little-endian PCM, two
// channels (the caller on the left, the other side on the right) at the
// engine's rate.
const (
	channels       = 2
	bitsPerSample  = 16
	blockAlign     = channels * bitsPerSample / 8 // bytes per sample frame (one left + one right sample)
	bytesPerSecond = media.Rate * blockAlign
	frameBytes     = media.FrameSamples * blockAlign // one 20 ms engine frame, both channels
)

// The canonical 44-byte header a Writer leaves: RIFF, WAVE, a 16-byte "fmt "
// chunk and the "data" chunk header, with the samples following directly.
// Only the two size fields change after creation.
const (
	headerSize     = 44
	riffSizeOffset = 4  // RIFF chunk size: the file size minus 8
	dataSizeOffset = 40 // data chunk size: bytes of samples
)

// maxDataBytes is the most sample data a RIFF file can describe: its 32-bit
// size counts the 36 header bytes after it too. At 32000 bytes a second this
// is over 37 hours, far past any call's maximum duration.
const maxDataBytes = math.MaxUint32 - (headerSize - 8)

// putHeader fills h (headerSize bytes) with a header describing dataBytes of
// samples.
func putHeader(h []byte, dataBytes uint32) {
	le := binary.LittleEndian
	copy(h[0:4], "RIFF")
	le.PutUint32(h[riffSizeOffset:], headerSize-8+dataBytes)
	copy(h[8:12], "WAVE")
	copy(h[12:16], "fmt ")
	le.PutUint32(h[16:], 16) // fmt chunk size for plain PCM
	le.PutUint16(h[20:], 1)  // WAVE_FORMAT_PCM
	le.PutUint16(h[22:], channels)
	le.PutUint32(h[24:], media.Rate)
	le.PutUint32(h[28:], bytesPerSecond)
	le.PutUint16(h[32:], blockAlign)
	le.PutUint16(h[34:], bitsPerSample)
	copy(h[36:40], "data")
	le.PutUint32(h[dataSizeOffset:], dataBytes)
}
