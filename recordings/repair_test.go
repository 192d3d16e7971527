package recordings

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"errors"
	"io/fs"
	"log/slog"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/sambung/sambung/media"
)

// toneFrames is the length of the recordings the repair tests damage: 1 s.
const toneFrames = 50

// putSizes overwrites the RIFF and data sizes of the header at path.
func putSizes(t *testing.T, path string, riff, data uint32) {
	t.Helper()
	f, err := os.OpenFile(path, os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var b [4]byte
	binary.LittleEndian.PutUint32(b[:], riff)
	if _, err := f.WriteAt(b[:], riffSizeOffset); err != nil {
		t.Fatal(err)
	}
	binary.LittleEndian.PutUint32(b[:], data)
	if _, err := f.WriteAt(b[:], dataSizeOffset); err != nil {
		t.Fatal(err)
	}
}

func truncate(t *testing.T, path string, size int64) {
	t.Helper()
	if err := os.Truncate(path, size); err != nil {
		t.Fatal(err)
	}
}

const full = toneFrames * frameBytes // data bytes of the undamaged recording

// repairCases damage a 1 s recording the ways a crash can, and say how many
// whole sample frames Repair must find.
var repairCases = []struct {
	name    string
	damage  func(t *testing.T, path string)
	fixed   bool
	samples int
}{
	{"healthy", func(*testing.T, string) {}, false, toneFrames * media.FrameSamples},
	{"zero sizes", func(t *testing.T, p string) { putSizes(t, p, 0, 0) }, true, toneFrames * media.FrameSamples},
	{"stale sizes from the last sync", func(t *testing.T, p string) { putSizes(t, p, 36+full/2, full/2) }, true, toneFrames * media.FrameSamples},
	{"cut mid-frame", func(t *testing.T, p string) {
		truncate(t, p, headerSize+4000*blockAlign+3) // inside a 20 ms frame, inside a sample frame
	}, true, 4000},
	{"zero sizes and partial sample frame", func(t *testing.T, p string) {
		putSizes(t, p, 0, 0)
		truncate(t, p, headerSize+full-1)
	}, true, toneFrames*media.FrameSamples - 1},
	{"header only, stale sizes", func(t *testing.T, p string) { truncate(t, p, headerSize) }, true, 0},
	{"healthy with a trailing LIST chunk", func(t *testing.T, p string) {
		f, err := os.OpenFile(p, os.O_WRONLY|os.O_APPEND, 0)
		if err != nil {
			t.Fatal(err)
		}
		defer f.Close()
		list := []byte("LIST\x0e\x00\x00\x00INFOISFT\x02\x00\x00\x00x\x00")
		if _, err := f.Write(list); err != nil {
			t.Fatal(err)
		}
		putSizes(t, p, uint32(36+full+len(list)), full)
	}, false, toneFrames * media.FrameSamples},
}

// damaged writes the 1 s tone recording and applies c's damage to it.
func damaged(t *testing.T, dir, name string, damage func(*testing.T, string)) string {
	t.Helper()
	path := filepath.Join(dir, name)
	writeTones(t, path, toneFrames)
	damage(t, path)
	return path
}

func TestRepair(t *testing.T) {
	for _, c := range repairCases {
		t.Run(c.name, func(t *testing.T) {
			path := damaged(t, t.TempDir(), "call.wav", c.damage)
			before, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			fixed, dur, err := Repair(path)
			if err != nil {
				t.Fatal(err)
			}
			if fixed != c.fixed {
				t.Errorf("fixed = %v, want %v", fixed, c.fixed)
			}
			if want := time.Duration(c.samples) * time.Second / media.Rate; dur != want {
				t.Errorf("duration %v, want %v", dur, want)
			}
			after, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			if !c.fixed {
				if !bytes.Equal(before, after) {
					t.Error("a healthy file was changed")
				}
				return
			}
			riff, data := headerSizes(t, path)
			if want := uint32(c.samples * blockAlign); data != want {
				t.Errorf("data size %d, want %d", data, want)
			}
			if size := uint32(len(after)); riff != size-8 || size != headerSize+data {
				t.Errorf("file of %d bytes with RIFF size %d and data size %d", size, riff, data)
			}
			d := decode(t, path)
			if len(d.left) != c.samples {
				t.Errorf("go-audio/wav decodes %d sample frames, want %d", len(d.left), c.samples)
			}
			if c.samples > 0 && c.samples%16 == 0 { // whole periods of both tones
				checkTone(t, "left", d.left, 1000, 500)
				checkTone(t, "right", d.right, 500, 1000)
			}
			if fixed, _, err := Repair(path); fixed || err != nil {
				t.Errorf("second Repair: fixed=%v err=%v, want a healthy file", fixed, err)
			}
		})
	}
}

// TestRepairReadBySox checks the repaired files with a real reader.
func TestRepairReadBySox(t *testing.T) {
	sox := lookSox(t)
	for _, c := range repairCases {
		t.Run(c.name, func(t *testing.T) {
			path := damaged(t, t.TempDir(), "call.wav", c.damage)
			if _, _, err := Repair(path); err != nil {
				t.Fatal(err)
			}
			want := float64(c.samples) / media.Rate
			if got := soxDuration(t, sox, path); math.Abs(got-want) > 0.5/media.Rate {
				t.Errorf("sox reads %.6f s, want %.6f s", got, want)
			}
			if c.samples == 0 {
				return // sox stat has nothing to measure
			}
			stats := soxStat(t, sox, path)
			// Both channels carry a tone of the test amplitude: RMS A/√2.
			if rms, want := stats["RMS amplitude"], toneAmp/math.Sqrt2/32768; math.Abs(rms-want) > 0.02*want {
				t.Errorf("sox stat: RMS amplitude %.4f, want %.4f", rms, want)
			}
			if n := stats["Samples read"]; n != float64(2*c.samples) {
				t.Errorf("sox stat read %.0f samples, want %d", n, 2*c.samples)
			}
		})
	}
}

func TestRepairUnrecoverable(t *testing.T) {
	var hdr [headerSize]byte
	putHeader(hdr[:], 0)
	for _, c := range []struct {
		name    string
		content []byte
	}{
		{"empty", nil},
		{"header cut short", hdr[:20]},
		{"one byte short of a header", hdr[:headerSize-1]},
		{"not a WAV", []byte(strings.Repeat("this is not audio. ", 10))},
		{"zeroed header", make([]byte, headerSize+full)},
	} {
		t.Run(c.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "bad.wav")
			if err := os.WriteFile(path, c.content, 0o640); err != nil {
				t.Fatal(err)
			}
			fixed, _, err := Repair(path)
			if !errors.Is(err, ErrUnrecoverable) || fixed {
				t.Fatalf("Repair: fixed=%v err=%v, want ErrUnrecoverable", fixed, err)
			}
			if !strings.Contains(err.Error(), path) {
				t.Errorf("error %q does not name the file", err)
			}
			if after, _ := os.ReadFile(path); !bytes.Equal(after, c.content) {
				t.Error("Repair changed a file it could not repair")
			}
		})
	}
	if _, _, err := Repair(filepath.Join(t.TempDir(), "missing.wav")); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("Repair of a missing file: %v, want fs.ErrNotExist", err)
	}
}

