package api

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net/http"
	"time"

	"github.com/jackc/pgx/v5/pgtype"
	"github.com/labstack/echo/v4"
	"go.temporal.io/api/serviceerror"

	"incasso/date"
	"incasso/db"
	"incasso/db/dbgen"
	"incasso/money"
	"incasso/pagopa"
	"incasso/workflows"
)

// paForNode is the EC's SOAP endpoint the pagoPA Nodo calls. Business outcomes are answered as
// paForNode responses with outcome KO and a PAA_* fault, as the interface prescribes.
func (s *Server) paForNode(c echo.Context) error {
	if !s.nodeAuthorized(c.Request()) {
		return problem(http.StatusUnauthorized, "the Nodo's credentials are missing or wrong")
	}
	body, err := io.ReadAll(io.LimitReader(c.Request().Body, 1<<20))
	if err != nil {
		return problem(http.StatusBadRequest, "cannot read the request body")
	}
	name, inner, err := pagopa.Unwrap(bytes.NewReader(body))
	if err != nil {
		return s.soapResponse(c, pagopa.ElemSendRTV2Response, pagopa.KO(pagopa.FaultSyntax, "not a SOAP envelope", s.Config.Creditor.FiscalCode))
	}
	switch name.Local {
	case pagopa.ElemSendRTV2Request:
		var req pagopa.SendRTV2Request
		resp := s.sendRTV2(c.Request().Context(), inner, body, &req)
		return s.soapResponse(c, pagopa.ElemSendRTV2Response, resp)
	default:
		return s.soapResponse(c, pagopa.ElemSendRTV2Response, pagopa.KO(pagopa.FaultSemantics, "operation not supported: "+name.Local, s.Config.Creditor.FiscalCode))
	}
}

// sendRTV2 records a receipt once (by receiptId), marks the debt paid and tells its workflow.
func (s *Server) sendRTV2(ctx context.Context, inner, raw []byte, req *pagopa.SendRTV2Request) pagopa.Response {
	ec := s.Config.Creditor.FiscalCode
	ko := func(code, desc string) pagopa.Response { return pagopa.KO(code, desc, ec) }
	if err := pagopa.DecodeBody(inner, req); err != nil {
		return ko(pagopa.FaultSyntax, "paSendRTV2Request does not match paForNode.xsd")
	}
	if resp, ok := s.checkHeader(req.Header); !ok {
		return resp
	}
	rt := req.Receipt
	amount, err := money.ParseDecimal(rt.PaymentAmount)
	if rt.ReceiptID == "" || len(rt.ReceiptID) > 35 || err != nil {
		return ko(pagopa.FaultSyntax, "receiptId and paymentAmount are required")
	}
	if rt.FiscalCode != ec {
		return ko(pagopa.FaultWrongDomain, "the receipt is for another creditor")
	}
	q := dbgen.New(s.Pool)
	debt, err := q.GetDebtByNAV(ctx, rt.NoticeNumber)
	if err = db.NotFound(err); errors.Is(err, db.ErrNotFound) {
		return ko(pagopa.FaultUnknownPayment, "no notice with this number")
	} else if err != nil {
		s.Log.Error("receipt: load debt", "err", err)
		return ko(pagopa.FaultSystem, "internal error")
	}
	duplicate := false
	err = db.InTx(ctx, s.Pool, func(q *dbgen.Queries) error {
		paidAt := receiptTime(rt.PaymentDateTime)
		_, err := q.InsertReceipt(ctx, dbgen.InsertReceiptParams{
			ReceiptID: rt.ReceiptID, DebtID: debt.ID, Nav: rt.NoticeNumber, AmountCents: int64(amount),
			Outcome: rt.Outcome, PspID: rt.IDPSP, PspName: rt.PSPCompanyName, ChannelID: rt.IDChannel,
			PaymentMethod: rt.PaymentMethod, FeeCents: feeCents(rt.Fee), PaidAt: paidAt, RawXml: string(raw),
		})
		if errors.Is(db.NotFound(err), db.ErrNotFound) {
			duplicate = true
			return nil
		}
		if err != nil {
			return err
		}
		if rt.Outcome != "OK" {
			return nil
		}
		if amount != money.Cents(debt.AmountCents) {
			s.Log.Warn("receipt amount differs from the debt", "debt_id", debt.ID, "receipt_cents", amount, "debt_cents", debt.AmountCents)
		}
		if !paidAt.Valid {
			paidAt = pgtype.Timestamptz{Time: time.Now(), Valid: true}
		}
		return q.MarkDebtPaid(ctx, dbgen.MarkDebtPaidParams{ID: debt.ID, PaidAt: paidAt})
	})
	if err != nil {
		s.Log.Error("receipt: store", "debt_id", debt.ID, "err", err)
		return ko(pagopa.FaultSystem, "internal error")
	}
	outcome := rt.Outcome
	if duplicate {
		prev, err := q.GetReceiptByReceiptID(ctx, rt.ReceiptID)
		if err != nil {
			s.Log.Error("receipt: load duplicate", "debt_id", debt.ID, "err", err)
			return ko(pagopa.FaultSystem, "internal error")
		}
		if prev.DebtID != debt.ID {
			return ko(pagopa.FaultSemantics, "receiptId already recorded for another notice")
		}
		outcome = prev.Outcome
	}
	// Signalled on duplicates too: if a previous delivery was stored but its signal was lost,
	// the Nodo's retry delivers it. The workflow ignores receipts after the first.
	if outcome == "OK" {
		if err := s.signalReceipt(ctx, debt, rt.ReceiptID); err != nil {
			s.Log.Error("receipt: signal workflow", "debt_id", debt.ID, "err", err)
			return ko(pagopa.FaultSystem, "receipt stored; the process could not be told yet: please resend")
		}
	}
	if duplicate {
		return ko(pagopa.FaultDuplicateReceipt, "receipt already recorded")
	}
	return pagopa.OK()
}

