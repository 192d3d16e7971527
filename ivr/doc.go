// Package ivr owns the flow language: parsing and checking flow files with
// line numbers, running them on a call, prompts per language, the TTS
// interface and the simulator. It may import asr and media.
//
// Its code arrives with the IVR work.
package ivr
