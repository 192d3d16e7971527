package recordings

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"time"
)

// ErrUnrecoverable reports a file Repair cannot make playable: its header
// itself is incomplete or is not that of a PCM WAV.
var ErrUnrecoverable = errors.New("not a recoverable WAV recording")

// Repair makes the header of the WAV at path describe the audio the file
// really holds, as a crash leaves it: sizes zero or stale (behind or ahead of
// the data), or a partial sample frame at the end. It sets the data size to
// the whole sample frames present, drops the partial one, sets the RIFF size
// to match, and fsyncs. It assumes, as Writer leaves it, that the data chunk
// is the file's last.
//
// A healthy file is not touched: fixed is false. dur is the length of the
// audio in the file afterwards. A file shorter than its header, or one that
// is not a PCM WAV, is an error wrapping ErrUnrecoverable that names it.
//
// No Writer may have the file open: run it at start-up, before recording.
func Repair(path string) (fixed bool, dur time.Duration, err error) {
	l, err := inspect(path)
	if err != nil {
		return false, 0, fmt.Errorf("repair recording %s: %w", path, err)
	}
	if l.healthy {
		return false, l.duration(l.dataSize), nil
	}
	f, err := os.OpenFile(path, os.O_RDWR, 0)
	if err != nil {
		return false, 0, fmt.Errorf("repair recording: %w", err)
	}
	defer func() {
		if cerr := f.Close(); cerr != nil && err == nil {
			err = fmt.Errorf("repair recording %s: %w", path, cerr)
		}
	}()
	size := l.fileSize

	// What is there: every whole sample frame after the data chunk header,
	// within the most a RIFF size can count.
	avail := size - l.dataOff
	avail = min(avail, int64(maxDataBytes)-(l.dataOff-headerSize))
	data := avail - avail%int64(l.blockAlign)

	if end := l.dataOff + data; end < size {
		if err := f.Truncate(end); err != nil {
			return false, 0, fmt.Errorf("repair recording %s: drop partial sample frame: %w", path, err)
		}
	}
	var b [4]byte
	binary.LittleEndian.PutUint32(b[:], uint32(data))
	if _, err := f.WriteAt(b[:], l.dataOff-4); err != nil {
		return false, 0, fmt.Errorf("repair recording %s: write data size: %w", path, err)
	}
	binary.LittleEndian.PutUint32(b[:], uint32(l.dataOff+data-8))
	if _, err := f.WriteAt(b[:], riffSizeOffset); err != nil {
		return false, 0, fmt.Errorf("repair recording %s: write RIFF size: %w", path, err)
	}
	if err := f.Sync(); err != nil {
		return false, 0, fmt.Errorf("repair recording %s: fsync: %w", path, err)
	}
	return true, l.duration(data), nil
}

// layout is where a WAV keeps its audio, and what its header claims.
type layout struct {
	fileSize   int64
	riffSize   int64 // as the header says
	dataOff    int64 // first byte of samples
	dataSize   int64 // as the data chunk header says
	blockAlign int
	rate       int
	healthy    bool // the header already describes the file
}

// inspect reads the layout of the WAV at path without changing it.
func inspect(path string) (layout, error) {
	f, err := os.Open(path)
	if err != nil {
		return layout{}, err
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return layout{}, err
	}
	if fi.Size() < headerSize {
		return layout{}, fmt.Errorf("only %d bytes, less than a WAV header (%d): %w",
			fi.Size(), headerSize, ErrUnrecoverable)
	}
	l, err := readLayout(f, fi.Size())
	if err != nil {
		return layout{}, err
	}
	l.healthy = l.isHealthy(f)
	return l, nil
}

// maxChunksBeforeData bounds the walk through a file's chunks: a recording
// has one ("fmt "), other tools add a few.
const maxChunksBeforeData = 64

// readLayout walks the chunks of the WAV in f (size bytes long) up to its
// data chunk, trusting no size it reads: every chunk before the data must lie
// within the file, and nothing is allocated by what the file says. The sizes
// a crash leaves wrong (RIFF and data) are only recorded.
//
// This is a small parser of its own rather than go-audio/wav's Decoder, which
// the fuzz target showed unfit for files nobody vouches for: it allocates a
// buffer of whatever size a LIST chunk declares (805 MB for a 64-byte file)
// and ignores errors reading chunk sizes. The tests read recordings back with
// go-audio/wav, and FuzzRepair checks this parser against it.
func readLayout(f *os.File, size int64) (layout, error) {
	le := binary.LittleEndian
	var h [12]byte
	if _, err := f.ReadAt(h[:], 0); err != nil {
		return layout{}, err
	}
	if string(h[0:4]) != "RIFF" || string(h[8:12]) != "WAVE" {
		return layout{}, fmt.Errorf("starts %q, not RIFF....WAVE: %w", h[:], ErrUnrecoverable)
	}
	l := layout{fileSize: size, riffSize: int64(le.Uint32(h[4:]))}
	var (
		haveFmt bool
		format  uint16
		chans   uint16
		bits    uint16
	)
	pos := int64(12)
	for range maxChunksBeforeData {
		var ch [8]byte
		if pos+8 > size {
			return layout{}, fmt.Errorf("no data chunk: %w", ErrUnrecoverable)
		}
		if _, err := f.ReadAt(ch[:], pos); err != nil {
			return layout{}, err
		}
		id, n := string(ch[:4]), int64(le.Uint32(ch[4:]))
		if id == "data" {
			if !haveFmt {
				return layout{}, fmt.Errorf("data chunk before any fmt chunk: %w", ErrUnrecoverable)
			}
			l.dataOff, l.dataSize = pos+8, n
			break
		}
		if pos+8+n > size {
			return layout{}, fmt.Errorf("%q chunk at byte %d runs past the end: %w", id, pos, ErrUnrecoverable)
		}
		if id == "fmt " {
			if n < 16 {
				return layout{}, fmt.Errorf("fmt chunk of %d bytes: %w", n, ErrUnrecoverable)
			}
			var fm [16]byte
			if _, err := f.ReadAt(fm[:], pos+8); err != nil {
				return layout{}, err
			}
			haveFmt = true
			format, chans, bits = le.Uint16(fm[0:]), le.Uint16(fm[2:]), le.Uint16(fm[14:])
			l.rate = int(le.Uint32(fm[4:]))
		}
		pos += 8 + n + n%2 // RIFF pads every chunk to an even size
	}
	if l.dataOff == 0 {
		return layout{}, fmt.Errorf("no data chunk in the first %d chunks: %w", maxChunksBeforeData, ErrUnrecoverable)
	}
	if format != 1 || chans == 0 || bits == 0 || bits%8 != 0 || bits > 32 || l.rate == 0 {
		return layout{}, fmt.Errorf("format %d, %d channels of %d bits at %d Hz: not integer PCM: %w",
			format, chans, bits, l.rate, ErrUnrecoverable)
	}
	l.blockAlign = int(chans) * int(bits) / 8
	return l, nil
}

