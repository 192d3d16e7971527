package recordings

import (
	"bufio"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"time"
)

// Peaks is a recording's waveform for a player to draw: each channel's
// loudest sample (absolute, 0..32767) in each of a number of equal
// stretches of the recording.
type Peaks struct {
	Duration time.Duration `json:"-"`
	// DurationMs is Duration in milliseconds, for JSON.
	DurationMs int64 `json:"duration_ms"`
	// Channels are the caller's (left) and the other side's (right).
	Channels [channels][]int16 `json:"channels"`
}

// ReadPeaks reads the recording pb (the canonical WAV a Writer or
// SealedWriter makes) and sums it up in buckets stretches. It reads the
// samples the file holds, whatever its header says, so a recording still
// being written has peaks up to now.
func ReadPeaks(pb Playback, buckets int) (Peaks, error) {
	if buckets < 1 {
		return Peaks{}, errors.New("recordings: peaks need at least one bucket")
	}
	if _, err := pb.Seek(0, io.SeekStart); err != nil {
		return Peaks{}, err
	}
	var h [headerSize]byte
	if _, err := io.ReadFull(pb, h[:]); err != nil {
		return Peaks{}, fmt.Errorf("recordings: no WAV header: %w", err)
	}
	le := binary.LittleEndian
	if string(h[0:4]) != "RIFF" || string(h[8:12]) != "WAVE" || string(h[36:40]) != "data" ||
		le.Uint16(h[20:]) != 1 || le.Uint16(h[22:]) != channels || le.Uint16(h[34:]) != bitsPerSample {
		return Peaks{}, errors.New("recordings: not a recording's WAV (16-bit PCM stereo with a 44-byte header)")
	}
	frames := (pb.Size() - headerSize) / blockAlign
	p := Peaks{Duration: time.Duration(frames) * time.Second / time.Duration(le.Uint32(h[24:]))}
	p.DurationMs = p.Duration.Milliseconds()
	buckets = int(min(int64(buckets), max(frames, 1)))
	for c := range p.Channels {
		p.Channels[c] = make([]int16, buckets)
	}
	br := bufio.NewReaderSize(pb, 64<<10)
	var frame [blockAlign]byte
	for i := int64(0); i < frames; i++ {
		if _, err := io.ReadFull(br, frame[:]); err != nil {
			return Peaks{}, fmt.Errorf("recordings: reading sample frame %d of %d: %w", i, frames, err)
		}
		b := int(i * int64(buckets) / frames)
		for c := range p.Channels {
			v := int16(le.Uint16(frame[2*c:]))
			if v < 0 {
				v = -max(v, -32767)
			}
			p.Channels[c][b] = max(p.Channels[c][b], v)
		}
	}
	return p, nil
}
