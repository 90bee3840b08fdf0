// Package clientmetadata fetches OAuth Client ID Metadata Documents
// (draft-ietf-oauth-client-id-metadata-document): the JSON document an MCP
// client publishes at the https URL it uses as its client_id. It delivers the
// bytes and how long they may be cached; what they say is checked elsewhere.
package clientmetadata

import (
	"context"
	"errors"
	"io"
	"mime"
	"net/http"
	"strings"
	"time"

	"github.com/custom-gpt-adapter/custom-gpt-adapter/adapters/outbound"
)

// Config tunes the fetcher.
type Config struct {
	Timeout time.Duration // per fetch, connection included; default 5s
	// AllowPrivate lets documents be fetched from loopback and private
	// addresses, over plain http too: for local use and tests only.
	AllowPrivate bool
	MaxBytes     int64 // the largest document read; default 5120 (draft section 8.7: 5 KB)
	UserAgent    string
}

// Fetcher fetches documents through outbound's client: public addresses
// only, no redirects followed, no proxies.
type Fetcher struct {
	client       *http.Client
	allowPrivate bool
	maxBytes     int64
	userAgent    string
}

func New(cfg Config) *Fetcher {
	if cfg.Timeout <= 0 {
		cfg.Timeout = 5 * time.Second
	}
	if cfg.MaxBytes <= 0 {
		cfg.MaxBytes = 5120
	}
	if cfg.UserAgent == "" {
		cfg.UserAgent = "custom-gpt-adapter-client-metadata/1"
	}
	return &Fetcher{
		client:       outbound.NewClient(outbound.Config{Timeout: cfg.Timeout, AllowPrivate: cfg.AllowPrivate}),
		allowPrivate: cfg.AllowPrivate,
		maxBytes:     cfg.MaxBytes,
		userAgent:    cfg.UserAgent,
	}
}

// Fetch gets the document at clientID and says how long it may be cached
// (0: not at all). Every error is an *Error, fit to show the end user, whose
// kind errors.Is tells (ErrInvalidURL, ErrForbiddenAddress, ...). Errors are
// not to be cached (draft section 5.2).
func (f *Fetcher) Fetch(ctx context.Context, clientID string) (doc []byte, maxAge time.Duration, err error) {
	if err := checkURL(clientID, f.allowPrivate); err != nil {
		return nil, 0, err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, clientID, nil)
	if err != nil {
		return nil, 0, invalidURL("it cannot be parsed")
	}
	req.Header.Set("Accept", "application/json")
	req.Header.Set("User-Agent", f.userAgent)
	resp, err := f.client.Do(req)
	if err != nil {
		return nil, 0, fetchFailed(err)
	}
	defer resp.Body.Close()
	// Only 200 is the document (draft section 5); a 3xx arrives here
	// because the client follows no redirect.
	if resp.StatusCode != http.StatusOK {
		return nil, 0, statusError(resp.StatusCode)
	}
	if ct := resp.Header.Get("Content-Type"); !isJSON(ct) {
		return nil, 0, contentTypeError(ct)
	}
	// The draft asks for a bounded read (section 8.7): a declared length
	// over the limit is refused unread; otherwise one byte past the limit is
	// read, to tell a document of exactly the limit from a longer one.
	if resp.ContentLength > f.maxBytes {
		return nil, 0, tooLarge(f.maxBytes)
	}
	doc, err = io.ReadAll(io.LimitReader(resp.Body, f.maxBytes+1))
	if err != nil {
		return nil, 0, fetchFailed(err)
	}
	if int64(len(doc)) > f.maxBytes {
		return nil, 0, tooLarge(f.maxBytes)
	}
	return doc, cacheLifetime(resp.Header), nil
}

// isJSON accepts application/json and, as the draft allows more specific
// JSON types (section 4), application/*+json; parameters such as charset
// are allowed.
func isJSON(contentType string) bool {
	mt, _, err := mime.ParseMediaType(contentType)
	if err != nil && !errors.Is(err, mime.ErrInvalidMediaParameter) {
		return false
	}
	sub, ok := strings.CutPrefix(mt, "application/")
	return ok && (sub == "json" || (strings.HasSuffix(sub, "+json") && len(sub) > len("+json")))
}
