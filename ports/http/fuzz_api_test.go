package http_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"mime"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/custom-gpt-adapter/custom-gpt-adapter/app/command"
	"github.com/custom-gpt-adapter/custom-gpt-adapter/internal/pgtest"
	"github.com/custom-gpt-adapter/custom-gpt-adapter/internal/redistest"
	"github.com/custom-gpt-adapter/custom-gpt-adapter/service"
)

// FuzzAPI sends fuzzed requests through the real router, wired by service.New
// against real Postgres and Redis with the embedded Memory Bank, and checks
// what must hold for any input: no 5xx, no 2xx without valid credentials, and
// every error of our API is an RFC 9457 problem whose status is the response's.
//
// op picks the route; id is put into its path, query becomes the raw query
// string; auth picks the credential: the valid one, a raw fuzzed
// Authorization header, "Bearer " + the fuzzed value, or none.
func FuzzAPI(f *testing.F) {
	h := newFuzzDeployment(f)

	type seed struct {
		op               uint8
		id, query        string
		auth             uint8
		header, ct, idem string
		body             string
	}
	longText := strings.Repeat("é", 9000) // 18000 bytes: over the content limit
	nested := strings.Repeat(`{"a":`, 200) + "1" + strings.Repeat("}", 200)
	seeds := []seed{
		{op: opSearch, body: `{"query":"seat preference","limit":5}`},
		{op: opSearch, body: `{"query":"x","limit":1e400}`},
		{op: opSearch, body: `{"query":"x","limit":99999999999999999999}`},
		{op: opSearch, body: `{"query":"x","limit":-1}`},
		{op: opSearch, body: `{"query":"x","limit":"5"}`},
		{op: opSearch, body: `{"query":"x","query":"y"}`},
		{op: opSearch, body: `{"query":"\u0000"}`},
		{op: opSearch, body: `{"query":"` + longText + `"}`},
		{op: opSearch, body: `[]`},
		{op: opSearch, body: `null`},
		{op: opSearch, body: ``},
		{op: opSearch, body: `{"query":"x"} {}`},
		{op: opSearch, ct: "text/plain", body: `{"query":"x"}`},
		{op: opSearch, ct: "application/problem+json; charset=utf-8", body: `{"query":"x"}`},
		{op: opSearch, ct: "application/json; charset", body: `{"query":"x"}`},
		{op: opCreate, body: `{"content":"The user prefers window seats","metadata":{"topic":"travel"},"conversation_id":"c1"}`},
		{op: opCreate, idem: `"retry-1"`, body: `{"content":"I like tea"}`},
		{op: opCreate, idem: `"retry-1"`, body: `{"content":"I like coffee"}`},
		{op: opCreate, idem: "bare-token", body: `{"content":"x"}`},
		{op: opCreate, idem: `"unterminated`, body: `{"content":"x"}`},
		{op: opCreate, idem: strings.Repeat("k", 300), body: `{"content":"x"}`},
		{op: opCreate, body: `{"content":"x","metadata":` + nested + `}`},
		{op: opCreate, body: `{"content":"x","metadata":{"a":[1,2],"b":null}}`},
		{op: opCreate, body: `{"content":"x","metadata":{"":"", "\u0000":"\ud800"}}`},
		{op: opCreate, body: `{"content":"x","unknown":1}`},
		{op: opCreate, body: `{"content":7}`},
		{op: opCreate, body: `{"content":"` + longText + `"}`},
		{op: opCreate, body: "{\"content\":\"\xff\xfe\"}"},
		{op: opCreate, body: nested},
		{op: opList, query: "limit=20"},
		{op: opList, query: "limit=0"},
		{op: opList, query: "limit=-9223372036854775808"},
		{op: opList, query: "limit=99999999999999999999999"},
		{op: opList, query: "limit=abc&cursor=eyJvIjoyMH0"},
		{op: opList, query: "cursor=%00%ff"},
		{op: opList, query: "cursor=" + base64.RawURLEncoding.EncodeToString([]byte(`{"o":-1}`))},
		{op: opList, query: "cursor=" + base64.RawURLEncoding.EncodeToString([]byte(`{"o":1e300}`))},
		{op: opList, query: "%zz=1;&&="},
		{op: opGet, id: "5b7e2a1c-3d4f-4e5a-8b9c-0d1e2f3a4b5c"},
		{op: opGet, id: "\x00"},
		{op: opGet, id: "\xff\xfe"},
		{op: opGet, id: "../../admin"},
		{op: opGet, id: strings.Repeat("a", 4096)},
		{op: opUpdate, id: "5b7e2a1c-3d4f-4e5a-8b9c-0d1e2f3a4b5c", body: `{"content":"aisle seats"}`},
		{op: opUpdate, id: "x", body: `{"content":""}`},
		{op: opUpdate, id: "\x00", body: `{"content":"y"}`},
		{op: opDelete, id: "5b7e2a1c-3d4f-4e5a-8b9c-0d1e2f3a4b5c", idem: `"d-1"`},
		{op: opDelete, id: "日本語"},
		{op: opForget},
		{op: opForget, body: `{"x":1}`},
		{op: opHistory, id: "5b7e2a1c-3d4f-4e5a-8b9c-0d1e2f3a4b5c"},
		{op: opHistory, id: "%00"},
		{op: opOperation, id: "0193a6f0-7c1e-7b3a-9f51-2c4d5e6f7a8b"},
		{op: opOperation, id: "not-a-uuid"},
		{op: opOperation, id: "\x00"},
		{op: opAudit, query: "limit=10&app_id=x"},
		{op: opAudit, query: "app_id=%00&cursor=MQ"},
		{op: opAudit, query: "cursor=LTE&limit=1000000"},
		{op: opToken, ct: "application/x-www-form-urlencoded", body: "grant_type=client_credentials&scope=memories:read"},
		{op: opToken, ct: "application/x-www-form-urlencoded", body: "grant_type=authorization_code&code=abc&redirect_uri=https://x"},
		{op: opToken, ct: "application/x-www-form-urlencoded", body: "grant_type=refresh_token&refresh_token=cgrt_x"},
		{op: opToken, body: "%%%"},
		{op: opAuthorize, query: "response_type=code&client_id=x&redirect_uri=https://x/cb&scope=memories:read&state=s"},
		{op: opAuthorize, query: "client_id=%00&code_challenge_method=plain&code_challenge=x"},
		{op: opLoginPage, query: "id=%00"},
		{op: opLoginPage, query: "id=" + strings.Repeat("x", 2000)},
		{op: opLogin, ct: "application/x-www-form-urlencoded", body: "id=%00&email=a@b&password=x&csrf=x"},
		{op: opConsent, ct: "application/x-www-form-urlencoded", body: "id=\xff&decision=allow&csrf="},
		{op: opRevoke, ct: "application/x-www-form-urlencoded", body: "token=cgrt_x&token_type_hint=refresh_token"},
		{op: opIntrospect, ct: "application/x-www-form-urlencoded", body: "token=a.b.c"},
		{op: opUserinfo, auth: authBearer, header: "a.b.c"},
		{op: opRaw, id: "/memories/x/history/extra"},
		{op: opRaw, id: "/../../metrics"},
		{op: opSearch, auth: authNone, body: `{"query":"x"}`},
		{op: opSearch, auth: authRaw, header: "Bearer", body: `{"query":"x"}`},
		{op: opSearch, auth: authRaw, header: "bearer    ", body: `{"query":"x"}`},
		{op: opSearch, auth: authRaw, header: "Basic Zm9vOmJhcg==", body: `{"query":"x"}`},
		{op: opCreate, auth: authBearer, header: "cgpt_" + strings.Repeat("A", 43), body: `{"content":"x"}`},
		{op: opCreate, auth: authBearer, header: "cgpt_\x00", body: `{"content":"x"}`},
		{op: opList, auth: authBearer, header: "eyJhbGciOiJub25lIn0.eyJzdWIiOiJ4In0."},
		{op: opList, auth: authBearer, header: "eyJhbGciOiJIUzI1NiIsInR5cCI6ImF0K2p3dCJ9.e30.AAAA"},
		{op: opList, auth: authBearer, header: "eyJhbGciOiJFUzI1NiIsInR5cCI6ImF0K2p3dCIsImtpZCI6IngifQ.e30.AAAA"},
		{op: opList, auth: authBearer, header: "a.b.c"},
		{op: opList, auth: authBearer, header: "..", query: "limit=1"},
		{op: opAudit, auth: authBearer, header: "not-the-admin-token-0123"},
		{op: opToken, auth: authRaw, header: "Basic " + base64.StdEncoding.EncodeToString([]byte("x:y")), ct: "application/x-www-form-urlencoded", body: "grant_type=client_credentials"},
	}
	for _, s := range seeds {
		f.Add(s.op, s.id, s.query, s.auth, s.header, s.ct, s.idem, []byte(s.body))
	}

	f.Fuzz(func(t *testing.T, op uint8, id, query string, auth uint8, header, ct, idem string, body []byte) {
		h.check(t, op, id, query, auth, header, ct, idem, body)
	})
}

