package mem0test

import (
	"context"
	_ "embed"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"sync"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/getkin/kin-openapi/routers"
	"github.com/getkin/kin-openapi/routers/gorillamux"
)

// mem0OpenAPI is mem0's published OpenAPI document for the hosted platform.
//
//go:embed testdata/mem0-openapi.json
var mem0OpenAPI []byte

// platformRouter routes requests to the document's operations. It is built once per
// test binary and without the document's servers, so it matches any test server's
// host. The document is deliberately not doc.Validate()d: it fails kin-openapi's
// strict check (an array schema without items in MemorySearchInputV2), which does not
// affect the routes the fake serves.
var platformRouter = sync.OnceValues(func() (routers.Router, error) {
	doc, err := openapi3.NewLoader().LoadFromData(mem0OpenAPI)
	if err != nil {
		return nil, fmt.Errorf("loading mem0's OpenAPI document: %w", err)
	}
	doc.Servers = nil
	return gorillamux.NewRouter(doc)
})

var validationOptions = &openapi3filter.Options{AuthenticationFunc: requireTokenHeader}

// validatePlatformRequest checks r against mem0's document: route, parameters, body,
// and the presence of the Token header. Whether the key is right is not the document's
// business; Server checks it separately and answers 401.
func validatePlatformRequest(r *http.Request) error {
	router, err := platformRouter()
	if err != nil {
		return err
	}
	route, pathParams, err := router.FindRoute(r)
	if err != nil {
		return fmt.Errorf("no such operation in mem0's document: %w", err)
	}
	return openapi3filter.ValidateRequest(r.Context(), &openapi3filter.RequestValidationInput{
		Request:    r,
		PathParams: pathParams,
		Route:      route,
		Options:    validationOptions,
	})
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
