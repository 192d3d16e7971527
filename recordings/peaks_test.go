package recordings

import (
	"path/filepath"
	"testing"
	"time"

	"github.com/sambung/sambung/media"
)

// TestReadPeaks: a recording of the caller speaking for a second, then
// silence, then the other side: the peaks show each where it was, and the
// duration is the recording's.
func TestReadPeaks(t *testing.T) {
	dir := t.TempDir()
	w, err := NewWriter(filepath.Join(dir, "c1.wav"), WriterConfig{})
	if err != nil {
		t.Fatal(err)
	}
	var loud, quiet media.Frame
	tone(loud[:], 440, 0)
	for i := range 150 { // 3 s: caller, silence, other side
		l, r := quiet[:], quiet[:]
		switch {
		case i < 50:
			l = loud[:]
		case i >= 100:
			r = loud[:]
		}
		if err := w.WriteFrame(l, r); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	pb, err := Dir{Path: dir}.Open("c1.wav")
	if err != nil {
		t.Fatal(err)
	}
	defer pb.Close()
	p, err := ReadPeaks(pb, 30)
	if err != nil {
		t.Fatal(err)
	}
	if p.Duration != 3*time.Second || len(p.Channels[0]) != 30 {
		t.Fatalf("duration %v, %d buckets", p.Duration, len(p.Channels[0]))
	}
	for b := range 30 {
		callerLoud, otherLoud := p.Channels[0][b] > 1000, p.Channels[1][b] > 1000
		if callerLoud != (b < 10) || otherLoud != (b >= 20) {
			t.Errorf("bucket %d: caller %d, other side %d", b, p.Channels[0][b], p.Channels[1][b])
		}
	}
	if _, err := (Dir{Path: dir}).Open("../c1.wav"); err == nil {
		t.Error("a name outside the directory opened")
	}
}
