package send_test

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"incasso/clients/send"
	"incasso/devstack/contracttest"
	"incasso/devstack/fakeclock"
	"incasso/devstack/sendsim"
)

const apiKey = "send-key"

func serve(t *testing.T, clock *fakeclock.Clock) (*sendsim.SEND, *contracttest.Server) {
	sim := sendsim.New(sendsim.Config{APIKey: apiKey, Now: clock.Now, DefaultDays: 5})
	srv := contracttest.ServeSpecs(t, sim.Handler(), []string{"/sim/send/"},
		contracttest.Spec{Dir: "citizen", Name: "send-b2b-pa.yaml", Auth: contracttest.APIKey("x-api-key", apiKey)})
	return sim, srv
}

func notification(t *testing.T, c *send.Client, protocol, taxID string) send.Notification {
	refs, err := c.Upload(context.Background(), send.Document{Title: "act", Content: []byte("%PDF-1.4 act")}, send.Document{Title: "notice", Content: []byte("%PDF-1.4 notice")})
	require.NoError(t, err)
	return send.Notification{
		ProtocolNumber: protocol, IdempotenceToken: "1", Subject: "Accertamento esecutivo ACC/2027/1",
		Recipient: send.Recipient{FiscalCode: taxID, Name: "Mario Rossi", PEC: "mario@pec.example.it",
			Address: &send.Address{Street: "Via Roma 1", PostalCode: "00100", City: "Roma", Province: "RM"}},
		Act: refs[0], ActTitle: "Accertamento esecutivo", Payment: refs[1], NoticeNumber: "301000000000000012",
		CreditorTaxID: "80012345678", SenderName: "Comune di Esempio", TaxonomyCode: "010101P", Amount: 12050, PayBy: "2027-03-31",
	}
}

// TestContract sends a notification, finds it accepted, delivering, then perfected after the
// scripted days with its legal facts; and another that ends unreachable. Every call and every
// answer goes through the spec's validator.
func TestContract(t *testing.T) {
	t.Parallel()
	clock := fakeclock.New(time.Date(2027, 2, 1, 9, 0, 0, 0, time.UTC))
	sim, srv := serve(t, clock)
	c := send.New(srv.URL, apiKey, 5*time.Second)
	ctx := context.Background()

	n := notification(t, c, "ACC-2027-1", "RSSMRA80A01H501U")
	id, err := c.Create(ctx, n)
	require.NoError(t, err, "%v", srv.Mismatches())
	require.Len(t, id, 36)
	_, err = c.Create(ctx, n)
	require.ErrorIs(t, err, send.ErrConflict, "the same protocol number and token twice")

	st, err := c.RequestStatus(ctx, n.ProtocolNumber, n.IdempotenceToken)
	require.NoError(t, err, "%v", srv.Mismatches())
	require.Equal(t, send.RequestAccepted, st.Status)
	require.Equal(t, id, st.RequestID)
	require.Regexp(t, `^[A-Z]{4}-[A-Z]{4}-[A-Z]{4}-[0-9]{6}-[A-Z]-[0-9]$`, st.IUN)

	s, err := c.Notification(ctx, st.IUN)
	require.NoError(t, err, "%v", srv.Mismatches())
	require.Equal(t, "DELIVERING", s.Status)
	require.True(t, s.PerfectedAt.IsZero())

	clock.Advance(5 * 24 * time.Hour)
	s, err = c.Notification(ctx, st.IUN)
	require.NoError(t, err)
	require.Equal(t, "EFFECTIVE_DATE", s.Status)
	require.Equal(t, clock.Now(), s.PerfectedAt)
	require.False(t, s.Failed())
	require.Len(t, s.LegalFacts, 2)
	for _, f := range s.LegalFacts {
		lf, err := c.DownloadLegalFact(ctx, st.IUN, f.Key)
		require.NoError(t, err, "%v", srv.Mismatches())
		require.Equal(t, "%PDF", string(lf.Content[:4]))
	}

	sim.Script("VRDLGU75B02F205X", sendsim.Outcome{Outcome: sendsim.Unreachable, AfterDays: 2})
	n2 := notification(t, c, "ACC-2027-2", "VRDLGU75B02F205X")
	n2.Recipient.PEC, n2.Recipient.Address = "", nil
	_, err = c.Create(ctx, n2)
	require.NoError(t, err)
	st2, err := c.RequestStatus(ctx, n2.ProtocolNumber, n2.IdempotenceToken)
	require.NoError(t, err)
	clock.Advance(2 * 24 * time.Hour)
	s, err = c.Notification(ctx, st2.IUN)
	require.NoError(t, err)
	require.Equal(t, "UNREACHABLE", s.Status)
	require.True(t, s.Failed())
	require.True(t, s.PerfectedAt.IsZero())
	require.Equal(t, "ANALOG_FAILURE_DELIVERY", s.LegalFacts[len(s.LegalFacts)-1].Category)

	require.Empty(t, srv.Mismatches())
}

// TestContractCatchesMismatches: a notification that breaks the spec (a taxonomy code of the
// wrong form) is refused and recorded, and a document whose hash does not match its upload is
// refused by the simulator.
func TestContractCatchesMismatches(t *testing.T) {
	t.Parallel()
	_, srv := serve(t, fakeclock.New(time.Date(2027, 2, 1, 9, 0, 0, 0, time.UTC)))
	c := send.New(srv.URL, apiKey, 5*time.Second)
	n := notification(t, c, "ACC-BAD-1", "RSSMRA80A01H501U")
	n.TaxonomyCode = "TARI"
	_, err := c.Create(context.Background(), n)
	require.ErrorIs(t, err, send.ErrRejected)
	require.NotContains(t, err.Error(), "RSSMRA80A01H501U")
	require.Len(t, srv.Mismatches(), 1)
	require.Contains(t, srv.Mismatches()[0], "taxonomyCode")

	n = notification(t, c, "ACC-BAD-2", "RSSMRA80A01H501U")
	n.Act.SHA256 = n.Payment.SHA256
	_, err = c.Create(context.Background(), n)
	require.ErrorIs(t, err, send.ErrRejected)
	require.Len(t, srv.Mismatches(), 1, "a wrong digest is within the spec: the simulator refuses it")
}
