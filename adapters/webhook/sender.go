// Package webhook sends webhook deliveries over HTTP, refusing to connect to
// any address a webhook must not reach.
package webhook

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/netip"
	"strconv"
	"syscall"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/custom-gpt-adapter/custom-gpt-adapter/domain/netaddr"
	"github.com/custom-gpt-adapter/custom-gpt-adapter/domain/webhook"
)

// Config tunes the sender.
type Config struct {
	Timeout      time.Duration // per attempt, connection included; default 10s
	AllowPrivate bool          // reach loopback and private addresses (local use, tests)
	UserAgent    string
	Registerer   prometheus.Registerer // attempt metrics; nil: not registered
}

// Sender posts deliveries. It never follows redirects, ignores proxy
// settings from the environment, and checks every address it dials.
type Sender struct {
	client    *http.Client
	userAgent string
	duration  *prometheus.HistogramVec
}

func NewSender(cfg Config) *Sender {
	if cfg.Timeout <= 0 {
		cfg.Timeout = 10 * time.Second
	}
	if cfg.UserAgent == "" {
		cfg.UserAgent = "custom-gpt-adapter-webhooks/1"
	}
	dialer := &net.Dialer{Timeout: cfg.Timeout, KeepAlive: 30 * time.Second}
	if !cfg.AllowPrivate {
		dialer.Control = refuseForbidden
	}
	transport := &http.Transport{
		Proxy:                 nil, // a proxy would dial for us, past the address check
		DialContext:           dialer.DialContext,
		ForceAttemptHTTP2:     true,
		MaxIdleConns:          100,
		MaxIdleConnsPerHost:   4,
		IdleConnTimeout:       90 * time.Second,
		TLSHandshakeTimeout:   cfg.Timeout,
		ResponseHeaderTimeout: cfg.Timeout,
	}
	s := &Sender{
		client: &http.Client{
			Transport: transport,
			Timeout:   cfg.Timeout,
			CheckRedirect: func(*http.Request, []*http.Request) error {
				return http.ErrUseLastResponse // a 3xx is the answer, not a pointer to follow
			},
		},
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
	return s
}

// refuseForbidden runs after name resolution, on the very address about to be
// connected to, so a name that resolves (or re-resolves) to a private address
// is refused as surely as a literal one.
func refuseForbidden(network, address string, _ syscall.RawConn) error {
	ap, err := netip.ParseAddrPort(address)
	if err != nil {
		return fmt.Errorf("webhook dial %s %q: %w", network, address, err)
	}
	if err := netaddr.CheckAddress(ap.Addr()); err != nil {
		return fmt.Errorf("refused to connect: %w", err)
	}
	return nil
}

// maxResponseBody is read (and discarded) so the connection can be reused.
const maxResponseBody = 64 << 10

// Send makes one attempt. Every outcome is a Result: transport errors are
// recorded like HTTP failures, not returned.
func (s *Sender) Send(ctx context.Context, r webhook.Message) webhook.Result {
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
	var fe *netaddr.ForbiddenAddressError
	switch {
	case errors.As(err, &fe):
		return "refused to connect: " + fe.Error()
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
