//go:build !opus

package media

import "errors"

// OpusAvailable says whether this build speaks Opus: this one does not
// (it was built without the opus tag; see opus.go).
const OpusAvailable = false

var errNoOpus = errors.New("media: this build has no Opus: build it where libopus-dev is installed (make build)")

// NewOpusEncoder fails: this build has no Opus.
func NewOpusEncoder() (Encoder, error) { return nil, errNoOpus }

// NewOpusDecoder fails: this build has no Opus.
func NewOpusDecoder() (Decoder, error) { return nil, errNoOpus }
