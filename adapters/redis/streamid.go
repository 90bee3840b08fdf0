package redis

import (
	"fmt"
	"math"
	"strconv"
	"strings"
)

// streamID is a stream entry id, "<ms>-<seq>": ids compare as pairs of
// numbers, not as strings ("10-0" comes after "9-0").
type streamID struct{ ms, seq uint64 }

func parseStreamID(s string) (streamID, error) {
	ms, seq, _ := strings.Cut(s, "-")
	a, err1 := strconv.ParseUint(ms, 10, 64)
	b, err2 := strconv.ParseUint(seq, 10, 64)
	if err1 != nil || err2 != nil {
		return streamID{}, fmt.Errorf("stream id %q is not <ms>-<seq>", s)
	}
	return streamID{a, b}, nil
}

func (a streamID) less(b streamID) bool {
	return a.ms < b.ms || (a.ms == b.ms && a.seq < b.seq)
}

// next is the smallest id after a (a itself for the largest id of all).
func (a streamID) next() streamID {
	switch {
	case a.seq < math.MaxUint64:
		return streamID{a.ms, a.seq + 1}
	case a.ms < math.MaxUint64:
		return streamID{a.ms + 1, 0}
	}
	return a
}

func (a streamID) String() string {
	return strconv.FormatUint(a.ms, 10) + "-" + strconv.FormatUint(a.seq, 10)
}
