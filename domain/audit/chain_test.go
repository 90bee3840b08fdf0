package audit_test

import (
	"strings"
	"testing"
	"time"

	"github.com/custom-gpt-adapter/custom-gpt-adapter/domain/audit"
)

// chainOf links entries the way the database does.
func chainOf(entries []audit.Entry) []audit.Link {
	var prev [audit.HashSize]byte
	links := make([]audit.Link, 0, len(entries))
	for i, e := range entries {
		c := audit.ContentHash(e)
		h := audit.LinkHash(prev, c)
		links = append(links, audit.Link{Seq: int64(i + 1), EntryID: e.ID, ContentHash: c[:], Hash: h[:]})
		prev = h
	}
	return links
}

func sampleEntries() []audit.Entry {
	at := time.Date(2026, 12, 7, 0, 0, 0, 0, time.UTC)
	var out []audit.Entry
	for i := range 3 {
		out = append(out, audit.Entry{ID: int64(10 + i), AppID: "app-1", Action: audit.ActionSearch, Status: audit.StatusSucceeded,
			RequestID: "r", OccurredAt: at, CompletedAt: at, Channel: "api"})
	}
	return out
}

func TestChainCheckFindsTheFirstMismatch(t *testing.T) {
	entries := sampleEntries()
	edited := entries[1]
	edited.Detail = "edited"
	forgedLink := chainOf(entries)
	forgedLink[1].Hash[0] ^= 1

	cases := []struct {
		name    string
		links   []audit.Link
		current []*audit.Entry
		seq     int64
		reason  string
	}{
		{"intact", chainOf(entries), []*audit.Entry{&entries[0], &entries[1], &entries[2]}, 0, ""},
		{"entry changed", chainOf(entries), []*audit.Entry{&entries[0], &edited, &entries[2]}, 2, "changed after it was written"},
		{"entry deleted", chainOf(entries), []*audit.Entry{&entries[0], nil, &entries[2]}, 2, "was deleted"},
		{"link edited", forgedLink, []*audit.Entry{&entries[0], &entries[1], &entries[2]}, 2, "does not follow"},
		{"link removed", append(chainOf(entries)[:1:1], chainOf(entries)[2]), []*audit.Entry{&entries[0], &entries[2]}, 2, "is missing"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			check := audit.NewChainCheck("app-1")
			var got *audit.Break
			for i, l := range c.links {
				if got = check.Next(l, c.current[i], true); got != nil {
					break
				}
			}
			switch {
			case c.reason == "" && got != nil:
				t.Fatalf("intact chain broken: %v", got)
			case c.reason != "" && (got == nil || got.Seq != c.seq || !strings.Contains(got.Reason, c.reason)):
				t.Fatalf("got %v, want link %d %q", got, c.seq, c.reason)
			}
		})
	}
}

// An entry whose later link hashes its new form is only checked against
// that one: its earlier links are history.
func TestChainCheckComparesAnEntryWithItsLatestLinkOnly(t *testing.T) {
	e := sampleEntries()[0]
	failed := e
	failed.Status = audit.StatusFailed
	links := chainOf([]audit.Entry{failed, e})
	check := audit.NewChainCheck("app-1")
	if b := check.Next(links[0], &e, false); b != nil {
		t.Fatal(b)
	}
	if b := check.Next(links[1], &e, true); b != nil {
		t.Fatal(b)
	}
	if b := check.End([]audit.Head{{Seq: 2, Hash: links[1].Hash}}); b != nil {
		t.Fatal(b)
	}
	if b := check.End([]audit.Head{{Seq: 3, Hash: links[1].Hash}}); b == nil || !strings.Contains(b.Reason, "head is at link 3") {
		t.Fatalf("a head past the last link: %v", b)
	}
}

// Each lane is a chain of its own: links of two lanes interleave freely, a
// lane that does not exist is refused, and a head whose lane lost all its
// links is found.
func TestChainCheckKeepsLanesApart(t *testing.T) {
	entries := sampleEntries()
	a, b := chainOf(entries[:2]), chainOf(entries[2:])
	for i := range b {
		b[i].Lane = 5
	}
	check := audit.NewChainCheck("app-1")
	for _, step := range []struct {
		l audit.Link
		e audit.Entry
	}{{a[0], entries[0]}, {b[0], entries[2]}, {a[1], entries[1]}} {
		if br := check.Next(step.l, &step.e, true); br != nil {
			t.Fatalf("interleaved lanes: %v", br)
		}
	}
	heads := []audit.Head{{Lane: 0, Seq: 2, Hash: a[1].Hash}, {Lane: 5, Seq: 1, Hash: b[0].Hash}}
	if br := check.End(heads); br != nil || check.Links() != 3 {
		t.Fatalf("end of two lanes: %v, %d links", br, check.Links())
	}
	if br := check.End(append(heads, audit.Head{Lane: 3, Seq: 4})); br == nil || br.Lane != 3 {
		t.Fatalf("a head whose lane has no links: %v", br)
	}
	odd := a[0]
	odd.Lane = audit.Lanes
	if br := audit.NewChainCheck("app-1").Next(odd, &entries[0], true); br == nil || !strings.Contains(br.Reason, "lane that does not exist") {
		t.Fatalf("a link in lane %d: %v", audit.Lanes, br)
	}
}
