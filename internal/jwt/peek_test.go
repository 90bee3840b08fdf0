package jwt_test

import (
	"encoding/base64"
	"strings"
	"testing"

	"github.com/custom-gpt-adapter/custom-gpt-adapter/internal/jwt"
)

func TestPeekAudience(t *testing.T) {
	t.Parallel()
	tok := func(payload string) string {
		return "e30." + base64.RawURLEncoding.EncodeToString([]byte(payload)) + ".sig"
	}
	for token, want := range map[string]string{
		tok(`{"aud":"https://a/mcp/x"}`):         "https://a/mcp/x",
		tok(`{"aud":["https://a","https://b"]}`): "https://a",
		tok(`{"aud":[]}`):                        "",
		tok(`{"aud":null}`):                      "",
		tok(`{"aud":7}`):                         "",
		tok(`{}`):                                "",
		tok(`not json`):                          "",
		"two.parts":                              "",
		"e30.!!!.sig":                            "",
		tok(`{"aud":"` + strings.Repeat("a", 9000) + `"}`): "",
	} {
		if got := jwt.PeekAudience(token); got != want {
			t.Errorf("%.60s: %q, want %q", token, got, want)
		}
	}
}