// isHealthy reports whether the header already describes the file: the RIFF
// size is the file's, and the data chunk holds whole sample frames that are
// all there and either run to the end or are followed by well-formed chunks
// (a LIST chunk another tool added, say).
func (l layout) isHealthy(f *os.File) bool {
	if l.riffSize != l.fileSize-8 || l.dataSize%int64(l.blockAlign) != 0 {
		return false
	}
	end := l.dataOff + l.dataSize + l.dataSize%2 // RIFF pads odd chunks
	if end > l.fileSize {
		return false
	}
	for end < l.fileSize {
		var h [8]byte
		if _, err := f.ReadAt(h[:], end); err != nil {
			return false
		}
		for _, c := range h[:4] {
			if c < ' ' || c > '~' {
				return false
			}
		}
		n := int64(binary.LittleEndian.Uint32(h[4:]))
		end += 8 + n + n%2
	}
	return end == l.fileSize
}

// duration is how long dataBytes of samples play.
func (l layout) duration(dataBytes int64) time.Duration {
	frames := dataBytes / int64(l.blockAlign)
	return time.Duration(frames) * time.Second / time.Duration(l.rate)
}

// RepairReport counts what RepairDir found.
type RepairReport struct {
	Checked   int           // .wav files looked at
	Healthy   int           // files left untouched: their header was right
	Repaired  int           // files whose header was fixed
	Failed    int           // files that could not be read or repaired
	Recovered time.Duration // audio in the repaired files
	// Files lists the repaired files, so that their recordings' metadata can
	// be finished.
	Files []RepairedFile
}

// RepairedFile is one file RepairDir fixed.
type RepairedFile struct {
	Path     string        // dir joined with the file's path inside it
	Duration time.Duration // the audio it holds now
	Bytes    int64         // its size now
}

// RepairDir runs Repair on every regular file named *.wav (in any case) under
// dir, recursively, logging each fix with its path and recovered duration
// and each failure with its error. A file that fails is counted and skipped:
// one broken file must not stop a server from starting. The error is only
// for a dir that cannot be walked; a dir that does not exist yet holds
// nothing to repair.
//
// It is meant for start-up, before any call is recorded: dir must hold no
// file a running Writer has open, so on storage shared between nodes, give
// each node a directory of its own.
func RepairDir(dir string, log *slog.Logger) (RepairReport, error) {
	var rep RepairReport
	err := filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			if path == dir {
				return err
			}
			rep.Failed++
			log.Error("recordings: cannot read for repair", "path", path, "err", err)
			return nil
		}
		if !d.Type().IsRegular() || !strings.EqualFold(filepath.Ext(path), ".wav") {
			return nil
		}
		rep.Checked++
		fixed, dur, err := Repair(path)
		switch {
		case err == nil && !fixed:
			rep.Healthy++
		case err != nil:
			rep.Failed++
			log.Error("recordings: recording not repaired", "path", path, "err", err)
		case fixed:
			rep.Repaired++
			rep.Recovered += dur
			var size int64
			if fi, err := os.Stat(path); err == nil {
				size = fi.Size()
			}
			rep.Files = append(rep.Files, RepairedFile{Path: path, Duration: dur, Bytes: size})
			log.Info("recordings: repaired recording left by a crash", "path", path,
				"duration", dur, "bytes", size)
		}
		return nil
	})
	if errors.Is(err, fs.ErrNotExist) {
		return rep, nil
	}
	if err != nil {
		return rep, fmt.Errorf("repair recordings in %s: %w", dir, err)
	}
	if rep.Checked > 0 {
		log.Info("recordings: checked for crash damage", "dir", dir, "checked", rep.Checked,
			"healthy", rep.Healthy, "repaired", rep.Repaired, "failed", rep.Failed, "recovered", rep.Recovered)
	}
	return rep, nil
}
