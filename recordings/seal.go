package recordings

import (
	"crypto/cipher"
	"crypto/rand"
	"encoding/binary"
	"errors"
	"fmt"
	"os"

	"github.com/sambung/sambung/media"
)

// Sealed recordings: encryption at rest.
//
// A SealedWriter records the same WAV a Writer does, but what reaches the
// disk is sealed with AES-256-GCM, chunk by chunk, so that a crash loses at
// most the chunk being filled and a reader can still authenticate every
// chunk before it. Format version 1, integers big-endian:
//
//	header
//	  magic        8 bytes   "SAMBREC1"
//	  version      1 byte    1
//	  chunk size   4 bytes   plaintext bytes per chunk, C (5120: 160 ms of audio)
//	  id length    1 byte    n, 1 to 64
//	  key id       n bytes   the master key's id, e.g. "2026-12"
//	  key nonce    12 bytes  random
//	  wrapped key  48 bytes  the recording's random 32-byte data key, sealed with
//	                         AES-256-GCM under the master key and the key nonce;
//	                         additional data: the header's bytes before the key
//	                         nonce (magic, version, chunk size and key id)
//	chunks, index i = 0, 1, 2, ... each C+16 bytes, the final one maybe fewer
//	  AES-256-GCM under the data key of C bytes of plaintext (the final chunk:
//	  0 to C bytes); nonce: 4 zero bytes and i as 8 bytes; additional data: the
//	  whole header, then i as 8 bytes, then 1 for the final chunk, 0 otherwise.
//
// The plaintext is a WAV stream: the 44-byte header a Writer writes, whose
// sizes claim the most a WAV can hold since the length is unknown while
// recording, then the samples. A data key seals a single recording and each
// index exactly once, so no nonce repeats under a key. The index in the
// nonce and the additional data keeps chunks from being reordered or moved
// to another file; the final flag tells a recording closed cleanly from one
// cut short, whether by a crash or by someone truncating the file at a chunk
// boundary.
//
// While recording only whole chunks are written, each by one write: a
// process killed at any moment (kill -9) leaves whole chunks, and at worst
// one torn chunk at the end, which readers ignore. Close seals what is left,
// possibly nothing, as the final chunk. OpenSealed reads such a file back as
// a well-formed WAV whose header describes the whole sample frames present,
// so no repair is needed at start-up: RepairDir only walks *.wav files, and
// sealed files end in SealedExt.

// SealedExt is the file extension of sealed recordings. It does not end in
// ".wav", so RepairDir, which must never rewrite a sealed file, skips them.
const SealedExt = ".wav.enc"

// The sealed format's constants, as the comment above lays it out.
const (
	sealedMagic     = "SAMBREC1"
	sealedVersion   = 1
	sealedChunkSize = 8 * frameBytes // 5120 bytes, 160 ms of stereo audio
	gcmNonceSize    = 12
	gcmTagSize      = 16
	wrappedKeySize  = keySize + gcmTagSize
	// sealedPrefixSize is the header's size up to the key id.
	sealedPrefixSize = len(sealedMagic) + 1 + 4 + 1
	// sealedHeaderMax is the largest header: one with a 64-byte key id.
	sealedHeaderMax = sealedPrefixSize + maxKeyIDLen + gcmNonceSize + wrappedKeySize
	// The chunk sizes a reader accepts. A chunk holds at least the WAV
	// header, so that it is whole in the first chunk, and at most 1 MiB, to
	// bound what a file's header can make a reader allocate.
	minSealedChunkSize = headerSize
	maxSealedChunkSize = 1 << 20
)

// Errors about sealed files, wrapped in errors that name the file.
var (
	// ErrNotSealed reports a file that is not a sealed recording, or whose
	// header is damaged beyond reading.
	ErrNotSealed = errors.New("recordings: not a sealed recording")
	// ErrNoKey reports a sealed file whose master key the keyring lacks.
	ErrNoKey = errors.New("recordings: master key not in the keyring")
	// ErrTampered reports sealed bytes that fail authentication: a damaged
	// or altered header or chunk, or a different key under the same id.
	ErrTampered = errors.New("recordings: sealed data fails authentication")
)

// sealedHeader is the parsed header of a sealed file.
type sealedHeader struct {
	raw       []byte // the header's bytes, the chunks' additional data
	chunkSize int
	keyID     string
	nonce     []byte // within raw
	wrapped   []byte // within raw
}

