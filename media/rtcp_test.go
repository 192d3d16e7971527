package media

import (
	"math"
	"net"
	"net/netip"
	"testing"
	"time"

	"github.com/pion/rtcp"
)

func TestRxStatsLossAndWrap(t *testing.T) {
	var r rxStats
	r.init(1, 65530)
	for _, seq := range []uint16{65531, 65533, 65535, 0, 3, 2, 4} { // 65532, 65534, 1 lost; 2 reordered
		if res := r.update(seq); res != seqOK {
			t.Fatalf("seq %d: %v", seq, res)
		}
	}
	if r.expected() != 11 || r.lost() != 3 || r.cycles != seqMod || r.maxSeq != 4 {
		t.Errorf("expected %d lost %d cycles %d max %d; want 11, 3, 65536, 4", r.expected(), r.lost(), r.cycles, r.maxSeq)
	}
	r.update(4) // a duplicate counts as received (RFC 3550 §6.4.1)
	if r.lost() != 2 {
		t.Errorf("after a duplicate, lost %d, want 2", r.lost())
	}
	// A jump is not believed until the packet after it follows.
	if res := r.update(30000); res != seqInvalid {
		t.Errorf("jump: %v", res)
	}
	if res := r.update(5); res != seqOK {
		t.Errorf("back in sequence: %v", res)
	}
	r.update(40000)
	if res := r.update(40001); res != seqRestarted || r.expected() != 1 || r.lost() != 0 {
		t.Errorf("confirmed jump: %v, expected %d, lost %d", res, r.expected(), r.lost())
	}
}

// Interarrival jitter (RFC 3550 §A.8) is 0 for a steady stream and
// converges on the mean deviation for one that swings.
func TestRxStatsJitter(t *testing.T) {
	var steady, swinging rxStats
	for i := range 500 {
		ts := uint32(i * FrameSamples)
		at := time.Duration(i) * FrameDuration
		steady.arrival(at, ts)
		if i%2 == 1 {
			at += 10 * time.Millisecond // 80 samples late, every other packet
		}
		swinging.arrival(at, ts)
	}
	if steady.jitter>>4 != 0 {
		t.Errorf("steady stream: jitter %d", steady.jitter>>4)
	}
	if j := swinging.jitter >> 4; j < 75 || j > 80 {
		t.Errorf("stream swinging by 80 samples: jitter %d, want about 80", j)
	}
}

func TestNTPTime(t *testing.T) {
	tm := time.Date(2024, 1, 2, 3, 4, 5, 500_000_000, time.UTC)
	ntp := ntpTime(tm)
	if secs := ntp >> 32; secs != uint64(tm.Unix())+2208988800 {
		t.Errorf("seconds %d", secs)
	}
	if frac := uint32(ntp); frac != 1<<31 {
		t.Errorf("half a second is %#x", frac)
	}
}

// The test peer's loss shows in Stats and in the reports the session
// sends; the peer's reports about us show in Stats, with the round trip.
func TestSessionRTCP(t *testing.T) {
	expectNoSessionGoroutines(t)
	s := newTestSession(t, SessionConfig{RTCPInterval: 100 * time.Millisecond})
	p := newTestPeer(t)
	s.SetRemote(p.addr, PCMU, 0)
	sub := s.Subscribe(64)
	s.Start(t.Context())
	to := sessAddr(s)

	base := p.seq // 65530: the sequence wraps on the way
	lost := map[int]bool{10: true, 11: true, 20: true, 21: true, 22: true}
	for i := range 35 {
		if lost[i] {
			p.seq++
			p.ts += FrameSamples
			continue
		}
		p.sendAudio(to)
	}
	waitTicks(t, sub, 100, "30 packets", func(Tick) bool { return s.Stats().PacketsReceived == 30 })
	if st := s.Stats(); st.Lost != 5 {
		t.Errorf("Stats().Lost = %d, want 5", st.Lost)
	}
	wantHighest := uint32(base) + 34 // extended: the cycle count is in the high 16 bits

	var sr *rtcp.SenderReport
	sawFraction, sawTotal, sawCNAME := false, false, false
	buf := make([]byte, 1500)
	deadline := time.Now().Add(3 * time.Second)
	for !(sawFraction && sawTotal && sawCNAME && sr != nil) {
		_ = p.rtcp.SetReadDeadline(deadline)
		n, err := p.rtcp.Read(buf)
		if err != nil {
			t.Fatalf("reports so far: fraction %v, total %v, CNAME %v, SR %v: %v", sawFraction, sawTotal, sawCNAME, sr != nil, err)
		}
		pkts, err := rtcp.Unmarshal(buf[:n])
		if err != nil {
			t.Fatalf("the session sent bad RTCP: %v", err)
		}
		for _, pkt := range pkts {
			var blocks []rtcp.ReceptionReport
			switch pkt := pkt.(type) {
			case *rtcp.SenderReport:
				sr, blocks = pkt, pkt.Reports
			case *rtcp.ReceiverReport:
				blocks = pkt.Reports
			case *rtcp.SourceDescription:
				sawCNAME = len(pkt.Chunks) == 1 && len(pkt.Chunks[0].Items) > 0 && pkt.Chunks[0].Items[0].Type == rtcp.SDESCNAME
			}
			for _, b := range blocks {
				if b.SSRC != p.ssrc {
					t.Fatalf("report block about SSRC %#x, the peer's is %#x", b.SSRC, p.ssrc)
				}
				sawFraction = sawFraction || b.FractionLost > 0
				if b.TotalLost == 5 && b.LastSequenceNumber == wantHighest {
					sawTotal = true
				}
			}
		}
	}
	if sr.PacketCount == 0 || sr.SSRC == 0 {
		t.Errorf("SR: %+v", sr)
	}

	// The peer reports on our stream, quoting our SR at once: 25% lost, 7
	// in all, 10 ms of jitter.
	rr := rtcp.ReceiverReport{SSRC: p.ssrc, Reports: []rtcp.ReceptionReport{{
		SSRC: sr.SSRC, FractionLost: 64, TotalLost: 7, Jitter: 80,
		LastSenderReport: uint32(sr.NTPTime >> 16),
	}}}
	raw, err := rr.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	rtcpTo := netip.AddrPortFrom(loopback, to.Port()+1)

	// From another host it is not heard.
	stranger, err := net.ListenUDP("udp4", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 2)})
	if err != nil {
		t.Fatal(err)
	}
	defer stranger.Close()
	unknown := s.Stats().UnknownSource
	if _, err := stranger.WriteToUDPAddrPort(raw, rtcpTo); err != nil {
		t.Fatal(err)
	}
	waitTicks(t, sub, 50, "the stranger's report dropped", func(Tick) bool { return s.Stats().UnknownSource == unknown+1 })

	if _, err := p.rtcp.WriteToUDPAddrPort(raw, rtcpTo); err != nil {
		t.Fatal(err)
	}
	waitTicks(t, sub, 50, "the peer's report", func(Tick) bool { return s.Stats().RemoteLost == 7 })
	st := s.Stats()
	if st.RemoteFractionLost != 0.25 || math.Abs(st.RemoteJitterMs-10) > 0.01 || st.RTCPReceived != 1 {
		t.Errorf("from the peer's report: %+v", st)
	}
	if st.RoundTrip <= 0 || st.RoundTrip > time.Second {
		t.Errorf("round trip %v", st.RoundTrip)
	}
	if st.RTCPSent < 1 {
		t.Errorf("RTCP sent: %d", st.RTCPSent)
	}
}
