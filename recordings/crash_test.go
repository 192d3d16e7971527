package recordings

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/sambung/sambung/media"
)

// crashPathEnv tells the re-executed test binary to record to this path.
const crashPathEnv = "SAMBUNG_RECORDINGS_CRASH_PATH"

// The lines the recording child prints: after each sync, how many frames the
// header describes; then, once the file holds frames past that, how many.
const (
	syncedPrefix = "synced frames "
	onDiskPrefix = "on disk frames "
)

// TestHelperRecordProcess is the child of TestRecordingSurvivesKill: it
// records a 1 kHz tone in real time (a frame per 20 ms tick) with the default
// config and, after each header fix-up, prints how many frames the header
// now describes; then, when the first buffered frames past it reach the file,
// how many frames the file holds. It runs only when re-executed with
// crashPathEnv set, and stops by itself after 30 s should its parent never
// kill it.
func TestHelperRecordProcess(t *testing.T) {
	path := os.Getenv(crashPathEnv)
	if path == "" {
		t.Skip("runs only as the child of TestRecordingSurvivesKill")
	}
	w, err := NewWriter(path, WriterConfig{})
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	ticker := time.NewTicker(media.FrameDuration)
	defer ticker.Stop()
	var frame [media.FrameSamples]int16
	announced := true
	for n := range 30 * 50 {
		<-ticker.C
		tone(frame[:], 1000, n)
		before := w.synced
		if err := w.WriteFrame(frame[:], frame[:]); err != nil {
			t.Fatal(err)
		}
		onDisk := w.samples - int64(w.bw.Buffered()/blockAlign)
		switch {
		case w.synced != before:
			fmt.Printf("%s%d\n", syncedPrefix, w.synced/media.FrameSamples)
			announced = false
		case !announced && onDisk > w.synced:
			fmt.Printf("%s%d\n", onDiskPrefix, onDisk/media.FrameSamples)
			announced = true
		}
	}
}

// TestRecordingSurvivesKill is the crash test: a recording process
// killed with SIGKILL leaves a file that real tools play up to its last
// sync without any repair, and Repair then makes it exact.
func TestRecordingSurvivesKill(t *testing.T) {
	sox := lookSox(t)
	path := filepath.Join(t.TempDir(), "killed.wav")

	cmd := exec.Command(os.Args[0], "-test.run=^TestHelperRecordProcess$")
	cmd.Env = append(os.Environ(), crashPathEnv+"="+path)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}

	// Kill the child once its header describes 3 s and the file already
	// holds frames past that: the header is then stale, as after most crashes.
	const enough = 3 * 50 // frames
	type report struct {
		synced bool // a sync, or frames on disk past it
		frames int
	}
	reports := make(chan report)
	go func() {
		defer close(reports)
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			line := sc.Text()
			v, synced := strings.CutPrefix(line, syncedPrefix)
			if !synced {
				var ok bool
				if v, ok = strings.CutPrefix(line, onDiskPrefix); !ok {
					continue
				}
			}
			if n, err := strconv.Atoi(v); err == nil {
				reports <- report{synced, n}
			}
		}
	}()
	last, onDisk := 0, 0 // frames the child reported synced, and on disk
	deadline := time.After(15 * time.Second)
wait:
	for onDisk <= last || last < enough {
		select {
		case r, ok := <-reports:
			if !ok {
				break wait
			}
			if r.synced {
				last = r.frames
			} else {
				onDisk = r.frames
			}
		case <-deadline:
			break wait
		}
	}
	if err := cmd.Process.Kill(); err != nil { // SIGKILL: no deferred Close runs
		t.Fatal(err)
	}
	for r := range reports { // a sync the child reported as it died
		if r.synced {
			last = r.frames
		}
	}
	err = cmd.Wait()
	if last < enough || onDisk <= enough {
		t.Fatalf("the child reported %d frames synced and %d on disk, want more than %d; it said:\n%s",
			last, onDisk, enough, stderr.Bytes())
	}
	var exit *exec.ExitError
	if !errors.As(err, &exit) || exit.Sys().(syscall.WaitStatus).Signal() != syscall.SIGKILL {
		t.Fatalf("the child ended with %v, want killed by SIGKILL", err)
	}
	reported := float64(last) * media.FrameDuration.Seconds()

	// No repair yet: the header the child left describes its last sync.
	if got := soxDuration(t, sox, path); math.Abs(got-reported) > 1 {
		t.Errorf("sox --i -D reads %.3f s from the killed recording, want %.3f s (within 1 s)", got, reported)
	}
	stats := soxStat(t, sox, path)
	if rms, want := stats["RMS amplitude"], toneAmp/math.Sqrt2/32768; math.Abs(rms-want) > 0.02*want {
		t.Errorf("sox stat of the killed recording: RMS amplitude %.4f, want the tone's %.4f", rms, want)
	}

	// Repair makes the header describe every whole sample frame on disk.
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	samples := (fi.Size() - headerSize) / blockAlign
	fixed, dur, err := Repair(path)
	if err != nil {
		t.Fatal(err)
	}
	want := time.Duration(samples) * time.Second / media.Rate
	if !fixed || dur != want || dur < time.Duration(onDisk)*media.FrameDuration {
		t.Errorf("Repair: fixed=%v, %v of audio; want fixed, %v (the whole sample frames on disk), at least the %d frames reported",
			fixed, dur, want, onDisk)
	}
	if got := soxDuration(t, sox, path); math.Abs(got-want.Seconds()) > 0.5/media.Rate {
		t.Errorf("after Repair sox reads %.6f s, want %.6f s", got, want.Seconds())
	}
	d := decode(t, path)
	if int64(len(d.left)) != samples {
		t.Errorf("after Repair go-audio/wav decodes %d sample frames, want %d", len(d.left), samples)
	}
	t.Logf("killed with %d frames synced and %d on disk; Repair recovered %v", last, onDisk, dur)
}
