package http

import (
	"encoding/json"
	"errors"
	"io"
	"mime"
	"net/http"
	"strconv"
	"strings"

	segjson "github.com/segmentio/encoding/json"

	"github.com/custom-gpt-adapter/custom-gpt-adapter/ports/internal/problems"
)

// MaxBodyBytes bounds every request body.
const MaxBodyBytes = 1 << 20

// decodeJSON reads exactly one JSON object into v and answers the problem itself
// when it cannot: 413 for a body over 1 MiB, 415 for another media type, 400
// for malformed JSON, a wrong type or an unknown field (naming it). It reports
// whether decoding succeeded.
func decodeJSON(w http.ResponseWriter, r *http.Request, v any) bool {
	if ct := r.Header.Get("Content-Type"); ct != "" {
		mt, _, err := mime.ParseMediaType(ct)
		if err != nil || (mt != "application/json" && !strings.HasSuffix(mt, "+json")) {
			problems.Write(w, r, http.StatusUnsupportedMediaType, "unsupported-media-type", "", "send the body as application/json")
			return false
		}
	}
	dec := json.NewDecoder(http.MaxBytesReader(w, r.Body, MaxBodyBytes))
	dec.DisallowUnknownFields()
	err := dec.Decode(v)
	if err == nil {
		if _, extra := dec.Token(); extra != io.EOF {
			badRequest(w, r, "malformed-json", "", "the body must hold exactly one JSON object")
			return false
		}
		return true
	}
	var (
		maxErr    *http.MaxBytesError
		typeErr   *json.UnmarshalTypeError
		syntaxErr *json.SyntaxError
	)
	switch {
	case errors.As(err, &maxErr):
		writeBodyTooLarge(w, r)
	case errors.As(err, &typeErr):
		field, want := typeErr.Field, jsonType(typeErr.Type.Kind().String())
		switch {
		case field == "":
			badRequest(w, r, "wrong-type", "", "the body must be a JSON object")
		case want == "number" && strings.HasPrefix(typeErr.Value, "number"):
			// A number that does not fit, such as 1e400 or 5.5 for a whole number.
			badRequest(w, r, "wrong-type", field, field+" must be a number in range (a whole number where one is expected)")
		default:
			badRequest(w, r, "wrong-type", field, field+" must be of JSON type "+want)
		}
	case errors.As(err, &syntaxErr), errors.Is(err, io.ErrUnexpectedEOF):
		badRequest(w, r, "malformed-json", "", "the body is not valid JSON")
	case errors.Is(err, io.EOF):
		badRequest(w, r, "malformed-json", "", "the body is empty; send a JSON object")
	case strings.HasPrefix(err.Error(), "json: unknown field "):
		// encoding/json quotes the name with %q: unquote it to name the key as sent.
		quoted := strings.TrimPrefix(err.Error(), "json: unknown field ")
		field, uerr := strconv.Unquote(quoted)
		if uerr != nil {
			field = strings.Trim(quoted, `"`)
		}
		badRequest(w, r, "unknown-field", field, "the field "+field+" is not part of this request")
	default:
		badRequest(w, r, "malformed-json", "", "the body could not be read as JSON")
	}
	return false
}

// writeBodyTooLarge answers a body over MaxBodyBytes.
func writeBodyTooLarge(w http.ResponseWriter, r *http.Request) {
	problems.Write(w, r, http.StatusRequestEntityTooLarge, "body-too-large", "", "the body must be at most 1 MiB")
}

func jsonType(goKind string) string {
	switch goKind {
	case "string":
		return "string"
	case "int", "int64", "int32", "float64", "uint":
		return "number"
	case "map", "struct":
		return "object"
	case "slice":
		return "array"
	case "bool":
		return "boolean"
	}
	return goKind
}

// writeJSON encodes with segmentio/encoding, encoding/json's output (HTML
// escaped, map keys sorted) at about half its cost: a search's answer is
// written on the hot path. Bodies are read with encoding/json, whose errors
// name the field at fault.
func writeJSON(w http.ResponseWriter, status int, v any) {
	body, err := segjson.Marshal(v)
	if err != nil {
		http.Error(w, "encode response", http.StatusInternalServerError)
		return
	}
	writeEncoded(w, status, body)
}

// writeEncoded writes body, JSON encoded already.
func writeEncoded(w http.ResponseWriter, status int, body []byte) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_, _ = w.Write(body)
}
