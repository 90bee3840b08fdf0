package idempotency_test

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/custom-gpt-adapter/custom-gpt-adapter/domain/errs"
	"github.com/custom-gpt-adapter/custom-gpt-adapter/domain/idempotency"
)

func TestParseKeyAcceptsQuotedAndBareKeys(t *testing.T) {
	t.Parallel()
	cases := map[string]string{
		`"8e03978e-40d5-43e8-bc93-6894a57f9324"`:     "8e03978e-40d5-43e8-bc93-6894a57f9324",
		`8e03978e-40d5-43e8-bc93-6894a57f9324`:       "8e03978e-40d5-43e8-bc93-6894a57f9324",
		`  "abc"	`:                                   "abc",
		`"with space"`:                               "with space",
		`"quote \" and backslash \\"`:                `quote " and backslash \`,
		`"` + strings.Repeat("k", 255) + `"`:         strings.Repeat("k", 255),
		strings.Repeat("k", 255):                     strings.Repeat("k", 255),
		`"~!#$%&'()*+,-./:;<=>?@[]^_{|}` + "`" + `"`: "~!#$%&'()*+,-./:;<=>?@[]^_{|}`",
		`a,b;c=d`: "a,b;c=d",
	}
	for header, want := range cases {
		k, err := idempotency.ParseKey(header)
		if err != nil || k.String() != want {
			t.Errorf("ParseKey(%q) = %q, %v; want %q", header, k, err, want)
		}
	}
	quoted, _ := idempotency.ParseKey(`"same"`)
	bare, _ := idempotency.ParseKey(`same`)
	if quoted != bare {
		t.Error("the quoted and bare spellings of a value are different keys")
	}
}

func TestParseKeyRefusesEverythingElse(t *testing.T) {
	t.Parallel()
	cases := map[string]string{
		``:                                      "idempotency-key-empty",
		`   `:                                   "idempotency-key-empty",
		`""`:                                    "idempotency-key-empty",
		`"` + strings.Repeat("k", 256) + `"`:    "idempotency-key-too-long",
		strings.Repeat("k", 256):                "idempotency-key-too-long",
		`"unterminated`:                         "idempotency-key-malformed",
		`"`:                                     "idempotency-key-malformed",
		`"a"b`:                                  "idempotency-key-malformed",
		`"a";param=1`:                           "idempotency-key-malformed",
		`"a", "b"`:                              "idempotency-key-malformed",
		`"bad \n escape"`:                       "idempotency-key-malformed",
		`"trailing backslash\"`:                 "idempotency-key-malformed",
		`"tab	inside"`:                          "idempotency-key-malformed",
		`"é"`:                                   "idempotency-key-malformed",
		`bare with space`:                       "idempotency-key-malformed",
		`bare"quote`:                            "idempotency-key-malformed",
		`bare\backslash`:                        "idempotency-key-malformed",
		"bare\x7f":                              "idempotency-key-malformed",
		"bare\x00":                              "idempotency-key-malformed",
		"ключ":                                  "idempotency-key-malformed",
		`"` + strings.Repeat("é", 100) + `"`:    "idempotency-key-malformed",
		`"` + strings.Repeat(`\\`, 256) + `"`:   "idempotency-key-too-long",
		`"` + strings.Repeat(`\\`, 255) + `"x"`: "idempotency-key-malformed",
	}
	for header, slug := range cases {
		_, err := idempotency.ParseKey(header)
		var e *errs.Error
		if !errors.As(err, &e) || e.Kind != errs.KindInvalid || e.Slug != slug || e.Field != "Idempotency-Key" || e.Detail == "" {
			t.Errorf("ParseKey(%q): %v, want %s on Idempotency-Key", header, err, slug)
		}
	}
}

