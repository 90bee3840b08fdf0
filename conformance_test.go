package main

import (
	"bytes"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"

	"github.com/pb33f/libopenapi"
	validator "github.com/pb33f/libopenapi-validator"
)

// Every /api/v1 answer the component tests see through http.DefaultClient is
// checked against the schemas of the document the same server serves: a
// response that does not match fails the call that received it.
func init() {
	http.DefaultClient.Transport = &conformingTransport{next: http.DefaultTransport, validators: map[string]validator.Validator{}}
}

type conformingTransport struct {
	next       http.RoundTripper
	mu         sync.Mutex
	validators map[string]validator.Validator // by scheme://host
}

func (t *conformingTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	resp, err := t.next.RoundTrip(req)
	if err != nil || !strings.HasPrefix(req.URL.Path, "/api/v1/") {
		return resp, err
	}
	raw, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	if err != nil {
		return nil, err
	}
	resp.Body = io.NopCloser(bytes.NewReader(raw))
	v, err := t.validator(req.URL.Scheme + "://" + req.URL.Host)
	if err != nil {
		return nil, err
	}
	check := *resp
	check.Body = io.NopCloser(bytes.NewReader(raw))
	if problems := responseProblems(v, req, &check); problems != "" {
		return nil, fmt.Errorf("the answer %d %s does not match the served OpenAPI document: %s", resp.StatusCode, raw, problems)
	}
	return resp, nil
}

// responseProblems validates one response; requests to routes the document
// does not describe (a 404 or 405 of the router) are not its business here.
func responseProblems(v validator.Validator, req *http.Request, resp *http.Response) string {
	ok, errs := v.ValidateHttpResponse(req, resp)
	if ok {
		return ""
	}
	var out []string
	for _, e := range errs {
		if e.ValidationType == "path" {
			return ""
		}
		out = append(out, e.Message+": "+e.Reason)
		for _, se := range e.SchemaValidationErrors {
			out = append(out, "  "+se.FieldPath+": "+se.Reason)
		}
	}
	return strings.Join(out, "; ")
}

func (t *conformingTransport) validator(base string) (validator.Validator, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if v, ok := t.validators[base]; ok {
		return v, nil
	}
	resp, err := t.next.RoundTrip(mustRequest(base + "/openapi.json"))
	if err != nil {
		return nil, fmt.Errorf("load the OpenAPI document: %w", err)
	}
	defer resp.Body.Close()
	spec, _ := io.ReadAll(resp.Body)
	v, err := newDocumentValidator(spec)
	if err != nil {
		return nil, err
	}
	t.validators[base] = v
	return v, nil
}

func newDocumentValidator(spec []byte) (validator.Validator, error) {
	doc, err := libopenapi.NewDocument(spec)
	if err != nil {
		return nil, fmt.Errorf("parse the OpenAPI document: %w", err)
	}
	v, errs := validator.NewValidator(doc)
	if len(errs) > 0 {
		return nil, fmt.Errorf("build a validator of the OpenAPI document: %v", errs)
	}
	return v, nil
}

func mustRequest(url string) *http.Request {
	req, err := http.NewRequest(http.MethodGet, url, nil)
	if err != nil {
		panic(err)
	}
	return req
}
