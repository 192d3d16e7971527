package media

// Recorded prompts: WAV files loaded once, converted to the engine's format,
// and played by any number of calls at once.

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"math"
	"os"
	"time"

	"github.com/go-audio/wav"
)

// Prompt is a recorded announcement in the engine's format (8 kHz, 16-bit,
// mono), loaded once and shared: it never changes after loading, so any
// number of calls may play it at the same time, each through its own Player.
type Prompt struct {
	samples []int16
}

// PromptPlayer is a Source that plays a Prompt once, from the start. It reads
// the Prompt's samples in place, so it costs a few words however long the
// Prompt is.
type PromptPlayer struct {
	samples []int16
	pos     int
}

// NewPrompt makes a prompt of samples at Rate (8 kHz), such as a tone or
// audio from a TTS. It keeps the slice, which must not change afterwards.
func NewPrompt(samples []int16) *Prompt { return &Prompt{samples: samples} }

// Duration returns how long the prompt plays.
func (p *Prompt) Duration() time.Duration {
	return time.Duration(len(p.samples)) * time.Second / Rate
}

// Player returns a Source that plays the prompt from its start.
func (p *Prompt) Player() *PromptPlayer {
	return &PromptPlayer{samples: p.samples}
}

// ReadFrame fills frame with the next samples of the prompt, the last frame
// completed with silence, and reports false once the prompt has been played.
func (pl *PromptPlayer) ReadFrame(frame []int16) bool {
	if pl.pos >= len(pl.samples) {
		clear(frame)
		return false
	}
	n := copy(frame, pl.samples[pl.pos:])
	clear(frame[n:])
	pl.pos += n
	return true
}

// The limits of what LoadPrompt accepts, beyond which a file is surely damaged.
const (
	promptMinRate     = 1000
	promptMaxRate     = 384000
	promptMaxChannels = 32
)

// LoadPromptFile loads the WAV file at path as LoadPrompt does. Its errors
// name the file.
func LoadPromptFile(path string) (*Prompt, error) {
	f, err := os.Open(path)
	if err != nil {
		// The path goes in front, like every other error of ours.
		var pe *fs.PathError
		if errors.As(err, &pe) {
			err = pe.Err
		}
		return nil, fmt.Errorf("prompt %s: %w", path, err)
	}
	defer f.Close()
	return loadPrompt(path, f)
}

// LoadPrompt reads a WAV file and converts it to the engine's format. It
// takes linear PCM of 8, 16, 24 or 32 bits (and also 32- or 64-bit float,
// and G.711 A-law or µ-law), plain or WAVE_FORMAT_EXTENSIBLE, mono or with
// more channels (mixed down to mono), at any sample rate from 1 to 384 kHz
// (converted with ResampleAll). Compressed formats, such as MP3 or ADPCM in
// a WAV, are refused with an error that names the format and the sox
// command that converts the file. If r has a Name method (an *os.File), the
// errors name the file.
func LoadPrompt(r io.Reader) (*Prompt, error) {
	name := ""
	if n, ok := r.(interface{ Name() string }); ok {
		name = n.Name()
	}
	return loadPrompt(name, r)
}

func loadPrompt(name string, r io.Reader) (*Prompt, error) {
	samples, err := decodePromptWAV(name, r)
	if err != nil {
		if name == "" {
			return nil, fmt.Errorf("prompt: %w", err)
		}
		return nil, fmt.Errorf("prompt %s: %w", name, err)
	}
	return &Prompt{samples: samples}, nil
}

// WAV format tags (the first field of the fmt chunk) that LoadPrompt reads,
// and the names of some it refuses.
const (
	wavPCM        = 0x0001
	wavFloat      = 0x0003
	wavALaw       = 0x0006
	wavULaw       = 0x0007
	wavExtensible = 0xFFFE
)

var wavFormatNames = map[uint16]string{
	0x0002: "Microsoft ADPCM",
	0x0011: "IMA ADPCM",
	0x0031: "GSM 6.10",
	0x0040: "G.721 ADPCM",
	0x0050: "MPEG",
	0x0055: "MP3",
	0x0064: "G.726 ADPCM",
	0x0160: "WMA",
	0x0161: "WMA",
	0x1610: "AAC",
}

// Magic numbers of audio files that are not WAV, for a useful error.
var notWAVMagic = []struct {
	magic, name string
}{
	{"ID3", "an MP3 file"},
	{"\xFF\xFB", "an MP3 file"},
	{"\xFF\xF3", "an MP3 file"},
	{"\xFF\xF2", "an MP3 file"},
	{"OggS", "an Ogg file (Vorbis or Opus)"},
	{"fLaC", "a FLAC file"},
	{"FORM", "an AIFF file"},
	{"#!AMR", "an AMR file"},
	{".snd", "a Sun AU file"},
	{"RIFX", "a big-endian RIFX file"},
	{"RF64", "an RF64 file (WAV over 4 GiB)"},
}

