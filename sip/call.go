package sip

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/netip"
	"slices"
	"strings"
	"sync"
	"time"

	sipmsg "github.com/emiago/sipgo/sip"
)

// Errors returned by InboundCall.
var (
	// ErrCallEnded means the call ended (hung up, cancelled, timed out)
	// before or while the method ran.
	ErrCallEnded = errors.New("call has ended")
	// ErrAnswered means the call was already answered or rejected.
	ErrAnswered = errors.New("call already answered or rejected")
	// ErrNoACK means our 2xx was retransmitted for 64*T1 (32 s) without an
	// ACK (RFC 3261 §13.3.1.4); the call is then hung up with BYE.
	ErrNoACK = errors.New("no ACK for 2xx")
	// ErrHeaderValue means a value meant for a header field holds CR, LF
	// or NUL.
	ErrHeaderValue = errors.New("header value contains CR, LF or NUL")
)

// Reasons a call ended, as EndReason reports them.
const (
	EndCallerCancel = "caller_cancel"   // CANCEL before the answer
	EndCallerBye    = "caller_bye"      // BYE from the caller
	EndServerBye    = "server_bye"      // Hangup, or the handler returned
	EndNoACK        = "no_ack"          // no ACK for our 2xx
	EndRejected     = "rejected"        // Reject, or the handler returned before answering
	EndServerError  = "server_error"    // the handler panicked
	EndShutdown     = "shutdown"        // the server stopped (Serve's context ended)
	EndMaxDuration  = "max_duration"    // Config.MaxCallDuration passed
	EndTransport    = "transport_error" // the INVITE transaction failed before a final response
)

type callState int

const (
	stateRinging   callState = iota // no final response yet
	stateRejected                   // a non-2xx final response sent
	stateAnswered                   // 2xx sent, waiting for its ACK
	stateConfirmed                  // ACK received
)

// InboundCall is one call from a caller, from its INVITE to its end. Its
// methods are safe for concurrent use.
type InboundCall struct {
	s   *Server
	log *slog.Logger

	ctx    context.Context
	cancel context.CancelFunc

	key, mergeKey                  string
	callID, localTag, remoteTag    string
	from, fromURI, fromDisplay, to string
	transport                      string
	contact                        sipmsg.Uri // ours

	invite *inviteTx // the initial INVITE, its request carrying our To tag

	done     chan struct{}
	endOnce  sync.Once
	reason   string // set before done closes
	updates  chan MediaOffer
	panicked bool // set by the handler goroutine only

	mu           sync.Mutex
	state        callState
	offer        *offer
	answer       MediaAnswer
	sdp          sdpSession
	remoteTarget sipmsg.Uri
	routeSet     []sipmsg.Uri
	remoteCSeq   uint32
	localCSeq    uint32
	pending      *inviteTx // the INVITE transaction whose 2xx awaits its ACK
}

// inviteTx is an INVITE server transaction seen from the call: sipgo's
// transaction plus what the call's methods and the goroutine holding the
// transaction tell each other.
type inviteTx struct {
	tx   sipmsg.ServerTransaction
	req  *sipmsg.Request
	cseq uint32

	final   chan *sipmsg.Response // the final response, once sent (buffered 1)
	acked   chan struct{}         // closed by the ACK for a 2xx
	ackOnce sync.Once
	settled chan struct{} // closed when waiting for the ACK is over
	err     error         // why it is over: nil on ACK; set before settled closes
}

func newInviteTx(tx sipmsg.ServerTransaction, req *sipmsg.Request) *inviteTx {
	return &inviteTx{
		tx:      tx,
		req:     req,
		cseq:    cseqOf(req),
		final:   make(chan *sipmsg.Response, 1),
		acked:   make(chan struct{}),
		settled: make(chan struct{}),
	}
}

func (it *inviteTx) ack() { it.ackOnce.Do(func() { close(it.acked) }) }

// CallID returns the call's Call-ID.
func (c *InboundCall) CallID() string { return c.callID }

