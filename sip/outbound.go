package sip

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/emiago/sipgo"
	sipmsg "github.com/emiago/sipgo/sip"

	"github.com/sambung/sambung/media"
)

// The UAC side of a call (RFC 3261 §13.2, §9.1, §12.1.2): Dial sends the
// INVITE with our offer, reads the provisional and final responses, sends
// the ACK for a 2xx (and again for each retransmission of it) or a CANCEL
// when the caller gives up. Once the call is answered, the confirmed dialog
// is the same machinery as an inbound call's (dialog.go): the callee's BYE
// and re-INVITEs are matched by Call-ID and our tag exactly like a caller's,
// and our BYE is built from the route set the same way. The dialog is held
// in an InboundCall value that never rings or answers, so that code is not
// written twice.

// Errors returned by Dial.
var (
	// ErrNoAnswer means the callee did not answer within
	// DialRequest.RingTimeout; the INVITE was cancelled.
	ErrNoAnswer = errors.New("no answer")
	// ErrNotRegistered means the address-of-record dialled has no
	// registered contact.
	ErrNotRegistered = errors.New("address-of-record has no registered contact")
)

// EndCalleeBye is the EndReason of an outbound call the callee hung up.
const EndCalleeBye = "callee_bye"

const defaultRingTimeout = 30 * time.Second

// DialRequest says whom Dial calls and with what media.
type DialRequest struct {
	// To is the callee: a SIP URI (sip:user@host:port, with
	// ;transport=tcp for TCP), or an address-of-record of our registrar
	// (sip:user@Realm), called at its registered contact.
	To string
	// From is our user part (the calling number or name); default
	// "sambung".
	From string
	// FromDisplay is the display name in From; "" for none.
	FromDisplay string
	// Offer is our media: where we receive RTP, the codec we want (offered
	// first, with the other G.711 codec as an alternative), and, when
	// DTMFPayloadType is not 0, telephone-events at that payload type.
	Offer MediaAnswer
	// Headers are extra header fields for the INVITE. Names must be
	// tokens and not one of the fields Dial builds itself; values must
	// not hold CR, LF or NUL.
	Headers map[string]string
	// RingTimeout is how long to wait for the answer before cancelling
	// (default 30 s).
	RingTimeout time.Duration
	// OnRinging, when set, is called once, from Dial, on the first 180 or
	// 183 response.
	OnRinging func()
}

// DialError is the final non-2xx response a dialled callee sent.
type DialError struct {
	Code   int
	Reason string
}

func (e *DialError) Error() string {
	return fmt.Sprintf("callee answered %d %s", e.Code, e.Reason)
}

// OutboundCall is one answered call we placed. Its methods are safe for
// concurrent use.
type OutboundCall struct {
	dlg     *InboundCall // the confirmed dialog; see the top of this file
	answer  MediaOffer
	ringing chan struct{}
}

// CallID returns the call's Call-ID.
func (c *OutboundCall) CallID() string { return c.dlg.CallID() }

// Answer returns the callee's SDP answer to our offer: its RTP address and
// the codec it chose first in Codecs.
func (c *OutboundCall) Answer() MediaOffer {
	o := c.answer
	o.Codecs = slices.Clone(o.Codecs)
	return o
}

// Ringing is closed if the callee sent 180 or 183 before answering.
func (c *OutboundCall) Ringing() <-chan struct{} { return c.ringing }

// Done is closed when the call has ended, for any reason.
func (c *OutboundCall) Done() <-chan struct{} { return c.dlg.Done() }

// EndReason says why the call ended (EndCalleeBye, EndServerBye,
// EndShutdown, EndMaxDuration), or "" while it has not.
func (c *OutboundCall) EndReason() string {
	r := c.dlg.EndReason()
	if r == EndCallerBye {
		return EndCalleeBye // the remote party of this dialog is the callee
	}
	return r
}

// Updates delivers the callee's new offers from re-INVITEs (hold, unhold,
// a new address), already answered with our codec and a mirrored
// direction. Like InboundCall.Updates it keeps the latest few and is never
// closed.
func (c *OutboundCall) Updates() <-chan MediaOffer { return c.dlg.Updates() }