func TestRepairDir(t *testing.T) {
	dir := t.TempDir()
	mkdir := func(p string) string {
		if err := os.MkdirAll(filepath.Join(dir, p), 0o750); err != nil {
			t.Fatal(err)
		}
		return filepath.Join(dir, p)
	}
	healthy := damaged(t, mkdir("2026/11/22"), "healthy.wav", func(*testing.T, string) {})
	crashed := damaged(t, mkdir("2026/11/23"), "crashed.wav", func(t *testing.T, p string) { putSizes(t, p, 0, 0) })
	cut := damaged(t, mkdir("2026/11/23/deep"), "CUT.WAV", func(t *testing.T, p string) {
		truncate(t, p, headerSize+full/2+1)
	})
	tiny := filepath.Join(dir, "tiny.wav")
	for p, content := range map[string]string{tiny: "RIFF\x00\x00", filepath.Join(dir, "notes.txt"): "RIFF",
		filepath.Join(dir, "old.wav.bak"): "RIFF"} {
		if err := os.WriteFile(p, []byte(content), 0o640); err != nil {
			t.Fatal(err)
		}
	}
	mkdir("folder.wav") // a directory, not a recording

	var logs bytes.Buffer
	log := slog.New(slog.NewJSONHandler(&logs, nil))
	rep, err := RepairDir(dir, log)
	if err != nil {
		t.Fatal(err)
	}
	if rep.Checked != 4 || rep.Healthy != 1 || rep.Repaired != 2 || rep.Failed != 1 {
		t.Errorf("report %+v, want 4 checked: 1 healthy, 2 repaired, 1 failed", rep)
	}
	if want := 1500 * time.Millisecond; rep.Recovered != want {
		t.Errorf("recovered %v, want %v", rep.Recovered, want)
	}
	wantFiles := map[string]RepairedFile{
		crashed: {crashed, time.Second, headerSize + full},
		cut:     {cut, 500 * time.Millisecond, headerSize + full/2},
	}
	for _, f := range rep.Files {
		if f != wantFiles[f.Path] {
			t.Errorf("repaired file %+v, want %+v", f, wantFiles[f.Path])
		}
		delete(wantFiles, f.Path)
	}
	if len(wantFiles) > 0 {
		t.Errorf("repaired files missing from the report: %v", wantFiles)
	}

	// Each fix is logged with its path and recovered duration; the failure
	// with the file's path.
	logged := map[string]map[string]any{}
	for line := range strings.Lines(logs.String()) {
		var rec map[string]any
		if err := json.Unmarshal([]byte(line), &rec); err != nil {
			t.Fatalf("log line %q: %v", line, err)
		}
		if p, ok := rec["path"].(string); ok {
			logged[p] = rec
		}
	}
	for path, dur := range map[string]time.Duration{crashed: time.Second, cut: 500 * time.Millisecond} {
		if rec := logged[path]; rec == nil || rec["duration"] != float64(dur) {
			t.Errorf("fix of %s logged as %v, want its duration %v", path, rec, dur)
		}
	}
	if rec := logged[tiny]; rec == nil || rec["level"] != "ERROR" || !strings.Contains(rec["err"].(string), "WAV header") {
		t.Errorf("failure of %s logged as %v", tiny, rec)
	}
	if rec := logged[healthy]; rec != nil {
		t.Errorf("healthy file logged: %v", rec)
	}

	// At the next start-up there is nothing left to do.
	rep, err = RepairDir(dir, log)
	if err != nil || rep.Repaired != 0 || rep.Healthy != 3 || rep.Failed != 1 {
		t.Errorf("second RepairDir: %+v, %v; want 3 healthy and the tiny file failed again", rep, err)
	}

	if rep, err := RepairDir(filepath.Join(dir, "not-yet"), log); err != nil || rep.Checked != 0 {
		t.Errorf("RepairDir of a missing directory: %+v, %v; want nothing to do", rep, err)
	}
}