// From returns the caller's user part (usually the calling number),
// unescaped, with control characters removed.
func (c *InboundCall) From() string { return c.from }

// FromURI returns the caller's From URI as sent.
func (c *InboundCall) FromURI() string { return c.fromURI }

// FromDisplay returns the caller's display name, unquoted and unescaped,
// with control characters removed; "" if none.
func (c *InboundCall) FromDisplay() string { return c.fromDisplay }

// To returns the called user part: the user of the Request-URI (the number
// or name dialled, "echo" in sip:echo@127.0.0.1), unescaped, with control
// characters removed.
func (c *InboundCall) To() string { return c.to }

// Offer returns the caller's media offer in force: the INVITE's, or the
// latest re-INVITE's.
func (c *InboundCall) Offer() MediaOffer {
	c.mu.Lock()
	defer c.mu.Unlock()
	o := c.offer.MediaOffer
	o.Codecs = slices.Clone(o.Codecs)
	return o
}

// Done is closed when the call has ended, for any reason.
func (c *InboundCall) Done() <-chan struct{} { return c.done }

// EndReason says why the call ended (EndCallerBye, EndServerBye, ...), or
// "" while it has not.
func (c *InboundCall) EndReason() string {
	select {
	case <-c.done:
		return c.reason
	default:
		return ""
	}
}

// Updates delivers the caller's new offers from re-INVITEs (hold, unhold,
// a new address), which the server has already answered with the current
// codec and a mirrored direction. It holds the latest few: when the reader
// falls behind, the oldest are dropped. It is never closed; select on Done
// too.
func (c *InboundCall) Updates() <-chan MediaOffer { return c.updates }

// Ring sends 180 Ringing.
func (c *InboundCall) Ring(ctx context.Context) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if err := c.ringingLocked(); err != nil {
		return err
	}
	res := c.inviteResponse(180, "Ringing", nil)
	if err := c.invite.tx.Respond(res); err != nil {
		return fmt.Errorf("send 180 Ringing: %w", c.txError(err))
	}
	return nil
}

// Answer sends 200 OK with our SDP answer and waits for the caller's ACK,
// retransmitting the 200 OK until it comes (RFC 3261 §13.3.1.4). It returns
// ErrNoACK (and hangs up) if none comes within 32 s, ErrCallEnded if the
// call ended first (a CANCEL can cross the answer), or ctx's error if ctx
// ends first; the call goes on waiting for the ACK then.
func (c *InboundCall) Answer(ctx context.Context, ans MediaAnswer) error {
	c.mu.Lock()
	if err := c.ringingLocked(); err != nil {
		c.mu.Unlock()
		return err
	}
	body, err := c.sdp.answer(c.offer, ans, c.s.cfg.MediaIP, c.localIP())
	if err != nil {
		c.mu.Unlock()
		return fmt.Errorf("answer call %s: %w", c.callID, err)
	}
	res := c.inviteResponse(200, "OK", body,
		sipmsg.NewHeader("Content-Type", "application/sdp"),
		sipmsg.NewHeader("Allow", allowedMethods),
	)
	if err := c.invite.tx.Respond(res); err != nil {
		c.mu.Unlock()
		return fmt.Errorf("send 200 OK: %w", c.txError(err))
	}
	c.state = stateAnswered
	c.answer = ans
	c.pending = c.invite
	c.mu.Unlock()
	c.invite.final <- res
	c.log.Info("call answered", "codec", ans.Codec.Name)

	select {
	case <-c.invite.settled:
		return c.invite.err
	case <-ctx.Done():
		// The call may have been acknowledged and then ended at once (a
		// quick BYE ends its context): that answer succeeded.
		select {
		case <-c.invite.settled:
			return c.invite.err
		default:
			return ctx.Err()
		}
	}
}