// Hangup ends the call with a BYE through the dialog's route set. The
// call has ended when it returns; on an ended call it does nothing.
func (c *OutboundCall) Hangup(ctx context.Context) error {
	return c.dlg.Hangup(ctx)
}

// fieldsDialBuilds are the header fields Dial writes itself, which
// DialRequest.Headers may not set.
var fieldsDialBuilds = []string{
	"via", "v", "from", "f", "to", "t", "call-id", "i", "cseq", "contact", "m",
	"content-type", "c", "content-length", "l", "max-forwards", "route",
	"record-route",
}

// dialTarget is where the INVITE goes.
type dialTarget struct {
	ruri      sipmsg.Uri // Request-URI
	to        sipmsg.Uri // To, the callee's address
	transport string     // "UDP" or "TCP"
	dest      string     // host:port to send to
}

// Dial calls d.To and waits for the answer. It returns the answered call,
// a *DialError for a final non-2xx response, or, when ctx ends or
// d.RingTimeout passes first, ctx's error or ErrNoAnswer after cancelling
// the INVITE (RFC 3261 §9.1). The call's own context (like an inbound
// call's) is the server's, capped by Config.MaxCallDuration, not ctx.
func (s *Server) Dial(ctx context.Context, d DialRequest) (*OutboundCall, error) {
	if d.RingTimeout <= 0 {
		d.RingTimeout = defaultRingTimeout
	}
	if d.From == "" {
		d.From = "sambung"
	}
	if err := checkDialRequest(d); err != nil {
		return nil, fmt.Errorf("dial %s: %w", d.To, err)
	}
	target, err := s.dialTarget(ctx, d.To)
	if err != nil {
		return nil, fmt.Errorf("dial %s: %w", d.To, err)
	}
	contact, err := s.localContact(d.From, target)
	if err != nil {
		return nil, fmt.Errorf("dial %s: %w", d.To, err)
	}
	sessionID := randomUint63()
	sdp := sdpSession{id: sessionID, version: sessionID}
	body, err := sdp.offer(d.Offer, s.cfg.MediaIP, hostIP(contact.Host))
	if err != nil {
		return nil, fmt.Errorf("dial %s: %w", d.To, err)
	}
	inv, err := s.newInvite(d, target, contact, body)
	if err != nil {
		return nil, fmt.Errorf("dial %s: %w", d.To, err)
	}
	s.mu.Lock()
	stopping := s.stopping
	s.mu.Unlock()
	if stopping {
		return nil, fmt.Errorf("dial %s: server is stopping", d.To)
	}

	tx, err := s.client.TransactionRequest(ctx, inv, prebuilt)
	if err != nil {
		return nil, fmt.Errorf("dial %s: send INVITE: %w", d.To, err)
	}
	u := &uac{s: s, d: d, inv: inv, tx: tx, contact: contact, sdp: sdp, ringing: make(chan struct{})}
	ringTimer := time.NewTimer(d.RingTimeout)
	defer ringTimer.Stop()
	for {
		select {
		case res := <-tx.Responses():
			if res.IsProvisional() {
				u.provisional(res)
				continue
			}
			return u.final(ctx, res)
		case <-tx.Done():
			return nil, fmt.Errorf("dial %s: INVITE: %w", d.To, tx.Err())
		case <-ctx.Done():
			return u.cancel(ctx, ctx.Err())
		case <-ringTimer.C:
			return u.cancel(ctx, ErrNoAnswer)
		case <-s.base.Done():
			return u.cancel(ctx, errors.New("server stopped"))
		}
	}
}

// prebuilt is a sipgo request option that leaves our request as built.
func prebuilt(*sipgo.Client, *sipmsg.Request) error { return nil }

// uac is one INVITE client transaction in progress.
type uac struct {
	s       *Server
	d       DialRequest
	inv     *sipmsg.Request
	tx      sipmsg.ClientTransaction
	contact sipmsg.Uri
	sdp     sdpSession

	provisionalSeen bool
	ringing         chan struct{}
}

func (u *uac) provisional(res *sipmsg.Response) {
	u.provisionalSeen = true
	if res.StatusCode != 180 && res.StatusCode != 183 {
		return
	}
	select {
	case <-u.ringing:
	default:
		close(u.ringing)
		if u.d.OnRinging != nil {
			u.d.OnRinging()
		}
	}
}

