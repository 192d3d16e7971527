package sip

import (
	"context"
	"crypto/rand"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"strconv"
	"strings"

	"github.com/emiago/sipgo"
	sipmsg "github.com/emiago/sipgo/sip"
)

// The UAS side of a dialog (RFC 3261 §12 to §15): the INVITE that makes a
// call, and the ACK, BYE and re-INVITE requests inside it. sipgo matches
// requests to transactions; matching them to calls, the route set, CSeq
// ordering, 2xx retransmission and BYE are here. sipgo's DialogServerSession
// does part of this, but it does not answer re-INVITEs, and its wait for
// the ACK (v1.7.2) retransmits at T1 and then every T2 rather than doubling,
// and never reaches its own 64*T1 timeout (re-armed on every
// retransmission): it stops only when the transaction's Timer L ends it.

// serveInvite handles an INVITE outside a dialog: a new call. It runs on
// sipgo's goroutine for the transaction and returns once the final
// response is sent and, for a 2xx, acknowledged.
func (s *Server) serveInvite(req *sipmsg.Request, tx sipmsg.ServerTransaction) {
	h := s.handler.Load()
	if s.draining.Load() || h == nil {
		s.respond(req, tx, 503, "Service Unavailable", nil)
		return
	}
	if rej := checkInvite(req); rej != nil {
		s.stats.rejected.Add(1)
		s.respond(req, tx, rej.code, rej.reason, nil, rej.headers...)
		return
	}
	o, err := parseOffer(req.Body())
	if err != nil {
		s.stats.rejected.Add(1)
		s.log.Debug("sip: offer refused", "call_id", callIDOf(req), "error", err)
		rej := offerRejection(err)
		s.respond(req, tx, rej.code, rej.reason, nil, rej.headers...)
		return
	}
	c, rej := s.newCall(req, tx, o)
	if rej != nil {
		s.respond(req, tx, rej.code, rej.reason, nil, rej.headers...)
		return
	}
	if !tx.OnCancel(func(*sipmsg.Request) { c.end(EndCallerCancel) }) {
		c.end(EndCallerCancel) // cancelled (or gone) before we could listen
	}
	s.respond(req, tx, 100, "Trying", nil)
	s.stats.calls.Add(1)
	c.log.Info("call offered", "from", c.from, "to", c.to, "transport", c.transport)
	go c.run(*h)
	go c.watch()
	c.holdInvite()
}

// offerRejection answers an offer parseOffer refused: 488 with an RFC 3261
// §20.43 warning for one we understand but cannot take, 400 for one we
// cannot read.
func offerRejection(err error) *rejection {
	switch {
	case errors.Is(err, ErrNoCompatibleCodec):
		return reject(488, "Not Acceptable Here", sipmsg.NewHeader("Warning", `305 sambung "Incompatible media format"`))
	case errors.Is(err, ErrUnsupportedOffer):
		return reject(488, "Not Acceptable Here", sipmsg.NewHeader("Warning", `300 sambung "Incompatible network protocol"`))
	}
	return reject(400, "Malformed SDP")
}

// checkInvite checks what a dialog-creating INVITE needs beyond validate.
func checkInvite(req *sipmsg.Request) *rejection {
	// RFC 3261 §8.1.1.3: a From tag names the caller's side of the dialog.
	if tag, _ := req.From().Params.Get("tag"); tag == "" {
		return reject(400, "Missing From Tag")
	}
	// RFC 3261 §8.1.1.8: the Contact is where in-dialog requests go.
	contacts := req.GetHeaders("Contact")
	if len(contacts) != 1 {
		return reject(400, "Need One Contact")
	}
	if ct := req.Contact(); ct == nil || !isSIPURI(&ct.Address) || !validHeaderValue(ct.Address.String()) {
		return reject(400, "Bad Contact")
	}
	for _, h := range req.GetHeaders("Record-Route") {
		rr, ok := h.(*sipmsg.RecordRouteHeader)
		if !ok || !isSIPURI(&rr.Address) || !validHeaderValue(rr.Address.String()) {
			return reject(400, "Bad Record-Route")
		}
	}
	// RFC 3261 §8.2.3: a body we cannot read.
	for _, name := range []string{"Content-Encoding", "e"} { // e: the compact form, left as text by sipgo
		if ce := req.GetHeader(name); ce != nil && !strings.EqualFold(strings.TrimSpace(ce.Value()), "identity") {
			return reject(415, "Unsupported Media Type", sipmsg.NewHeader("Accept-Encoding", "identity"))
		}
	}
	if len(req.Body()) == 0 {
		// An offerless INVITE wants our offer in the 2xx; not supported yet.
		return reject(488, "Not Acceptable Here", sipmsg.NewHeader("Warning", `399 sambung "INVITE without SDP offer"`))
	}
	if ct := req.ContentType(); ct == nil || !isSDP(ct.Value()) {
		return reject(415, "Unsupported Media Type", sipmsg.NewHeader("Accept", "application/sdp"))
	}
	// RFC 3261 §21.4.7: our answer is SDP; the caller must accept it.
	if !acceptsSDP(req) {
		return reject(406, "Not Acceptable", sipmsg.NewHeader("Accept", "application/sdp"))
	}
	return nil
}

