package recordings

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/sambung/sambung/media"
)

// tamperFixture is a sealed recording of 40 frames: five whole chunks and a
// final one holding 44 bytes, with its plaintext and where its chunks start.
type tamperFixture struct {
	kr     *Keyring
	path   string
	raw    []byte // the file
	wav    []byte // what OpenSealed reads from it untouched
	hdrLen int64
}

// chunkAt is where chunk i starts in the file.
func (f tamperFixture) chunkAt(i int64) int64 {
	return f.hdrLen + i*(sealedChunkSize+gcmTagSize)
}

// variant writes content as a new file and returns its path.
func (f tamperFixture) variant(t *testing.T, content []byte) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "variant"+SealedExt)
	if err := os.WriteFile(path, content, 0o640); err != nil {
		t.Fatal(err)
	}
	return path
}

func newTamperFixture(t *testing.T) tamperFixture {
	t.Helper()
	kr := testKeyring(t, newKeys(t, "k"), "k", "k")
	path := filepath.Join(t.TempDir(), "call"+SealedExt)
	writeSealedTones(t, path, kr, 40, WriterConfig{})
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	h, err := parseSealedHeader(raw)
	if err != nil {
		t.Fatal(err)
	}
	_, wav := readSealed(t, path, kr)
	f := tamperFixture{kr: kr, path: path, raw: raw, wav: wav, hdrLen: int64(len(h.raw))}
	if want := f.chunkAt(5) + headerSize + gcmTagSize; int64(len(raw)) != want {
		t.Fatalf("fixture of %d bytes, want %d: five whole chunks and a final one of 44 bytes", len(raw), want)
	}
	return f
}

func TestSealedTamper(t *testing.T) {
	f := newTamperFixture(t)

	// A byte flipped in chunk 2: the chunks before it still read, and the
	// error names the chunk and where it starts.
	flipped := bytes.Clone(f.raw)
	flipped[f.chunkAt(2)+100] ^= 0x01
	s, err := OpenSealed(f.variant(t, flipped), f.kr)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	buf := make([]byte, 2*sealedChunkSize)
	n, err := s.ReadAt(buf, sealedChunkSize)
	wantErr := fmt.Sprintf("chunk 2 at byte %d", f.chunkAt(2))
	if !errors.Is(err, ErrTampered) || !strings.Contains(err.Error(), wantErr) {
		t.Errorf("reading across the tampered chunk: %v; want ErrTampered saying %q", err, wantErr)
	}
	if n != sealedChunkSize || !bytes.Equal(buf[:n], f.wav[sealedChunkSize:2*sealedChunkSize]) {
		t.Errorf("read %d bytes before the tampered chunk, want chunk 1 whole (%d)", n, sealedChunkSize)
	}
	if _, err := s.ReadAt(buf, 3*sealedChunkSize); err != nil {
		t.Errorf("chunk 3, after the tampered one: %v", err)
	}

	// Two chunks swapped: each is authentic, but not at that place.
	swapped := bytes.Clone(f.raw)
	c1, c3 := f.chunkAt(1), f.chunkAt(3)
	const whole = sealedChunkSize + gcmTagSize
	copy(swapped[c1:c1+whole], f.raw[c3:c3+whole])
	copy(swapped[c3:c3+whole], f.raw[c1:c1+whole])
	s2, err := OpenSealed(f.variant(t, swapped), f.kr)
	if err != nil {
		t.Fatal(err)
	}
	defer s2.Close()
	if _, err := io.ReadAll(s2); !errors.Is(err, ErrTampered) || !strings.Contains(err.Error(), "chunk 1 at byte") {
		t.Errorf("chunks 1 and 3 swapped: %v; want ErrTampered at chunk 1", err)
	}

	// What OpenSealed itself checks: the header and chunk 0.
	for _, c := range []struct {
		name string
		at   int64
		want error
		says string
	}{
		{"chunk size", 10, ErrTampered, `master key "k"`},
		{"key nonce", f.hdrLen - wrappedKeySize - 1, ErrTampered, `master key "k"`},
		{"wrapped key", f.hdrLen - 1, ErrTampered, `master key "k"`},
		{"key id", int64(sealedPrefixSize), ErrNoKey, "needs master key"},
		{"version", 8, ErrNotSealed, "format version"},
		{"magic", 0, ErrNotSealed, "not a sealed recording"},
		{"chunk 0", f.chunkAt(0) + 7, ErrTampered, fmt.Sprintf("chunk 0 at byte %d", f.hdrLen)},
	} {
		b := bytes.Clone(f.raw)
		b[c.at] ^= 0x01
		_, err := OpenSealed(f.variant(t, b), f.kr)
		if !errors.Is(err, c.want) || !strings.Contains(err.Error(), c.says) {
			t.Errorf("%s altered: %v; want %v saying %q", c.name, err, c.want, c.says)
		}
	}
}

