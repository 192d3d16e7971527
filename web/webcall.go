package web

import (
	"context"
	"net/http"

	"github.com/sambung/sambung/store"
)

// WebCaller takes calls from web pages (calls.WebCalls): the server end of
// docs/webcall.md. Like the softphone, the web layer only carries
// messages.
type WebCaller interface {
	// Open starts a session for one page, from the client address client
	// (the rate limit's key). The first message out is "hello".
	Open(client string) SoftphoneSession
}

// webCallReadLimit bounds one message from a caller's page: an SDP offer
// with its candidates is a few kilobytes.
const webCallReadLimit = 32 << 10

// SetWebCalls gives the server what /api/v1/webcall carries calls to. Call
// it before Serve; without it the click-to-call page says calls from the
// web are off.
func (s *Server) SetWebCalls(w WebCaller) { s.webCalls = w }

// webCall serves a caller's socket: public, one call per socket, the call
// ending when the socket does.
func (s *Server) webCall(w http.ResponseWriter, r *http.Request) {
	if s.webCalls == nil {
		writeError(w, http.StatusNotFound, "no_web_calls", "This server takes no calls from web pages.")
		return
	}
	conn, err := s.upgrader().Upgrade(w, r, nil)
	if err != nil {
		return // the upgrader has answered
	}
	ctx, cancel := context.WithCancel(context.WithoutCancel(r.Context()))
	sess := s.webCalls.Open(remoteIP(r))
	s.carry(ctx, cancel, conn, sess, store.User{}, nil, func() bool { return true }, webCallReadLimit)
}
