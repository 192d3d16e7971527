// Package calls owns the Call: its legs, media graph (bridges, taps, mixer),
// timeline and events, transfer and hold; it is the switchboard that joins
// sip, ivr, agents and recordings. It may import media, ivr, asr, agents,
// recordings, store and audit.
//
// Its code arrives with the call-core work.
package calls
