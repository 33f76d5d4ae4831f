package pec_test

import (
	"bytes"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"incasso/devstack/pectest"
	"incasso/devstack/testcerts"
	"incasso/domain/pec"
)

var delivered = pectest.Receipt{
	Kind: "avvenuta-consegna", MessageID: "incasso.42.sollecito@comune.example.it",
	At: time.Date(2026, 12, 6, 10, 11, 12, 0, time.FixedZone("CET", 3600)),
}

// A receipt signed by a trusted provider says what its signed daticert.xml says, whatever the
// envelope's headers say; stored with bare LFs it verifies the same.
func TestVerify(t *testing.T) {
	ca := testcerts.NewCA(t, "PEC providers")
	raw := pectest.Signed(t, ca.Signer(t, "Gestore PEC di prova"), delivered, nil)
	r, err := pec.Verify(raw, ca.Pool(), time.Now())
	require.NoError(t, err)
	require.Equal(t, "avvenuta-consegna", r.Kind)
	require.Equal(t, "nessuno", r.Error)
	require.Equal(t, delivered.MessageID, r.MessageID)
	require.True(t, delivered.At.Equal(r.At), r.At)
	require.Equal(t, "Gestore PEC di prova", r.Provider)
	require.Equal(t, "CN=Gestore PEC di prova", r.Signer)

	lf, err := pec.Verify(bytes.ReplaceAll(raw, []byte("\r\n"), []byte("\n")), ca.Pool(), time.Now())
	require.NoError(t, err)
	require.Equal(t, r, lf)

	// The envelope is not signed: a forged Date or X-Ricevuta changes nothing.
	forged := bytes.Replace(raw, []byte("X-Ricevuta: avvenuta-consegna"), []byte("X-Ricevuta: accettazione"), 1)
	r2, err := pec.Verify(forged, ca.Pool(), time.Now())
	require.NoError(t, err)
	require.Equal(t, r, r2)
}

// Each way a receipt can be wrong is refused with its own error.
func TestVerifyRefuses(t *testing.T) {
	ca := testcerts.NewCA(t, "PEC providers")
	signer := ca.Signer(t, "Gestore PEC di prova")
	other := testcerts.NewCA(t, "someone else")
	backdated := func(b []byte) []byte {
		return bytes.Replace(b, []byte("Content-Type: text/plain"), []byte("Content-Type: text/plain "), 1)
	}
	unsigned := []byte("From: a@example.it\r\nX-Ricevuta: avvenuta-consegna\r\nContent-Type: text/plain\r\n\r\nconsegnato\r\n")
	for _, tt := range []struct {
		name string
		raw  []byte
		want error
	}{
		{"unsigned", unsigned, pec.ErrNotSigned},
		{"not a message", []byte("\x00\x01"), pec.ErrNotSigned},
		{"signed part changed", pectest.Signed(t, signer, delivered, backdated), pec.ErrSignature},
		{"signed by another CA", pectest.Signed(t, other.Signer(t, "impostore"), delivered, nil), pec.ErrUntrusted},
		{"not a receipt", pectest.Signed(t, signer, pectest.Receipt{Kind: "posta-certificata", MessageID: "x@y", At: delivered.At}, nil), pec.ErrDaticert},
		{"no message id", pectest.Signed(t, signer, pectest.Receipt{Kind: "accettazione", At: delivered.At}, nil), pec.ErrDaticert},
	} {
		t.Run(tt.name, func(t *testing.T) {
			_, err := pec.Verify(tt.raw, ca.Pool(), time.Now())
			require.ErrorIs(t, err, tt.want)
		})
	}
	_, err := pec.Verify(pectest.Signed(t, signer, delivered, nil), ca.Pool(), time.Now().Add(2*time.Hour))
	require.ErrorIs(t, err, pec.ErrUntrusted, "a certificate expired at the time of the check")
}

// FuzzVerify feeds receipts to the verifier: it never panics, and nothing but the signed
// receipt verifies.
func FuzzVerify(f *testing.F) {
	ca := testcerts.NewCA(f, "PEC providers")
	raw := pectest.Signed(f, ca.Signer(f, "Gestore PEC di prova"), delivered, nil)
	f.Add(raw)
	f.Add([]byte(pectest.SignedPart(delivered)))
	f.Add(bytes.ReplaceAll(raw, []byte("\r\n"), []byte("\n")))
	pool := ca.Pool()
	at := time.Now()
	f.Fuzz(func(t *testing.T, b []byte) {
		r, err := pec.Verify(b, pool, at)
		if err == nil && (r.MessageID != delivered.MessageID || !r.At.Equal(delivered.At) || r.Kind != delivered.Kind) {
			t.Fatalf("a receipt that is not the one signed verified: %+v", r)
		}
	})
}
