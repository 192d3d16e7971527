package recordings

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"
)

// TestSealedSeekAndReadAt reads a sealed recording piecewise, across chunk
// boundaries and the WAV header's end, and checks every piece against the
// same bytes read in one go.
func TestSealedSeekAndReadAt(t *testing.T) {
	kr := testKeyring(t, newKeys(t, "k"), "k", "k")
	path := filepath.Join(t.TempDir(), "call"+SealedExt)
	writeSealedTones(t, path, kr, 100, WriterConfig{}) // 2 s, 12.5 chunks
	s, full := readSealed(t, path, kr)
	size := s.Size()

	type span struct{ off, n int64 }
	spans := []span{
		{0, headerSize}, {40, 10}, {headerSize, 1},
		{sealedChunkSize - 4, 8}, {sealedChunkSize, 1}, {3*sealedChunkSize - 1, 2},
		{sealedChunkSize - 100, 2*sealedChunkSize + 200}, // three chunks at once
		{size - 10, 10}, {0, size},
	}
	rng := rand.New(rand.NewPCG(1, 2))
	for range 200 {
		off := rng.Int64N(size)
		spans = append(spans, span{off, rng.Int64N(min(size-off, 3*sealedChunkSize)) + 1})
	}
	for _, sp := range spans {
		buf := make([]byte, sp.n)
		if n, err := s.ReadAt(buf, sp.off); err != nil || int64(n) != sp.n {
			t.Fatalf("ReadAt(%d bytes at %d) = %d, %v", sp.n, sp.off, n, err)
		}
		if !bytes.Equal(buf, full[sp.off:sp.off+sp.n]) {
			t.Fatalf("ReadAt(%d bytes at %d) differs from the whole file's bytes", sp.n, sp.off)
		}
	}
	// Past the end: what there is, then io.EOF.
	buf := make([]byte, 20)
	if n, err := s.ReadAt(buf, size-10); n != 10 || err != io.EOF || !bytes.Equal(buf[:n], full[size-10:]) {
		t.Errorf("ReadAt across the end: %d, %v; want 10 bytes and io.EOF", n, err)
	}
	if n, err := s.ReadAt(buf, size); n != 0 || err != io.EOF {
		t.Errorf("ReadAt at the end: %d, %v; want 0 and io.EOF", n, err)
	}

	// Seek and Read.
	for _, c := range []struct {
		off    int64
		whence int
		at     int64
	}{{5000, io.SeekStart, 5000}, {300, io.SeekCurrent, 5300 + 300}, {-100, io.SeekEnd, size - 100}} {
		at, err := s.Seek(c.off, c.whence)
		if err != nil || at != c.at {
			t.Fatalf("Seek(%d, %d) = %d, %v; want %d", c.off, c.whence, at, err, c.at)
		}
		buf := make([]byte, 300)
		n, err := io.ReadFull(s, buf)
		want := full[at:min(at+300, size)]
		if !bytes.Equal(buf[:n], want) || (err != nil && int64(n) == 300) {
			t.Fatalf("Read after Seek to %d: %d bytes, %v; want the file's %d bytes there", at, n, err, len(want))
		}
	}
	if _, err := s.Seek(-1, io.SeekStart); err == nil {
		t.Error("Seek to -1 accepted")
	}

	// ReadAt from several goroutines at once, as io.ReaderAt allows.
	var wg sync.WaitGroup
	errs := make(chan error, 8)
	for g := range 8 {
		wg.Go(func() {
			buf := make([]byte, 1500)
			for k := range 50 {
				off := int64((g*7919 + k*3989) % int(size-1500))
				if _, err := s.ReadAt(buf, off); err != nil {
					errs <- err
					return
				}
				if !bytes.Equal(buf, full[off:off+1500]) {
					errs <- fmt.Errorf("concurrent ReadAt at %d differs", off)
					return
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}

	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := s.ReadAt(buf, 0); !errors.Is(err, os.ErrClosed) {
		t.Errorf("ReadAt after Close: %v, want os.ErrClosed", err)
	}
}

// TestSealedServeContent serves a sealed recording the way the recordings
// page will, through http.ServeContent, and asks for ranges of it.
func TestSealedServeContent(t *testing.T) {
	kr := testKeyring(t, newKeys(t, "k"), "k", "k")
	path := filepath.Join(t.TempDir(), "call"+SealedExt)
	writeSealedTones(t, path, kr, 100, WriterConfig{})
	_, full := readSealed(t, path, kr)

	decrypted := make(chan int, 1) // chunks each request decrypted
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s, err := OpenSealed(path, kr)
		if err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
			return
		}
		defer s.Close()
		http.ServeContent(w, r, "call.wav", time.Time{}, s)
		decrypted <- s.decrypted
	}))
	defer srv.Close()

	size := int64(len(full))
	for _, c := range []struct {
		rng      string
		status   int
		from, to int64 // the bytes expected, to exclusive
	}{
		{"", http.StatusOK, 0, size},
		{"bytes=5000-15359", http.StatusPartialContent, 5000, 15360},
		{"bytes=0-43", http.StatusPartialContent, 0, 44},
		{"bytes=-100", http.StatusPartialContent, size - 100, size},
		{fmt.Sprintf("bytes=%d-", size-7000), http.StatusPartialContent, size - 7000, size},
	} {
		req, err := http.NewRequest(http.MethodGet, srv.URL, nil)
		if err != nil {
			t.Fatal(err)
		}
		if c.rng != "" {
			req.Header.Set("Range", c.rng)
		}
		resp, err := srv.Client().Do(req)
		if err != nil {
			t.Fatal(err)
		}
		body, err := io.ReadAll(resp.Body)
		resp.Body.Close()
		if err != nil {
			t.Fatal(err)
		}
		if resp.StatusCode != c.status || !bytes.Equal(body, full[c.from:c.to]) {
			t.Errorf("Range %q: %s, %d bytes; want %d and bytes %d-%d of the WAV",
				c.rng, resp.Status, len(body), c.status, c.from, c.to-1)
		}
		if ct := resp.Header.Get("Content-Type"); ct != "audio/wav" && ct != "audio/x-wav" && ct != "audio/wave" {
			t.Errorf("Range %q: Content-Type %q, want a WAV type", c.rng, ct)
		}
		// Only the chunks in the range are decrypted, besides the first
		// and the final one OpenSealed checks.
		spanned := int((c.to-1)/sealedChunkSize - c.from/sealedChunkSize + 1)
		if n := <-decrypted; n > spanned+2 {
			t.Errorf("Range %q: %d chunks decrypted, want at most %d", c.rng, n, spanned+2)
		}
	}
}

