package observability

import (
	"os"
	"regexp"
	"slices"
	"strings"
	"testing"
)

// anchor is the fragment GitHub gives a Markdown heading: lower case, spaces
// as hyphens, punctuation dropped.
func anchor(heading string) string {
	var b strings.Builder
	for _, r := range strings.ToLower(strings.TrimSpace(heading)) {
		switch {
		case r == ' ':
			b.WriteRune('-')
		case r == '-' || r == '_' || ('a' <= r && r <= 'z') || ('0' <= r && r <= '9'):
			b.WriteRune(r)
		}
	}
	return b.String()
}

// alertSections returns the anchors of the sections under "## Alerts" of
// docs/operations.md.
func alertSections(t *testing.T) []string {
	t.Helper()
	b, err := os.ReadFile(repoRoot + "docs/operations.md")
	if err != nil {
		t.Fatal(err)
	}
	var sections []string
	in := false
	for line := range strings.Lines(string(b)) {
		switch {
		case strings.HasPrefix(line, "## "):
			in = strings.TrimSpace(line) == "## Alerts"
		case in && strings.HasPrefix(line, "### "):
			sections = append(sections, anchor(strings.TrimPrefix(line, "### ")))
		}
	}
	return sections
}

var runbook = regexp.MustCompile(`^docs/operations\.md#([a-z0-9_-]+)$`)

// Every alert says what happened (summary, description) and links the section
// of docs/operations.md that says what to do; every section there is an
// alert's.
func TestEveryAlertHasItsRunbook(t *testing.T) {
	t.Parallel()
	sections := alertSections(t)
	var linked []string
	for _, g := range readAlerts(t).Groups {
		for _, r := range g.Rules {
			if r.Alert == "" {
				continue
			}
			for _, key := range []string{"summary", "description", "runbook"} {
				if strings.TrimSpace(r.Annotations[key]) == "" {
					t.Errorf("alert %s has no %s annotation", r.Alert, key)
				}
			}
			m := runbook.FindStringSubmatch(r.Annotations["runbook"])
			switch {
			case m == nil:
				t.Errorf("alert %s: runbook %q is not docs/operations.md#<section>", r.Alert, r.Annotations["runbook"])
			case !slices.Contains(sections, m[1]):
				t.Errorf("alert %s: runbook %q names no section under \"## Alerts\" of docs/operations.md (%v)", r.Alert, r.Annotations["runbook"], sections)
			default:
				linked = append(linked, m[1])
			}
		}
	}
	for _, s := range sections {
		if !slices.Contains(linked, s) {
			t.Errorf("docs/operations.md#%s is the runbook of no alert", s)
		}
	}
	if len(linked) == 0 {
		t.Error("alerts.yml has no alert")
	}
}
