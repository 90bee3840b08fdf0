package http

import (
	"context"
	"net/http"
	"reflect"
	"strconv"
	"strings"

	"github.com/danielgtaylor/huma/v2"
	"github.com/danielgtaylor/huma/v2/adapters/humachi"
	"github.com/go-chi/chi/v5"

	"github.com/custom-gpt-adapter/custom-gpt-adapter/domain/idempotency"
	"github.com/custom-gpt-adapter/custom-gpt-adapter/domain/oauth"
)

// The /api/v1 routes are huma operations so that the OpenAPI document a GPT
// imports is generated from the code that serves them. Huma only documents and
// routes them: the chi middleware (authenticate, requireScope, Idempotent)
// runs before it, and each handler decodes its body and writes its responses
// and problems itself, so the error semantics stay ours (400/413/415/422 with
// a slug and a field) rather than huma's.

// Security scheme names of the document.
const (
	securityOAuth  = "oauth2"
	securityAPIKey = "apiKey"
)

// Tags group the operations in the document; each is declared with a
// description in newAPI.
const (
	tagMemories   = "memories"
	tagOperations = "operations"
)

// licenseName is the license info.license states. The repository has no
// LICENSE file, so no license is granted: all rights are reserved until one is
// chosen, and this names that state rather than inventing a grant.
const licenseName = "All rights reserved (no license granted)"

// chiMiddlewareKey holds, in an operation's Metadata, the chi middleware that
// runs before its handler.
const chiMiddlewareKey = "chi-middleware"

// chiAdapter mounts huma operations on our chi router with the chi middleware
// each operation declares.
// each operation declares. r is mounted at prefix, which the operations' paths
// start with.
type chiAdapter struct {
	r      chi.Router
	prefix string
}

func (a chiAdapter) Handle(op *huma.Operation, handler func(huma.Context)) {
	mws, _ := op.Metadata[chiMiddlewareKey].([]func(http.Handler) http.Handler)
	a.r.With(mws...).MethodFunc(op.Method, strings.TrimPrefix(op.Path, a.prefix), func(w http.ResponseWriter, r *http.Request) {
		handler(humachi.NewContext(op, r, w))
	})
}

func (a chiAdapter) ServeHTTP(w http.ResponseWriter, r *http.Request) { a.r.ServeHTTP(w, r) }

// newAPI builds the huma API on r, the router mounted at /api/v1 behind
// authenticate, and registers every /api/v1 operation.
func (s *Server) newAPI(r chi.Router) huma.API {
	public := strings.TrimSuffix(s.cfg.PublicURL, "/")
	cfg := huma.Config{
		OpenAPI: &huma.OpenAPI{
			OpenAPI: "3.1.0",
			Info: &huma.Info{
				Title:   "Custom GPT memory",
				Version: "1.0.0",
				Description: "Long-term memory for a Custom GPT: search what the user told it before, store new facts, " +
					"list, correct and forget them. Writes are asynchronous: they answer 202 with an operation to follow.",
				// The operator runs the service; their privacy policy (/privacy,
				// which they replace with their own) says how to reach them.
				Contact: &huma.Contact{Name: "The operator of this service", URL: public + "/privacy"},
				License: &huma.License{Name: licenseName},
			},
			Tags: []*huma.Tag{
				{Name: tagMemories, Description: "What the user told the GPT to remember: search, store, list, read, correct, forget, export."},
				{Name: tagOperations, Description: "The background work a write starts: follow it until it succeeds or fails."},
			},
			Servers: []*huma.Server{{URL: public}},
			Components: &huma.Components{
				Schemas: huma.NewMapRegistry("#/components/schemas/", huma.DefaultSchemaNamer),
				SecuritySchemes: map[string]*huma.SecurityScheme{
					securityOAuth: {
						Type:        "oauth2",
						Description: "Each ChatGPT user signs in and gets a memory space of their own.",
						Flows: &huma.OAuthFlows{AuthorizationCode: &huma.OAuthFlow{
							AuthorizationURL: public + "/oauth/authorize",
							TokenURL:         public + "/oauth/token",
							Scopes: map[string]string{
								oauth.ScopeRead:  "Search and read the user's memories and follow operations.",
								oauth.ScopeWrite: "Store, correct and delete the user's memories.",
							},
						}},
					},
					securityAPIKey: {
						Type:        "http",
						Scheme:      "bearer",
						Description: "An application's API key (cgpt_…): the application's own memory space, every scope.",
					},
				},
			},
		},
		Formats:       huma.DefaultFormats,
		DefaultFormat: "application/json",
	}
	api := huma.NewAPI(cfg, chiAdapter{r: r, prefix: "/api/v1"})

	read, write := requireScope(oauth.ScopeRead), requireScope(oauth.ScopeWrite)
	idem := Idempotent(s.cfg.Idempotency, IdempotencyOptions{Logger: s.cfg.Logger})
	for _, o := range s.operations() {
		var mws []func(http.Handler) http.Handler
		scope := oauth.ScopeRead
		if o.write {
			scope = oauth.ScopeWrite
			mws = append(mws, write)
		} else {
			mws = append(mws, read)
		}
		if o.takesKey() {
			// After authenticate, which the router runs first: keys are scoped to the caller.
			mws = append(mws, idem)
			o.op.Parameters = append(o.op.Parameters, idempotencyKeyParam())
		}
		register(api, o, scope, mws)
	}
	dropHumaErrorSchemas(api.OpenAPI().Components.Schemas)
	return api
}

