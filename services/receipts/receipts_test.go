package receipts_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgtype"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/stretchr/testify/require"
	"go.temporal.io/api/serviceerror"

	"incasso/db/dbgen"
	"incasso/devstack/testdb"
	"incasso/domain/pagopa"
	"incasso/services/receipts"
	"incasso/workflows"
)

const (
	ecCode      = "00000000000"
	segregation = 1
)

// fakeSignaler records the signals sent to workflows and fails when told to.
type fakeSignaler struct {
	mu      sync.Mutex
	err     error
	signals []sent
}

type sent struct {
	WorkflowID, RunID, Name string
	Arg                     any
}

func (f *fakeSignaler) SignalWorkflow(_ context.Context, workflowID, runID, signalName string, arg any) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.signals = append(f.signals, sent{workflowID, runID, signalName, arg})
	return f.err
}

func (f *fakeSignaler) fail(err error) { f.mu.Lock(); f.err = err; f.mu.Unlock() }

func (f *fakeSignaler) Signals() []sent {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]sent(nil), f.signals...)
}

type fixture struct {
	pool  *pgxpool.Pool
	q     *dbgen.Queries
	sig   *fakeSignaler
	rec   *receipts.Recorder
	iupds atomic.Int64
}

func newFixture(t *testing.T) *fixture {
	t.Helper()
	pool, _ := testdb.New(t)
	sig := &fakeSignaler{}
	return &fixture{
		pool: pool, q: dbgen.New(pool), sig: sig,
		rec: &receipts.Recorder{Pool: pool, Temporal: sig, ECFiscalCode: ecCode, Log: slog.New(slog.NewTextHandler(io.Discard, nil))},
	}
}

// debt stores an ISSUED debt of 123.45 euro with a notice of its own.
func (f *fixture) debt(t *testing.T) dbgen.DebtPosition {
	t.Helper()
	ctx := context.Background()
	base, err := f.q.NextIUVBase(ctx, dbgen.NextIUVBaseParams{EcFiscalCode: ecCode, Segregation: segregation})
	require.NoError(t, err)
	nav, err := pagopa.NewNAV(segregation, base)
	require.NoError(t, err)
	d, err := f.q.CreateDebt(ctx, dbgen.CreateDebtParams{
		EcFiscalCode: ecCode, Iupd: fmt.Sprintf("TARI-%d", f.iupds.Add(1)), ServiceCode: "TARI",
		DebtorType: "F", DebtorFiscalCode: "RSSMRA85T10A562S", DebtorName: "Mario Rossi", DebtorEmail: "m@example.it",
		AmountCents: 12345, DueDate: time.Date(2026, time.December, 31, 0, 0, 0, 0, time.UTC),
		Description: "TARI 2026 rata unica", Nav: nav.String(),
	})
	require.NoError(t, err)
	status, err := f.q.SetDebtStatus(ctx, dbgen.SetDebtStatusParams{ID: d.ID, Status: workflows.StatusIssued})
	require.NoError(t, err)
	d.Status = status
	return d
}

func (f *fixture) reload(t *testing.T, d dbgen.DebtPosition) dbgen.DebtPosition {
	t.Helper()
	got, err := f.q.GetDebt(context.Background(), d.ID)
	require.NoError(t, err)
	return got
}

func (f *fixture) receipt(t *testing.T, receiptID string) dbgen.Receipt {
	t.Helper()
	r, err := f.q.GetReceiptByReceiptID(context.Background(), receiptID)
	require.NoError(t, err)
	return r
}

func (f *fixture) count(t *testing.T) int {
	t.Helper()
	var n int
	require.NoError(t, f.pool.QueryRow(context.Background(), "SELECT count(*) FROM receipts").Scan(&n))
	return n
}

func (f *fixture) record(t *testing.T, rt pagopa.ReceiptV2) receipts.Result {
	t.Helper()
	res, err := f.rec.Record(context.Background(), rt, []byte("<raw "+rt.ReceiptID+"/>"), receipts.SourcePush)
	require.NoError(t, err)
	return res
}