// final handles the INVITE's final response.
func (u *uac) final(ctx context.Context, res *sipmsg.Response) (*OutboundCall, error) {
	if !res.IsSuccess() {
		// sipgo's transaction has sent the ACK (RFC 3261 §17.1.1.3) and
		// stays, until its Timer D, to acknowledge retransmissions.
		return nil, fmt.Errorf("dial %s: %w", u.d.To, &DialError{Code: res.StatusCode, Reason: res.Reason})
	}
	c, err := u.confirm(res)
	if err != nil {
		u.tx.Terminate()
		return nil, fmt.Errorf("dial %s: %w", u.d.To, err)
	}
	if c.answer.Addr == (netip.AddrPort{}) {
		// RFC 3261 §13.2.2.4: an answer we cannot take is acknowledged,
		// then the call is hung up.
		hctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), u.s.byeTimeout)
		defer cancel()
		_ = c.Hangup(hctx)
		return nil, fmt.Errorf("dial %s: SDP answer: %w", u.d.To, c.answerErr)
	}
	c.dlg.log.Info("outbound call answered", "to", u.d.To, "codec", c.dlg.answer.Codec.Name)
	return c.OutboundCall, nil
}

// confirmed is an OutboundCall whose answer may have been refused.
type confirmed struct {
	*OutboundCall
	answerErr error
}

