package user_test

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/custom-gpt-adapter/custom-gpt-adapter/domain/errs"
	"github.com/custom-gpt-adapter/custom-gpt-adapter/domain/user"
)

var t0 = time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC)

// validHash is a real PHC string; hashing once keeps the table tests fast.
var validHash = mustHash("correct horse battery staple")

func mustHash(pw string) string {
	h, err := user.HashPassword(pw)
	if err != nil {
		panic(err)
	}
	return h
}

func TestNew(t *testing.T) {
	t.Parallel()

	local := strings.Repeat("a", 64)
	label := strings.Repeat("b", 63)
	// 64 + 1 + (63+1) + (63+1) + 57 + 4 = 254 octets: the longest deliverable address.
	longest := local + "@" + label + "." + label + "." + strings.Repeat("c", 57) + ".com"
	if len(longest) != 254 {
		t.Fatalf("test setup: longest address is %d octets", len(longest))
	}

	tests := []struct {
		name      string
		id        string
		email     string
		hash      string
		field     string // "" means valid
		wantEmail string
	}{
		{"valid", "user-1", "alice@example.com", validHash, "", "alice@example.com"},
		{"trimmed, case kept", "user-1", "  Alice@Example.COM \n", validHash, "", "Alice@Example.COM"},
		{"plus and dots", "user-1", "a.b+gpt@mail.example.org", validHash, "", "a.b+gpt@mail.example.org"},
		{"254 octets", "user-1", longest, validHash, "", longest},
		{"255 octets", "user-1", "a" + longest, validHash, "email", ""},
		{"empty email", "user-1", "", validHash, "email", ""},
		{"blank email", "user-1", "   ", validHash, "email", ""},
		{"no at sign", "user-1", "alice.example.com", validHash, "email", ""},
		{"no domain", "user-1", "alice@", validHash, "email", ""},
		{"no local part", "user-1", "@example.com", validHash, "email", ""},
		{"two at signs", "user-1", "a@b@example.com", validHash, "email", ""},
		{"display name", "user-1", "Alice <alice@example.com>", validHash, "email", ""},
		{"angle brackets", "user-1", "<alice@example.com>", validHash, "email", ""},
		{"comment", "user-1", "alice@example.com (Alice)", validHash, "email", ""},
		{"inner space", "user-1", "ali ce@example.com", validHash, "email", ""},
		{"two addresses", "user-1", "a@example.com, b@example.com", validHash, "email", ""},
		{"empty id", "", "alice@example.com", validHash, "user_id", ""},
		{"id with colon", "user:1", "alice@example.com", validHash, "user_id", ""},
		{"plaintext instead of hash", "user-1", "alice@example.com", "correct horse battery staple", "password_hash", ""},
		{"empty hash", "user-1", "alice@example.com", "", "password_hash", ""},
		{"bcrypt hash", "user-1", "alice@example.com", "$2a$10$N9qo8uLOickgx2ZMRZoMyeIjZAgcfl7p92ldGxad68LJZdL17lhWy", "password_hash", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			u, err := user.New(tt.id, tt.email, tt.hash, t0)
			if tt.field != "" {
				var e *errs.Error
				if !errors.As(err, &e) || e.Kind != errs.KindInvalid || e.Field != tt.field {
					t.Fatalf("error = %#v, want KindInvalid on %q", err, tt.field)
				}
				if u != nil {
					t.Error("user returned with an error")
				}
				return
			}
			if err != nil {
				t.Fatalf("New: %v", err)
			}
			if u.ID() != tt.id || u.Email() != tt.wantEmail || u.PasswordHash() != tt.hash {
				t.Errorf("user = %q %q %q", u.ID(), u.Email(), u.PasswordHash())
			}
			if u.Status() != user.StatusActive || u.UpstreamSub() != "" {
				t.Errorf("status %q, upstream sub %q; want active, none", u.Status(), u.UpstreamSub())
			}
			if !u.CreatedAt().Equal(t0) || !u.UpdatedAt().Equal(t0) {
				t.Errorf("times = %v %v", u.CreatedAt(), u.UpdatedAt())
			}
		})
	}
}

func TestNormalizeEmail(t *testing.T) {
	t.Parallel()
	if got := user.NormalizeEmail("  Alice@Example.COM\t"); got != "alice@example.com" {
		t.Errorf("NormalizeEmail = %q", got)
	}
	if user.NormalizeEmail("Bob@example.com") == user.NormalizeEmail("alice@example.com") {
		t.Error("two different addresses normalize alike")
	}
}

func TestAuthorizeAndDisable(t *testing.T) {
	t.Parallel()

	u, err := user.New("user-1", "alice@example.com", validHash, t0)
	if err != nil {
		t.Fatal(err)
	}
	if err := u.Authorize(); err != nil {
		t.Errorf("active Authorize = %v, want nil", err)
	}

	later := t0.Add(time.Hour)
	u.Disable(later)
	if u.Status() != user.StatusDisabled || !u.UpdatedAt().Equal(later) || !u.CreatedAt().Equal(t0) {
		t.Errorf("after Disable: status %q, created %v, updated %v", u.Status(), u.CreatedAt(), u.UpdatedAt())
	}
	var e *errs.Error
	if err := u.Authorize(); !errors.As(err, &e) || e.Kind != errs.KindForbidden || e.Slug != "user-disabled" {
		t.Errorf("disabled Authorize = %#v, want KindForbidden user-disabled", err)
	}

	// An unknown status from storage is not a licence to sign in.
	odd := user.UnmarshalFromDatabase("user-2", "bob@example.com", validHash, "suspended", "", t0, t0)
	if err := odd.Authorize(); errs.KindOf(err) != errs.KindForbidden {
		t.Errorf("unknown status Authorize = %v, want KindForbidden", err)
	}
}

func TestUnmarshalFromDatabase(t *testing.T) {
	t.Parallel()

	later := t0.Add(time.Minute)
	u := user.UnmarshalFromDatabase("user-1", "Alice@example.com", "", user.StatusActive, "upstream|42", t0, later)
	if u.ID() != "user-1" || u.Email() != "Alice@example.com" || u.PasswordHash() != "" ||
		u.Status() != user.StatusActive || u.UpstreamSub() != "upstream|42" ||
		!u.CreatedAt().Equal(t0) || !u.UpdatedAt().Equal(later) {
		t.Errorf("user = %+v", u)
	}
}
