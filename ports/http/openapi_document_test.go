package http

import (
	"encoding/json"
	"regexp"
	"strings"
	"testing"
)

// documentOperation is what these tests read of an operation.
type documentOperation struct {
	OperationID string   `json:"operationId"`
	Tags        []string `json:"tags"`
	Parameters  []struct {
		Name string `json:"name"`
		In   string `json:"in"`
	} `json:"parameters"`
	RequestBody *json.RawMessage `json:"requestBody"`
	Responses   map[string]struct {
		Content map[string]struct {
			Schema struct {
				Ref string `json:"$ref"`
			} `json:"schema"`
		} `json:"content"`
	} `json:"responses"`
}

type servedDoc struct {
	Info struct {
		License *struct {
			Name string `json:"name"`
		} `json:"license"`
		Contact *struct {
			Name string `json:"name"`
			URL  string `json:"url"`
		} `json:"contact"`
	} `json:"info"`
	Tags []struct {
		Name        string `json:"name"`
		Description string `json:"description"`
	} `json:"tags"`
	Paths      map[string]map[string]documentOperation `json:"paths"`
	Components struct {
		Schemas map[string]json.RawMessage `json:"schemas"`
	} `json:"components"`
	raw []byte
}

func readServedDocument(t *testing.T) servedDoc {
	t.Helper()
	var d servedDoc
	d.raw = servedDocument(t)
	if err := json.Unmarshal(d.raw, &d); err != nil {
		t.Fatalf("document: %v", err)
	}
	return d
}

func (d servedDoc) operations() map[string]documentOperation {
	ops := map[string]documentOperation{}
	for path, item := range d.Paths {
		for method, op := range item {
			ops[strings.ToUpper(method)+" "+path] = op
		}
	}
	return ops
}

// Every operation declares, as an RFC 9457 problem, each status the code in
// front of its handler can answer, and the ones its handler adds: the caller's
// (401, 403, 429, 503) always, the body's (400, 413, 415, 422) with a body,
// the Idempotency-Key's (400, 409, 413, 422) with the key, 404 with an id in
// the path.
func TestDocumentDeclaresEveryProblem(t *testing.T) {
	t.Parallel()
	for where, op := range readServedDocument(t).operations() {
		want := []string{"401", "403", "429", "503", "default"}
		if op.RequestBody != nil {
			want = append(want, "400", "413", "415", "422")
		}
		for _, p := range op.Parameters {
			switch {
			case p.Name == "Idempotency-Key":
				want = append(want, "400", "409", "413", "422")
			case p.In == "path":
				want = append(want, "404")
			}
		}
		for _, status := range want {
			resp, ok := op.Responses[status]
			if !ok {
				t.Errorf("%s (%s): %s not declared", where, op.OperationID, status)
				continue
			}
			if ref := resp.Content["application/problem+json"].Schema.Ref; ref != "#/components/schemas/Problem" {
				t.Errorf("%s: %s is not a problem+json Problem (%q)", where, status, ref)
			}
		}
		for status, resp := range op.Responses {
			if (status == "default" || status[0] >= '4') && resp.Content["application/problem+json"].Schema.Ref == "" {
				t.Errorf("%s: %s is not a problem", where, status)
			}
		}
	}
}

// Tags are declared with a description and each is used; schemas are only
// those the document refers to (huma's ErrorModel and ErrorDetail are not);
// info names a license and a contact.
func TestDocumentDeclaresTagsLicenseContactAndNoUnusedSchema(t *testing.T) {
	t.Parallel()
	d := readServedDocument(t)

	declared := map[string]bool{}
	for _, tag := range d.Tags {
		if tag.Description == "" {
			t.Errorf("tag %q has no description", tag.Name)
		}
		declared[tag.Name] = true
	}
	used := map[string]bool{}
	for where, op := range d.operations() {
		if len(op.Tags) == 0 {
			t.Errorf("%s has no tag", where)
		}
		for _, tag := range op.Tags {
			used[tag] = true
			if !declared[tag] {
				t.Errorf("%s: tag %q is not declared", where, tag)
			}
		}
	}
	for tag := range declared {
		if !used[tag] {
			t.Errorf("tag %q is declared but not used", tag)
		}
	}

	refs := regexp.MustCompile(`"#/components/schemas/([^"]+)"`).FindAllSubmatch(d.raw, -1)
	referred := map[string]bool{}
	for _, m := range refs {
		referred[string(m[1])] = true
	}
	for name := range d.Components.Schemas {
		if !referred[name] {
			t.Errorf("schema %s is in components but nothing refers to it", name)
		}
	}
	for _, huma := range []string{"ErrorModel", "ErrorDetail"} {
		if _, ok := d.Components.Schemas[huma]; ok {
			t.Errorf("huma's %s is still in components", huma)
		}
	}

	if l := d.Info.License; l == nil || l.Name == "" {
		t.Error("info.license has no name")
	}
	if c := d.Info.Contact; c == nil || c.Name == "" || !strings.HasPrefix(c.URL, "https://memory.example.com/") {
		t.Errorf("info.contact %+v: want a name and a URL of the service", c)
	}
}

// No schema takes a name a generator gives its own types for an operation
// (oapi-codegen: <OperationId>Response, Params, JSONBody, JSONRequestBody);
// TestGeneratedGoClientCompiles proves the whole, this says which name clashed.
func TestSchemaNamesLeaveGeneratorNamesFree(t *testing.T) {
	t.Parallel()
	d := readServedDocument(t)
	if len(d.Components.Schemas) == 0 {
		t.Fatal("no schemas")
	}
	for _, op := range d.operations() {
		id := strings.ToUpper(op.OperationID[:1]) + op.OperationID[1:]
		for _, suffix := range []string{"Response", "Params", "JSONBody", "JSONRequestBody"} {
			if _, ok := d.Components.Schemas[id+suffix]; ok {
				t.Errorf("schema %s%s is the name generators give operation %s's own type", id, suffix, op.OperationID)
			}
		}
	}
}
