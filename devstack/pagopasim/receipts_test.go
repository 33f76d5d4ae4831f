package pagopasim_test

import (
	"context"
	"net/http"
	"regexp"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"incasso/clients/gpd"
	"incasso/devstack/pagopasim"
	"incasso/domain/pagopa"
)

// storedReceipt reads the receipt of iuv from the receipts API, checking it is valid.
func (e *simEnv) storedReceipt(t *testing.T, iuv string) ([]byte, pagopa.ReceiptV2) {
	t.Helper()
	body, err := e.receipts.GetReceipt(context.Background(), testOrg, iuv)
	require.NoError(t, err)
	var req pagopa.SendRTV2Request
	require.NoError(t, pagopa.DecodeBody(requireValidReceipt(t, body), &req))
	require.Equal(t, pagopa.Header{IDPA: testOrg, IDBrokerPA: testBroker, IDStation: testStation}, req.Header)
	return body, req.Receipt
}

func TestReceiptsAPI(t *testing.T) {
	t.Parallel()
	e := start(t)
	ctx := context.Background()
	nav := e.register(t, 700, 5000)

	_, err := e.receipts.GetReceipt(ctx, testOrg, nav[1:])
	require.ErrorIs(t, err, gpd.ErrNotFound, "not paid yet")

	status, body := e.pay(t, nav, "")
	require.Equal(t, http.StatusOK, status, "%s", body)
	stored, r := e.storedReceipt(t, nav[1:])
	require.Equal(t, decodeResult(t, body).ReceiptID, r.ReceiptID)
	require.Equal(t, e.ec.Calls()[0].Body, stored, "the receipts API keeps the very paSendRTV2 the EC got")

	_, err = e.receipts.GetReceipt(ctx, "11111111111", nav[1:])
	require.ErrorIs(t, err, gpd.ErrNotFound, "receipts are per organization")
	_, err = gpd.NewReceipts(e.url+pagopasim.ReceiptsBasePath, "wrong-key", time.Second).GetReceipt(ctx, testOrg, nav[1:])
	require.ErrorIs(t, err, gpd.ErrRejected)
}

// TestReceiptsAPIKeepsTheLast: a receipt the EC refused is kept too, and the next payment's
// receipt replaces it.
func TestReceiptsAPIKeepsTheLast(t *testing.T) {
	t.Parallel()
	e := start(t)
	nav := e.register(t, 710, 5000)
	e.ec.setAnswer(pagopa.KO(pagopa.FaultSystem, "try later", testOrg))
	status, body := e.pay(t, nav, "")
	require.Equal(t, http.StatusOK, status, "%s", body)
	refused := decodeResult(t, body)
	_, r := e.storedReceipt(t, nav[1:])
	require.Equal(t, refused.ReceiptID, r.ReceiptID)

	e.ec.setAnswer(pagopa.OK())
	status, body = e.pay(t, nav, "")
	require.Equal(t, http.StatusOK, status, "%s", body)
	accepted := decodeResult(t, body)
	require.NotEqual(t, refused.ReceiptID, accepted.ReceiptID)
	_, r = e.storedReceipt(t, nav[1:])
	require.Equal(t, accepted.ReceiptID, r.ReceiptID)
}

func TestPayUndelivered(t *testing.T) {
	t.Parallel()
	e := start(t)
	nav := e.register(t, 720, 5000)

	status, body := e.pay(t, nav, "deliver=false")
	require.Equal(t, http.StatusOK, status, "%s", body)
	res := decodeResult(t, body)
	require.Empty(t, res.Outcome)
	require.Empty(t, res.Pushes)
	require.Empty(t, e.ec.Calls(), "nothing pushed")
	require.Equal(t, "PAID", e.status(t, "IUPD-720"), "pagoPA was paid all the same")
	_, r := e.storedReceipt(t, nav[1:])
	require.Equal(t, res.ReceiptID, r.ReceiptID, "recovery finds it in the receipts API")

	// The Nodo delivers it at last: the very same receipt.
	status, body = e.pay(t, nav, "receiptId="+res.ReceiptID)
	require.Equal(t, http.StatusOK, status, "%s", body)
	require.Equal(t, "OK", decodeResult(t, body).Outcome)
	calls := e.ec.Calls()
	require.Len(t, calls, 1)
	require.Equal(t, r, receiptOf(t, calls[0]).Receipt)
}