// Routes FuzzAPI exercises, by op (taken modulo len(fuzzRoutes)).
const (
	opSearch = iota
	opCreate
	opList
	opGet
	opUpdate
	opDelete
	opForget
	opHistory
	opOperation
	opAudit
	opToken
	opRaw
	opAuthorize
	opLoginPage
	opLogin
	opConsent
	opRevoke
	opIntrospect
	opUserinfo
)

type fuzzRoute struct {
	method, path string // {id} is replaced by the fuzzed id
	query, body  bool   // whether the fuzzed query string and body are sent
	public       bool   // a page anyone may see: 2xx without credentials is fine
}

var fuzzRoutes = []fuzzRoute{
	opSearch:    {http.MethodPost, "/api/v1/search", false, true, false},
	opCreate:    {http.MethodPost, "/api/v1/memories", false, true, false},
	opList:      {http.MethodGet, "/api/v1/memories", true, false, false},
	opGet:       {http.MethodGet, "/api/v1/memories/{id}", true, false, false},
	opUpdate:    {http.MethodPatch, "/api/v1/memories/{id}", false, true, false},
	opDelete:    {http.MethodDelete, "/api/v1/memories/{id}", false, false, false},
	opForget:    {http.MethodDelete, "/api/v1/memories", false, true, false},
	opHistory:   {http.MethodGet, "/api/v1/memories/{id}/history", false, false, false},
	opOperation: {http.MethodGet, "/api/v1/operations/{id}", false, false, false},
	opAudit:     {http.MethodGet, "/admin/v1/audit", true, false, false},
	opToken:     {http.MethodPost, "/oauth/token", true, true, false},
	opRaw:       {http.MethodPost, "/api/v1{id}", true, true, false},
	// The authorization server: its pages answer anyone, its endpoints need
	// client credentials or a token.
	opAuthorize:  {http.MethodGet, "/oauth/authorize", true, false, true},
	opLoginPage:  {http.MethodGet, "/oauth/login", true, false, true},
	opLogin:      {http.MethodPost, "/oauth/login", true, true, true},
	opConsent:    {http.MethodPost, "/oauth/consent", true, true, true},
	opRevoke:     {http.MethodPost, "/oauth/revoke", false, true, false},
	opIntrospect: {http.MethodPost, "/oauth/introspect", false, true, false},
	opUserinfo:   {http.MethodGet, "/oauth/userinfo", true, false, false},
}

