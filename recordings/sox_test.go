package recordings

import (
	"bytes"
	"os/exec"
	"strconv"
	"strings"
	"testing"

	"github.com/sambung/sambung/internal/testenv"
)

// lookSox returns sox's path, or skips (fails under make test) without it.
func lookSox(t *testing.T) string {
	t.Helper()
	return testenv.LookPath(t, "sox", "Debian package sox")
}

// soxDuration is the length sox reads from the file's header, in seconds.
func soxDuration(t *testing.T, sox, path string) float64 {
	t.Helper()
	out, err := exec.Command(sox, "--i", "-D", path).CombinedOutput()
	if err != nil {
		t.Fatalf("sox --i -D %s: %v\n%s", path, err, out)
	}
	d, err := strconv.ParseFloat(strings.TrimSpace(string(out)), 64)
	if err != nil {
		t.Fatalf("sox --i -D %s printed %q", path, out)
	}
	return d
}

// soxStat runs `sox path -n stat`, fails t unless sox reads the whole file
// without error, and returns the figures it prints (RMS amplitude, ...),
// keyed by their label with spaces collapsed: "RMS amplitude".
func soxStat(t *testing.T, sox, path string) map[string]float64 {
	t.Helper()
	cmd := exec.Command(sox, path, "-n", "stat")
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Run(); err != nil {
		t.Fatalf("sox %s -n stat: %v\n%s", path, err, out.Bytes())
	}
	stats := map[string]float64{}
	for line := range strings.Lines(out.String()) {
		label, value, ok := strings.Cut(line, ":")
		if !ok {
			continue
		}
		if v, err := strconv.ParseFloat(strings.TrimSpace(value), 64); err == nil {
			stats[strings.Join(strings.Fields(label), " ")] = v
		}
	}
	if _, ok := stats["RMS amplitude"]; !ok {
		t.Fatalf("sox %s -n stat printed no RMS amplitude:\n%s", path, out.Bytes())
	}
	return stats
}
