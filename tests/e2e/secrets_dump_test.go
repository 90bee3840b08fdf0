package e2e

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"encoding/pem"
	"os/exec"
	"regexp"
	"strings"
	"testing"

	"github.com/go-jose/go-jose/v4"

	"github.com/custom-gpt-adapter/custom-gpt-adapter/tests/harness"
)

// An attacker who gets a copy of the database (a dump, a backup, a replica)
// finds no token signing key and no webhook secret in it.
func TestDatabaseDumpHoldsNoSecrets(t *testing.T) {
	t.Parallel()
	e := harness.NewDeployment(t, "embedded")
	if _, err := e.RunCLI("migrate"); err != nil {
		t.Fatal(err)
	}
	var kids []string
	for _, alg := range []string{"ES256", "RS256", "ES256"} { // the first two retire: three keys stored
		out, err := e.With(map[string]string{"CUSTOM_GPT_SIGNING_ALG": alg}).RunCLI("keys", "rotate")
		if err != nil {
			t.Fatal(err)
		}
		var k struct {
			KID string `json:"kid"`
		}
		if err := json.Unmarshal([]byte(out), &k); err != nil || k.KID == "" {
			t.Fatalf("keys rotate printed %q: %v", out, err)
		}
		kids = append(kids, k.KID)
	}
	var secrets []string
	rotating, plain := e.CreateApp("Rotating GPT"), e.CreateApp("Plain GPT")
	secrets = append(secrets, e.SetWebhook(rotating.AppID, "https://hooks.example.com/a"))
	out, err := e.RunCLI("apps", "rotate-webhook-secret", rotating.AppID, "--overlap", "24h")
	if err != nil {
		t.Fatal(err)
	}
	var rotated struct {
		Secret string `json:"secret"`
	}
	if err := json.Unmarshal([]byte(out), &rotated); err != nil || rotated.Secret == "" {
		t.Fatalf("rotate-webhook-secret printed %q: %v", out, err)
	}
	secrets = append(secrets, rotated.Secret, e.SetWebhook(plain.AppID, "https://hooks.example.com/b"))

	dump := pgDump(t, e.Vars["CUSTOM_GPT_DATABASE_URL"])
	// The dump holds the rows, so finding nothing in it means something.
	for _, id := range append(kids, rotating.AppID, plain.AppID) {
		if !strings.Contains(dump, id) {
			t.Fatalf("the dump lacks %s: not a dump of the deployment's database", id)
		}
	}
	for _, found := range privateKeysIn(dump) {
		t.Errorf("the dump holds a private key: %s", found)
	}
	for _, s := range secrets {
		for _, form := range secretForms(t, s) {
			if strings.Contains(dump, form) {
				t.Errorf("the dump holds the webhook secret %s… as %q", s[:10], form)
			}
		}
	}
}

// The scanner finds a key where there is one, so its silence above counts.
func TestPrivateKeyScannerFindsKeys(t *testing.T) {
	t.Parallel()
	priv, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	der, _ := x509.MarshalPKCS8PrivateKey(priv)
	jwk, _ := json.Marshal(jose.JSONWebKey{Key: priv, KeyID: "k", Algorithm: "ES256"})
	pemText := string(pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}))
	for name, dump := range map[string]string{
		"bytea":  "COPY t (k) FROM stdin;\n\\\\x" + hex.EncodeToString(der) + "\n\\.\n",
		"base64": "x\t" + base64.StdEncoding.EncodeToString(der) + "\tz\n",
		"pem":    "x\t" + strings.ReplaceAll(pemText, "\n", "\\n") + "\n",
		"jwk":    "x\t" + string(jwk) + "\n",
	} {
		if len(privateKeysIn(dump)) == 0 {
			t.Errorf("%s: a private key went unnoticed", name)
		}
	}
}

