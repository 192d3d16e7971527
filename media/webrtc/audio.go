package webrtc

import (
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/pion/rtp"
	pion "github.com/pion/webrtc/v4"

	"github.com/sambung/sambung/media"
)

// The leg's audio. Outgoing: WriteFrame encodes a frame into the leg's own
// payload buffer and hands one packet to pion, which encrypts and sends it
// at once; pacing is the caller's (a media.Session tick, a bridge), and
// the RTP timestamp advances by the frame's samples. Incoming: one reader
// goroutine per remote track parses into a packet it owns and gives it to
// a media.Receiver, whose jitter buffer ReadFrame plays out once per tick.
// Neither path allocates in steady state (TestAllocations).

// maxReadErrors is how many failed reads in a row make the reader give up:
// a stream that only fails is broken, where one unknown payload type is not.
const maxReadErrors = 100

// Stats counts the leg's audio, for metrics.
type Stats struct {
	PacketsIn, BytesIn   uint64 // RTP from the browser (audio and events) and its payload bytes
	PacketsOut, BytesOut uint64 // RTP to the browser and its payload bytes
	// Dropped counts the browser's packets not played: unreadable, of an
	// unexpected payload type, duplicated, or too late for the jitter
	// buffer.
	Dropped     uint64
	Concealed   uint64 // 20 ms ticks played by packet-loss concealment
	Recovered   uint64 // lost Opus packets rebuilt from the next one (forward error correction)
	DroppedDTMF uint64 // key presses nobody took from DTMF in time
	WriteErrors uint64 // packets pion failed to send
}

// Stats returns the counters so far.
func (l *Leg) Stats() Stats {
	rs := l.rx.Stats()
	return Stats{
		PacketsIn:   rs.Packets,
		BytesIn:     rs.Octets,
		PacketsOut:  l.packetsOut.Load(),
		BytesOut:    l.bytesOut.Load(),
		Dropped:     l.invalid.Load() + rs.WrongPayloadType + rs.Duplicates + rs.Late,
		Concealed:   rs.Concealed,
		Recovered:   rs.Recovered,
		DroppedDTMF: rs.DroppedDTMF,
		WriteErrors: l.writeErrors.Load(),
	}
}

// WriteFrame sends one frame (media.FrameSamples samples: 20 ms at 8 kHz)
// to the browser as one packet in the leg's codec. The caller paces it, once per 20 ms.
// Before the browser is connected (Connected) frames are dropped; after
// the leg ended it returns why.
func (l *Leg) WriteFrame(f []int16) error {
	if len(f) != media.FrameSamples {
		return fmt.Errorf("webrtc: WriteFrame: %d samples, want %d (20 ms at 8 kHz)", len(f), media.FrameSamples)
	}
	select {
	case <-l.ending:
		return l.endErr
	default:
	}
	select {
	case <-l.connected:
	default:
		return nil
	}
	tx := &l.tx
	tx.mu.Lock()
	defer tx.mu.Unlock()
	n := tx.enc.Encode(tx.payload[:], f)
	if n == 0 {
		l.writeErrors.Add(1)
		return fmt.Errorf("webrtc: WriteFrame: the %s encoder failed", l.Codec())
	}
	p := &tx.pkt
	p.Marker = !tx.started // RFC 3551 §4.1: the first packet of a talkspurt
	tx.started = true
	p.Payload = tx.payload[:n]
	err := l.track.WriteRTP(p) // pion sets the negotiated SSRC and payload type
	p.SequenceNumber++
	p.Timestamp += tx.step
	if err != nil {
		l.writeErrors.Add(1)
		return fmt.Errorf("webrtc: send audio: %w", err)
	}
	l.packetsOut.Add(1)
	l.bytesOut.Add(uint64(n))
	return nil
}

// ReadFrame fills f with the browser's next 20 ms of audio, through the
// jitter buffer: the call is the playout clock, so it is made once per
// 20 ms. Gaps are concealed, then silent. It reports false only once the
// leg has ended (f is then silence), so a Leg is a media.Source that a
// media.Session can Play into a SIP call; Playout says whether audio
// actually arrived.
func (l *Leg) ReadFrame(f []int16) bool {
	select {
	case <-l.ending:
		clear(f)
		return false
	default:
	}
	l.Playout(f)
	return true
}

// Playout is ReadFrame that says what it played: the browser's audio,
// concealment of a lost packet, or silence because nothing arrived.
func (l *Leg) Playout(f []int16) media.Played {
	if len(f) >= media.FrameSamples {
		res := l.rx.Play((*media.Frame)(f), time.Now())
		clear(f[media.FrameSamples:])
		return res
	}
	var fr media.Frame
	res := l.rx.Play(&fr, time.Now())
	copy(f, fr[:])
	return res
}

// DTMF delivers the keys the browser presses (RTCDTMFSender, sent as RFC
// 4733 telephone-event), one event per press. It holds up to 16 events;
// more are dropped and counted. It is never closed: watch Done as well.
func (l *Leg) DTMF() <-chan media.DTMFEvent { return l.rx.DTMF() }

// KeyDown delivers each key as its first packet arrives, before the press
// is over (for barge-in). Keys nobody takes are dropped.
func (l *Leg) KeyDown() <-chan rune { return l.rx.KeyDown() }

func (l *Leg) onTrack(t *pion.TrackRemote, _ *pion.RTPReceiver) {
	defer l.recoverAt("track callback")
	if t.Kind() != pion.RTPCodecTypeAudio {
		return
	}
	l.log.Debug("webrtc: the browser's audio track arrived", "ssrc", uint32(t.SSRC()))
	l.goWorker("RTP reader", func() { l.readRTP(t) })
}

// readRTP reads one remote track until it ends. Each reader has its own
// buffers (a second track, after a renegotiation, has another); the
// Receiver takes over the newest stream.
func (l *Leg) readRTP(t *pion.TrackRemote) {
	buf := make([]byte, 1500)
	var p rtp.Packet
	// Room for the most CSRCs and some extensions, so parsing reuses them.
	p.CSRC = make([]uint32, 0, 15)
	p.Extensions = make([]rtp.Extension, 0, 16)
	errs := 0
	for {
		n, _, err := t.Read(buf)
		if err != nil {
			if errors.Is(err, io.EOF) || errors.Is(err, io.ErrClosedPipe) {
				return
			}
			select {
			case <-l.ending:
				return
			default:
			}
			// A packet pion could not place (an unnegotiated payload type).
			l.invalid.Add(1)
			if errs++; errs > maxReadErrors {
				l.end(fmt.Errorf("webrtc: read the browser's audio: %w", err))
				return
			}
			continue
		}
		errs = 0
		if p.Unmarshal(buf[:n]) != nil {
			l.invalid.Add(1)
			continue
		}
		now := time.Now()
		l.lastRecv.Store(int64(now.Sub(l.epoch)))
		l.rx.Receive(&p, now)
	}
}

// startSender keeps the sender and drains the browser's RTCP about our
// stream: with no interceptors nothing needs it, but unread it would fill
// pion's buffer.
func (l *Leg) startSender(s *pion.RTPSender) error {
	l.sender = s
	ok := l.goWorker("RTCP reader", func() {
		buf := make([]byte, 1500)
		for {
			if _, _, err := s.Read(buf); err != nil {
				return
			}
		}
	})
	if !ok {
		return fmt.Errorf("webrtc: start the RTCP reader: %w", ErrClosed)
	}
	return nil
}
