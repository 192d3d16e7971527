// Package calls owns the Call: its legs, its media, its timeline of events,
// its recording and how it ends. The Switchboard takes each inbound leg,
// answers it with an RTP session, records it, runs what the number dialled
// asks for, and stores every step.
//
// It may import media, ivr, asr, agents, recordings, store and audit, never
// sip or web: a signalling leg reaches it through the Leg interface, and
// events leave it through Config.OnEvent.
package calls

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/netip"
	"sync"
	"sync/atomic"
	"time"

	"github.com/sambung/sambung/asr"
	"github.com/sambung/sambung/ivr"
	"github.com/sambung/sambung/media"
	"github.com/sambung/sambung/recordings"
	"github.com/sambung/sambung/store"
)

// Leg is what a call needs from the signalling that brought it (a SIP
// dialog today, a WebRTC session later). The sip package's InboundCall is
// adapted to it by the binary.
type Leg interface {
	// From and To are the caller and the number dialled (the user part).
	From() string
	To() string
	// SignallingID is the signalling's own identifier (the SIP Call-ID).
	SignallingID() string
	// Remote is the media the caller offered.
	Remote() RemoteMedia
	// Answer accepts the call with our media.
	Answer(ctx context.Context, local netip.AddrPort, codec media.Codec, dtmfPayloadType uint8) error
	// Reject refuses a call not yet answered.
	Reject(code int, reason string) error
	// Hangup ends an answered call from our side.
	Hangup(ctx context.Context) error
	// Done is closed when the leg has ended for any reason; EndReason says why.
	Done() <-chan struct{}
	EndReason() string
	// Updates delivers new media offers during the call (hold, unhold, a new address).
	Updates() <-chan RemoteMedia
}

// RemoteMedia is the caller's side of the media, as negotiated.
type RemoteMedia struct {
	Addr            netip.AddrPort
	Codecs          []media.Codec // ours that the caller offered, in the caller's order
	DTMFPayloadType uint8         // RFC 4733 telephone-event; 0 if not offered
	Direction       media.Direction
}

// Config configures the switchboard. Zero values are usable.
type Config struct {
	Node string
	// Media configures each call's RTP session (ports, timeouts).
	Media media.SessionConfig
	// RecordingsDir holds the recordings; empty disables recording.
	RecordingsDir string
	// RecordingKeys, when set, seals each new recording at rest with its
	// current key (recordings.SealedWriter, a .wav.enc file).
	RecordingKeys *recordings.Keyring
	// QueuePolicies are the queues' recording policies, by queue
	// (policy.go).
	QueuePolicies map[string]RecordPolicy
	// MaxCallDuration ends any call that runs longer (default 4h).
	MaxCallDuration time.Duration
	// TeardownTimeout bounds the work after a call ends: BYE, closing the
	// recording, the final records (default 10s).
	TeardownTimeout time.Duration
	// Lines gives the flow that answers each number dialled; a number with
	// no flow (or nil Lines) gets the built-in demo announcement, and
	// "echo" the echo test.
	Lines *ivr.Lines
	// IVR runs the flows; required with Lines.
	IVR *ivr.Runtime
	// Recognizer gives the speech recognizer for a language, given the
	// name a flow chose ("" for none chosen: the server's choice), or nil;
	// nil Recognizer: callers are heard by keypad only.
	Recognizer func(engine, lang string) asr.Recognizer
	// OnEvent, if set, receives every timeline event as it is stored (for
	// live pages and webhooks). It must not block.
	OnEvent func(store.CallEvent)
	// Desk, if set, puts queued calls through to agents (the ACD and the
	// agents' softphones). Without it a queue ending is only recorded.
	Desk *DeskConfig
	// HoldMusic is what queued and held callers hear (default: a built-in
	// tune).
	HoldMusic *media.Prompt
	// Web, if set, takes calls from web pages (docs/webcall.md).
	Web *WebCallConfig
	// CallerID is who our outbound calls are from (default "sambung").
	CallerID string
	// Dialer, if set, places the calls back that queued callers asked
	// for, once an agent takes one. Without it callbacks wait in their
	// queue, listed, and are offered to nobody.
	Dialer Dialer
}