func isSIPURI(u *sipmsg.Uri) bool {
	return (u.Scheme == "sip" || u.Scheme == "sips") && u.Host != "" && !u.Wildcard
}

// newCall registers a call for req, or says why not (503 over MaxCalls or
// while stopping, 482 for a merged request).
func (s *Server) newCall(req *sipmsg.Request, tx sipmsg.ServerTransaction, o *offer) (*InboundCall, *rejection) {
	localTag := randomHex(8)
	inv := req.Clone()
	inv.To().Params.Add("tag", localTag)
	remoteTag, _ := req.From().Params.Get("tag")
	callID := req.CallID().Value()
	branch, _ := req.Via().Params.Get("branch")

	var routes []sipmsg.Uri
	for _, h := range req.GetHeaders("Record-Route") {
		// RFC 3261 §12.1.1: the UAS takes the route set in order.
		routes = append(routes, *h.(*sipmsg.RecordRouteHeader).Address.Clone())
	}
	sessionID := randomUint63()
	c := &InboundCall{
		s:            s,
		log:          s.log.With("call_id", callID),
		key:          dialogKey(callID, localTag),
		mergeKey:     callID + "\x00" + remoteTag + "\x00" + strconv.FormatUint(uint64(cseqOf(req)), 10),
		callID:       callID,
		localTag:     localTag,
		remoteTag:    remoteTag,
		from:         cleanText(req.From().Address.User, unescapePercent),
		fromURI:      cleanText(req.From().Address.String(), asIs),
		fromDisplay:  cleanText(req.From().DisplayName, unescapeQuoted),
		to:           cleanText(userOf(req), unescapePercent),
		transport:    req.Transport(),
		contact:      s.contactURI(req, tx),
		invite:       newInviteTx(tx, inv),
		done:         make(chan struct{}),
		updates:      make(chan MediaOffer, 8),
		offer:        o,
		sdp:          sdpSession{id: sessionID, version: sessionID},
		remoteTarget: *req.Contact().Address.Clone(),
		routeSet:     routes,
		remoteCSeq:   cseqOf(req),
		localCSeq:    uint32(randomUint63() % (1 << 30)),
	}

	s.mu.Lock()
	defer s.mu.Unlock()
	switch {
	case s.stopping:
		return nil, reject(503, "Service Unavailable")
	case s.cfg.MaxCalls > 0 && s.active >= s.cfg.MaxCalls:
		// 503, not 486: 486 Busy Here says the callee is busy, a final
		// answer a proxy relays to the caller; 503 says this server cannot
		// take the call now, and a load balancer tries the next one
		// (RFC 3263 §4.3; Kamailio's dispatcher fails over on it).
		s.log.Warn("sip: call refused, at MaxCalls", "call_id", callID, "max_calls", s.cfg.MaxCalls)
		return nil, reject(503, "Service Unavailable")
	}
	// RFC 3261 §8.2.2.2: the same request reaching us twice by different
	// paths (a forking proxy) is answered 482 the second time.
	if other, ok := s.merged[c.mergeKey]; ok && other != branch {
		return nil, reject(482, "Loop Detected")
	}
	c.ctx, c.cancel = context.WithTimeout(s.base, s.cfg.MaxCallDuration)
	s.calls[c.key] = c
	s.merged[c.mergeKey] = branch
	s.active++
	s.work.Add(3) // c.run, c.watch and c.holdInvite
	return c, nil
}

