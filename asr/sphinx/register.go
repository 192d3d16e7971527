//go:build pocketsphinx

package sphinx

import "github.com/sambung/sambung/asr"

// init registers the engine as "pocketsphinx": the Batch Engine behind
// asr.FromBatch's endpointer, which hands it one utterance at a time.
func init() {
	asr.Register(Name, func(cfg asr.Config) (asr.Recognizer, error) {
		e, err := New(Config{Model: cfg.Model})
		if err != nil {
			return nil, err
		}
		return asr.FromBatch(e, cfg, asr.EndpointConfig{}), nil
	})
}
