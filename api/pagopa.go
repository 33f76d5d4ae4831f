package api

import (
	"bytes"
	"cmp"
	"context"
	"errors"
	"io"
	"net/http"
	"strings"

	"github.com/labstack/echo/v4"

	"incasso/db"
	"incasso/db/dbgen"
	"incasso/domain/chars"
	"incasso/domain/date"
	"incasso/domain/money"
	"incasso/domain/pagopa"
	"incasso/services/positions"
	"incasso/services/receipts"
	"incasso/workflows"
)

// paForNode is the EC's SOAP endpoint the pagoPA Nodo calls: paVerifyPaymentNotice and
// paGetPaymentV2 when the EC answers for its notices itself, paSendRTV2 to deliver receipts.
// Business outcomes are paForNode responses with outcome KO and a PAA_* fault, as the
// interface prescribes; PAA_SYSTEM_ERROR is kept for real internal failures.
func (s *Server) paForNode(c echo.Context) error {
	if !s.nodeAuthorized(c.Request()) {
		return problem(http.StatusUnauthorized, "the Nodo's credentials are missing or wrong")
	}
	body, err := io.ReadAll(io.LimitReader(c.Request().Body, 1<<20))
	if err != nil {
		return problem(http.StatusBadRequest, "cannot read the request body")
	}
	ctx := c.Request().Context()
	name, inner, err := pagopa.Unwrap(bytes.NewReader(body))
	if err != nil {
		// Without a readable body the operation is told by the SOAPAction header.
		element := responseElement(strings.Trim(c.Request().Header.Get("SOAPAction"), `"`))
		return s.soapResponse(c, element, pagopa.SendRTV2Response{Response: s.ko(pagopa.FaultSyntax, "not a SOAP envelope")})
	}
	switch name.Local {
	case pagopa.ElemVerifyPaymentNoticeReq:
		return s.soapResponse(c, pagopa.ElemVerifyPaymentNoticeRes, s.verifyPaymentNotice(ctx, inner))
	case pagopa.ElemGetPaymentV2Request:
		return s.soapResponse(c, pagopa.ElemGetPaymentV2Response, s.getPaymentV2(ctx, inner))
	case pagopa.ElemSendRTV2Request:
		return s.soapResponse(c, pagopa.ElemSendRTV2Response, pagopa.SendRTV2Response{Response: s.sendRTV2(ctx, inner, body)})
	default:
		return s.soapResponse(c, pagopa.ElemSendRTV2Response, pagopa.SendRTV2Response{Response: s.ko(pagopa.FaultSemantics, "operation not supported: "+name.Local)})
	}
}

// responseElement names the response of a SOAP action, paSendRTV2's when it is unknown.
func responseElement(action string) string {
	switch action {
	case pagopa.OpVerifyPaymentNotice:
		return pagopa.ElemVerifyPaymentNoticeRes
	case pagopa.OpGetPaymentV2:
		return pagopa.ElemGetPaymentV2Response
	}
	return pagopa.ElemSendRTV2Response
}

func (s *Server) ko(code, description string) pagopa.Response {
	return pagopa.KO(code, description, s.Config.Creditor.FiscalCode)
}

// verifyPaymentNotice tells the Nodo whether a notice can be paid, and how much.
func (s *Server) verifyPaymentNotice(ctx context.Context, inner []byte) pagopa.VerifyPaymentNoticeResponse {
	var req pagopa.VerifyPaymentNoticeRequest
	if err := pagopa.DecodeBody(inner, &req); err != nil {
		return pagopa.VerifyPaymentNoticeResponse{Response: s.ko(pagopa.FaultSyntax, "paVerifyPaymentNoticeReq does not match paForNode.xsd")}
	}
	d, ko := s.payableDebt(ctx, req.Header, req.QRCode)
	if ko != nil {
		return pagopa.VerifyPaymentNoticeResponse{Response: *ko}
	}
	return pagopa.VerifyPaymentNoticeResponse{
		Response: pagopa.OK(),
		PaymentOption: &pagopa.PaymentOptionDescription{
			Amount: money.Cents(d.AmountCents).Decimal(), Options: "EQ",
			DueDate: date.Of(d.DueDate).String(), DetailDescription: d.Description,
		},
		PaymentDescription: d.Description, FiscalCodePA: d.EcFiscalCode, CompanyName: s.Config.Creditor.Name,
	}
}

