package http

import (
	"bytes"
	"context"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"strconv"
	"time"

	"github.com/custom-gpt-adapter/custom-gpt-adapter/ports/internal/problems"

	"github.com/custom-gpt-adapter/custom-gpt-adapter/domain/errs"
	"github.com/custom-gpt-adapter/custom-gpt-adapter/domain/idempotency"
	"github.com/custom-gpt-adapter/custom-gpt-adapter/ports/internal/request"
)

// ReplayedHeader marks a response replayed from an earlier request with the
// same Idempotency-Key. The draft defines no such header; it is a hint for
// clients and logs, and absent from first responses.
const ReplayedHeader = "Idempotency-Replayed"

// IdempotencyOptions tunes Idempotent; the zero value is usable.
type IdempotencyOptions struct {
	Logger *slog.Logger     // slog.Default() when nil
	Now    func() time.Time // time.Now when nil
}

// notStored are response headers never kept for a replay: the server sets them
// per response, or they must not be handed out twice.
var notStored = map[string]bool{
	"Content-Length": true, "Date": true, "Connection": true, "Keep-Alive": true,
	"Transfer-Encoding": true, "Trailer": true, "Set-Cookie": true,
	"X-Request-Id": true, ReplayedHeader: true,
}

// completeTimeout bounds storing a response once the handler has run: it runs
// even when the client has gone, because its retry must find the response.
const completeTimeout = 5 * time.Second

// Idempotent is the Idempotency-Key middleware for POST, PATCH and DELETE
// routes (draft-ietf-httpapi-idempotency-key-header). A request with the header
// runs at most once per key of its caller: a retry with the same method,
// target and body gets the first response again, with ReplayedHeader set;
// another request under the key gets 422; a retry while the first still runs
// gets 409. Requests without the header, and other methods, pass untouched.
//
// It needs the caller authenticate puts in the context, so it must run after
// authenticate. It reads the body (at most MaxBodyBytes) and restores it for
// the handler, and buffers the handler's response so that it is stored before
// the client sees it: a client that retries at once is replayed, never told
// the request is still in flight. A nil store turns the middleware off.
func Idempotent(store idempotency.Store, opts IdempotencyOptions) func(http.Handler) http.Handler {
	if opts.Logger == nil {
		opts.Logger = slog.Default()
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	return func(next http.Handler) http.Handler {
		if store == nil {
			return next
		}
		m := &idempotent{store: store, opts: opts, next: next}
		return http.HandlerFunc(m.serveHTTP)
	}
}

type idempotent struct {
	store idempotency.Store
	opts  IdempotencyOptions
	next  http.Handler
}

func (m *idempotent) serveHTTP(w http.ResponseWriter, r *http.Request) {
	values := r.Header.Values(idempotency.HeaderName)
	if len(values) == 0 || (r.Method != http.MethodPost && r.Method != http.MethodPatch && r.Method != http.MethodDelete) {
		m.next.ServeHTTP(w, r)
		return
	}
	if len(values) > 1 {
		badRequest(w, r, "idempotency-key-malformed", idempotency.HeaderName, "send one Idempotency-Key header, not several")
		return
	}
	key, err := idempotency.ParseKey(values[0])
	if err != nil {
		// A header, not the body, is at fault: 400, where writeError would say 422.
		var e *errs.Error
		if errors.As(err, &e) {
			badRequest(w, r, e.Slug, e.Field, e.Detail)
		} else {
			badRequest(w, r, "idempotency-key-malformed", idempotency.HeaderName, err.Error())
		}
		return
	}
	caller := request.Caller(r.Context())
	if caller.AppID == "" {
		m.opts.Logger.ErrorContext(r.Context(), "idempotency middleware ran before authenticate", "path", r.URL.Path)
		writeInternal(w, r)
		return
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, MaxBodyBytes))
	if err != nil {
		if maxErr := (*http.MaxBytesError)(nil); errors.As(err, &maxErr) {
			writeBodyTooLarge(w, r)
		} else {
			badRequest(w, r, "body-unreadable", "", "the request body could not be read")
		}
		return
	}

	scope := idempotency.Scope{AppID: caller.AppID, EndUser: caller.EndUser}
	fp := idempotency.NewFingerprint(r.Method, r.URL.RequestURI(), body)
	d, err := m.store.Begin(r.Context(), scope, key, fp, m.opts.Now())
	if err != nil {
		m.opts.Logger.ErrorContext(r.Context(), "idempotency key could not be claimed", "error", err)
		writeError(w, r, errs.Unavailable("idempotency-unavailable", "the Idempotency-Key could not be checked; retry shortly", err))
		return
	}
	switch d.Outcome {
	case idempotency.Proceed:
		if d.TakenOver {
			m.opts.Logger.WarnContext(r.Context(), "idempotency key taken over from a request presumed dead: the work may run twice",
				"app_id", scope.AppID, "path", r.URL.Path)
		}
		r.Body = io.NopCloser(bytes.NewReader(body))
		r.ContentLength = int64(len(body))
		m.run(w, r, scope, key, d.Lock)
	case idempotency.Replay:
		h := w.Header()
		for k, v := range d.Response.Header {
			h[k] = v
		}
		h.Set(ReplayedHeader, "true")
		writeBuffered(w, d.Response.Status, d.Response.Body)
	case idempotency.Mismatch:
		problems.Write(w, r, http.StatusUnprocessableEntity, "idempotency-key-reused", idempotency.HeaderName,
			"this Idempotency-Key was used for another request (method, path or body); send a new key with a new request")
	case idempotency.InFlight:
		// The first request usually ends within the second; a dead one holds
		// the key until its lock expires, and the retry then takes it over.
		w.Header().Set("Retry-After", "1")
		problems.Write(w, r, http.StatusConflict, "idempotency-key-in-flight", idempotency.HeaderName,
			"a request with this Idempotency-Key is still being processed; retry shortly")
	default:
		writeInternal(w, r)
	}
}