// confirm makes the dialog of a 2xx (RFC 3261 §12.1.2), registers it so
// the callee's requests find it, and sends the ACK, again for every
// retransmission of the 2xx. When the SDP answer cannot be used the call
// is still confirmed (to be hung up): answer.Addr is then zero.
func (u *uac) confirm(res *sipmsg.Response) (*confirmed, error) {
	s := u.s
	remoteTag, _ := res.To().Params.Get("tag")
	if remoteTag == "" {
		return nil, errors.New("2xx without To tag")
	}
	ct := res.Contact()
	if ct == nil || !isSIPURI(&ct.Address) || !validHeaderValue(ct.Address.String()) {
		return nil, errors.New("2xx without a usable Contact")
	}
	// RFC 3261 §12.1.2: the UAC takes the route set in reverse order.
	var routes []sipmsg.Uri
	rrs := res.GetHeaders("Record-Route")
	for i := len(rrs) - 1; i >= 0; i-- {
		rr, ok := rrs[i].(*sipmsg.RecordRouteHeader)
		if !ok || !isSIPURI(&rr.Address) || !validHeaderValue(rr.Address.String()) {
			return nil, errors.New("2xx with a bad Record-Route")
		}
		routes = append(routes, *rr.Address.Clone())
	}
	callID := u.inv.CallID().Value()
	localTag, _ := u.inv.From().Params.Get("tag")

	// The dialog seen from the callee's side, as dialog.go reads an
	// inbound call's: its From is the remote party, its To is us.
	view := sipmsg.NewRequest(sipmsg.INVITE, u.inv.Recipient)
	view.AppendHeader(&sipmsg.FromHeader{Address: *u.inv.To().Address.Clone(), Params: sipmsg.NewParams()})
	view.AppendHeader(&sipmsg.ToHeader{Address: *u.inv.From().Address.Clone(), Params: sipmsg.NewParams()})
	view.AppendHeader(sipmsg.HeaderClone(u.inv.CSeq()))

	answer := MediaOffer{}
	var remoteOffer *offer
	var answerErr error
	ans := u.d.Offer
	if len(res.Body()) == 0 {
		answerErr = errors.New("2xx without SDP answer")
	} else if rct := res.ContentType(); rct == nil || !isSDP(rct.Value()) {
		answerErr = errors.New("2xx body is not SDP")
	} else if o, err := parseOffer(res.Body()); err != nil {
		answerErr = err
	} else if !hasCodec(offeredCodecs(u.d.Offer.Codec), o.Codecs[0].Name) {
		answerErr = fmt.Errorf("%w: answered %s", ErrNoCompatibleCodec, o.Codecs[0].Name)
	} else {
		remoteOffer, answer = o, o.MediaOffer
		ans.Codec = o.Codecs[0]
		if o.DTMFPayloadType == 0 {
			ans.DTMFPayloadType = 0
		}
	}
	if remoteOffer == nil {
		// The re-INVITE machinery needs an offer; the call is hung up at once.
		remoteOffer = &offer{MediaOffer: MediaOffer{Codecs: []media.Codec{ans.Codec}, Direction: SendRecv}}
	}

	dlg := &InboundCall{
		s:            s,
		log:          s.log.With("call_id", callID, "leg", "outbound"),
		key:          dialogKey(callID, localTag),
		mergeKey:     "\x00outbound\x00" + callID + "\x00" + localTag,
		callID:       callID,
		localTag:     localTag,
		remoteTag:    remoteTag,
		from:         u.d.From,
		fromURI:      u.inv.From().Address.String(),
		fromDisplay:  u.d.FromDisplay,
		to:           cleanText(u.inv.To().Address.User, unescapePercent),
		transport:    u.inv.Transport(),
		contact:      u.contact,
		invite:       newInviteTx(nil, view),
		done:         make(chan struct{}),
		updates:      make(chan MediaOffer, 8),
		state:        stateConfirmed,
		offer:        remoteOffer,
		answer:       ans,
		sdp:          u.sdp,
		remoteTarget: *ct.Address.Clone(),
		routeSet:     routes,
		// The ACK takes the INVITE's CSeq (RFC 3261 §13.2.2.4), built by
		// newRequest, which counts up from here; the BYE takes the next.
		localCSeq: cseqOf(u.inv) - 1,
	}
	dlg.ctx, dlg.cancel = context.WithTimeout(s.base, s.cfg.MaxCallDuration)
	ack, err := dlg.newRequest(sipmsg.ACK)
	if err != nil {
		dlg.cancel()
		return nil, err
	}

	s.mu.Lock()
	if s.stopping {
		s.mu.Unlock()
		dlg.cancel()
		return nil, errors.New("server is stopping")
	}
	s.calls[dlg.key] = dlg
	s.active++
	s.work.Add(2) // dlg.watch and the ACK keeper below
	s.mu.Unlock()

	sendAck := func() {
		if err := s.client.WriteRequest(ack.Clone(), prebuilt); err != nil {
			dlg.log.Debug("ACK not sent", "error", err)
		}
	}
	// RFC 3261 §13.2.2.4: every retransmission of the 2xx gets the ACK
	// again; sipgo's transaction (RFC 6026 Accepted state) passes them here
	// for 64*T1.
	u.tx.OnRetransmission(func(r *sipmsg.Response) {
		if tag, _ := r.To().Params.Get("tag"); tag == remoteTag && r.IsSuccess() {
			sendAck()
		}
	})
	sendAck()
	go dlg.watch()
	go func() {
		defer s.work.Done()
		select {
		case <-dlg.done:
		case <-u.tx.Done():
		}
		u.tx.Terminate()
	}()
	c := &OutboundCall{dlg: dlg, answer: answer, ringing: u.ringing}
	return &confirmed{OutboundCall: c, answerErr: answerErr}, nil
}

// cancel gives up on an unanswered INVITE (RFC 3261 §9.1): a CANCEL once
// a provisional response has come, then the final response, 487 as a
// rule. A 2xx crossing the CANCEL is acknowledged and hung up. why is the
// error returned.
func (u *uac) cancel(ctx context.Context, why error) (*OutboundCall, error) {
	s := u.s
	tctx, stop := context.WithTimeout(context.WithoutCancel(ctx), s.byeTimeout)
	defer stop()
	fail := fmt.Errorf("dial %s: %w", u.d.To, why)
	// RFC 3261 §9.1: no CANCEL before a provisional response.
	for !u.provisionalSeen {
		select {
		case res := <-u.tx.Responses():
			if res.IsProvisional() {
				u.provisional(res)
				continue
			}
			return nil, u.afterCancel(tctx, res, fail)
		case <-u.tx.Done():
			return nil, fail
		case <-tctx.Done():
			u.tx.Terminate()
			return nil, fail
		}
	}
	cancelReq := newCancel(u.inv)
	canTx, err := s.client.TransactionRequest(tctx, cancelReq, prebuilt)
	if err != nil {
		u.tx.Terminate()
		return nil, fmt.Errorf("%w (CANCEL not sent: %w)", fail, err)
	}
	defer canTx.Terminate()
	for {
		select {
		case res := <-u.tx.Responses():
			if res.IsProvisional() {
				continue
			}
			return nil, u.afterCancel(tctx, res, fail)
		case <-u.tx.Done():
			return nil, fail
		case <-tctx.Done():
			u.tx.Terminate()
			return nil, fail
		}
	}
}

