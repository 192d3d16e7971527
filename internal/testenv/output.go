package testenv

import (
	"bytes"
	"strings"
	"sync"
	"testing"
	"time"
)

// Output collects what a peer process prints, safely for its writer and
// the test reading it.
type Output struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (o *Output) Write(p []byte) (int, error) {
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.b.Write(p)
}

func (o *Output) String() string {
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.b.String()
}

// wait waits until the process has printed s, failing t after timeout or
// if the process exits (done closes) without printing it.
func (o *Output) wait(t testing.TB, who, s string, timeout time.Duration, done <-chan struct{}) {
	t.Helper()
	deadline := time.After(timeout)
	for !strings.Contains(o.String(), s) {
		select {
		case <-deadline:
			t.Fatalf("%s did not print %q within %s", who, s, timeout)
		case <-done:
			if !strings.Contains(o.String(), s) {
				t.Fatalf("%s exited without printing %q", who, s)
			}
		case <-time.After(50 * time.Millisecond):
		}
	}
}