// TestSealedDecryptsLazily checks that a SealedFile decrypts only the chunks
// read, each once however small the reads.
func TestSealedDecryptsLazily(t *testing.T) {
	kr := testKeyring(t, newKeys(t, "k"), "k", "k")
	path := filepath.Join(t.TempDir(), "call"+SealedExt)
	writeSealedTones(t, path, kr, 100, WriterConfig{}) // 13 chunks
	const chunks = (headerSize + 100*frameBytes + sealedChunkSize - 1) / sealedChunkSize
	s, err := OpenSealed(path, kr)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if s.decrypted > 2 {
		t.Errorf("OpenSealed decrypted %d chunks, want the first and the final one only", s.decrypted)
	}
	before := s.decrypted
	buf := make([]byte, 100)
	if _, err := s.ReadAt(buf, 6*sealedChunkSize+10); err != nil {
		t.Fatal(err)
	}
	if n := s.decrypted - before; n != 1 {
		t.Errorf("reading 100 bytes in chunk 6 decrypted %d chunks, want 1", n)
	}
	before = s.decrypted
	for {
		if _, err := s.Read(buf); err == io.EOF {
			break
		} else if err != nil {
			t.Fatal(err)
		}
	}
	if n := s.decrypted - before; n > chunks {
		t.Errorf("reading the %d chunks 100 bytes at a time decrypted %d, want each once", chunks, n)
	}
}
