package jwt

import (
	"encoding/base64"
	"encoding/json"
	"strings"
)

// maxPeekedPayload bounds what PeekAudience decodes of a token nobody has
// verified yet.
const maxPeekedPayload = 8 << 10

// PeekAudience reads a JWT's first audience without verifying anything: only
// to choose which audience to verify it for. Empty when there is none to read.
func PeekAudience(token string) string {
	parts := strings.Split(token, ".")
	if len(parts) != 3 || len(parts[1]) > maxPeekedPayload {
		return ""
	}
	payload, err := base64.RawURLEncoding.DecodeString(parts[1])
	if err != nil {
		return ""
	}
	var claims map[string]json.RawMessage
	if json.Unmarshal(payload, &claims) != nil {
		return ""
	}
	raw, ok := claim(claims, "aud")
	if !ok {
		return ""
	}
	aud, err := parseAudience(raw)
	if err != nil || len(aud) == 0 {
		return ""
	}
	return aud[0]
}
