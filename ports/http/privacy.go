package http

import (
	_ "embed"
	"net/http"
	"os"
	"strings"
)

// defaultPrivacyPolicy describes what the service stores, for operators who have
// not written their own: publishing a GPT with actions requires a policy URL.
//
//go:embed static/privacy.html
var defaultPrivacyPolicy []byte

// PrivacyPolicy is the page served at GET /privacy.
type PrivacyPolicy struct {
	Body        []byte
	ContentType string
}

// LoadPrivacyPolicy reads the operator's policy from path (HTML when it ends in
// .html or .htm, plain text otherwise), or returns the default when path is empty.
func LoadPrivacyPolicy(path string) (PrivacyPolicy, error) {
	if path == "" {
		return PrivacyPolicy{Body: defaultPrivacyPolicy, ContentType: "text/html; charset=utf-8"}, nil
	}
	body, err := os.ReadFile(path)
	if err != nil {
		return PrivacyPolicy{}, err
	}
	ct := "text/plain; charset=utf-8"
	if lower := strings.ToLower(path); strings.HasSuffix(lower, ".html") || strings.HasSuffix(lower, ".htm") {
		ct = "text/html; charset=utf-8"
	}
	return PrivacyPolicy{Body: body, ContentType: ct}, nil
}

func (p PrivacyPolicy) serve(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", p.ContentType)
	w.Header().Set("Cache-Control", "public, max-age=3600")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.Header().Set("Content-Security-Policy", "default-src 'none'; style-src 'unsafe-inline'; frame-ancestors 'none'")
	_, _ = w.Write(p.Body)
}