// Reject ends a call that has not been answered with a final response:
// code is 400 to 699, reason its phrase ("" for the usual one).
func (c *InboundCall) Reject(code int, reason string) error {
	if code < 400 || code > 699 {
		return fmt.Errorf("reject call %s with %d: not a 4xx, 5xx or 6xx", c.callID, code)
	}
	if reason == "" {
		reason = reasonPhrase(code)
	}
	if !validHeaderValue(reason) {
		return fmt.Errorf("reject call %s: reason %q: %w", c.callID, reason, ErrHeaderValue)
	}
	return c.reject(code, reason, EndRejected)
}

func (c *InboundCall) reject(code int, reason, endReason string) error {
	c.mu.Lock()
	if err := c.ringingLocked(); err != nil {
		c.mu.Unlock()
		return err
	}
	res := c.inviteResponse(code, reason, nil)
	err := c.invite.tx.Respond(res)
	if err == nil {
		c.state = stateRejected
	}
	c.mu.Unlock()
	if err != nil {
		return fmt.Errorf("send %d: %w", code, c.txError(err))
	}
	c.invite.final <- res
	c.end(endReason)
	return nil
}

// Hangup ends the call from our side: a BYE for an answered call (after
// its ACK, RFC 3261 §15), 480 Temporarily Unavailable for one still
// ringing. The call has ended when it returns, even if the BYE went
// unanswered; calling it on an ended call does nothing.
func (c *InboundCall) Hangup(ctx context.Context) error {
	return c.hangup(ctx, EndServerBye)
}

func (c *InboundCall) hangup(ctx context.Context, endReason string) error {
	c.mu.Lock()
	state, pending := c.state, c.pending
	c.mu.Unlock()
	select {
	case <-c.done:
		return nil
	default:
	}
	if state == stateRejected {
		return nil // ends as soon as the rejection is through
	}
	if state == stateRinging {
		if endReason == EndServerBye {
			endReason = EndRejected
		}
		if err := c.reject(480, "Temporarily Unavailable", endReason); err != nil && !errors.Is(err, ErrCallEnded) {
			return err
		}
		return nil
	}
	if pending != nil {
		// RFC 3261 §15: no BYE before the ACK for our 2xx, or its timeout.
		select {
		case <-pending.settled:
		case <-c.done:
			return nil
		case <-ctx.Done():
			c.end(endReason)
			return ctx.Err()
		}
		if pending.err != nil {
			// No ACK came (awaitAck hangs up) or the call ended meanwhile.
			select {
			case <-c.done:
			case <-ctx.Done():
			}
			return nil
		}
	}
	err := c.bye(ctx)
	c.end(endReason)
	return err
}

// ringingLocked reports whether the call can still get a final response.
func (c *InboundCall) ringingLocked() error {
	select {
	case <-c.done:
		return ErrCallEnded
	default:
	}
	if c.state != stateRinging {
		return ErrAnswered
	}
	return nil
}

// localIP is the address of our Contact, when it is one: where the
// caller reached us, a fallback for the SDP when the media is bound to all
// addresses.
func (c *InboundCall) localIP() netip.Addr {
	ip, _ := netip.ParseAddr(strings.Trim(c.contact.Host, "[]"))
	return ip
}

// txError turns sipgo's transaction errors into ours.
func (c *InboundCall) txError(err error) error {
	if errors.Is(err, sipmsg.ErrTransactionCanceled) || errors.Is(err, sipmsg.ErrTransactionTerminated) {
		return fmt.Errorf("%w: %w", ErrCallEnded, err)
	}
	return err
}

// inviteResponse builds a response to the initial INVITE, with our To tag
// and, for 18x and 2xx, our Contact.
func (c *InboundCall) inviteResponse(code int, reason string, body []byte, headers ...sipmsg.Header) *sipmsg.Response {
	res := c.s.newResponse(c.invite.req, code, reason, body, headers...)
	if code > 100 && code < 300 {
		res.AppendHeader(&sipmsg.ContactHeader{Address: c.contact})
	}
	return res
}

