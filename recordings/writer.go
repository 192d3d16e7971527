// Package recordings owns what is recorded: crash-safe WAV writing, its
// start-up repair, sealing at rest (seal.go, keys.go), where recordings
// are kept (Storage) and their waveforms, QA's scorecard forms
// (scorecard.go) and the sampling of calls for review (sampling.go). It
// may import store, media and audit.
//
// Every call is recorded as a 16-bit PCM stereo WAV at 8 kHz, the caller on
// the left and the other side on the right. Crash-safety contract: a Writer
// rewrites the header's sizes after every WriterConfig.SyncEvery of audio, so
// a process killed at any moment, even by kill -9, leaves a file that plays
// up to its last sync (with WriterConfig.Fsync, even after a power loss). At
// start-up, RepairDir makes the header of every file left behind describe all
// the whole sample frames it holds.
package recordings

import (
	"bufio"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/sambung/sambung/media"
)

// DefaultSyncEvery is how much audio a Writer writes between header fix-ups
// when WriterConfig.SyncEvery is zero.
const DefaultSyncEvery = time.Second

// bufferedFrames is how many 20 ms frames the Writer gathers before a write
// system call: 160 ms, 5120 bytes. A whole number of frames, so a file cut
// short by a crash ends on a frame boundary unless a write itself was torn.
const bufferedFrames = 8

// Errors WriteFrame returns for a frame it refuses; the file is unchanged.
var (
	// ErrFrameTooLong reports a channel with more than media.FrameSamples samples.
	ErrFrameTooLong = errors.New("recordings: frame longer than 20 ms")
	// ErrTooLong reports a recording that reached the 4 GiB size limit of WAV.
	ErrTooLong = errors.New("recordings: recording reached the WAV size limit")
)

// WriterConfig tunes a Writer. The zero value is ready to use.
type WriterConfig struct {
	// SyncEvery is how much audio (counted in samples, not wall-clock time)
	// is written between two fix-ups of the header: a crash loses at most
	// this much from what players see before RepairDir runs. Zero means
	// DefaultSyncEvery (1 s); values below one frame sync at every frame.
	SyncEvery time.Duration
	// Fsync makes every header fix-up (and Close) also fsync the file. Off
	// by default: without it the fix-ups survive a crash of the process
	// through the kernel's page cache; with it they also survive a power
	// loss or kernel crash, at the cost of one fsync per SyncEvery.
	Fsync bool
}

// Writer writes one call's stereo recording to a WAV file, keeping its
// header valid as it goes (see the package comment).
//
// A Writer is not safe for concurrent use: one goroutine owns it, fed frames
// through a bounded channel, never the packet path directly, since a write may
// wait for the disk.
type Writer struct {
	framer
	f         *os.File
	bw        *bufio.Writer
	fsync     bool
	syncEvery int64 // sample frames between header fix-ups

	hdr    [headerSize]byte // the header, rewritten at each sync
	synced int64            // sample frames the header on disk describes
}

// framer is what Writer and SealedWriter share: the file's path, the
// frame being written, how many have been, and the sticky state.
type framer struct {
	path    string
	frame   [frameBytes]byte // the interleaved frame being written, reused
	samples int64            // sample frames written
	err     error            // the first write error; every later call returns it
	closed  bool
}

// interleaved checks a frame (left and right, each up to one engine frame)
// and interleaves it into f.frame, padded with silence; or says why it is
// refused: an earlier write error, the writer closed, ErrFrameTooLong,
// ErrTooLong.
func (f *framer) interleaved(left, right []int16) error {
	if f.err != nil {
		return f.err
	}
	if f.closed {
		return fmt.Errorf("recording %s: %w", f.path, os.ErrClosed)
	}
	if len(left) > media.FrameSamples || len(right) > media.FrameSamples {
		return ErrFrameTooLong
	}
	if (f.samples+media.FrameSamples)*blockAlign > maxDataBytes {
		return ErrTooLong
	}
	interleave(f.frame[:], left, 0)
	interleave(f.frame[:], right, 2)
	return nil
}

// NewWriter creates the file at path (mode 0640, missing directories 0750)
// with a valid header describing no audio yet. It refuses to replace an
// existing file: a recording is never overwritten.
func NewWriter(path string, cfg WriterConfig) (*Writer, error) {
	syncEvery, err := syncFrames(path, cfg)
	if err != nil {
		return nil, err
	}
	var hdr [headerSize]byte
	putHeader(hdr[:], 0)
	f, err := createRecording(path, hdr[:], cfg.Fsync)
	if err != nil {
		return nil, err
	}
	return &Writer{
		framer:    framer{path: path},
		f:         f,
		bw:        bufio.NewWriterSize(f, bufferedFrames*frameBytes),
		fsync:     cfg.Fsync,
		syncEvery: syncEvery,
		hdr:       hdr,
	}, nil
}

// syncFrames is cfg.SyncEvery in sample frames, its default filled in.
func syncFrames(path string, cfg WriterConfig) (int64, error) {
	if cfg.SyncEvery < 0 {
		return 0, fmt.Errorf("recording %s: negative SyncEvery %v", path, cfg.SyncEvery)
	}
	if cfg.SyncEvery == 0 {
		cfg.SyncEvery = DefaultSyncEvery
	}
	return max(int64(cfg.SyncEvery)*media.Rate/int64(time.Second), 1), nil
}