// heldKey is the key a request holds while it runs. A handler whose work
// commits in a transaction stores its response there (replyFor), and the
// middleware then stores nothing after it.
type heldKey struct {
	scope  idempotency.Scope
	key    idempotency.Key
	lock   string
	stored bool
}

type heldKeyKey struct{}

// replyFor returns, when the request holds an Idempotency-Key, the completion
// that stores resp as its response with the work's transaction; the handler
// calls done once that transaction committed. Without a key it returns nil.
func replyFor(r *http.Request, resp idempotency.Response) (c *idempotency.Completion, done func()) {
	h, _ := r.Context().Value(heldKeyKey{}).(*heldKey)
	if h == nil {
		return nil, func() {}
	}
	stored := http.Header{}
	for k, v := range resp.Header {
		if !notStored[k] {
			stored[k] = v
		}
	}
	resp.Header = stored
	return &idempotency.Completion{Scope: h.scope, Key: h.key, Lock: h.lock, Response: resp}, func() { h.stored = true }
}

// run calls the handler with a buffering writer, stores (or releases) the key,
// then sends the response.
func (m *idempotent) run(w http.ResponseWriter, r *http.Request, scope idempotency.Scope, key idempotency.Key, lock string) {
	rec := &responseBuffer{header: http.Header{}}
	held := &heldKey{scope: scope, key: key, lock: lock}
	finished := false
	defer func() {
		if !finished {
			// The handler panicked (the recoverer answers 500): nothing to
			// replay, so the key is released for the retry.
			m.complete(r, scope, key, lock, idempotency.Response{Status: http.StatusInternalServerError})
		}
	}()
	m.next.ServeHTTP(rec, r.WithContext(context.WithValue(r.Context(), heldKeyKey{}, held)))
	finished = true
	if held.stored {
		// Stored with the work it answers for: send it as it was stored.
		h := w.Header()
		for k, v := range rec.header {
			h[k] = v
		}
		writeBuffered(w, rec.status, rec.body.Bytes())
		return
	}

	status := rec.status
	if status == 0 {
		status = http.StatusOK
	}
	stored := http.Header{}
	for k, v := range rec.header {
		if !notStored[k] {
			stored[k] = v
		}
	}
	m.complete(r, scope, key, lock, idempotency.Response{Status: status, Header: stored, Body: rec.body.Bytes()})

	h := w.Header()
	for k, v := range rec.header {
		h[k] = v
	}
	writeBuffered(w, status, rec.body.Bytes())
}

func (m *idempotent) complete(r *http.Request, scope idempotency.Scope, key idempotency.Key, lock string, resp idempotency.Response) {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(r.Context()), completeTimeout)
	defer cancel()
	err := m.store.Complete(ctx, scope, key, lock, resp)
	switch {
	case errors.Is(err, idempotency.ErrLockLost):
		m.opts.Logger.WarnContext(r.Context(), "idempotency key was taken over before its response was stored",
			"app_id", scope.AppID, "path", r.URL.Path, "status", resp.Status)
	case err != nil:
		// The key stays in flight until its lock expires; a retry after that
		// runs the request again.
		m.opts.Logger.ErrorContext(r.Context(), "idempotency response could not be stored",
			"app_id", scope.AppID, "path", r.URL.Path, "status", resp.Status, "error", err)
	}
}

// writeBuffered sends a whole response whose headers are already set.
func writeBuffered(w http.ResponseWriter, status int, body []byte) {
	if status != http.StatusNoContent && status != http.StatusNotModified && status >= 200 {
		w.Header().Set("Content-Length", strconv.Itoa(len(body)))
	}
	w.WriteHeader(status)
	if len(body) > 0 {
		_, _ = w.Write(body)
	}
}

// responseBuffer keeps a handler's response in memory. Its headers start empty,
// so that what it holds is exactly what the handler set.
type responseBuffer struct {
	header http.Header
	status int
	body   bytes.Buffer
}

func (b *responseBuffer) Header() http.Header { return b.header }

func (b *responseBuffer) WriteHeader(code int) {
	if b.status != 0 || code < 200 {
		return // informational responses are not buffered; only the first final status counts
	}
	b.status = code
}

func (b *responseBuffer) Write(p []byte) (int, error) {
	if b.status == 0 {
		b.status = http.StatusOK
	}
	return b.body.Write(p)
}
