package gpd_test

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"incasso/clients/gpd"
	"incasso/devstack/contracttest"
	"incasso/devstack/pagopasim"
)

// serveContract is the simulator behind the validator of the GPD specs: the debt-positions
// spec under pagopasim.GPDBasePath, the receipts spec under pagopasim.ReceiptsBasePath.
func serveContract(t *testing.T, p *pagopasim.PagoPA) *contracttest.Server {
	return contracttest.Serve(t, p.Handler(), testKey, map[string]string{
		pagopasim.GPDBasePath:      "gpd-debt-positions-v1.json",
		pagopasim.ReceiptsBasePath: "gpd-payments-receipts.json",
	})
}

// TestContract runs every client operation that the shared specs describe against the
// simulator behind the spec validator, on success and on the usual failures.
func TestContract(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	p := pagopasim.NewPagoPA(testKey, "http://127.0.0.1:1/unused", "node-key", testOrg, testOrg+"_01")
	ct := serveContract(t, p)
	url := ct.URL
	noRetry := gpd.WithRetry(gpd.RetryPolicy{Attempts: 1})
	c := gpd.New(url+pagopasim.GPDBasePath, testKey, 5*time.Second, noRetry)
	receipts := gpd.NewReceipts(url+pagopasim.ReceiptsBasePath, testKey, 5*time.Second, noRetry)

	// Every optional field the client may send, two beneficiaries included.
	pos := samplePosition(t, "IUPD-CONTRACT", 9)
	pos.SwitchToExpired = true
	opt := &pos.PaymentOptions[0]
	transfers, err := gpd.SplitTransfers(opt.Amount, []gpd.Share{
		{BasisPoints: 9000, Category: "9/0101108TS/", IBAN: "IT60X0542811101000000123456", RemittanceInformation: "TARI 2026"},
		{BasisPoints: 1000, Category: "9/0601100TS/", IBAN: "IT02A0301503200000003517230", RemittanceInformation: "TEFA 2026",
			OrganizationFiscalCode: "80012345678", CompanyName: "Provincia di Esempio"},
	})
	require.NoError(t, err)
	opt.Transfers = transfers
	require.NoError(t, c.CreateAndPublish(ctx, testOrg, pos))
	require.ErrorIs(t, c.CreateAndPublish(ctx, testOrg, pos), gpd.ErrConflict)

	got, err := c.Get(ctx, testOrg, pos.IUPD)
	require.NoError(t, err, "%v", ct.Mismatches())
	_, err = c.Get(ctx, testOrg, "IUPD-NONE")
	require.ErrorIs(t, err, gpd.ErrNotFound)

	// What Get returned goes back with Update: read-only fields are not sent.
	got.PaymentOptions[0].Description = "TARI 2026 rata unica, rettifica"
	require.NoError(t, c.Update(ctx, testOrg, got))
	require.ErrorIs(t, c.Update(ctx, testOrg, samplePosition(t, "IUPD-NONE", 10)), gpd.ErrNotFound)

	// A receipt, once paid; none before.
	_, err = receipts.GetReceipt(ctx, testOrg, opt.IUV)
	require.ErrorIs(t, err, gpd.ErrNotFound)
	_, err = p.Pay(ctx, pagopasim.Payment{NAV: got.PaymentOptions[0].NAV, Undelivered: true})
	require.NoError(t, err)
	xml, err := receipts.GetReceipt(ctx, testOrg, opt.IUV)
	require.NoError(t, err)
	require.Contains(t, string(xml), "<receiptId>")

	// Paid positions can be neither updated nor invalidated.
	require.ErrorIs(t, c.Update(ctx, testOrg, got), gpd.ErrConflict)
	require.ErrorIs(t, c.Invalidate(ctx, testOrg, pos.IUPD), gpd.ErrConflict)
	other := samplePosition(t, "IUPD-CONTRACT-2", 11)
	other.Email, other.PaymentOptions[0].Transfers[0].IBAN = "", "" // zero optional fields drop no required one
	require.NoError(t, c.CreateAndPublish(ctx, testOrg, other))
	require.NoError(t, c.Invalidate(ctx, testOrg, other.IUPD))
	require.ErrorIs(t, c.Invalidate(ctx, testOrg, "IUPD-NONE"), gpd.ErrNotFound)

	require.Empty(t, ct.Mismatches())
}

// TestContractCatchesMismatches proves the validator is not vacuous.
func TestContractCatchesMismatches(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	ct := serveContract(t, pagopasim.NewPagoPA(testKey, "http://127.0.0.1:1/unused", "node-key", testOrg, testOrg+"_01"))
	noRetry := gpd.WithRetry(gpd.RetryPolicy{Attempts: 1})

	bad := samplePosition(t, "IUPD-BAD", 12)
	bad.PaymentOptions[0].Transfers[0].IDTransfer = "7" // not in the enum
	require.ErrorIs(t, gpd.New(ct.URL+pagopasim.GPDBasePath, testKey, 5*time.Second, noRetry).CreateAndPublish(ctx, testOrg, bad), gpd.ErrRejected)
	require.Len(t, ct.Mismatches(), 1)
	require.Contains(t, ct.Mismatches()[0], "idTransfer")

	_, err := gpd.New(ct.URL+pagopasim.GPDBasePath, "wrong-key", 5*time.Second, noRetry).Get(ctx, testOrg, "X")
	require.ErrorIs(t, err, gpd.ErrRejected)
	require.Len(t, ct.Mismatches(), 2, "the subscription key is checked")

	// MarkPaid is not in the shared spec.
	err = gpd.New(ct.URL+pagopasim.GPDBasePath, testKey, 5*time.Second, noRetry).MarkPaid(ctx, testOrg, "301000000000000012", gpd.Paid{Date: time.Now()})
	require.Error(t, err)
	require.Len(t, ct.Mismatches(), 3)
	require.Contains(t, ct.Mismatches()[2], "no operation of the spec")
}
