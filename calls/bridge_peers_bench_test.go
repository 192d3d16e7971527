//go:build unix

package calls

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/pion/rtp"

	"github.com/sambung/sambung/media"
	"github.com/sambung/sambung/media/webrtc"
)

// The peers of BenchmarkBridgedCall, in a process of their own: a bare
// UDP caller and an agent's browser leg.

// bridgePeerMsg is one line between the benchmark and its peers' process,
// as JSON. Each message sets one field.
type bridgePeerMsg struct {
	Caller    string            `json:"caller,omitempty"`     // peers: the caller's RTP address, the first message
	Server    string            `json:"server,omitempty"`     // benchmark: where the caller is to send, a call's RTP address
	WantOffer bool              `json:"want_offer,omitempty"` // benchmark: make the browser's leg
	Offer     string            `json:"offer,omitempty"`      // peers: the browser's SDP offer
	Answer    string            `json:"answer,omitempty"`     // benchmark: the SDP answer to it
	Stop      bool              `json:"stop,omitempty"`       // benchmark: stop and say what was heard
	Heard     *bridgePeersHeard `json:"heard,omitempty"`      // peers: what they heard, the last message
}

// bridgePeersHeard counts the 20 ms frames in which each peer heard the
// other's tone.
type bridgePeersHeard struct {
	CallerHeardAgent int64 `json:"caller_heard_agent"`
	AgentHeardCaller int64 `json:"agent_heard_caller"`
}

// bridgePeers is the peers' process, as the benchmark sees it.
type bridgePeers struct {
	cmd    *exec.Cmd
	in     io.WriteCloser
	out    *json.Decoder
	outR   *os.File
	output bytes.Buffer // the process's stdout and stderr, shown if it fails
	once   sync.Once
	err    error
}

// startBridgePeers runs this test binary again as the peers' process: the
// benchmark's messages go to its stdin, its messages come back on its file
// descriptor 3 (its stdout belongs to the testing package).
func startBridgePeers(b *testing.B) *bridgePeers {
	b.Helper()
	outR, outW, err := os.Pipe()
	if err != nil {
		b.Fatal(err)
	}
	p := &bridgePeers{outR: outR, out: json.NewDecoder(outR)}
	p.cmd = exec.Command(os.Args[0], "-test.run=^$", "-test.bench=^BenchmarkBridgedCall$", "-test.benchtime=1x")
	p.cmd.Env = append(os.Environ(), bridgePeersEnv+"=1")
	p.cmd.Stdout, p.cmd.Stderr = &p.output, &p.output
	p.cmd.ExtraFiles = []*os.File{outW}
	if p.in, err = p.cmd.StdinPipe(); err != nil {
		b.Fatal(err)
	}
	err = p.cmd.Start()
	_ = outW.Close()
	if err != nil {
		_ = outR.Close()
		b.Fatal(err)
	}
	b.Cleanup(func() { p.close(b) })
	return p
}

func (p *bridgePeers) send(b *testing.B, m bridgePeerMsg) {
	b.Helper()
	if err := json.NewEncoder(p.in).Encode(m); err != nil {
		b.Fatalf("to the peers' process: %v", err)
	}
}

func (p *bridgePeers) recv(b *testing.B) bridgePeerMsg {
	b.Helper()
	var m bridgePeerMsg
	if err := p.out.Decode(&m); err != nil {
		p.close(b)
		b.Fatalf("from the peers' process: %v\n%s", err, p.output.String())
	}
	return m
}

// stop asks the peers to stop and returns what they heard.
func (p *bridgePeers) stop(b *testing.B) bridgePeersHeard {
	b.Helper()
	p.send(b, bridgePeerMsg{Stop: true})
	m := p.recv(b)
	if m.Heard == nil {
		b.Fatalf("the peers' last message: %+v", m)
	}
	return *m.Heard
}

// close ends the peers' process (its stdin closed, it stops) and waits for
// it. It may be called more than once.
func (p *bridgePeers) close(b *testing.B) {
	p.once.Do(func() {
		_ = p.in.Close()
		done := make(chan error, 1)
		go func() { done <- p.cmd.Wait() }()
		select {
		case p.err = <-done:
		case <-time.After(bridgeWait):
			_ = p.cmd.Process.Kill()
			p.err = fmt.Errorf("it did not stop: %w", <-done)
		}
		_ = p.outR.Close()
		if p.err != nil {
			b.Errorf("the peers' process: %v\n%s", p.err, p.output.String())
		}
	})
}

