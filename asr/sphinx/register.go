//go:build pocketsphinx

package sphinx

import "github.com/sambung/sambung/asr"

// init registers the engine as "pocketsphinx": the Batch Engine behind
// asr.FromBatch's endpointer, which hands it one utterance at a time. Its
// work is local CPU, so the stream starts on an utterance as soon as its
// audio is complete (asr.EndpointConfig.Early): the caller waits for the
// pause to be confirmed or for the decode, not for both in turn.
func init() {
	asr.Register(Name, func(cfg asr.Config) (asr.Recognizer, error) {
		e, err := New(Config{Model: cfg.Model, Logger: cfg.Logger})
		if err != nil {
			return nil, err
		}
		return asr.FromBatch(e, cfg, asr.EndpointConfig{Early: true}), nil
	})
}
