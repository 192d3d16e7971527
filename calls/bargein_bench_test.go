package calls

import (
	"context"
	"io"
	"log/slog"
	"net"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/pion/rtp"
	"github.com/sambung/sambung/ivr"
	"github.com/sambung/sambung/media"
	"github.com/sambung/sambung/store"
)

// The barge-in loop: a long interruptible prompt, a one-key gather, again.
const bargeFlow = `
name: barge
languages: [en]
variables: {key: ""}
start: menu
steps:
  menu: {say: {en: "a long menu"}, interruptible: true, next: key}
  key:
    gather: {prompt: {en: "a long key prompt"}, max_digits: 1, into: key, first_digit_timeout: 30s}
    next: menu
`

// wireCaller is a caller made of a bare UDP socket, so the benchmark sees
// packets the moment they arrive, with no jitter buffer of its own.
type wireCaller struct {
	conn   *net.UDPConn
	server *net.UDPAddr
	seq    uint16
	ts     uint32

	arrived chan bool // per PCMU packet from the server: is it loud
}

func (w *wireCaller) read() {
	buf := make([]byte, 1500)
	for {
		n, err := w.conn.Read(buf)
		if err != nil {
			close(w.arrived)
			return
		}
		var p rtp.Packet
		if p.Unmarshal(buf[:n]) != nil || p.PayloadType != 0 {
			continue
		}
		loud := false
		for _, b := range p.Payload {
			// µ-law silence is 0xFF and 0x7F; a 1 kHz tone at -15 dBFS
			// never comes near them.
			if b&0x7F < 0x70 {
				loud = true
				break
			}
		}
		select {
		case w.arrived <- loud:
		default:
		}
	}
}

// key sends one RFC 4733 packet of key 5.
func (w *wireCaller) key(duration uint16, end bool) {
	w.seq++
	ev := media.TelephoneEvent{Event: 5, End: end, Volume: 10, Duration: duration}
	payload := make([]byte, 4)
	_, _ = ev.MarshalTo(payload)
	p := rtp.Packet{Header: rtp.Header{Version: 2, PayloadType: 101, SequenceNumber: w.seq, Timestamp: w.ts,
		SSRC: 0x5a5a, Marker: duration == media.FrameSamples}, Payload: payload}
	raw, _ := p.Marshal()
	_, _ = w.conn.WriteToUDP(raw, w.server)
}

// drain forgets the packets that have arrived so far.
func (w *wireCaller) drain() {
	for {
		select {
		case <-w.arrived:
		default:
			return
		}
	}
}

// waitLoud waits for n loud packets in a row.
func (w *wireCaller) waitLoud(tb testing.TB, n int) {
	run := 0
	timeout := time.After(20 * time.Second)
	for run < n {
		select {
		case loud, ok := <-w.arrived:
			if !ok {
				tb.Fatal("the call ended")
			}
			if loud {
				run++
			} else {
				run = 0
			}
		case <-timeout:
			tb.Fatal("the prompt never played")
		}
	}
}

// BenchmarkDTMFToPromptStop measures, on the wire, the time from a key's
// first RFC 4733 packet to the first silent packet of an interruptible
// prompt (goal: under 40 ms). Both clocks start just after a packet from
// the server has arrived, so the baseline, measured in the same run, is
// the time from there to the next packet: the server sends every 20 ms,
// and no reaction can show sooner. x-floor is the ratio of the two.
func BenchmarkDTMFToPromptStop(b *testing.B) {
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	st, err := store.Open(context.Background(), store.Config{DataDir: b.TempDir()}, log)
	if err != nil {
		b.Fatal(err)
	}
	defer st.Close()
	menu := make(chan struct{}, 1)
	sb, err := NewSwitchboard(Config{
		Media: media.SessionConfig{BindIP: netip.MustParseAddr("127.0.0.1"), MediaTimeout: -1},
		Lines: flowLines(b, bargeFlow), IVR: &ivr.Runtime{Voice: toneVoice{}},
		OnEvent: func(e store.CallEvent) {
			if e.Kind == "ivr.prompt" && strings.Contains(string(e.Data), "a long menu") {
				select {
				case menu <- struct{}{}:
				default:
				}
			}
		},
	}, st, log)
	if err != nil {
		b.Fatal(err)
	}
	conn, err := net.ListenUDP("udp", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		b.Fatal(err)
	}
	w := &wireCaller{conn: conn, arrived: make(chan bool, 4096), ts: 1000}
	leg := &fakeLeg{to: "barge", answered: make(chan netip.AddrPort, 1), done: make(chan struct{}), updates: make(chan RemoteMedia),
		remote: RemoteMedia{Addr: conn.LocalAddr().(*net.UDPAddr).AddrPort(), Codecs: []media.Codec{media.PCMU},
			DTMFPayloadType: 101, Direction: media.SendRecv}}
	ended := make(chan struct{})
	go func() { defer close(ended); sb.HandleInbound(leg) }()
	w.server = net.UDPAddrFromAddrPort(<-leg.answered)
	go w.read()
	defer func() {
		leg.end("caller_bye")
		<-ended
		conn.Close()
	}()

	var stop, floor time.Duration
	b.ResetTimer()
	for range b.N {
		select {
		case <-menu:
		case <-time.After(20 * time.Second):
			b.Fatal("the menu never played")
		}
		w.waitLoud(b, 10)
		// The floor: from now to the next packet.
		w.drain()
		t0 := time.Now()
		<-w.arrived
		floor += time.Since(t0)

		w.waitLoud(b, 5)
		w.ts += 8000
		w.drain()
		t0 = time.Now()
		w.key(media.FrameSamples, false)
		for loud := range w.arrived {
			if !loud {
				break
			}
		}
		stop += time.Since(t0)
		for range 3 {
			w.key(3*media.FrameSamples, true)
		}
	}
	b.StopTimer()
	ms := func(d time.Duration) float64 { return float64(d) / float64(b.N) / float64(time.Millisecond) }
	b.ReportMetric(ms(stop), "ms-dtmf-to-stop")
	b.ReportMetric(ms(floor), "ms-next-packet")
	b.ReportMetric(float64(stop)/float64(floor), "x-floor")
}