func (s *Server) checkHeader(h pagopa.Header) (pagopa.Response, bool) {
	ec := s.Config.Creditor
	switch {
	case h.IDPA != ec.FiscalCode:
		return pagopa.KO(pagopa.FaultWrongDomain, "idPA is not this creditor", ec.FiscalCode), false
	case h.IDBrokerPA != ec.BrokerID:
		return pagopa.KO(pagopa.FaultWrongBroker, "idBrokerPA is not this creditor's broker", ec.FiscalCode), false
	case h.IDStation != ec.StationID:
		return pagopa.KO(pagopa.FaultWrongStation, "idStation is not this creditor's station", ec.FiscalCode), false
	}
	return pagopa.Response{}, true
}

func (s *Server) signalReceipt(ctx context.Context, d dbgen.DebtPosition, receiptID string) error {
	err := s.Temporal.SignalWorkflow(ctx, workflows.DebtWorkflowID(d.EcFiscalCode, d.Iupd), "",
		workflows.SignalReceipt, workflows.ReceiptSignal{ReceiptID: receiptID})
	var notFound *serviceerror.NotFound
	if errors.As(err, &notFound) && d.Status == workflows.StatusPaid {
		return nil // the workflow already ended with an earlier receipt
	}
	return err
}

func (s *Server) soapResponse(c echo.Context, element string, resp pagopa.Response) error {
	out, err := pagopa.Wrap(element, pagopa.SendRTV2Response{Response: resp})
	if err != nil {
		return err
	}
	if resp.Fault != nil {
		s.Log.Info("paForNode answered KO", "element", element, "fault", resp.Fault.FaultCode)
	}
	return c.Blob(http.StatusOK, "text/xml; charset=utf-8", out)
}

// receiptTime reads the receipt's paymentDateTime, local time in Italy without a zone.
func receiptTime(s string) pgtype.Timestamptz {
	for _, layout := range []string{"2006-01-02T15:04:05.000", "2006-01-02T15:04:05", time.RFC3339} {
		if t, err := time.ParseInLocation(layout, s, date.Rome); err == nil {
			return pgtype.Timestamptz{Time: t, Valid: true}
		}
	}
	return pgtype.Timestamptz{}
}

func feeCents(s string) pgtype.Int8 {
	c, err := money.ParseDecimal(s)
	if err != nil {
		return pgtype.Int8{}
	}
	return pgtype.Int8{Int64: int64(c), Valid: true}
}