func pgDump(t *testing.T, dbURL string) string {
	t.Helper()
	var out, errOut bytes.Buffer
	cmd := exec.Command("/usr/bin/pg_dump", "--no-owner", "--no-privileges", dbURL)
	cmd.Stdout, cmd.Stderr = &out, &errOut
	if err := cmd.Run(); err != nil {
		t.Fatalf("pg_dump: %v: %s", err, errOut.String())
	}
	return out.String()
}

var (
	hexBytea   = regexp.MustCompile(`\\x([0-9a-fA-F]{64,})`)
	base64ish  = regexp.MustCompile(`[A-Za-z0-9+/_-]{40,}={0,2}`)
	pemBlock   = regexp.MustCompile(`-----BEGIN [A-Z ]*PRIVATE KEY-----(?:\\n|\n|[A-Za-z0-9+/=\s])*?-----END [A-Z ]*PRIVATE KEY-----`)
	jsonObject = regexp.MustCompile(`\{[^{}]*"d"\s*:[^{}]*\}`)
)

// privateKeysIn tries every value of the dump that looks like key material
// (bytea hex, base64 in any alphabet, PEM, JWK) as a private key and returns
// what parsed.
func privateKeysIn(dump string) []string {
	var found []string
	try := func(what string, b []byte) {
		if parsesAsPrivateKey(b) {
			found = append(found, what)
		}
	}
	for _, m := range hexBytea.FindAllStringSubmatch(dump, -1) {
		s := m[1]
		if b, err := hex.DecodeString(s[:len(s)/2*2]); err == nil {
			try("bytea "+abbrev(s), b)
			// A value stored as text and dumped as bytea, or the reverse.
			for _, v := range decodings(string(b)) {
				try("base64 in bytea "+abbrev(s), v)
			}
		}
	}
	for _, s := range base64ish.FindAllString(dump, -1) {
		for _, v := range decodings(s) {
			try("base64 "+abbrev(s), v)
		}
	}
	for _, s := range pemBlock.FindAllString(dump, -1) {
		if block, _ := pem.Decode([]byte(strings.ReplaceAll(s, `\n`, "\n"))); block != nil {
			try("PEM "+abbrev(s), block.Bytes)
		}
	}
	for _, s := range jsonObject.FindAllString(dump, -1) {
		var k jose.JSONWebKey
		if err := k.UnmarshalJSON([]byte(s)); err == nil && !k.IsPublic() {
			found = append(found, "JWK "+abbrev(s))
		}
	}
	return found
}

func decodings(s string) [][]byte {
	var out [][]byte
	for _, enc := range []*base64.Encoding{base64.StdEncoding, base64.RawStdEncoding, base64.URLEncoding, base64.RawURLEncoding} {
		if b, err := enc.DecodeString(s); err == nil {
			out = append(out, b)
		}
	}
	return out
}

func parsesAsPrivateKey(b []byte) bool {
	if _, err := x509.ParsePKCS8PrivateKey(b); err == nil {
		return true
	}
	if _, err := x509.ParseECPrivateKey(b); err == nil {
		return true
	}
	_, err := x509.ParsePKCS1PrivateKey(b)
	return err == nil
}

// secretForms are the ways a whsec_ secret could show in a dump: as printed,
// its base64 part, its key bytes as bytea hex, and the base64 of the whole.
func secretForms(t *testing.T, secret string) []string {
	t.Helper()
	b64 := strings.TrimPrefix(secret, "whsec_")
	key, err := base64.StdEncoding.DecodeString(b64)
	if err != nil || b64 == secret {
		t.Fatalf("not a whsec_ secret: %q", secret)
	}
	return []string{secret, b64, hex.EncodeToString(key), hex.EncodeToString([]byte(secret)),
		base64.StdEncoding.EncodeToString([]byte(secret)), base64.RawURLEncoding.EncodeToString(key)}
}

func abbrev(s string) string {
	if len(s) > 24 {
		return s[:24] + "…"
	}
	return s
}
