// Package testkeys makes encryption keys for tests: new random keys with the given ids, written
// as INCASSO_PAYLOAD_KEYS and INCASSO_IBAN_KEYS take them, and the keyring.Ring they make.
package testkeys

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"incasso/domain/keyring"
)

// Key is a new random key with that id, written "id:base64".
func Key(t testing.TB, id string) string {
	t.Helper()
	k, err := keyring.Generate(id)
	require.NoError(t, err)
	return k
}

// Ring parses keys written by Key, the first one sealing.
func Ring(t testing.TB, keys ...string) *keyring.Ring {
	t.Helper()
	r, err := keyring.Parse(strings.Join(keys, ","))
	require.NoError(t, err)
	return r
}

// New is a ring of one new key with that id.
func New(t testing.TB, id string) *keyring.Ring {
	t.Helper()
	return Ring(t, Key(t, id))
}
