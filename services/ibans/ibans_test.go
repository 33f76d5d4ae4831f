package ibans

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/stretchr/testify/require"

	"incasso/db/dbgen"
	"incasso/devstack/testdb"
	"incasso/devstack/testkeys"
	"incasso/domain/keyring"
)

var ibansOf = []string{"IT60X0542811101000000123456", "IT02L1234512345123456789012", "DE89370400440532013000"}

// store inserts a debt and a mandate whose IBAN the vault stores (in clear without a ring).
func store(t *testing.T, pool *pgxpool.Pool, v Vault, n int) dbgen.SddMandate {
	t.Helper()
	ctx := context.Background()
	q := dbgen.New(pool)
	d, err := q.CreateDebt(ctx, dbgen.CreateDebtParams{
		EcFiscalCode: "00000000000", Iupd: fmt.Sprintf("IBAN-%d", n), ServiceCode: "TARI",
		DebtorType: "F", DebtorFiscalCode: "RSSMRA85T10A562S", DebtorName: "Mario Rossi", DebtorEmail: "m@example.it",
		AmountCents: 12345, DueDate: time.Date(2026, time.December, 31, 0, 0, 0, 0, time.UTC),
		Description: "TARI 2026", Nav: fmt.Sprintf("3010000000000000%02d", n),
	})
	require.NoError(t, err)
	ref := fmt.Sprintf("MND-%d", n)
	s := v.Seal(ref, ibansOf[n%len(ibansOf)])
	m, err := q.InsertMandate(ctx, dbgen.InsertMandateParams{
		DebtID: d.ID, Reference: ref, DebtorName: "Mario Rossi", Iban: s.Plain, IbanSealed: s.Sealed, IbanKeyID: s.KeyID,
		SignedOn: time.Date(2026, time.June, 1, 0, 0, 0, 0, time.UTC),
	})
	require.NoError(t, err)
	return m
}

func reload(t *testing.T, pool *pgxpool.Pool, m dbgen.SddMandate) dbgen.SddMandate {
	t.Helper()
	m, err := dbgen.New(pool).GetMandate(context.Background(), m.ID)
	require.NoError(t, err)
	return m
}

// What PostgreSQL holds of a sealed IBAN: ciphertext and a key id, nothing of the IBAN.
func TestSealedInTheDatabase(t *testing.T) {
	t.Parallel()
	pool, _ := testdb.New(t)
	v := Vault{Ring: testkeys.New(t, "k1")}
	m := store(t, pool, v, 1)
	var row string
	require.NoError(t, pool.QueryRow(context.Background(), "SELECT t::text FROM sdd_mandates t WHERE id = $1", m.ID).Scan(&row))
	require.NotContains(t, row, ibansOf[1])
	require.NotContains(t, row, ibansOf[1][len(ibansOf[1])-8:])
	require.False(t, m.Iban.Valid)
	require.Equal(t, "k1", m.IbanKeyID.String)
	iban, err := v.Mandate(m)
	require.NoError(t, err)
	require.Equal(t, ibansOf[1], iban)
	masked, err := v.Masked(m)
	require.NoError(t, err)
	require.Equal(t, "IT02 **** **** **** **** ***9 012", masked)

	// A sealed IBAN copied onto another mandate does not open: it is bound to its reference.
	other := store(t, pool, v, 2)
	_, err = v.Open(other.Reference, Of(m))
	require.ErrorIs(t, err, keyring.ErrOpen)
	_, err = Vault{}.Mandate(m)
	require.ErrorIs(t, err, ErrNoKeys)

	// The table refuses a row with both, or neither.
	_, err = pool.Exec(context.Background(), "UPDATE sdd_mandates SET iban = $2 WHERE id = $1", m.ID, ibansOf[1])
	require.ErrorContains(t, err, "sdd_mandates_iban_once")
}

// Rotation: the new key first, Rekey seals every mandate with it in batches (the IBANs stored
// in clear before too), and every IBAN reads the same before, during and after.
func TestRekey(t *testing.T) {
	t.Parallel()
	pool, _ := testdb.New(t)
	k1, k2 := testkeys.Key(t, "k1"), testkeys.Key(t, "k2")
	var ms []dbgen.SddMandate
	for n := range 3 {
		ms = append(ms, store(t, pool, Vault{}, n)) // before encryption: in clear
	}
	for n := 3; n < 8; n++ {
		ms = append(ms, store(t, pool, Vault{Ring: testkeys.Ring(t, k1)}, n))
	}
	rotated := Vault{Ring: testkeys.Ring(t, k2, k1)}
	for i, m := range ms {
		iban, err := rotated.Mandate(m)
		require.NoError(t, err, "readable with both keys in the ring before rekeying")
		require.Equal(t, ibansOf[i%len(ibansOf)], iban)
	}

	n, err := rotated.Rekey(context.Background(), pool, 3)
	require.NoError(t, err)
	require.Equal(t, 8, n, "three batches")
	onlyNew := Vault{Ring: testkeys.Ring(t, k2)}
	for i, m := range ms {
		m = reload(t, pool, m)
		require.Equal(t, "k2", m.IbanKeyID.String)
		require.False(t, m.Iban.Valid, "no IBAN left in clear")
		iban, err := onlyNew.Mandate(m)
		require.NoError(t, err, "the old key can go")
		require.Equal(t, ibansOf[i%len(ibansOf)], iban)
	}
	n, err = rotated.Rekey(context.Background(), pool, 3)
	require.NoError(t, err)
	require.Zero(t, n, "nothing left to do")

	_, err = Vault{}.Rekey(context.Background(), pool, 3)
	require.Error(t, err)
	_, err = Vault{Ring: testkeys.New(t, "k3")}.Rekey(context.Background(), pool, 3)
	require.ErrorIs(t, err, keyring.ErrUnknownKey, "a ring without the key that sealed them stops")
	require.Equal(t, "k2", reload(t, pool, ms[0]).IbanKeyID.String, "and changes nothing")
}
