package main

import (
	"context"
	"errors"
	"fmt"
	"net/netip"
	"regexp"
	"strings"

	"github.com/sambung/sambung/calls"
	"github.com/sambung/sambung/media"
	"github.com/sambung/sambung/sip"
)

// sipLeg adapts a SIP call to the leg a Call needs. The adapter lives here,
// in the binary, so that calls never imports sip (docs/architecture.md).
type sipLeg struct {
	c       *sip.InboundCall
	updates chan calls.RemoteMedia
}

// newSIPLeg wraps c. Its re-INVITE offers are relayed until the call ends.
func newSIPLeg(c *sip.InboundCall) *sipLeg {
	return &sipLeg{c: c, updates: relayUpdates(c.Done(), c.Updates())}
}

// relayUpdates turns a SIP call's media offers into the legs' updates, on
// a goroutine of its own, until done; the channel it returns is closed
// then.
func relayUpdates(done <-chan struct{}, in <-chan sip.MediaOffer) chan calls.RemoteMedia {
	out := make(chan calls.RemoteMedia, 4)
	go func() {
		defer close(out)
		for {
			select {
			case <-done:
				return
			case o, ok := <-in:
				if !ok {
					return
				}
				select {
				case out <- remoteMedia(o):
				case <-done:
					return
				}
			}
		}
	}()
	return out
}

func remoteMedia(o sip.MediaOffer) calls.RemoteMedia {
	return calls.RemoteMedia{Addr: o.Addr, Codecs: o.Codecs, DTMFPayloadType: o.DTMFPayloadType,
		Direction: media.Direction(o.Direction)}
}

func (l *sipLeg) From() string                      { return l.c.From() }
func (l *sipLeg) To() string                        { return l.c.To() }
func (l *sipLeg) SignallingID() string              { return l.c.CallID() }
func (l *sipLeg) Remote() calls.RemoteMedia         { return remoteMedia(l.c.Offer()) }
func (l *sipLeg) Reject(code int, why string) error { return l.c.Reject(code, why) }
func (l *sipLeg) Hangup(ctx context.Context) error  { return l.c.Hangup(ctx) }
func (l *sipLeg) Done() <-chan struct{}             { return l.c.Done() }
func (l *sipLeg) EndReason() string                 { return l.c.EndReason() }
func (l *sipLeg) Updates() <-chan calls.RemoteMedia { return l.updates }

func (l *sipLeg) Answer(ctx context.Context, local netip.AddrPort, codec media.Codec, dtmfPT uint8) error {
	return l.c.Answer(ctx, sip.MediaAnswer{Addr: local, Codec: codec, DTMFPayloadType: dtmfPT})
}

// sipDialer places the switchboard's calls through the SIP server: a call
// back's number goes into the calls.callback_uri template; an agent's desk
// phone is a SIP URI already.
type sipDialer struct {
	srv  *sip.Server // set once the SIP server exists, before calls
	uri  string      // with {number}
	from string
}

// dialable is what a number may hold to go into a SIP URI.
var dialable = regexp.MustCompile(`^[A-Za-z0-9+*#._-]{1,64}$`)

func (d *sipDialer) Dial(ctx context.Context, number string, local netip.AddrPort, dtmf uint8) (calls.Dialled, error) {
	to := number
	if !strings.HasPrefix(number, "sip:") {
		if !dialable.MatchString(number) {
			return nil, fmt.Errorf("%q is not a number that can be called", number)
		}
		to = strings.ReplaceAll(d.uri, "{number}", number)
	}
	out, err := d.srv.Dial(ctx, sip.DialRequest{To: to, From: d.from,
		Offer: sip.MediaAnswer{Addr: local, Codec: media.PCMU, DTMFPayloadType: dtmf}})
	var de *sip.DialError
	switch {
	case err == nil:
		return newDialled(out), nil
	case errors.Is(err, sip.ErrNoAnswer):
		return nil, fmt.Errorf("%w: %v", calls.ErrNoAnswer, err)
	case errors.As(err, &de) && (de.Code == 486 || de.Code == 600):
		return nil, fmt.Errorf("%w: %v", calls.ErrBusy, err)
	case errors.As(err, &de) && (de.Code == 480 || de.Code == 408 || de.Code == 487):
		return nil, fmt.Errorf("%w: %v", calls.ErrNoAnswer, err)
	}
	return nil, err
}

// dialled adapts an answered outbound SIP call.
type dialled struct {
	c       *sip.OutboundCall
	updates chan calls.RemoteMedia
}

func newDialled(c *sip.OutboundCall) *dialled {
	return &dialled{c: c, updates: relayUpdates(c.Done(), c.Updates())}
}

func (d *dialled) SignallingID() string              { return d.c.CallID() }
func (d *dialled) Remote() calls.RemoteMedia         { return remoteMedia(d.c.Answer()) }
func (d *dialled) Hangup(ctx context.Context) error  { return d.c.Hangup(ctx) }
func (d *dialled) Done() <-chan struct{}             { return d.c.Done() }
func (d *dialled) EndReason() string                 { return d.c.EndReason() }
func (d *dialled) Updates() <-chan calls.RemoteMedia { return d.updates }