// Credential choices of FuzzAPI, by auth modulo 4.
const (
	authValid  = iota // the app's API key; the admin token on /admin; client credentials on /oauth/token
	authRaw           // the fuzzed header as the whole Authorization value
	authBearer        // "Bearer " + the fuzzed header
	authNone          // no Authorization header
)

type fuzzDeployment struct {
	handler      http.Handler
	adminToken   string // random, like the API key, so no input can hold it
	apiKey       string
	clientID     string
	clientSecret string
	logs         *syncBuffer
}

// newFuzzDeployment builds the service once per fuzz process: its own
// database and stream prefix, auto-migrated, and one registered application.
func newFuzzDeployment(tb testing.TB) *fuzzDeployment {
	tb.Helper()
	adminToken := "admin-" + uuid.NewString()
	var key [32]byte
	_, _ = rand.Read(key[:])
	vars := map[string]string{
		"CUSTOM_GPT_DATABASE_URL":  pgtest.NewURL(tb),
		"CUSTOM_GPT_REDIS_URL":     redistest.URL(),
		"CUSTOM_GPT_STREAM_PREFIX": redistest.Prefix(tb),
		"CUSTOM_GPT_ADMIN_TOKEN":   adminToken,
		"CUSTOM_GPT_AUTO_MIGRATE":  "true",
		"CUSTOM_GPT_SECRETS_KEY":   base64.StdEncoding.EncodeToString(key[:]),
		// High rates keep the token and authorization endpoints answering the
		// fuzzer rather than 429, so their parsing is what gets exercised.
		"CUSTOM_GPT_TOKEN_RATE":     "100000",
		"CUSTOM_GPT_AUTHORIZE_RATE": "100000",
	}
	cfg, err := service.LoadConfig(func(k string) string { return vars[k] })
	if err != nil {
		tb.Fatal(err)
	}
	logs := &syncBuffer{}
	log := slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelWarn}))
	ctx := context.Background()
	svc, err := service.New(ctx, cfg, log)
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(svc.Close)
	handler, err := svc.Handler()
	if err != nil {
		tb.Fatal(err)
	}
	reg, err := svc.App().Commands.RegisterApp.Handle(ctx, command.RegisterApp{AppID: uuid.Must(uuid.NewV7()).String(), Name: "fuzz"})
	if err != nil {
		tb.Fatal(err)
	}
	return &fuzzDeployment{handler: handler, adminToken: adminToken, apiKey: reg.APIKey, clientID: reg.App.ID(), clientSecret: reg.ClientSecret, logs: logs}
}

