package mem0test

import (
	"context"
	_ "embed"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/getkin/kin-openapi/routers"
	"github.com/getkin/kin-openapi/routers/gorillamux"
)

// mem0OpenAPI is mem0's published OpenAPI document for the hosted platform
// (docs/openapi.json of mem0ai/mem0 at 8d5b786).
//
//go:embed testdata/mem0-openapi.json
var mem0OpenAPI []byte

// platformDocument loads the document once per test binary, without its servers so it
// routes any test server's host. It is deliberately not doc.Validate()d: kin-openapi's
// strict check refuses array schemas without items (MemorySearchInputV2 has some),
// which does not affect validation of requests and answers.
var platformDocument = sync.OnceValues(func() (routers.Router, error) {
	doc, err := openapi3.NewLoader().LoadFromData(mem0OpenAPI)
	if err != nil {
		return nil, fmt.Errorf("loading mem0's OpenAPI document: %w", err)
	}
	doc.Servers = nil
	if err := amendDocument(doc); err != nil {
		return nil, fmt.Errorf("amending mem0's OpenAPI document: %w", err)
	}
	return gorillamux.NewRouter(doc)
})

// amendDocument works around the places where the document contradicts itself or
// mem0's own code. Each amendment turns off exactly one check.
func amendDocument(doc *openapi3.T) error {
	// The v3 operations declare security [{"tokenAuth": []}], but components only define
	// ApiKeyAuth ("Authorization: Token <key>", what mem0/client/main.py sends on every
	// route). Treat tokenAuth as that scheme instead of refusing every v3 request.
	schemes := doc.Components.SecuritySchemes
	if schemes["ApiKeyAuth"] == nil {
		return errors.New("no ApiKeyAuth security scheme")
	}
	if schemes["tokenAuth"] == nil {
		schemes["tokenAuth"] = schemes["ApiKeyAuth"]
	}

	// The history of a memory declares new_memory and user_id as non-null strings, yet a
	// DELETE entry has no new text (mem0's own history table stores NULL:
	// mem0/memory/storage.py) and a memory scoped to an agent only has no user. The fake
	// answers null there, the harder case for a client.
	history, err := responseItem(doc, "/v1/memories/{memory_id}/history/", http.MethodGet)
	if err != nil {
		return err
	}
	if err := nullable(history, "new_memory", "user_id"); err != nil {
		return err
	}
	// The deprecated v1 and v2 searches declare user_id a non-null string; the v3 search
	// declares the same field nullable. A memory scoped to an agent has none.
	v1, err := responseItem(doc, "/v1/memories/search/", http.MethodPost)
	if err != nil {
		return err
	}
	v2, err := responseItem(doc, "/v2/memories/search/", http.MethodPost)
	if err != nil {
		return err
	}
	return errors.Join(nullable(v1, "user_id"), nullable(v2, "user_id"))
}

// responseItem is the item schema of an operation's 200 answer (its array variant when
// the answer is oneOf an array and an object).
func responseItem(doc *openapi3.T, path, method string) (*openapi3.Schema, error) {
	item := doc.Paths.Find(path)
	if item == nil || item.GetOperation(method) == nil {
		return nil, fmt.Errorf("no operation %s %s", method, path)
	}
	resp := item.GetOperation(method).Responses.Status(http.StatusOK)
	if resp == nil || resp.Value == nil || resp.Value.Content.Get("application/json") == nil {
		return nil, fmt.Errorf("%s %s: no JSON 200 answer", method, path)
	}
	schema := resp.Value.Content.Get("application/json").Schema.Value
	for _, alt := range schema.OneOf {
		if alt.Value.Type.Is("array") {
			schema = alt.Value
		}
	}
	if schema.Items == nil {
		return nil, fmt.Errorf("%s %s: the 200 answer is not an array", method, path)
	}
	return schema.Items.Value, nil
}

func nullable(s *openapi3.Schema, props ...string) error {
	for _, p := range props {
		ref := s.Properties[p]
		if ref == nil || ref.Value == nil {
			return fmt.Errorf("no property %q", p)
		}
		ref.Value.Nullable = true
	}
	return nil
}

