package recordings

import (
	"bytes"
	"errors"
	"io/fs"
	"math"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/sambung/sambung/media"
)

func TestWriterTones(t *testing.T) {
	for _, fsync := range []bool{false, true} {
		name := map[bool]string{false: "PageCache", true: "Fsync"}[fsync]
		t.Run(name, func(t *testing.T) {
			const (
				frames     = 60 // 1.2 s
				syncFrames = 10 // SyncEvery 200 ms
			)
			path := filepath.Join(t.TempDir(), "call.wav")
			w, err := NewWriter(path, WriterConfig{SyncEvery: syncFrames * media.FrameDuration, Fsync: fsync})
			if err != nil {
				t.Fatal(err)
			}
			if riff, data := headerSizes(t, path); riff != 36 || data != 0 {
				t.Fatalf("new file: header sizes riff=%d data=%d, want 36 and 0", riff, data)
			}
			var l, r [media.FrameSamples]int16
			for n := range frames {
				tone(l[:], 1000, n)
				tone(r[:], 500, n)
				if err := w.WriteFrame(l[:], r[:]); err != nil {
					t.Fatal(err)
				}
				// The header describes the audio up to the last sync point,
				// counted in samples: these frames take microseconds of
				// wall-clock time, far less than SyncEvery.
				written := n + 1
				want := uint32(written/syncFrames*syncFrames) * frameBytes
				riff, data := headerSizes(t, path)
				if data != want || riff != want+36 {
					t.Fatalf("after frame %d (writer open): header riff=%d data=%d, want %d and %d",
						written, riff, data, want+36, want)
				}
				fi, err := os.Stat(path)
				if err != nil {
					t.Fatal(err)
				}
				if fi.Size() < int64(headerSize+data) {
					t.Fatalf("after frame %d: header claims %d bytes of data, the file holds %d",
						written, data, fi.Size()-headerSize)
				}
			}
			if got, want := w.Duration(), frames*media.FrameDuration; got != want {
				t.Errorf("Duration = %v, want %v", got, want)
			}
			if err := w.Close(); err != nil {
				t.Fatal(err)
			}

			const dataBytes = frames * frameBytes
			if riff, data := headerSizes(t, path); data != dataBytes || riff != dataBytes+36 {
				t.Errorf("after Close: header riff=%d data=%d, want %d and %d", riff, data, dataBytes+36, dataBytes)
			}
			if fi, err := os.Stat(path); err != nil {
				t.Fatal(err)
			} else if fi.Size() != headerSize+dataBytes {
				t.Errorf("file size %d, want %d", fi.Size(), headerSize+dataBytes)
			}

			d := decode(t, path)
			if d.rate != 8000 || d.bits != 16 {
				t.Errorf("format: %d Hz %d-bit, want 8000 Hz 16-bit", d.rate, d.bits)
			}
			if len(d.left) != frames*media.FrameSamples || len(d.right) != len(d.left) {
				t.Fatalf("decoded %d/%d sample frames, want %d", len(d.left), len(d.right), frames*media.FrameSamples)
			}
			checkTone(t, "left", d.left, 1000, 500)
			checkTone(t, "right", d.right, 500, 1000)
		})
	}
}

// checkTone fails t unless x carries the tone at freq at the test amplitude
// and nearly nothing at other.
func checkTone(t *testing.T, side string, x []int, freq, other float64) {
	t.Helper()
	if a := amplitude(x, freq); math.Abs(a-toneAmp) > 0.02*toneAmp {
		t.Errorf("%s: %.0f Hz at amplitude %.0f, want %d", side, freq, a, toneAmp)
	}
	if a := amplitude(x, other); a > 0.01*toneAmp {
		t.Errorf("%s: %.0f Hz at amplitude %.0f, want silence there", side, other, a)
	}
}

