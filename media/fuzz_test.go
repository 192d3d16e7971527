package media

import (
	"net/netip"
	"testing"
	"time"

	"github.com/pion/rtcp"
	"github.com/pion/rtp"
)

// Fuzz targets for what the RTP and RTCP sockets read from the network.
// Seeds are built here; run with go test -fuzz=FuzzRTPPacket ./media/.

func rtpSeed(h rtp.Header, payload []byte) []byte {
	h.Version = 2
	b, err := (&rtp.Packet{Header: h, Payload: payload}).Marshal()
	if err != nil {
		panic(err)
	}
	return b
}

// FuzzRTPPacket: a datagram on the RTP socket, through the whole receive
// path (parse, source learning, statistics, jitter buffer, decode, RFC 4733
// parse and the DTMF receiver), and through the parsers alone, never
// panics; the session keeps playing frames out.
func FuzzRTPPacket(f *testing.F) {
	f.Add(rtpSeed(rtp.Header{PayloadType: 0, SequenceNumber: 1, Timestamp: 160, SSRC: 7}, make([]byte, 160)))
	f.Add(rtpSeed(rtp.Header{PayloadType: 101, SequenceNumber: 2, Timestamp: 160, SSRC: 7, Marker: true}, []byte{11, 0x8A, 3, 32}))
	f.Add(rtpSeed(rtp.Header{PayloadType: 101, SequenceNumber: 3, Timestamp: 320, SSRC: 7}, []byte{200, 10, 0}))
	f.Add(rtpSeed(rtp.Header{PayloadType: 8, SequenceNumber: 65535, Timestamp: 0, SSRC: 9, CSRC: []uint32{1, 2, 3}}, make([]byte, 80)))
	ext := rtp.Header{PayloadType: 0, SequenceNumber: 40000, SSRC: 7, Extension: true, ExtensionProfile: rtp.ExtensionProfileOneByte}
	_ = ext.SetExtension(1, []byte{0xAA, 0xBB})
	f.Add(rtpSeed(ext, make([]byte, 160)))
	two := rtp.Header{PayloadType: 0, SequenceNumber: 5, SSRC: 7, Extension: true, ExtensionProfile: rtp.ExtensionProfileTwoByte}
	_ = two.SetExtension(3, make([]byte, 20))
	f.Add(rtpSeed(two, make([]byte, 10)))
	f.Add(rtpSeed(rtp.Header{PayloadType: 0, SequenceNumber: 6, SSRC: 7, Padding: true, PaddingSize: 4}, make([]byte, 160)))
	f.Add([]byte{0x80, 0xC8, 0, 1, 0, 0, 0, 1}) // RTCP on the RTP port
	f.Add([]byte{0x9F, 0, 0, 0})
	f.Add([]byte{})

	s := newTestSession(f, SessionConfig{LearnPackets: 2})
	peer := netip.AddrPortFrom(loopback, 40000)
	other := netip.AddrPortFrom(loopback, 40002)
	s.SetRemote(peer, PCMU, 101)
	now := time.Unix(1700000000, 0)
	var out Frame
	f.Fuzz(func(t *testing.T, b []byte) {
		var p rtp.Packet
		if p.Unmarshal(b) == nil {
			var ev TelephoneEvent
			_ = ev.Unmarshal(p.Payload)
			_, _ = ev.Digit()
			var j jitterBuffer
			j.setDelay(1)
			if fr, _ := j.insert(p.SequenceNumber, len(p.Payload) > 4); fr != nil {
				PCMU.Decode(fr[:], p.Payload)
			}
			j.pop(&out)
			j.pop(&out)
		}
		// Twice from the peer, once from elsewhere, then a tick's playout.
		s.receive(b, peer, now)
		s.receive(b, peer, now.Add(time.Millisecond))
		s.receive(b, other, now)
		s.mu.Lock()
		s.jitter.pop(&out)
		s.dtmfRx.expire(now)
		s.mu.Unlock()
		now = now.Add(FrameDuration)
		for len(s.dtmfCh) > 0 {
			<-s.dtmfCh
		}
	})
}

// FuzzRTCP: a datagram on the RTCP socket never panics the parser or the
// session's handling of reports.
func FuzzRTCP(f *testing.F) {
	rr := &rtcp.ReceiverReport{SSRC: 1, Reports: []rtcp.ReceptionReport{{SSRC: 2, FractionLost: 10, TotalLost: 0xFFFFFF, LastSenderReport: 5, Delay: 6}}}
	sr := &rtcp.SenderReport{SSRC: 1, NTPTime: 1 << 40, RTPTime: 3, PacketCount: 4, OctetCount: 5, Reports: rr.Reports}
	for _, pkts := range [][]rtcp.Packet{
		{rr},
		{sr, rtcp.NewCNAMESourceDescription(1, "x@y")},
		{sr, rtcp.NewCNAMESourceDescription(1, "x@y"), &rtcp.Goodbye{Sources: []uint32{1}, Reason: "bye"}},
		{&rtcp.PictureLossIndication{SenderSSRC: 1, MediaSSRC: 2}},
	} {
		b, err := rtcp.Marshal(pkts)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Add([]byte{0x81, 0xC9, 0, 7})
	f.Add([]byte{0x80, 0xC8, 0xFF, 0xFF, 1, 2, 3, 4})
	f.Add([]byte{})

	s := newTestSession(f, SessionConfig{})
	peer := netip.AddrPortFrom(loopback, 40000)
	s.SetRemote(peer, PCMU, 101)
	now := time.Unix(1700000000, 0)
	f.Fuzz(func(t *testing.T, b []byte) {
		if pkts, err := rtcp.Unmarshal(b); err == nil {
			for _, p := range pkts {
				_ = p.DestinationSSRC()
			}
		}
		s.receiveRTCP(b, peer, now, true)
		s.receive(b, peer, now) // multiplexed on the RTP port
		s.mu.Lock()
		s.receptionReport(now)
		s.mu.Unlock()
		_ = s.Stats()
	})
}