// newSealedHeader makes the header of a new recording: it wraps dataKey
// under kr's current master key.
func newSealedHeader(kr *Keyring, dataKey []byte) ([]byte, error) {
	id := kr.Current()
	master, err := kr.key(id)
	if err != nil {
		return nil, err
	}
	h := make([]byte, 0, sealedHeaderMax)
	h = append(h, sealedMagic...)
	h = append(h, sealedVersion)
	h = binary.BigEndian.AppendUint32(h, sealedChunkSize)
	h = append(h, byte(len(id)))
	h = append(h, id...)
	nonce := make([]byte, gcmNonceSize)
	if _, err := rand.Read(nonce); err != nil {
		return nil, err
	}
	wrapped := master.Seal(nil, nonce, dataKey, h) // the AAD must not overlap the output
	h = append(h, nonce...)
	return append(h, wrapped...), nil
}

// parseSealedHeader parses the header at the start of b, which holds the
// file's first bytes (up to sealedHeaderMax). It trusts nothing it reads.
func parseSealedHeader(b []byte) (sealedHeader, error) {
	if len(b) < len(sealedMagic) || string(b[:len(sealedMagic)]) != sealedMagic {
		return sealedHeader{}, ErrNotSealed
	}
	if len(b) < sealedPrefixSize {
		return sealedHeader{}, fmt.Errorf("header cut short at %d bytes: %w", len(b), ErrNotSealed)
	}
	if v := b[len(sealedMagic)]; v != sealedVersion {
		return sealedHeader{}, fmt.Errorf("format version %d, this build reads %d: %w", v, sealedVersion, ErrNotSealed)
	}
	chunk := binary.BigEndian.Uint32(b[len(sealedMagic)+1:])
	if chunk < minSealedChunkSize || chunk > maxSealedChunkSize {
		return sealedHeader{}, fmt.Errorf("chunk size %d, outside %d to %d: %w",
			chunk, minSealedChunkSize, maxSealedChunkSize, ErrNotSealed)
	}
	n := int(b[sealedPrefixSize-1])
	size := sealedPrefixSize + n + gcmNonceSize + wrappedKeySize
	if n == 0 || n > maxKeyIDLen {
		return sealedHeader{}, fmt.Errorf("key id of %d bytes: %w", n, ErrNotSealed)
	}
	if len(b) < size {
		return sealedHeader{}, fmt.Errorf("header cut short at %d bytes of %d: %w", len(b), size, ErrNotSealed)
	}
	idEnd := sealedPrefixSize + n
	h := sealedHeader{
		raw:       append([]byte(nil), b[:size]...),
		chunkSize: int(chunk),
		keyID:     string(b[sealedPrefixSize:idEnd]),
	}
	h.nonce = h.raw[idEnd : idEnd+gcmNonceSize]
	h.wrapped = h.raw[idEnd+gcmNonceSize:]
	return h, nil
}

// dataKey unwraps the header's data key with kr and returns the cipher under
// it.
func (h sealedHeader) dataKey(kr *Keyring) (cipher.AEAD, error) {
	master, err := kr.key(h.keyID)
	if err != nil {
		return nil, err
	}
	key, err := master.Open(nil, h.nonce, h.wrapped, h.raw[:len(h.raw)-gcmNonceSize-wrappedKeySize])
	if err != nil {
		return nil, fmt.Errorf("data key does not open with master key %q: the key under that id is not the one that sealed it, or the header was altered: %w",
			h.keyID, ErrTampered)
	}
	defer clear(key)
	return newGCM(key)
}

// chunkNonce puts the nonce of chunk i in nonce.
func chunkNonce(nonce *[gcmNonceSize]byte, i int64) {
	clear(nonce[:4])
	binary.BigEndian.PutUint64(nonce[4:], uint64(i))
}

// chunkAAD puts chunk i's index and final flag at the end of aad, which
// holds the header followed by 9 bytes.
func chunkAAD(aad []byte, i int64, final bool) {
	tail := aad[len(aad)-9:]
	binary.BigEndian.PutUint64(tail, uint64(i))
	tail[8] = 0
	if final {
		tail[8] = 1
	}
}

// SealedWriter writes one call's stereo recording like a Writer, sealed for
// encryption at rest (see the format above) under the keyring's current
// master key and a data key of its own.
//
// Like a Writer, it is not safe for concurrent use: one goroutine owns it,
// fed frames through a bounded channel.
type SealedWriter struct {
	framer
	f         *os.File
	aead      cipher.AEAD // under the data key
	fsync     bool
	syncBytes int64 // plaintext bytes between two fsyncs

	nonce  [gcmNonceSize]byte
	aad    []byte // the header, then the chunk index and final flag
	chunk  []byte // the plaintext chunk being filled: sealedChunkSize bytes
	fill   int    // bytes of chunk filled
	sealed []byte // a sealed chunk on its way to the file, reused

	index   int64 // the next chunk's index
	written int64 // plaintext bytes in the chunks written
	synced  int64 // plaintext bytes fsynced
}

