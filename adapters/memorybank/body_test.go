package memorybank

import (
	"io"
	"net/http"
	"strings"
	"testing"
)

// readBody reads the whole body whether its length is announced, unknown, or
// (from a server that lies) shorter than what it sends.
func TestReadBodyReadsItAll(t *testing.T) {
	body := strings.Repeat(`{"id":"m"}`, 300)
	for _, announced := range []int64{int64(len(body)), -1, 10} {
		resp := &http.Response{ContentLength: announced, Body: io.NopCloser(strings.NewReader(body))}
		got, err := readBody(resp)
		if err != nil || string(got) != body {
			t.Errorf("announced %d: read %d bytes, %v; want %d", announced, len(got), err, len(body))
		}
	}
}