// validationOptions: no defaults written into the request (the handlers apply mem0's
// defaults themselves), UUID formats checked (kin-openapi leaves them unchecked unless
// asked).
var validationOptions = &openapi3filter.Options{
	AuthenticationFunc:  requireTokenHeader,
	SkipSettingDefaults: true,
	SchemaValidationOptions: []openapi3.SchemaValidationOption{
		openapi3.WithStringFormatValidator("uuid", openapi3.NewRegexpFormatValidator(openapi3.FormatOfStringForUUIDOfRFC9562)),
	},
}

// requireTokenHeader is the document's ApiKeyAuth scheme: header Authorization, "Token <key>".
func requireTokenHeader(_ context.Context, in *openapi3filter.AuthenticationInput) error {
	scheme := in.SecurityScheme
	if scheme.Type != "apiKey" || scheme.In != "header" {
		return nil
	}
	value := in.RequestValidationInput.Request.Header.Get(scheme.Name)
	if value == "" {
		return in.NewError(fmt.Errorf("missing %s header", scheme.Name))
	}
	if scheme.Name == "Authorization" && !strings.HasPrefix(value, "Token ") {
		return in.NewError(errors.New(`the Authorization header must read "Token <api key>"`))
	}
	return nil
}

// platformOp is the document's operation a request was routed to.
type platformOp struct {
	input      *openapi3filter.RequestValidationInput
	path       string
	deprecated bool
	handler    http.Handler
}

// checkPlatformRequest finds the document's operation for r and validates r against
// it: route, parameters, body, the Token header. A request the document does not allow
// fails the test and is refused; a path id that is not a UUID gets the 400 the document
// gives for it, since that is an answer mem0 documents rather than a malformed call.
func (s *Server) checkPlatformRequest(w http.ResponseWriter, r *http.Request) (*platformOp, bool) {
	router, err := platformDocument()
	if err != nil {
		s.t.Errorf("mem0test: %v", err)
		s.writeError(w, http.StatusInternalServerError, err.Error())
		return nil, true
	}
	route, params, err := router.FindRoute(r)
	if err != nil {
		s.t.Errorf("mem0test: %s %s is no operation of mem0's OpenAPI document: %v", r.Method, r.URL.RequestURI(), err)
		s.writeError(w, http.StatusNotFound, "Not found.")
		return nil, true
	}
	input := &openapi3filter.RequestValidationInput{Request: r, PathParams: params, Route: route, Options: validationOptions}
	if err := openapi3filter.ValidateRequest(r.Context(), input); err != nil {
		var reqErr *openapi3filter.RequestError
		if errors.As(err, &reqErr) && reqErr.Parameter != nil && reqErr.Parameter.In == openapi3.ParameterInPath {
			s.writeError(w, http.StatusBadRequest, reqErr.Parameter.Name+" should be a valid UUID")
			return nil, true
		}
		s.t.Errorf("mem0test: %s %s does not match mem0's OpenAPI document: %v", r.Method, r.URL.RequestURI(), err)
		var secErr *openapi3filter.SecurityRequirementsError
		if errors.As(err, &secErr) {
			s.writeJSON(w, http.StatusUnauthorized, map[string]string{"detail": "Authentication credentials were not provided."})
			return nil, true
		}
		s.writeError(w, http.StatusBadRequest, "request does not match the API: "+firstLine(err.Error()))
		return nil, true
	}
	for k, v := range params {
		r.SetPathValue(k, v)
	}
	return &platformOp{
		input: input, path: route.Path, deprecated: route.Operation.Deprecated,
		handler: s.platformHandler(route.Operation.OperationID),
	}, false
}

// checkPlatformResponse validates the fake's own answer against the document, so the
// answers are shaped by mem0's document, not by memory.
func (s *Server) checkPlatformResponse(op *platformOp, r *http.Request, rec *httptest.ResponseRecorder) {
	in := &openapi3filter.ResponseValidationInput{
		RequestValidationInput: op.input, Status: rec.Code, Header: rec.Header(), Options: validationOptions,
	}
	in.SetBodyBytes(rec.Body.Bytes())
	if err := openapi3filter.ValidateResponse(r.Context(), in); err != nil {
		s.t.Errorf("mem0test: the fake's answer %d to %s %s does not match mem0's OpenAPI document: %v\nanswer: %.500s",
			rec.Code, r.Method, r.URL.RequestURI(), err, rec.Body.String())
	}
}

func (s *Server) platformAuthorized(r *http.Request) bool {
	s.mu.Lock()
	key := s.apiKey
	s.mu.Unlock()
	return key == "" || r.Header.Get("Authorization") == "Token "+key
}
