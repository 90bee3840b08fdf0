// Package architecture checks the walls between the rooms of the hexagon, so
// that a shortcut through one fails CI instead of waiting for a review.
package architecture

import (
	"go/parser"
	"go/token"
	"io/fs"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
)

const module = "github.com/custom-gpt-adapter/custom-gpt-adapter/"

// imports lists, per directory of the module, the module's packages its
// non-test files import.
func imports(t *testing.T) map[string][]string {
	t.Helper()
	root, err := filepath.Abs("../..")
	if err != nil {
		t.Fatal(err)
	}
	out := map[string][]string{}
	err = filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() && (strings.HasPrefix(d.Name(), ".") || d.Name() == "testdata" || d.Name() == "node_modules") {
			return filepath.SkipDir
		}
		if d.IsDir() || !strings.HasSuffix(path, ".go") || strings.HasSuffix(path, "_test.go") {
			return nil
		}
		f, err := parser.ParseFile(token.NewFileSet(), path, nil, parser.ImportsOnly)
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(root, filepath.Dir(path))
		rel = filepath.ToSlash(rel)
		for _, imp := range f.Imports {
			p, _ := strconv.Unquote(imp.Path.Value)
			if p, ok := strings.CutPrefix(p, module); ok && !slices.Contains(out[rel], p) {
				out[rel] = append(out[rel], p)
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(out) == 0 {
		t.Fatal("found no package of the module: wrong root?")
	}
	return out
}

func under(dir, room string) bool { return dir == room || strings.HasPrefix(dir, room+"/") }

func TestWallsHold(t *testing.T) {
	rules := []struct {
		room      string
		forbidden func(imported string) bool
		why       string
	}{
		{"domain", func(p string) bool { return !under(p, "domain") }, "the domain imports nothing of ours outside it"},
		{"app", func(p string) bool {
			return under(p, "ports") || under(p, "adapters") || under(p, "service") || under(p, "tests")
		}, "use cases import no port, adapter or wiring"},
		{"ports", func(p string) bool {
			return under(p, "adapters") || under(p, "service") || under(p, "tests")
		}, "ports reach adapters only through app's interfaces"},
		{"adapters", func(p string) bool { return under(p, "ports") || under(p, "service") || under(p, "tests") }, "adapters know no port and no wiring"},
		{"events", func(p string) bool { return !under(p, "events") && !under(p, "domain") }, "wire payloads depend on the domain at most"},
	}
	checked := map[string]bool{}
	for dir, imps := range imports(t) {
		for _, r := range rules {
			if !under(dir, r.room) {
				continue
			}
			checked[r.room] = true
			for _, p := range imps {
				if r.forbidden(p) {
					t.Errorf("%s imports %s: %s", dir, p, r.why)
				}
			}
		}
	}
	for _, r := range rules {
		if !checked[r.room] {
			t.Errorf("no package under %s/ was checked", r.room)
		}
	}
}

func TestWallCheckSeesImports(t *testing.T) {
	// The walker must see real imports, or the test above passes on nothing.
	if !slices.Contains(imports(t)["app"], "app/command") {
		t.Error("app/app.go imports app/command, yet the walker did not see it")
	}
}