// getPaymentV2 gives the Nodo the payment of a notice: amount, debtor and transfers.
func (s *Server) getPaymentV2(ctx context.Context, inner []byte) pagopa.GetPaymentV2Response {
	var req pagopa.GetPaymentV2Request
	if err := pagopa.DecodeBody(inner, &req); err != nil {
		return pagopa.GetPaymentV2Response{Response: s.ko(pagopa.FaultSyntax, "paGetPaymentV2Request does not match paForNode.xsd")}
	}
	d, ko := s.payableDebt(ctx, req.Header, req.QRCode)
	if ko != nil {
		return pagopa.GetPaymentV2Response{Response: *ko}
	}
	if req.Amount != "" && req.Amount != money.Cents(d.AmountCents).Decimal() {
		return pagopa.GetPaymentV2Response{Response: s.ko(pagopa.FaultSemantics, "the amount is not the notice's amount")}
	}
	service, _ := s.Config.Services.Find(d.ServiceCode)
	transfers, err := positions.Transfers(s.Config.Creditor, service, d.AmountCents, d.Description)
	if err != nil {
		s.Log.Error("paGetPaymentV2: transfers", "debt_id", d.ID, "err", err)
		return pagopa.GetPaymentV2Response{Response: s.ko(pagopa.FaultSystem, "internal error")}
	}
	payment := &pagopa.PaymentV2{
		CreditorReferenceID: d.Nav[1:], PaymentAmount: money.Cents(d.AmountCents).Decimal(),
		DueDate: date.Of(d.DueDate).String(), Description: d.Description, CompanyName: s.Config.Creditor.Name,
	}
	payment.Debtor.UniqueIdentifier.Type, payment.Debtor.UniqueIdentifier.Value = d.DebtorType, d.DebtorFiscalCode
	payment.Debtor.FullName, payment.Debtor.Email = d.DebtorName, d.DebtorEmail
	for _, t := range transfers {
		payment.Transfers = append(payment.Transfers, pagopa.PaymentTransfer{
			IDTransfer: t.IDTransfer, TransferAmount: money.Cents(t.Amount).Decimal(),
			FiscalCodePA: cmp.Or(t.OrganizationFiscalCode, d.EcFiscalCode),
			CompanyName:  t.CompanyName, IBAN: t.IBAN, RemittanceInformation: t.RemittanceInformation,
			TransferCategory: t.Category,
		})
	}
	return pagopa.GetPaymentV2Response{Response: pagopa.OK(), Data: payment}
}

