package recordings

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/go-audio/wav"
)

// FuzzRepair feeds Repair arbitrary files, as a crash or a stray file in the
// recordings directory may leave them: it must never panic, and a file it
// repairs must come out healthy and consistent.
func FuzzRepair(f *testing.F) {
	var hdr [headerSize]byte
	putHeader(hdr[:], 8)
	healthy := append(hdr[:], 1, 0, 2, 0, 3, 0, 4, 0)
	f.Add(healthy)
	f.Add(healthy[:headerSize+5])
	zero := append([]byte(nil), healthy...)
	copy(zero[riffSizeOffset:], "\x00\x00\x00\x00")
	copy(zero[dataSizeOffset:], "\x00\x00\x00\x00")
	f.Add(zero)
	f.Add(append(append([]byte(nil), healthy...), "LIST\x04\x00\x00\x00INFO"...))
	f.Add(healthy[:20])

	f.Fuzz(func(t *testing.T, content []byte) {
		path := filepath.Join(t.TempDir(), "fuzz.wav")
		if err := os.WriteFile(path, content, 0o640); err != nil {
			t.Fatal(err)
		}
		fixed, dur, err := Repair(path)
		if err != nil {
			return
		}
		if dur < 0 {
			t.Fatalf("negative duration %v", dur)
		}
		if fixed {
			again, dur2, err := Repair(path)
			if err != nil || again || dur2 != dur {
				t.Fatalf("second Repair: fixed=%v dur=%v err=%v; want the healthy file of %v the first left", again, dur2, err, dur)
			}
		} else if after, _ := os.ReadFile(path); !bytes.Equal(after, content) {
			t.Fatal("a file found healthy was changed")
		}
		fi, err := os.Stat(path)
		if err != nil {
			t.Fatal(err)
		}
		if riff, _ := headerSizes(t, path); int64(riff) != fi.Size()-8 {
			t.Fatalf("RIFF size %d in a file of %d bytes", riff, fi.Size())
		}
		// go-audio/wav's decoder reads as much audio as Repair says is there.
		r, err := os.Open(path)
		if err != nil {
			t.Fatal(err)
		}
		defer r.Close()
		d := wav.NewDecoder(r)
		buf, err := d.FullPCMBuffer()
		if err != nil {
			t.Fatalf("go-audio/wav cannot read the repaired file: %v", err)
		}
		frames := len(buf.Data) / int(d.NumChans)
		if got := time.Duration(frames) * time.Second / time.Duration(d.SampleRate); got != dur {
			t.Fatalf("go-audio/wav reads %d sample frames (%v), Repair reported %v", frames, got, dur)
		}
	})
}
