// Package memorybank is the Memory Bank adapter: an HTTP client for mem0, in both its
// open-source and hosted flavors, behind a circuit breaker.
package memorybank

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"strings"
	"time"

	"github.com/custom-gpt-adapter/custom-gpt-adapter/domain/errs"
	"github.com/custom-gpt-adapter/custom-gpt-adapter/domain/memory"
)

// dialect is what differs between the flavors: routes, request bodies, auth
// and what marks a memory as a scope's. Answers are read by one lenient
// decoder that accepts both flavors' shapes.
type dialect interface {
	addRequest(scope memory.Scope, d memory.Draft, operationID string, infer bool) (path string, body any)
	// eventPath is where an asynchronous add is followed.
	eventPath(id string) string
	// findRequest asks for the memories of scope tagged with operationID.
	findRequest(scope memory.Scope, operationID, hint string) (method, path string, body any)
	// heldRequest lists what the Memory Bank holds of scope: some, not all.
	heldRequest(scope memory.Scope) (method, path string, body any)
	// getManyRequest reads several memories at once, when the flavor can.
	getManyRequest(scope memory.Scope, ids []string) (method, path string, body any, ok bool)
	searchRequest(scope memory.Scope, q memory.Query) (path string, body any)
	// memoryPath is the route of one memory: get, update (PUT) and delete.
	memoryPath(id string) string
	historyPath(id string) string
	// updateBody is the PUT body; metadata is what the memory holds now.
	updateBody(content string, metadata map[string]any) any
	deleteAllRequest(scope memory.Scope) (path string, async bool)
	// ownedBy tells whether an answer about one memory names scope as its owner.
	ownedBy(it wireItem, scope memory.Scope) bool
	authHeader(apiKey string) (name, value string)
}

// Client calls one Memory Bank. It is safe for concurrent use.
type Client struct {
	base      string
	authName  string
	authValue string
	infer     bool
	timeout   time.Duration
	http      *http.Client
	dialect   dialect
	breaker   *breaker
	metrics   *metrics
	// pacer, when set, admits each request first: the worker's budget and
	// concurrency bound. Nil sends at once (the API's reads).
	pacer Pacer
}

// New validates cfg and builds a Client; it does not contact the Memory Bank.
func New(cfg Config) (*Client, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	cfg.setDefaults()
	m, err := newMetrics(cfg.Registerer)
	if err != nil {
		return nil, err
	}
	var d dialect = ossDialect{}
	if cfg.Flavor == FlavorPlatform {
		d = platformDialect{}
	}
	c := &Client{
		base:    strings.TrimRight(cfg.BaseURL, "/"),
		infer:   cfg.Infer,
		timeout: cfg.Timeout,
		http:    cfg.HTTPClient,
		dialect: d,
		breaker: newBreaker(cfg.Breaker, m.breakerState),
		metrics: m,
	}
	c.authName, c.authValue = d.authHeader(cfg.APIKey)
	return c, nil
}

// Paced returns a view of c whose every request is first admitted by p. The
// view shares c's breaker and metrics: one Memory Bank, one view of its health.
func (c *Client) Paced(p Pacer) *Client {
	paced := *c
	paced.pacer = p
	return &paced
}

// Ping reports whether calls would currently be attempted: it fails while the breaker
// is open. It sends nothing, so a readiness probe never adds load to a struggling server.
func (c *Client) Ping(ctx context.Context) error {
	if err := ctx.Err(); err != nil {
		return cancelledError(ctx)
	}
	if err := c.breaker.openError(); err != nil {
		return err
	}
	return nil
}

// request is one call to the Memory Bank.
type request struct {
	op     *opMetrics
	method string
	path   string
	body   any // JSON-encoded when not nil
	// decode reads a 2xx answer; nil ignores it. It may return a notFoundError.
	decode func([]byte) error
	// byID marks a route naming one memory, where a 404 means that memory is missing.
	byID bool
	// write marks a request that changes what the Memory Bank holds: an
	// answer lost or failed may hide that the change was made all the same.
	write bool
}