// afterCancel handles the final response to a cancelled INVITE.
func (u *uac) afterCancel(ctx context.Context, res *sipmsg.Response, fail error) error {
	switch {
	case res.StatusCode == 487:
		return fail
	case res.IsSuccess():
		c, err := u.confirm(res)
		if err == nil {
			_ = c.Hangup(ctx)
		}
		return fail
	}
	// Refused before the CANCEL reached it: that answer says more.
	return fmt.Errorf("dial %s: %w", u.d.To, &DialError{Code: res.StatusCode, Reason: res.Reason})
}

// newCancel builds the CANCEL of inv (RFC 3261 §9.1): its Request-URI,
// Call-ID, To, From, CSeq number and Route, and its top Via alone.
func newCancel(inv *sipmsg.Request) *sipmsg.Request {
	req := sipmsg.NewRequest(sipmsg.CANCEL, *inv.Recipient.Clone())
	req.AppendHeader(sipmsg.HeaderClone(inv.Via()))
	maxForwards := sipmsg.MaxForwardsHeader(70)
	req.AppendHeader(&maxForwards)
	req.AppendHeader(sipmsg.HeaderClone(inv.From()))
	req.AppendHeader(sipmsg.HeaderClone(inv.To()))
	req.AppendHeader(sipmsg.HeaderClone(inv.CallID()))
	req.AppendHeader(&sipmsg.CSeqHeader{SeqNo: cseqOf(inv), MethodName: sipmsg.CANCEL})
	for _, h := range inv.GetHeaders("Route") {
		req.AppendHeader(sipmsg.HeaderClone(h))
	}
	req.SetBody(nil)
	req.SetTransport(inv.Transport())
	req.SetDestination(inv.Destination())
	return req
}

func checkDialRequest(d DialRequest) error {
	if !validUser(d.From) {
		return fmt.Errorf("from user %q: use letters, digits and -_.!~*'()+", d.From)
	}
	if !validHeaderValue(d.FromDisplay) {
		return fmt.Errorf("from display name: %w", ErrHeaderValue)
	}
	for name, v := range d.Headers {
		if !isToken(name) || slices.Contains(fieldsDialBuilds, strings.ToLower(name)) {
			return fmt.Errorf("header %q: not a header field name Dial lets the caller set", name)
		}
		if !validHeaderValue(v) {
			return fmt.Errorf("header %s: %w", name, ErrHeaderValue)
		}
	}
	if d.Offer.Addr.Port() == 0 {
		return errors.New("offer has no RTP port")
	}
	if _, ok := media.CodecByName(d.Offer.Codec.Name); !ok {
		return fmt.Errorf("offer codec %q: %w", d.Offer.Codec.Name, ErrNoCompatibleCodec)
	}
	return nil
}

func validUser(s string) bool {
	if s == "" {
		return false
	}
	for i := range len(s) {
		c := s[i]
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || strings.IndexByte("-_.!~*'()+", c) >= 0) {
			return false
		}
	}
	return true
}