// forget removes an ended call.
func (s *Server) forget(c *InboundCall) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.calls[c.key] == c {
		delete(s.calls, c.key)
		delete(s.merged, c.mergeKey)
		s.active--
	}
}

// lookup finds the call an in-dialog request from the caller belongs to:
// our tag is in its To, the caller's in its From (RFC 3261 §12.2.2).
func (s *Server) lookup(req *sipmsg.Request) *InboundCall {
	localTag, _ := req.To().Params.Get("tag")
	s.mu.Lock()
	c := s.calls[dialogKey(req.CallID().Value(), localTag)]
	s.mu.Unlock()
	if c == nil {
		return nil
	}
	if remoteTag, _ := req.From().Params.Get("tag"); remoteTag != c.remoteTag {
		return nil
	}
	return c
}

func dialogKey(callID, localTag string) string { return callID + "\x00" + localTag }

// userOf returns the user part of the Request-URI, or of To when the
// Request-URI has none.
func userOf(req *sipmsg.Request) string {
	if req.Recipient.User != "" {
		return req.Recipient.User
	}
	return req.To().Address.User
}

// serveAck matches an ACK to the 2xx it acknowledges. ACKs are never
// answered; one that matches nothing is ignored.
func (s *Server) serveAck(req *sipmsg.Request) {
	c := s.lookup(req)
	if c == nil {
		return
	}
	c.mu.Lock()
	it := c.pending
	c.mu.Unlock()
	if it != nil && cseqOf(req) == it.cseq {
		it.ack()
	}
}

// serveBye ends a call on the caller's BYE, confirmed or early (RFC 3261
// §15.1.2: an early one also gets its INVITE answered 487).
func (s *Server) serveBye(req *sipmsg.Request, tx sipmsg.ServerTransaction) {
	c := s.lookup(req)
	if c == nil {
		s.respond(req, tx, 481, "Call/Transaction Does Not Exist", nil)
		return
	}
	c.mu.Lock()
	if cseqOf(req) < c.remoteCSeq {
		c.mu.Unlock()
		s.respond(req, tx, 500, "Out Of Order", nil) // RFC 3261 §12.2.2
		return
	}
	c.remoteCSeq = cseqOf(req)
	var res487 *sipmsg.Response
	if c.ringingLocked() == nil {
		res487 = c.inviteResponse(487, "Request Terminated", nil)
		if err := c.invite.tx.Respond(res487); err != nil {
			res487 = nil
		} else {
			c.state = stateRejected
		}
	}
	c.mu.Unlock()
	s.respond(req, tx, 200, "OK", nil)
	if res487 != nil {
		c.invite.final <- res487
	}
	c.end(EndCallerBye)
}

// serveReinvite answers an INVITE inside a call (RFC 3261 §14.2): hold,
// unhold, a new address. The answer keeps our codec and address, mirrors
// the new direction and bumps the SDP version; the new offer goes to
// Updates. Like the initial INVITE, the 2xx is retransmitted until its ACK.
func (s *Server) serveReinvite(req *sipmsg.Request, tx sipmsg.ServerTransaction) {
	c := s.lookup(req)
	if c == nil {
		s.respond(req, tx, 481, "Call/Transaction Does Not Exist", nil)
		return
	}
	c.mu.Lock()
	res, it, rej := c.reinviteLocked(req, tx)
	c.mu.Unlock()
	if rej != nil {
		s.respond(req, tx, rej.code, rej.reason, nil, rej.headers...)
		return
	}
	if err := tx.Respond(res); err != nil {
		c.log.Debug("re-INVITE answer not sent", "error", err)
	}
	s.mu.Lock()
	stopping := s.stopping
	if !stopping {
		s.work.Add(1)
	}
	s.mu.Unlock()
	if stopping {
		return
	}
	defer s.work.Done()
	c.awaitAck(it, res)
}