// receiptFor is a complete OK receipt of the debt's notice and amount.
func receiptFor(nav string, amount string, receiptID string) pagopa.ReceiptV2 {
	r := pagopa.ReceiptV2{
		ReceiptID: receiptID, NoticeNumber: nav, FiscalCode: ecCode, Outcome: "OK", CreditorReferenceID: nav[1:],
		PaymentAmount: amount, Description: "TARI 2026 rata unica", CompanyName: "Comune di Esempio",
		IDPSP: "BCITITMM", PSPFiscalCode: "00799960158", PSPCompanyName: "Intesa Sanpaolo S.p.A.",
		IDChannel: "BCITITMM_01", ChannelDescription: "app", PaymentMethod: "CP", Fee: "1.50",
		PaymentDateTime: "2026-11-25T10:11:12", ApplicationDate: "2026-11-25", TransferDate: "2026-11-26",
	}
	r.Debtor.UniqueIdentifier.Type, r.Debtor.UniqueIdentifier.Value, r.Debtor.FullName = "F", "RSSMRA85T10A562S", "Mario Rossi"
	r.Transfers = []pagopa.ReceiptTransfer{{
		IDTransfer: "1", TransferAmount: amount, FiscalCodePA: ecCode, IBAN: "IT60X0542811101000000123456",
		RemittanceInformation: "TARI 2026", TransferCategory: "9/0101108TS/",
	}}
	return r
}

func workflowID(d dbgen.DebtPosition) string { return "debt/" + ecCode + "/" + d.Iupd }

func receiptSignal(d dbgen.DebtPosition, receiptID string) sent {
	return sent{WorkflowID: workflowID(d), Name: workflows.SignalReceipt, Arg: workflows.ReceiptSignal{ReceiptID: receiptID}}
}

func TestReceiptSettlesItsDebtOnce(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	d := f.debt(t)
	rt := receiptFor(d.Nav, "123.45", "rcpt-1")

	res := f.record(t, rt)
	require.Equal(t, receipts.Result{}, res)
	paid := f.reload(t, d)
	require.Equal(t, workflows.StatusPaid, paid.Status)
	require.True(t, time.Date(2026, time.November, 25, 9, 11, 12, 0, time.UTC).Equal(paid.PaidAt.Time), paid.PaidAt.Time)
	require.Equal(t, []sent{receiptSignal(d, "rcpt-1")}, f.sig.Signals())
	require.Equal(t, "debt/00000000000/"+d.Iupd, f.sig.Signals()[0].WorkflowID)

	t.Run("the same receipt again", func(t *testing.T) {
		res := f.record(t, rt)
		require.Equal(t, pagopa.FaultDuplicateReceipt, res.Fault)
		require.Empty(t, res.Flag)
		require.Equal(t, 1, f.count(t), "stored once")
		require.Equal(t, []sent{receiptSignal(d, "rcpt-1"), receiptSignal(d, "rcpt-1")}, f.sig.Signals(), "re-signalled")
		require.Equal(t, paid.PaidAt, f.reload(t, d).PaidAt)
	})

	t.Run("the same receipt again, the workflow is over", func(t *testing.T) {
		f.sig.fail(serviceerror.NewNotFound("workflow execution already completed"))
		defer f.sig.fail(nil)
		res, err := f.rec.Record(context.Background(), rt, nil, receipts.SourcePush)
		require.NoError(t, err, "a paid debt's workflow may be over")
		require.Equal(t, pagopa.FaultDuplicateReceipt, res.Fault)
	})

	t.Run("the same receipt id on another notice", func(t *testing.T) {
		other := f.debt(t)
		before := len(f.sig.Signals())
		res := f.record(t, receiptFor(other.Nav, "123.45", "rcpt-1"))
		require.Equal(t, pagopa.FaultSemantics, res.Fault)
		require.NotEmpty(t, res.Description)
		require.Equal(t, 1, f.count(t))
		require.Equal(t, workflows.StatusIssued, f.reload(t, other).Status)
		require.Len(t, f.sig.Signals(), before, "nobody is told")
	})
}

func TestReceiptUnknownNotice(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	nav, err := pagopa.NewNAV(segregation, pagopa.MaxIUVBase)
	require.NoError(t, err)
	res := f.record(t, receiptFor(nav.String(), "50.00", "rcpt-ghost"))
	require.Equal(t, pagopa.FaultUnknownPayment, res.Fault)
	require.Equal(t, receipts.FlagUnknownNotice, res.Flag)
	r := f.receipt(t, "rcpt-ghost")
	require.False(t, r.DebtID.Valid, "no debt")
	require.Equal(t, receipts.FlagUnknownNotice, r.Flag.String)
	require.NotEmpty(t, r.FlagDetail)
	require.Equal(t, int64(5000), r.AmountCents)
	require.Empty(t, f.sig.Signals())

	// Delivered again: known, still one row.
	res = f.record(t, receiptFor(nav.String(), "50.00", "rcpt-ghost"))
	require.Equal(t, pagopa.FaultDuplicateReceipt, res.Fault)
	require.Equal(t, 1, f.count(t))
	require.Empty(t, f.sig.Signals())
}

