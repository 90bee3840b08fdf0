package idempotency_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/custom-gpt-adapter/custom-gpt-adapter/domain/errs"
	"github.com/custom-gpt-adapter/custom-gpt-adapter/domain/idempotency"
)

// FuzzParseKey checks that any header value either parses to a key within the
// limits or is refused as invalid input on the Idempotency-Key field, and that
// a parsed key reads back the same from its canonical quoted form.
func FuzzParseKey(f *testing.F) {
	for _, s := range []string{
		``, `""`, `"`, `"a`, `a"`, `"abc"`, `abc`, ` "abc" `, "\t\"abc\"\t",
		`"a\"b"`, `"a\\b"`, `"a\b"`, `"a\`, `"k";a=1`, `"k" "k"`, `a b`, `a"b`, `a\b`,
		"\x00", "\"\x00\"", "\"\x7f\"", "\"é\"", "é", "日本語", "\"\xff\"",
		strings.Repeat("k", 255), strings.Repeat("k", 256),
		`"` + strings.Repeat("k", 255) + `"`, `"` + strings.Repeat(`\\`, 255) + `"`, `"` + strings.Repeat(`\\`, 256) + `"`,
		"8e03978e-40d5-43e8-bc93-6894a57f9324",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, header string) {
		k, err := idempotency.ParseKey(header)
		if err != nil {
			var e *errs.Error
			if !errors.As(err, &e) || e.Kind != errs.KindInvalid || e.Field != idempotency.HeaderName || !strings.HasPrefix(e.Slug, "idempotency-key-") {
				t.Fatalf("ParseKey(%q) = %v, want an invalid-input error on %s", header, err, idempotency.HeaderName)
			}
			if k != (idempotency.Key{}) {
				t.Fatalf("ParseKey(%q) returned key %q with its error", header, k)
			}
			return
		}
		v := k.String()
		if v == "" || len(v) > idempotency.MaxKeyLength {
			t.Fatalf("ParseKey(%q) = %q: %d bytes, want 1 to %d", header, v, len(v), idempotency.MaxKeyLength)
		}
		for i := 0; i < len(v); i++ {
			if v[i] < 0x20 || v[i] > 0x7e {
				t.Fatalf("ParseKey(%q) = %q holds byte %#x, want printable ASCII", header, v, v[i])
			}
		}
		quoted := `"` + strings.NewReplacer(`\`, `\\`, `"`, `\"`).Replace(v) + `"`
		again, err := idempotency.ParseKey(quoted)
		if err != nil || again != k {
			t.Fatalf("ParseKey(%q) = %q, but its quoted form %s reads back as %q, %v", header, v, quoted, again, err)
		}
	})
}
