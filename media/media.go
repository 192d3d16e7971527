// Package media owns audio that moves in real time: G.711 codecs by table,
// RTP sessions on pion/rtp, the jitter buffer, RFC 4733 DTMF, resampling,
// mixing, tones and WAV playback. It imports nothing else of Sambung's.
//
// Inside the engine, audio travels as frames of 20 ms of 16-bit mono PCM at
// 8 kHz (FrameSamples samples): the rate of the G.711 telephone network.
// Other rates are converted at the edges (WAV prompts, recognizers, WebRTC),
// each in one place.
package media

import "time"

// The engine's frame format.
const (
	Rate          = 8000                  // samples per second
	FrameDuration = 20 * time.Millisecond // one frame, one RTP packet (ptime 20)
	FrameSamples  = Rate / 50             // 160 samples per frame
)

// Source produces audio to send, one frame at a time (a prompt, a tone, the
// other side of a bridge). ReadFrame fills all of frame and reports false
// when the source has ended; frame is then left as silence.
type Source interface {
	ReadFrame(frame []int16) bool
}