// dropHumaErrorSchemas removes the schemas of huma's own error model, which
// huma.Register adds for every operation: no response here uses them, as
// every problem is ours (problem.go), and unused schemas would become dead
// types in generated clients.
func dropHumaErrorSchemas(reg huma.Registry) {
	for _, t := range []reflect.Type{reflect.TypeOf(huma.ErrorModel{}), reflect.TypeOf(huma.ErrorDetail{})} {
		delete(reg.Map(), huma.DefaultSchemaNamer(t, ""))
	}
}

// apiOperation is one /api/v1 operation: its document and its handler.
type apiOperation struct {
	op            huma.Operation
	write         bool // needs memories:write, else memories:read
	idempotent    bool // takes Idempotency-Key
	consequential bool
	request       any // the body's type, nil without one
	responses     map[int]response
	problems      []problemCase // its handler's own, beside those of the middleware (problemCases)
	handler       http.HandlerFunc
}

// takesKey reports whether the Idempotency-Key middleware runs for o.
func (o apiOperation) takesKey() bool { return o.op.Method != http.MethodGet && o.idempotent }

type response struct {
	description string
	body        any // nil without one
	headers     map[string]*huma.Param
}

func register(api huma.API, o apiOperation, scope string, mws []func(http.Handler) http.Handler) {
	op := o.op
	reg := api.OpenAPI().Components.Schemas
	op.Metadata = map[string]any{chiMiddlewareKey: mws}
	op.Security = []map[string][]string{{securityOAuth: {scope}}, {securityAPIKey: {}}}
	op.Extensions = map[string]any{"x-openai-isConsequential": o.consequential}
	op.Responses = map[string]*huma.Response{}
	for status, resp := range o.responses {
		op.DefaultStatus = status // one success status each
		headers := rateLimitHeaders()
		for name, h := range resp.headers {
			headers[name] = h
		}
		r := &huma.Response{Description: resp.description, Headers: headers}
		if resp.body != nil {
			r.Content = map[string]*huma.MediaType{"application/json": {
				Schema: reg.Schema(reflect.TypeOf(resp.body), true, ""),
			}}
		}
		op.Responses[itoa(status)] = r
	}
	for status, r := range problemResponses(reg, o.problemCases()) {
		op.Responses[status] = r
	}
	op.Responses[itoa(http.StatusTooManyRequests)] = rateLimitedResponse(reg)
	op.Responses["default"] = &huma.Response{
		Description: "An unexpected error (500). Every problem is RFC 9457: type names the error (urn:custom-gpt-adapter:problem:<slug>), field the part of the request at fault.",
		Content:     problemContent(reg),
	}
	h := o.handler
	huma.Register(api, op, func(ctx context.Context, _ *struct{}) (*huma.StreamResponse, error) {
		return &huma.StreamResponse{Body: func(hc huma.Context) {
			r, w := humachi.Unwrap(hc)
			h(w, r)
		}}, nil
	})
	// The body is documented only once registered: huma would otherwise read
	// and validate it itself, and our decodeJSON must see it first.
	if o.request != nil {
		documented := operationOf(api.OpenAPI().Paths[op.Path], op.Method)
		documented.RequestBody = &huma.RequestBody{Required: true, Content: map[string]*huma.MediaType{
			"application/json": {Schema: reg.Schema(reflect.TypeOf(o.request), true, "")},
		}}
	}
}

func idempotencyKeyParam() *huma.Param {
	return &huma.Param{
		Name: idempotency.HeaderName, In: "header",
		Description: "Optional. A unique value (1 to 255 printable ASCII characters) that makes a retry safe: " +
			"the same key with the same request within 24 hours returns the first response and does the work once.",
		Schema:  &huma.Schema{Type: "string", MinLength: intPtr(1), MaxLength: intPtr(257)},
		Example: `"3f2b6c1e-retry-1"`,
	}
}

func intPtr(n int) *int { return &n }

func operationOf(p *huma.PathItem, method string) *huma.Operation {
	switch method {
	case http.MethodGet:
		return p.Get
	case http.MethodPost:
		return p.Post
	case http.MethodPatch:
		return p.Patch
	case http.MethodDelete:
		return p.Delete
	}
	panic("no operation for method " + method)
}

func itoa(n int) string { return strconv.Itoa(n) }
