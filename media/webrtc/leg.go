// Package webrtc is a call leg to a browser: an agent's softphone, or a
// customer's click-to-call page. It wraps pion/webrtc, whose types stay
// inside this package: the rest of Sambung sees SDP as strings, audio as
// 20 ms frames of 8 kHz PCM (media.Frame) and keys as media.DTMFEvent, as
// it does for a SIP leg's media.Session.
//
// The leg speaks Opus or PCMU, whichever of Config.Codecs comes first in
// the browser's offer (codec.go), and RFC 4733 telephone-event.
// Signalling is the caller's: the browser's offer arrives over the web
// socket, Answer returns the answer to send back, and ICE is
// not trickled (the answer carries every candidate), so one message each
// way sets the call up and one more each way restarts ICE.
package webrtc

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"runtime/debug"
	"sync"
	"sync/atomic"
	"time"

	"github.com/pion/rtp"
	pion "github.com/pion/webrtc/v4"

	"github.com/sambung/sambung/media"
)

// Errors a leg ends with (see Leg.Err). A media timeout ends it with an
// error wrapping media.ErrMediaTimeout, as a SIP leg's session does.
var (
	ErrClosed       = errors.New("webrtc: leg closed")
	ErrICEFailed    = errors.New("webrtc: the connection to the browser failed (ICE or DTLS), and no ICE restart mended it within the timeout")
	ErrRemoteClosed = errors.New("webrtc: the browser closed the connection")
)

// Leg is one browser's audio: a PeerConnection with one audio track each
// way, in one codec for the leg's life. Create it with Answer (the
// browser offers) or Offer (we offer); Close releases it. Its methods are safe for concurrent use, but audio
// has one writer and one reader: WriteFrame and ReadFrame are each called
// from one goroutine, once per 20 ms.
type Leg struct {
	cfg       Config
	log       *slog.Logger
	pc        *pion.PeerConnection
	format    *format                // the codec, chosen at the first offer or answer (under sig)
	codec     atomic.Pointer[format] // the same, for Codec without sig
	dec       media.Decoder
	track     *pion.TrackLocalStaticRTP
	sender    *pion.RTPSender
	rx        *media.Receiver
	epoch     time.Time    // the leg's monotonic time origin
	lastRecv  atomic.Int64 // since epoch, in ns: the media timeout's clock
	connected chan struct{}
	connOnce  sync.Once

	sig sync.Mutex // one offer/answer exchange at a time

	life     sync.Mutex
	stopping bool           // no goroutine may start any more
	workers  sync.WaitGroup // readers of the browser's RTP and RTCP
	ending   chan struct{}  // closed by end: the first reason is in endErr
	endOnce  sync.Once
	endErr   error
	done     chan struct{}

	tx sender

	invalid, packetsOut, bytesOut, writeErrors atomic.Uint64
}

// sender is WriteFrame's state: the encoder, one packet and its payload,
// reused.
type sender struct {
	mu      sync.Mutex
	enc     media.Encoder
	step    uint32 // RTP timestamp ticks per frame
	pkt     rtp.Packet
	payload [media.MaxPayload]byte
	started bool
}

// Answer makes a leg from the browser's SDP offer and returns it with the
// SDP answer to send back. The answer takes the first of Config.Codecs the
// offer has, and the telephone-event at its clock rate when offered; an
// offer with none of them is refused with an error wrapping ErrNoCodec
// that names what was offered. ctx bounds the answering, candidate
// gathering included (with STUN or TURN servers this can take seconds);
// the leg then lives until Close or until it fails (see Err). log may be
// nil.
func Answer(ctx context.Context, cfg Config, offer string, log *slog.Logger) (*Leg, string, error) {
	if err := cfg.fillDefaults(); err != nil {
		return nil, "", err
	}
	if _, err := checkOffer(offer, cfg.prefs); err != nil {
		return nil, "", err
	}
	l, err := newLeg(cfg, log)
	if err != nil {
		return nil, "", err
	}
	answer, err := l.answer(ctx, offer, cfg.prefs)
	if err != nil {
		_ = l.Close()
		return nil, "", err
	}
	return l, answer, nil
}

// Offer makes a leg that offers first (we call the browser) and returns it
// with our SDP offer: the first of Config.Codecs, alone, and its
// telephone-event. The browser's answer goes to Accept. ctx bounds
// candidate gathering. log may be nil.
func Offer(ctx context.Context, cfg Config, log *slog.Logger) (*Leg, string, error) {
	l, err := newLeg(cfg, log)
	if err != nil {
		return nil, "", err
	}
	offer, err := l.offer(ctx)
	if err != nil {
		_ = l.Close()
		return nil, "", err
	}
	return l, offer, nil
}