func TestWriteFramePadsShortChannels(t *testing.T) {
	path := filepath.Join(t.TempDir(), "pad.wav")
	w, err := NewWriter(path, WriterConfig{})
	if err != nil {
		t.Fatal(err)
	}
	var l, r [media.FrameSamples]int16
	tone(l[:], 1000, 0)
	tone(r[:], 500, 0)
	if err := w.WriteFrame(l[:], nil); err != nil { // the other side says nothing
		t.Fatal(err)
	}
	if err := w.WriteFrame(l[:100], r[:50]); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	d := decode(t, path)
	if len(d.left) != 2*media.FrameSamples || len(d.right) != 2*media.FrameSamples {
		t.Fatalf("decoded %d/%d samples, want two whole frames (%d)", len(d.left), len(d.right), 2*media.FrameSamples)
	}
	const n = media.FrameSamples
	for i := range n {
		if d.left[i] != int(l[i]) || d.right[i] != 0 {
			t.Fatalf("frame 1 sample %d: left %d right %d, want %d and silence", i, d.left[i], d.right[i], l[i])
		}
		wantL, wantR := 0, 0
		if i < 100 {
			wantL = int(l[i])
		}
		if i < 50 {
			wantR = int(r[i])
		}
		if d.left[n+i] != wantL || d.right[n+i] != wantR {
			t.Fatalf("frame 2 sample %d: left %d right %d, want %d and %d", i, d.left[n+i], d.right[n+i], wantL, wantR)
		}
	}
}

func TestWriteFrameRefuses(t *testing.T) {
	path := filepath.Join(t.TempDir(), "refuse.wav")
	w, err := NewWriter(path, WriterConfig{})
	if err != nil {
		t.Fatal(err)
	}
	long := make([]int16, media.FrameSamples+1)
	if err := w.WriteFrame(long, nil); !errors.Is(err, ErrFrameTooLong) {
		t.Errorf("left of %d samples: %v, want ErrFrameTooLong", len(long), err)
	}
	if err := w.WriteFrame(nil, long); !errors.Is(err, ErrFrameTooLong) {
		t.Errorf("right of %d samples: %v, want ErrFrameTooLong", len(long), err)
	}
	if w.Duration() != 0 {
		t.Errorf("refused frames counted: Duration %v", w.Duration())
	}

	w.samples = (maxDataBytes / blockAlign) - media.FrameSamples + 1 // as if 37 hours in
	if err := w.WriteFrame(nil, nil); !errors.Is(err, ErrTooLong) {
		t.Errorf("frame past the WAV size limit: %v, want ErrTooLong", err)
	}
	w.samples = 0

	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Errorf("second Close: %v, want nil", err)
	}
	if err := w.WriteFrame(nil, nil); !errors.Is(err, os.ErrClosed) {
		t.Errorf("WriteFrame after Close: %v, want os.ErrClosed", err)
	}
	if riff, data := headerSizes(t, path); riff != 36 || data != 0 {
		t.Errorf("header after refusals: riff=%d data=%d, want 36 and 0", riff, data)
	}

	if _, err := NewWriter(path, WriterConfig{SyncEvery: -time.Second}); err == nil {
		t.Error("negative SyncEvery accepted")
	}
}

func TestWriteErrorSticks(t *testing.T) {
	w, err := NewWriter(filepath.Join(t.TempDir(), "broken.wav"), WriterConfig{})
	if err != nil {
		t.Fatal(err)
	}
	w.f.Close() // the disk goes away under the writer
	var first error
	for range bufferedFrames + 1 {
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
}

func TestNewWriterFiles(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "2026", "11", "23")
	path := filepath.Join(dir, "call.wav")
	w, err := NewWriter(path, WriterConfig{})
	if err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
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
	if _, err := NewWriter(path, WriterConfig{}); !errors.Is(err, fs.ErrExist) {
		t.Errorf("NewWriter over an existing recording: %v, want fs.ErrExist", err)
	}
	if after, _ := os.ReadFile(path); !bytes.Equal(before, after) {
		t.Error("NewWriter changed an existing recording")
	}
}

// TestWriteFrameAllocs keeps the proof that the steady state allocates
// nothing, header fix-ups included (a sync every 5 frames here).
func TestWriteFrameAllocs(t *testing.T) {
	w, err := NewWriter(filepath.Join(t.TempDir(), "allocs.wav"), WriterConfig{SyncEvery: 5 * media.FrameDuration})
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	var l, r [media.FrameSamples]int16
	tone(l[:], 1000, 0)
	tone(r[:], 500, 0)
	allocs := testing.AllocsPerRun(200, func() {
		if err := w.WriteFrame(l[:], r[:]); err != nil {
			t.Fatal(err)
		}
	})
	if allocs != 0 {
		t.Errorf("WriteFrame allocates %.1f times per frame, want 0", allocs)
	}
	if w.synced < 200*media.FrameSamples-5*media.FrameSamples {
		t.Errorf("only %d samples synced: the measurement did not cover the header fix-ups", w.synced)
	}
}
