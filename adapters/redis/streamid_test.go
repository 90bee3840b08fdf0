package redis

import (
	"math"
	"testing"
)

func TestStreamID(t *testing.T) {
	for _, s := range []string{"", "1", "1-", "-1", "a-1", "1-1-1", "-1-0", "18446744073709551616-0"} {
		if _, err := parseStreamID(s); err == nil {
			t.Errorf("parseStreamID(%q) accepted it", s)
		}
	}
	id, err := parseStreamID("1796563893837-12")
	if err != nil || id != (streamID{1796563893837, 12}) || id.String() != "1796563893837-12" {
		t.Fatalf("parseStreamID = %v, %v", id, err)
	}
	if !(streamID{9, 5}).less(streamID{10, 0}) || (streamID{10, 0}).less(streamID{9, 5}) || (streamID{3, 3}).less(streamID{3, 3}) {
		t.Error("less does not order ids as pairs of numbers")
	}
	for _, tt := range []struct{ id, next streamID }{
		{streamID{0, 0}, streamID{0, 1}},
		{streamID{7, math.MaxUint64}, streamID{8, 0}},
		{streamID{math.MaxUint64, math.MaxUint64}, streamID{math.MaxUint64, math.MaxUint64}},
	} {
		if got := tt.id.next(); got != tt.next {
			t.Errorf("%v.next() = %v, want %v", tt.id, got, tt.next)
		}
	}
}