// NewSealedWriter creates the sealed recording at path (mode 0640, missing
// directories 0750), holding its header and no audio yet. Name it with
// SealedExt. It refuses to replace an existing file. cfg.SyncEvery matters
// only with cfg.Fsync: a sealed file needs no header fix-ups, since its
// reader counts the chunks, so SyncEvery is then how much audio is written
// between fsyncs (each after a whole chunk).
func NewSealedWriter(path string, kr *Keyring, cfg WriterConfig) (*SealedWriter, error) {
	if kr == nil {
		return nil, fmt.Errorf("sealed recording %s: no keyring", path)
	}
	syncEvery, err := syncFrames(path, cfg)
	if err != nil {
		return nil, err
	}

	dataKey := make([]byte, keySize)
	if _, err := rand.Read(dataKey); err != nil {
		return nil, fmt.Errorf("sealed recording %s: data key: %w", path, err)
	}
	aead, err := newGCM(dataKey)
	if err != nil {
		return nil, fmt.Errorf("sealed recording %s: %w", path, err)
	}
	hdr, err := newSealedHeader(kr, dataKey)
	clear(dataKey)
	if err != nil {
		return nil, fmt.Errorf("sealed recording %s: %w", path, err)
	}

	f, err := createRecording(path, hdr, cfg.Fsync)
	if err != nil {
		return nil, err
	}
	w := &SealedWriter{
		framer:    framer{path: path},
		f:         f,
		aead:      aead,
		fsync:     cfg.Fsync,
		syncBytes: syncEvery * blockAlign,
		aad:       append(hdr, make([]byte, 9)...),
		chunk:     make([]byte, sealedChunkSize),
		sealed:    make([]byte, 0, sealedChunkSize+gcmTagSize),
	}
	// The WAV header opens the plaintext, its sizes unknown yet: it claims
	// the most a WAV holds, as streams of unknown length do.
	putHeader(w.chunk, maxDataBytes)
	w.fill = headerSize
	return w, nil
}

// WriteFrame appends one 20 ms frame, as Writer.WriteFrame does: left is the
// caller, right the other side, each up to media.FrameSamples samples,
// padded with silence; a longer one is refused with ErrFrameTooLong, a frame
// past the WAV size limit with ErrTooLong. Each time a chunk fills up it is
// sealed and written. After a write error the SealedWriter is broken and
// returns that error from then on.
//
// WriteFrame allocates nothing.
func (w *SealedWriter) WriteFrame(left, right []int16) error {
	if err := w.interleaved(left, right); err != nil {
		return err
	}
	// The WAV header shifts the frames by 44 bytes, so a frame may straddle
	// two chunks.
	rest := w.frame[:]
	for len(rest) > 0 {
		n := copy(w.chunk[w.fill:], rest)
		w.fill += n
		rest = rest[n:]
		if w.fill == len(w.chunk) {
			if err := w.seal(false); err != nil {
				return err
			}
		}
	}
	w.samples += media.FrameSamples
	return nil
}

// seal seals the chunk filled so far, appends it to the file in one write,
// and fsyncs when WriterConfig.Fsync asks for it.
func (w *SealedWriter) seal(final bool) error {
	chunkNonce(&w.nonce, w.index)
	chunkAAD(w.aad, w.index, final)
	w.sealed = w.aead.Seal(w.sealed[:0], w.nonce[:], w.chunk[:w.fill], w.aad)
	if _, err := w.f.Write(w.sealed); err != nil {
		w.err = fmt.Errorf("recording %s: write chunk %d: %w", w.path, w.index, err)
		return w.err
	}
	w.index++
	w.written += int64(w.fill)
	w.fill = 0
	if w.fsync && (final || w.written-w.synced >= w.syncBytes) {
		if err := w.f.Sync(); err != nil {
			w.err = fmt.Errorf("recording %s: fsync: %w", w.path, err)
			return w.err
		}
		w.synced = w.written
	}
	return nil
}

// Close seals what is left as the final chunk, which marks the recording as
// complete, fsyncs when WriterConfig.Fsync is set, and closes the file.
// Calling it again does nothing and returns nil. If a write had failed, no
// final chunk is written: the file reads as cut short, up to its last whole
// chunk.
func (w *SealedWriter) Close() error {
	if w.closed {
		return nil
	}
	w.closed = true
	err := w.err
	if err == nil {
		err = w.seal(true)
	}
	clear(w.chunk)
	if cerr := w.f.Close(); cerr != nil && err == nil {
		err = fmt.Errorf("recording %s: close: %w", w.path, cerr)
	}
	return err
}