// A receipt for less than is due is kept and flagged, and the debt stays open (its ladder
// goes on) until what is due is paid: 0.01 euro must not settle a debt of 123.45.
func TestReceiptUnderpaid(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	d := f.debt(t)
	res := f.record(t, receiptFor(d.Nav, "0.01", "rcpt-cent"))
	require.Empty(t, res.Fault, "accepted: the payment happened")
	require.Equal(t, receipts.FlagUnderpaid, res.Flag)
	r := f.receipt(t, "rcpt-cent")
	require.Equal(t, receipts.FlagUnderpaid, r.Flag.String)
	require.Equal(t, d.ID, r.DebtID.Int64)
	require.Contains(t, r.FlagDetail, "123.44 euro still owed")
	open := f.reload(t, d)
	require.Equal(t, workflows.StatusIssued, open.Status, "not settled")
	require.False(t, open.PaidAt.Valid)
	require.Empty(t, f.sig.Signals(), "the workflow goes on waiting")

	// A resend changes nothing; the payment of what is due settles the debt.
	require.Equal(t, pagopa.FaultDuplicateReceipt, f.record(t, receiptFor(d.Nav, "0.01", "rcpt-cent")).Fault)
	require.Empty(t, f.sig.Signals())
	require.Equal(t, receipts.Result{}, f.record(t, receiptFor(d.Nav, "123.45", "rcpt-full")))
	require.Equal(t, workflows.StatusPaid, f.reload(t, d).Status)
	require.Equal(t, []sent{receiptSignal(d, "rcpt-full")}, f.sig.Signals())
}

// A receipt for more than is due settles the debt, flagged so that the excess is refunded.
func TestReceiptOverpaid(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	d := f.debt(t)
	res := f.record(t, receiptFor(d.Nav, "150.00", "rcpt-more"))
	require.Empty(t, res.Fault, "accepted")
	require.Equal(t, receipts.FlagAmountMismatch, res.Flag)
	r := f.receipt(t, "rcpt-more")
	require.Equal(t, receipts.FlagAmountMismatch, r.Flag.String)
	require.Contains(t, r.FlagDetail, "refund 26.55 euro")
	require.Equal(t, workflows.StatusPaid, f.reload(t, d).Status, "what was due is paid")
	require.Equal(t, []sent{receiptSignal(d, "rcpt-more")}, f.sig.Signals())

	// A resend is re-signalled like any receipt that settled its debt.
	require.Equal(t, pagopa.FaultDuplicateReceipt, f.record(t, receiptFor(d.Nav, "150.00", "rcpt-more")).Fault)
	require.Len(t, f.sig.Signals(), 2)
}

func TestReceiptDoublePayment(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	d := f.debt(t)
	require.Equal(t, receipts.Result{}, f.record(t, receiptFor(d.Nav, "123.45", "rcpt-first")))
	paidAt := f.reload(t, d).PaidAt

	second := receiptFor(d.Nav, "123.45", "rcpt-second")
	second.PaymentDateTime = "2026-11-28T08:00:00"
	res := f.record(t, second)
	require.Empty(t, res.Fault, "answered OK: the Nodo must not resend it")
	require.Equal(t, receipts.FlagDoublePayment, res.Flag)
	require.Equal(t, receipts.FlagDoublePayment, f.receipt(t, "rcpt-second").Flag.String)
	require.Equal(t, 2, f.count(t))
	require.Equal(t, paidAt, f.reload(t, d).PaidAt, "the first payment stays")
	require.Equal(t, []sent{receiptSignal(d, "rcpt-first")}, f.sig.Signals(), "the second payment is not signalled")

	// Nor is its resend.
	require.Equal(t, pagopa.FaultDuplicateReceipt, f.record(t, second).Fault)
	require.Len(t, f.sig.Signals(), 1)
}

