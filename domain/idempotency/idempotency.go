// Package idempotency holds the rules of the Idempotency-Key request header
// (draft-ietf-httpapi-idempotency-key-header): which keys are valid, what makes
// two requests "the same", what a stored key means for a new request, and which
// responses are kept for replay.
//
// A key belongs to a Scope (one application and one end user), so two callers
// can never see or block each other's keys. A record lives for Retention from
// the request that created it.
package idempotency

import (
	"context"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"strings"
	"time"

	"github.com/custom-gpt-adapter/custom-gpt-adapter/domain/errs"
)

// HeaderName is the request header, and the field errors about it name.
const HeaderName = "Idempotency-Key"

const (
	// Retention is how long a key is remembered after the request that created it.
	Retention = 24 * time.Hour
	// DefaultLockTimeout is how long a request may hold its key in flight. Past
	// it the request is presumed dead (its process crashed) and a retry with
	// the same body may take the key over and do the work.
	DefaultLockTimeout = 5 * time.Minute
	// MaxKeyLength bounds a key, counted after unquoting.
	MaxKeyLength = 255
)

// Key is a validated idempotency key. The zero Key is not valid.
type Key struct{ value string }

// String is the key as the client meant it: unquoted and unescaped.
func (k Key) String() string { return k.value }

// ParseKey reads the value of an Idempotency-Key header. The draft defines it
// as a Structured Field sf-string (RFC 8941), `"..."` with `\"` and `\\` as the
// only escapes; a bare token such as `abc-123` is accepted too, because many
// clients forget the quotes. Both spellings of a value are the same key.
// Parameters after the string (`"k";a=1`) are refused: the draft defines none.
func ParseKey(header string) (Key, error) {
	v := strings.Trim(header, " \t")
	var (
		value string
		ok    bool
	)
	if strings.HasPrefix(v, `"`) {
		value, ok = unquote(v)
	} else {
		value, ok = v, bareToken(v)
	}
	switch {
	case !ok:
		return Key{}, invalidKey("key-malformed", `the Idempotency-Key header must be a quoted string such as "4f1c-…" of printable ASCII characters`)
	case value == "":
		return Key{}, invalidKey("key-empty", "the Idempotency-Key header must not be empty")
	case len(value) > MaxKeyLength:
		return Key{}, invalidKey("key-too-long", "the Idempotency-Key header must be at most 255 characters")
	}
	return Key{value: value}, nil
}

func invalidKey(what, detail string) *errs.Error {
	return errs.Invalid(HeaderName, "idempotency-"+what, detail)
}

// unquote decodes an sf-string: the whole of v must be one quoted string of
// printable ASCII (space included) with only \" and \\ escaped.
func unquote(v string) (string, bool) {
	if len(v) < 2 || v[0] != '"' {
		return "", false
	}
	var b strings.Builder
	for i := 1; i < len(v); i++ {
		c := v[i]
		switch {
		case c == '\\':
			i++
			if i >= len(v) || (v[i] != '"' && v[i] != '\\') {
				return "", false
			}
			b.WriteByte(v[i])
		case c == '"':
			return b.String(), i == len(v)-1 // anything after the closing quote is refused
		case c < 0x20 || c > 0x7e:
			return "", false
		default:
			b.WriteByte(c)
		}
	}
	return "", false // no closing quote
}

// bareToken is the lenient unquoted form: visible ASCII without quotes,
// backslashes or spaces, so that it cannot be mistaken for a damaged sf-string.
func bareToken(v string) bool {
	for i := 0; i < len(v); i++ {
		if c := v[i]; c <= 0x20 || c > 0x7e || c == '"' || c == '\\' {
			return false
		}
	}
	return true
}

// Scope is whose keys these are: one application and one end user (empty when
// the application acts for itself with its API key).
type Scope struct {
	AppID   string
	EndUser string
}

// Fingerprint identifies a request's payload: two requests with one key are
// the same request only when their fingerprints are equal.
type Fingerprint [sha256.Size]byte

// NewFingerprint is the SHA-256 of the method, the request target and the exact
// body bytes. Each part is length-prefixed, so that moving bytes from one part
// to the next cannot give the same digest. The body is not normalized: the
// same JSON with other spacing is another request, which is what the draft
// asks of a server that cannot know every client's serializer.
func NewFingerprint(method, target string, body []byte) Fingerprint {
	h := sha256.New()
	for _, part := range [][]byte{[]byte(method), []byte(target), body} {
		var n [8]byte
		binary.BigEndian.PutUint64(n[:], uint64(len(part)))
		h.Write(n[:])
		h.Write(part)
	}
	var f Fingerprint
	h.Sum(f[:0])
	return f
}

