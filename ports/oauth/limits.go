package oauth

import (
	"context"
	"encoding/json"
	"errors"
	"net"
	"net/http"
	"strconv"
	"time"

	"github.com/zitadel/oidc/v3/pkg/oidc"
	"github.com/zitadel/oidc/v3/pkg/op"

	"github.com/custom-gpt-adapter/custom-gpt-adapter/ports/internal/problems"
)

// Budget names one of the authorization server's rate limits; the wiring
// decides how large each is.
type Budget string

const (
	// BudgetClient is spent by each token request of an authenticated client,
	// and only by those: a client_id is public, so nobody else can spend it.
	BudgetClient Budget = "token:client"
	// BudgetFailedClient is spent by each failed client authentication that
	// named a client_id. Once spent, failures naming it are answered 429; the
	// client's own requests, which authenticate, are not refused by it.
	BudgetFailedClient Budget = "token:failed-client"
	// BudgetFailedAddress is spent by each failed client authentication from an
	// address, whatever client_id it named.
	BudgetFailedAddress Budget = "token:failed-address"
	// BudgetAuthorize is spent by each request to /oauth/authorize from an
	// address, before anything is parsed or looked up.
	BudgetAuthorize Budget = "authorize:address"
	// BudgetLoginAccount is spent by each password attempt on an account, and
	// BudgetLoginAddress by each from an address, before any hashing runs.
	BudgetLoginAccount Budget = "login:account"
	BudgetLoginAddress Budget = "login:address"
	// BudgetRegister is spent by each client registration (RFC 7591) from an
	// address: registration is open, and each one is stored.
	BudgetRegister Budget = "register:address"
)

// Limiter spends one event from key's budget, a Budget by name. A positive
// wait means refused: retry after it. A refused event costs nothing.
type Limiter interface {
	Allow(ctx context.Context, budget, key string) (wait time.Duration, err error)
}

// maxLimitedClientID is the longest client_id given a budget of its own; ours
// are UUIDs, and longer ones count against their address only, so nobody can
// fill Redis with huge keys.
const maxLimitedClientID = 64

// limits applies the budgets. A nil limiter, or a Redis failure, limits
// nothing: client authentication and the checks of a request still run.
type limits struct{ limiter Limiter }

// wait spends from the budget and returns how long to wait when refused.
func (l limits) wait(ctx context.Context, b Budget, key string) time.Duration {
	if l.limiter == nil || key == "" {
		return 0
	}
	wait, err := l.limiter.Allow(ctx, string(b), key)
	if err != nil {
		return 0
	}
	return wait
}

// failedClientAuth counts a failed client authentication against the address
// and the client_id it named; both are spent, so a flood from many addresses
// is caught by the client's budget and one address naming many clients by
// its own. It returns the 429 to answer instead of invalid_client when either
// budget is spent.
func (l limits) failedClientAuth(ctx context.Context, clientID string) error {
	wait := l.wait(ctx, BudgetFailedAddress, callerOf(ctx).addr)
	if len(clientID) <= maxLimitedClientID {
		wait = max(wait, l.wait(ctx, BudgetFailedClient, clientID))
	}
	if wait <= 0 {
		return nil
	}
	return tooMany(ctx, wait, "too many failed client authentications; retry later")
}

// clientRequest spends an authenticated client's own token budget.
func (l limits) clientRequest(ctx context.Context, clientID string) error {
	wait := l.wait(ctx, BudgetClient, clientID)
	if wait <= 0 {
		return nil
	}
	return tooMany(ctx, wait, "too many token requests for this client; retry later")
}

// tooMany is the 429 of the token endpoint, as an OAuth error (slow_down, RFC
// 8628's code for "you ask too often"); Retry-After is set by caller's writer.
func tooMany(ctx context.Context, wait time.Duration, description string) error {
	callerOf(ctx).retryAfter = wait
	return op.NewStatusError(oidc.ErrSlowDown().WithDescription("%s", description), http.StatusTooManyRequests)
}

// isClientAuthFailure tells a failed client authentication (wrong or missing
// secret, unknown or disabled client) from other errors.
func isClientAuthFailure(err error) (*oidc.Error, bool) {
	var oe *oidc.Error
	if errors.As(err, &oe) && oe.ErrorType == oidc.InvalidClient {
		return oe, true
	}
	return nil, false
}

// caller is what the client-authenticating endpoints learn about a request
// beyond what zitadel passes them: the address, and the Retry-After to send.
type caller struct {
	addr       string
	retryAfter time.Duration
}

type callerKey struct{}

func callerOf(ctx context.Context) *caller {
	if c, ok := ctx.Value(callerKey{}).(*caller); ok {
		return c
	}
	return &caller{}
}

// guard wraps the protocol endpoints. /oauth/authorize spends its address's
// budget before anything is parsed or looked up, and its body is bounded;
// token, introspection and revocation learn the caller's address, and a 429
// they answer carries Retry-After.
func (l limits) guard(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case PathAuthorize:
			if wait := l.wait(r.Context(), BudgetAuthorize, clientAddress(r)); wait > 0 {
				writeTooMany(w, wait, "temporarily_unavailable", "too many authorization requests from this address; retry later")
				return
			}
			if !boundAuthorizeBody(w, r) {
				return
			}
		case PathToken, PathIntrospect, PathRevoke:
			c := &caller{addr: clientAddress(r)}
			r = r.WithContext(context.WithValue(r.Context(), callerKey{}, c))
			w = &retryAfterWriter{ResponseWriter: w, caller: c}
		}
		next.ServeHTTP(w, r)
	})
}

type retryAfterWriter struct {
	http.ResponseWriter
	caller *caller
}

func (w *retryAfterWriter) WriteHeader(code int) {
	if code == http.StatusTooManyRequests && w.caller.retryAfter > 0 {
		w.Header().Set("Retry-After", retryAfterSeconds(w.caller.retryAfter))
	}
	w.ResponseWriter.WriteHeader(code)
}

// writeTooMany answers 429 in the OAuth error format, before zitadel runs.
func writeTooMany(w http.ResponseWriter, wait time.Duration, code, description string) {
	w.Header().Set("Retry-After", retryAfterSeconds(wait))
	writeOAuthError(w, http.StatusTooManyRequests, code, description)
}

func writeOAuthError(w http.ResponseWriter, status int, code, description string) {
	body, _ := json.Marshal(struct {
		Error       string `json:"error"`
		Description string `json:"error_description"`
	}{code, description})
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_, _ = w.Write(body)
}

// retryAfterSeconds rounds up to whole seconds, at least 1.
func retryAfterSeconds(d time.Duration) string {
	return strconv.Itoa(max(1, problems.CeilSeconds(d)))
}

// clientAddress is the address every per-address budget is keyed by.
func clientAddress(r *http.Request) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return r.RemoteAddr
	}
	return host
}
