package media

import (
	"net/netip"
	"sync/atomic"
	"time"

	"github.com/pion/rtcp"
)

// RTCP (RFC 3550 §6) and the session's statistics. The receive side keeps
// the per-source state of RFC 3550 §A.1 (sequence numbers, extended
// highest, cycles) and §A.8 (interarrival jitter); the sender loop sends a
// compound report (SR when we sent since the last one, else RR, then SDES
// CNAME; BYE at the end) every RTCPInterval; the peer's SR and RR are read
// for its view of our stream and the round-trip time. RTCP is a few
// packets per call every few seconds: it may allocate.

// Stats are a session's counters, read without stopping it.
type Stats struct {
	PacketsSent     uint64 // RTP packets we sent (audio and events)
	OctetsSent      uint64 // their payload octets, as an SR counts them
	PacketsReceived uint64 // RTP packets accepted from the peer
	OctetsReceived  uint64 // their payload octets

	// Lost is RFC 3550's cumulative number of packets lost: expected
	// (from the highest sequence number) minus received; duplicates can
	// make it negative.
	Lost int64
	// JitterMs is the interarrival jitter of RFC 3550 §A.8, in ms.
	JitterMs float64

	Late             uint64 // packets that came after their playout, or were dropped to shorten the delay
	Duplicates       uint64 // packets received twice
	Concealed        uint64 // ticks filled by packet-loss concealment
	WrongPayloadType uint64 // packets from the peer with a payload type not negotiated
	UnknownSource    uint64 // packets from addresses that are not (yet) the peer
	Invalid          uint64 // datagrams that are not RTP/RTCP, or implausible sequence jumps
	SendErrors       uint64 // packets the socket would not send

	// LearnedSource is the address adopted by symmetric RTP in place of
	// the SDP one; zero if none was.
	LearnedSource netip.AddrPort

	DroppedTicks uint64 // ticks not delivered to full subscriptions (all subscribers)
	DroppedDTMF  uint64 // key presses not delivered because nobody read DTMF()

	RTCPSent     uint64
	RTCPReceived uint64

	// From the peer's reports about our stream.
	RemoteLost         int64
	RemoteFractionLost float64 // 0-1, over the peer's last report interval
	RemoteJitterMs     float64
	RoundTrip          time.Duration // from LSR/DLSR (RFC 3550 §6.4.1); 0 until known
}

// counters hold Stats while the session runs.
type counters struct {
	packetsSent, octetsSent         atomic.Uint64
	packetsReceived, octetsReceived atomic.Uint64
	lost                            atomic.Int64
	jitter                          atomic.Uint32 // timestamp units
	late, duplicates, concealed     atomic.Uint64
	wrongPayloadType, unknownSource atomic.Uint64
	invalid, sendErrors             atomic.Uint64
	learned                         atomic.Pointer[netip.AddrPort]
	droppedTicks, droppedDTMF       atomic.Uint64
	rtcpSent, rtcpReceived          atomic.Uint64
	remoteLost                      atomic.Int64
	remoteFraction, remoteJitter    atomic.Uint32
	roundTrip                       atomic.Int64
}

// Stats returns the session's counters so far. It is safe to call at any
// time, during or after the session.
func (s *Session) Stats() Stats {
	c := &s.st
	st := Stats{
		PacketsSent: c.packetsSent.Load(), OctetsSent: c.octetsSent.Load(),
		PacketsReceived: c.packetsReceived.Load(), OctetsReceived: c.octetsReceived.Load(),
		Lost:     c.lost.Load(),
		JitterMs: float64(c.jitter.Load()) * 1000 / Rate,
		Late:     c.late.Load(), Duplicates: c.duplicates.Load(), Concealed: c.concealed.Load(),
		WrongPayloadType: c.wrongPayloadType.Load(), UnknownSource: c.unknownSource.Load(),
		Invalid: c.invalid.Load(), SendErrors: c.sendErrors.Load(),
		DroppedTicks: c.droppedTicks.Load(), DroppedDTMF: c.droppedDTMF.Load(),
		RTCPSent: c.rtcpSent.Load(), RTCPReceived: c.rtcpReceived.Load(),
		RemoteLost:         c.remoteLost.Load(),
		RemoteFractionLost: float64(c.remoteFraction.Load()) / 256,
		RemoteJitterMs:     float64(c.remoteJitter.Load()) * 1000 / Rate,
		RoundTrip:          time.Duration(c.roundTrip.Load()),
	}
	if a := c.learned.Load(); a != nil {
		st.LearnedSource = *a
	}
	return st
}

