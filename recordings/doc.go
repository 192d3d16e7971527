// Package recordings owns what is recorded: crash-safe WAV writing,
// encryption at rest, retention, PCI pause, QA evaluations and sampling. It
// may import store, media and audit.
//
// Its code arrives with the call-core and recordings work.
package recordings