// createRecording creates the file at path (mode 0640, missing directories
// 0750; never one that exists) holding header, fsynced with its directory
// entry when fsync is set. A file it could not start is removed.
func createRecording(path string, header []byte, fsync bool) (*os.File, error) {
	dir := filepath.Dir(path)
	if err := os.MkdirAll(dir, 0o750); err != nil {
		return nil, fmt.Errorf("recording %s: %w", path, err)
	}
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE|os.O_EXCL, 0o640)
	if err != nil {
		return nil, fmt.Errorf("create recording: %w", err)
	}
	abandon := func(err error) (*os.File, error) {
		f.Close()
		os.Remove(path)
		return nil, err
	}
	if _, err := f.Write(header); err != nil {
		return abandon(fmt.Errorf("recording %s: write header: %w", path, err))
	}
	if fsync {
		// The file's directory entry must survive a power loss too.
		if err := f.Sync(); err != nil {
			return abandon(fmt.Errorf("recording %s: fsync: %w", path, err))
		}
		if err := syncDir(dir); err != nil {
			return abandon(fmt.Errorf("recording %s: %w", path, err))
		}
	}
	return f, nil
}

// syncDir fsyncs a directory, so that a file just created in it stays.
func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	if err := d.Sync(); err != nil {
		return fmt.Errorf("fsync directory %s: %w", dir, err)
	}
	return nil
}

// WriteFrame appends one 20 ms frame: left is what the caller said, right is
// the other side (IVR prompts, the agent). Each holds up to
// media.FrameSamples samples; a shorter or nil slice is padded with silence
// to a whole frame (a side with nothing to say is silent, and both channels
// always stay the same length). A longer one is refused with
// ErrFrameTooLong. Every WriterConfig.SyncEvery of audio it flushes and
// rewrites the header's sizes. After a write error the Writer is broken and
// returns that error from then on.
//
// WriteFrame allocates nothing.
func (w *Writer) WriteFrame(left, right []int16) error {
	if err := w.interleaved(left, right); err != nil {
		return err
	}
	if _, err := w.bw.Write(w.frame[:]); err != nil {
		w.err = fmt.Errorf("recording %s: write: %w", w.path, err)
		return w.err
	}
	w.samples += media.FrameSamples
	if w.samples-w.synced >= w.syncEvery {
		return w.sync()
	}
	return nil
}

// The Writer interleaves and encodes samples itself instead of using
// go-audio/wav's Encoder, a choice measured by BenchmarkWriteFrame: per 20 ms
// frame the Encoder made 320 allocations (640 B: binary.Write allocates for
// every sample) and took about 8-9 µs, 8-10 times the Writer's 0.8-1.2 µs
// with no allocation; it also makes a system call per frame and fixes its
// header only at Close, which is not crash-safe. go-audio/wav reads instead:
// the tests decode recordings with its Decoder and FuzzRepair checks Repair
// against it (Repair parses the few header bytes it needs; see readLayout).

// interleave puts ch's samples, little-endian, at byte offset off of each
// 4-byte sample frame of dst, and silence after them.
func interleave(dst []byte, ch []int16, off int) {
	i := 0
	for ; i < len(ch); i++ {
		s := uint16(ch[i])
		dst[i*blockAlign+off] = byte(s)
		dst[i*blockAlign+off+1] = byte(s >> 8)
	}
	for ; i < media.FrameSamples; i++ {
		dst[i*blockAlign+off] = 0
		dst[i*blockAlign+off+1] = 0
	}
}

// sync pushes the buffered frames to the file, then rewrites the header to
// describe them: the header never claims bytes the file does not hold.
//
// The whole 44-byte header goes out in one pwrite rather than one per size
// field: its bytes other than the sizes never change, and a single write
// within one page cannot be half-done by a killed process, so the RIFF and
// data sizes never disagree.
func (w *Writer) sync() error {
	if err := w.bw.Flush(); err != nil {
		w.err = fmt.Errorf("recording %s: write: %w", w.path, err)
		return w.err
	}
	putHeader(w.hdr[:], uint32(w.samples*blockAlign))
	if _, err := w.f.WriteAt(w.hdr[:], 0); err != nil {
		w.err = fmt.Errorf("recording %s: update header: %w", w.path, err)
		return w.err
	}
	if w.fsync {
		if err := w.f.Sync(); err != nil {
			w.err = fmt.Errorf("recording %s: fsync: %w", w.path, err)
			return w.err
		}
	}
	w.synced = w.samples
	return nil
}

// Duration reports how much audio has been written (both channels run for
// this long), including frames not yet on disk: buffered, not yet synced to
// a Writer's header, or in a SealedWriter's chunk not sealed yet.
func (f *framer) Duration() time.Duration {
	return time.Duration(f.samples) * time.Second / media.Rate
}

// Close writes what is buffered, fixes the header a last time, fsyncs when
// WriterConfig.Fsync is set, and closes the file. Calling it again does
// nothing and returns nil. If a write had failed, the header is left as it
// was last synced and RepairDir fixes the file at the next start-up.
func (w *Writer) Close() error {
	if w.closed {
		return nil
	}
	w.closed = true
	var err error
	if w.err == nil {
		err = w.sync()
	} else {
		err = w.err
	}
	if cerr := w.f.Close(); cerr != nil && err == nil {
		err = fmt.Errorf("recording %s: close: %w", w.path, cerr)
	}
	return err
}
