package clientmetadata

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/url"

	"github.com/custom-gpt-adapter/custom-gpt-adapter/adapters/outbound"
	"github.com/custom-gpt-adapter/custom-gpt-adapter/domain/netaddr"
)

// The kinds of failure, for errors.Is: every error Fetch returns is an *Error
// of one of these kinds.
var (
	ErrInvalidURL       = errors.New("the client_id is not a valid metadata document URL")
	ErrForbiddenAddress = errors.New("the client's metadata document is on a forbidden address")
	ErrUnreachable      = errors.New("the client's metadata document could not be fetched")
	ErrStatus           = errors.New("the client's metadata document was not answered with 200")
	ErrContentType      = errors.New("the client's metadata document is not served as JSON")
	ErrTooLarge         = errors.New("the client's metadata document is too large")
)

// Error says why the client's metadata document could not be had, in words
// meant for the end user, on the error page the authorization server shows.
type Error struct {
	Kind   error  // one of the Err values above
	Reason string // the whole sentence Error returns
	Err    error  // the cause, when there is one
}

func (e *Error) Error() string { return e.Reason }

func (e *Error) Is(target error) bool { return target == e.Kind }

func (e *Error) Unwrap() error { return e.Err }

func invalidURL(why string) *Error {
	return &Error{Kind: ErrInvalidURL, Reason: "the client_id is not a valid metadata document URL: " + why}
}

func forbidden(fe *netaddr.ForbiddenAddressError) *Error {
	return &Error{
		Kind:   ErrForbiddenAddress,
		Reason: fmt.Sprintf("the client's metadata document is on a private address (%s is %s)", fe.Addr, fe.Reason),
		Err:    fe,
	}
}

// fetchFailed explains an error of the HTTP client: a refused address, a
// timeout, an unknown host, or whatever the connection said.
func fetchFailed(err error) *Error {
	if fe, ok := outbound.Refused(err); ok {
		return forbidden(fe)
	}
	var (
		ne  net.Error
		dns *net.DNSError
		ue  *url.Error
	)
	reason := "fetching the client's metadata document failed"
	switch {
	case errors.Is(err, context.DeadlineExceeded), errors.As(err, &ne) && ne.Timeout():
		reason = "fetching the client's metadata document timed out"
	case errors.As(err, &dns) && dns.IsNotFound:
		reason = fmt.Sprintf("the host of the client's metadata document, %s, was not found", dns.Name)
	case errors.As(err, &ue):
		reason += ": " + ue.Err.Error() // without the method and the URL
	default:
		reason += ": " + err.Error()
	}
	return &Error{Kind: ErrUnreachable, Reason: reason, Err: err}
}

func statusError(code int) *Error {
	reason := fmt.Sprintf("fetching the client's metadata document answered %d", code)
	if code >= 300 && code < 400 {
		// The draft forbids following it (section 5): the document would come
		// from a URL other than the client_id.
		reason += ", a redirect, which is not followed"
	}
	return &Error{Kind: ErrStatus, Reason: reason}
}

func contentTypeError(got string) *Error {
	served := "without a content type"
	if got != "" {
		served = fmt.Sprintf("as %q", got)
	}
	return &Error{Kind: ErrContentType, Reason: "the client's metadata document is served " + served + ", not as application/json"}
}

func tooLarge(limit int64) *Error {
	return &Error{Kind: ErrTooLarge, Reason: fmt.Sprintf("the client's metadata document is larger than %d bytes", limit)}
}
