package mcp

import (
	"encoding/json"
	"net/http"
	"strconv"

	"github.com/custom-gpt-adapter/custom-gpt-adapter/ports/internal/request"
)

// problem is the RFC 9457 answer of a request refused before the SDK sees
// it, in the shape and with the slugs of ports/http's problems.
type problem struct {
	Type             string   `json:"type"`
	Title            string   `json:"title"`
	Status           int      `json:"status"`
	Detail           string   `json:"detail,omitempty"`
	Instance         string   `json:"instance,omitempty"`
	RequestID        string   `json:"request_id,omitempty"`
	ViolatedPolicies []string `json:"violated-policies,omitempty"`
}

func newProblem(r *http.Request, status int, slug, detail string) problem {
	return problem{
		Type: "urn:custom-gpt-adapter:problem:" + slug, Title: http.StatusText(status), Status: status,
		Detail: detail, Instance: r.URL.Path, RequestID: request.ID(r.Context()),
	}
}

func writeProblem(w http.ResponseWriter, r *http.Request, status int, slug, detail string) {
	sendProblem(w, newProblem(r, status, slug, detail))
}

func sendProblem(w http.ResponseWriter, p problem) {
	body, _ := json.Marshal(p) // strings and ints: cannot fail
	w.Header().Set("Content-Type", "application/problem+json")
	w.Header().Set("Content-Length", strconv.Itoa(len(body)))
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(p.Status)
	_, _ = w.Write(body)
}