// dialTarget resolves DialRequest.To: an address-of-record of ours goes
// to its registered contact (the most recently refreshed binding, through
// the address its REGISTER came from), any other SIP URI to its host.
func (s *Server) dialTarget(ctx context.Context, to string) (dialTarget, error) {
	var u sipmsg.Uri
	if err := sipmsg.ParseUri(to, &u); err != nil {
		return dialTarget{}, fmt.Errorf("parse %q: %w", to, err)
	}
	if !isSIPURI(&u) || !validHeaderValue(u.String()) {
		return dialTarget{}, fmt.Errorf("%q is not a sip: URI", to)
	}
	toURI := sipmsg.Uri{Scheme: u.Scheme, User: u.User, Host: u.Host, Port: u.Port}
	if s.registrar != nil {
		if _, ours := s.registrar.aor(&u); ours && s.registrar.ourPort(u.Port) {
			bs, err := s.Lookup(ctx, to)
			if err != nil {
				return dialTarget{}, err
			}
			if len(bs) == 0 {
				return dialTarget{}, ErrNotRegistered
			}
			b := bs[0]
			for _, other := range bs[1:] {
				if other.Expires.After(b.Expires) {
					b = other
				}
			}
			var contact sipmsg.Uri
			if err := sipmsg.ParseUri(b.Contact, &contact); err != nil || !isSIPURI(&contact) {
				return dialTarget{}, fmt.Errorf("registered contact %q: not a sip: URI", b.Contact)
			}
			t, err := uriTarget(contact, toURI)
			if err != nil {
				return dialTarget{}, err
			}
			if b.Received.IsValid() && strings.EqualFold(b.Transport, t.transport) {
				t.dest = b.Received.String() // RFC 5626-style: back where it registered from, through its NAT
			}
			return t, nil
		}
	}
	return uriTarget(u, toURI)
}

func uriTarget(u, to sipmsg.Uri) (dialTarget, error) {
	transport := "UDP"
	if tp, ok := u.UriParams.Get("transport"); ok {
		transport = strings.ToUpper(tp)
	}
	if u.Scheme == "sips" || (transport != "UDP" && transport != "TCP") {
		return dialTarget{}, fmt.Errorf("transport %s: only UDP and TCP are supported for outbound calls", transport)
	}
	port := u.Port
	if port == 0 {
		port = sipmsg.DefaultPort(transport)
	}
	ruri := *u.Clone()
	ruri.Headers = nil
	return dialTarget{
		ruri:      ruri,
		to:        to,
		transport: transport,
		dest:      net.JoinHostPort(strings.Trim(u.Host, "[]"), strconv.Itoa(port)),
	}, nil
}

// localContact is our Contact for a call to t: the address of our
// listener for its transport or, for a listener bound to all addresses,
// Config.MediaIP or the local address that routes to t.
func (s *Server) localContact(user string, t dialTarget) (sipmsg.Uri, error) {
	var ls []netip.AddrPort
	if t.transport == "TCP" {
		ls = s.Addrs().TCP
	} else {
		ls = s.Addrs().UDP
	}
	if len(ls) == 0 {
		return sipmsg.Uri{}, fmt.Errorf("no %s listener to call from", t.transport)
	}
	ip := ls[0].Addr().Unmap()
	if ip.IsUnspecified() {
		switch {
		case s.cfg.MediaIP.IsValid() && !s.cfg.MediaIP.IsUnspecified():
			ip = s.cfg.MediaIP.Unmap()
		default:
			// A connected UDP socket sends nothing; it tells the route.
			c, err := net.Dial("udp", t.dest)
			if err != nil {
				return sipmsg.Uri{}, fmt.Errorf("find local address toward %s: %w", t.dest, err)
			}
			ip = addrPort(c.LocalAddr()).Addr().Unmap()
			c.Close()
		}
	}
	u := sipmsg.Uri{Scheme: "sip", User: user, Host: hostOf(ip), Port: int(ls[0].Port())}
	if t.transport == "TCP" {
		u.UriParams = sipmsg.HeaderParams{{K: "transport", V: "tcp"}}
	}
	return u, nil
}

func hostIP(host string) netip.Addr {
	ip, _ := netip.ParseAddr(strings.Trim(host, "[]"))
	return ip
}