func (d *fuzzDeployment) check(t *testing.T, op uint8, id, query string, auth uint8, header, ct, idem string, body []byte) {
	route := fuzzRoutes[int(op)%len(fuzzRoutes)]
	path := strings.Replace(route.path, "{id}", id, 1)
	req := httptest.NewRequest(route.method, "/", nil)
	req.URL = &url.URL{Path: path}
	req.RequestURI = ""
	if route.query {
		req.URL.RawQuery = query
	}
	if route.body {
		req.Body = io.NopCloser(bytes.NewReader(body))
		req.ContentLength = int64(len(body))
	}
	valid := false
	switch auth % 4 {
	case authValid:
		valid = true
		switch {
		case strings.HasPrefix(path, "/admin/"):
			req.Header.Set("Authorization", "Bearer "+d.adminToken)
		case strings.HasPrefix(path, "/oauth/"):
			req.SetBasicAuth(url.QueryEscape(d.clientID), url.QueryEscape(d.clientSecret))
		default:
			req.Header.Set("Authorization", "Bearer "+d.apiKey)
		}
	case authRaw:
		req.Header.Set("Authorization", header)
	case authBearer:
		req.Header.Set("Authorization", "Bearer "+header)
	}
	if ct != "" {
		req.Header.Set("Content-Type", ct)
	}
	if idem != "" {
		req.Header.Set("Idempotency-Key", idem)
	}
	// A real server never hands the router a header value it could not parse.
	for _, vs := range req.Header {
		for _, v := range vs {
			if !validHeaderValue(v) {
				return
			}
		}
	}

	d.logs.Reset()
	// Fuzzing has no timeout of its own: a request that hangs would stall a
	// worker silently, so a generous deadline turns it into a failure.
	ctx, cancel := context.WithTimeout(req.Context(), 30*time.Second)
	defer cancel()
	req = req.WithContext(ctx)
	rec := httptest.NewRecorder()
	d.handler.ServeHTTP(rec, req)
	status := rec.Code
	describe := func() string {
		return fmt.Sprintf("%s %q (query %q, auth mode %d, Authorization %q, Content-Type %q, Idempotency-Key %q, body %q)\n=> %d %s %s\nlogs:\n%s",
			route.method, path, req.URL.RawQuery, auth%4, req.Header.Get("Authorization"), ct, idem, truncate(body),
			status, rec.Header().Get("Content-Type"), truncate(rec.Body.Bytes()), d.logs.String())
	}

	if ctx.Err() != nil {
		t.Fatalf("request did not finish within 30s: %s", describe())
	}
	if status >= 500 {
		t.Fatalf("server error for %s", describe())
	}
	if !valid && !route.public && status < 300 {
		t.Fatalf("success without valid credentials: %s", describe())
	}
	ours := strings.HasPrefix(path, "/api/v1") || strings.HasPrefix(path, "/admin/v1")
	if !valid && ours && route != fuzzRoutes[opRaw] && status != http.StatusUnauthorized {
		t.Fatalf("want 401 without valid credentials: %s", describe())
	}
	mt, _, _ := mime.ParseMediaType(rec.Header().Get("Content-Type"))
	switch {
	case status >= 400 && ours:
		if mt != "application/problem+json" {
			t.Fatalf("error is not application/problem+json: %s", describe())
		}
		var p struct {
			Type   string `json:"type"`
			Status int    `json:"status"`
		}
		if err := json.Unmarshal(rec.Body.Bytes(), &p); err != nil || p.Status != status || !strings.HasPrefix(p.Type, "urn:custom-gpt-adapter:problem:") {
			t.Fatalf("malformed problem (%v): %s", err, describe())
		}
	case status < 300 && ours:
		if mt != "application/json" || !json.Valid(rec.Body.Bytes()) {
			t.Fatalf("success is not a JSON document: %s", describe())
		}
	}
}

// validHeaderValue is what net/http accepts in a field value (RFC 9110 5.5):
// no control characters other than tab.
func validHeaderValue(v string) bool {
	for i := 0; i < len(v); i++ {
		if c := v[i]; (c < 0x20 && c != '\t') || c == 0x7f {
			return false
		}
	}
	return true
}

func truncate(b []byte) string {
	const max = 512
	if len(b) > max {
		return string(b[:max]) + "…"
	}
	return string(b)
}

// syncBuffer collects the service's log lines for the report of a failure.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.buf.Len() > 64<<10 {
		return len(p), nil
	}
	return b.buf.Write(p)
}

func (b *syncBuffer) Reset() {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.buf.Reset()
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}
