package errs_test

import (
	"errors"
	"fmt"
	"testing"

	"github.com/custom-gpt-adapter/custom-gpt-adapter/domain/errs"
)

func TestError_message(t *testing.T) {
	t.Parallel()

	cause := errors.New("dial tcp: refused")
	tests := []struct {
		name string
		err  *errs.Error
		want string
	}{
		{"slug only", &errs.Error{Slug: "boom"}, "boom"},
		{"with field", errs.Invalid("content", "content-empty", ""), "content-empty (content)"},
		{"with field and detail", errs.Invalid("limit", "limit-out-of-range", "1 to 50"), "limit-out-of-range (limit): 1 to 50"},
		{"with cause", errs.Unavailable("db-down", "retry", cause), "db-down: retry: dial tcp: refused"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if got := tt.err.Error(); got != tt.want {
				t.Errorf("Error() = %q, want %q", got, tt.want)
			}
		})
	}
	if !errors.Is(errs.Unavailable("x", "", cause), cause) {
		t.Error("Unavailable does not unwrap to its cause")
	}
}

func TestKindOf(t *testing.T) {
	t.Parallel()

	tests := []struct {
		name string
		err  error
		want errs.Kind
	}{
		{"invalid", errs.Invalid("f", "s", "d"), errs.KindInvalid},
		{"not found", errs.NotFound("s", "d"), errs.KindNotFound},
		{"unauthorized", errs.Unauthorized("s", "d"), errs.KindUnauthorized},
		{"forbidden", errs.Forbidden("s", "d"), errs.KindForbidden},
		{"unavailable", errs.Unavailable("s", "d", nil), errs.KindUnavailable},
		{"wrapped", fmt.Errorf("get: %w", errs.NotFound("s", "d")), errs.KindNotFound},
		{"plain error", errors.New("x"), errs.KindInternal},
		{"nil", nil, errs.KindInternal},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if got := errs.KindOf(tt.err); got != tt.want {
				t.Errorf("KindOf(%v) = %v, want %v", tt.err, got, tt.want)
			}
		})
	}
}
