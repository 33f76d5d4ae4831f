// Package receipts records the receipts (RT) pagoPA delivers for the comune's notices, by push
// (paSendRTV2 on the EC's SOAP endpoint) or by the recovery job that pulls GPD's receipts API.
// Both go through Recorder.Record, so a receipt is handled the same way whichever path brings it:
// stored once per receiptId, flagged when it does not match its debt, and announced to the
// debt's workflow when it settles the debt.
package receipts

import (
	"bytes"
	"context"
	"encoding/json"
	"encoding/xml"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/jackc/pgx/v5/pgtype"
	"github.com/jackc/pgx/v5/pgxpool"
	"go.temporal.io/api/serviceerror"

	"incasso/db"
	"incasso/db/dbgen"
	"incasso/domain/chars"
	"incasso/domain/date"
	"incasso/domain/money"
	"incasso/domain/pagopa"
	"incasso/services/debts"
	"incasso/workflows"
)

// Sources of a receipt.
const (
	SourcePush     = "PUSH"
	SourceRecovery = "RECOVERY"
)

// Flags of a receipt the finance office must look at. A flagged receipt is stored and shown,
// never silently accepted.
const (
	FlagUnknownNotice   = "UNKNOWN_NOTICE"    // no debt has this notice number
	FlagAmountMismatch  = "AMOUNT_MISMATCH"   // paid more than the debt asks: it settles the debt, refund the rest
	FlagUnderpaid       = "UNDERPAID"         // paid less than the debt asks: the debt stays open for the rest
	FlagDoublePayment   = "DOUBLE_PAYMENT"    // a second distinct payment of a paid debt: refund
	FlagPaidAfterCancel = "PAID_AFTER_CANCEL" // the debt was cancelled: refund
)

// Signaler is the part of the Temporal client that tells a workflow about the receipt.
type Signaler interface {
	SignalWorkflow(ctx context.Context, workflowID, runID, signalName string, arg any) error
}

// Recorder records receipts for one creditor.
type Recorder struct {
	Pool         *pgxpool.Pool
	Temporal     Signaler
	ECFiscalCode string
	Log          *slog.Logger
}

// Result is the answer to the sender of a receipt: accepted when Fault is empty, otherwise
// the PAA_* fault code and a description without personal data.
type Result struct {
	Fault       string
	Description string
	Flag        string // set when the receipt was stored flagged
}

func fault(code, description string) Result { return Result{Fault: code, Description: description} }

// ErrSignal is wrapped by the error Record returns when the receipt is stored but its
// workflow could not be told: the sender must deliver it again.
var ErrSignal = errors.New("receipt stored; the debt's process could not be told yet")

// Record stores the receipt once and settles its debt. raw is the message exactly as received.
// A business outcome (unknown notice, duplicate...) is a Result; an error means an internal
// failure, after which the sender should retry the same receipt.
func (r *Recorder) Record(ctx context.Context, rt pagopa.ReceiptV2, raw []byte, source string) (Result, error) {
	amount, err := money.ParseDecimal(rt.PaymentAmount)
	if rt.ReceiptID == "" || len(rt.ReceiptID) > 35 || err != nil || (rt.Outcome != "OK" && rt.Outcome != "KO") {
		return fault(pagopa.FaultSyntax, "receiptId, outcome and paymentAmount are required"), nil
	}
	if rt.FiscalCode != r.ECFiscalCode {
		return fault(pagopa.FaultWrongDomain, "the receipt is for another creditor"), nil
	}
	if !chars.Digits(rt.NoticeNumber, 18) { // a wrong check digit is an unknown notice, below
		return fault(pagopa.FaultSyntax, "noticeNumber is not 18 digits"), nil
	}
	row, err := r.row(rt, amount, raw, source)
	if err != nil {
		return fault(pagopa.FaultSyntax, err.Error()), nil
	}

	var debt *dbgen.DebtPosition
	inserted, settles := false, false
	err = db.InTx(ctx, r.Pool, func(q *dbgen.Queries) error {
		found, err := q.GetDebtByNAV(ctx, rt.NoticeNumber)
		if err = db.NotFound(err); err != nil && !errors.Is(err, db.ErrNotFound) {
			return err
		}
		if err == nil {
			// Locked so that two receipts for one debt are judged one after the other.
			if found, err = q.LockDebt(ctx, found.ID); err != nil {
				return err
			}
			debt = &found
			row.DebtID = pgtype.Int8{Int64: found.ID, Valid: true}
		}
		flag, detail := judge(debt, rt.Outcome, amount)
		row.Flag, row.FlagDetail = pgtype.Text{String: flag, Valid: flag != ""}, detail
		_, err = q.InsertReceipt(ctx, row)
		if errors.Is(db.NotFound(err), db.ErrNotFound) {
			return nil // a receipt id recorded before: answered below
		}
		if err != nil {
			return err
		}
		inserted = true
		settles = debt != nil && settling(rt.Outcome, flag)
		if !settles {
			return nil
		}
		paidAt := row.PaidAt.Time
		if !row.PaidAt.Valid {
			paidAt = time.Now()
		}
		_, err = debts.Settle(ctx, q, debt.ID, paidAt)
		return err
	})
	if err != nil {
		return Result{}, fmt.Errorf("store receipt: %w", err)
	}
	if !inserted {
		return r.duplicate(ctx, rt, debt)
	}
	res := Result{Flag: row.Flag.String}
	if res.Flag != "" {
		r.Log.Warn("receipt flagged", "flag", res.Flag, "debt_id", row.DebtID.Int64, "source", source)
	}
	if debt == nil {
		res.Fault, res.Description = pagopa.FaultUnknownPayment, "no notice with this number; the receipt is kept for review"
		return res, nil
	}
	if settles {
		if err := r.signal(ctx, *debt, rt.ReceiptID); err != nil {
			return Result{}, err
		}
	}
	return res, nil
}