// newInvite builds the dialog-creating INVITE (RFC 3261 §8.1.1, §13.2.1).
func (s *Server) newInvite(d DialRequest, t dialTarget, contact sipmsg.Uri, body []byte) (*sipmsg.Request, error) {
	req := sipmsg.NewRequest(sipmsg.INVITE, t.ruri)
	via := &sipmsg.ViaHeader{
		ProtocolName:    "SIP",
		ProtocolVersion: "2.0",
		Transport:       t.transport,
		Host:            contact.Host,
		Port:            contact.Port,
		Params:          sipmsg.NewParams(),
	}
	via.Params.Add("branch", sipmsg.GenerateBranchN(16))
	via.Params.Add("rport", "")
	req.AppendHeader(via)
	maxForwards := sipmsg.MaxForwardsHeader(70)
	req.AppendHeader(&maxForwards)
	fromHost := s.cfg.Realm
	if fromHost == "" {
		fromHost = contact.Host
	}
	from := &sipmsg.FromHeader{
		DisplayName: quoteDisplay(d.FromDisplay),
		Address:     sipmsg.Uri{Scheme: "sip", User: d.From, Host: fromHost},
		Params:      sipmsg.NewParams(),
	}
	from.Params.Add("tag", randomHex(8))
	req.AppendHeader(from)
	req.AppendHeader(&sipmsg.ToHeader{Address: t.to, Params: sipmsg.NewParams()})
	callID := sipmsg.CallIDHeader(randomHex(16))
	req.AppendHeader(&callID)
	req.AppendHeader(&sipmsg.CSeqHeader{SeqNo: uint32(1 + randomUint63()%(1<<30)), MethodName: sipmsg.INVITE})
	req.AppendHeader(&sipmsg.ContactHeader{Address: contact})
	req.AppendHeader(sipmsg.NewHeader("Allow", allowedMethods))
	req.AppendHeader(sipmsg.NewHeader("User-Agent", s.cfg.UserAgent))
	names := make([]string, 0, len(d.Headers))
	for name := range d.Headers {
		names = append(names, name)
	}
	slices.Sort(names)
	for _, name := range names {
		req.AppendHeader(sipmsg.NewHeader(name, d.Headers[name]))
	}
	req.AppendHeader(sipmsg.NewHeader("Content-Type", "application/sdp"))
	req.SetBody(body)
	if err := s.checkOutgoing(req); err != nil {
		return nil, fmt.Errorf("build INVITE: %w", err)
	}
	req.SetTransport(t.transport)
	req.SetDestination(t.dest)
	return req, nil
}

// quoteDisplay escapes a display name for sipgo, which writes it between
// double quotes as it is (RFC 3261 §25.1 quoted-string).
func quoteDisplay(s string) string {
	if s == "" {
		return ""
	}
	r := strings.NewReplacer(`\`, `\\`, `"`, `\"`)
	return r.Replace(s)
}

// offeredCodecs is the codec asked for, then the other G.711 ones.
func offeredCodecs(first media.Codec) []media.Codec {
	c, _ := media.CodecByName(first.Name)
	out := []media.Codec{c}
	for _, other := range media.Codecs {
		if !strings.EqualFold(other.Name, c.Name) {
			out = append(out, other)
		}
	}
	return out
}

// offer writes our SDP offer (RFC 3264 §5) for o: one sendrecv audio
// stream with o.Codec first, the other G.711 codecs after it and, when
// o.DTMFPayloadType is set, telephone-events. The address is the first
// specific one of mediaIP, o.Addr's and local.
func (s *sdpSession) offer(o MediaAnswer, mediaIP, local netip.Addr) ([]byte, error) {
	ip, family := sdpAddr(mediaIP, o.Addr.Addr(), local)
	if !ip.IsValid() || o.Addr.Port() == 0 {
		return nil, fmt.Errorf("offer address %s: set Config.MediaIP or offer a routable address", o.Addr)
	}
	codecs := offeredCodecs(o.Codec)
	formats := make([]string, 0, len(codecs)+1)
	for _, c := range codecs {
		formats = append(formats, strconv.Itoa(int(c.PayloadType)))
	}
	if o.DTMFPayloadType != 0 {
		formats = append(formats, strconv.Itoa(int(o.DTMFPayloadType)))
	}
	var b strings.Builder
	line := s.writeHeader(&b, family, ip)
	line("m=audio %d RTP/AVP %s", o.Addr.Port(), strings.Join(formats, " "))
	for _, c := range codecs {
		line("a=rtpmap:%d %s/%d", c.PayloadType, c.Name, c.ClockRate)
	}
	if o.DTMFPayloadType != 0 {
		line("a=rtpmap:%d telephone-event/8000", o.DTMFPayloadType)
		line("a=fmtp:%d 0-16", o.DTMFPayloadType)
	}
	line("a=ptime:%d", media.FrameDuration/time.Millisecond)
	line("a=%s", SendRecv)
	return []byte(b.String()), nil
}
