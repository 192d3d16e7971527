package whisper

import (
	"encoding/binary"
	"fmt"

	"github.com/sambung/sambung/media"
)

// uploadRate is the sample rate of the WAV we upload. Whisper models work
// at 16 kHz; whisper.cpp's server reads only 16 kHz WAV unless it was
// started with --convert (ffmpeg), and other servers resample to 16 kHz
// anyway, so the engine's 8 kHz is converted here, once, for every server.
const uploadRate = 16000

// upsample converts one utterance of the engine's 8 kHz PCM to uploadRate.
// The streaming Resampler lags by its filter's half-length (Delay), so the
// utterance is followed by that much silence to push its last samples out,
// and as many leading samples are cut: the output is aligned with the input
// and exactly uploadRate/media.Rate times as long.
func upsample(pcm []int16) ([]int16, error) {
	r, err := media.NewResampler(media.Rate, uploadRate)
	if err != nil {
		return nil, err
	}
	lagIn := int(r.Delay().Seconds()*media.Rate + 0.5)  // input samples still in the filter
	lagOut := int(r.Delay().Seconds()*uploadRate + 0.5) // output samples before the first real one
	out := make([]int16, r.OutLen(len(pcm)+lagIn))
	n := r.Process(out, pcm)
	n += r.Process(out[n:], make([]int16, lagIn))
	out = out[:n]
	want := len(pcm) * uploadRate / media.Rate
	if len(out) < lagOut+want {
		return nil, fmt.Errorf("resample %d samples: %d out, want %d", len(pcm), len(out), lagOut+want)
	}
	return out[lagOut : lagOut+want], nil
}

// appendWAV appends a RIFF WAVE file of 16-bit little-endian mono PCM at
// rate to b: the 44-byte canonical header (a "fmt " chunk of format 1, PCM,
// and one "data" chunk), then the samples.
func appendWAV(b []byte, pcm []int16, rate int) []byte {
	const header = 44
	data := uint32(2 * len(pcm))
	b = append(b, "RIFF"...)
	b = binary.LittleEndian.AppendUint32(b, header-8+data)
	b = append(b, "WAVEfmt "...)
	b = binary.LittleEndian.AppendUint32(b, 16)             // fmt chunk size
	b = binary.LittleEndian.AppendUint16(b, 1)              // PCM
	b = binary.LittleEndian.AppendUint16(b, 1)              // mono
	b = binary.LittleEndian.AppendUint32(b, uint32(rate))   // sample rate
	b = binary.LittleEndian.AppendUint32(b, uint32(2*rate)) // byte rate
	b = binary.LittleEndian.AppendUint16(b, 2)              // block align
	b = binary.LittleEndian.AppendUint16(b, 16)             // bits per sample
	b = append(b, "data"...)
	b = binary.LittleEndian.AppendUint32(b, data)
	for _, s := range pcm {
		b = binary.LittleEndian.AppendUint16(b, uint16(s))
	}
	return b
}