// judge decides whether a new receipt needs the finance office's attention.
func judge(debt *dbgen.DebtPosition, outcome string, amount money.Cents) (flag, detail string) {
	switch {
	case debt == nil:
		return FlagUnknownNotice, "no debt has this notice number"
	case outcome != "OK":
		return "", ""
	}
	status, due := debt.Status, money.Cents(debt.AmountCents)
	switch {
	case status == workflows.StatusCancelled:
		return FlagPaidAfterCancel, "the debt was cancelled before this payment: refund it"
	case status == workflows.StatusPaid:
		return FlagDoublePayment, "the debt was already paid by another receipt: refund one payment"
	case status == workflows.StatusInstalments || status == workflows.StatusSuperseded:
		return FlagDoublePayment, "the debt is paid in instalments by direct debit: refund this payment"
	case amount < due:
		return FlagUnderpaid, fmt.Sprintf("paid %s euro, the debt asks %s euro: %s euro still owed", amount.Decimal(), due.Decimal(), (due - amount).Decimal())
	case amount > due:
		return FlagAmountMismatch, fmt.Sprintf("paid %s euro, the debt asks %s euro: refund %s euro", amount.Decimal(), due.Decimal(), (amount - due).Decimal())
	}
	return "", ""
}

// settling reports whether a receipt with this outcome and flag settles its debt: paid, and
// at least what was due (more is settled and flagged for a refund of the excess).
func settling(outcome, flag string) bool {
	return outcome == "OK" && (flag == "" || flag == FlagAmountMismatch)
}

// duplicate answers a receipt id recorded before. It re-signals the workflow in case the
// first delivery was stored but its signal was lost: the workflow ignores repeated receipts.
func (r *Recorder) duplicate(ctx context.Context, rt pagopa.ReceiptV2, debt *dbgen.DebtPosition) (Result, error) {
	prev, err := dbgen.New(r.Pool).GetReceiptByReceiptID(ctx, rt.ReceiptID)
	if err != nil {
		return Result{}, fmt.Errorf("load recorded receipt: %w", err)
	}
	if prev.Nav != rt.NoticeNumber {
		return fault(pagopa.FaultSemantics, "receiptId already recorded for another notice"), nil
	}
	if debt != nil && settling(prev.Outcome, prev.Flag.String) {
		if err := r.signal(ctx, *debt, rt.ReceiptID); err != nil {
			return Result{}, err
		}
	}
	return fault(pagopa.FaultDuplicateReceipt, "receipt already recorded"), nil
}

func (r *Recorder) signal(ctx context.Context, d dbgen.DebtPosition, receiptID string) error {
	err := r.Temporal.SignalWorkflow(ctx, workflows.DebtWorkflowID(d.EcFiscalCode, d.Iupd), "",
		workflows.SignalReceipt, workflows.ReceiptSignal{ReceiptID: receiptID})
	var notFound *serviceerror.NotFound
	if errors.As(err, &notFound) && d.Status == workflows.StatusPaid {
		return nil // the workflow already ended with this or an earlier receipt
	}
	if err != nil {
		return fmt.Errorf("%w: debt %d: %v", ErrSignal, d.ID, err)
	}
	return nil
}

