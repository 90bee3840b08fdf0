package e2e

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"testing"

	standardwebhooks "github.com/standard-webhooks/standard-webhooks/libraries/go"

	"github.com/custom-gpt-adapter/custom-gpt-adapter/adapters/secrets"
	"github.com/custom-gpt-adapter/custom-gpt-adapter/domain/webhook"
	"github.com/custom-gpt-adapter/custom-gpt-adapter/internal/jwt"
	"github.com/custom-gpt-adapter/custom-gpt-adapter/tests/harness"
)

// Moving to a new CUSTOM_GPT_SECRETS_KEY with `keys rewrap` changes no key
// material: tokens signed before still verify, webhooks are signed with the
// same secrets, the previous one of an overlap included.
func TestRewrapKeepsTokensAndWebhookSecrets(t *testing.T) {
	t.Parallel()
	e := harness.NewWebhookEnv(t)
	if _, err := e.RunCLI("migrate"); err != nil {
		t.Fatal(err)
	}
	app := e.CreateOAuthApp("Rewrapped GPT")
	hook := harness.NewHookReceiver(t, nil)
	old := e.SetWebhook(app.AppID, hook.Srv.URL)
	out, err := e.RunCLI("apps", "rotate-webhook-secret", app.AppID, "--overlap", "24h")
	if err != nil {
		t.Fatal(err)
	}
	var rotated struct {
		Secret string `json:"secret"`
	}
	if err := json.Unmarshal([]byte(out), &rotated); err != nil || rotated.Secret == "" {
		t.Fatalf("rotate printed %q: %v", out, err)
	}
	stop := e.Start("api")
	code, _, tok := e.Token(app, true, url.Values{"grant_type": {"client_credentials"}, "scope": {"memories:read"}})
	if code != http.StatusOK || tok.AccessToken == "" {
		t.Fatalf("token: %d %+v", code, tok)
	}
	stop()

	oldKey := e.Vars["CUSTOM_GPT_SECRETS_KEY"]
	e.Vars["CUSTOM_GPT_SECRETS_KEY"] = harness.NewSecretsKey()
	// The new key alone opens nothing stored: every command refuses to start,
	// saying what to do, and changes nothing.
	for _, cmd := range [][]string{{"serve"}, {"apps", "list"}, {"keys", "rewrap"}} {
		if _, err := e.RunCLI(cmd...); err == nil || !strings.Contains(err.Error(), "CUSTOM_GPT_SECRETS_KEY_OLD") ||
			!strings.Contains(err.Error(), "keys rewrap") {
			t.Fatalf("%v with a key that opens nothing: %v", cmd, err)
		}
	}
	e.Vars["CUSTOM_GPT_SECRETS_KEY_OLD"] = oldKey
	// The signing key the token endpoint made, and the webhook endpoint.
	first := e.Rewrap()
	if first.Rewrapped != 2 || first.Encrypted != 0 || first.Unchanged != 0 {
		t.Fatalf("rewrap: %+v", first)
	}
	if again := e.Rewrap(); again != (harness.RewrapOut{KeyID: first.KeyID, Unchanged: 2}) {
		t.Fatalf("second rewrap: %+v", again)
	}
	delete(e.Vars, "CUSTOM_GPT_SECRETS_KEY_OLD")
	if _, err := e.With(map[string]string{"CUSTOM_GPT_SECRETS_KEY": oldKey}).RunCLI("apps", "list"); err == nil ||
		!strings.Contains(err.Error(), "CUSTOM_GPT_SECRETS_KEY") {
		t.Fatalf("the old key after the rewrap: %v", err)
	}

	e.Start("serve")
	if code, _, body := e.Call("GET", "/api/v1/memories", tok.AccessToken, nil); code != http.StatusOK {
		t.Fatalf("a token signed before the rewrap: %d %v", code, body)
	}
	e.AcceptCreate(app.APIKey, "after the rewrap")
	e.Eventually("the webhook arrives", func() bool { return len(hook.Requests()) == 1 })
	req := hook.Requests()[0]
	for _, s := range []string{old, rotated.Secret} {
		wh, _ := standardwebhooks.NewWebhook(s)
		if err := wh.Verify(req.Body, req.Header); err != nil {
			t.Errorf("a secret from before the rewrap does not verify: %v", err)
		}
	}
}

