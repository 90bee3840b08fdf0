package http

import (
	"net/http"
	"strconv"

	"github.com/danielgtaylor/huma/v2"
)

// document is the OpenAPI document of /api/v1, rendered once: the operations
// do not change after the router is built.
type document struct {
	json, yaml []byte
}

func newDocument(o *huma.OpenAPI) document {
	j, err := o.MarshalJSON()
	if err != nil {
		panic("openapi: render json: " + err.Error())
	}
	y, err := o.YAML()
	if err != nil {
		panic("openapi: render yaml: " + err.Error())
	}
	return document{json: j, yaml: y}
}

func (d document) serveJSON(w http.ResponseWriter, _ *http.Request) {
	d.serve(w, "application/json", d.json)
}

func (d document) serveYAML(w http.ResponseWriter, _ *http.Request) {
	d.serve(w, "application/yaml", d.yaml)
}

func (d document) serve(w http.ResponseWriter, contentType string, body []byte) {
	w.Header().Set("Content-Type", contentType)
	w.Header().Set("Content-Length", strconv.Itoa(len(body)))
	w.Header().Set("Cache-Control", "public, max-age=300")
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write(body)
}
