package clientmetadata

import (
	"errors"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// The draft lets the authorization server bound the lifetime the document's
// cache headers ask for (section 5.2); the caller sets its own floor.
const (
	defaultMaxAge = time.Hour
	maxMaxAge     = 24 * time.Hour
)

// cacheLifetime says how long a document may be cached, from its Cache-Control
// (RFC 9111 section 5.2.2) less its Age (section 4.2.3): not at all with
// no-store or no-cache, or with a max-age that is not a number (section
// 4.2.1: invalid freshness means stale); an hour without a max-age.
func cacheLifetime(h http.Header) time.Duration {
	lifetime, found := time.Duration(0), false
	for _, line := range h.Values("Cache-Control") {
		for directive := range strings.SplitSeq(line, ",") {
			name, value, _ := strings.Cut(directive, "=")
			switch strings.ToLower(strings.TrimSpace(name)) {
			case "no-store", "no-cache":
				return 0
			case "max-age":
				if !found { // the first one counts (section 4.2.1)
					lifetime, found = deltaSeconds(strings.Trim(strings.TrimSpace(value), `"`)), true
				}
			}
		}
	}
	if !found {
		return defaultMaxAge
	}
	if age := deltaSeconds(strings.TrimSpace(h.Get("Age"))); age > 0 {
		lifetime -= age
	}
	return min(max(lifetime, 0), maxMaxAge)
}

// deltaSeconds reads a number of seconds (RFC 9111 section 1.2.2): -1 if it
// is not one; 2^31 seconds, as that section says, if it is more.
func deltaSeconds(v string) time.Duration {
	const most = 1 << 31
	n, err := strconv.ParseUint(v, 10, 64)
	switch {
	case errors.Is(err, strconv.ErrRange), err == nil && n > most:
		return most * time.Second
	case err != nil:
		return -1
	}
	return time.Duration(n) * time.Second
}
