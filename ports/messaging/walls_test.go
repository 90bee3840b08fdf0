package messaging

import (
	"go/parser"
	"go/token"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// A port translates for the application and imports no adapter: the
// subscribers it reads with come from the wiring (Config.Subscribe).
func TestImportsNoAdapter(t *testing.T) {
	t.Parallel()
	files, err := filepath.Glob("*.go")
	if err != nil || len(files) == 0 {
		t.Fatalf("no sources: %v", err)
	}
	for _, f := range files {
		parsed, err := parser.ParseFile(token.NewFileSet(), f, nil, parser.ImportsOnly)
		if err != nil {
			t.Fatal(err)
		}
		for _, imp := range parsed.Imports {
			path, _ := strconv.Unquote(imp.Path.Value)
			if strings.Contains(path, "/custom-gpt-adapter/adapters/") {
				t.Errorf("%s imports the adapter %s", f, path)
			}
		}
	}
}
