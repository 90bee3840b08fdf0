package application_test

import (
	"bytes"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/custom-gpt-adapter/custom-gpt-adapter/domain/application"
	"github.com/custom-gpt-adapter/custom-gpt-adapter/domain/errs"
)

var t0 = time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC)

func TestNew(t *testing.T) {
	t.Parallel()

	hash := application.HashAPIKey("cgpt_x")
	tests := []struct {
		name     string
		id       string
		appName  string
		hash     []byte
		field    string // "" means valid
		wantName string
	}{
		{"valid", "app-1", "My GPT", hash, "", "My GPT"},
		{"name trimmed", "app-1", "  My GPT \n", hash, "", "My GPT"},
		{"200 multi-byte characters", "app-1", strings.Repeat("ñ", 200), hash, "", strings.Repeat("ñ", 200)},
		{"blank name", "app-1", "   ", hash, "name", ""},
		{"empty name", "app-1", "", hash, "name", ""},
		{"201 characters", "app-1", strings.Repeat("n", 201), hash, "name", ""},
		{"empty id", "", "My GPT", hash, "app_id", ""},
		{"id with colon", "app:1", "My GPT", hash, "app_id", ""},
		{"no key", "app-1", "My GPT", nil, "api_key", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			app, err := application.New(tt.id, tt.appName, tt.hash, t0)
			if tt.field != "" {
				var e *errs.Error
				if !errors.As(err, &e) || e.Kind != errs.KindInvalid || e.Field != tt.field {
					t.Fatalf("error = %#v, want KindInvalid on %q", err, tt.field)
				}
				if app != nil {
					t.Error("application returned with an error")
				}
				return
			}
			if err != nil {
				t.Fatalf("New: %v", err)
			}
			if app.ID() != tt.id || app.Name() != tt.wantName || !bytes.Equal(app.KeyHash(), tt.hash) {
				t.Errorf("application = %q %q %x", app.ID(), app.Name(), app.KeyHash())
			}
			if app.Status() != application.StatusActive {
				t.Errorf("status = %q, want active", app.Status())
			}
			if !app.CreatedAt().Equal(t0) || !app.UpdatedAt().Equal(t0) {
				t.Errorf("times = %v %v", app.CreatedAt(), app.UpdatedAt())
			}
		})
	}
}

func TestAuthorize(t *testing.T) {
	t.Parallel()

	active, err := application.New("app-1", "GPT", []byte{1}, t0)
	if err != nil {
		t.Fatal(err)
	}
	if err := active.Authorize(); err != nil {
		t.Errorf("active Authorize = %v, want nil", err)
	}

	disabled, err := application.New("app-2", "GPT", []byte{1}, t0)
	if err != nil {
		t.Fatal(err)
	}
	later := t0.Add(time.Hour)
	disabled.Disable(later)
	if disabled.Status() != application.StatusDisabled || !disabled.UpdatedAt().Equal(later) {
		t.Errorf("after Disable: status %q, updated %v", disabled.Status(), disabled.UpdatedAt())
	}
	if err := disabled.Authorize(); errs.KindOf(err) != errs.KindForbidden {
		t.Errorf("disabled Authorize = %v, want KindForbidden", err)
	}

	// An unknown status from storage is not a licence to act.
	odd := application.UnmarshalFromDatabase("app-3", "GPT", "suspended", []byte{1}, application.OAuthClient{}, t0, t0)
	if err := odd.Authorize(); errs.KindOf(err) != errs.KindForbidden {
		t.Errorf("unknown status Authorize = %v, want KindForbidden", err)
	}
}

func TestRotateKey(t *testing.T) {
	t.Parallel()

	_, oldHash := application.NewAPIKey()
	app, err := application.New("app-1", "GPT", oldHash, t0)
	if err != nil {
		t.Fatal(err)
	}
	_, newHash := application.NewAPIKey()
	later := t0.Add(time.Minute)
	if err := app.RotateKey(newHash, later); err != nil {
		t.Fatalf("RotateKey: %v", err)
	}
	if !bytes.Equal(app.KeyHash(), newHash) || bytes.Equal(app.KeyHash(), oldHash) {
		t.Error("key hash not replaced")
	}
	if !app.UpdatedAt().Equal(later) || !app.CreatedAt().Equal(t0) {
		t.Errorf("times = created %v, updated %v", app.CreatedAt(), app.UpdatedAt())
	}

	if err := app.RotateKey(nil, later.Add(time.Minute)); errs.KindOf(err) != errs.KindInvalid {
		t.Errorf("RotateKey(nil) = %v, want KindInvalid", err)
	}
	if !bytes.Equal(app.KeyHash(), newHash) || !app.UpdatedAt().Equal(later) {
		t.Error("refused rotation changed the application")
	}
}

func TestNewAPIKey(t *testing.T) {
	t.Parallel()

	k1, h1 := application.NewAPIKey()
	k2, h2 := application.NewAPIKey()

	for _, k := range []string{k1, k2} {
		if !strings.HasPrefix(k, application.KeyPrefix) || application.KeyPrefix != "cgpt_" {
			t.Errorf("key %q lacks prefix cgpt_", k)
		}
		if !application.LooksLikeAPIKey(k) {
			t.Errorf("LooksLikeAPIKey(%q) = false", k)
		}
		if strings.ContainsAny(k[len(application.KeyPrefix):], "+/=") {
			t.Errorf("key %q is not URL-safe", k)
		}
	}
	if k1 == k2 {
		t.Error("two keys are equal")
	}
	if !bytes.Equal(h1, application.HashAPIKey(k1)) || !bytes.Equal(h2, application.HashAPIKey(k2)) {
		t.Error("returned hash is not HashAPIKey of the key")
	}
	if !bytes.Equal(application.HashAPIKey(k1), application.HashAPIKey(k1)) {
		t.Error("HashAPIKey is not deterministic")
	}
	if bytes.Equal(h1, h2) {
		t.Error("two keys share a hash")
	}
	if bytes.Contains(h1, []byte(k1)) {
		t.Error("hash contains the key")
	}
}

func TestLooksLikeAPIKey(t *testing.T) {
	t.Parallel()

	key, _ := application.NewAPIKey()
	tests := []struct {
		name string
		s    string
		want bool
	}{
		{"fresh key", key, true},
		{"empty", "", false},
		{"prefix only", "cgpt_", false},
		{"one character short", key[:len(key)-1], false},
		{"one character long", key + "A", false},
		{"wrong prefix", "sk-__" + key[len(application.KeyPrefix):], false},
		{"bearer garbage", "Bearer " + key, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if got := application.LooksLikeAPIKey(tt.s); got != tt.want {
				t.Errorf("LooksLikeAPIKey(%q) = %v, want %v", tt.s, got, tt.want)
			}
		})
	}
}