func TestPayDuplicates(t *testing.T) {
	t.Parallel()
	e := start(t)
	nav := e.register(t, 730, 5000)

	status, body := e.pay(t, nav, "duplicate=2")
	require.Equal(t, http.StatusOK, status, "%s", body)
	res := decodeResult(t, body)
	require.Equal(t, []pagopasim.Push{{Outcome: "OK"}, {Outcome: "OK"}, {Outcome: "OK"}}, res.Pushes)
	calls := e.ec.Calls()
	require.Len(t, calls, 3)
	for _, c := range calls {
		require.Equal(t, calls[0].Body, c.Body, "the same receipt, byte for byte")
	}
	require.Equal(t, res.ReceiptID, receiptOf(t, calls[0]).Receipt.ReceiptID)

	for i, q := range []string{"duplicate=-1", "duplicate=11", "duplicate=x"} {
		status, body = e.pay(t, e.register(t, 731+int64(i), 100), q)
		require.Equal(t, http.StatusBadRequest, status, "%s: %s", q, body)
	}
}

// TestPayOutcomesPerPush reports the EC's answer to each push: the duplicate of a receipt
// the EC recorded gets PAA_RECEIPT_DUPLICATA.
func TestPayOutcomesPerPush(t *testing.T) {
	t.Parallel()
	e := start(t)
	nav := e.register(t, 740, 5000)
	e.ec.queue(pagopa.OK(), pagopa.KO(pagopa.FaultDuplicateReceipt, "already recorded", testOrg))

	res, err := e.sim.Pay(context.Background(), pagopasim.Payment{NAV: nav, Duplicates: 1})
	require.NoError(t, err)
	require.Equal(t, pagopasim.PayResult{
		ReceiptID: res.ReceiptID, Outcome: "OK",
		Pushes: []pagopasim.Push{{Outcome: "OK"}, {Outcome: "KO", FaultCode: pagopa.FaultDuplicateReceipt}},
	}, res)
}

func TestPayEarly(t *testing.T) {
	t.Parallel()
	e := start(t)
	ctx := context.Background()

	// A position created without publishing is DRAFT: not payable, unless early.
	draft := newPosition(t, 750, 5000)
	resp, body := e.do(t, http.MethodPost, pagopasim.GPDBasePath+"/organizations/"+testOrg+"/debtpositions", draft)
	require.Equal(t, http.StatusCreated, resp.StatusCode, "%s", body)
	nav := mustNAV(t, 750)
	status, body := e.pay(t, nav, "")
	require.Equal(t, http.StatusUnprocessableEntity, status, "%s", body)
	require.Contains(t, string(body), "DRAFT")
	status, body = e.pay(t, nav, "early=1")
	require.Equal(t, http.StatusOK, status, "%s", body)
	r := receiptOf(t, e.ec.Calls()[0]).Receipt
	require.Equal(t, "50.00", r.PaymentAmount)
	require.Equal(t, "RSSMRA85T10A562S", r.Debtor.UniqueIdentifier.Value)
	pos, err := e.gpd.Get(ctx, testOrg, draft.IUPD)
	require.NoError(t, err)
	require.Equal(t, "PAID", pos.Status)

	// A notice GPD does not hold at all needs the organization and the amount.
	absent := mustNAV(t, 751)
	for _, q := range []string{"early=1", "early=1&organization=" + testOrg, "early=maybe&organization=" + testOrg + "&amount=100"} {
		status, body = e.pay(t, absent, q)
		require.Equal(t, http.StatusBadRequest, status, "%s: %s", q, body)
	}
	status, body = e.pay(t, absent, "early=1&organization="+testOrg+"&amount=4200")
	require.Equal(t, http.StatusOK, status, "%s", body)
	calls := e.ec.Calls()
	r = receiptOf(t, calls[len(calls)-1]).Receipt
	require.Equal(t, absent, r.NoticeNumber)
	require.Equal(t, "42.00", r.PaymentAmount)
	_, stored := e.storedReceipt(t, absent[1:])
	require.Equal(t, r, stored)
}