func newLeg(cfg Config, log *slog.Logger) (*Leg, error) {
	if err := cfg.fillDefaults(); err != nil {
		return nil, err
	}
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	api, err := newAPI(cfg, log)
	if err != nil {
		return nil, err
	}
	pc, err := api.NewPeerConnection(cfg.configuration())
	if err != nil {
		return nil, fmt.Errorf("webrtc: new peer connection: %w", err)
	}
	l := &Leg{
		cfg: cfg, log: log, pc: pc,
		rx:        media.NewReceiver(media.ReceiverConfig{Codec: media.PCMU, JitterDelay: cfg.JitterDelay}),
		epoch:     time.Now(),
		connected: make(chan struct{}),
		ending:    make(chan struct{}),
		done:      make(chan struct{}),
	}
	// RFC 3550 §5.1: random initial sequence number and timestamp.
	l.tx.pkt.Header = rtp.Header{Version: 2, SequenceNumber: uint16(rand.Uint32()), Timestamp: rand.Uint32()}
	pc.OnTrack(l.onTrack)
	pc.OnConnectionStateChange(l.onConnectionState)
	pc.OnICEConnectionStateChange(l.onICEState)
	go l.run()
	return l, nil
}

// answer applies an offer from the browser and returns our answer, with
// candidates. It serves the first offer, where the leg's codec is the
// first of prefs the offer has, and every later one (Restart), which must
// still have it.
func (l *Leg) answer(ctx context.Context, offer string, prefs []*format) (string, error) {
	l.sig.Lock()
	defer l.sig.Unlock()
	if l.format != nil {
		prefs = []*format{l.format}
	}
	ac, err := parseAudio(offer)
	if err != nil {
		return "", fmt.Errorf("webrtc: the browser's offer: %w", err)
	}
	f, pt, eventPT, ok := choose(prefs, ac)
	if !ok {
		return "", fmt.Errorf("webrtc: the browser's new offer has no %s, the call's codec: %w", codecList(prefs), ErrNoCodec)
	}
	if err := l.pc.SetRemoteDescription(pion.SessionDescription{Type: pion.SDPTypeOffer, SDP: offer}); err != nil {
		return "", fmt.Errorf("webrtc: apply the browser's offer: %w", err)
	}
	if l.sender == nil {
		if err := l.setFormat(f); err != nil {
			return "", err
		}
		// After the offer, so the track goes out on the browser's own
		// audio transceiver (sendrecv) rather than a second m-line.
		s, err := l.pc.AddTrack(l.track)
		if err != nil {
			return "", fmt.Errorf("webrtc: add our audio track: %w", err)
		}
		if err := l.startSender(s); err != nil {
			return "", err
		}
	}
	// The answer carries the leg's codec alone, at the browser's payload
	// types, so the browser sends nothing else.
	if err := l.preferFormat(pion.PayloadType(pt), pion.PayloadType(eventPT)); err != nil {
		return "", err
	}
	answer, err := l.pc.CreateAnswer(nil)
	if err != nil {
		return "", fmt.Errorf("webrtc: create answer: %w", err)
	}
	desc, err := l.setLocal(ctx, answer)
	if err != nil {
		return "", err
	}
	if err := l.useFormat(desc); err != nil {
		return "", fmt.Errorf("webrtc: our answer: %w", err)
	}
	return desc, nil
}

// setFormat makes the leg speak f: our track, the encoder, the decoder.
func (l *Leg) setFormat(f *format) error {
	enc, err := f.newEncoder()
	if err != nil {
		return fmt.Errorf("webrtc: %s: %w", f.name, err)
	}
	dec, err := f.newDecoder()
	if err != nil {
		return fmt.Errorf("webrtc: %s: %w", f.name, err)
	}
	track, err := pion.NewTrackLocalStaticRTP(f.capability, "audio", "sambung")
	if err != nil {
		return fmt.Errorf("webrtc: new audio track: %w", err)
	}
	l.format, l.dec, l.track = f, dec, track
	l.codec.Store(f)
	l.tx.mu.Lock()
	l.tx.enc, l.tx.step = enc, f.tsStep()
	l.tx.mu.Unlock()
	l.log.Debug("webrtc: audio codec", "codec", f.name)
	return nil
}

