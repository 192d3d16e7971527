package sip

import (
	"net"
	"testing"

	sipmsg "github.com/emiago/sipgo/sip"
)

// BenchmarkReadFilter measures what the UDP read filter adds to every
// datagram: a second parse of a valid INVITE (sipgo parses it again).
func BenchmarkReadFilter(b *testing.B) {
	s, err := New(Config{UDP: []string{"127.0.0.1:0"}}, nil)
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	msg := message("bench", inviteHead, offerSDP(30000, ""))
	info := sipmsg.TransportReadProps{Transport: "UDP", LocalAddr: s.udp[0].LocalAddr(), RemoteAddr: &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1), Port: 5070}}
	b.ReportAllocs()
	for b.Loop() {
		if out, _ := s.readFilter(info, msg); len(out) != len(msg) {
			b.Fatal("valid INVITE filtered out")
		}
	}
	b.ReportMetric(float64(len(msg)), "bytes/msg")
}
