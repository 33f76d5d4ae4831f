package appio_test

import (
	"context"
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"incasso/clients/appio"
	"incasso/devstack/contracttest"
	"incasso/devstack/iosim"
)

const (
	tariKey  = "io-key-tari-0123456789abcdef0123"
	mensaKey = "io-key-mensa-0123456789abcdef012"
	citizen  = "RSSMRA80A01H501U" // has a profile, takes TARI, turned MENSA off
	stranger = "VRDGPP70C15F205N" // no profile
)

// serveContract serves the simulator behind the App IO spec, at url + iosim.BasePath, with
// the request bodies left as the client sent them (it archives their exact bytes).
func serveContract(t *testing.T, sim http.Handler) (*contracttest.Server, string) {
	t.Helper()
	ct := contracttest.ServeWith(t, sim, contracttest.ServeOptions{
		Specs: map[string]string{iosim.BasePath: "citizen/io-services.yaml"}, ExactBodies: true,
	})
	return ct, ct.URL + iosim.BasePath
}

func newSim() *iosim.IO {
	sim := iosim.New(map[string]string{tariKey: "TARI", mensaKey: "MENSA"})
	sim.AddProfile(citizen, mensaKey)
	return sim
}

func payment() appio.Message {
	return appio.Message{
		FiscalCode: citizen,
		Subject:    "Avviso di pagamento TARI 2026",
		Markdown: "Gentile Mario Rossi,\n\nil **Comune di Esempio** le invia l'avviso di pagamento pagoPA per la TARI 2026: " +
			"può pagarlo qui, nell'app IO.",
		DueDate: time.Date(2026, time.December, 31, 23, 0, 0, 0, time.UTC),
		Payment: &appio.Payment{NoticeNumber: "302201151398574181", Amount: 123456, PayeeFiscalCode: "00560180128"},
	}
}

// TestContract runs every operation of the client against the simulator behind the spec
// validator: the profile check (present, opted out, absent), a message with payment data, and
// the usual failures.
func TestContract(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	sim := newSim()
	ct, url := serveContract(t, sim.Handler())
	c := appio.New(url, map[string]string{"TARI": tariKey, "MENSA": mensaKey, "IMU": "unknown-key"}, 5*time.Second)
	require.True(t, c.Enabled("TARI"))
	require.False(t, c.Enabled("SALA"))
	require.Equal(t, []string{"IMU", "MENSA", "TARI"}, c.Services())

	p, err := c.Profile(ctx, "TARI", citizen)
	require.NoError(t, err, "%v", ct.Mismatches())
	require.True(t, p.SenderAllowed)
	p, err = c.Profile(ctx, "MENSA", citizen)
	require.NoError(t, err)
	require.False(t, p.SenderAllowed, "the citizen turned MENSA's messages off")
	_, err = c.Profile(ctx, "TARI", stranger)
	require.ErrorIs(t, err, appio.ErrNoProfile)
	require.NotContains(t, err.Error(), stranger, "no fiscal code in errors")
	_, err = c.Profile(ctx, "IMU", citizen)
	require.ErrorIs(t, err, appio.ErrUnauthorized)
	_, err = c.Profile(ctx, "SALA", citizen)
	require.ErrorIs(t, err, appio.ErrNotEnabled)

	body, err := payment().Body()
	require.NoError(t, err)
	sent, err := c.Submit(ctx, "TARI", body)
	require.NoError(t, err, "%v", ct.Mismatches())
	require.Len(t, sent.ID, 26)
	require.JSONEq(t, `{"id":"`+sent.ID+`"}`, string(sent.Answer))

	got := sim.MessagesTo(citizen)
	require.Len(t, got, 1)
	m := got[0]
	require.Equal(t, sent.ID, m.ID)
	require.Equal(t, "TARI", m.Service)
	require.Equal(t, body, []byte(m.Body), "IO got the exact bytes built")
	require.Equal(t, "2026-12-31T23:00:00.000Z", m.Content.DueDate)
	require.NotNil(t, m.Content.PaymentData)
	require.Equal(t, int64(123456), m.Content.PaymentData.Amount)
	require.Equal(t, "302201151398574181", m.Content.PaymentData.NoticeNumber)
	require.Equal(t, "00560180128", m.Content.PaymentData.Payee.FiscalCode)

	// A message to a service the citizen turned off is not delivered: IO answers 500.
	_, err = c.Submit(ctx, "MENSA", body)
	var se *appio.StatusError
	require.ErrorAs(t, err, &se)
	require.Equal(t, http.StatusInternalServerError, se.Status)
	require.True(t, se.Temporary())

	// A message without payment data is valid too.
	info := payment()
	info.Payment, info.DueDate = nil, time.Time{}
	body, err = info.Body()
	require.NoError(t, err)
	_, err = c.Submit(ctx, "TARI", body)
	require.NoError(t, err)
	require.Len(t, sim.MessagesTo(citizen), 2)

	require.Empty(t, ct.Mismatches())
}

// TestContractCatchesMismatches proves the validator is not vacuous: a message the spec
// refuses (a subject too short, bypassing Message.Body's checks) is reported.
func TestContractCatchesMismatches(t *testing.T) {
	t.Parallel()
	ct, url := serveContract(t, newSim().Handler())
	c := appio.New(url, map[string]string{"TARI": tariKey}, 5*time.Second)
	_, err := c.Submit(context.Background(), "TARI", []byte(`{"fiscal_code":"`+citizen+`","content":{"subject":"short","markdown":"x"}}`))
	require.ErrorIs(t, err, appio.ErrRejected)
	require.NotEmpty(t, ct.Mismatches())
	require.Contains(t, ct.Mismatches()[0], "request breaks the spec")
}
