// Package media owns audio that moves in real time: G.711 and L16 codecs, RTP
// sessions on pion/rtp, the jitter buffer, RFC 4733 DTMF, resampling, mixing,
// voice-activity detection, tones and WAV playback. It imports nothing else
// of Sambung's.
//
// Its code arrives with the call-core work (SIP front end, media engine, recording).
package media
