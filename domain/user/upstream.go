package user

import (
	"strings"
	"time"
	"unicode/utf8"

	"github.com/custom-gpt-adapter/custom-gpt-adapter/domain/errs"
)

// maxUpstreamSubOctets bounds the stored upstream subject: an issuer URL, a
// separator and a subject, which OpenID Connect caps at 255 ASCII characters.
const maxUpstreamSubOctets = 1024

// UpstreamSubject is how a user of the upstream OpenID provider is stored:
// issuer and subject together, since a subject is unique only within its
// issuer (OpenID Connect Core 5.7). Changing the configured issuer therefore
// never lets a new provider's subjects land on an old provider's users.
func UpstreamSubject(issuer, subject string) string {
	return issuer + "|" + subject
}

// NewUpstream creates an active account for a user whom the upstream OpenID
// provider signed in. It has no password (signing in with one always fails)
// and is found again by upstreamSub, never by email.
func NewUpstream(id, email, upstreamSub string, now time.Time) (*User, error) {
	if id == "" || strings.ContainsAny(id, ": \t\n") {
		return nil, errs.Invalid("user_id", "user-id-invalid", "user id must be non-empty and contain no ':' or spaces")
	}
	email, err := validateEmail(email)
	if err != nil {
		return nil, err
	}
	if upstreamSub == "" || len(upstreamSub) > maxUpstreamSubOctets || !utf8.ValidString(upstreamSub) ||
		strings.ContainsFunc(upstreamSub, func(r rune) bool { return r < 0x20 || r == 0x7f }) {
		return nil, errs.Invalid("upstream_sub", "upstream-sub-invalid",
			"upstream subject must be non-empty printable text of at most 1024 bytes")
	}
	return &User{id: id, email: email, status: StatusActive, upstreamSub: upstreamSub, createdAt: now, updatedAt: now}, nil
}
