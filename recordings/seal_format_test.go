package recordings

import (
	"bytes"
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"encoding/binary"
	"encoding/hex"
	"io"
	"os"
	"path/filepath"
	"testing"

	"github.com/sambung/sambung/media"
)

// The tests in this file seal and open files by hand, following the format
// as seal.go's comment lays it out, with none of the package's code: they
// pin the format a file written today must keep, and give the reader files
// SealedWriter never writes (other chunk sizes).

// gcmUnder returns AES-256-GCM under the key given as hex.
func gcmUnder(t *testing.T, keyHex string) cipher.AEAD {
	t.Helper()
	key, err := hex.DecodeString(keyHex)
	if err != nil {
		t.Fatal(err)
	}
	block, err := aes.NewCipher(key)
	if err != nil {
		t.Fatal(err)
	}
	aead, err := cipher.NewGCM(block)
	if err != nil {
		t.Fatal(err)
	}
	return aead
}

// chunkNonceAAD is chunk i's nonce and additional data, as documented.
func chunkNonceAAD(header []byte, i int, final bool) (nonce, aad []byte) {
	nonce = binary.BigEndian.AppendUint64(make([]byte, 4), uint64(i))
	aad = binary.BigEndian.AppendUint64(bytes.Clone(header), uint64(i))
	if final {
		return nonce, append(aad, 1)
	}
	return nonce, append(aad, 0)
}

// sealByHand seals plain in chunks of chunkSize under a new data key wrapped
// by the master key (hex) named id. With final, what is left after the whole
// chunks (possibly nothing) is sealed as the final chunk; finalWhole seals a
// last whole chunk as the final one instead.
func sealByHand(t *testing.T, id, masterHex string, chunkSize int, plain []byte, final, finalWhole bool) []byte {
	t.Helper()
	h := append([]byte("SAMBREC1"), 1)
	h = binary.BigEndian.AppendUint32(h, uint32(chunkSize))
	h = append(append(h, byte(len(id))), id...)
	dataKey, keyNonce := make([]byte, 32), make([]byte, 12)
	rand.Read(dataKey)
	rand.Read(keyNonce)
	wrapped := gcmUnder(t, masterHex).Seal(nil, keyNonce, dataKey, h)
	header := append(append(h, keyNonce...), wrapped...)
	data := gcmUnder(t, hex.EncodeToString(dataKey))

	out := bytes.Clone(header)
	i := 0
	for ; len(plain) > chunkSize || (len(plain) == chunkSize && !finalWhole); i++ {
		nonce, aad := chunkNonceAAD(header, i, false)
		out = data.Seal(out, nonce, plain[:chunkSize], aad)
		plain = plain[chunkSize:]
	}
	if final {
		nonce, aad := chunkNonceAAD(header, i, true)
		out = data.Seal(out, nonce, plain, aad)
	}
	return out
}

// TestSealedFormatByHand opens a SealedWriter's file by hand: each chunk
// under its documented nonce and additional data, the final one flagged,
// the plaintext a WAV header of unknown length then the samples.
func TestSealedFormatByHand(t *testing.T) {
	keys := newKeys(t, "2026-12")
	kr := testKeyring(t, keys, "2026-12", "2026-12")
	path := filepath.Join(t.TempDir(), "call"+SealedExt)
	const frames = 40
	writeSealedTones(t, path, kr, frames, WriterConfig{})
	raw := readFile(t, path)

	const prefix = 8 + 1 + 4 + 1
	if string(raw[:8]) != "SAMBREC1" || raw[8] != 1 || binary.BigEndian.Uint32(raw[9:]) != 5120 ||
		string(raw[prefix:prefix+int(raw[13])]) != "2026-12" {
		t.Fatalf("header starts % x: want SAMBREC1, version 1, chunk size 5120, key id 2026-12", raw[:prefix+7])
	}
	hdrLen := prefix + 7 + 12 + 48
	header := raw[:hdrLen]
	keyNonce, wrapped := header[prefix+7:prefix+7+12], header[prefix+7+12:]
	dataKey, err := gcmUnder(t, keys["2026-12"]).Open(nil, keyNonce, wrapped, header[:prefix+7])
	if err != nil {
		t.Fatalf("the data key does not unwrap as documented: %v", err)
	}
	data := gcmUnder(t, hex.EncodeToString(dataKey))

	var plain []byte
	body := raw[hdrLen:]
	for i := 0; len(body) > 0; i++ {
		n := min(len(body), 5120+16)
		final := len(body) < 5120+16
		nonce, aad := chunkNonceAAD(header, i, final)
		p, err := data.Open(nil, nonce, body[:n], aad)
		if err != nil {
			t.Fatalf("chunk %d (final %v) does not open as documented: %v", i, final, err)
		}
		plain = append(plain, p...)
		body = body[n:]
	}

	var want [headerSize]byte
	putHeader(want[:], 0)
	le := binary.LittleEndian
	if !bytes.Equal(plain[:4], want[:4]) || !bytes.Equal(plain[8:40], want[8:40]) ||
		le.Uint32(plain[4:]) != 0xFFFFFFFF || le.Uint32(plain[40:]) != 0xFFFFFFFF-36 {
		t.Errorf("plaintext header % x, want a WAV header claiming the most a WAV holds", plain[:headerSize])
	}
	if len(plain) != headerSize+frames*frameBytes {
		t.Fatalf("%d bytes of plaintext, want %d", len(plain), headerSize+frames*frameBytes)
	}
	var l, r [media.FrameSamples]int16
	var frame [frameBytes]byte
	for n := range frames {
		tone(l[:], sealedLeftHz, n)
		tone(r[:], sealedRightHz, n)
		interleave(frame[:], l[:], 0)
		interleave(frame[:], r[:], 2)
		if !bytes.Equal(plain[headerSize+n*frameBytes:][:frameBytes], frame[:]) {
			t.Fatalf("frame %d differs in the plaintext", n)
		}
	}
}

