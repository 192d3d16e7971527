package media

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"net"
	"strings"
	"testing"
)

// holdBlock binds n consecutive ports from an even base in the default
// range, all free at the time, and returns the base and the sockets.
func holdBlock(t *testing.T, n int) (int, []*net.UDPConn) {
	t.Helper()
	for range 100 {
		base := DefaultPortMin + 2*rand.IntN((DefaultPortMax-DefaultPortMin-n)/2)
		var held []*net.UDPConn
		for p := base; p < base+n; p++ {
			c, err := listenUDP("udp4", loopback, p)
			if err != nil {
				break
			}
			held = append(held, c)
		}
		if len(held) == n {
			t.Cleanup(func() {
				for _, c := range held {
					_ = c.Close()
				}
			})
			return base, held
		}
		for _, c := range held {
			_ = c.Close()
		}
	}
	t.Fatalf("no %d free consecutive ports in the default range", n)
	return 0, nil
}

// With ports of the range taken by someone else, the session takes the
// one pair whose RTP and RTCP ports are both free, whatever pair the
// search starts from.
func TestNewSessionSkipsPortsInUse(t *testing.T) {
	expectNoSessionGoroutines(t)
	base, held := holdBlock(t, 6)
	// Taken: base+1 (pair base loses its RTCP port), base+2 (pair base+2
	// loses its RTP port). Free: base, base+3, and the pair base+4.
	for _, i := range []int{0, 3, 4, 5} {
		_ = held[i].Close()
	}
	for range 10 {
		s, err := NewSession(SessionConfig{BindIP: loopback, PortMin: base, PortMax: base + 5}, nil)
		if err != nil {
			t.Fatal(err)
		}
		if got := int(s.LocalAddr().Port()); got != base+4 {
			t.Errorf("got port %d of %d-%d, want %d", got, base, base+5, base+4)
		}
		_ = s.Close()
	}
}

// A range with no free pair is an error that names the range.
func TestNewSessionRangeFull(t *testing.T) {
	base, _ := holdBlock(t, 4)
	_, err := NewSession(SessionConfig{BindIP: loopback, PortMin: base, PortMax: base + 3}, nil)
	if !errors.Is(err, ErrNoFreePorts) || !strings.Contains(err.Error(), fmt.Sprintf("%d-%d", base, base+3)) {
		t.Errorf("NewSession in a full range: %v", err)
	}
}

func TestNewSessionBadRange(t *testing.T) {
	for _, r := range [][2]int{{5000, 4000}, {0, 5000}, {5000, 70000}, {5001, 5001}, {5001, 5002}} {
		if _, err := NewSession(SessionConfig{BindIP: loopback, PortMin: r[0], PortMax: r[1]}, nil); err == nil {
			t.Errorf("range %d-%d accepted", r[0], r[1])
		}
	}
}

// An odd PortMin starts at the even port above it; the default range is
// used when none is given.
func TestNewSessionPorts(t *testing.T) {
	expectNoSessionGoroutines(t)
	s := newTestSession(t, SessionConfig{})
	if p := int(s.LocalAddr().Port()); p%2 != 0 || p < DefaultPortMin || p > DefaultPortMax-1 {
		t.Errorf("default range gave port %d", p)
	}
	if a := s.LocalAddr().Addr(); a != loopback {
		t.Errorf("bound to %v", a)
	}
	base, held := holdBlock(t, 4)
	_ = held[1].Close()
	_ = held[2].Close()
	_ = held[3].Close()
	o := newTestSession(t, SessionConfig{PortMin: base + 1, PortMax: base + 3})
	if p := int(o.LocalAddr().Port()); p != base+2 {
		t.Errorf("range %d-%d gave port %d", base+1, base+3, p)
	}
}
