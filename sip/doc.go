// Package sip owns SIP on emiago/sipgo: listeners, request validation, digest
// authentication, the registrar, inbound INVITE to a media leg, and outbound
// calls. It may import media only.
//
// Its code arrives with the call-core work.
package sip
