package recordings

import (
	"errors"
	"io"
	"os"
	"path/filepath"
	"testing"
)

// fuzzKey is the master key the fuzz seeds are sealed with: fixed, so that
// seeds saved under testdata/fuzz stay meaningful.
const fuzzKey = "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f"

// FuzzOpenSealed feeds OpenSealed arbitrary files, as a crash, a damaged
// disk or someone with write access may leave them: it must never panic nor
// allocate by what a header claims, and what it opens must read as the WAV
// it says it is, or fail with ErrTampered.
func FuzzOpenSealed(f *testing.F) {
	kr, err := LoadKeyring([]KeySpec{{ID: "fuzz", Env: "KEY"}}, "fuzz", func(string) string { return fuzzKey })
	if err != nil {
		f.Fatal(err)
	}
	for _, frames := range []int{0, 3, 10} { // a final chunk only; then one whole chunk before it
		path := filepath.Join(f.TempDir(), "seed"+SealedExt)
		os.Remove(path)
		writeSealedTones(f, path, kr, frames, WriterConfig{})
		raw, err := os.ReadFile(path)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(raw)
		hdr, err := parseSealedHeader(raw)
		if err != nil {
			f.Fatal(err)
		}
		n := len(hdr.raw)
		f.Add(raw[:n])
		f.Add(raw[:n-1])
		f.Add(raw[:len(raw)-1])
		f.Add(raw[:n+gcmTagSize])
		tampered := append([]byte(nil), raw...)
		tampered[len(tampered)-gcmTagSize-1] ^= 0x80
		f.Add(tampered)
		big := append([]byte(nil), raw...)
		big[9], big[10] = 0x7f, 0xff // a chunk size of 2 GiB
		f.Add(big)
	}
	f.Add([]byte(sealedMagic))
	f.Add([]byte{})

	f.Fuzz(func(t *testing.T, content []byte) {
		path := filepath.Join(t.TempDir(), "fuzz"+SealedExt)
		if err := os.WriteFile(path, content, 0o640); err != nil {
			t.Fatal(err)
		}
		s, err := OpenSealed(path, kr)
		if err != nil {
			return
		}
		defer s.Close()
		if s.Size() < headerSize || (s.Size()-headerSize)%blockAlign != 0 || s.Duration() < 0 {
			t.Fatalf("opened as %d bytes, %v", s.Size(), s.Duration())
		}
		b, err := io.ReadAll(s)
		if err != nil {
			if !errors.Is(err, ErrTampered) {
				t.Fatalf("read: %v, want nil or ErrTampered", err)
			}
			return
		}
		if int64(len(b)) != s.Size() {
			t.Fatalf("read %d bytes, Size says %d", len(b), s.Size())
		}
		if riff, data := headerSizes(t, decryptTemp(t, b)); int64(riff) != s.Size()-8 || int64(data) != s.Size()-headerSize {
			t.Fatalf("header sizes riff=%d data=%d in a WAV of %d bytes", riff, data, s.Size())
		}
	})
}

// decryptTemp writes a decrypted WAV to a temp file for the helpers that
// read files.
func decryptTemp(t *testing.T, wav []byte) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "out.wav")
	if err := os.WriteFile(path, wav, 0o640); err != nil {
		t.Fatal(err)
	}
	return path
}
