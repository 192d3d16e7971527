package testenv

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"regexp"
	"testing"
	"time"
)

// InNetnsEnv is set in the environment of a test run again by InNetns.
const InNetnsEnv = "SAMBUNG_IN_NETNS"

// InNetns runs the calling test again, alone, in a new network namespace
// holding only a loopback interface: what headless Chromium needs to
// connect WebRTC on loopback (elsewhere it picks the machine's other
// interface, see PEERS.md). It returns true in the parent, which should
// return at once (the child's result is its result), and false in the
// child, which goes on. env adds variables for the child. It needs root
// (unshare -n); without it the test is a missing peer.
func InNetns(t *testing.T, timeout time.Duration, env ...string) bool {
	t.Helper()
	if os.Getenv(InNetnsEnv) == "1" {
		return false
	}
	unshare := LookPath(t, "unshare", "Debian package util-linux")
	LookPath(t, "ip", "Debian package iproute2")
	if os.Geteuid() != 0 {
		Missing(t, "root (for a private network namespace)", "run the tests as root, as CI does")
	}
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	args := []string{"-n", "--", "sh", "-c", `ip link set lo up && exec "$@"`, "sh", os.Args[0],
		"-test.run", "^" + regexp.QuoteMeta(t.Name()) + "$", "-test.count", "1", "-test.v",
		"-test.timeout", timeout.String()}
	cmd := exec.CommandContext(ctx, unshare, args...)
	cmd.Env = append(append(os.Environ(), InNetnsEnv+"=1"), env...)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	err := cmd.Run()
	t.Logf("in a private network namespace:\n%s", out.String())
	if err != nil {
		t.Errorf("the test in its network namespace failed: %v", err)
	}
	return true
}
