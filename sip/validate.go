package sip

import (
	"strings"

	sipmsg "github.com/emiago/sipgo/sip"
)

// The validation layer: what sipgo's parser lets through and RFC 3261 still
// forbids. sipgo drops what it cannot parse (start line, Via, From, To,
// Call-ID, CSeq, Max-Forwards, Content-Length, Contact, Route and
// Record-Route are parsed strictly; every other header is kept as text) and
// answers a request without Via or CSeq with a stateless 400. Everything
// else reaches validate, in the order of RFC 3261 §8.2: is the message well
// formed, is the method supported (§8.2.1), are the Request-URI and Require
// acceptable (§8.2.2). Content (§8.2.3) is checked where it is used, for
// INVITE.

// allowedMethods are the methods this server implements, for Allow.
const allowedMethods = "INVITE, ACK, CANCEL, BYE, OPTIONS"

// rejection is the response the validation layer owes a request.
type rejection struct {
	code    int
	reason  string
	headers []sipmsg.Header
}

func reject(code int, reason string, headers ...sipmsg.Header) *rejection {
	return &rejection{code: code, reason: reason, headers: headers}
}

// singleValued are the header fields that must appear at most once
// (RFC 3261 §7.3.1 and §20: they are not comma-separated lists).
var singleValued = []string{"From", "To", "Call-ID", "CSeq", "Max-Forwards", "Content-Length", "Content-Type"}

// drop is the rejection of a request that cannot be answered safely.
var drop = &rejection{}

// validate checks a request that sipgo parsed. It returns nil when the
// request may go to its method's handler, drop when no response can be
// built from it safely.
func validate(req *sipmsg.Request) *rejection {
	// sipgo ends lines at CR only, so a bare LF stays inside a header
	// value; echoed in a response it would start a header of the sender's
	// choosing.
	if hasLineBreak(req) {
		return drop
	}
	// RFC 3261 §7.1: the version string is case-insensitive.
	if !strings.EqualFold(req.SipVersion, "SIP/2.0") {
		return reject(505, "Version Not Supported")
	}
	// RFC 3261 §8.1.1: the header fields every request carries.
	if req.Via() == nil {
		return reject(400, "Missing Via")
	}
	if req.From() == nil {
		return reject(400, "Missing From")
	}
	if req.To() == nil {
		return reject(400, "Missing To")
	}
	if req.CallID() == nil {
		return reject(400, "Missing Call-ID")
	}
	cseq := req.CSeq()
	if cseq == nil {
		return reject(400, "Missing CSeq")
	}
	if req.MaxForwards() == nil {
		return reject(400, "Missing Max-Forwards")
	}
	for _, name := range singleValued {
		if len(req.GetHeaders(name)) > 1 {
			return reject(400, "Multiple "+name)
		}
	}
	// RFC 3261 §8.1.1.5: the CSeq method matches the request's. sipgo upper
	// cases the request method, so the comparison ignores case.
	if !isToken(string(req.Method)) || !strings.EqualFold(string(cseq.MethodName), string(req.Method)) {
		return reject(400, "CSeq Method Mismatch")
	}
	// RFC 3261 §18.3: the body is as long as Content-Length says. sipgo cuts
	// a longer datagram to it and refuses a shorter one; this catches the
	// rest.
	if cl := req.ContentLength(); cl != nil && int(*cl) != len(req.Body()) {
		return reject(400, "Bad Content-Length")
	}
	if rej := checkRequestURI(&req.Recipient); rej != nil {
		return rej
	}
	if !validScheme(req.From().Address.Scheme) || !validScheme(req.To().Address.Scheme) {
		return reject(400, "Malformed From or To")
	}

	// RFC 3261 §8.2.1: a method we do not implement.
	switch req.Method {
	case sipmsg.INVITE, sipmsg.ACK, sipmsg.CANCEL, sipmsg.BYE, sipmsg.OPTIONS:
	default:
		return reject(405, "Method Not Allowed", sipmsg.NewHeader("Allow", allowedMethods))
	}
	// RFC 3261 §16.3 step 3, §20.22: the request has used up its hops.
	if *req.MaxForwards() == 0 {
		return reject(483, "Too Many Hops")
	}
	// RFC 3261 §8.2.2.1: schemes other than sip and sips.
	if s := req.Recipient.Scheme; s != "sip" && s != "sips" {
		return reject(416, "Unsupported URI Scheme")
	}
	// RFC 3261 §8.2.2.3: we support no extensions, so every Require option
	// is unsupported. ACK and CANCEL are exempt.
	if req.Method != sipmsg.ACK && req.Method != sipmsg.CANCEL {
		if tags := requiredOptions(req); len(tags) > 0 {
			return reject(420, "Bad Extension", sipmsg.NewHeader("Unsupported", strings.Join(tags, ", ")))
		}
	}
	return nil
}