func TestSealedTruncated(t *testing.T) {
	f := newTamperFixture(t)
	for _, c := range []struct {
		name     string
		size     int64
		complete bool
		chunks   int64 // whole plaintext chunks left
	}{
		{"whole", int64(len(f.raw)), true, -1},
		{"final chunk torn", int64(len(f.raw)) - 1, false, 5},
		{"final chunk missing", f.chunkAt(5), false, 5},
		{"mid chunk 3", f.chunkAt(3) + 1000, false, 3},
		{"chunk 3 down to a tag's size", f.chunkAt(3) + gcmTagSize, false, 3},
		{"chunk 3 shorter than a tag", f.chunkAt(3) + 10, false, 3},
		{"at the chunk 3 boundary", f.chunkAt(3), false, 3},
		{"mid chunk 0", f.chunkAt(0) + 100, false, 0},
		{"header only", f.hdrLen, false, 0},
	} {
		t.Run(c.name, func(t *testing.T) {
			path := f.variant(t, f.raw[:c.size])
			s, b := readSealed(t, path, f.kr)
			want := int64(len(f.wav))
			if c.chunks >= 0 {
				data := max(c.chunks*sealedChunkSize-headerSize, 0)
				want = headerSize + data - data%blockAlign
			}
			if s.Complete() != c.complete || s.Size() != want {
				t.Fatalf("complete %v, %d bytes; want complete %v, %d bytes", s.Complete(), s.Size(), c.complete, want)
			}
			// The audio is what the whole file holds, up to the cut.
			if !bytes.Equal(b[headerSize:], f.wav[headerSize:want]) {
				t.Error("the audio differs from the untouched file's")
			}
			var wantHdr [headerSize]byte
			putHeader(wantHdr[:], uint32(want-headerSize))
			if !bytes.Equal(b[:headerSize], wantHdr[:]) {
				t.Errorf("header % x, want % x", b[:headerSize], wantHdr)
			}
			if got := s.Duration(); got != time.Duration((want-headerSize)/blockAlign)*time.Second/media.Rate {
				t.Errorf("Duration %v for %d bytes", got, want)
			}
		})
	}
	if _, err := OpenSealed(f.variant(t, f.raw[:f.hdrLen-1]), f.kr); !errors.Is(err, ErrNotSealed) {
		t.Errorf("cut inside the header: %v, want ErrNotSealed", err)
	}
}

func TestRepairDirSkipsSealed(t *testing.T) {
	f := newTamperFixture(t)
	dir := t.TempDir()
	complete := filepath.Join(dir, "complete"+SealedExt)
	cut := filepath.Join(dir, "2026", "cut"+SealedExt)
	for path, content := range map[string][]byte{complete: f.raw, cut: f.raw[:f.chunkAt(3)+1000]} {
		if err := os.MkdirAll(filepath.Dir(path), 0o750); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, content, 0o640); err != nil {
			t.Fatal(err)
		}
	}
	rep, err := RepairDir(dir, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	if rep.Checked != 0 {
		t.Errorf("RepairDir checked %d files, want 0: sealed files are not WAVs to repair", rep.Checked)
	}
	for path, want := range map[string][]byte{complete: f.raw, cut: f.raw[:f.chunkAt(3)+1000]} {
		if got, err := os.ReadFile(path); err != nil || !bytes.Equal(got, want) {
			t.Errorf("RepairDir changed %s (%v)", path, err)
		}
	}
}