func (c *Config) fillDefaults() {
	if c.MaxCallDuration == 0 {
		c.MaxCallDuration = 4 * time.Hour
	}
	if c.TeardownTimeout == 0 {
		c.TeardownTimeout = 10 * time.Second
	}
	if c.CallerID == "" {
		c.CallerID = "sambung"
	}
	if c.Lines != nil && c.IVR == nil {
		c.IVR = &ivr.Runtime{}
	}
}

// Switchboard answers inbound legs and runs their calls.
type Switchboard struct {
	cfg       Config
	store     store.Store
	log       *slog.Logger
	prompts   *prompts
	desk      *Desk
	web       *WebCalls
	holdMusic *media.Prompt

	wg     sync.WaitGroup
	active atomic.Int64
	// base outlives a SIGTERM: calls in progress run to their end. Only
	// Shutdown cancels it.
	base     context.Context
	shutdown context.CancelFunc
}

// NewSwitchboard loads the built-in prompts and returns a Switchboard.
func NewSwitchboard(cfg Config, st store.Store, log *slog.Logger) (*Switchboard, error) {
	cfg.fillDefaults()
	p, err := loadPrompts()
	if err != nil {
		return nil, fmt.Errorf("calls: %w", err)
	}
	base, shutdown := context.WithCancel(context.Background())
	sb := &Switchboard{cfg: cfg, store: st, log: log, prompts: p, base: base, shutdown: shutdown, holdMusic: cfg.HoldMusic}
	if sb.holdMusic == nil {
		sb.holdMusic = newHoldMusic()
	}
	if cfg.Desk != nil {
		if sb.desk, err = newDesk(*cfg.Desk, sb, log); err != nil {
			shutdown()
			return nil, err
		}
	}
	if cfg.Web != nil {
		if sb.web, err = newWebCalls(*cfg.Web, sb, log); err != nil {
			shutdown()
			return nil, err
		}
	}
	return sb, nil
}

// Desk is the agents' side of the switchboard, or nil without Config.Desk.
func (sb *Switchboard) Desk() *Desk { return sb.desk }

// WebCalls takes calls from web pages, or is nil without Config.Web.
func (sb *Switchboard) WebCalls() *WebCalls { return sb.web }

// Shutdown hangs up every call in progress (reason "server_shutdown"). A
// draining server calls it only when its drain timeout has passed.
func (sb *Switchboard) Shutdown() { sb.shutdown() }

// Active is the number of calls in progress.
func (sb *Switchboard) Active() int { return int(sb.active.Load()) }

// Wait blocks until every call has ended or ctx is done.
func (sb *Switchboard) Wait(ctx context.Context) error {
	done := make(chan struct{})
	go func() { sb.wg.Wait(); close(done) }()
	select {
	case <-done:
		return nil
	case <-ctx.Done():
		return fmt.Errorf("calls: %d still in progress: %w", sb.Active(), ctx.Err())
	}
}

// HandleInbound runs one inbound call to its end. It is called in its own
// goroutine per call; a panic inside ends that call only.
func (sb *Switchboard) HandleInbound(leg Leg) {
	sb.wg.Add(1)
	sb.handle(sb.newCall(leg))
}

// handle runs c to its end; the caller has done sb.wg.Add(1).
func (sb *Switchboard) handle(c *Call) {
	sb.active.Add(1)
	defer sb.wg.Done()
	defer sb.active.Add(-1)
	defer c.cancel() // every path, including a refusal before finish
	defer func() {
		if v := recover(); v != nil {
			c.log.Error("calls: call panicked", "panic", v)
			c.finish("failed", "internal_error")
		}
	}()
	c.run()
}

// errNoCodec means the leg offered nothing we speak (the signalling should
// have refused it already).
var errNoCodec = errors.New("no common codec")