func TestReceiptPaidAfterCancel(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	d := f.debt(t)
	_, err := f.q.CancelDebt(context.Background(), dbgen.CancelDebtParams{ID: d.ID, CancelReason: pgtype.Text{String: "duplicate", Valid: true}})
	require.NoError(t, err)

	res := f.record(t, receiptFor(d.Nav, "123.45", "rcpt-late"))
	require.Empty(t, res.Fault)
	require.Equal(t, receipts.FlagPaidAfterCancel, res.Flag)
	require.Equal(t, receipts.FlagPaidAfterCancel, f.receipt(t, "rcpt-late").Flag.String)
	got := f.reload(t, d)
	require.Equal(t, workflows.StatusCancelled, got.Status, "stays cancelled")
	require.False(t, got.PaidAt.Valid)
	require.Empty(t, f.sig.Signals())
}

func TestReceiptKO(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	d := f.debt(t)
	rt := receiptFor(d.Nav, "123.45", "rcpt-ko")
	rt.Outcome = "KO"
	res := f.record(t, rt)
	require.Equal(t, receipts.Result{}, res)
	r := f.receipt(t, "rcpt-ko")
	require.Equal(t, "KO", r.Outcome)
	require.False(t, r.Flag.Valid)
	require.Equal(t, d.ID, r.DebtID.Int64)
	got := f.reload(t, d)
	require.Equal(t, workflows.StatusIssued, got.Status)
	require.False(t, got.PaidAt.Valid)
	require.Empty(t, f.sig.Signals())

	// Then the real payment settles it.
	require.Equal(t, receipts.Result{}, f.record(t, receiptFor(d.Nav, "123.45", "rcpt-ok")))
	require.Equal(t, workflows.StatusPaid, f.reload(t, d).Status)
	require.Equal(t, []sent{receiptSignal(d, "rcpt-ok")}, f.sig.Signals())
}

func TestReceiptSignalFails(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	d := f.debt(t)
	rt := receiptFor(d.Nav, "123.45", "rcpt-sig")

	f.sig.fail(errors.New("temporal unavailable"))
	_, err := f.rec.Record(context.Background(), rt, nil, receipts.SourcePush)
	require.ErrorIs(t, err, receipts.ErrSignal)
	require.Equal(t, 1, f.count(t), "stored before the signal")
	require.Equal(t, workflows.StatusPaid, f.reload(t, d).Status)

	// The workflow not found while the debt was not yet paid is no reason to give up either.
	d2 := f.debt(t)
	f.sig.fail(serviceerror.NewNotFound("workflow not found"))
	_, err = f.rec.Record(context.Background(), receiptFor(d2.Nav, "123.45", "rcpt-sig-2"), nil, receipts.SourcePush)
	require.ErrorIs(t, err, receipts.ErrSignal)

	// The resend is known, and this time the workflow is told.
	f.sig.fail(nil)
	res := f.record(t, rt)
	require.Equal(t, pagopa.FaultDuplicateReceipt, res.Fault)
	require.Equal(t, 2, f.count(t))
	sigs := f.sig.Signals()
	require.Len(t, sigs, 3)
	require.Equal(t, receiptSignal(d, "rcpt-sig"), sigs[2])
}

func TestReceiptRefused(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	d := f.debt(t)
	tests := []struct {
		name   string
		mutate func(*pagopa.ReceiptV2)
		fault  string
	}{
		{"another creditor", func(r *pagopa.ReceiptV2) { r.FiscalCode = "99999999999" }, pagopa.FaultWrongDomain},
		{"amount with a comma", func(r *pagopa.ReceiptV2) { r.PaymentAmount = "123,45" }, pagopa.FaultSyntax},
		{"amount without cents", func(r *pagopa.ReceiptV2) { r.PaymentAmount = "123" }, pagopa.FaultSyntax},
		{"amount empty", func(r *pagopa.ReceiptV2) { r.PaymentAmount = "" }, pagopa.FaultSyntax},
		{"fee malformed", func(r *pagopa.ReceiptV2) { r.Fee = "1.5" }, pagopa.FaultSyntax},
		{"transfer amount malformed", func(r *pagopa.ReceiptV2) { r.Transfers[0].TransferAmount = "abc" }, pagopa.FaultSyntax},
		{"paymentDateTime malformed", func(r *pagopa.ReceiptV2) { r.PaymentDateTime = "25/11/2026 10:11" }, pagopa.FaultSyntax},
		{"paymentDateTime a date", func(r *pagopa.ReceiptV2) { r.PaymentDateTime = "2026-11-25" }, pagopa.FaultSyntax},
		{"applicationDate malformed", func(r *pagopa.ReceiptV2) { r.ApplicationDate = "2026-02-30" }, pagopa.FaultSyntax},
		{"transferDate malformed", func(r *pagopa.ReceiptV2) { r.TransferDate = "tomorrow" }, pagopa.FaultSyntax},
		{"no receiptId", func(r *pagopa.ReceiptV2) { r.ReceiptID = "" }, pagopa.FaultSyntax},
		{"receiptId too long", func(r *pagopa.ReceiptV2) { r.ReceiptID = "123456789012345678901234567890123456" }, pagopa.FaultSyntax},
		{"outcome unknown", func(r *pagopa.ReceiptV2) { r.Outcome = "MAYBE" }, pagopa.FaultSyntax},
		{"noticeNumber not 18 digits", func(r *pagopa.ReceiptV2) { r.NoticeNumber = d.Nav[:17] }, pagopa.FaultSyntax},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rt := receiptFor(d.Nav, "123.45", "rcpt-refused")
			tt.mutate(&rt)
			res := f.record(t, rt)
			require.Equal(t, tt.fault, res.Fault)
			require.NotEmpty(t, res.Description)
			require.Empty(t, res.Flag)
		})
	}
	require.Zero(t, f.count(t), "nothing stored")
	require.Equal(t, workflows.StatusIssued, f.reload(t, d).Status)
	require.Empty(t, f.sig.Signals())
}

