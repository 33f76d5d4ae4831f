package api

import (
	"context"
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"incasso/db/dbgen"
	"incasso/devstack/pectest"
	"incasso/devstack/testcerts"
)

// With the PEC providers' certificates configured, a receipt counts only when a trusted
// provider signed it about this message, and the delivery is dated by its signed daticert.xml,
// not by its envelope: a forged or altered receipt, one signed by someone else or about
// another message is refused and changes nothing.
func TestPECReceiptsSigned(t *testing.T) {
	t.Parallel()
	ca := testcerts.NewCA(t, "PEC providers")
	provider := ca.Signer(t, "Gestore PEC di prova")
	e := newEnv(t, func(s *Server) { s.PECProviders = ca.Pool() })
	e.setNow(time.Now()) // the certificates are valid for the next hour
	e.mustCreateDebt(t, validRequest("PEC-S"))
	m := e.archive(t, "PEC-S", archived{channel: "pec", kind: "sollecito", step: "sollecito"})
	other := e.archive(t, "PEC-S", archived{channel: "pec", kind: "sollecito"})
	deliveredAt := time.Date(2026, time.November, 23, 10, 11, 12, 0, time.FixedZone("CET", 3600))
	delivery := pectest.Receipt{Kind: "avvenuta-consegna", MessageID: m.MessageID, At: deliveredAt}

	for name, tc := range map[string]struct {
		raw   []byte
		field string
	}{
		"unsigned, as the development stack posts them": {pecReceipt("avvenuta-consegna", deliveredAt.Format(time.RFC1123Z), m.MessageID), "body"},
		"signed by someone else":                        {pectest.Signed(t, testcerts.NewCA(t, "impostore").Signer(t, "impostore"), delivery, nil), "body"},
		"altered after signing": {pectest.Signed(t, provider, delivery, func(b []byte) []byte {
			return []byte(pectest.SignedPart(pectest.Receipt{Kind: delivery.Kind, MessageID: m.MessageID, At: deliveredAt.Add(-72 * time.Hour)}))
		}), "body"},
		"about another message": {pectest.Signed(t, provider, pectest.Receipt{Kind: "avvenuta-consegna", MessageID: other.MessageID, At: deliveredAt}, nil), "daticert.xml"},
		"a kind not recorded":   {pectest.Signed(t, provider, pectest.Receipt{Kind: "presa-in-carico", MessageID: m.MessageID, At: deliveredAt}, nil), "daticert.xml"},
	} {
		t.Run(name, func(t *testing.T) {
			resp, body := e.postReceipt(t, m.ID, tc.raw)
			p := requireProblem(t, resp, body, http.StatusUnprocessableEntity)
			require.Len(t, p.Errors, 1)
			require.Equal(t, tc.field, p.Errors[0].Field, string(body))
		})
	}
	var n int
	require.NoError(t, e.pool.QueryRow(context.Background(), "SELECT count(*) FROM communication_receipts").Scan(&n))
	require.Zero(t, n, "nothing stored")

	// The envelope says two days later and calls it an acceptance: daticert.xml wins.
	raw := pectest.Signed(t, provider, delivery, nil)
	resp, body := e.postReceipt(t, m.ID, raw)
	require.Equal(t, http.StatusCreated, resp.StatusCode, string(body))
	require.Equal(t, "avvenuta-consegna", decodeReceipt(t, body).Kind)
	stored, err := dbgen.New(e.pool).GetArchivedCommunication(context.Background(), m.ID)
	require.NoError(t, err)
	require.True(t, deliveredAt.Equal(stored.DeliveredAt.Time), stored.DeliveredAt.Time)
	resp, body = e.postReceipt(t, m.ID, raw)
	require.Equal(t, http.StatusOK, resp.StatusCode, "the same receipt again: %s", body)
}
