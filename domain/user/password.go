package user

import (
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"unicode/utf8"

	"golang.org/x/crypto/argon2"

	"github.com/custom-gpt-adapter/custom-gpt-adapter/domain/errs"
)

// Argon2id parameters: OWASP's Password Storage Cheat Sheet minimum (19 MiB,
// two passes, one lane). Hashes keep their own parameters, so raising these
// later leaves existing passwords verifiable.
const (
	argonMemoryKiB uint32 = 19456
	argonTime      uint32 = 2
	argonThreads   uint8  = 1
	argonSaltLen          = 16
	argonKeyLen           = 32
)

// Password length limits, in characters (NIST SP 800-63B: at least 8, allow at
// least 64; no composition rules). The upper bound keeps a request from making
// the server hash megabytes.
const (
	MinPasswordChars = 12
	MaxPasswordChars = 256
)

// Bounds a stored hash must respect before we run it: a hash with absurd
// parameters would otherwise let whoever wrote it make every login allocate
// gigabytes or spin for minutes.
const (
	maxMemoryKiB = 1 << 20 // 1 GiB
	maxTime      = 16
	minSaltLen   = 8
	maxSaltLen   = 64
	minKeyLen    = 16
	maxKeyLen    = 128
)

// ErrMalformedHash is wrapped by VerifyPassword when the stored string is not
// an argon2id PHC string it can check.
var ErrMalformedHash = errors.New("password hash is not a valid argon2id PHC string")

// b64 is the PHC string format's Base64: standard alphabet, no padding, and no
// stray bits in the last character.
var b64 = base64.RawStdEncoding.Strict()

// ValidatePassword checks a new password's length in characters.
func ValidatePassword(pw string) error {
	if !utf8.ValidString(pw) {
		return errs.Invalid("password", "password-invalid", "password must be valid UTF-8 text")
	}
	n := utf8.RuneCountInString(pw)
	if n < MinPasswordChars {
		return errs.Invalid("password", "password-too-short", fmt.Sprintf("password must be at least %d characters", MinPasswordChars))
	}
	if n > MaxPasswordChars {
		return errs.Invalid("password", "password-too-long", fmt.Sprintf("password must be at most %d characters", MaxPasswordChars))
	}
	return nil
}

// HashPassword returns an argon2id PHC string of pw with a fresh random salt:
// $argon2id$v=19$m=19456,t=2,p=1$<salt>$<hash>.
func HashPassword(pw string) (string, error) {
	salt := make([]byte, argonSaltLen)
	if _, err := rand.Read(salt); err != nil {
		return "", fmt.Errorf("generate salt: %w", err)
	}
	p := phc{memory: argonMemoryKiB, time: argonTime, threads: argonThreads, salt: salt}
	p.key = argon2.IDKey([]byte(pw), p.salt, p.time, p.memory, p.threads, argonKeyLen)
	return p.String(), nil
}

// VerifyPassword reports whether pw matches the PHC string encoded. A
// mismatch is (false, nil); a string it cannot check is (false, an error
// wrapping ErrMalformedHash). The comparison runs in constant time.
func VerifyPassword(pw, encoded string) (bool, error) {
	p, err := parsePHC(encoded)
	if err != nil {
		return false, err
	}
	key := argon2.IDKey([]byte(pw), p.salt, p.time, p.memory, p.threads, uint32(len(p.key)))
	return subtle.ConstantTimeCompare(key, p.key) == 1, nil
}

// dummyHash has the parameters HashPassword uses, so checking a password
// against it costs what a real verification costs. Salt and key are arbitrary:
// no password needs to match.
var dummyHash = phc{
	memory: argonMemoryKiB, time: argonTime, threads: argonThreads,
	salt: make([]byte, argonSaltLen), key: make([]byte, argonKeyLen),
}.String()

// DummyVerify spends the time of one real verification. Call it when the
// email is unknown, so the answer's timing does not tell which emails have
// accounts.
func DummyVerify() {
	_, _ = VerifyPassword("dummy password for an unknown account", dummyHash)
}

// phc is a parsed argon2id PHC string.
type phc struct {
	memory  uint32
	time    uint32
	threads uint8
	salt    []byte
	key     []byte
}

func (p phc) String() string {
	return fmt.Sprintf("$argon2id$v=%d$m=%d,t=%d,p=%d$%s$%s",
		argon2.Version, p.memory, p.time, p.threads, b64.EncodeToString(p.salt), b64.EncodeToString(p.key))
}

// parsePHC accepts exactly what String writes, within sane bounds, and only
// for argon2id version 19: other algorithms (bcrypt, argon2i, ...) are refused,
// never guessed at.
func parsePHC(s string) (phc, error) {
	malformed := func(why string) (phc, error) { return phc{}, fmt.Errorf("%w: %s", ErrMalformedHash, why) }

	parts := strings.Split(s, "$")
	if len(parts) != 6 || parts[0] != "" {
		return malformed("want $argon2id$v=19$m=..,t=..,p=..$salt$hash")
	}
	if parts[1] != "argon2id" {
		return malformed("algorithm is not argon2id")
	}
	if parts[2] != "v="+strconv.Itoa(argon2.Version) {
		return malformed("version is not 19")
	}
	params := strings.Split(parts[3], ",")
	if len(params) != 3 {
		return malformed("want parameters m, t and p")
	}
	m, okM := param(params[0], "m=", maxMemoryKiB)
	t, okT := param(params[1], "t=", maxTime)
	p, okP := param(params[2], "p=", 255)
	if !okM || !okT || !okP || m < 8*p { // Argon2 needs 8 KiB of memory per lane
		return malformed("parameters out of range")
	}
	salt, err := b64.DecodeString(parts[4])
	if err != nil || len(salt) < minSaltLen || len(salt) > maxSaltLen {
		return malformed("bad salt")
	}
	key, err := b64.DecodeString(parts[5])
	if err != nil || len(key) < minKeyLen || len(key) > maxKeyLen {
		return malformed("bad hash")
	}
	return phc{memory: uint32(m), time: uint32(t), threads: uint8(p), salt: salt, key: key}, nil
}

// param reads "name=N" with 1 <= N <= max, in canonical decimal form.
func param(s, prefix string, maxValue uint64) (uint64, bool) {
	digits, ok := strings.CutPrefix(s, prefix)
	if !ok || digits == "" || (len(digits) > 1 && digits[0] == '0') {
		return 0, false
	}
	n, err := strconv.ParseUint(digits, 10, 32)
	if err != nil || n < 1 || n > maxValue {
		return 0, false
	}
	return n, true
}