// preferFormat narrows our audio transceiver to the leg's codec and its
// telephone-event (eventPT 0: none), at those payload types.
func (l *Leg) preferFormat(pt, eventPT pion.PayloadType) error {
	codecs := []pion.RTPCodecParameters{{RTPCodecCapability: l.format.capability, PayloadType: pt}}
	if eventPT != 0 {
		codecs = append(codecs, pion.RTPCodecParameters{RTPCodecCapability: l.format.event(), PayloadType: eventPT})
	}
	for _, tr := range l.pc.GetTransceivers() {
		if tr.Sender() == l.sender {
			if err := tr.SetCodecPreferences(codecs); err != nil {
				return fmt.Errorf("webrtc: narrow the audio codecs to %s: %w", l.format.name, err)
			}
			return nil
		}
	}
	return fmt.Errorf("webrtc: our audio transceiver is gone")
}

// useFormat reads the payload types the browser will send from the
// description that settled them (our answer, or the browser's), and
// gives them to the receiver.
func (l *Leg) useFormat(desc string) error {
	ac, err := parseAudio(desc)
	if err != nil {
		return err
	}
	_, pt, eventPT, ok := choose([]*format{l.format}, ac)
	if !ok {
		return fmt.Errorf("no %s audio in %v (the audio section was rejected): %w", l.format.sdpName(), ac.names, ErrNoCodec)
	}
	l.rx.SetAudio(pt, l.dec)
	l.rx.SetTelephoneEvent(eventPT, l.format.clock())
	return nil
}

func (l *Leg) offer(ctx context.Context) (string, error) {
	l.sig.Lock()
	defer l.sig.Unlock()
	f := l.cfg.prefs[0]
	if err := l.setFormat(f); err != nil {
		return "", err
	}
	tr, err := l.pc.AddTransceiverFromTrack(l.track, pion.RTPTransceiverInit{Direction: pion.RTPTransceiverDirectionSendrecv})
	if err != nil {
		return "", fmt.Errorf("webrtc: add our audio track: %w", err)
	}
	if err := l.startSender(tr.Sender()); err != nil {
		return "", err
	}
	if err := l.preferFormat(f.pt, f.eventPT); err != nil {
		return "", err
	}
	offer, err := l.pc.CreateOffer(nil)
	if err != nil {
		return "", fmt.Errorf("webrtc: create offer: %w", err)
	}
	return l.setLocal(ctx, offer)
}

// Accept applies the browser's SDP answer to our Offer. An answer without
// the codec offered is refused with an error wrapping ErrNoCodec; the leg
// is then of no use and should be closed.
func (l *Leg) Accept(answer string) error {
	l.sig.Lock()
	defer l.sig.Unlock()
	if err := l.useFormat(answer); err != nil {
		return fmt.Errorf("webrtc: the browser's answer: %w", err)
	}
	if err := l.pc.SetRemoteDescription(pion.SessionDescription{Type: pion.SDPTypeAnswer, SDP: answer}); err != nil {
		return fmt.Errorf("webrtc: apply the browser's answer: %w", err)
	}
	return nil
}

// Codec names the leg's audio codec ("opus", "PCMU"), or "" before the
// first offer or answer.
func (l *Leg) Codec() string {
	if f := l.codec.Load(); f != nil {
		return f.name
	}
	return ""
}

// Restart answers a new offer from the browser on a leg that is up: above
// all an ICE restart (RTCPeerConnection.restartIce, after the browser's
// network changed), which moves the call to a new path while it goes on.
// It returns the answer to send back. The offer must still carry the
// leg's codec.
func (l *Leg) Restart(ctx context.Context, offer string) (string, error) {
	select {
	case <-l.ending:
		return "", fmt.Errorf("webrtc: restart: %w", l.endErr)
	default:
	}
	answer, err := l.answer(ctx, offer, l.cfg.prefs)
	if err != nil {
		return "", fmt.Errorf("webrtc: restart: %w", err)
	}
	l.log.Info("webrtc: answered a new offer from the browser")
	return answer, nil
}

// setLocal sets our description and waits until candidate gathering is
// over, so what it returns carries every candidate (no trickle ICE). An
// ICE restart starts gathering again inside SetRemoteDescription, so the
// wait is armed after it, never on the last gathering's completion.
func (l *Leg) setLocal(ctx context.Context, desc pion.SessionDescription) (string, error) {
	if err := l.pc.SetLocalDescription(desc); err != nil {
		return "", fmt.Errorf("webrtc: set local %s: %w", desc.Type, err)
	}
	gathered := pion.GatheringCompletePromise(l.pc)
	select {
	case <-gathered:
	case <-ctx.Done():
		return "", fmt.Errorf("webrtc: gather ICE candidates: %w", context.Cause(ctx))
	case <-l.ending:
		return "", fmt.Errorf("webrtc: gather ICE candidates: %w", l.endErr)
	}
	return l.pc.LocalDescription().SDP, nil
}

