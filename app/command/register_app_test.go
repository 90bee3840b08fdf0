package command_test

import (
	"bytes"
	"context"
	"strings"
	"sync"
	"testing"

	"github.com/custom-gpt-adapter/custom-gpt-adapter/app/command"
	"github.com/custom-gpt-adapter/custom-gpt-adapter/domain/application"
	"github.com/custom-gpt-adapter/custom-gpt-adapter/domain/errs"
)

type fakeApps struct {
	mu   sync.Mutex
	apps map[string]*application.Application
}

func (r *fakeApps) Add(_ context.Context, a *application.Application) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if _, ok := r.apps[a.ID()]; ok {
		return &errs.Error{Kind: errs.KindConflict, Slug: "app-exists"}
	}
	r.apps[a.ID()] = a
	return nil
}

func (r *fakeApps) Get(_ context.Context, id string) (*application.Application, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if a, ok := r.apps[id]; ok {
		return a, nil
	}
	return nil, errs.NotFound("app-not-found", id)
}

func (r *fakeApps) ByKeyHash(_ context.Context, h []byte) (*application.Application, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, a := range r.apps {
		if bytes.Equal(a.KeyHash(), h) {
			return a, nil
		}
	}
	return nil, errs.NotFound("app-not-found", "")
}

func (r *fakeApps) List(context.Context) ([]*application.Application, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	var out []*application.Application
	for _, a := range r.apps {
		out = append(out, a)
	}
	return out, nil
}

func (r *fakeApps) Update(ctx context.Context, id string, fn func(*application.Application) error) error {
	a, err := r.Get(ctx, id)
	if err != nil {
		return err
	}
	c := *a
	if err := fn(&c); err != nil {
		return err
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	r.apps[id] = &c
	return nil
}

func TestAppAdmin(t *testing.T) {
	t.Parallel()

	ctx := context.Background()
	repo := &fakeApps{apps: map[string]*application.Application{}}
	admin := command.NewAppAdmin(repo)

	reg, err := admin.Register(ctx, command.RegisterApp{AppID: "app-1", Name: "Diary GPT",
		RedirectURIs: []string{"https://chat.openai.com/aip/g-1/oauth/callback", "https://chatgpt.com/aip/g-1/oauth/callback"}})
	if err != nil {
		t.Fatalf("Register: %v", err)
	}
	app, key := reg.App, reg.APIKey
	if !strings.HasPrefix(reg.ClientSecret, application.SecretPrefix) ||
		!bytes.Equal(app.OAuthClient().SecretHash, application.HashClientSecret(reg.ClientSecret)) {
		t.Errorf("client secret %q not stored as its hash", reg.ClientSecret)
	}
	if uris := app.OAuthClient().RedirectURIs; len(uris) != 2 {
		t.Errorf("redirect URIs %v", uris)
	}
	if _, err := admin.Register(ctx, command.RegisterApp{AppID: "app-2", Name: "x", RedirectURIs: []string{"http://evil.example/cb"}}); errs.KindOf(err) != errs.KindInvalid {
		t.Errorf("Register with an http redirect URI = %v, want KindInvalid", err)
	}

	secret, err := admin.RotateSecret(ctx, "app-1")
	if err != nil || secret == reg.ClientSecret {
		t.Fatalf("RotateSecret: %q %v", secret, err)
	}
	rotated, _ := repo.Get(ctx, "app-1")
	if !bytes.Equal(rotated.OAuthClient().SecretHash, application.HashClientSecret(secret)) {
		t.Error("rotated secret not stored")
	}
	if err := admin.AddRedirectURI(ctx, "app-1", "http://127.0.0.1:9000/cb"); err != nil {
		t.Fatalf("AddRedirectURI: %v", err)
	}
	if got, _ := repo.Get(ctx, "app-1"); len(got.OAuthClient().RedirectURIs) != 3 {
		t.Errorf("redirect URIs after add: %v", got.OAuthClient().RedirectURIs)
	}
	if !application.LooksLikeAPIKey(key) {
		t.Errorf("key %q is not an API key", key)
	}
	if got, err := repo.ByKeyHash(ctx, application.HashAPIKey(key)); err != nil || got.ID() != "app-1" {
		t.Fatalf("stored application not found by its key: %v", err)
	}
	if bytes.Contains(app.KeyHash(), []byte(key)) {
		t.Error("the key itself is stored")
	}

	if _, err := admin.Register(ctx, command.RegisterApp{AppID: "bad:id", Name: "x"}); errs.KindOf(err) != errs.KindInvalid {
		t.Errorf("Register with ':' = %v, want KindInvalid", err)
	}
	if _, err := repo.Get(ctx, "bad:id"); err == nil {
		t.Error("invalid application stored")
	}

	newKey, err := admin.RotateKey(ctx, "app-1")
	if err != nil {
		t.Fatalf("RotateKey: %v", err)
	}
	if newKey == key {
		t.Error("rotation returned the old key")
	}
	if _, err := repo.ByKeyHash(ctx, application.HashAPIKey(key)); errs.KindOf(err) != errs.KindNotFound {
		t.Errorf("old key still works: %v", err)
	}
	if _, err := repo.ByKeyHash(ctx, application.HashAPIKey(newKey)); err != nil {
		t.Errorf("new key does not work: %v", err)
	}

	if err := admin.Disable(ctx, "app-1"); err != nil {
		t.Fatalf("Disable: %v", err)
	}
	got, _ := repo.Get(ctx, "app-1")
	if errs.KindOf(got.Authorize()) != errs.KindForbidden {
		t.Error("disabled application still authorized")
	}
	if _, err := admin.RotateKey(ctx, "missing"); errs.KindOf(err) != errs.KindNotFound {
		t.Errorf("RotateKey of unknown app = %v, want KindNotFound", err)
	}
	list, err := admin.List(ctx)
	if err != nil || len(list) != 1 {
		t.Errorf("List = %d apps, %v; want 1", len(list), err)
	}
}
