// Package keyring holds the AES-256-GCM keys with which incasso encrypts data it hands to
// others or keeps at rest (Temporal payloads, the mandates' IBANs). A ring is several keys,
// each with an id: the first one encrypts, all of them decrypt, so a key is rotated by putting
// a new one first and keeping the old ones until nothing sealed with them is left. What a ring
// seals names its key by id, stored beside the ciphertext.
//
// A ring is written "id:base64,id:base64" (the newest first), each key 32 random bytes in
// standard base64, e.g. `openssl rand -base64 32`. Neither a ring nor its errors ever print
// key material. Nonces are 12 random bytes from crypto/rand: a key may seal about 2^32
// messages before it must be rotated.
package keyring

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"regexp"
	"strings"
)

// KeySize is the length of a key: AES-256.
const KeySize = 32

// ErrUnknownKey is returned by Open for data sealed with a key the ring does not hold.
var ErrUnknownKey = errors.New("sealed with a key that is not in the ring")

// ErrOpen is returned by Open when the data was altered or sealed with another key of that id.
var ErrOpen = errors.New("cannot be decrypted: altered, or sealed with another key of that id")

var idPattern = regexp.MustCompile(`^[A-Za-z0-9._-]{1,32}$`)

type key struct {
	id   string
	aead cipher.AEAD
}

// Ring is a set of keys; the first one seals. The zero value holds no key.
type Ring struct {
	keys []key
}

// Parse reads a ring written "id:base64,id:base64", the key that seals first.
func Parse(s string) (*Ring, error) {
	r := &Ring{}
	seen := map[string]bool{}
	for i, item := range strings.Split(s, ",") {
		id, b64, ok := strings.Cut(strings.TrimSpace(item), ":")
		switch {
		case !ok:
			return nil, fmt.Errorf("key %d: want id:base64", i+1)
		case !idPattern.MatchString(id):
			return nil, fmt.Errorf("key %d: the id must be 1 to 32 of A-Z a-z 0-9 . _ -", i+1)
		case seen[id]:
			return nil, fmt.Errorf("key %d: id %s appears twice", i+1, id)
		}
		raw, err := base64.StdEncoding.DecodeString(b64)
		if err != nil {
			raw, err = base64.RawStdEncoding.DecodeString(b64)
		}
		if err != nil || len(raw) != KeySize {
			return nil, fmt.Errorf("key %d (%s): want %d random bytes in base64", i+1, id, KeySize)
		}
		if err := r.add(id, raw); err != nil {
			return nil, err
		}
		seen[id] = true
	}
	return r, nil
}

// Generate returns a ring of one new random key with the given id, written as Parse reads it.
func Generate(id string) (string, error) {
	if !idPattern.MatchString(id) {
		return "", fmt.Errorf("key id %q: want 1 to 32 of A-Z a-z 0-9 . _ -", id)
	}
	raw := make([]byte, KeySize)
	if _, err := rand.Read(raw); err != nil {
		return "", err
	}
	return id + ":" + base64.StdEncoding.EncodeToString(raw), nil
}

func (r *Ring) add(id string, raw []byte) error {
	block, err := aes.NewCipher(raw)
	if err != nil {
		return err
	}
	aead, err := cipher.NewGCM(block)
	if err != nil {
		return err
	}
	r.keys = append(r.keys, key{id: id, aead: aead})
	return nil
}

// Current is the id of the key that seals.
func (r *Ring) Current() string { return r.keys[0].id }

// IDs are the ids of the keys, the one that seals first.
func (r *Ring) IDs() []string {
	ids := make([]string, len(r.keys))
	for i, k := range r.keys {
		ids[i] = k.id
	}
	return ids
}

// String names the keys, never their bytes.
func (r *Ring) String() string { return "keyring(" + strings.Join(r.IDs(), ",") + ")" }

// GoString is String, so that %#v prints no key material either.
func (r *Ring) GoString() string { return r.String() }

// Seal encrypts plaintext with the current key, authenticating additional (which is not
// stored: Open needs the same), and returns the key's id and nonce || ciphertext || tag.
func (r *Ring) Seal(plaintext, additional []byte) (keyID string, sealed []byte) {
	k := r.keys[0]
	nonce := make([]byte, k.aead.NonceSize(), k.aead.NonceSize()+len(plaintext)+k.aead.Overhead())
	_, _ = rand.Read(nonce) // never fails
	return k.id, k.aead.Seal(nonce, nonce, plaintext, additional)
}

// Open decrypts what Seal returned with the key of that id.
func (r *Ring) Open(keyID string, sealed, additional []byte) ([]byte, error) {
	for _, k := range r.keys {
		if k.id != keyID {
			continue
		}
		n := k.aead.NonceSize()
		if len(sealed) < n+k.aead.Overhead() {
			return nil, ErrOpen
		}
		plain, err := k.aead.Open(nil, sealed[:n], sealed[n:], additional)
		if err != nil {
			return nil, ErrOpen
		}
		return plain, nil
	}
	return nil, fmt.Errorf("key %s: %w", keyID, ErrUnknownKey)
}

// Has reports whether the ring holds a key of that id.
func (r *Ring) Has(keyID string) bool {
	for _, k := range r.keys {
		if k.id == keyID {
			return true
		}
	}
	return false
}