func TestReceiptStoresEveryField(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	d := f.debt(t)
	rt := receiptFor(d.Nav, "123.45", "rcpt-fields")
	rt.Transfers = []pagopa.ReceiptTransfer{
		{IDTransfer: "1", TransferAmount: "117.28", FiscalCodePA: ecCode, IBAN: "IT60X0542811101000000123456", RemittanceInformation: "TARI 2026", TransferCategory: "9/0101108TS/"},
		{IDTransfer: "2", TransferAmount: "6.17", FiscalCodePA: "01234567890", IBAN: "IT02L1234512345123456789012", RemittanceInformation: "TEFA 2026", TransferCategory: "9/0101109TS/"},
	}
	raw := []byte(`<pafn:paSendRTV2Request>as received</pafn:paSendRTV2Request>`)
	res, err := f.rec.Record(context.Background(), rt, raw, receipts.SourceRecovery)
	require.NoError(t, err)
	require.Equal(t, receipts.Result{}, res)

	r := f.receipt(t, "rcpt-fields")
	require.Equal(t, d.ID, r.DebtID.Int64)
	require.Equal(t, d.Nav, r.Nav)
	require.Equal(t, ecCode, r.EcFiscalCode)
	require.Equal(t, int64(12345), r.AmountCents)
	require.Equal(t, "OK", r.Outcome)
	require.Equal(t, "BCITITMM", r.PspID)
	require.Equal(t, "00799960158", r.PspFiscalCode)
	require.Equal(t, "Intesa Sanpaolo S.p.A.", r.PspName)
	require.Equal(t, "BCITITMM_01", r.ChannelID)
	require.Equal(t, "app", r.ChannelDescription)
	require.Equal(t, "CP", r.PaymentMethod)
	require.True(t, r.FeeCents.Valid)
	require.Equal(t, int64(150), r.FeeCents.Int64)
	// paymentDateTime without a zone is local time in Italy: 10:11:12 in November is 09:11:12 UTC.
	require.True(t, r.PaidAt.Valid)
	require.True(t, time.Date(2026, time.November, 25, 9, 11, 12, 0, time.UTC).Equal(r.PaidAt.Time), r.PaidAt.Time)
	require.True(t, r.ApplicationDate.Valid)
	require.Equal(t, "2026-11-25", r.ApplicationDate.Time.Format(time.DateOnly))
	require.True(t, r.TransferDate.Valid)
	require.Equal(t, "2026-11-26", r.TransferDate.Time.Format(time.DateOnly))
	require.Equal(t, receipts.SourceRecovery, r.Source)
	require.False(t, r.Flag.Valid)
	require.Empty(t, r.FlagDetail)
	require.Equal(t, string(raw), r.RawXml, "kept exactly as received")

	var transfers []map[string]any
	require.NoError(t, json.Unmarshal(r.Transfers, &transfers))
	require.Equal(t, []map[string]any{
		{"idTransfer": "1", "amountCents": float64(11728), "fiscalCodePA": ecCode, "iban": "IT60X0542811101000000123456", "remittanceInformation": "TARI 2026", "transferCategory": "9/0101108TS/"},
		{"idTransfer": "2", "amountCents": float64(617), "fiscalCodePA": "01234567890", "iban": "IT02L1234512345123456789012", "remittanceInformation": "TEFA 2026", "transferCategory": "9/0101109TS/"},
	}, transfers)
}