// Connected is closed once the browser is connected (ICE and DTLS up) for
// the first time: audio written before is not sent.
func (l *Leg) Connected() <-chan struct{} { return l.connected }

// Done is closed when the leg has ended and its goroutines are gone.
func (l *Leg) Done() <-chan struct{} { return l.done }

// Err says why the leg ended: ErrClosed, ErrRemoteClosed, ErrICEFailed,
// an error wrapping media.ErrMediaTimeout (no RTP from the browser for
// Config.Timeout), or an internal failure. It is nil while the leg runs.
func (l *Leg) Err() error {
	select {
	case <-l.done:
		return l.endErr
	default:
		return nil
	}
}

// Close ends the leg, waits for its goroutines and releases its sockets.
// It may be called more than once, and from any goroutine but the leg's
// own callbacks.
func (l *Leg) Close() error {
	l.end(ErrClosed)
	<-l.done
	return nil
}

// end records why the leg ends, the first reason only, and wakes run.
func (l *Leg) end(err error) {
	l.endOnce.Do(func() {
		l.endErr = err
		close(l.ending)
	})
}

// run owns the leg's life: it waits for an end (Close, the browser, a
// failure) or a media timeout, then tears everything down.
func (l *Leg) run() {
	l.end(l.watch())
	l.life.Lock()
	l.stopping = true
	l.life.Unlock()
	// GracefulClose waits for pion's own goroutines; the readers then see
	// their streams closed.
	if err := l.pc.GracefulClose(); err != nil {
		l.log.Warn("webrtc: close peer connection", "err", err)
	}
	l.workers.Wait()
	switch err := l.endErr; {
	case errors.Is(err, ErrClosed):
	case errors.Is(err, ErrRemoteClosed):
		l.log.Info("webrtc: leg ended", "reason", err)
	case errors.Is(err, media.ErrMediaTimeout), errors.Is(err, ErrICEFailed):
		l.log.Warn("webrtc: leg ended: the browser is gone", "reason", err, "timeout", l.cfg.Timeout)
	default:
		l.log.Error("webrtc: leg ended", "err", err)
	}
	close(l.done)
}

func (l *Leg) watch() (err error) {
	defer func() {
		if v := recover(); v != nil {
			err = l.panicked("watcher", v)
		}
	}()
	check := time.NewTicker(min(time.Second, l.cfg.Timeout/4))
	defer check.Stop()
	for {
		select {
		case <-l.ending:
			return l.endErr
		case now := <-check.C:
			if now.Sub(l.epoch)-time.Duration(l.lastRecv.Load()) > l.cfg.Timeout {
				return fmt.Errorf("webrtc: no RTP from the browser for %s: %w", l.cfg.Timeout, media.ErrMediaTimeout)
			}
		}
	}
}

// goWorker starts f on a goroutine the leg waits for, unless the leg is
// stopping. A panic in f ends the leg.
func (l *Leg) goWorker(where string, f func()) bool {
	l.life.Lock()
	defer l.life.Unlock()
	if l.stopping {
		return false
	}
	l.workers.Add(1)
	go func() {
		defer l.workers.Done()
		defer l.recoverAt(where)
		f()
	}()
	return true
}

// recoverAt, deferred at the top of a goroutine or a pion callback, turns
// a panic into the error that ends the leg: a bug in one call never takes
// down the others.
func (l *Leg) recoverAt(where string) {
	if v := recover(); v != nil {
		l.end(l.panicked(where, v))
	}
}

func (l *Leg) panicked(where string, v any) error {
	l.log.Error("webrtc: leg goroutine panicked", "goroutine", where, "panic", v, "stack", string(debug.Stack()))
	return fmt.Errorf("webrtc: %s panicked: %v", where, v)
}

func (l *Leg) onConnectionState(s pion.PeerConnectionState) {
	defer l.recoverAt("connection state callback")
	switch s {
	case pion.PeerConnectionStateConnected:
		l.connOnce.Do(func() {
			l.log.Info("webrtc: browser connected", "codec", l.Codec())
			close(l.connected)
		})
	case pion.PeerConnectionStateFailed:
		l.end(ErrICEFailed)
	case pion.PeerConnectionStateClosed:
		l.end(ErrRemoteClosed) // after our own Close, ErrClosed came first
	}
}

func (l *Leg) onICEState(s pion.ICEConnectionState) {
	defer l.recoverAt("ICE state callback")
	switch s {
	case pion.ICEConnectionStateDisconnected:
		l.log.Warn("webrtc: lost the browser; an ICE restart may bring it back", "timeout", l.cfg.Timeout)
	case pion.ICEConnectionStateConnected:
		l.log.Debug("webrtc: ICE connected")
	}
}
