package ivr

import (
	_ "embed"
	"slices"
)

//go:embed flow.schema.json
var schema []byte

// Schema returns the JSON Schema (draft 2020-12) of flow files, for editors
// to check flows as authors type: VS Code's YAML extension through a
// `# yaml-language-server: $schema=...` line, JetBrains IDEs through their
// schema mappings. The schema checks the shape of a flow (keys, types, one
// action per step, durations, DTMF keys, SIP URIs); only Parse checks what
// refers to the rest of the file, such as steps that do not exist. The
// returned slice is a copy the caller may keep or change.
func Schema() []byte {
	return slices.Clone(schema)
}
