package command_test

import (
	"bytes"
	"context"
	"strings"
	"sync"
	"testing"

	"github.com/custom-gpt-adapter/custom-gpt-adapter/app/command"
	"github.com/custom-gpt-adapter/custom-gpt-adapter/app/query"
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

func TestAppLifecycle(t *testing.T) {
	t.Parallel()

	ctx := context.Background()
	repo := &fakeApps{apps: map[string]*application.Application{}}
	register := command.NewRegisterAppHandler(repo, application.RateLimits{}, nil, nil)

	reg, err := register.Handle(ctx, command.RegisterApp{AppID: "app-1", Name: "Diary GPT",
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
	if _, err := register.Handle(ctx, command.RegisterApp{AppID: "app-2", Name: "x", RedirectURIs: []string{"http://evil.example/cb"}}); errs.KindOf(err) != errs.KindInvalid {
		t.Errorf("Register with an http redirect URI = %v, want KindInvalid", err)
	}

	secret, err := command.NewRotateClientSecretHandler(repo, nil, nil).Handle(ctx, command.RotateClientSecret{AppID: "app-1"})
	if err != nil || secret == reg.ClientSecret {
		t.Fatalf("RotateSecret: %q %v", secret, err)
	}
	rotated, _ := repo.Get(ctx, "app-1")
	if !bytes.Equal(rotated.OAuthClient().SecretHash, application.HashClientSecret(secret)) {
		t.Error("rotated secret not stored")
	}
	if err := command.NewAddRedirectURIHandler(repo, nil, nil).Handle(ctx, command.AddRedirectURI{AppID: "app-1", URI: "http://127.0.0.1:9000/cb"}); err != nil {
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

	if _, err := register.Handle(ctx, command.RegisterApp{AppID: "bad:id", Name: "x"}); errs.KindOf(err) != errs.KindInvalid {
		t.Errorf("Register with ':' = %v, want KindInvalid", err)
	}
	if _, err := repo.Get(ctx, "bad:id"); err == nil {
		t.Error("invalid application stored")
	}

	newKey, err := command.NewRotateAPIKeyHandler(repo, nil, nil).Handle(ctx, command.RotateAPIKey{AppID: "app-1"})
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

	if err := command.NewDisableAppHandler(repo, nil, nil).Handle(ctx, command.DisableApp{AppID: "app-1"}); err != nil {
		t.Fatalf("Disable: %v", err)
	}
	got, _ := repo.Get(ctx, "app-1")
	if errs.KindOf(got.Authorize()) != errs.KindForbidden {
		t.Error("disabled application still authorized")
	}
	if _, err := command.NewRotateAPIKeyHandler(repo, nil, nil).Handle(ctx, command.RotateAPIKey{AppID: "missing"}); errs.KindOf(err) != errs.KindNotFound {
		t.Errorf("RotateKey of unknown app = %v, want KindNotFound", err)
	}
	list, err := query.NewListAppsHandler(repo, application.RateLimits{}, nil, nil).Handle(ctx, query.ListApps{})
	if err != nil || len(list) != 1 {
		t.Errorf("ListApps = %d apps, %v; want 1", len(list), err)
	}
}

// An application's budgets are reported as its requests spend them: its own
// overrides over the deployment's defaults, on creation, change and listing.
func TestAppRateLimitsAreReportedOverTheDefaults(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	repo := &fakeApps{apps: map[string]*application.Application{}}
	defaults := application.RateLimits{App: application.Rate{PerSecond: 10, Burst: 20}, User: application.Rate{PerSecond: 2, Burst: 4}}

	reg, err := command.NewRegisterAppHandler(repo, defaults, nil, nil).Handle(ctx, command.RegisterApp{AppID: "app-1", Name: "GPT"})
	if err != nil || reg.RateLimits != defaults {
		t.Fatalf("RegisterApp: limits %+v, %v; want the defaults %+v", reg.RateLimits, err, defaults)
	}
	userRPS := 3
	set, err := command.NewSetAppRateLimitsHandler(repo, defaults, nil, nil).Handle(ctx, command.SetAppRateLimits{AppID: "app-1", UserPerSecond: &userRPS})
	want := defaults
	want.User.PerSecond = 3
	if err != nil || set.RateLimits != want || set.App.RateLimits().User.PerSecond != 3 {
		t.Fatalf("SetAppRateLimits: %+v, %v; want effective %+v with the override stored", set, err, want)
	}
	list, err := query.NewListAppsHandler(repo, defaults, nil, nil).Handle(ctx, query.ListApps{})
	if err != nil || len(list) != 1 || list[0].RateLimits != want {
		t.Fatalf("ListApps: %+v, %v; want app-1 with %+v", list, err, want)
	}
	tooFast := application.MaxRatePerSecond + 1
	if _, err := command.NewSetAppRateLimitsHandler(repo, defaults, nil, nil).Handle(ctx, command.SetAppRateLimits{AppID: "app-1", AppPerSecond: &tooFast}); errs.KindOf(err) != errs.KindInvalid {
		t.Errorf("a rate above the maximum: %v, want KindInvalid", err)
	}
}
