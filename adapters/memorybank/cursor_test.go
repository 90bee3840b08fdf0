package memorybank

import (
	"slices"
	"testing"
	"time"

	"github.com/custom-gpt-adapter/custom-gpt-adapter/domain/errs"
	"github.com/custom-gpt-adapter/custom-gpt-adapter/domain/memory"
)

func TestNewestFirstIsTotal(t *testing.T) {
	t0 := time.Date(2024, 7, 20, 17, 0, 0, 0, time.UTC)
	records := []memory.Record{
		{ID: "a", CreatedAt: t0},
		{ID: "z"}, // no time: oldest
		{ID: "c", CreatedAt: t0},
		{ID: "b", CreatedAt: t0.Add(time.Nanosecond)},
	}
	slices.SortFunc(records, newestFirst)
	var got []string
	for _, r := range records {
		got = append(got, r.ID)
	}
	if want := []string{"b", "c", "a", "z"}; !slices.Equal(got, want) {
		t.Fatalf("order = %v, want %v", got, want)
	}

	// A cursor at each record leads exactly to the ones after it.
	for i, r := range records {
		p, err := decodeCursor(encodeCursor(r))
		if err != nil {
			t.Fatalf("cursor of %s: %v", r.ID, err)
		}
		next := slices.IndexFunc(records, p.after)
		if want := i + 1; (want == len(records) && next != -1) || (want < len(records) && next != want) {
			t.Errorf("after %s comes index %d, want %d", r.ID, next, want)
		}
	}
}

func TestDecodeCursorRejectsForeignCursors(t *testing.T) {
	for _, c := range []string{"x", "e30", "eyJpZCI6IiJ9", "eyJ0Ijoibm8iLCJpZCI6ImEifQ", "a+b/c=", string(make([]byte, 600))} {
		if _, err := decodeCursor(c); errs.KindOf(err) != errs.KindInvalid {
			t.Errorf("decodeCursor(%.20q) = %v, want invalid", c, err)
		}
	}
	if p, err := decodeCursor(""); p != nil || err != nil {
		t.Errorf("empty cursor = %v %v, want the first page", p, err)
	}
}
