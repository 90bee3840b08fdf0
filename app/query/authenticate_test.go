package query_test

import (
	"context"
	"encoding/hex"
	"errors"
	"testing"
	"time"

	"github.com/custom-gpt-adapter/custom-gpt-adapter/app/query"
	"github.com/custom-gpt-adapter/custom-gpt-adapter/domain/application"
	"github.com/custom-gpt-adapter/custom-gpt-adapter/domain/errs"
)

func TestAuthenticate(t *testing.T) {
	t.Parallel()

	activeKey, activeHash := application.NewAPIKey()
	disabledKey, disabledHash := application.NewAPIKey()
	unknownKey, _ := application.NewAPIKey()

	active, err := application.New("app-1", "Active GPT", activeHash, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	disabled, err := application.New("app-2", "Disabled GPT", disabledHash, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	disabled.Disable(time.Now())
	newRepo := func() *fakeKeyRepo {
		return &fakeKeyRepo{byHash: map[string]*application.Application{
			hex.EncodeToString(activeHash): active, hex.EncodeToString(disabledHash): disabled,
		}}
	}

	tests := []struct {
		name      string
		key       string
		wantKind  errs.Kind
		wantErr   bool
		wantCalls int
	}{
		{"active application", activeKey, 0, false, 1},
		{"empty key", "", errs.KindUnauthorized, true, 0},
		{"garbage", "hunter2", errs.KindUnauthorized, true, 0},
		{"prefix but wrong length", "cgpt_abc", errs.KindUnauthorized, true, 0},
		{"unknown key", unknownKey, errs.KindUnauthorized, true, 1},
		{"disabled application", disabledKey, errs.KindForbidden, true, 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			repo := newRepo()
			h := query.NewAuthenticateHandler(repo, nil, nil, nil)

			caller, err := h.Handle(context.Background(), query.Authenticate{Credential: tt.key})
			if repo.calls != tt.wantCalls {
				t.Errorf("repository called %d times, want %d", repo.calls, tt.wantCalls)
			}
			if !tt.wantErr {
				if err != nil {
					t.Fatalf("Handle: %v", err)
				}
				if caller != (query.Caller{AppID: "app-1", Scopes: "memories:read memories:write", APIKey: true}) {
					t.Errorf("caller = %+v, want app-1 without end user, with every scope", caller)
				}
				return
			}
			if errs.KindOf(err) != tt.wantKind {
				t.Errorf("error = %v, want kind %v", err, tt.wantKind)
			}
			if caller != (query.Caller{}) {
				t.Errorf("caller %+v returned with an error", caller)
			}
		})
	}
}

// A broken database must not look like bad credentials: the caller would be
// told to fix a key that is fine.
func TestAuthenticate_repositoryErrorPassesThrough(t *testing.T) {
	t.Parallel()

	key, _ := application.NewAPIKey()
	boom := errors.New("db down")
	h := query.NewAuthenticateHandler(&fakeKeyRepo{err: boom}, nil, nil, nil)

	_, err := h.Handle(context.Background(), query.Authenticate{Credential: key})
	if !errors.Is(err, boom) || errs.KindOf(err) != errs.KindUnavailable {
		t.Errorf("Handle = %v, want the repository error as unavailable", err)
	}
}