// TestOpenSealedByHand opens files sealed by hand with chunk sizes a
// SealedWriter does not use: odd ones, so that chunks end inside sample
// frames and a cut file ends with a partial one, which the WAV leaves out.
func TestOpenSealedByHand(t *testing.T) {
	keys := newKeys(t, "k")
	kr := testKeyring(t, keys, "k", "k")
	var hdr [headerSize]byte
	putHeader(hdr[:], maxDataBytes)
	plain := append(hdr[:], make([]byte, 10003)...) // 2500 sample frames and 3 bytes
	for i := headerSize; i < len(plain); i++ {
		plain[i] = byte(i*7 + i>>8)
	}
	for _, c := range []struct {
		name              string
		chunkSize         int
		plain             []byte
		final, finalWhole bool
		wantData          int // bytes of samples in the WAV
		wantDecrypts      int // by OpenSealed: chunk 0 and the candidate for final
	}{
		{"odd chunks, final", 1001, plain, true, false, 10000, 2},
		{"odd chunks, cut", 1001, plain, false, false, (10 * 1001) - headerSize - 2, 2},
		{"cut to the first chunk", 1001, plain[:1001], false, false, 1001 - headerSize - 1, 2},
		{"an empty final chunk", 1001, plain[:3003], true, false, 3003 - headerSize - 3, 2},
		{"a whole final chunk", 1001, plain[:3003], true, true, 3003 - headerSize - 3, 2},
		{"one chunk holds all", 64 << 10, plain, true, false, 10000, 1},
		{"the smallest chunks", headerSize, plain[:1000], true, false, 956, 2},
	} {
		t.Run(c.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "hand"+SealedExt)
			writeFile(t, path, sealByHand(t, "k", keys["k"], c.chunkSize, c.plain, c.final, c.finalWhole))
			s, err := OpenSealed(path, kr)
			if err != nil {
				t.Fatal(err)
			}
			defer s.Close()
			if s.decrypted > c.wantDecrypts {
				t.Errorf("OpenSealed decrypted %d chunks, want at most %d", s.decrypted, c.wantDecrypts)
			}
			if s.Complete() != c.final || s.Size() != int64(headerSize+c.wantData) {
				t.Fatalf("complete %v, %d bytes; want complete %v, %d bytes",
					s.Complete(), s.Size(), c.final, headerSize+c.wantData)
			}
			b, err := io.ReadAll(s)
			if err != nil {
				t.Fatal(err)
			}
			putHeader(hdr[:], uint32(c.wantData))
			if !bytes.Equal(b[:headerSize], hdr[:]) || !bytes.Equal(b[headerSize:], plain[headerSize:headerSize+c.wantData]) {
				t.Error("the WAV read differs from the plaintext sealed, its header patched")
			}
		})
	}
}

// TestSealedNoncesDiffer records silence: chunks of equal plaintext must
// still differ on disk, which they would not if a nonce repeated.
func TestSealedNoncesDiffer(t *testing.T) {
	kr := testKeyring(t, newKeys(t, "k"), "k", "k")
	path := filepath.Join(t.TempDir(), "silence"+SealedExt)
	w, err := NewSealedWriter(path, kr, WriterConfig{})
	if err != nil {
		t.Fatal(err)
	}
	hdrLen := len(w.aad) - 9
	for range 40 {
		if err := w.WriteFrame(nil, nil); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	raw := readFile(t, path)
	seen := map[string]int{}
	for i := 1; i < 5; i++ { // chunks 1 to 4 hold nothing but zeros
		c := string(raw[hdrLen+i*(sealedChunkSize+gcmTagSize):][:sealedChunkSize])
		if j, ok := seen[c]; ok {
			t.Fatalf("chunks %d and %d of silence are sealed to the same bytes: a nonce repeats", j, i)
		}
		seen[c] = i
	}
}

func readFile(t *testing.T, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func writeFile(t *testing.T, path string, content []byte) {
	t.Helper()
	if err := os.WriteFile(path, content, 0o640); err != nil {
		t.Fatal(err)
	}
}
