package e2e

import (
	"bytes"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"sync"

	"github.com/pb33f/libopenapi"
	validator "github.com/pb33f/libopenapi-validator"
	"github.com/pb33f/libopenapi-validator/paths"
	v3 "github.com/pb33f/libopenapi/datamodel/high/v3"
)

// Every /api/v1 answer the component tests see through http.DefaultClient is
// checked against the schemas of the document the same server serves, and a
// problem's status must be one the operation declares: a response that does
// not match fails the call that received it.
func init() {
	http.DefaultClient.Transport = &conformingTransport{next: http.DefaultTransport, documents: map[string]*servedDocument{}}
}

type conformingTransport struct {
	next      http.RoundTripper
	mu        sync.Mutex
	documents map[string]*servedDocument // by scheme://host
}

// servedDocument is a server's OpenAPI document and a validator of it.
type servedDocument struct {
	model     *v3.Document
	validator validator.Validator
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
	d, err := t.document(req.URL.Scheme + "://" + req.URL.Host)
	if err != nil {
		return nil, err
	}
	check := *resp
	check.Body = io.NopCloser(bytes.NewReader(raw))
	problems := responseProblems(d.validator, req, &check)
	if problems == "" && !declaresStatus(d.model, req, resp.StatusCode) {
		problems = "the operation does not declare this status"
	}
	if problems != "" {
		return nil, fmt.Errorf("the answer %d %s does not match the served OpenAPI document: %s", resp.StatusCode, raw, problems)
	}
	return resp, nil
}

// declaresStatus reports whether the operation req calls lists status among
// its responses; only an unexpected 500 may fall to default. Requests the
// document does not describe are not its business, as in responseProblems.
func declaresStatus(doc *v3.Document, req *http.Request, status int) bool {
	if status < 400 || status == http.StatusInternalServerError {
		return true
	}
	item, _, _ := paths.FindPath(req, doc, nil)
	if item == nil {
		return true
	}
	op := item.GetOperations().GetOrZero(strings.ToLower(req.Method))
	if op == nil || op.Responses == nil {
		return true
	}
	_, ok := op.Responses.Codes.Get(strconv.Itoa(status))
	return ok
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

func (t *conformingTransport) document(base string) (*servedDocument, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if d, ok := t.documents[base]; ok {
		return d, nil
	}
	resp, err := t.next.RoundTrip(mustRequest(base + "/openapi.json"))
	if err != nil {
		return nil, fmt.Errorf("load the OpenAPI document: %w", err)
	}
	defer resp.Body.Close()
	spec, _ := io.ReadAll(resp.Body)
	d, err := parseDocument(spec)
	if err != nil {
		return nil, err
	}
	t.documents[base] = d
	return d, nil
}

func newDocumentValidator(spec []byte) (validator.Validator, error) {
	d, err := parseDocument(spec)
	if err != nil {
		return nil, err
	}
	return d.validator, nil
}

func parseDocument(spec []byte) (*servedDocument, error) {
	doc, err := libopenapi.NewDocument(spec)
	if err != nil {
		return nil, fmt.Errorf("parse the OpenAPI document: %w", err)
	}
	model, err := doc.BuildV3Model()
	if err != nil {
		return nil, fmt.Errorf("read the OpenAPI document: %w", err)
	}
	v, errs := validator.NewValidator(doc)
	if len(errs) > 0 {
		return nil, fmt.Errorf("build a validator of the OpenAPI document: %v", errs)
	}
	return &servedDocument{model: &model.Model, validator: v}, nil
}

func mustRequest(url string) *http.Request {
	req, err := http.NewRequest(http.MethodGet, url, nil)
	if err != nil {
		panic(err)
	}
	return req
}