// soxHint is the command that converts the named file into one LoadPrompt reads.
func soxHint(name string) string {
	if name == "" {
		name = "in.wav"
	}
	return fmt.Sprintf("convert with sox %s -e signed -b 16 out.wav", name)
}

// decodePromptWAV reads a WAV file whole and returns its audio at Rate.
//
// The RIFF chunks are walked here first, for two reasons. go-audio/wav's
// parser trusts the sizes written in the file and allocates what metadata
// chunks (LIST, smpl) claim, up to 4 GiB, which a damaged file must not be
// able to make it do; so it reads a copy that holds only the fmt and data
// chunks, both checked against the file's length. And for
// WAVE_FORMAT_EXTENSIBLE the actual format is the sub-format in the fmt
// chunk's extension, which go-audio/wav reads past.
func decodePromptWAV(name string, r io.Reader) ([]int16, error) {
	file, err := io.ReadAll(r)
	if err != nil {
		return nil, fmt.Errorf("read: %w", err)
	}
	if len(file) == 0 {
		return nil, errors.New("the file is empty, not a WAV file")
	}
	if len(file) < 12 || string(file[:4]) != "RIFF" || string(file[8:12]) != "WAVE" {
		for _, m := range notWAVMagic {
			if bytes.HasPrefix(file, []byte(m.magic)) {
				return nil, fmt.Errorf("not a WAV file: %s; %s", m.name, soxHint(name))
			}
		}
		return nil, fmt.Errorf("not a WAV file: it starts with %q, not RIFF....WAVE", file[:min(len(file), 12)])
	}
	var fmtChunk, data []byte
	for off := 12; off+8 <= len(file) && data == nil; {
		id := string(file[off : off+4])
		size := int64(binary.LittleEndian.Uint32(file[off+4 : off+8]))
		body := file[off+8:]
		switch id {
		case "fmt ":
			if size < 16 {
				return nil, fmt.Errorf("damaged WAV: fmt chunk of %d bytes, want at least 16", size)
			}
			if size > int64(len(body)) {
				return nil, fmt.Errorf("damaged WAV: fmt chunk of %d bytes, but the file ends %d bytes into it", size, len(body))
			}
			fmtChunk = file[off : off+8+int(size)]
		case "data":
			if fmtChunk == nil {
				return nil, errors.New("WAV data chunk comes before the fmt chunk; " + soxHint(name))
			}
			// Writers that stream leave the size at 2^32-1 (or a file
			// is cut short): the data runs to the end of the file.
			if size > int64(len(body)) {
				size = int64(len(body))
			}
			data = body[:size]
		}
		off += 8 + int(min(size+size&1, int64(len(body)))) // chunks are padded to even sizes
	}
	if fmtChunk == nil {
		return nil, errors.New("damaged WAV: no fmt chunk")
	}
	if data == nil {
		return nil, errors.New("damaged WAV: no data chunk")
	}

	clean := make([]byte, 0, 12+len(fmtChunk)+8+len(data))
	clean = append(clean, "RIFF"...)
	clean = binary.LittleEndian.AppendUint32(clean, uint32(4+len(fmtChunk)+len(fmtChunk)%2+8+len(data)))
	clean = append(clean, "WAVE"...)
	clean = append(clean, fmtChunk...)
	if len(fmtChunk)%2 == 1 {
		clean = append(clean, 0) // RIFF pads chunks to an even size
	}
	clean = append(clean, "data"...)
	clean = binary.LittleEndian.AppendUint32(clean, uint32(len(data)))
	clean = append(clean, data...)

	dec := wav.NewDecoder(bytes.NewReader(clean))
	dec.ReadInfo()
	if err := dec.Err(); err != nil {
		return nil, fmt.Errorf("read WAV header: %w", err)
	}
	format, bits, channels, rate := dec.WavAudioFormat, int(dec.BitDepth), int(dec.NumChans), int(dec.SampleRate)
	if format == wavExtensible {
		// The extension: cbSize, valid bits, channel mask, then a GUID
		// whose first two bytes are the format tag.
		if len(fmtChunk) < 8+40 {
			return nil, fmt.Errorf("damaged WAV: extensible fmt chunk of %d bytes, want 40", len(fmtChunk)-8)
		}
		format = binary.LittleEndian.Uint16(fmtChunk[8+24:])
	}
	switch {
	case format == wavPCM && (bits == 8 || bits == 16 || bits == 24 || bits == 32),
		format == wavFloat && (bits == 32 || bits == 64),
		(format == wavALaw || format == wavULaw) && bits == 8:
	case format == wavPCM || format == wavFloat || format == wavALaw || format == wavULaw:
		return nil, fmt.Errorf("WAV of %d-bit samples in format %d is not supported; %s", bits, format, soxHint(name))
	default:
		what := fmt.Sprintf("WAV format %d", format)
		if n, ok := wavFormatNames[format]; ok {
			what += " (" + n + ")"
		}
		return nil, fmt.Errorf("%s is not PCM; %s", what, soxHint(name))
	}
	if channels < 1 || channels > promptMaxChannels {
		return nil, fmt.Errorf("damaged WAV: %d channels", channels)
	}
	if rate < promptMinRate || rate > promptMaxRate {
		return nil, fmt.Errorf("WAV sample rate %d Hz is out of range (%d to %d Hz)", rate, promptMinRate, promptMaxRate)
	}

	if err := dec.FwdToPCM(); err != nil {
		return nil, fmt.Errorf("read WAV data: %w", err)
	}
	pcm, err := io.ReadAll(dec.PCMChunk)
	if err != nil {
		return nil, fmt.Errorf("read WAV data: %w", err)
	}
	width := bits / 8
	frames := len(pcm) / (width * channels)
	if frames == 0 {
		return nil, errors.New("WAV has no audio: its data chunk is empty")
	}

	// Decode and mix down to mono in int16 units, keeping the fraction of
	// deeper samples until the resampler has filtered them.
	mono := make([]float32, frames)
	var law Codec
	switch format {
	case wavALaw:
		law = PCMA
	case wavULaw:
		law = PCMU
	}
	for i := range mono {
		var sum float64
		for c := range channels {
			b := pcm[(i*channels+c)*width:]
			sum += decodeWAVSample(b, format, bits, law)
		}
		mono[i] = float32(sum / float64(channels))
	}
	if rate != Rate {
		mono = resampleFloats(mono, rate, Rate)
	}
	out := make([]int16, len(mono))
	for i, v := range mono {
		out[i] = sat16(float64(v))
	}
	return out, nil
}

