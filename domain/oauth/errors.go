package oauth

// Error is an OAuth protocol error (RFC 6749 section 5.2): Code is the wire
// "error" value, Description its "error_description".
type Error struct {
	Code        string
	Description string
}

func (e *Error) Error() string { return e.Code + ": " + e.Description }

func errInvalidRequest(d string) error { return &Error{Code: "invalid_request", Description: d} }

// ErrInvalidGrant reports a code or refresh token that is unknown, expired,
// used, revoked, or not bound to this client and redirect URI.
func ErrInvalidGrant(d string) error { return &Error{Code: "invalid_grant", Description: d} }
