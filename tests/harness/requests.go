package harness

import (
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"time"
)

// IdemCall posts body verbatim with an Idempotency-Key header (none when key is
// empty) and decodes the JSON answer.
func (e *Deployment) IdemCall(token, method, path, key, body string) (int, http.Header, map[string]any) {
	e.T.Helper()
	req, _ := http.NewRequest(method, e.Base+path, strings.NewReader(body))
	req.Header.Set("Authorization", "Bearer "+token)
	req.Header.Set("Content-Type", "application/json")
	if key != "" {
		req.Header.Set("Idempotency-Key", key)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		e.T.Errorf("%s %s: %v", method, path, err)
		return 0, nil, nil
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	var m map[string]any
	if len(raw) > 0 {
		if err := json.Unmarshal(raw, &m); err != nil {
			e.T.Errorf("%s %s answered %d with non-JSON %q", method, path, resp.StatusCode, raw)
		}
	}
	return resp.StatusCode, resp.Header, m
}

// LimitsOut is what `apps set-limits` prints, and what `apps list` shows of each app.
type LimitsOut struct {
	AppID      string `json:"app_id"`
	RateLimits struct {
		App  struct{ RPS, Burst int } `json:"app"`
		User struct{ RPS, Burst int } `json:"user"`
	} `json:"rate_limits"`
	Overrides map[string]int `json:"rate_limit_overrides"`
}

func (e *Deployment) SetLimits(args ...string) LimitsOut {
	e.T.Helper()
	out, err := e.RunCLI(append([]string{"apps", "set-limits"}, args...)...)
	if err != nil {
		e.T.Fatalf("set-limits %v: %v", args, err)
	}
	var l LimitsOut
	if err := json.Unmarshal([]byte(out), &l); err != nil {
		e.T.Fatalf("set-limits printed %q: %v", out, err)
	}
	return l
}

type Answer struct {
	Code int
	Hdr  http.Header
	Body map[string]any
}

// Send is call with extra request headers.
func (e *Deployment) Send(method, path, token string, hdr map[string]string, body any) Answer {
	e.T.Helper()
	var r io.Reader
	if body != nil {
		buf, _ := json.Marshal(body)
		r = strings.NewReader(string(buf))
	}
	req, _ := http.NewRequest(method, e.Base+path, r)
	req.Header.Set("Authorization", "Bearer "+token)
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	for k, v := range hdr {
		req.Header.Set(k, v)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		e.T.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	var m map[string]any
	raw, _ := io.ReadAll(resp.Body)
	_ = json.Unmarshal(raw, &m)
	return Answer{resp.StatusCode, resp.Header, m}
}

// UntilRefused sends until an answer is not a success and returns how many
// Succeeded first and the refusal. With GCRA a budget of burst B at rate R
// serves B quick requests, plus at most R a second for the time they took, so
// callers bound the count by the elapsed time instead of assuming speed.
func (e *Deployment) UntilRefused(send func(i int) Answer) (served int, refused Answer, elapsed time.Duration) {
	e.T.Helper()
	start := time.Now()
	for i := range 50 {
		a := send(i)
		if a.Code >= 300 {
			return served, a, time.Since(start)
		}
		if a.Hdr.Get("RateLimit") == "" || a.Hdr.Get("RateLimit-Policy") == "" {
			e.T.Fatalf("request %d answered %d without RateLimit fields: %v", i+1, a.Code, a.Hdr)
		}
		served++
	}
	e.T.Fatalf("50 requests, none refused")
	return
}