// A database written before secrets were encrypted holds them in plain text:
// the first process to start encrypts them, says so, and they keep working.
func TestPlaintextSecretsFromBeforeAreEncryptedAtStart(t *testing.T) {
	t.Parallel()
	e := harness.NewWebhookEnv(t)
	if _, err := e.RunCLI("migrate"); err != nil {
		t.Fatal(err)
	}
	app := e.CreateOAuthApp("Older GPT")
	hook := harness.NewHookReceiver(t, nil)
	key, err := jwt.GenerateKey(jwt.ES256)
	if err != nil {
		t.Fatal(err)
	}
	der, _ := jwt.MarshalPrivate(key)
	secret := webhook.NewSecret().Reveal()
	// Rows as the previous version wrote them; migration 00013 leaves them so.
	db := e.Pool()
	ctx := context.Background()
	if _, err := db.Exec(ctx, `INSERT INTO custom_gpt_signing_keys (kid, algorithm, private_key, created_at) VALUES ($1, $2, $3, now())`,
		key.KID, key.Algorithm, der); err != nil {
		t.Fatal(err)
	}
	if _, err := db.Exec(ctx, `INSERT INTO custom_gpt_webhook_endpoints (id, app_id, url, secret, status, created_at, updated_at)
		VALUES ('ep-before', $1, $2, $3, 'active', now(), now())`, app.AppID, hook.Srv.URL, secret); err != nil {
		t.Fatal(err)
	}

	var out, logs bytes.Buffer
	if err := harness.Run(ctx, []string{"apps", "list"}, e.Getenv, &out, &logs); err != nil {
		t.Fatalf("apps list: %v (%s)", err, logs.String())
	}
	if !strings.Contains(logs.String(), `"level":"WARN"`) || !strings.Contains(logs.String(), "plain text") ||
		!strings.Contains(logs.String(), `"rows":2`) {
		t.Errorf("no warning that plain-text secrets were encrypted: %s", logs.String())
	}
	dump := pgDump(t, e.Vars["CUSTOM_GPT_DATABASE_URL"])
	for _, found := range privateKeysIn(dump) {
		t.Errorf("the dump still holds a private key: %s", found)
	}
	for _, form := range secretForms(t, secret) {
		if strings.Contains(dump, form) {
			t.Errorf("the dump still holds the webhook secret as %q", form)
		}
	}

	e.Start("serve")
	code, _, tok := e.Token(app, true, url.Values{"grant_type": {"client_credentials"}, "scope": {"memories:read"}})
	if code != http.StatusOK {
		t.Fatalf("token: %d %+v", code, tok)
	}
	header, _ := base64.RawURLEncoding.DecodeString(strings.Split(tok.AccessToken, ".")[0])
	var h struct {
		KID string `json:"kid"`
	}
	if err := json.Unmarshal(header, &h); err != nil || h.KID != key.KID {
		t.Errorf("token signed with %q, want the key from before %q (%v)", h.KID, key.KID, err)
	}
	if code, _, body := e.Call("GET", "/api/v1/memories", tok.AccessToken, nil); code != http.StatusOK {
		t.Fatalf("a token of the key from before: %d %v", code, body)
	}
	e.AcceptCreate(app.APIKey, "after the upgrade")
	e.Eventually("the webhook arrives", func() bool { return len(hook.Requests()) == 1 })
	wh, _ := standardwebhooks.NewWebhook(secret)
	if err := wh.Verify(hook.Requests()[0].Body, hook.Requests()[0].Header); err != nil {
		t.Errorf("the secret from before does not verify: %v", err)
	}
}

