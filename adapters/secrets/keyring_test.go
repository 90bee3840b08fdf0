package secrets_test

import (
	"bytes"
	"crypto/rand"
	"errors"
	"testing"

	"github.com/custom-gpt-adapter/custom-gpt-adapter/adapters/secrets"
)

func newKey() []byte {
	b := make([]byte, secrets.KeySize)
	_, _ = rand.Read(b)
	return b
}

func TestSealOpens(t *testing.T) {
	t.Parallel()
	k, err := secrets.NewKeyring(newKey(), nil)
	if err != nil {
		t.Fatal(err)
	}
	a, id := k.Seal([]byte("whsec_abc"), "table.column:row-1")
	b, _ := k.Seal([]byte("whsec_abc"), "table.column:row-1")
	if id != k.CurrentID() || bytes.Equal(a, b) || bytes.Contains(a, []byte("whsec_abc")) {
		t.Fatalf("sealed %x and %x under %s: want a fresh nonce each and no plain text", a, b, id)
	}
	plain, err := k.Open(a, id, "table.column:row-1")
	if err != nil || string(plain) != "whsec_abc" {
		t.Fatalf("open: %q %v", plain, err)
	}
}

// A sealed value is bound to its place: moved to another row or column, or
// altered, it does not open.
func TestSealedValueIsBoundToItsPlace(t *testing.T) {
	t.Parallel()
	k, _ := secrets.NewKeyring(newKey(), nil)
	sealed, id := k.Seal([]byte("private key"), "custom_gpt_signing_keys.private_key:kid-1")
	for _, aad := range []string{"custom_gpt_signing_keys.private_key:kid-2", "custom_gpt_webhook_endpoints.secret:kid-1", ""} {
		if _, err := k.Open(sealed, id, aad); !errors.Is(err, secrets.ErrOpen) {
			t.Errorf("opened for %q: %v", aad, err)
		}
	}
	altered := bytes.Clone(sealed)
	altered[len(altered)-1] ^= 1
	if _, err := k.Open(altered, id, "custom_gpt_signing_keys.private_key:kid-1"); !errors.Is(err, secrets.ErrOpen) {
		t.Errorf("an altered value opened: %v", err)
	}
	if _, err := k.Open(sealed[:5], id, "custom_gpt_signing_keys.private_key:kid-1"); !errors.Is(err, secrets.ErrOpen) {
		t.Errorf("a truncated value: %v", err)
	}
}

func TestPreviousKeyOnlyOpens(t *testing.T) {
	t.Parallel()
	oldKey, newKeyBytes := newKey(), newKey()
	old, _ := secrets.NewKeyring(oldKey, nil)
	sealed, oldID := old.Seal([]byte("v"), "t.c:1")

	both, err := secrets.NewKeyring(newKeyBytes, oldKey)
	if err != nil {
		t.Fatal(err)
	}
	if both.CurrentID() == oldID || !both.Holds(oldID) || !both.Holds(both.CurrentID()) {
		t.Fatalf("ids: current %s, old %s", both.CurrentID(), oldID)
	}
	if plain, err := both.Open(sealed, oldID, "t.c:1"); err != nil || string(plain) != "v" {
		t.Fatalf("the previous key does not open: %q %v", plain, err)
	}
	if _, id := both.Seal([]byte("v"), "t.c:1"); id != both.CurrentID() {
		t.Errorf("sealed with %s, not the current key", id)
	}
	onlyNew, _ := secrets.NewKeyring(newKeyBytes, nil)
	if _, err := onlyNew.Open(sealed, oldID, "t.c:1"); !errors.Is(err, secrets.ErrUnknownKey) {
		t.Errorf("a key not held: %v", err)
	}
	// The same key given twice is one key.
	same, _ := secrets.NewKeyring(oldKey, oldKey)
	if _, err := same.Open(sealed, oldID, "t.c:1"); err != nil {
		t.Error(err)
	}
}

func TestKeyringRefusesKeysOfOtherSizes(t *testing.T) {
	t.Parallel()
	for _, n := range []int{0, 16, 24, 31, 33, 64} {
		if _, err := secrets.NewKeyring(make([]byte, n), nil); err == nil {
			t.Errorf("a %d-byte key was taken", n)
		}
	}
	if _, err := secrets.NewKeyring(newKey(), make([]byte, 16)); err == nil {
		t.Error("a 16-byte previous key was taken")
	}
}

func TestKeyIDs(t *testing.T) {
	t.Parallel()
	a, b := newKey(), newKey()
	if secrets.KeyID(a) == secrets.KeyID(b) || secrets.KeyID(a) != secrets.KeyID(bytes.Clone(a)) || len(secrets.KeyID(a)) != 16 {
		t.Errorf("ids %s %s", secrets.KeyID(a), secrets.KeyID(b))
	}
	if id := secrets.KeyID(secrets.DevelopmentKey()); id != secrets.DevelopmentKeyID {
		t.Errorf("the development key's id is %s", id)
	}
}
