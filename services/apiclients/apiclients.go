// Package apiclients keeps the API keys of the systems and people that call incasso: a key is
// random, shown once, and stored only as its SHA-256. The REST API and the web console both
// authenticate through it; `incasso apikey` creates keys.
package apiclients

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"errors"

	"incasso/db"
	"incasso/db/dbgen"
)

// ErrUnknown is returned for an API key or client that does not exist or is disabled.
var ErrUnknown = errors.New("unknown or disabled API client")

// HashKey is how API keys are stored: SHA-256 of the key (keys are random, 256 bits).
func HashKey(key string) []byte {
	sum := sha256.Sum256([]byte(key))
	return sum[:]
}

// NewKey returns a fresh random API key.
func NewKey() (string, error) {
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		return "", err
	}
	return "ik_" + hex.EncodeToString(b), nil
}

// Ensure stores the hash of key for the client name, replacing an earlier key.
func Ensure(ctx context.Context, q *dbgen.Queries, name, key string) error {
	return q.UpsertAPIClient(ctx, dbgen.UpsertAPIClientParams{Name: name, KeySha256: HashKey(key)})
}

// ByKey returns the name of the enabled client whose API key is key, and the fingerprint of
// that key (which changes when the key is replaced); ErrUnknown when there is none.
func ByKey(ctx context.Context, q *dbgen.Queries, key string) (name string, fingerprint []byte, err error) {
	c, err := q.GetAPIClientByKeyHash(ctx, HashKey(key))
	if err = db.NotFound(err); errors.Is(err, db.ErrNotFound) {
		return "", nil, ErrUnknown
	} else if err != nil {
		return "", nil, err
	}
	return c.Name, keyFingerprint(HashKey(key)), nil
}

// Fingerprint returns the fingerprint of the enabled client's current key; ErrUnknown when
// there is no such client.
func Fingerprint(ctx context.Context, q *dbgen.Queries, name string) ([]byte, error) {
	c, err := q.GetAPIClientByName(ctx, name)
	if err = db.NotFound(err); errors.Is(err, db.ErrNotFound) {
		return nil, ErrUnknown
	} else if err != nil {
		return nil, err
	}
	return keyFingerprint(c.KeySha256), nil
}

// keyFingerprint identifies a key without revealing its hash: 8 bytes of a hash of its hash.
func keyFingerprint(keyHash []byte) []byte {
	sum := sha256.Sum256(append([]byte("incasso console fingerprint\x00"), keyHash...))
	return sum[:8]
}
