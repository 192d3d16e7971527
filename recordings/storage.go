package recordings

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"time"
)

// Storage is where recordings are kept, by name: the slash-separated path
// a recording's metadata holds (store.Recording.Path), such as
// "2026/12/06/c1234.wav". Names are laid out by day, one file per
// recording, written once and never changed after the call, so a shared
// filesystem, or an object store behind a Storage of its own, can hold
// them for several nodes.
type Storage interface {
	// Open opens a recording for playback: a WAV, whatever it is kept as.
	Open(name string) (Playback, error)
	// Remove deletes a recording; one already gone is not an error.
	Remove(name string) error
}

// Playback is one recording opened to be played: the WAV's bytes, which
// http.ServeContent can serve with range requests.
type Playback interface {
	io.ReadSeeker
	io.Closer
	// Size is the WAV's length in bytes.
	Size() int64
	// ModTime is when the recording last changed.
	ModTime() time.Time
}

// ErrNoRecording is Open's error for a name that holds no recording.
var ErrNoRecording = errors.New("recordings: no such recording")

// Dir is the default Storage: a directory of the local filesystem.
// Recordings named with SealedExt are sealed at rest and opened with Keys.
type Dir struct {
	// Path is the directory.
	Path string
	// Keys opens sealed recordings; nil refuses them.
	Keys *Keyring
}

// path turns a name into the file's path under d, refusing names that
// would leave it.
func (d Dir) path(name string) (string, error) {
	if name == "" || !fs.ValidPath(name) || strings.Contains(name, `\`) {
		return "", fmt.Errorf("recordings: %q is not a recording's name", name)
	}
	return filepath.Join(d.Path, filepath.FromSlash(name)), nil
}

// Open opens the recording name under d.
func (d Dir) Open(name string) (Playback, error) {
	p, err := d.path(name)
	if err != nil {
		return nil, err
	}
	if strings.HasSuffix(name, SealedExt) {
		return d.openSealed(p, name)
	}
	f, err := os.Open(p)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("%w: %s", ErrNoRecording, name)
	}
	if err != nil {
		return nil, err
	}
	fi, err := f.Stat()
	if err != nil {
		_ = f.Close()
		return nil, err
	}
	return &plainFile{File: f, size: fi.Size(), mod: fi.ModTime()}, nil
}

// openSealed opens the sealed recording name, at p.
func (d Dir) openSealed(p, name string) (Playback, error) {
	fi, err := os.Stat(p)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("%w: %s", ErrNoRecording, name)
	}
	if err != nil {
		return nil, err
	}
	if d.Keys == nil {
		return nil, fmt.Errorf("recordings: %s is sealed, and no keys are configured (recordings.encryption.keys)", name)
	}
	s, err := OpenSealed(p, d.Keys)
	if err != nil {
		return nil, err
	}
	return sealedPlayback{SealedFile: s, mod: fi.ModTime()}, nil
}

// sealedPlayback is a sealed recording, decrypted as it is read.
type sealedPlayback struct {
	*SealedFile
	mod time.Time
}

func (s sealedPlayback) ModTime() time.Time { return s.mod }

// Remove deletes the recording name under d.
func (d Dir) Remove(name string) error {
	p, err := d.path(name)
	if err != nil {
		return err
	}
	if err := os.Remove(p); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return err
	}
	return nil
}

// plainFile is a WAV kept as it is.
type plainFile struct {
	*os.File
	size int64
	mod  time.Time
}

func (f *plainFile) Size() int64        { return f.size }
func (f *plainFile) ModTime() time.Time { return f.mod }