func (c *InboundCall) reinviteLocked(req *sipmsg.Request, tx sipmsg.ServerTransaction) (*sipmsg.Response, *inviteTx, *rejection) {
	select {
	case <-c.done:
		return nil, nil, reject(481, "Call/Transaction Does Not Exist")
	default:
	}
	cseq := cseqOf(req)
	if cseq <= c.remoteCSeq {
		return nil, nil, reject(500, "Out Of Order")
	}
	c.remoteCSeq = cseq
	if c.state < stateAnswered {
		return nil, nil, reject(491, "Request Pending")
	}
	if c.pending != nil {
		// Our 2xx to the previous INVITE awaits its ACK, but the caller
		// sends a new INVITE only once it has that 2xx: the ACK is on its
		// way (it travels in its own goroutine, and over UDP may be
		// overtaken). RFC 3261 §14.2's 500 is for an INVITE still without
		// a final response, which cannot be the case here.
		c.pending.ack()
	}
	var next *offer
	if len(req.Body()) > 0 {
		if ct := req.ContentType(); ct == nil || !isSDP(ct.Value()) {
			return nil, nil, reject(415, "Unsupported Media Type", sipmsg.NewHeader("Accept", "application/sdp"))
		}
		o, err := parseOffer(req.Body())
		if err != nil {
			return nil, nil, offerRejection(err)
		}
		next = o
	} else {
		// No offer: ours goes in the 2xx (its answer, in the ACK, is not
		// read yet).
		copied := *c.offer
		copied.Direction = SendRecv
		next = &copied
	}
	// RFC 3261 §14.2: a refused re-offer leaves the session as it was.
	body, err := c.sdp.answer(next, c.answer, c.s.cfg.MediaIP, c.localIP())
	if err != nil {
		return nil, nil, reject(488, "Not Acceptable Here")
	}
	res := c.s.newResponse(req, 200, "OK", body,
		sipmsg.NewHeader("Content-Type", "application/sdp"),
		sipmsg.NewHeader("Allow", allowedMethods),
		&sipmsg.ContactHeader{Address: c.contact},
	)
	// RFC 3261 §12.2.2: target refresh, on success only (RFC 6141 §3.1).
	if ct := req.Contact(); ct != nil && isSIPURI(&ct.Address) && validHeaderValue(ct.Address.String()) {
		c.remoteTarget = *ct.Address.Clone()
	}
	it := newInviteTx(tx, req)
	c.pending = it
	if len(req.Body()) > 0 {
		c.offer = next
		c.deliver(next.MediaOffer)
		c.log.Info("call re-offered", "direction", next.Direction, "addr", next.Addr.String())
	}
	return res, it, nil
}

// bye sends a BYE inside the dialog and waits for its final response.
func (c *InboundCall) bye(ctx context.Context) error {
	req, err := c.newRequest(sipmsg.BYE)
	if err != nil {
		return err
	}
	tx, err := c.s.client.TransactionRequest(ctx, req, func(*sipgo.Client, *sipmsg.Request) error { return nil })
	if err != nil {
		return fmt.Errorf("send BYE: %w", err)
	}
	defer tx.Terminate()
	for {
		select {
		case res := <-tx.Responses():
			if res.IsProvisional() {
				continue
			}
			if !res.IsSuccess() {
				return fmt.Errorf("BYE answered %d %s", res.StatusCode, res.Reason)
			}
			return nil
		case <-tx.Done():
			return fmt.Errorf("BYE: %w", tx.Err())
		case <-ctx.Done():
			return fmt.Errorf("BYE: %w", ctx.Err())
		}
	}
}

