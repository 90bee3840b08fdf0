// Package secrets seals the secrets the service must keep usable (token
// signing keys, webhook signing secrets) before they are stored: AES-256-GCM
// from Go's standard library under a key-encryption key the database never
// sees. Each value gets a fresh random nonce and is bound to where it is
// stored, so a sealed value copied to another row or column fails to open.
package secrets

import (
	"bytes"
	"crypto/aes"
	"crypto/cipher"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
)

// KeySize is the length of a key-encryption key: AES-256.
const KeySize = 32

// DevelopmentKeyID names the fixed development key. Values sealed with it are
// as good as plain text: its bytes are in this source file.
const DevelopmentKeyID = "insecure-dev"

// developmentKey is the key of local development without a configured key.
var developmentKey = sha256.Sum256([]byte("custom-gpt-adapter insecure development key; never use it with real users"))

// DevelopmentKey returns the fixed development key.
func DevelopmentKey() []byte { return bytes.Clone(developmentKey[:]) }

// ErrUnknownKey means a value was sealed with a key this keyring does not hold.
var ErrUnknownKey = errors.New("sealed with a key this process does not hold")

// ErrOpen means a sealed value does not open: it was changed, or moved from
// the place it was sealed for.
var ErrOpen = errors.New("the sealed value does not open: altered or moved from its row")

type key struct {
	id   string
	aead cipher.AEAD
}

// Keyring seals with the current key and opens with it or the previous one,
// so secrets stay readable while they are rewrapped to a new key.
type Keyring struct {
	current  key
	previous *key // nil: none
}

// NewKeyring returns a keyring that seals with current. previous, when not
// empty, only opens values (those not yet rewrapped to current).
func NewKeyring(current, previous []byte) (*Keyring, error) {
	cur, err := newKey(current)
	if err != nil {
		return nil, err
	}
	k := &Keyring{current: cur}
	if len(previous) > 0 {
		prev, err := newKey(previous)
		if err != nil {
			return nil, err
		}
		if prev.id != cur.id {
			k.previous = &prev
		}
	}
	return k, nil
}

func newKey(b []byte) (key, error) {
	if len(b) != KeySize {
		return key{}, fmt.Errorf("a key-encryption key is %d bytes, not %d", KeySize, len(b))
	}
	block, err := aes.NewCipher(b)
	if err != nil {
		return key{}, err
	}
	aead, err := cipher.NewGCM(block)
	if err != nil {
		return key{}, err
	}
	return key{id: KeyID(b), aead: aead}, nil
}

// KeyID names a key without revealing it: the first 8 bytes, in hex, of an
// HMAC-SHA256 keyed with it. Stored beside each sealed value, it tells which
// key opens the value, so a rewrap knows what is already done.
func KeyID(b []byte) string {
	if hmac.Equal(b, developmentKey[:]) {
		return DevelopmentKeyID
	}
	mac := hmac.New(sha256.New, b)
	mac.Write([]byte("custom-gpt-adapter key id"))
	return hex.EncodeToString(mac.Sum(nil)[:8])
}

// CurrentID is the id of the key new values are sealed with.
func (k *Keyring) CurrentID() string { return k.current.id }

// Holds reports whether the keyring opens values sealed with key id.
func (k *Keyring) Holds(id string) bool {
	return id == k.current.id || (k.previous != nil && id == k.previous.id)
}

// Seal encrypts plaintext for the place named by aad (table, column and row
// id) under the current key: the nonce followed by the ciphertext and tag.
func (k *Keyring) Seal(plaintext []byte, aad string) (sealed []byte, keyID string) {
	nonce := make([]byte, k.current.aead.NonceSize(), k.current.aead.NonceSize()+len(plaintext)+k.current.aead.Overhead())
	_, _ = rand.Read(nonce) // never fails (crypto/rand)
	return k.current.aead.Seal(nonce, nonce, plaintext, []byte(aad)), k.current.id
}

// Open decrypts a value that keyID sealed for the place aad names.
func (k *Keyring) Open(sealed []byte, keyID, aad string) ([]byte, error) {
	var use *key
	switch {
	case keyID == k.current.id:
		use = &k.current
	case k.previous != nil && keyID == k.previous.id:
		use = k.previous
	default:
		return nil, fmt.Errorf("%w (key id %q)", ErrUnknownKey, keyID)
	}
	n := use.aead.NonceSize()
	if len(sealed) < n+use.aead.Overhead() {
		return nil, ErrOpen
	}
	plain, err := use.aead.Open(nil, sealed[:n], sealed[n:], []byte(aad))
	if err != nil {
		return nil, ErrOpen
	}
	return plain, nil
}
