// Package asyncapitest checks AsyncAPI documents in tests: the document
// against the official AsyncAPI 3.0.0 JSON Schema, and messages against the
// schemas the document gives them.
package asyncapitest

import (
	"bytes"
	_ "embed"
	"fmt"

	"github.com/santhosh-tekuri/jsonschema/v6"
)

// specSchema is schemas/3.0.0-without-$id.json of the AsyncAPI Initiative's
// @asyncapi/specs package, version 6.11.1 (Apache-2.0; see testdata/README.md).
//
//go:embed testdata/asyncapi-3.0.0.json
var specSchema []byte

const (
	specURL = "file:///asyncapi-3.0.0-schema.json"
	docURL  = "file:///asyncapi.json"
)

// Validate checks doc against the AsyncAPI 3.0.0 JSON Schema, formats included.
func Validate(doc []byte) error {
	spec, err := jsonschema.UnmarshalJSON(bytes.NewReader(specSchema))
	if err != nil {
		return fmt.Errorf("embedded AsyncAPI schema: %w", err)
	}
	inst, err := jsonschema.UnmarshalJSON(bytes.NewReader(doc))
	if err != nil {
		return fmt.Errorf("document is not JSON: %w", err)
	}
	c := jsonschema.NewCompiler()
	c.AssertFormat()
	if err := c.AddResource(specURL, spec); err != nil {
		return err
	}
	s, err := c.Compile(specURL)
	if err != nil {
		return fmt.Errorf("compile the AsyncAPI schema: %w", err)
	}
	return s.Validate(inst)
}

// Schema compiles the schema at pointer (such as
// "/components/messages/MemoryCreated/payload") of doc, with its references
// resolved within doc. AsyncAPI schemas are JSON Schema draft-07.
func Schema(doc []byte, pointer string) (*jsonschema.Schema, error) {
	v, err := jsonschema.UnmarshalJSON(bytes.NewReader(doc))
	if err != nil {
		return nil, fmt.Errorf("document is not JSON: %w", err)
	}
	c := jsonschema.NewCompiler()
	c.DefaultDraft(jsonschema.Draft7)
	c.AssertFormat()
	if err := c.AddResource(docURL, v); err != nil {
		return nil, err
	}
	return c.Compile(docURL + "#" + pointer)
}