// newRequest builds a request inside the dialog (RFC 3261 §12.2.1.1):
// Request-URI and Route from the remote target and route set, loose or
// strict routing, our tag in From, the caller's in To, our next CSeq.
func (c *InboundCall) newRequest(method sipmsg.RequestMethod) (*sipmsg.Request, error) {
	c.mu.Lock()
	c.localCSeq++
	cseq := c.localCSeq
	target := *c.remoteTarget.Clone()
	routes := append([]sipmsg.Uri(nil), c.routeSet...)
	c.mu.Unlock()

	ruri, next := target, target
	var route []sipmsg.Uri
	if len(routes) > 0 {
		next = routes[0]
		if routes[0].UriParams.Has("lr") {
			route = routes
		} else {
			// Strict router: it goes in the Request-URI, the target last.
			ruri = *routes[0].Clone()
			ruri.Headers = nil
			route = append(routes[1:len(routes):len(routes)], target)
		}
	}
	transport := c.transport
	if tp, ok := next.UriParams.Get("transport"); ok && tp != "" {
		transport = strings.ToUpper(tp)
	} else if next.Scheme == "sips" {
		transport = "TLS"
	}
	req := sipmsg.NewRequest(method, ruri)
	via := &sipmsg.ViaHeader{
		ProtocolName:    "SIP",
		ProtocolVersion: "2.0",
		Transport:       transport,
		Host:            c.contact.Host,
		Port:            c.contact.Port,
		Params:          sipmsg.NewParams(),
	}
	via.Params.Add("branch", sipmsg.GenerateBranchN(16))
	via.Params.Add("rport", "")
	req.AppendHeader(via)
	maxForwards := sipmsg.MaxForwardsHeader(70)
	req.AppendHeader(&maxForwards)
	// Only URIs and tags: display names are not needed inside a dialog.
	inv := c.invite.req
	from := &sipmsg.FromHeader{Address: *inv.To().Address.Clone(), Params: sipmsg.NewParams()}
	from.Params.Add("tag", c.localTag)
	to := &sipmsg.ToHeader{Address: *inv.From().Address.Clone(), Params: sipmsg.NewParams()}
	to.Params.Add("tag", c.remoteTag)
	callID := sipmsg.CallIDHeader(c.callID)
	req.AppendHeader(from)
	req.AppendHeader(to)
	req.AppendHeader(&callID)
	req.AppendHeader(&sipmsg.CSeqHeader{SeqNo: cseq, MethodName: method})
	for _, r := range route {
		req.AppendHeader(&sipmsg.RouteHeader{Address: r})
	}
	req.AppendHeader(sipmsg.NewHeader("User-Agent", c.s.cfg.UserAgent))
	req.SetBody(nil)

	for _, v := range []string{ruri.String(), from.Value(), to.Value(), c.callID} {
		if !validHeaderValue(v) {
			return nil, fmt.Errorf("build %s: %w", method, ErrHeaderValue)
		}
	}
	for _, r := range route {
		if !validHeaderValue(r.String()) {
			return nil, fmt.Errorf("build %s: %w", method, ErrHeaderValue)
		}
	}
	if err := c.s.checkOutgoing(req); err != nil {
		return nil, fmt.Errorf("build %s: %w", method, err)
	}

	req.SetTransport(transport)
	port := next.Port
	if port == 0 {
		port = sipmsg.DefaultPort(transport)
	}
	req.SetDestination(net.JoinHostPort(strings.Trim(next.Host, "[]"), strconv.Itoa(port)))
	return req, nil
}

// contactURI is our address for the dialog: the local address the INVITE
// came in on. A listener bound to all addresses has no single one; then
// Config.MediaIP stands in, or the host the caller used in the
// Request-URI.
func (s *Server) contactURI(req *sipmsg.Request, tx sipmsg.ServerTransaction) sipmsg.Uri {
	var local netip.AddrPort
	if t, ok := tx.(interface{ Connection() sipmsg.Connection }); ok && t.Connection() != nil {
		local = addrPort(t.Connection().LocalAddr())
	}
	host := ""
	switch ip := local.Addr().Unmap(); {
	case ip.IsValid() && !ip.IsUnspecified():
		host = hostOf(ip)
	case s.cfg.MediaIP.IsValid() && !s.cfg.MediaIP.IsUnspecified():
		host = hostOf(s.cfg.MediaIP.Unmap())
	default:
		host = req.Recipient.Host
	}
	u := sipmsg.Uri{Scheme: "sip", Host: host, Port: int(local.Port())}
	switch req.Transport() {
	case "TCP":
		u.UriParams = sipmsg.HeaderParams{{K: "transport", V: "tcp"}}
	case "TLS":
		u.Scheme = "sips"
	}
	return u
}

func hostOf(ip netip.Addr) string {
	if ip.Is6() {
		return "[" + ip.String() + "]"
	}
	return ip.String()
}

func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

func randomUint63() uint64 {
	var b [8]byte
	_, _ = rand.Read(b[:])
	return binary.BigEndian.Uint64(b[:]) >> 1
}