func TestFingerprintCoversMethodTargetAndExactBody(t *testing.T) {
	t.Parallel()
	base := idempotency.NewFingerprint("POST", "/api/v1/memories", []byte(`{"content":"x"}`))
	if again := idempotency.NewFingerprint("POST", "/api/v1/memories", []byte(`{"content":"x"}`)); again != base {
		t.Fatal("the same request has two fingerprints")
	}
	others := []idempotency.Fingerprint{
		idempotency.NewFingerprint("PATCH", "/api/v1/memories", []byte(`{"content":"x"}`)),
		idempotency.NewFingerprint("POST", "/api/v1/memories/1", []byte(`{"content":"x"}`)),
		idempotency.NewFingerprint("POST", "/api/v1/memories", []byte(`{"content":"y"}`)),
		idempotency.NewFingerprint("POST", "/api/v1/memories", []byte(`{"content": "x"}`)),
		idempotency.NewFingerprint("POST", "/api/v1/memories", nil),
	}
	for i, f := range others {
		if f == base {
			t.Errorf("other request %d has the same fingerprint", i)
		}
	}
	// Bytes moved across the parts' boundaries make another fingerprint.
	if idempotency.NewFingerprint("POST", "/a", []byte("b")) == idempotency.NewFingerprint("POST", "/ab", nil) {
		t.Error("target and body are not separated")
	}
	if idempotency.NewFingerprint("PO", "ST/a", nil) == idempotency.NewFingerprint("POST", "/a", nil) {
		t.Error("method and target are not separated")
	}
	if len(base.String()) != 64 {
		t.Errorf("hex fingerprint %q", base)
	}
	back, err := idempotency.FingerprintFromBytes(base[:])
	if err != nil || back != base {
		t.Fatalf("round trip: %v", err)
	}
	if _, err := idempotency.FingerprintFromBytes([]byte("short")); err == nil {
		t.Fatal("a short fingerprint was accepted")
	}
}

func TestStorableKeepsAnswersAndReleasesTransientFailures(t *testing.T) {
	t.Parallel()
	for _, status := range []int{200, 201, 202, 204, 400, 401, 403, 404, 413, 415, 422} {
		if !idempotency.Storable(status) {
			t.Errorf("%d is not stored", status)
		}
	}
	for _, status := range []int{100, 301, 304, 409, 429, 500, 502, 503, 504} {
		if idempotency.Storable(status) {
			t.Errorf("%d is stored", status)
		}
	}
}

func TestDecide(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	fp := idempotency.NewFingerprint("POST", "/api/v1/memories", []byte(`{"content":"x"}`))
	other := idempotency.NewFingerprint("POST", "/api/v1/memories", []byte(`{"content":"y"}`))
	stored := idempotency.Response{Status: 202, Header: map[string][]string{"Location": {"/x"}}, Body: []byte(`{}`)}
	inFlight := func(lockedUntil time.Time) *idempotency.Record {
		return &idempotency.Record{Fingerprint: fp, Status: idempotency.StatusInFlight, LockedUntil: lockedUntil,
			CreatedAt: now.Add(-time.Minute), ExpiresAt: now.Add(idempotency.Retention - time.Minute)}
	}
	completed := &idempotency.Record{Fingerprint: fp, Status: idempotency.StatusCompleted, Response: stored,
		CreatedAt: now.Add(-time.Hour), ExpiresAt: now.Add(idempotency.Retention - time.Hour)}
	expired := &idempotency.Record{Fingerprint: other, Status: idempotency.StatusCompleted, Response: stored,
		CreatedAt: now.Add(-idempotency.Retention), ExpiresAt: now}

	cases := []struct {
		name      string
		rec       *idempotency.Record
		fp        idempotency.Fingerprint
		want      idempotency.Outcome
		takenOver bool
	}{
		{"no record", nil, fp, idempotency.Proceed, false},
		{"expired record, whatever its body", expired, fp, idempotency.Proceed, false},
		{"completed, same body", completed, fp, idempotency.Replay, false},
		{"completed, other body", completed, other, idempotency.Mismatch, false},
		{"in flight, same body", inFlight(now.Add(time.Second)), fp, idempotency.InFlight, false},
		{"in flight, other body", inFlight(now.Add(time.Second)), other, idempotency.Mismatch, false},
		{"lock expired, same body", inFlight(now), fp, idempotency.Proceed, true},
		{"lock expired, other body", inFlight(now.Add(-time.Second)), other, idempotency.Mismatch, false},
	}
	for _, c := range cases {
		d := idempotency.Decide(c.rec, c.fp, now)
		if d.Outcome != c.want || d.TakenOver != c.takenOver {
			t.Errorf("%s: %s (taken over %v), want %s (%v)", c.name, d.Outcome, d.TakenOver, c.want, c.takenOver)
		}
		if d.Outcome == idempotency.Replay && (d.Response.Status != 202 || string(d.Response.Body) != `{}`) {
			t.Errorf("%s: replays %+v", c.name, d.Response)
		}
	}
}
