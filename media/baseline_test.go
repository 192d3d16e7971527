package media

import (
	"net"
	"testing"
	"time"

	"github.com/pion/rtp"
)

// Baselines for the packet-path benchmarks, measured in the same run so
// each path reports a ratio as well as a time: what the path costs over
// the least any RTP stack must do.

// baseline is the time per call of f over n calls.
func baseline(n int, f func()) time.Duration {
	start := time.Now()
	for range n {
		f()
	}
	return time.Since(start) / time.Duration(n)
}

func samplePacket() *rtp.Packet {
	return &rtp.Packet{Header: rtp.Header{Version: 2, PayloadType: 0, SequenceNumber: 1000, Timestamp: 160000, SSRC: 0x5a4b3c2d},
		Payload: make([]byte, FrameSamples)}
}

// unmarshalBaseline is pion's bare parse of one 20 ms PCMU packet.
func unmarshalBaseline() time.Duration {
	raw, _ := samplePacket().Marshal()
	var p rtp.Packet
	return baseline(200000, func() { _ = p.Unmarshal(raw) })
}

// marshalBaseline is pion's bare serialisation of one 20 ms PCMU packet.
func marshalBaseline() time.Duration {
	p := samplePacket()
	buf := make([]byte, 1500)
	return baseline(200000, func() { _, _ = p.MarshalTo(buf) })
}

// sendtoBaseline is one UDP write of a PCMU packet's size on loopback.
func sendtoBaseline(b *testing.B) time.Duration {
	rx, err := net.ListenUDP("udp", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		b.Fatal(err)
	}
	defer rx.Close()
	tx, err := net.ListenUDP("udp", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		b.Fatal(err)
	}
	defer tx.Close()
	to := rx.LocalAddr().(*net.UDPAddr).AddrPort()
	pkt := make([]byte, 12+FrameSamples)
	go func() {
		buf := make([]byte, 1500)
		for {
			if _, err := rx.Read(buf); err != nil {
				return
			}
		}
	}()
	return baseline(20000, func() { _, _ = tx.WriteToUDPAddrPort(pkt, to) })
}

func reportRatio(b *testing.B, base time.Duration, unit string) {
	perOp := float64(b.Elapsed().Nanoseconds()) / float64(b.N)
	b.ReportMetric(float64(base.Nanoseconds()), unit+"-ns")
	b.ReportMetric(perOp/float64(base.Nanoseconds()), "x-"+unit)
}
