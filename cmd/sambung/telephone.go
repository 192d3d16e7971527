package main

import (
	"context"
	"net/netip"

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

// newSIPLeg wraps c. Its goroutine relays re-INVITE offers until the call ends.
func newSIPLeg(c *sip.InboundCall) *sipLeg {
	l := &sipLeg{c: c, updates: make(chan calls.RemoteMedia, 4)}
	go func() {
		defer close(l.updates)
		for {
			select {
			case <-c.Done():
				return
			case o, ok := <-c.Updates():
				if !ok {
					return
				}
				select {
				case l.updates <- remoteMedia(o):
				case <-c.Done():
					return
				}
			}
		}
	}()
	return l
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