// RFC 3550 §A.1.
const (
	maxDropout  = 3000
	maxMisorder = 100
	seqMod      = 1 << 16
)

type seqResult uint8

const (
	seqOK        seqResult = iota
	seqInvalid             // a jump too large to trust yet
	seqRestarted           // the jump was confirmed: the peer restarted its sequence
)

// rxStats is the receive state of the peer's stream (RFC 3550 §A.1, §A.8).
type rxStats struct {
	started  bool
	ssrc     uint32
	maxSeq   uint16
	cycles   uint32 // sequence number wraps, shifted left 16
	baseSeq  uint32
	badSeq   uint32
	received uint64

	expectedPrior, receivedPrior uint64 // at the last report

	haveTransit bool
	transit     int32
	jitter      uint32 // ×16, as in §A.8
}

// init starts on a new source with its first packet, counted.
func (r *rxStats) init(ssrc uint32, seq uint16) {
	*r = rxStats{started: true, ssrc: ssrc, baseSeq: uint32(seq), maxSeq: seq, badSeq: seqMod + 1, received: 1}
}

// update accounts for the next packet's sequence number.
func (r *rxStats) update(seq uint16) seqResult {
	udelta := seq - r.maxSeq
	switch {
	case udelta < maxDropout:
		if seq < r.maxSeq {
			r.cycles += seqMod
		}
		r.maxSeq = seq
	case udelta <= seqMod-maxMisorder:
		if uint32(seq) == r.badSeq {
			// Two packets in sequence after the jump: the source
			// restarted without telling us.
			r.init(r.ssrc, seq)
			return seqRestarted
		}
		r.badSeq = uint32(seq+1) & (seqMod - 1)
		return seqInvalid
	default:
		// Duplicate or reordered: counted, no new highest.
	}
	r.received++
	return seqOK
}

// arrival updates the interarrival jitter (§A.8) with an audio packet
// that arrived at, after the session's epoch, with RTP timestamp ts.
func (r *rxStats) arrival(at time.Duration, ts uint32) {
	arrival := uint32(at / (time.Second / Rate))
	transit := int32(arrival - ts)
	if r.haveTransit {
		d := transit - r.transit
		if d < 0 {
			d = -d
		}
		r.jitter += uint32(d) - ((r.jitter + 8) >> 4)
	}
	r.transit, r.haveTransit = transit, true
}

func (r *rxStats) expected() uint64 {
	return uint64(r.cycles) + uint64(r.maxSeq) - uint64(r.baseSeq) + 1
}

func (r *rxStats) lost() int64 { return int64(r.expected()) - int64(r.received) }

// peerReport is what we keep of the peer's last SR, for the LSR and DLSR
// of our reception report.
type peerReport struct {
	haveSR bool
	lsr    uint32 // middle 32 bits of its NTP timestamp
	at     time.Time
}

// reportState is the sender loop's own.
type reportState struct {
	next time.Time
	sent bool // RTP sent since the last report: an SR is due
}

// receptionReport builds the report block about the peer's stream and
// starts the next interval. Called with s.mu held.
func (s *Session) receptionReport(now time.Time) (rtcp.ReceptionReport, bool) {
	r := &s.rx
	if !r.started {
		return rtcp.ReceptionReport{}, false
	}
	expected := r.expected()
	lost := min(max(r.lost(), -0x800000), 0x7FFFFF) // 24-bit signed (§6.4.1)
	expInt, recvInt := expected-r.expectedPrior, r.received-r.receivedPrior
	r.expectedPrior, r.receivedPrior = expected, r.received
	var fraction uint8
	if lostInt := int64(expInt) - int64(recvInt); expInt > 0 && lostInt > 0 {
		fraction = uint8(min(lostInt<<8/int64(expInt), 255))
	}
	rep := rtcp.ReceptionReport{
		SSRC:               r.ssrc,
		FractionLost:       fraction,
		TotalLost:          uint32(lost) & 0xFFFFFF,
		LastSequenceNumber: r.cycles + uint32(r.maxSeq),
		Jitter:             r.jitter >> 4,
	}
	if s.peer.haveSR {
		rep.LastSenderReport = s.peer.lsr
		rep.Delay = uint32(now.Sub(s.peer.at) * 65536 / time.Second)
	}
	return rep, true
}