func TestPayAmountOverride(t *testing.T) {
	t.Parallel()
	e := start(t)
	nav := e.register(t, 760, 4000, 1000)
	status, body := e.pay(t, nav, "amount=4999")
	require.Equal(t, http.StatusOK, status, "%s", body)
	r := receiptOf(t, e.ec.Calls()[0]).Receipt
	require.Equal(t, "49.99", r.PaymentAmount)
	require.Equal(t, "40.00", r.Transfers[0].TransferAmount, "the transfers stay the option's")
	require.Equal(t, "10.00", r.Transfers[1].TransferAmount)
}

func TestReceiptIsRealistic(t *testing.T) {
	t.Parallel()
	e := start(t)
	ctx := context.Background()
	shares := []gpd.Share{
		{BasisPoints: 9500, Category: "9/0101108TS/", IBAN: "IT60X0542811101000000123456", RemittanceInformation: "TARI 2026"},
		{BasisPoints: 500, Category: "9/0601100TS/", IBAN: "IT02A0301503200000003517230", RemittanceInformation: "TEFA 2026",
			OrganizationFiscalCode: "80012345678", CompanyName: "Provincia di Esempio"},
	}
	transfers, err := gpd.SplitTransfers(12345, shares)
	require.NoError(t, err)
	p := newPosition(t, 770, 12345)
	p.Email = "mario.rossi@example.it"
	p.PaymentOptions[0].Transfers = transfers
	require.NoError(t, e.gpd.CreateAndPublish(ctx, testOrg, p))

	before := time.Now().In(rome(t))
	status, body := e.pay(t, mustNAV(t, 770), "")
	require.Equal(t, http.StatusOK, status, "%s", body)
	r := receiptOf(t, e.ec.Calls()[0]).Receipt

	require.Regexp(t, regexp.MustCompile(`^[0-9a-f]{32}$`), r.ReceiptID)
	require.Equal(t, "BCITITMM", r.IDPSP)
	require.Equal(t, "Intesa Sanpaolo S.p.A.", r.PSPCompanyName)
	require.Equal(t, "BCITITMM_01", r.IDChannel)
	require.NotEmpty(t, r.ChannelDescription)
	require.Equal(t, "CP", r.PaymentMethod)
	require.Equal(t, "1.00", r.Fee)
	paidAt, err := time.ParseInLocation("2006-01-02T15:04:05", r.PaymentDateTime, rome(t))
	require.NoError(t, err, "Rome local time without offset")
	require.WithinDuration(t, before, paidAt, 5*time.Second)
	require.Equal(t, paidAt.Format("2006-01-02"), r.ApplicationDate)
	require.Equal(t, paidAt.AddDate(0, 0, 1).Format("2006-01-02"), r.TransferDate)

	require.Equal(t, "mario.rossi@example.it", r.Debtor.Email)
	require.Equal(t, "Mario Rossi", r.Debtor.FullName)
	require.Equal(t, "TARI 2026 rata unica", r.Description)
	require.Equal(t, "123.45", r.PaymentAmount)
	require.Equal(t, []pagopa.ReceiptTransfer{
		{IDTransfer: "1", TransferAmount: "117.28", FiscalCodePA: testOrg, IBAN: shares[0].IBAN,
			RemittanceInformation: "TARI 2026", TransferCategory: "9/0101108TS/"},
		{IDTransfer: "2", TransferAmount: "6.17", FiscalCodePA: "80012345678", IBAN: shares[1].IBAN,
			RemittanceInformation: "TEFA 2026", TransferCategory: "9/0601100TS/"},
	}, r.Transfers)
}

func rome(t *testing.T) *time.Location {
	t.Helper()
	loc, err := time.LoadLocation("Europe/Rome")
	require.NoError(t, err)
	return loc
}