// transfer is a receipt transfer as stored, amounts in cents.
type transfer struct {
	IDTransfer            string      `json:"idTransfer"`
	AmountCents           money.Cents `json:"amountCents"`
	FiscalCodePA          string      `json:"fiscalCodePA"`
	IBAN                  string      `json:"iban"`
	RemittanceInformation string      `json:"remittanceInformation"`
	TransferCategory      string      `json:"transferCategory"`
}

// row maps the receipt to its table row; it fails on a malformed amount or date.
func (r *Recorder) row(rt pagopa.ReceiptV2, amount money.Cents, raw []byte, source string) (dbgen.InsertReceiptParams, error) {
	transfers := make([]transfer, 0, len(rt.Transfers))
	for i, t := range rt.Transfers {
		c, err := money.ParseDecimal(t.TransferAmount)
		if err != nil {
			return dbgen.InsertReceiptParams{}, fmt.Errorf("transfer %d: transferAmount is not euro with two decimals", i+1)
		}
		transfers = append(transfers, transfer{t.IDTransfer, c, t.FiscalCodePA, t.IBAN, t.RemittanceInformation, t.TransferCategory})
	}
	transfersJSON, err := json.Marshal(transfers)
	if err != nil {
		return dbgen.InsertReceiptParams{}, err
	}
	p := dbgen.InsertReceiptParams{
		ReceiptID: rt.ReceiptID, Nav: rt.NoticeNumber, EcFiscalCode: rt.FiscalCode, AmountCents: int64(amount),
		Outcome: rt.Outcome, PspID: rt.IDPSP, PspFiscalCode: rt.PSPFiscalCode, PspName: rt.PSPCompanyName,
		ChannelID: rt.IDChannel, ChannelDescription: rt.ChannelDescription, PaymentMethod: rt.PaymentMethod,
		Transfers: transfersJSON, Source: source, RawXml: string(raw),
	}
	if rt.Fee != "" {
		fee, err := money.ParseDecimal(rt.Fee)
		if err != nil {
			return p, errors.New("fee is not euro with two decimals")
		}
		p.FeeCents = pgtype.Int8{Int64: int64(fee), Valid: true}
	}
	if p.PaidAt, err = dateTime(rt.PaymentDateTime); err != nil {
		return p, errors.New("paymentDateTime is not an ISO date-time")
	}
	if p.ApplicationDate, err = optionalDate(rt.ApplicationDate); err != nil {
		return p, errors.New("applicationDate is not an ISO date")
	}
	if p.TransferDate, err = optionalDate(rt.TransferDate); err != nil {
		return p, errors.New("transferDate is not an ISO date")
	}
	return p, nil
}

// dateTime reads an xsd:dateTime; without a zone it is local time in Italy, as pagoPA sends it.
func dateTime(s string) (pgtype.Timestamptz, error) {
	if s == "" {
		return pgtype.Timestamptz{}, nil
	}
	for _, layout := range []string{time.RFC3339Nano, "2006-01-02T15:04:05.999999999"} {
		if t, err := time.ParseInLocation(layout, s, date.Rome); err == nil {
			return pgtype.Timestamptz{Time: t, Valid: true}, nil
		}
	}
	return pgtype.Timestamptz{}, fmt.Errorf("not a date-time: %q", s)
}

func optionalDate(s string) (pgtype.Date, error) {
	if s == "" {
		return pgtype.Date{}, nil
	}
	d, err := date.Parse(s)
	if err != nil {
		return pgtype.Date{}, err
	}
	return pgtype.Date{Time: d.Time(), Valid: true}, nil
}

// Parse reads a paSendRTV2 request as GPD's receipts API returns it: a SOAP envelope or the
// bare paSendRTV2Request element.
func Parse(raw []byte) (pagopa.SendRTV2Request, error) {
	var req pagopa.SendRTV2Request
	inner := raw
	name, body, err := pagopa.Unwrap(bytes.NewReader(raw))
	if err == nil {
		inner = body
	} else if name, err = rootElement(raw); err != nil {
		return req, err
	}
	if name.Local != pagopa.ElemSendRTV2Request {
		return req, fmt.Errorf("%w: %s is not %s", pagopa.ErrSyntax, name.Local, pagopa.ElemSendRTV2Request)
	}
	err = pagopa.DecodeBody(inner, &req)
	return req, err
}

// rootElement names the first element of an XML document.
func rootElement(doc []byte) (xml.Name, error) {
	dec := xml.NewDecoder(bytes.NewReader(doc))
	for {
		tok, err := dec.Token()
		if err != nil {
			return xml.Name{}, fmt.Errorf("%w: no element", pagopa.ErrSyntax)
		}
		if start, ok := tok.(xml.StartElement); ok {
			return start.Name, nil
		}
	}
}