// decodeWAVSample returns the sample at the start of b in int16 units
// (a full-scale sample of any width is ±32768).
func decodeWAVSample(b []byte, format uint16, bits int, law Codec) float64 {
	switch {
	case format == wavFloat:
		var v float64
		if bits == 32 {
			v = float64(math.Float32frombits(binary.LittleEndian.Uint32(b)))
		} else {
			v = math.Float64frombits(binary.LittleEndian.Uint64(b))
		}
		// Float audio may go past ±1 (it clips later), but NaN and
		// infinities would poison the filter: they become silence and
		// a loud clip.
		switch {
		case math.IsNaN(v):
			return 0
		case v > 16:
			return 16 * 32768
		case v < -16:
			return -16 * 32768
		}
		return v * 32768
	case format == wavALaw || format == wavULaw:
		var s [1]int16
		law.Decode(s[:], b[:1])
		return float64(s[0])
	}
	switch bits {
	case 8: // unsigned, 128 is zero
		return (float64(b[0]) - 128) * 256
	case 16:
		return float64(int16(binary.LittleEndian.Uint16(b)))
	case 24:
		v := int32(uint32(b[0])<<8|uint32(b[1])<<16|uint32(b[2])<<24) >> 8
		return float64(v) / 256
	default: // 32
		return float64(int32(binary.LittleEndian.Uint32(b))) / 65536
	}
}

// WriteWAV writes the prompt as a WAV file in the engine's format: 8 kHz,
// mono, 16-bit PCM, which LoadPrompt reads back sample for sample.
func (p *Prompt) WriteWAV(w io.Writer) error {
	out := wavHeader(wavPCM, 16, len(p.samples)*2)
	for _, s := range p.samples {
		out = binary.LittleEndian.AppendUint16(out, uint16(s))
	}
	_, err := w.Write(out)
	return err
}

// WriteULawWAV writes the prompt as an 8 kHz G.711 µ-law WAV file: half the
// size of WriteWAV's, and exactly what a PCMU caller hears.
func (p *Prompt) WriteULawWAV(w io.Writer) error {
	out := wavHeader(wavULaw, 8, len(p.samples))
	out = out[:44+len(p.samples)]
	PCMU.Encode(out[44:], p.samples)
	_, err := w.Write(out)
	return err
}

// wavHeader returns a 44-byte mono 8 kHz WAV header with room for data bytes.
func wavHeader(format uint16, bits, data int) []byte {
	hdr := make([]byte, 44, 44+data)
	copy(hdr[0:], "RIFF")
	binary.LittleEndian.PutUint32(hdr[4:], uint32(36+data))
	copy(hdr[8:], "WAVEfmt ")
	binary.LittleEndian.PutUint32(hdr[16:], 16)
	binary.LittleEndian.PutUint16(hdr[20:], format)
	binary.LittleEndian.PutUint16(hdr[22:], 1)
	binary.LittleEndian.PutUint32(hdr[24:], Rate)
	binary.LittleEndian.PutUint32(hdr[28:], uint32(Rate*bits/8))
	binary.LittleEndian.PutUint16(hdr[32:], uint16(bits/8))
	binary.LittleEndian.PutUint16(hdr[34:], uint16(bits))
	copy(hdr[36:], "data")
	binary.LittleEndian.PutUint32(hdr[40:], uint32(data))
	return hdr
}
