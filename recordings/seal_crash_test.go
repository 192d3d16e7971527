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
	"syscall"
	"testing"
	"time"

	"github.com/sambung/sambung/media"
)

// The environment of the re-executed test binary: where it records, and
// the key it seals with.
const (
	sealedCrashPathEnv = "SAMBUNG_RECORDINGS_SEALED_CRASH_PATH"
	sealedCrashKeyEnv  = "SAMBUNG_RECORDINGS_SEALED_CRASH_KEY"
)

// sealedCrashFrames is how many frames the child records before it waits
// to be killed: 1.06 s, six whole chunks and 3244 bytes buffered in the
// seventh, so the kill loses audio the writer had accepted.
const sealedCrashFrames = 53

// sealedCrashReport is the line the child prints once it has written
// sealedCrashFrames frames: how many, and how many chunks the file holds.
const sealedCrashReport = "written frames %d chunks %d\n"

// TestHelperSealedRecordProcess is the child of TestSealedRecordingSurvivesKill:
// it records the two tones in real time (a frame per 20 ms tick) to a sealed
// file, reports what it wrote after sealedCrashFrames frames, then keeps the
// recording open, its last chunk half full, until its parent kills it. It
// runs only when re-executed with sealedCrashPathEnv set, and stops by itself
// after 30 s should its parent never kill it.
func TestHelperSealedRecordProcess(t *testing.T) {
	path := os.Getenv(sealedCrashPathEnv)
	if path == "" {
		t.Skip("runs only as the child of TestSealedRecordingSurvivesKill")
	}
	kr, err := LoadKeyring([]KeySpec{{ID: "crash", Env: sealedCrashKeyEnv}}, "crash", nil)
	if err != nil {
		t.Fatal(err)
	}
	w, err := NewSealedWriter(path, kr, WriterConfig{})
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	ticker := time.NewTicker(media.FrameDuration)
	defer ticker.Stop()
	var l, r [media.FrameSamples]int16
	for n := range sealedCrashFrames {
		<-ticker.C
		tone(l[:], sealedLeftHz, n)
		tone(r[:], sealedRightHz, n)
		if err := w.WriteFrame(l[:], r[:]); err != nil {
			t.Fatal(err)
		}
	}
	fmt.Printf(sealedCrashReport, sealedCrashFrames, w.index)
	for range 30 * 50 { // on hold: the call goes on, nothing to record
		<-ticker.C
	}
}

// TestSealedRecordingSurvivesKill is the sealed recording's crash test: a
// recording process killed with SIGKILL leaves a file that opens without
// repair, says it was cut short, and holds every whole chunk written: the
// tones up to within one chunk of what the process was given.
func TestSealedRecordingSurvivesKill(t *testing.T) {
	sox := lookSox(t)
	path := filepath.Join(t.TempDir(), "killed"+SealedExt)
	keys := newKeys(t, "crash")

	cmd := exec.Command(os.Args[0], "-test.run=^TestHelperSealedRecordProcess$")
	cmd.Env = append(os.Environ(), sealedCrashPathEnv+"="+path, sealedCrashKeyEnv+"="+keys["crash"])
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	reported := make(chan [2]int64, 1)
	go func() {
		defer close(reported)
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			var frames, chunks int64
			if _, err := fmt.Sscanf(sc.Text()+"\n", sealedCrashReport, &frames, &chunks); err == nil {
				reported <- [2]int64{frames, chunks}
				return
			}
		}
	}()
	var frames, chunks int64
	select {
	case r, ok := <-reported:
		if ok {
			frames, chunks = r[0], r[1]
		}
	case <-time.After(15 * time.Second):
	}
	if err := cmd.Process.Kill(); err != nil { // SIGKILL: no deferred Close runs
		t.Fatal(err)
	}
	err = cmd.Wait()
	if frames != sealedCrashFrames {
		t.Fatalf("the child never reported %d frames written; it said:\n%s", sealedCrashFrames, stderr.Bytes())
	}
	var exit *exec.ExitError
	if !errors.As(err, &exit) || exit.Sys().(syscall.WaitStatus).Signal() != syscall.SIGKILL {
		t.Fatalf("the child ended with %v, want killed by SIGKILL", err)
	}

	kr := testKeyring(t, keys, "crash", "crash")
	s, err := OpenSealed(path, kr)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if s.Complete() {
		t.Error("Complete() = true for a recording whose writer was killed")
	}
	// Every whole chunk is there; only the one being filled is lost.
	data := chunks*sealedChunkSize - headerSize
	data -= data % blockAlign
	written := time.Duration(frames) * media.FrameDuration
	chunkDur := time.Duration(sealedChunkSize/blockAlign) * time.Second / media.Rate
	if s.Size() != headerSize+data || s.Duration() > written || written-s.Duration() > chunkDur {
		t.Fatalf("killed after %v in %d chunks: %d bytes, %v of audio; want %d bytes, within %v of %v",
			written, chunks, s.Size(), s.Duration(), headerSize+data, chunkDur, written)
	}

	wav := decryptFile(t, path, kr)
	if got := soxDuration(t, sox, wav); math.Abs(got-s.Duration().Seconds()) > 0.5/media.Rate {
		t.Errorf("sox --i -D reads %.6f s from the decrypted recording, want %.6f s", got, s.Duration().Seconds())
	}
	stats := soxStat(t, sox, wav)
	if rms, want := stats["RMS amplitude"], toneAmp/math.Sqrt2/32768; math.Abs(rms-want) > 0.02*want {
		t.Errorf("sox stat of the decrypted recording: RMS amplitude %.4f, want the tones' %.4f", rms, want)
	}
	d := decode(t, wav)
	checkTone(t, "left", d.left, sealedLeftHz, sealedRightHz)
	checkTone(t, "right", d.right, sealedRightHz, sealedLeftHz)
	checkToneSamples(t, "left", d.left, sealedLeftHz)
	checkToneSamples(t, "right", d.right, sealedRightHz)
	t.Logf("killed after %v written; %d chunks on disk hold %v", written, chunks, s.Duration())
}
