package architecture

import (
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
)

// window is how many lines make a repeat, as issue 11 counts them.
const window = 6

// codeLines are a file's lines that carry code, trimmed, with their numbers:
// blank lines, comments, the import block and lone closing brackets left out,
// so that two blocks match on what they do.
func codeLines(t *testing.T, path string) (lines []string, numbers []int) {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	inImports := false
	for i, l := range strings.Split(string(b), "\n") {
		l = strings.TrimSpace(l)
		switch {
		case l == "import (":
			inImports = true
			continue
		case inImports && l == ")":
			inImports = false
			continue
		case inImports, l == "", strings.HasPrefix(l, "//"), l == "}", l == ")", l == "})":
			continue
		}
		lines = append(lines, l)
		numbers = append(numbers, i+1)
	}
	return lines, numbers
}

// repeats names every run of window code lines found twice among files.
func repeats(t *testing.T, files []string) []string {
	t.Helper()
	type place struct {
		file string
		line int
	}
	first := map[string]place{}
	var found []string
	for _, f := range files {
		lines, numbers := codeLines(t, f)
		for i := 0; i+window <= len(lines); i++ {
			run := strings.Join(lines[i:i+window], "\n")
			p, seen := first[run]
			if !seen {
				first[run] = place{f, numbers[i]}
				continue
			}
			found = append(found, f+":"+strconv.Itoa(numbers[i])+" repeats "+p.file+":"+strconv.Itoa(p.line))
		}
	}
	return found
}

// sources lists the non-test Go files the patterns match, relative to the
// module's root.
func sources(t *testing.T, patterns ...string) []string {
	t.Helper()
	var out []string
	for _, p := range patterns {
		m, err := filepath.Glob(filepath.Join("..", "..", p))
		if err != nil {
			t.Fatal(err)
		}
		if len(m) == 0 {
			t.Fatalf("%s matches no file: update this list", p)
		}
		for _, f := range m {
			if !strings.HasSuffix(f, "_test.go") && !slices.Contains(out, f) {
				out = append(out, f)
			}
		}
	}
	return out
}

// The memory use cases share their accept and run cores, and the registries
// of operation kinds derive from one table (events/kinds.go): a copy pasted
// back in fails here.
func TestMemoryUseCasesAndKindRegistriesDoNotRepeat(t *testing.T) {
	files := sources(t,
		"app/command/accept_*.go", "app/command/*_memory.go", "app/command/forget_memories.go",
		"app/command/operation_*.go", "app/command/fail_operation.go",
		"events/kinds.go", "events/commands.go", "events/cloudevents.go", "events/catalog.go",
		"ports/messaging/commands.go", "ports/messaging/poison.go", "ports/messaging/webhooks.go",
	)
	for _, r := range repeats(t, files) {
		t.Error(r)
	}
}

func TestRepeatsAreFound(t *testing.T) {
	dir := t.TempDir()
	block := "a := 1\nb := 2\nc := a + b\nd := c * 2\ne := d - 1\nf := e / 3\n"
	for _, name := range []string{"one.go", "two.go"} {
		src := "package x\n\nimport (\n\t\"fmt\"\n)\n\n// " + name + "\nfunc " + strings.TrimSuffix(name, ".go") + "() {\n" + block + "}\n"
		if err := os.WriteFile(filepath.Join(dir, name), []byte(src), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	got := repeats(t, []string{filepath.Join(dir, "one.go"), filepath.Join(dir, "two.go")})
	if len(got) != 1 {
		t.Fatalf("repeats = %q, want the one shared block", got)
	}
}