// A paymentDateTime with its own zone is taken as it says; in summer Rome is UTC+2.
func TestReceiptPaymentDateTimeZones(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	for id, tt := range map[string]struct {
		in   string
		want time.Time
	}{
		"rcpt-summer": {"2026-07-01T10:00:00", time.Date(2026, time.July, 1, 8, 0, 0, 0, time.UTC)},
		"rcpt-utc":    {"2026-11-25T10:11:12Z", time.Date(2026, time.November, 25, 10, 11, 12, 0, time.UTC)},
		"rcpt-offset": {"2026-11-25T10:11:12+01:00", time.Date(2026, time.November, 25, 9, 11, 12, 0, time.UTC)},
		"rcpt-millis": {"2026-11-25T10:11:12.345", time.Date(2026, time.November, 25, 9, 11, 12, 345e6, time.UTC)},
	} {
		d := f.debt(t)
		rt := receiptFor(d.Nav, "123.45", id)
		rt.PaymentDateTime = tt.in
		require.Equal(t, receipts.Result{}, f.record(t, rt))
		got := f.receipt(t, id).PaidAt.Time
		require.True(t, tt.want.Equal(got), "%s: got %s, want %s", tt.in, got, tt.want)
		require.True(t, tt.want.Equal(f.reload(t, d).PaidAt.Time))
	}
}

// Ten payments of one notice arriving together: exactly one settles the debt, the others are
// flagged for refund.
func TestReceiptsConcurrentForOneDebt(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	d := f.debt(t)
	const n = 10
	results := make([]receipts.Result, n)
	errs := make([]error, n)
	start := make(chan struct{})
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			<-start
			results[i], errs[i] = f.rec.Record(context.Background(), receiptFor(d.Nav, "123.45", fmt.Sprintf("rcpt-race-%d", i)), nil, receipts.SourcePush)
		})
	}
	close(start)
	wg.Wait()

	settled, doubles := 0, 0
	for i := range n {
		require.NoError(t, errs[i])
		require.Empty(t, results[i].Fault)
		switch results[i].Flag {
		case "":
			settled++
		case receipts.FlagDoublePayment:
			doubles++
		default:
			t.Fatalf("receipt %d flagged %s", i, results[i].Flag)
		}
	}
	require.Equal(t, 1, settled)
	require.Equal(t, n-1, doubles)
	require.Equal(t, n, f.count(t))
	var flagged int
	require.NoError(t, f.pool.QueryRow(context.Background(), `SELECT count(*) FROM receipts WHERE flag = 'DOUBLE_PAYMENT' AND debt_id = $1`, d.ID).Scan(&flagged))
	require.Equal(t, n-1, flagged)
	require.Equal(t, workflows.StatusPaid, f.reload(t, d).Status)
	require.Len(t, f.sig.Signals(), 1, "one payment signalled")
}

func TestParse(t *testing.T) {
	t.Parallel()
	req := pagopa.SendRTV2Request{
		Header:  pagopa.Header{IDPA: ecCode, IDBrokerPA: ecCode, IDStation: ecCode + "_01"},
		Receipt: receiptFor("301000000000000133", "123.45", "rcpt-parse"),
	}
	env, err := pagopa.Wrap(pagopa.ElemSendRTV2Request, req)
	require.NoError(t, err)
	_, bare, err := pagopa.Unwrap(bytes.NewReader(env))
	require.NoError(t, err)

	for name, raw := range map[string][]byte{"envelope": env, "bare element": bare} {
		t.Run(name, func(t *testing.T) {
			got, err := receipts.Parse(raw)
			require.NoError(t, err)
			require.Equal(t, req, got)
		})
	}

	other, err := pagopa.Wrap(pagopa.ElemGetPaymentV2Request, pagopa.GetPaymentV2Request{Header: req.Header})
	require.NoError(t, err)
	_, otherBare, err := pagopa.Unwrap(bytes.NewReader(other))
	require.NoError(t, err)
	for name, raw := range map[string][]byte{
		"another element in an envelope": other,
		"another bare element":           otherBare,
		"not XML":                        []byte("not XML"),
		"empty":                          nil,
		"truncated":                      env[:len(env)/2],
	} {
		t.Run(name, func(t *testing.T) {
			_, err := receipts.Parse(raw)
			require.Error(t, err)
			require.ErrorIs(t, err, pagopa.ErrSyntax)
		})
	}
}