// hasLineBreak reports whether a header field value of m holds CR or LF.
func hasLineBreak(m sipmsg.Message) bool {
	for _, h := range headersOf(m) {
		if containsCRLF(h.Value()) {
			return true
		}
	}
	return false
}

// checkRequestURI rejects a Request-URI RFC 3261 §19.1 does not allow.
func checkRequestURI(u *sipmsg.Uri) *rejection {
	if !validScheme(u.Scheme) {
		return reject(400, "Malformed Request-URI")
	}
	if u.Scheme != "sip" && u.Scheme != "sips" {
		return nil // 416, after the method check
	}
	if u.Host == "" || !validHeaderValue(u.String()) {
		return reject(400, "Malformed Request-URI")
	}
	// RFC 3261 §19.1.1, table 1: headers are not allowed in a Request-URI
	// (RFC 4475 §3.1.2.11).
	if len(u.Headers) > 0 {
		return reject(400, "Headers Not Allowed In Request-URI")
	}
	return nil
}

func requiredOptions(req *sipmsg.Request) []string {
	var tags []string
	for _, h := range req.GetHeaders("Require") {
		for tag := range strings.SplitSeq(h.Value(), ",") {
			if tag = strings.TrimSpace(tag); tag != "" {
				tags = append(tags, tag)
			}
		}
	}
	return tags
}

// validScheme reports whether s is a URI scheme by RFC 3986 §3.1:
// ALPHA *( ALPHA / DIGIT / "+" / "-" / "." ).
func validScheme(s string) bool {
	if s == "" {
		return false
	}
	for i := range len(s) {
		c := s[i]
		switch {
		case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z':
		case i > 0 && ('0' <= c && c <= '9' || c == '+' || c == '-' || c == '.'):
		default:
			return false
		}
	}
	return true
}

// isToken reports whether s is an RFC 3261 §25.1 token.
func isToken(s string) bool {
	if s == "" {
		return false
	}
	for i := range len(s) {
		c := s[i]
		switch {
		case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', '0' <= c && c <= '9':
		case strings.IndexByte("-.!%*_+`'~", c) >= 0:
		default:
			return false
		}
	}
	return true
}

// validHeaderValue reports whether s can go into a header field we build:
// CR and LF would end the header (and let data from the network inject
// others), NUL is cut short by many stacks.
func validHeaderValue(s string) bool {
	return !strings.ContainsAny(s, "\r\n\x00")
}

// acceptsSDP reports whether a request's Accept header fields, if any,
// allow an application/sdp body in the response (RFC 3261 §20.1).
func acceptsSDP(req *sipmsg.Request) bool {
	hs := req.GetHeaders("Accept")
	if len(hs) == 0 {
		return true
	}
	for _, h := range hs {
		for r := range strings.SplitSeq(h.Value(), ",") {
			mt, _, _ := strings.Cut(r, ";")
			switch strings.ToLower(strings.TrimSpace(mt)) {
			case "application/sdp", "application/*", "*/*":
				return true
			}
		}
	}
	return false
}

// isSDP reports whether a Content-Type value is application/sdp.
func isSDP(contentType string) bool {
	mt, _, _ := strings.Cut(contentType, ";")
	return strings.EqualFold(strings.TrimSpace(mt), "application/sdp")
}

// cseqOf returns a request's CSeq number, 0 when it has none.
func cseqOf(req *sipmsg.Request) uint32 {
	if c := req.CSeq(); c != nil {
		return c.SeqNo
	}
	return 0
}

// answerable reports whether a request that failed to parse still has what
// a response needs (RFC 3261 §8.2.6: Via, From, To, Call-ID and CSeq copied
// from it), so a 400 can be sent without guessing.
func answerable(req *sipmsg.Request) bool {
	if req == nil || req.IsAck() || req.Via() == nil || req.From() == nil || req.To() == nil || req.CallID() == nil || req.CSeq() == nil {
		return false
	}
	return strings.EqualFold(req.SipVersion, "SIP/2.0") &&
		strings.EqualFold(string(req.CSeq().MethodName), string(req.Method))
}