// end marks the call ended, once. It takes no call lock and calls nothing
// of sipgo's, so it may run inside sipgo's transaction callbacks.
func (c *InboundCall) end(reason string) {
	c.endOnce.Do(func() {
		c.reason = reason
		c.s.forget(c) // first: ActiveCalls is down once Done is closed
		close(c.done)
		c.cancel()
		c.log.Info("call ended", "reason", reason)
	})
}

// run runs the OnInvite handler, then ends the call if the handler did
// not.
func (c *InboundCall) run(h func(context.Context, *InboundCall)) {
	defer c.s.work.Done()
	defer c.finish()
	defer func() {
		if r := recover(); r != nil {
			c.panicked = true
			c.s.stats.panics.Add(1)
			c.log.Error("sip: call handler panicked", "panic", fmt.Sprint(r), "stack", stack())
		}
	}()
	h(c.ctx, c)
}

func (c *InboundCall) finish() {
	select {
	case <-c.done:
		return
	default:
	}
	ctx, cancel := context.WithTimeout(context.WithoutCancel(c.ctx), c.s.byeTimeout)
	defer cancel()
	if c.panicked {
		c.mu.Lock()
		ringing := c.state == stateRinging
		c.mu.Unlock()
		if ringing {
			_ = c.reject(500, "Server Internal Error", EndServerError)
			c.end(EndServerError)
			return
		}
		_ = c.hangup(ctx, EndServerError)
		return
	}
	reason := EndServerBye
	switch {
	case c.s.base.Err() != nil:
		reason = EndShutdown // the handler returned because the server stops
	case errors.Is(c.ctx.Err(), context.DeadlineExceeded):
		reason = EndMaxDuration
	}
	if err := c.hangup(ctx, reason); err != nil {
		c.log.Debug("hangup after handler returned", "error", err)
	}
	c.end(reason) // if the hangup could not end it
}

// watch ends the call when its context ends first: the server stopping
// or Config.MaxCallDuration passing. Handlers should return then, but the
// call ends even if one does not: 503 (stopping) or 480 while ringing, BYE
// once answered.
func (c *InboundCall) watch() {
	defer c.s.work.Done()
	select {
	case <-c.done:
		return
	case <-c.ctx.Done():
	}
	reason, code, phrase := EndMaxDuration, 480, "Temporarily Unavailable"
	if c.s.base.Err() != nil {
		reason, code, phrase = EndShutdown, 503, "Service Unavailable"
	}
	c.mu.Lock()
	ringing := c.state == stateRinging
	c.mu.Unlock()
	if ringing {
		if err := c.reject(code, phrase, reason); err == nil {
			return
		}
	}
	ctx, cancel := context.WithTimeout(context.WithoutCancel(c.ctx), c.s.byeTimeout)
	defer cancel()
	if err := c.hangup(ctx, reason); err != nil {
		c.log.Debug("hangup at the end of the call's context", "error", err)
	}
	c.end(reason)
}

// holdInvite keeps the initial INVITE's transaction (and sipgo's goroutine
// holding it) until its final response is sent and, for a 2xx, acknowledged:
// sipgo terminates a transaction when its handler returns.
func (c *InboundCall) holdInvite() {
	defer c.s.work.Done()
	it := c.invite
	var res *sipmsg.Response
	select {
	case res = <-it.final:
	case <-it.tx.Done():
	case <-c.done:
	}
	if res == nil {
		// The transaction or the call ended. If our final response went
		// out first, carry on with it: on a busy machine its ACK, or an
		// ACK and a BYE, can come in before this goroutine runs. It is in
		// it.final, or on its way there (sent right after the state).
		c.mu.Lock()
		sent := c.state == stateAnswered || c.state == stateRejected
		c.mu.Unlock()
		if !sent {
			select {
			case <-c.done:
			default:
				// sipgo answered a CANCEL with 487 (OnCancel already
				// ended the call), or the transport failed.
				c.end(EndTransport)
			}
			return
		}
		res = <-it.final
	}
	if res.IsSuccess() {
		c.awaitAck(it, res)
	}
}

