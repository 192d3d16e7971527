package media

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"net"
	"net/netip"
	"syscall"
)

// One pair of UDP sockets per call leg, rather than one shared port
// demultiplexed by source address or SSRC: the kernel does the
// demultiplexing, each leg gets one reader goroutine per socket that blocks
// in recvfrom and costs nothing while idle, a spoofed packet can only reach
// the leg whose port it names, and a leg's end is a close(2). The cost is
// two descriptors and two parked goroutines per leg (about 8 KiB of stack
// each); TestSessionFootprint measures what a started session costs in
// goroutines and memory, and BenchmarkLoopback what a packet costs through
// the socket (figures in session.go).

// The default RTP port range (RTCP takes the odd port above each even one).
const (
	DefaultPortMin = 16384
	DefaultPortMax = 32767
)

// ErrNoFreePorts reports that every RTP/RTCP port pair of the configured
// range is in use.
var ErrNoFreePorts = errors.New("no free RTP port pair")

// listenPair binds an RTP socket on an even port of lo-hi and RTCP on the
// port above it. The search starts at a random pair, so concurrent calls
// and restarted servers spread over the range, and skips ports some other
// socket holds (the machine is shared: never assume the range is free).
// Any error other than "address in use" ends the search: it will not get
// better on the next port.
func listenPair(ip netip.Addr, lo, hi int) (rtpConn, rtcpConn *net.UDPConn, err error) {
	network := "udp4"
	if ip.Is6() && !ip.Is4In6() {
		network = "udp6"
	}
	first := lo + lo%2
	if first+1 > hi {
		return nil, nil, fmt.Errorf("media: RTP port range %d-%d holds no even port with an RTCP port above it", lo, hi)
	}
	pairs := (hi-1-first)/2 + 1
	start := rand.IntN(pairs)
	for i := range pairs {
		port := first + 2*((start+i)%pairs)
		rtpConn, err := listenUDP(network, ip, port)
		if err != nil {
			if errors.Is(err, syscall.EADDRINUSE) {
				continue
			}
			return nil, nil, fmt.Errorf("media: bind RTP port %d on %s: %w", port, ip, err)
		}
		rtcpConn, err := listenUDP(network, ip, port+1)
		if err != nil {
			_ = rtpConn.Close()
			if errors.Is(err, syscall.EADDRINUSE) {
				continue
			}
			return nil, nil, fmt.Errorf("media: bind RTCP port %d on %s: %w", port+1, ip, err)
		}
		return rtpConn, rtcpConn, nil
	}
	return nil, nil, fmt.Errorf("media: %w in %d-%d on %s: all %d pairs are taken; widen the range (port_min/port_max) or free ports",
		ErrNoFreePorts, lo, hi, ip, pairs)
}

func listenUDP(network string, ip netip.Addr, port int) (*net.UDPConn, error) {
	return net.ListenUDP(network, net.UDPAddrFromAddrPort(netip.AddrPortFrom(ip, uint16(port))))
}
