package http

import (
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/custom-gpt-adapter/custom-gpt-adapter/app"

	// The generated client's one dependency: imported here so that go.mod and
	// go.sum pin it and the client builds without fetching anything.
	_ "github.com/oapi-codegen/runtime"
)

// A Go client generated from the served document by oapi-codegen (a tool of
// this module, so its version is pinned), with its default naming, compiles
// and passes vet. The generator names its response wrappers
// <operationId>Response: a schema of that name breaks the build.
func TestGeneratedGoClientCompiles(t *testing.T) {
	t.Parallel()
	goBin, err := exec.LookPath("go")
	if err != nil {
		t.Fatalf("the go command is needed to generate and build the client: %v", err)
	}
	dir := t.TempDir()
	spec := filepath.Join(dir, "openapi.json")
	if err := os.WriteFile(spec, servedDocument(t), 0o600); err != nil {
		t.Fatal(err)
	}
	// Run from this package's directory, inside the module whose go.mod pins
	// the tool; a missing module comes from the module proxy, checked against go.sum.
	goCmd(t, "", nil, goBin, "tool", "oapi-codegen", "-generate", "types,client", "-package", "memoryclient",
		"-o", filepath.Join(dir, "client.gen.go"), spec)

	// A module of its own with this module's requirements and sums, so the
	// build resolves exactly the versions pinned here. Offline: what it needs
	// is what this test's own build needed, already in the module cache.
	root := strings.TrimSpace(goCmd(t, "", nil, goBin, "env", "GOMOD"))
	mod, err := os.ReadFile(root)
	if err != nil {
		t.Fatal(err)
	}
	mod = regexp.MustCompile(`(?m)^module .*$`).ReplaceAll(mod, []byte("module example.com/memoryclient"))
	sum, err := os.ReadFile(filepath.Join(filepath.Dir(root), "go.sum"))
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "go.mod"), mod, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "go.sum"), sum, 0o600); err != nil {
		t.Fatal(err)
	}
	offline := []string{"GOPROXY=off"}
	goCmd(t, dir, offline, goBin, "build", "./...")
	goCmd(t, dir, offline, goBin, "vet", "./...")
}

// servedDocument is /openapi.json as the router serves it.
func servedDocument(t *testing.T) []byte {
	t.Helper()
	reg := prometheus.NewRegistry()
	h := NewHandler(app.Application{}, Config{PublicURL: "https://memory.example.com", Gatherer: reg, Registerer: reg})
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/openapi.json", nil))
	if rec.Code != http.StatusOK {
		t.Fatalf("GET /openapi.json: %d", rec.Code)
	}
	return rec.Body.Bytes()
}

// goCmd runs a go command in dir (this package's directory when empty), with
// env added and no workspace, and returns its output; a failure fails the test.
func goCmd(t *testing.T, dir string, env []string, name string, args ...string) string {
	t.Helper()
	cmd := exec.Command(name, args...)
	cmd.Dir = dir
	cmd.Env = append(append(os.Environ(), "GOWORK=off"), env...)
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("%s %s: %v\n%s", name, strings.Join(args, " "), err, out)
	}
	return string(out)
}