// awaitAck retransmits a 2xx until its ACK comes (RFC 3261 §13.3.1.4: from
// T1, doubling up to T2, for 64*T1), records the outcome in it and, when no
// ACK came, hangs up.
func (c *InboundCall) awaitAck(it *inviteTx, res *sipmsg.Response) {
	err := c.retransmit(it, res)
	c.mu.Lock()
	if c.pending == it {
		c.pending = nil
	}
	if err == nil && c.state == stateAnswered {
		c.state = stateConfirmed
	}
	c.mu.Unlock()
	it.err = err
	close(it.settled)
	if errors.Is(err, ErrNoACK) {
		c.log.Warn("no ACK for 2xx; hanging up", "cseq", it.cseq)
		ctx, cancel := context.WithTimeout(context.WithoutCancel(c.ctx), c.s.byeTimeout)
		defer cancel()
		_ = c.bye(ctx)
		c.end(EndNoACK)
	}
}

func (c *InboundCall) retransmit(it *inviteTx, res *sipmsg.Response) error {
	interval := c.s.t1
	resend := time.NewTimer(interval)
	defer resend.Stop()
	deadline := time.NewTimer(c.s.ackTimeout)
	defer deadline.Stop()
	for {
		select {
		case <-it.acked:
			return nil
		case <-c.done:
			// An ACK and then a BYE can both be in by the time this runs:
			// the 2xx was acknowledged all the same.
			select {
			case <-it.acked:
				return nil
			default:
				return ErrCallEnded
			}
		case <-deadline.C:
			return ErrNoACK
		case <-resend.C:
			if err := it.tx.Respond(res); err != nil {
				return fmt.Errorf("%w: retransmit 2xx: %w", ErrNoACK, err)
			}
			interval = min(2*interval, c.s.t2)
			resend.Reset(interval)
		}
	}
}

// deliver puts a new offer on Updates, dropping the oldest when full.
// Callers hold c.mu, so offers go out in order.
func (c *InboundCall) deliver(o MediaOffer) {
	for {
		select {
		case c.updates <- o:
			return
		default:
		}
		select {
		case <-c.updates:
		default:
		}
	}
}

// How cleanText reads its input.
const (
	asIs            = iota
	unescapePercent // a URI part: %XX escapes (RFC 3261 §19.1.2)
	unescapeQuoted  // a quoted string: backslash escapes (RFC 3261 §25.1)
)

// cleanText unescapes s and drops control characters and invalid UTF-8:
// the form of header data handed to the application, which may log it or
// show it on a page.
func cleanText(s string, mode int) string {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		ch := s[i]
		switch {
		case mode == unescapePercent && ch == '%' && i+2 < len(s) && isHex(s[i+1]) && isHex(s[i+2]):
			ch = unhex(s[i+1])<<4 | unhex(s[i+2])
			i += 2
		case mode == unescapeQuoted && ch == '\\' && i+1 < len(s):
			i++
			ch = s[i]
		}
		if ch < 0x20 || ch == 0x7f {
			continue
		}
		b.WriteByte(ch)
	}
	return strings.ToValidUTF8(b.String(), "")
}

func isHex(c byte) bool {
	return '0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F'
}

func unhex(c byte) byte {
	switch {
	case c <= '9':
		return c - '0'
	case c <= 'F':
		return c - 'A' + 10
	}
	return c - 'a' + 10
}

// reasonPhrase is the RFC 3261 §21 phrase for the codes Reject is likely
// to get.
func reasonPhrase(code int) string {
	switch code {
	case 403:
		return "Forbidden"
	case 404:
		return "Not Found"
	case 408:
		return "Request Timeout"
	case 480:
		return "Temporarily Unavailable"
	case 486:
		return "Busy Here"
	case 487:
		return "Request Terminated"
	case 488:
		return "Not Acceptable Here"
	case 500:
		return "Server Internal Error"
	case 503:
		return "Service Unavailable"
	case 603:
		return "Decline"
	}
	return "Rejected"
}