// FingerprintFromBytes is for adapters that read a stored fingerprint back.
func FingerprintFromBytes(b []byte) (Fingerprint, error) {
	var f Fingerprint
	if len(b) != len(f) {
		return f, errors.New("idempotency fingerprint must be 32 bytes")
	}
	copy(f[:], b)
	return f, nil
}

func (f Fingerprint) String() string { return hex.EncodeToString(f[:]) }

// Response is a stored response, replayed as it was first sent.
type Response struct {
	Status int
	Header map[string][]string
	Body   []byte
}

// Storable tells whether a response of this status is kept for replay: a
// success or a client error is the answer to this request and stays so. A
// server error or a 429 may not recur, and a 409 says that something else was
// in the way, so those release the key and a retry runs the request again.
func Storable(status int) bool {
	switch {
	case status >= 200 && status < 300:
		return true
	case status == 409 || status == 429:
		return false
	case status >= 400 && status < 500:
		return true
	}
	return false
}

// Status of a stored key.
type Status string

const (
	StatusInFlight  Status = "in_flight"
	StatusCompleted Status = "completed"
)

// Record is what is stored under a key.
type Record struct {
	Fingerprint Fingerprint
	Status      Status
	Response    Response  // when completed
	LockedUntil time.Time // when in flight
	CreatedAt   time.Time
	ExpiresAt   time.Time
}

// Expired records are treated as absent and overwritten by the next request.
func (r Record) Expired(now time.Time) bool { return !now.Before(r.ExpiresAt) }

// Outcome is what a request carrying a key must do.
type Outcome int

const (
	// Proceed: the request owns the key; run it and complete the key.
	Proceed Outcome = iota + 1
	// Replay: the same request already completed; send its stored response.
	Replay
	// Mismatch: the key was used for another request (method, target or body).
	Mismatch
	// InFlight: the same request is still running elsewhere; retry later.
	InFlight
)

func (o Outcome) String() string {
	switch o {
	case Proceed:
		return "proceed"
	case Replay:
		return "replay"
	case Mismatch:
		return "mismatch"
	case InFlight:
		return "in_flight"
	}
	return "unknown"
}

// Decision is the answer to Store.Begin.
type Decision struct {
	Outcome Outcome
	// Lock is the proof of ownership Complete needs, when Outcome is Proceed.
	Lock string
	// TakenOver is set when Proceed took the key from a request whose lock
	// had expired: the work may have been done already, in part or whole.
	TakenOver bool
	// Response is the stored response, when Outcome is Replay.
	Response Response
}

// Decide applies the rules to the record stored under a key (nil when there is
// none) for a request with fingerprint fp arriving at now. A Proceed decision
// carries no Lock: the store that records the ownership issues it.
func Decide(rec *Record, fp Fingerprint, now time.Time) Decision {
	switch {
	case rec == nil || rec.Expired(now):
		return Decision{Outcome: Proceed}
	case rec.Fingerprint != fp:
		// Checked before the status: another payload under this key is the
		// client's bug whatever became of the first request.
		return Decision{Outcome: Mismatch}
	case rec.Status == StatusCompleted:
		return Decision{Outcome: Replay, Response: rec.Response}
	case now.Before(rec.LockedUntil):
		return Decision{Outcome: InFlight}
	}
	return Decision{Outcome: Proceed, TakenOver: true}
}

// ErrLockLost means Complete found the key no longer held by its lock: the
// lock expired and another request took the key over, or the record expired.
var ErrLockLost = errors.New("idempotency key no longer held by this request")

// Completion is the response to a request that holds key under lock, to be
// stored in the same transaction as the work it answers for: a crash can then
// leave neither the work done without its response (a retry would do it
// again once the lock expires) nor the response without the work.
type Completion struct {
	Scope    Scope
	Key      Key
	Lock     string
	Response Response
}

// Store keeps keys. Begin must be atomic across processes: of any number of
// concurrent requests with one key, at most one gets Proceed.
type Store interface {
	Begin(ctx context.Context, scope Scope, key Key, fp Fingerprint, now time.Time) (Decision, error)
	// Complete stores resp under the key when Storable(resp.Status), and
	// otherwise releases the key so that a retry runs again. It returns
	// ErrLockLost when lock no longer holds the key.
	Complete(ctx context.Context, scope Scope, key Key, lock string, resp Response) error
}
