package user_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/custom-gpt-adapter/custom-gpt-adapter/domain/errs"
	"github.com/custom-gpt-adapter/custom-gpt-adapter/domain/user"
)

func TestNewUpstream(t *testing.T) {
	t.Parallel()

	sub := user.UpstreamSubject("https://idp.example.com", "248289761001")
	if sub != "https://idp.example.com|248289761001" {
		t.Fatalf("UpstreamSubject = %q", sub)
	}
	tests := []struct {
		name, id, email, sub string
		field                string // "" means valid
	}{
		{"valid", "user-1", " Alice@Example.com ", sub, ""},
		{"empty id", "", "alice@example.com", sub, "user_id"},
		{"colon in id", "a:b", "alice@example.com", sub, "user_id"},
		{"bad email", "user-1", "Alice <alice@example.com>", sub, "email"},
		{"no email", "user-1", "", sub, "email"},
		{"no subject", "user-1", "alice@example.com", "", "upstream_sub"},
		{"control character", "user-1", "alice@example.com", sub + "\n", "upstream_sub"},
		{"too long", "user-1", "alice@example.com", strings.Repeat("s", 1025), "upstream_sub"},
		{"invalid UTF-8", "user-1", "alice@example.com", "iss|\xff", "upstream_sub"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			u, err := user.NewUpstream(tt.id, tt.email, tt.sub, t0)
			if tt.field != "" {
				var e *errs.Error
				if !errors.As(err, &e) || e.Kind != errs.KindInvalid || e.Field != tt.field {
					t.Fatalf("error = %v, want invalid %s", err, tt.field)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if u.ID() != tt.id || u.Email() != "Alice@Example.com" || u.UpstreamSub() != tt.sub ||
				u.PasswordHash() != "" || u.Status() != user.StatusActive || !u.CreatedAt().Equal(t0) || u.Authorize() != nil {
				t.Fatalf("user %+v", u)
			}
		})
	}
}
