package harness

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"sync"
	"testing"
	"time"

	goredis "github.com/redis/go-redis/v9"

	"github.com/custom-gpt-adapter/custom-gpt-adapter/service"
)

// NewWebhookEnv is a deployment whose webhooks may reach the loopback
// receivers of the tests, and whose dispatchers look for work often.
func NewWebhookEnv(t *testing.T) *Deployment {
	e := NewDeployment(t, "embedded")
	e.Vars["CUSTOM_GPT_WEBHOOK_ALLOW_PRIVATE"] = "true"
	e.Vars["CUSTOM_GPT_WEBHOOK_POLL_INTERVAL"] = "20ms"
	e.Vars["CUSTOM_GPT_WEBHOOK_TIMEOUT"] = "5s"
	return e
}

// testClock is a clock the test moves by hand.
type testClock struct {
	mu  sync.Mutex
	now time.Time
}

func NewTestClock() *testClock { return &testClock{now: time.Now().UTC()} }

func (c *testClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *testClock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

// StartWorker runs a worker built with opts (a test clock, say) until the test ends.
func (e *Deployment) StartWorker(opts ...service.Option) {
	e.T.Helper()
	cfg, err := service.LoadConfig(e.Getenv)
	if err != nil {
		e.T.Fatal(err)
	}
	logs := &lockedWriter{t: e.T}
	ctx, cancel := context.WithCancel(context.Background())
	svc, err := service.New(ctx, cfg, newLogger(logs, cfg.LogLevel), opts...)
	if err != nil {
		cancel()
		e.T.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- svc.RunWorker(ctx) }()
	e.T.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			e.T.Errorf("worker exited with %v", err)
		}
		svc.Close()
		logs.close()
	})
}

func DecodeJSON(s string, v any) error { return json.Unmarshal([]byte(s), v) }

type hookRequest struct {
	Header http.Header
	Body   []byte
}

// hookReceiver records what it is sent and answers with respond(n), n
// counting from 1.
type hookReceiver struct {
	Srv     *httptest.Server
	mu      sync.Mutex
	reqs    []hookRequest
	respond func(n int, w http.ResponseWriter)
}

func NewHookReceiver(t *testing.T, respond func(n int, w http.ResponseWriter)) *hookReceiver {
	h := &hookReceiver{respond: respond}
	h.Srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		h.mu.Lock()
		h.reqs = append(h.reqs, hookRequest{Header: r.Header.Clone(), Body: body})
		n, respond := len(h.reqs), h.respond
		h.mu.Unlock()
		if respond == nil {
			w.WriteHeader(http.StatusNoContent)
			return
		}
		respond(n, w)
	}))
	t.Cleanup(h.Srv.Close)
	return h
}

func (h *hookReceiver) SetRespond(f func(n int, w http.ResponseWriter)) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.respond = f
}

func (h *hookReceiver) Requests() []hookRequest {
	h.mu.Lock()
	defer h.mu.Unlock()
	return append([]hookRequest(nil), h.reqs...)
}

func Status(code int) func(int, http.ResponseWriter) {
	return func(_ int, w http.ResponseWriter) { w.WriteHeader(code) }
}

type webhookBody struct {
	Type      string         `json:"type"`
	Timestamp time.Time      `json:"timestamp"`
	Data      map[string]any `json:"data"`
}

func (r hookRequest) Decode(t *testing.T) webhookBody {
	t.Helper()
	var b webhookBody
	if err := json.Unmarshal(r.Body, &b); err != nil {
		t.Fatalf("webhook body %s: %v", r.Body, err)
	}
	return b
}

// SetWebhook registers url for the app and returns the secret printed.
func (e *Deployment) SetWebhook(appID, url string) string {
	e.T.Helper()
	out, err := e.RunCLI("apps", "set-webhook", appID, url)
	if err != nil {
		e.T.Fatalf("apps set-webhook: %v", err)
	}
	var r struct {
		Secret string `json:"secret"`
		Status string `json:"status"`
	}
	if err := json.Unmarshal([]byte(out), &r); err != nil || r.Secret == "" || r.Status != "active" {
		e.T.Fatalf("apps set-webhook printed %q: %v", out, err)
	}
	return r.Secret
}

type AttemptOut struct {
	Attempt     int       `json:"attempt"`
	Manual      bool      `json:"manual"`
	AttemptedAt time.Time `json:"attempted_at"`
	HTTPStatus  int       `json:"http_status"`
	Error       string    `json:"error"`
}

type deliveryOut struct {
	DeliveryID    string       `json:"delivery_id"`
	EventID       string       `json:"event_id"`
	EventType     string       `json:"event_type"`
	Status        string       `json:"status"`
	Attempts      int          `json:"attempts"`
	NextAttemptAt *time.Time   `json:"next_attempt_at"`
	Failure       string       `json:"failure"`
	AttemptLog    []AttemptOut `json:"attempt_log"`
}

type DeliveriesOut struct {
	Endpoint *struct {
		URL            string `json:"url"`
		Status         string `json:"status"`
		DisabledReason string `json:"disabled_reason"`
	} `json:"endpoint"`
	Deliveries []deliveryOut `json:"deliveries"`
}

// Deliveries runs `webhooks deliveries APP_ID`.
func (e *Deployment) Deliveries(appID string) DeliveriesOut {
	e.T.Helper()
	out, err := e.RunCLI("webhooks", "deliveries", appID)
	if err != nil {
		e.T.Fatalf("webhooks deliveries: %v", err)
	}
	var d DeliveriesOut
	if err := json.Unmarshal([]byte(out), &d); err != nil {
		e.T.Fatalf("webhooks deliveries printed %q: %v", out, err)
	}
	return d
}

// EventsConsumedForWebhooks tells whether the ScheduleWebhooks consumer group
// has read and acknowledged n entries of the event stream.
func (e *Deployment) EventsConsumedForWebhooks(rdb *goredis.Client, event string, n int64) bool {
	prefix := e.Vars["CUSTOM_GPT_STREAM_PREFIX"]
	groups, err := rdb.XInfoGroups(context.Background(), prefix+".events."+event).Result()
	if err != nil {
		return false
	}
	for _, g := range groups {
		if g.Name == prefix+".ScheduleWebhooks" {
			return g.EntriesRead >= n && g.Pending == 0
		}
	}
	return false
}

func UnixHeader(h http.Header) int64 {
	n, _ := strconv.ParseInt(h.Get("webhook-timestamp"), 10, 64)
	return n
}