// reportBlock returns where reports go and the block about the peer.
func (s *Session) reportBlock(now time.Time) (netip.AddrPort, rtcp.ReceptionReport, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	block, ok := s.receptionReport(now)
	return s.rtcpAddr, block, ok
}

// sendReport sends our compound RTCP report, with a BYE at the end. Called
// by the sender goroutine only.
func (s *Session) sendReport(now time.Time, bye bool) {
	to, block, haveBlock := s.reportBlock(now)
	if !sendable(to) {
		return
	}
	var reports []rtcp.ReceptionReport
	if haveBlock {
		reports = []rtcp.ReceptionReport{block}
	}
	var first rtcp.Packet = &rtcp.ReceiverReport{SSRC: s.ssrc, Reports: reports}
	if s.report.sent {
		first = &rtcp.SenderReport{
			SSRC: s.ssrc, NTPTime: ntpTime(now), RTPTime: s.ts,
			PacketCount: uint32(s.st.packetsSent.Load()), OctetCount: uint32(s.st.octetsSent.Load()),
			Reports: reports,
		}
	}
	s.report.sent = false
	pkts := []rtcp.Packet{first, rtcp.NewCNAMESourceDescription(s.ssrc, s.cname)}
	if bye {
		pkts = append(pkts, &rtcp.Goodbye{Sources: []uint32{s.ssrc}})
	}
	b, err := rtcp.Marshal(pkts)
	if err != nil {
		s.st.sendErrors.Add(1)
		return
	}
	if _, err := s.rtcpConn.WriteToUDPAddrPort(b, to); err != nil {
		s.st.sendErrors.Add(1)
		return
	}
	s.st.rtcpSent.Add(1)
}

// receiveRTCP handles an RTCP datagram, from the RTCP socket or
// multiplexed on the RTP one. Only the peer's host is heard.
func (s *Session) receiveRTCP(b []byte, from netip.AddrPort, now time.Time, onRTCPSocket bool) {
	pkts, err := rtcp.Unmarshal(b)
	if err != nil {
		s.st.invalid.Add(1)
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if !s.source.IsValid() || from.Addr() != s.source.Addr() {
		s.st.unknownSource.Add(1)
		return
	}
	if onRTCPSocket {
		s.rtcpAddr = from
	}
	s.st.rtcpReceived.Add(1)
	s.peerPackets(pkts, now)
}

func (s *Session) peerPackets(pkts []rtcp.Packet, now time.Time) {
	for _, p := range pkts {
		switch p := p.(type) {
		case *rtcp.SenderReport:
			s.peer = peerReport{haveSR: true, lsr: uint32(p.NTPTime >> 16), at: now}
			s.peerBlocks(p.Reports, now)
		case *rtcp.ReceiverReport:
			s.peerBlocks(p.Reports, now)
		case *rtcp.CompoundPacket:
			s.peerPackets(*p, now)
		}
	}
}

// peerBlocks reads the peer's report blocks about our stream.
func (s *Session) peerBlocks(blocks []rtcp.ReceptionReport, now time.Time) {
	for _, r := range blocks {
		if r.SSRC != s.ssrc {
			continue
		}
		s.st.remoteLost.Store(int64(int32(r.TotalLost<<8) >> 8)) // sign-extend 24 bits
		s.st.remoteFraction.Store(uint32(r.FractionLost))
		s.st.remoteJitter.Store(r.Jitter)
		if r.LastSenderReport != 0 {
			// §6.4.1: round trip = arrival - LSR - DLSR, in 1/65536 s.
			rtt := uint32(ntpTime(now)>>16) - r.LastSenderReport - r.Delay
			if int32(rtt) >= 0 {
				s.st.roundTrip.Store(int64(time.Duration(rtt) * time.Second / 65536))
			}
		}
	}
}

// ntpTime is t as a 64-bit NTP timestamp (seconds since 1900, 32.32).
func ntpTime(t time.Time) uint64 {
	const epochOffset = 2208988800 // 1900 to 1970
	secs := uint64(t.Unix()) + epochOffset
	frac := uint64(t.Nanosecond()) << 32 / uint64(time.Second)
	return secs<<32 | frac
}