// runBridgePeers is the peers' process: a caller on a bare UDP socket
// sending a 440 Hz tone to the call the benchmark names, and a browser
// (a pion leg that offers) sending 1 kHz once the benchmark gives it an
// answer. Each counts the frames in which it hears the other's tone.
func runBridgePeers(b *testing.B) {
	toBench := json.NewEncoder(os.NewFile(3, "benchmark"))
	fromBench := json.NewDecoder(os.Stdin)
	conn, err := net.ListenUDP("udp", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		b.Fatal(err)
	}
	defer conn.Close()
	if err := toBench.Encode(bridgePeerMsg{Caller: conn.LocalAddr().String()}); err != nil {
		b.Fatal(err)
	}
	var browser *webrtc.Leg
	defer func() {
		if browser != nil {
			_ = browser.Close()
		}
	}()

	var (
		server  atomic.Pointer[net.UDPAddr]
		bridged atomic.Bool // the browser has its answer: the caller may hear the agent
		heard   struct{ callerHeardAgent, agentHeardCaller atomic.Int64 }
		loops   sync.WaitGroup
	)
	stop := make(chan struct{})
	loops.Go(func() { // the caller's mouth
		tone := media.NewTone(media.ToneSpec{Freqs: []float64{440}, Level: -12})
		var f media.Frame
		payload := make([]byte, media.FrameSamples)
		p := rtp.Packet{Header: rtp.Header{Version: 2, PayloadType: 0, SSRC: 0x5a5a}}
		tick := time.NewTicker(media.FrameDuration)
		defer tick.Stop()
		for {
			select {
			case <-stop:
				return
			case <-tick.C:
			}
			tone.ReadFrame(f[:])
			p.Payload = payload[:media.PCMU.Encode(payload, f[:])]
			p.SequenceNumber++
			p.Timestamp += media.FrameSamples
			if to := server.Load(); to != nil {
				raw, _ := p.Marshal()
				_, _ = conn.WriteToUDP(raw, to)
			}
		}
	})
	loops.Go(func() { // the caller's ear, until the socket closes
		buf := make([]byte, 1500)
		var p rtp.Packet
		var f media.Frame
		for {
			n, err := conn.Read(buf)
			if errors.Is(err, net.ErrClosed) {
				return
			}
			if err != nil || p.Unmarshal(buf[:n]) != nil || p.PayloadType != 0 {
				continue
			}
			media.PCMU.Decode(f[:], p.Payload)
			if bridged.Load() && toneDB(f[:], 1000) > -30 {
				heard.callerHeardAgent.Add(1)
			}
		}
	})
	browserLoop := func() { // the agent's microphone and speaker
		tone := media.NewTone(media.ToneSpec{Freqs: []float64{1000}, Level: -12})
		var out, in media.Frame
		tick := time.NewTicker(media.FrameDuration)
		defer tick.Stop()
		for {
			select {
			case <-stop:
				return
			case <-tick.C:
			}
			tone.ReadFrame(out[:])
			_ = browser.WriteFrame(out[:])
			if browser.Playout(in[:]) == media.PlayedAudio && toneDB(in[:], 440) > -30 {
				heard.agentHeardCaller.Add(1)
			}
		}
	}

	for {
		var m bridgePeerMsg
		if err := fromBench.Decode(&m); err != nil || m.Stop {
			break // the benchmark is done, or gone
		}
		switch {
		case m.Server != "":
			to, err := net.ResolveUDPAddr("udp", m.Server)
			if err != nil {
				b.Fatal(err)
			}
			server.Store(to)
		case m.WantOffer:
			ctx, cancel := context.WithTimeout(context.Background(), bridgeWait)
			var offer string
			browser, offer, err = webrtc.Offer(ctx, webrtc.Config{LoopbackOnly: true}, nil)
			cancel()
			if err != nil {
				b.Fatal(err)
			}
			if err := toBench.Encode(bridgePeerMsg{Offer: offer}); err != nil {
				b.Fatal(err)
			}
		case m.Answer != "" && browser != nil:
			if err := browser.Accept(m.Answer); err != nil {
				b.Fatal(err)
			}
			bridged.Store(true)
			loops.Go(browserLoop)
		}
	}
	close(stop)
	_ = conn.Close()
	if browser != nil {
		_ = browser.Close()
	}
	loops.Wait()
	h := bridgePeersHeard{CallerHeardAgent: heard.callerHeardAgent.Load(), AgentHeardCaller: heard.agentHeardCaller.Load()}
	_ = toBench.Encode(bridgePeerMsg{Heard: &h})
}
