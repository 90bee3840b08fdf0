package http

import (
	"unicode/utf8"

	segjson "github.com/segmentio/encoding/json"
)

// ResponseBudget bounds every JSON body of /api/v1, in bytes (so in
// characters too): ChatGPT reads answers into the model's context and refuses
// those of 100,000 characters or more. Long answers are cut and say so with
// truncated: true; they never fail.
const ResponseBudget = 90_000

// textCaps are the successive lengths, in characters, contents and metadata
// strings are cut to until an answer fits.
var textCaps = []int{4000, 1000, 250, 60}

// fits measures v as encoding/json would write it (segmentio's encoder writes
// the same bytes, HTML escaped, at a fraction of the cost: this runs for every
// answer).
func fits(v any) ([]byte, bool) {
	b, err := segjson.Marshal(v)
	return b, err == nil && len(b) <= ResponseBudget
}

// fitter shrinks one answer of n items: text(i) are item i's long strings,
// meta(i) its metadata, mark(i) flags it as cut.
type fitter struct {
	n     int
	text  func(i int) []*string
	meta  func(i int) *map[string]any
	mark  func(i int)
	whole func() any
}

// fit cuts texts to ever shorter caps, then drops metadata, until the answer
// fits, and reports whether it cut anything.
func (f fitter) fit() bool {
	cut, _ := f.fitEncoded()
	return cut
}

// fitEncoded is fit, and the answer's encoding when it fit as it was (nil
// when it was cut): the measure is the answer, written once.
func (f fitter) fitEncoded() (bool, []byte) {
	if b, ok := fits(f.whole()); ok {
		return false, b
	}
	for _, limit := range textCaps {
		for i := 0; i < f.n; i++ {
			cut := false
			for _, s := range f.text(i) {
				cut = cutText(s, limit) || cut
			}
			if f.meta != nil {
				cut = cutMetadata(*f.meta(i), limit) || cut
			}
			if cut && f.mark != nil {
				f.mark(i)
			}
		}
		if _, ok := fits(f.whole()); ok {
			return true, nil
		}
	}
	if f.meta != nil {
		for i := 0; i < f.n; i++ {
			if len(*f.meta(i)) > 0 {
				*f.meta(i) = map[string]any{}
				if f.mark != nil {
					f.mark(i)
				}
			}
		}
	}
	return true, nil
}

// cutText cuts *s to at most limit characters, ending in an ellipsis.
func cutText(s *string, limit int) bool {
	if utf8.RuneCountInString(*s) <= limit {
		return false
	}
	r := []rune(*s)
	*s = string(r[:limit-1]) + "…"
	return true
}

func cutMetadata(m map[string]any, limit int) bool {
	cut := false
	for k, v := range m {
		if s, ok := v.(string); ok && cutText(&s, limit) {
			m[k], cut = s, true
		}
	}
	return cut
}

func fitItems(items []memoryItem, whole func() any) bool {
	return fitter{
		n:     len(items),
		text:  func(i int) []*string { return []*string{&items[i].Content} },
		meta:  func(i int) *map[string]any { return &items[i].Metadata },
		mark:  func(i int) { items[i].Truncated = true },
		whole: whole,
	}.fit()
}

// fitResults cuts a search's answer until it fits; asIs is its encoding
// when nothing was cut.
func fitResults(resp *searchResponse) (cut bool, asIs []byte) {
	items := resp.Results
	return fitter{
		n:     len(items),
		text:  func(i int) []*string { return []*string{&items[i].Content} },
		meta:  func(i int) *map[string]any { return &items[i].Metadata },
		mark:  func(i int) { items[i].Truncated = true },
		whole: func() any { return resp },
	}.fitEncoded()
}

// fitChanges cuts the contents of a history, then leaves out its newest
// changes, until it fits.
func fitChanges(resp *memoryHistory) bool {
	cut := fitter{
		n:     len(resp.Changes),
		text:  func(i int) []*string { return []*string{&resp.Changes[i].OldContent, &resp.Changes[i].NewContent} },
		whole: func() any { return resp },
	}.fit()
	for len(resp.Changes) > 0 {
		b, _ := segjson.Marshal(resp)
		if len(b) <= ResponseBudget {
			break
		}
		// Keep the share of changes that fits, at least one fewer each round.
		keep := min(len(resp.Changes)*ResponseBudget/len(b), len(resp.Changes)-1)
		resp.Changes, cut = resp.Changes[:keep], true
	}
	return cut
}
