package users

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"incasso/db/dbgen"
	"incasso/devstack/testdb"
	"incasso/services/access"
)

func TestHash(t *testing.T) {
	t.Parallel()
	h, err := Hash("una password lunga")
	require.NoError(t, err)
	require.True(t, strings.HasPrefix(h, "$argon2id$v=19$m=65536,t=3,p=2$"), h)
	require.True(t, matches(h, "una password lunga"))
	require.False(t, matches(h, "una password lungA"))
	h2, err := Hash("una password lunga")
	require.NoError(t, err)
	require.NotEqual(t, h, h2, "salted")
	for _, bad := range []string{"", "$argon2i$v=19$m=65536,t=3,p=2$c2FsdA$a2V5", h[:len(h)-4] + "!!!!", strings.Replace(h, "v=19", "v=18", 1)} {
		require.False(t, matches(bad, "una password lunga"), bad)
	}
}

func TestLoginAndLockout(t *testing.T) {
	t.Parallel()
	pool, _ := testdb.New(t)
	ctx := context.Background()
	q := dbgen.New(pool)
	now := time.Date(2026, 12, 6, 10, 0, 0, 0, time.UTC)
	require.ErrorContains(t, Add(ctx, q, "mario", access.Finance, "corta"), "at least 12")
	require.ErrorContains(t, Add(ctx, q, "mario", "capo", "una password lunga"), "unknown role")
	require.NoError(t, Add(ctx, q, "mario", access.Operator, "una password lunga"))

	p, fp, err := Login(ctx, q, "mario", "una password lunga", now)
	require.NoError(t, err)
	require.Equal(t, access.Principal{Kind: access.KindUser, Name: "mario", Role: access.Operator}, p)
	_, fp2, err := ByName(ctx, q, "mario")
	require.NoError(t, err)
	require.Equal(t, fp, fp2)

	_, _, err = Login(ctx, q, "nessuno", "una password lunga", now)
	require.ErrorIs(t, err, ErrRefused)
	for i := range MaxFailures - 1 {
		_, _, err = Login(ctx, q, "mario", "sbagliata", now)
		require.ErrorIs(t, err, ErrRefused, "failure %d", i+1)
	}
	_, _, err = Login(ctx, q, "mario", "sbagliata", now)
	require.ErrorIs(t, err, ErrLocked, "the 5th failure locks")
	_, _, err = Login(ctx, q, "mario", "una password lunga", now.Add(LockFor-time.Second))
	require.ErrorIs(t, err, ErrLocked, "even the right password, while locked")
	_, _, err = Login(ctx, q, "mario", "una password lunga", now.Add(LockFor))
	require.NoError(t, err, "unlocked after LockFor")

	// A success resets the count: four more failures do not lock.
	for range MaxFailures - 1 {
		_, _, err = Login(ctx, q, "mario", "sbagliata", now.Add(LockFor))
		require.ErrorIs(t, err, ErrRefused)
	}
	_, _, err = Login(ctx, q, "mario", "una password lunga", now.Add(LockFor))
	require.NoError(t, err)

	// A new password or role changes the fingerprint, which ends the sessions.
	require.NoError(t, Add(ctx, q, "mario", access.Finance, "un'altra password lunga"))
	_, fp3, err := ByName(ctx, q, "mario")
	require.NoError(t, err)
	require.NotEqual(t, fp, fp3)

	require.NoError(t, Disable(ctx, q, "mario"))
	require.ErrorIs(t, Disable(ctx, q, "mario"), ErrUnknown)
	_, _, err = Login(ctx, q, "mario", "un'altra password lunga", now.Add(LockFor))
	require.ErrorIs(t, err, ErrRefused)
	_, _, err = ByName(ctx, q, "mario")
	require.ErrorIs(t, err, ErrUnknown)
}
