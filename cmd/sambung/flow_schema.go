package main

import (
	"fmt"
	"io"

	"github.com/sambung/sambung/ivr"
)

// printFlowSchema writes the JSON Schema of flow files to w, for
// `sambung flow schema > flow.schema.json` and an editor to check flows with.
func printFlowSchema(w io.Writer) error {
	if _, err := w.Write(ivr.Schema()); err != nil {
		return fmt.Errorf("write flow schema: %w", err)
	}
	return nil
}
