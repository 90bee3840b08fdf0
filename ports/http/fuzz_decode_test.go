package http

import (
	"bytes"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"reflect"
	"strings"
	"testing"

	"github.com/custom-gpt-adapter/custom-gpt-adapter/ports/internal/request"
)

// FuzzDecodeJSON drives decodeJSON with every request body type of the API.
// A body it accepts leaves the response untouched and survives a round trip
// through encoding/json; a body it refuses gets a 400, 413 or 415 problem
// whose detail reads as a sentence and whose field, for an unknown field, is a
// key the body really has.
func FuzzDecodeJSON(f *testing.F) {
	nested := strings.Repeat(`{"a":`, 300) + "1" + strings.Repeat("}", 300)
	for _, s := range []struct {
		target uint8
		ct     string
		body   string
	}{
		{0, "application/json", `{"query":"seat","limit":5}`},
		{0, "", `{"query":"seat"}`},
		{0, "application/json; charset=utf-8", `{"query":"x","limit":1e400}`},
		{0, "application/json", `{"query":"x","limit":99999999999999999999}`},
		{0, "application/json", `{"query":"x","limit":5.5}`},
		{0, "application/json", `{"query":"x","limit":"5"}`},
		{0, "application/json", `{"query":"x","query":"y"}`},
		{0, "application/json", `{"QUERY":"x"}`},
		{0, "application/json", `{"query":"\u0000\ud800"}`},
		{0, "application/json", "{\"query\":\"\xff\"}"},
		{0, "application/json", `[]`},
		{0, "application/json", `null`},
		{0, "application/json", `"x"`},
		{0, "application/json", ``},
		{0, "application/json", `{`},
		{0, "application/json", `{"query":"x"} {}`},
		{0, "application/json", `{"query":"x"} trailing`},
		{0, "text/plain", `{"query":"x"}`},
		{0, "application/vnd.api+json", `{"query":"x"}`},
		{0, "application/json; charset", `{"query":"x"}`},
		{0, ";", `{}`},
		{1, "application/json", `{"content":"x","metadata":{"topic":"travel","n":1,"b":true,"z":null}}`},
		{1, "application/json", `{"content":"x","metadata":` + nested + `}`},
		{1, "application/json", nested},
		{1, "application/json", `{"content":"x","metadata":{"a":1e400}}`},
		{1, "application/json", `{"content":"x","metadata":[1]}`},
		{1, "application/json", `{"content":"x","a\"b":1}`},
		{1, "application/json", `{"content":"x","\u00e9":1}`},
		{1, "application/json", `{"content":7}`},
		{1, "application/json", `{"content":"x","conversation_id":null}`},
		{2, "application/json", `{"content":"corrected"}`},
		{2, "application/json", `{"content":"` + strings.Repeat("é", 20000) + `"}`},
		{2, "application/json", `{"content":["x"]}`},
	} {
		f.Add(s.target, s.ct, []byte(s.body))
	}
	f.Fuzz(func(t *testing.T, target uint8, ct string, body []byte) {
		newValue := []func() any{
			func() any { return new(searchRequest) },
			func() any { return new(createMemoryRequest) },
			func() any { return new(updateMemoryRequest) },
		}[int(target)%3]
		decode := func(body []byte) (any, *httptest.ResponseRecorder, bool) {
			req := httptest.NewRequest(http.MethodPost, "/api/v1/x", bytes.NewReader(body))
			if ct != "" {
				req.Header.Set("Content-Type", ct)
			}
			rec := httptest.NewRecorder()
			v := newValue()
			return v, rec, decodeJSON(rec, req, v)
		}
		v, rec, ok := decode(body)
		if ok {
			if rec.Body.Len() != 0 || len(rec.Header()) != 0 {
				t.Fatalf("decodeJSON(%q) succeeded but wrote a response: %d %q", body, rec.Code, rec.Body)
			}
			again, err := json.Marshal(v)
			if err != nil {
				t.Fatalf("decoded %q to %#v, which does not encode: %v", body, v, err)
			}
			// The same value again, or one that encodes the same: an empty
			// object that omitempty leaves out (metadata {}) reads back as
			// absent, which the API takes to mean the same.
			w, rec, ok := decode(again)
			if twice, _ := json.Marshal(w); !ok || (!reflect.DeepEqual(v, w) && !bytes.Equal(again, twice)) {
				t.Fatalf("%q decoded to %#v, re-encoded as %s, decoded again to %#v (%s)", body, v, again, w, rec.Body)
			}
			return
		}
		var p problem
		if err := json.Unmarshal(rec.Body.Bytes(), &p); err != nil || rec.Header().Get("Content-Type") != "application/problem+json" {
			t.Fatalf("decodeJSON(%q) refused without a problem: %d %q", body, rec.Code, rec.Body)
		}
		switch rec.Code {
		case http.StatusBadRequest, http.StatusRequestEntityTooLarge, http.StatusUnsupportedMediaType:
		default:
			t.Fatalf("decodeJSON(%q) answered %d", body, rec.Code)
		}
		if p.Status != rec.Code || p.Detail == "" || strings.TrimSpace(p.Detail) != p.Detail {
			t.Fatalf("decodeJSON(%q): problem %+v", body, p)
		}
		if p.Type == "urn:custom-gpt-adapter:problem:unknown-field" {
			var keys map[string]json.RawMessage
			// The decoder stops at its first error, so only the first value counts.
			if err := json.NewDecoder(bytes.NewReader(body)).Decode(&keys); err != nil {
				t.Fatalf("decodeJSON(%q) named unknown field %q of a body that is no object", body, p.Field)
			}
			if _, has := keys[p.Field]; !has {
				t.Fatalf("decodeJSON(%q) named unknown field %q, which the body does not have", body, p.Field)
			}
		}
	})
}

// FuzzBearerToken checks the Authorization header parser: it yields a token
// only from a "Bearer" header (any case), trimmed, and the token is the rest
// of the header.
func FuzzBearerToken(f *testing.F) {
	for _, s := range []string{
		"", "Bearer", "Bearer ", "bearer x", "BEARER  x  ", "Bearer\tx", "Basic x", "Bearerx",
		"Bearer cgpt_" + strings.Repeat("A", 43), "Bearer a.b.c", "Bearer \x00", "Bearer é", "Beàrer x",
		"Bearer " + strings.Repeat("x", 20000),
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, header string) {
		req := httptest.NewRequest(http.MethodGet, "/", nil)
		req.Header["Authorization"] = []string{header}
		token := request.BearerToken(req)
		if token == "" {
			return
		}
		if len(header) < 7 || !strings.EqualFold(header[:7], "bearer ") {
			t.Fatalf("request.BearerToken(%q) = %q from a header that is not Bearer", header, token)
		}
		if token != strings.TrimSpace(token) || !strings.Contains(header, token) || strings.TrimSpace(header[7:]) != token {
			t.Fatalf("request.BearerToken(%q) = %q", header, token)
		}
	})
}