// call runs one request through the breaker. decode runs inside it, so an unreadable
// 2xx answer counts as a transient failure like a 5xx would. A missing memory is a
// permanent outcome: it says the server is fine.
func (c *Client) call(ctx context.Context, r request) error {
	m := r.op
	if ctx.Err() != nil {
		err := cancelledError(ctx)
		m.record(err)
		return err
	}
	var body []byte
	if r.body != nil {
		var err error
		if body, err = json.Marshal(r.body); err != nil {
			return &memory.BankError{Reason: "request not encodable", Err: err}
		}
	}
	// An open breaker answers at once: nobody waits for a budget or a slot
	// only to be refused.
	if err := c.breaker.openError(); err != nil {
		m.record(err)
		return err
	}
	if c.pacer != nil {
		release, err := c.pacer.Admit(ctx)
		if err != nil {
			m.record(err)
			return err
		}
		defer release()
	}
	_, err := c.breaker.Execute(func() (struct{}, error) {
		start := time.Now()
		data, status, err := c.roundTrip(ctx, r.method, r.path, body)
		m.duration.Observe(time.Since(start).Seconds())
		if err != nil && r.write {
			err = mayHaveActed(err)
		}
		if err != nil {
			var be *memory.BankError
			if r.byID && errors.As(err, &be) && be.StatusCode == http.StatusNotFound {
				return struct{}{}, notFoundError(be)
			}
			return struct{}{}, err
		}
		if r.decode == nil {
			return struct{}{}, nil
		}
		if err := r.decode(data); err != nil {
			if errs.KindOf(err) == errs.KindNotFound {
				return struct{}{}, err
			}
			return struct{}{}, malformedError(status, err)
		}
		return struct{}{}, nil
	})
	if refused := c.breaker.refusal(err); refused != nil {
		err = refused
	}
	m.record(err)
	return err
}

// roundTrip sends one request and returns a 2xx answer's body, bounded in size.
func (c *Client) roundTrip(ctx context.Context, method, path string, body []byte) ([]byte, int, error) {
	callCtx, cancel := context.WithTimeoutCause(ctx, c.timeout, errCallTimeout)
	defer cancel()
	var reader io.Reader
	if body != nil {
		reader = bytes.NewReader(body)
	}
	req, err := http.NewRequestWithContext(callCtx, method, c.base+path, reader)
	if err != nil {
		return nil, 0, &memory.BankError{Reason: "request not buildable", Err: err}
	}
	req.Header.Set("Accept", "application/json")
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if c.authName != "" {
		req.Header.Set(c.authName, c.authValue)
	}
	resp, err := c.http.Do(req)
	if err != nil {
		return nil, 0, transportError(ctx, callCtx, err)
	}
	defer resp.Body.Close()
	data, readErr := readBody(resp)
	ok := resp.StatusCode >= 200 && resp.StatusCode < 300
	if !ok {
		// The status decides; a body cut short only loses the explanation.
		return nil, resp.StatusCode, statusError(resp.StatusCode, data)
	}
	if readErr != nil {
		return nil, resp.StatusCode, transportError(ctx, callCtx, readErr)
	}
	if len(data) > maxBodyBytes {
		return nil, resp.StatusCode, &memory.BankError{StatusCode: resp.StatusCode, Reason: "response too large"}
	}
	return data, resp.StatusCode, nil
}

// readBody reads up to maxBodyBytes+1 of resp's body, into one buffer of the
// announced length when there is one, rather than one grown by doubling.
func readBody(resp *http.Response) ([]byte, error) {
	limited := io.LimitReader(resp.Body, maxBodyBytes+1)
	n := resp.ContentLength
	if n <= 0 || n > maxBodyBytes {
		return io.ReadAll(limited)
	}
	buf := make([]byte, 0, n+1) // +1: the read that finds the end needs no growth
	for {
		if len(buf) == cap(buf) {
			buf = append(buf, 0)[:len(buf)] // longer than announced
		}
		m, err := limited.Read(buf[len(buf):cap(buf)])
		buf = buf[:len(buf)+m]
		if err == io.EOF {
			return buf, nil
		}
		if err != nil {
			return buf, err
		}
	}
}
