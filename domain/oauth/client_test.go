package oauth_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/custom-gpt-adapter/custom-gpt-adapter/domain/oauth"
)

func codeOf(err error) string {
	var oe *oauth.Error
	if errors.As(err, &oe) {
		return oe.Code
	}
	return ""
}

func TestParseRegistration(t *testing.T) {
	t.Parallel()
	m, err := oauth.ParseRegistration([]byte(`{"client_name":" Claude\u202e ","redirect_uris":["https://claude.ai/api/mcp/auth_callback"],
		"grant_types":["authorization_code","refresh_token"],"response_types":["code"],"token_endpoint_auth_method":"none","scope":"x","logo_uri":"https://x"}`))
	if err != nil || m.ClientName != "Claude" || m.TokenEndpointAuthMethod != oauth.AuthNone {
		t.Fatalf("a public registration: %+v %v", m, err)
	}
	if m, err := oauth.ParseRegistration([]byte(`{"redirect_uris":["http://127.0.0.1:3000/cb"]}`)); err != nil || m.TokenEndpointAuthMethod != oauth.AuthSecretBasic {
		t.Fatalf("RFC 7591's default method: %+v %v", m, err)
	}
	for body, want := range map[string]string{
		`{}`: "invalid_redirect_uri",
		`{"redirect_uris":["vscode://callback"]}`:                                                     "",
		`{"redirect_uris":["javascript://x"]}`:                                                        "invalid_redirect_uri",
		`{"redirect_uris":["data:text/html,x"]}`:                                                      "invalid_redirect_uri",
		`{"redirect_uris":["http://10.0.0.1/cb"]}`:                                                    "invalid_redirect_uri",
		`{"redirect_uris":["/relative"]}`:                                                             "invalid_redirect_uri",
		`{"redirect_uris":["https:///no-host"]}`:                                                      "invalid_redirect_uri",
		`{"redirect_uris":["https://x.example/cb"],"token_endpoint_auth_method":"tls_client_auth"}`:   "invalid_client_metadata",
		`{"redirect_uris":["https://x.example/cb"],"client_secret":"mine"}`:                           "invalid_client_metadata",
		`{"redirect_uris":["https://x.example/cb"]} {}`:                                               "invalid_client_metadata",
		`{"redirect_uris":["https://x.example/cb"],"client_name":"` + strings.Repeat("é", 101) + `"}`: "invalid_client_metadata",
		"{\"redirect_uris\":[\"https://x.example/cb\"],\"client_name\":\"\xff\"}":                     "invalid_client_metadata",
	} {
		if _, err := oauth.ParseRegistration([]byte(body)); codeOf(err) != want {
			t.Errorf("%.80s: %v, want %q", body, err, want)
		}
	}
}

func TestParseMetadataDocument(t *testing.T) {
	t.Parallel()
	const id = "https://app.example/oauth/client.json"
	m, err := oauth.ParseMetadataDocument(id, []byte(`{"client_id":"`+id+`","client_name":"App","redirect_uris":["https://app.example/cb"]}`))
	if err != nil || m.TokenEndpointAuthMethod != oauth.AuthNone {
		t.Fatalf("a document: %+v %v", m, err)
	}
	for body, want := range map[string]string{
		`{"client_id":"https://other.example/client.json","redirect_uris":["https://app.example/cb"]}`:                             "another",
		`{"client_id":"` + id + `","redirect_uris":["https://app.example/cb"],"token_endpoint_auth_method":"private_key_jwt"}`:     "private_key_jwt",
		`{"client_id":"` + id + `","redirect_uris":["https://app.example/cb"],"token_endpoint_auth_method":"client_secret_basic"}`: "must be none",
		`{"client_id":"` + id + `","redirect_uris":["https://app.example/cb"],"client_secret":"s"}`:                                "client_secret",
		`{"client_id":"` + id + `"}`: "redirect_uris",
	} {
		_, err := oauth.ParseMetadataDocument(id, []byte(body))
		if err == nil || (want != "another" && !strings.Contains(err.Error(), want)) {
			t.Errorf("%.80s: %v, want an error about %q", body, err, want)
		}
	}
}

func TestIsRegisteredClientID(t *testing.T) {
	t.Parallel()
	for id, want := range map[string]bool{
		"mcpc_abc": true, "https://app.example/client.json": true,
		"0192c1f0-1111-7000-8000-000000000000": false, "http://app.example/client.json": false,
	} {
		if got := oauth.IsRegisteredClientID(id); got != want {
			t.Errorf("%s: %v", id, got)
		}
	}
}
