package recordings

import (
	"bytes"
	"crypto/cipher"
	"errors"
	"fmt"
	"io"
	"os"
	"sync"
	"time"

	"github.com/sambung/sambung/media"
)

// SealedFile is a sealed recording opened for reading (see the format in
// seal.go): a well-formed WAV, decrypted a chunk at a time as it is read, so
// that http.ServeContent can answer Range requests over a long call without
// decrypting all of it. Its header describes the whole sample frames the
// file holds, whether or not the recording was closed cleanly.
//
// ReadAt is safe for concurrent use; Read and Seek share a position and are
// not.
type SealedFile struct {
	path      string
	f         *os.File
	aead      cipher.AEAD // under the data key
	keyID     string
	chunkSize int64 // plaintext bytes per chunk
	bodyOff   int64 // where chunk 0 starts in the file
	chunks    int64 // chunks that may be read, the final one included
	lastLen   int64 // sealed bytes in the last of them
	complete  bool  // the last chunk is the final one: Close ran
	hdr       [headerSize]byte
	size      int64 // bytes of WAV: hdr and the whole sample frames
	pos       int64 // for Read and Seek

	mu        sync.Mutex // guards what follows: the chunk being decrypted and the last one
	closed    bool
	nonce     [gcmNonceSize]byte
	aad       []byte
	sealed    []byte
	plain     []byte
	cached    int64 // the index of the chunk in plain, or -1
	cachedLen int
	decrypted int // chunks decrypted so far: the tests check it stays lazy
}

// OpenSealed opens the sealed recording at path with a master key from kr.
// A file kr holds no key for is an error wrapping ErrNoKey that names the
// key id it needs; a damaged header, or a different key under that id, is
// one wrapping ErrTampered. A chunk torn by a crash at the end of the file
// is left out, not an error: Complete then reports false. (Damage to the
// final chunk cannot be told from such a tear and reads the same way;
// damage anywhere before it is an ErrTampered when read.) A recording still
// being written reads as far as it was when opened.
func OpenSealed(path string, kr *Keyring) (*SealedFile, error) {
	if kr == nil {
		return nil, fmt.Errorf("open sealed recording %s: no keyring", path)
	}
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("open sealed recording: %w", err)
	}
	s, err := openSealed(path, f, kr)
	if err != nil {
		f.Close()
		return nil, fmt.Errorf("open sealed recording %s: %w", path, err)
	}
	return s, nil
}

// openSealed reads the header of the sealed file f and finds its chunks.
func openSealed(path string, f *os.File, kr *Keyring) (*SealedFile, error) {
	fi, err := f.Stat()
	if err != nil {
		return nil, err
	}
	var b [sealedHeaderMax]byte
	n, err := f.ReadAt(b[:], 0)
	if err != nil && !errors.Is(err, io.EOF) {
		return nil, err
	}
	h, err := parseSealedHeader(b[:n])
	if err != nil {
		return nil, err
	}
	aead, err := h.dataKey(kr)
	if err != nil {
		return nil, err
	}
	s := &SealedFile{
		path:      path,
		f:         f,
		aead:      aead,
		keyID:     h.keyID,
		chunkSize: int64(h.chunkSize),
		bodyOff:   int64(len(h.raw)),
		aad:       append(h.raw, make([]byte, 9)...),
		sealed:    make([]byte, h.chunkSize+gcmTagSize),
		plain:     make([]byte, 0, h.chunkSize),
		cached:    -1,
	}

	// Which chunks are there: the whole ones, and what follows them, which
	// is the final chunk if it authenticates as one, or else a chunk a
	// crash tore (or the writer never finished), left out.
	whole := s.chunkSize + gcmTagSize
	body := fi.Size() - s.bodyOff
	full, rest := body/whole, body%whole
	s.chunks, s.lastLen = full, whole
	switch {
	case rest >= gcmTagSize:
		s.tryFinal(full+1, rest)
	case rest == 0 && full > 0:
		// A final chunk may be a whole one, though a SealedWriter seals a
		// chunk as soon as it is full and so leaves a shorter final one.
		s.tryFinal(full, whole)
	}
	if !s.complete {
		s.chunks, s.lastLen = full, whole
	}

	plainLen := int64(0)
	if s.chunks > 0 {
		plainLen = (s.chunks-1)*s.chunkSize + s.lastLen - gcmTagSize
	}
	if plainLen < headerSize {
		if s.complete {
			return nil, fmt.Errorf("holds %d bytes, less than a WAV header: %w", plainLen, ErrNotSealed)
		}
		// Cut short before its first chunk: a recording of nothing.
		putHeader(s.hdr[:], 0)
		s.size = headerSize
		return s, nil
	}
	first, err := s.load(0)
	if err != nil {
		return nil, err
	}
	var want [headerSize]byte
	putHeader(want[:], 0)
	if !bytes.Equal(first[:riffSizeOffset], want[:riffSizeOffset]) ||
		!bytes.Equal(first[riffSizeOffset+4:dataSizeOffset], want[riffSizeOffset+4:dataSizeOffset]) {
		return nil, fmt.Errorf("does not hold a 16-bit stereo %d Hz WAV: %w", media.Rate, ErrNotSealed)
	}
	data := min(plainLen-headerSize, maxDataBytes)
	data -= data % blockAlign
	putHeader(s.hdr[:], uint32(data))
	s.size = headerSize + data
	return s, nil
}

