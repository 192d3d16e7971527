package whisper

import "github.com/sambung/sambung/asr"

func init() {
	asr.Register(Name, func(cfg asr.Config) (asr.Recognizer, error) {
		b, err := New(FromASR(cfg))
		if err != nil {
			return nil, err
		}
		return asr.FromBatch(b, cfg, asr.EndpointConfig{}), nil
	})
}
