package recordings

import (
	"bytes"
	"errors"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/sambung/sambung/media"
)

// The tones of the sealed recordings in these tests: the caller on the
// left, the other side on the right.
const (
	sealedLeftHz  = 440
	sealedRightHz = 1000
)

// writeSealedTones records frames frames of the two tones to a new sealed
// file and closes it.
func writeSealedTones(t testing.TB, path string, kr *Keyring, frames int, cfg WriterConfig) {
	t.Helper()
	w, err := NewSealedWriter(path, kr, cfg)
	if err != nil {
		t.Fatal(err)
	}
	var l, r [media.FrameSamples]int16
	for n := range frames {
		tone(l[:], sealedLeftHz, n)
		tone(r[:], sealedRightHz, n)
		if err := w.WriteFrame(l[:], r[:]); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
}

// decryptFile decrypts the sealed recording at path to a WAV file of its
// own, for tools and go-audio/wav to read.
func decryptFile(t *testing.T, path string, kr *Keyring) string {
	t.Helper()
	out := filepath.Join(t.TempDir(), strings.TrimSuffix(filepath.Base(path), SealedExt)+".wav")
	f, err := os.Create(out)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if err := DecryptTo(f, path, kr); err != nil {
		t.Fatal(err)
	}
	return out
}

// readSealed opens the sealed recording at path and reads all of it.
func readSealed(t *testing.T, path string, kr *Keyring) (*SealedFile, []byte) {
	t.Helper()
	s, err := OpenSealed(path, kr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	b, err := io.ReadAll(s)
	if err != nil {
		t.Fatal(err)
	}
	if int64(len(b)) != s.Size() {
		t.Fatalf("read %d bytes, Size says %d", len(b), s.Size())
	}
	return s, b
}

// checkToneSamples fails t unless x is exactly the tone at freq the writer
// was given, from its first sample: the sealed path is lossless.
func checkToneSamples(t *testing.T, side string, x []int, freq float64) {
	t.Helper()
	var frame [media.FrameSamples]int16
	for i, v := range x {
		if i%media.FrameSamples == 0 {
			tone(frame[:], freq, i/media.FrameSamples)
		}
		if want := int(frame[i%media.FrameSamples]); v != want {
			t.Fatalf("%s: sample %d is %d, want %d", side, i, v, want)
		}
	}
}

func TestSealedTones(t *testing.T) {
	for _, fsync := range []bool{false, true} {
		name := map[bool]string{false: "PageCache", true: "Fsync"}[fsync]
		t.Run(name, func(t *testing.T) {
			const frames = 60 // 1.2 s: whole periods of both tones
			kr := testKeyring(t, newKeys(t, "2026-12"), "2026-12", "2026-12")
			path := filepath.Join(t.TempDir(), "call"+SealedExt)
			w, err := NewSealedWriter(path, kr, WriterConfig{SyncEvery: 10 * media.FrameDuration, Fsync: fsync})
			if err != nil {
				t.Fatal(err)
			}
			hdrLen := int64(len(w.aad) - 9)
			var l, r [media.FrameSamples]int16
			for n := range frames {
				tone(l[:], sealedLeftHz, n)
				tone(r[:], sealedRightHz, n)
				if err := w.WriteFrame(l[:], r[:]); err != nil {
					t.Fatal(err)
				}
				// Only whole chunks reach the file, as soon as they fill.
				plain := int64(headerSize + (n+1)*frameBytes)
				want := hdrLen + plain/sealedChunkSize*(sealedChunkSize+gcmTagSize)
				if fi, err := os.Stat(path); err != nil {
					t.Fatal(err)
				} else if fi.Size() != want {
					t.Fatalf("after frame %d the file holds %d bytes, want %d (%d whole chunks)",
						n+1, fi.Size(), want, plain/sealedChunkSize)
				}
			}
			if got, want := w.Duration(), frames*media.FrameDuration; got != want {
				t.Errorf("Duration = %v, want %v", got, want)
			}
			if err := w.Close(); err != nil {
				t.Fatal(err)
			}

			s, err := OpenSealed(path, kr)
			if err != nil {
				t.Fatal(err)
			}
			defer s.Close()
			const dataBytes = frames * frameBytes
			if !s.Complete() || s.KeyID() != "2026-12" || s.Size() != headerSize+dataBytes ||
				s.Duration() != frames*media.FrameDuration {
				t.Errorf("OpenSealed: complete %v, key %q, %d bytes, %v; want complete, 2026-12, %d bytes, %v",
					s.Complete(), s.KeyID(), s.Size(), s.Duration(), headerSize+dataBytes, frames*media.FrameDuration)
			}
			wav := decryptFile(t, path, kr)
			if riff, data := headerSizes(t, wav); data != dataBytes || riff != dataBytes+36 {
				t.Errorf("decrypted header: riff=%d data=%d, want %d and %d", riff, data, dataBytes+36, dataBytes)
			}
			d := decode(t, wav)
			if d.rate != media.Rate || d.bits != 16 || len(d.left) != frames*media.FrameSamples {
				t.Fatalf("decoded %d Hz %d-bit, %d sample frames; want 8000 Hz 16-bit, %d",
					d.rate, d.bits, len(d.left), frames*media.FrameSamples)
			}
			checkTone(t, "left", d.left, sealedLeftHz, sealedRightHz)
			checkTone(t, "right", d.right, sealedRightHz, sealedLeftHz)
			checkToneSamples(t, "left", d.left, sealedLeftHz)
			checkToneSamples(t, "right", d.right, sealedRightHz)
		})
	}
}

func TestSealedEmpty(t *testing.T) {
	kr := testKeyring(t, newKeys(t, "a"), "a", "a")
	path := filepath.Join(t.TempDir(), "empty"+SealedExt)
	writeSealedTones(t, path, kr, 0, WriterConfig{})
	s, b := readSealed(t, path, kr)
	if !s.Complete() || s.Duration() != 0 || len(b) != headerSize {
		t.Errorf("a recording of nothing: complete %v, %v, %d bytes; want complete, 0 s, a bare header", s.Complete(), s.Duration(), len(b))
	}
}

func TestSealedUnreadableWithoutKey(t *testing.T) {
	keys := newKeys(t, "A", "B")
	kr := testKeyring(t, keys, "A", "A")
	path := filepath.Join(t.TempDir(), "secret"+SealedExt)
	writeSealedTones(t, path, kr, 20, WriterConfig{})

	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	// Nothing of the first frames' samples, nor of the WAV header, is on
	// disk in the clear: no 16-byte run of them appears anywhere.
	var l, r [media.FrameSamples]int16
	var pcm []byte
	for n := range 2 {
		tone(l[:], sealedLeftHz, n)
		tone(r[:], sealedRightHz, n)
		var frame [frameBytes]byte
		interleave(frame[:], l[:], 0)
		interleave(frame[:], r[:], 2)
		pcm = append(pcm, frame[:]...)
	}
	for off := 0; off+16 <= len(pcm); off += blockAlign {
		if bytes.Contains(raw, pcm[off:off+16]) {
			t.Fatalf("the file holds the samples at byte %d of the audio in the clear", off)
		}
	}
	if bytes.Contains(raw, []byte("WAVEfmt ")) {
		t.Error("the file holds the WAV header in the clear")
	}

	// A keyring without the file's key says which key the file needs.
	_, err = OpenSealed(path, testKeyring(t, keys, "B", "B"))
	if !errors.Is(err, ErrNoKey) || !strings.Contains(err.Error(), `master key "A"`) {
		t.Errorf("OpenSealed without key A: %v; want ErrNoKey naming \"A\"", err)
	}
	// A different key under the same id does not open it either.
	wrong := testKeyring(t, map[string]string{"A": keys["B"]}, "A", "A")
	_, err = OpenSealed(path, wrong)
	if !errors.Is(err, ErrTampered) || !strings.Contains(err.Error(), `master key "A"`) {
		t.Errorf("OpenSealed with another key under id A: %v; want ErrTampered naming \"A\"", err)
	}
	if err := DecryptTo(io.Discard, path, testKeyring(t, keys, "B", "B")); !errors.Is(err, ErrNoKey) {
		t.Errorf("DecryptTo without key A: %v, want ErrNoKey", err)
	}
}

func TestSealedKeyRotation(t *testing.T) {
	keys := newKeys(t, "A", "B")
	dir := t.TempDir()
	first := filepath.Join(dir, "first"+SealedExt)
	second := filepath.Join(dir, "second"+SealedExt)
	writeSealedTones(t, first, testKeyring(t, keys, "A", "A"), 25, WriterConfig{})
	rotated := testKeyring(t, keys, "B", "A", "B")
	writeSealedTones(t, second, rotated, 25, WriterConfig{})

	for path, id := range map[string]string{first: "A", second: "B"} {
		s, _ := readSealed(t, path, rotated)
		if s.KeyID() != id || !s.Complete() || s.Duration() != 25*media.FrameDuration {
			t.Errorf("%s after rotation: key %q, complete %v, %v; want key %q, complete, 500ms",
				filepath.Base(path), s.KeyID(), s.Complete(), s.Duration(), id)
		}
		d := decode(t, decryptFile(t, path, rotated))
		checkToneSamples(t, filepath.Base(path)+" left", d.left, sealedLeftHz)
	}
	raw, err := os.ReadFile(second)
	if err != nil {
		t.Fatal(err)
	}
	if h, err := parseSealedHeader(raw); err != nil || h.keyID != "B" {
		t.Errorf("header of the second file: key id %q (%v), want B", h.keyID, err)
	}

	onlyB := testKeyring(t, keys, "B", "B")
	if _, err := OpenSealed(first, onlyB); !errors.Is(err, ErrNoKey) ||
		!strings.Contains(err.Error(), first) || !strings.Contains(err.Error(), `needs master key "A"`) {
		t.Errorf("the first file with only key B: %v; want ErrNoKey naming the file and key \"A\"", err)
	}
	if _, b := readSealed(t, second, onlyB); len(b) != headerSize+25*frameBytes {
		t.Errorf("the second file with only key B: %d bytes", len(b))
	}
}

func TestOpenSealedRefuses(t *testing.T) {
	dir := t.TempDir()
	kr := testKeyring(t, newKeys(t, "k"), "k", "k")
	wav := filepath.Join(dir, "plain.wav")
	writeTones(t, wav, 5)
	empty := filepath.Join(dir, "empty"+SealedExt)
	if err := os.WriteFile(empty, nil, 0o640); err != nil {
		t.Fatal(err)
	}
	for _, path := range []string{wav, empty} {
		if _, err := OpenSealed(path, kr); !errors.Is(err, ErrNotSealed) || !strings.Contains(err.Error(), path) {
			t.Errorf("OpenSealed(%s): %v; want ErrNotSealed naming the file", filepath.Base(path), err)
		}
	}
	if _, err := OpenSealed(filepath.Join(dir, "none"+SealedExt), kr); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("OpenSealed of a missing file: %v, want fs.ErrNotExist", err)
	}

	sealed := filepath.Join(dir, "call"+SealedExt)
	writeSealedTones(t, sealed, kr, 1, WriterConfig{})
	for path, want := range map[string]bool{sealed: true, wav: false, empty: false, dir: false, filepath.Join(dir, "none"): false} {
		if IsSealed(path) != want {
			t.Errorf("IsSealed(%s) = %v, want %v", path, !want, want)
		}
	}
}

func TestSealedWriterLikeWriter(t *testing.T) {
	kr := testKeyring(t, newKeys(t, "k"), "k", "k")
	dir := filepath.Join(t.TempDir(), "2026", "12", "01")
	path := filepath.Join(dir, "call"+SealedExt)
	w, err := NewSealedWriter(path, kr, WriterConfig{})
	if err != nil {
		t.Fatal(err)
	}
	var l, r [media.FrameSamples]int16
	tone(l[:], 1000, 0)
	tone(r[:], 500, 0)
	long := make([]int16, media.FrameSamples+1)
	if err := w.WriteFrame(long, nil); !errors.Is(err, ErrFrameTooLong) {
		t.Errorf("left of %d samples: %v, want ErrFrameTooLong", len(long), err)
	}
	if err := w.WriteFrame(nil, long); !errors.Is(err, ErrFrameTooLong) {
		t.Errorf("right of %d samples: %v, want ErrFrameTooLong", len(long), err)
	}
	w.samples = (maxDataBytes / blockAlign) - media.FrameSamples + 1 // as if 37 hours in
	if err := w.WriteFrame(nil, nil); !errors.Is(err, ErrTooLong) {
		t.Errorf("frame past the WAV size limit: %v, want ErrTooLong", err)
	}
	w.samples = 0
	if err := w.WriteFrame(l[:], nil); err != nil { // the other side says nothing
		t.Fatal(err)
	}
	if err := w.WriteFrame(l[:100], r[:50]); err != nil {
		t.Fatal(err)
	}
	if w.Duration() != 2*media.FrameDuration {
		t.Errorf("Duration %v after two frames and three refused", w.Duration())
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Errorf("second Close: %v, want nil", err)
	}
	if err := w.WriteFrame(nil, nil); !errors.Is(err, os.ErrClosed) {
		t.Errorf("WriteFrame after Close: %v, want os.ErrClosed", err)
	}

	d := decode(t, decryptFile(t, path, kr))
	const n = media.FrameSamples
	if len(d.left) != 2*n {
		t.Fatalf("decoded %d sample frames, want two whole frames (%d)", len(d.left), 2*n)
	}
	for i := range n {
		wantL, wantR := 0, 0
		if i < 100 {
			wantL = int(l[i])
		}
		if i < 50 {
			wantR = int(r[i])
		}
		if d.left[i] != int(l[i]) || d.right[i] != 0 || d.left[n+i] != wantL || d.right[n+i] != wantR {
			t.Fatalf("sample %d: frame 1 %d/%d, frame 2 %d/%d; want %d/0 and %d/%d",
				i, d.left[i], d.right[i], d.left[n+i], d.right[n+i], l[i], wantL, wantR)
		}
	}

	// The umask may take bits away, never add them.
	for _, c := range []struct {
		path string
		max  fs.FileMode
	}{{path, 0o640}, {dir, 0o750}, {filepath.Dir(dir), 0o750}} {
		fi, err := os.Stat(c.path)
		if err != nil {
			t.Fatal(err)
		}
		if perm := fi.Mode().Perm(); perm&^c.max != 0 || perm&0o600 != 0o600 {
			t.Errorf("%s: mode %v, want at most %v", c.path, perm, c.max)
		}
	}
	before, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := NewSealedWriter(path, kr, WriterConfig{}); !errors.Is(err, fs.ErrExist) {
		t.Errorf("NewSealedWriter over an existing recording: %v, want fs.ErrExist", err)
	}
	if after, _ := os.ReadFile(path); !bytes.Equal(before, after) {
		t.Error("NewSealedWriter changed an existing recording")
	}
	if _, err := NewSealedWriter(filepath.Join(dir, "neg"+SealedExt), kr, WriterConfig{SyncEvery: -time.Second}); err == nil {
		t.Error("negative SyncEvery accepted")
	}
	if _, err := NewSealedWriter(filepath.Join(dir, "nokeys"+SealedExt), nil, WriterConfig{}); err == nil {
		t.Error("a nil keyring accepted")
	}
}

func TestSealedWriteErrorSticks(t *testing.T) {
	kr := testKeyring(t, newKeys(t, "k"), "k", "k")
	path := filepath.Join(t.TempDir(), "broken"+SealedExt)
	w, err := NewSealedWriter(path, kr, WriterConfig{})
	if err != nil {
		t.Fatal(err)
	}
	w.f.Close() // the disk goes away under the writer
	var first error
	for range sealedChunkSize/frameBytes + 1 {
		if first = w.WriteFrame(nil, nil); first != nil {
			break
		}
	}
	if first == nil {
		t.Fatal("writes to a closed file all succeeded")
	}
	if err := w.WriteFrame(nil, nil); err != first {
		t.Errorf("next WriteFrame: %v, want the first error again (%v)", err, first)
	}
	if err := w.Close(); err == nil {
		t.Error("Close after a write error returned nil")
	}
	// No final chunk was sealed: the file reads as cut short.
	s, _ := readSealed(t, path, kr)
	if s.Complete() || s.Duration() != 0 {
		t.Errorf("after the write error: complete %v, %v; want cut short, empty", s.Complete(), s.Duration())
	}
}

// TestSealedWriteFrameAllocs keeps the proof that the steady state allocates
// nothing, sealing and fsyncs included (SyncEvery is 5 frames: an fsync
// after every chunk).
func TestSealedWriteFrameAllocs(t *testing.T) {
	kr := testKeyring(t, newKeys(t, "k"), "k", "k")
	w, err := NewSealedWriter(filepath.Join(t.TempDir(), "allocs"+SealedExt), kr,
		WriterConfig{SyncEvery: 5 * media.FrameDuration, Fsync: true})
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	var l, r [media.FrameSamples]int16
	tone(l[:], 1000, 0)
	tone(r[:], 500, 0)
	// Each run writes a chunk's worth of frames, so that it seals one:
	// AllocsPerRun rounds its average down, and an allocation per chunk
	// would read as 0 per frame.
	const perChunk = sealedChunkSize / frameBytes
	allocs := testing.AllocsPerRun(50, func() {
		for range perChunk {
			if err := w.WriteFrame(l[:], r[:]); err != nil {
				t.Fatal(err)
			}
		}
	})
	if allocs != 0 {
		t.Errorf("WriteFrame allocates %.1f times per chunk of %d frames, want 0", allocs, perChunk)
	}
	if w.index < 50 || w.synced < w.written-sealedChunkSize {
		t.Errorf("%d chunks sealed, %d of %d bytes fsynced: the measurement did not cover sealing and fsyncs",
			w.index, w.synced, w.written)
	}
}