// tryFinal sets Complete, and makes the file count chunks chunks, the last
// one sealedLen bytes long, if that last one authenticates as the final
// chunk.
func (s *SealedFile) tryFinal(chunks, sealedLen int64) {
	s.chunks, s.lastLen, s.complete = chunks, sealedLen, true
	if _, err := s.load(chunks - 1); err != nil {
		s.complete = false
	}
}

// load decrypts chunk i, unless it is the one decrypted last, and returns
// its plaintext, valid until the next load. s.mu must be held.
func (s *SealedFile) load(i int64) ([]byte, error) {
	if i == s.cached {
		return s.plain[:s.cachedLen], nil
	}
	whole := s.chunkSize + gcmTagSize
	n, final := whole, false
	if i == s.chunks-1 {
		n, final = s.lastLen, s.complete
	}
	off := s.bodyOff + i*whole
	sealed := s.sealed[:n]
	if _, err := s.f.ReadAt(sealed, off); err != nil {
		return nil, fmt.Errorf("read chunk %d at byte %d: %w", i, off, err)
	}
	chunkNonce(&s.nonce, i)
	chunkAAD(s.aad, i, final)
	s.cached = -1
	s.decrypted++
	plain, err := s.aead.Open(s.plain[:0], s.nonce[:], sealed, s.aad)
	if err != nil {
		return nil, fmt.Errorf("chunk %d at byte %d: %w", i, off, ErrTampered)
	}
	s.cached, s.cachedLen = i, len(plain)
	return plain, nil
}

// ReadAt reads the WAV's bytes at off, decrypting the chunks they lie in. A
// chunk that fails authentication is an error wrapping ErrTampered that
// names its index and where it starts in the file; the bytes before it are
// still read.
func (s *SealedFile) ReadAt(p []byte, off int64) (int, error) {
	if off < 0 {
		return 0, fmt.Errorf("recording %s: read at negative offset %d", s.path, off)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return 0, fmt.Errorf("recording %s: %w", s.path, os.ErrClosed)
	}
	n := 0
	for n < len(p) && off < s.size {
		var k int
		if off < headerSize {
			k = copy(p[n:], s.hdr[off:])
		} else {
			// The WAV's bytes are the plaintext's, header size and all.
			plain, err := s.load(off / s.chunkSize)
			if err != nil {
				return n, fmt.Errorf("recording %s: %w", s.path, err)
			}
			from := off % s.chunkSize
			to := min(int64(len(plain)), from+s.size-off)
			k = copy(p[n:], plain[from:to])
		}
		n += k
		off += int64(k)
	}
	if n < len(p) {
		return n, io.EOF
	}
	return n, nil
}

// Read reads the WAV's bytes at the current position.
func (s *SealedFile) Read(p []byte) (int, error) {
	n, err := s.ReadAt(p, s.pos)
	s.pos += int64(n)
	if n > 0 && errors.Is(err, io.EOF) {
		err = nil // the next Read says so
	}
	return n, err
}

// Seek sets where the next Read reads, as io.Seeker says.
func (s *SealedFile) Seek(offset int64, whence int) (int64, error) {
	switch whence {
	case io.SeekStart:
	case io.SeekCurrent:
		offset += s.pos
	case io.SeekEnd:
		offset += s.size
	default:
		return 0, fmt.Errorf("recording %s: seek: invalid whence %d", s.path, whence)
	}
	if offset < 0 {
		return 0, fmt.Errorf("recording %s: seek to negative offset %d", s.path, offset)
	}
	s.pos = offset
	return offset, nil
}

// Size is the length of the WAV in bytes, header included.
func (s *SealedFile) Size() int64 { return s.size }

// Complete reports whether the recording was closed cleanly: false when its
// writer crashed (or it is still being written), and the WAV then ends at
// the last whole chunk the writer wrote.
func (s *SealedFile) Complete() bool { return s.complete }

// Duration is how long the recording plays.
func (s *SealedFile) Duration() time.Duration {
	return time.Duration((s.size-headerSize)/blockAlign) * time.Second / media.Rate
}

// KeyID is the id of the master key the recording is sealed with.
func (s *SealedFile) KeyID() string { return s.keyID }

// Close closes the file. Calling it again does nothing and returns nil.
func (s *SealedFile) Close() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return nil
	}
	s.closed = true
	clear(s.plain[:cap(s.plain)])
	s.cached = -1
	return s.f.Close()
}

// DecryptTo writes the sealed recording at path to w as a WAV, which plays
// anywhere. A recording cut short by a crash is written up to its last whole
// chunk, not an error.
func DecryptTo(w io.Writer, path string, kr *Keyring) error {
	s, err := OpenSealed(path, kr)
	if err != nil {
		return err
	}
	defer s.Close()
	if _, err := io.Copy(w, s); err != nil {
		return fmt.Errorf("decrypt recording %s: %w", path, err)
	}
	return nil
}

// IsSealed reports whether the file at path starts as a sealed recording
// does. It reads only the magic: OpenSealed checks the rest.
func IsSealed(path string) bool {
	f, err := os.Open(path)
	if err != nil {
		return false
	}
	defer f.Close()
	var m [len(sealedMagic)]byte
	_, err = io.ReadFull(f, m[:])
	return err == nil && string(m[:]) == sealedMagic
}