// payableDebt finds the debt of a notice the Nodo asks about, or the KO that says why it
// cannot be paid.
func (s *Server) payableDebt(ctx context.Context, h pagopa.Header, qr pagopa.QRCode) (dbgen.DebtPosition, *pagopa.Response) {
	fail := func(code, description string) (dbgen.DebtPosition, *pagopa.Response) {
		r := s.ko(code, description)
		return dbgen.DebtPosition{}, &r
	}
	if resp, ok := s.checkHeader(h); !ok {
		return dbgen.DebtPosition{}, &resp
	}
	if !chars.Digits(qr.NoticeNumber, 18) || !chars.Digits(qr.FiscalCode, 11) {
		return fail(pagopa.FaultSyntax, "qrCode needs an 11-digit fiscalCode and an 18-digit noticeNumber")
	}
	if qr.FiscalCode != s.Config.Creditor.FiscalCode {
		return fail(pagopa.FaultWrongDomain, "the notice is of another creditor")
	}
	d, err := dbgen.New(s.Pool).GetDebtByNAV(ctx, qr.NoticeNumber)
	if err = db.NotFound(err); errors.Is(err, db.ErrNotFound) {
		return fail(pagopa.FaultUnknownPayment, "no notice with this number")
	} else if err != nil {
		s.Log.Error("paForNode: load debt", "err", err)
		return fail(pagopa.FaultSystem, "internal error")
	}
	service, _ := s.Config.Services.Find(d.ServiceCode)
	switch {
	case d.Status == workflows.StatusCreated:
		// Stored but never registered in GPD nor noticed: not payable yet. pagoPA's own EC
		// service answers such a position (GPD status DRAFT, or PUBLISHED before its validity
		// date) with PAA_PAGAMENTO_SCONOSCIUTO, to paVerifyPaymentNotice as to paGetPayment
		// (pagopa/pagopa-gpd-payments, PartnerService and its test
		// paVerifyPaymentNoticeStatusKOTest2); the paForNode faults of DOMAIN.md section 3 have
		// no code of their own for it.
		return fail(pagopa.FaultUnknownPayment, "the notice is not payable yet")
	case d.Status == workflows.StatusPaid:
		return fail(pagopa.FaultDuplicatePayment, "the notice is paid already")
	case d.Status == workflows.StatusCancelled:
		return fail(pagopa.FaultCancelledPayment, "the notice was cancelled")
	case d.Status == workflows.StatusInstalments:
		// Its instalments are being collected by direct debit: the notice's full amount paid
		// on top would be paid twice, to be refunded.
		return fail(pagopa.FaultCancelledPayment, "the notice was replaced by an instalment plan")
	case d.Status == workflows.StatusSuperseded:
		return fail(pagopa.FaultCancelledPayment, "the notice was replaced by the notice of what is still owed")
	case service.ExpiresAfterDue && !s.Now().Before(date.Of(d.DueDate).EndIn(date.Rome)):
		return fail(pagopa.FaultExpiredPayment, "the notice expired on its due date")
	}
	return d, nil
}

// sendRTV2 records a receipt through the same path as the recovery job.
func (s *Server) sendRTV2(ctx context.Context, inner, raw []byte) pagopa.Response {
	var req pagopa.SendRTV2Request
	if err := pagopa.DecodeBody(inner, &req); err != nil {
		return s.ko(pagopa.FaultSyntax, "paSendRTV2Request does not match paForNode.xsd")
	}
	if resp, ok := s.checkHeader(req.Header); !ok {
		return resp
	}
	res, err := s.Receipts.Record(ctx, req.Receipt, raw, receipts.SourcePush)
	switch {
	case errors.Is(err, receipts.ErrSignal):
		s.Log.Error("receipt: signal workflow", "err", err)
		return s.ko(pagopa.FaultSystem, "receipt stored; the process could not be told yet: please resend")
	case err != nil:
		s.Log.Error("receipt: store", "err", err)
		return s.ko(pagopa.FaultSystem, "internal error")
	case res.Fault != "":
		return s.ko(res.Fault, res.Description)
	}
	return pagopa.OK()
}

func (s *Server) checkHeader(h pagopa.Header) (pagopa.Response, bool) {
	ec := s.Config.Creditor
	switch {
	case h.IDPA != ec.FiscalCode:
		return s.ko(pagopa.FaultWrongDomain, "idPA is not this creditor"), false
	case h.IDBrokerPA != ec.BrokerID:
		return s.ko(pagopa.FaultWrongBroker, "idBrokerPA is not this creditor's broker"), false
	case h.IDStation != ec.StationID:
		return s.ko(pagopa.FaultWrongStation, "idStation is not this creditor's station"), false
	}
	return pagopa.Response{}, true
}

// soapResponse answers with body as the element named element, logging faults by code only.
func (s *Server) soapResponse(c echo.Context, element string, body interface{ Result() pagopa.Response }) error {
	out, err := pagopa.Wrap(element, body)
	if err != nil {
		return err
	}
	if f := body.Result().Fault; f != nil {
		s.Log.Info("paForNode answered KO", "element", element, "fault", f.FaultCode)
	}
	return c.Blob(http.StatusOK, "text/xml; charset=utf-8", out)
}