// Without CUSTOM_GPT_SECRETS_KEY nothing that reads or writes the stored
// secrets starts, and the message names the variable.
func TestSecretsKeyIsRequired(t *testing.T) {
	t.Parallel()
	e := harness.NewDeployment(t, "embedded")
	if _, err := e.RunCLI("migrate"); err != nil {
		t.Fatal(err)
	}
	app := e.CreateApp("Keyless GPT")
	delete(e.Vars, "CUSTOM_GPT_SECRETS_KEY")
	for _, cmd := range [][]string{{"serve"}, {"api"}, {"worker"}, {"keys", "rotate"}, {"keys", "rewrap"},
		{"apps", "set-webhook", app.AppID, "https://hooks.example.com/"}, {"apps", "rotate-webhook-secret", app.AppID}} {
		_, err := e.RunCLI(cmd...)
		if err == nil || !strings.Contains(err.Error(), "CUSTOM_GPT_SECRETS_KEY: is required") ||
			!strings.Contains(err.Error(), "CUSTOM_GPT_INSECURE_DEV") {
			t.Errorf("%v without a key: %v", cmd, err)
		}
	}
	var n int
	if err := e.Pool().QueryRow(context.Background(), `SELECT (SELECT count(*) FROM custom_gpt_signing_keys) + (SELECT count(*) FROM custom_gpt_webhook_endpoints)`).Scan(&n); err != nil || n != 0 {
		t.Errorf("%d secrets written without a key: %v", n, err)
	}
}

// CUSTOM_GPT_INSECURE_DEV=true without a key runs on the fixed development
// key and says so at start; a malformed key is refused all the same.
func TestInsecureDevUsesTheDevelopmentKey(t *testing.T) {
	t.Parallel()
	e := harness.NewDeployment(t, "embedded")
	delete(e.Vars, "CUSTOM_GPT_SECRETS_KEY")
	e.Vars["CUSTOM_GPT_INSECURE_DEV"] = "true"
	e.Vars["CUSTOM_GPT_AUTO_MIGRATE"] = "true"
	e.Logs = &harness.LogLines{}
	e.Start("serve")
	warned := e.Logs.Matching("CUSTOM_GPT_INSECURE_DEV=true")
	if len(warned) != 1 || !strings.Contains(warned[0], `"level":"WARN"`) || !strings.Contains(warned[0], `"key_id":"insecure-dev"`) {
		t.Errorf("start with the development key logged %q", warned)
	}
	if _, err := e.RunCLI("keys", "rotate"); err != nil {
		t.Fatal(err)
	}
	var sealedWith string
	if err := e.Pool().QueryRow(context.Background(), `SELECT sealed_with FROM custom_gpt_signing_keys`).Scan(&sealedWith); err != nil ||
		sealedWith != "insecure-dev" {
		t.Errorf("the key is sealed with %q: %v", sealedWith, err)
	}
	// The development key never stands in for a bad one.
	if _, err := e.With(map[string]string{"CUSTOM_GPT_SECRETS_KEY": "dev"}).RunCLI("apps", "list"); err == nil ||
		!strings.Contains(err.Error(), "CUSTOM_GPT_SECRETS_KEY:") {
		t.Errorf("a malformed key with CUSTOM_GPT_INSECURE_DEV: %v", err)
	}
	// Moving to a real key: the development key is the old one.
	real := e.With(map[string]string{"CUSTOM_GPT_SECRETS_KEY": harness.NewSecretsKey(), "CUSTOM_GPT_INSECURE_DEV": ""})
	devKey := base64.StdEncoding.EncodeToString(secrets.DevelopmentKey())
	if _, err := real.RunCLI("apps", "list"); err == nil || !strings.Contains(err.Error(), "insecure-dev is the development key: CUSTOM_GPT_SECRETS_KEY_OLD="+devKey) {
		t.Fatalf("a real key on a development database: %v", err)
	}
	real.Vars["CUSTOM_GPT_SECRETS_KEY_OLD"] = devKey
	if r := real.Rewrap(); r.Rewrapped != 1 {
		t.Fatalf("rewrap from the development key: %+v", r)
	}
}
