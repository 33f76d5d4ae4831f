package keyring

import (
	"encoding/base64"
	"fmt"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

func newRing(t *testing.T, ids ...string) (*Ring, string) {
	t.Helper()
	var parts []string
	for _, id := range ids {
		k, err := Generate(id)
		require.NoError(t, err)
		parts = append(parts, k)
	}
	s := strings.Join(parts, ",")
	r, err := Parse(s)
	require.NoError(t, err)
	return r, s
}

func TestSealOpenAndRotation(t *testing.T) {
	t.Parallel()
	old, oldText := newRing(t, "k1")
	id, sealed := old.Seal([]byte("IT60X0542811101000000123456"), []byte("mandate 7"))
	require.Equal(t, "k1", id)
	require.NotContains(t, string(sealed), "IT60X")

	k2, err := Generate("k2")
	require.NoError(t, err)
	rotated, err := Parse(k2 + "," + oldText)
	require.NoError(t, err)
	require.Equal(t, "k2", rotated.Current(), "the newest key seals")
	require.Equal(t, []string{"k2", "k1"}, rotated.IDs())

	plain, err := rotated.Open(id, sealed, []byte("mandate 7"))
	require.NoError(t, err, "what the old key sealed stays readable after rotation")
	require.Equal(t, "IT60X0542811101000000123456", string(plain))

	id2, sealed2 := rotated.Seal([]byte("x"), nil)
	require.Equal(t, "k2", id2)
	_, err = old.Open(id2, sealed2, nil)
	require.ErrorIs(t, err, ErrUnknownKey)

	_, again := rotated.Seal([]byte("x"), nil)
	require.NotEqual(t, sealed2, again, "a fresh nonce each time")
}

func TestOpenRefusesAlteredData(t *testing.T) {
	t.Parallel()
	r, _ := newRing(t, "k1")
	_, sealed := r.Seal([]byte("secret"), []byte("row 1"))
	_, err := r.Open("k1", sealed, []byte("row 2"))
	require.ErrorIs(t, err, ErrOpen, "sealed for another row")
	flipped := append([]byte(nil), sealed...)
	flipped[len(flipped)-1] ^= 1
	_, err = r.Open("k1", flipped, []byte("row 1"))
	require.ErrorIs(t, err, ErrOpen)
	_, err = r.Open("k1", sealed[:5], []byte("row 1"))
	require.ErrorIs(t, err, ErrOpen)

	other, _ := newRing(t, "k1") // another key under the same id
	_, err = other.Open("k1", sealed, []byte("row 1"))
	require.ErrorIs(t, err, ErrOpen)
}

func TestParseErrorsNeverPrintKeys(t *testing.T) {
	t.Parallel()
	good, err := Generate("k1")
	require.NoError(t, err)
	_, b64, _ := strings.Cut(good, ":")
	short := base64.StdEncoding.EncodeToString([]byte("sixteen byte key"))
	for _, tc := range []struct{ in, want string }{
		{"", "key 1: want id:base64"},
		{b64, "key 1: want id:base64"},
		{"k 1:" + b64, "key 1: the id must be"},
		{"k1:" + short, "key 1 (k1): want 32 random bytes"},
		{good + ",k2:not base64!", "key 2 (k2): want 32 random bytes"},
		{good + "," + good, "key 2: id k1 appears twice"},
	} {
		_, err := Parse(tc.in)
		require.ErrorContains(t, err, tc.want, tc.in)
		require.NotContains(t, err.Error(), b64)
		require.NotContains(t, err.Error(), short)
	}
	r, err := Parse(" " + good + " ")
	require.NoError(t, err)
	for _, s := range []string{r.String(), fmt.Sprintf("%v %+v %#v", r, r, r)} {
		require.NotContains(t, s, b64)
		require.Contains(t, s, "k1")
	}
	unpadded, err := Parse("k1:" + strings.TrimRight(b64, "="))
	require.NoError(t, err, "unpadded base64 too")
	require.True(t, unpadded.Has("k1"))
}
