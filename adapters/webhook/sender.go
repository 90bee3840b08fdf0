// Package webhook sends webhook deliveries over HTTP, refusing to connect to
// any address a webhook must not reach.
package webhook

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"strconv"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"go.opentelemetry.io/otel/trace"

	"github.com/custom-gpt-adapter/custom-gpt-adapter/adapters/outbound"
	"github.com/custom-gpt-adapter/custom-gpt-adapter/domain/webhook"
	"github.com/custom-gpt-adapter/custom-gpt-adapter/internal/tracing"
)

// Config tunes the sender.
type Config struct {
	Timeout      time.Duration // per attempt, connection included; default outbound's (10s)
	AllowPrivate bool          // reach loopback and private addresses (local use, tests)
	UserAgent    string
	Registerer   prometheus.Registerer // attempt metrics; nil: not registered
	// Tracer makes each attempt of a traced delivery a client span in its
	// delivery's trace; nil: none.
	Tracer trace.TracerProvider
}

// Sender posts deliveries through outbound's client: it never follows
// redirects, ignores proxy settings from the environment, and checks every
// address it dials.
type Sender struct {
	client    *http.Client
	userAgent string
	duration  *prometheus.HistogramVec
}

func NewSender(cfg Config) *Sender {
	if cfg.UserAgent == "" {
		cfg.UserAgent = "custom-gpt-adapter-webhooks/1"
	}
	s := &Sender{
		client:    tracing.Client(outbound.NewClient(outbound.Config{Timeout: cfg.Timeout, AllowPrivate: cfg.AllowPrivate}), cfg.Tracer, "webhook"),
		userAgent: cfg.UserAgent,
		duration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "custom_gpt_webhook_attempt_duration_seconds",
			Help:    "Time taken by webhook delivery attempts, by result (2xx, 3xx, 4xx, 5xx, error).",
			Buckets: []float64{.005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10, 30},
		}, []string{"result"}),
	}
	if cfg.Registerer != nil {
		cfg.Registerer.MustRegister(s.duration)
	}
	// Every result's series exists from the start, so a rate over it is 0
	// rather than absent until the first attempt.
	for _, result := range []string{"2xx", "3xx", "4xx", "5xx", "error"} {
		s.duration.WithLabelValues(result)
	}
	return s
}

// maxResponseBody is read (and discarded) so the connection can be reused.
const maxResponseBody = 64 << 10

// Send makes one attempt. Every outcome is a Result: transport errors are
// recorded like HTTP failures, not returned.
func (s *Sender) Send(ctx context.Context, r webhook.Message) webhook.Result {
	// Sent hours later by a dispatcher that polls, an attempt is still part
	// of the trace of the event it delivers.
	ctx = tracing.WithTraceParent(ctx, r.Trace)
	start := time.Now()
	res := s.send(ctx, r)
	res.Duration = time.Since(start)
	s.duration.WithLabelValues(resultLabel(res)).Observe(res.Duration.Seconds())
	return res
}

func (s *Sender) send(ctx context.Context, r webhook.Message) webhook.Result {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, r.URL, bytes.NewReader(r.Body))
	if err != nil {
		return webhook.Result{Err: "invalid request: " + err.Error()}
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", s.userAgent)
	req.Header.Set("webhook-id", r.ID)
	req.Header.Set("webhook-timestamp", strconv.FormatInt(r.Timestamp.Unix(), 10))
	req.Header.Set("webhook-signature", r.Signature)
	resp, err := s.client.Do(req)
	if err != nil {
		return webhook.Result{Err: describe(err)}
	}
	defer resp.Body.Close()
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, maxResponseBody))
	res := webhook.Result{StatusCode: resp.StatusCode}
	if resp.StatusCode == http.StatusTooManyRequests || resp.StatusCode == http.StatusServiceUnavailable {
		res.RetryAfter = retryAfter(resp.Header.Get("Retry-After"), time.Now())
	}
	return res
}

func describe(err error) string {
	if fe, ok := outbound.Refused(err); ok {
		return "refused to connect: " + fe.Error()
	}
	switch {
	case errors.Is(err, context.DeadlineExceeded), isTimeout(err):
		return "timed out: " + err.Error()
	}
	return err.Error()
}

func isTimeout(err error) bool {
	var ne net.Error
	return errors.As(err, &ne) && ne.Timeout()
}

// retryAfter reads Retry-After as seconds or an HTTP date (RFC 9110 10.2.3).
func retryAfter(v string, now time.Time) time.Duration {
	if v == "" {
		return 0
	}
	if n, err := strconv.ParseInt(v, 10, 64); err == nil {
		if n <= 0 {
			return 0
		}
		return time.Duration(min(n, int64(30*24*time.Hour/time.Second))) * time.Second
	}
	if t, err := http.ParseTime(v); err == nil && t.After(now) {
		return t.Sub(now)
	}
	return 0
}

func resultLabel(r webhook.Result) string {
	if r.Err != "" || r.StatusCode < 200 || r.StatusCode > 599 {
		return "error"
	}
	return strconv.Itoa(r.StatusCode/100) + "xx"
}
