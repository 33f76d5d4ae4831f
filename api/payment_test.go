package api

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgtype"
	"github.com/stretchr/testify/require"

	"incasso/app/config"
	"incasso/db/dbgen"
	"incasso/domain/money"
	"incasso/domain/pagopa"
	"incasso/services/debts"
	"incasso/workflows"
)

// qrCode is the notice of d as the Nodo names it.
func (e *testEnv) qrCode(d DebtResponse) pagopa.QRCode {
	return pagopa.QRCode{FiscalCode: e.cfg.Creditor.FiscalCode, NoticeNumber: d.NoticeNumber}
}

// verify sends a paVerifyPaymentNoticeReq (checked against the XSD) and returns the response,
// itself checked against the XSD.
func (e *testEnv) verify(t *testing.T, req pagopa.VerifyPaymentNoticeRequest) pagopa.VerifyPaymentNoticeResponse {
	t.Helper()
	var r pagopa.VerifyPaymentNoticeResponse
	e.callSOAP(t, pagopa.OpVerifyPaymentNotice, wrapRequest(t, pagopa.ElemVerifyPaymentNoticeReq, req),
		pagopa.ElemVerifyPaymentNoticeRes, &r)
	return r
}

// getPayment sends a paGetPaymentV2Request (checked against the XSD) and returns the
// response, itself checked against the XSD.
func (e *testEnv) getPayment(t *testing.T, req pagopa.GetPaymentV2Request) pagopa.GetPaymentV2Response {
	t.Helper()
	var r pagopa.GetPaymentV2Response
	e.callSOAP(t, pagopa.OpGetPaymentV2, wrapRequest(t, pagopa.ElemGetPaymentV2Request, req),
		pagopa.ElemGetPaymentV2Response, &r)
	return r
}

// requireVerifyKO checks a KO verify answer with the fault code and nothing of the notice.
func (e *testEnv) requireVerifyKO(t *testing.T, r pagopa.VerifyPaymentNoticeResponse, code string) {
	t.Helper()
	e.requireFault(t, r.Response, code)
	require.Nil(t, r.PaymentOption, "a KO says nothing about the notice")
	require.Empty(t, r.PaymentDescription)
	require.Empty(t, r.FiscalCodePA)
	require.Empty(t, r.CompanyName)
}

// mustIssueDebt creates a debt and records it ISSUED, as its workflow does once the position
// is registered with GPD and the notice sent: from then on it can be paid.
func (e *testEnv) mustIssueDebt(t *testing.T, req CreateDebtRequest) DebtResponse {
	t.Helper()
	d := e.mustCreateDebt(t, req)
	status, err := debts.Advance(context.Background(), dbgen.New(e.pool), e.debtRow(t, req.IUPD).ID, workflows.StatusIssued)
	require.NoError(t, err)
	require.Equal(t, workflows.StatusIssued, status)
	return d
}

func (e *testEnv) markPaid(t *testing.T, iupd string) {
	t.Helper()
	settled, err := debts.Settle(context.Background(), dbgen.New(e.pool), e.debtRow(t, iupd).ID, time.Now())
	require.NoError(t, err)
	require.True(t, settled)
}

func (e *testEnv) markCancelled(t *testing.T, iupd string, reason string) {
	t.Helper()
	_, err := dbgen.New(e.pool).CancelDebt(context.Background(), dbgen.CancelDebtParams{
		ID: e.debtRow(t, iupd).ID, CancelReason: pgtype.Text{String: reason, Valid: true},
	})
	require.NoError(t, err)
}

// unknownNotice is a well-formed notice number no debt has.
func unknownNotice(t *testing.T, segregation int) string {
	t.Helper()
	nav, err := pagopa.NewNAV(segregation, pagopa.MaxIUVBase)
	require.NoError(t, err)
	return nav.String()
}

// withService adds a service to the server's configuration.
func withService(svc config.Service) func(*Server) {
	return func(s *Server) {
		s.Config.Services = append(append(config.Services(nil), s.Config.Services...), svc)
	}
}

func TestVerifyPaymentNotice(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	d := e.mustIssueDebt(t, validRequest("VER-1"))

	r := e.verify(t, pagopa.VerifyPaymentNoticeRequest{Header: e.header(), QRCode: e.qrCode(d)})
	require.Equal(t, pagopa.OK(), r.Response)
	require.Equal(t, &pagopa.PaymentOptionDescription{
		Amount: "123.45", Options: "EQ", DueDate: "2026-12-31", DetailDescription: "TARI 2026 rata unica",
	}, r.PaymentOption)
	require.Equal(t, "TARI 2026 rata unica", r.PaymentDescription)
	require.Equal(t, e.cfg.Creditor.FiscalCode, r.FiscalCodePA)
	require.Equal(t, e.cfg.Creditor.Name, r.CompanyName)

	// Verifying changes nothing.
	require.Zero(t, e.countReceipts(t))
	require.Empty(t, e.fake.Signals())
	require.Equal(t, workflows.StatusIssued, e.debtRow(t, "VER-1").Status)
}

func TestVerifyPaymentNoticeKO(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	ec := e.cfg.Creditor.FiscalCode
	open := e.mustIssueDebt(t, validRequest("VER-OPEN"))
	paid := e.mustIssueDebt(t, validRequest("VER-PAID"))
	e.markPaid(t, "VER-PAID")
	cancelled := e.mustIssueDebt(t, validRequest("VER-CANC"))
	e.markCancelled(t, "VER-CANC", "issued twice")
	inPlan := e.mustIssueDebt(t, validRequest("VER-PLAN"))
	superseded := e.mustIssueDebt(t, validRequest("VER-SUPER"))
	for iupd, status := range map[string]workflows.DebtStatus{"VER-PLAN": workflows.StatusInstalments, "VER-SUPER": workflows.StatusSuperseded} {
		_, err := e.pool.Exec(context.Background(), "UPDATE debt_positions SET status = $2 WHERE iupd = $1", iupd, status)
		require.NoError(t, err)
	}

	tests := []struct {
		name  string
		req   func() pagopa.VerifyPaymentNoticeRequest
		fault string
	}{
		{"unknown notice", func() pagopa.VerifyPaymentNoticeRequest {
			return pagopa.VerifyPaymentNoticeRequest{Header: e.header(), QRCode: pagopa.QRCode{FiscalCode: ec, NoticeNumber: unknownNotice(t, e.cfg.Creditor.Segregation)}}
		}, pagopa.FaultUnknownPayment},
		{"paid", func() pagopa.VerifyPaymentNoticeRequest {
			return pagopa.VerifyPaymentNoticeRequest{Header: e.header(), QRCode: e.qrCode(paid)}
		}, pagopa.FaultDuplicatePayment},
		{"cancelled", func() pagopa.VerifyPaymentNoticeRequest {
			return pagopa.VerifyPaymentNoticeRequest{Header: e.header(), QRCode: e.qrCode(cancelled)}
		}, pagopa.FaultCancelledPayment},
		{"in instalments", func() pagopa.VerifyPaymentNoticeRequest {
			return pagopa.VerifyPaymentNoticeRequest{Header: e.header(), QRCode: e.qrCode(inPlan)}
		}, pagopa.FaultCancelledPayment},
		{"superseded", func() pagopa.VerifyPaymentNoticeRequest {
			return pagopa.VerifyPaymentNoticeRequest{Header: e.header(), QRCode: e.qrCode(superseded)}
		}, pagopa.FaultCancelledPayment},
		{"wrong idPA", func() pagopa.VerifyPaymentNoticeRequest {
			h := e.header()
			h.IDPA = "99999999999"
			return pagopa.VerifyPaymentNoticeRequest{Header: h, QRCode: e.qrCode(open)}
		}, pagopa.FaultWrongDomain},
		{"wrong idBrokerPA", func() pagopa.VerifyPaymentNoticeRequest {
			h := e.header()
			h.IDBrokerPA = "88888888888"
			return pagopa.VerifyPaymentNoticeRequest{Header: h, QRCode: e.qrCode(open)}
		}, pagopa.FaultWrongBroker},
		{"wrong idStation", func() pagopa.VerifyPaymentNoticeRequest {
			h := e.header()
			h.IDStation = ec + "_99"
			return pagopa.VerifyPaymentNoticeRequest{Header: h, QRCode: e.qrCode(open)}
		}, pagopa.FaultWrongStation},
		{"notice of another creditor", func() pagopa.VerifyPaymentNoticeRequest {
			qr := e.qrCode(open)
			qr.FiscalCode = "99999999999"
			return pagopa.VerifyPaymentNoticeRequest{Header: e.header(), QRCode: qr}
		}, pagopa.FaultWrongDomain},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e.requireVerifyKO(t, e.verify(t, tt.req()), tt.fault)
		})
	}
	require.Equal(t, workflows.StatusIssued, e.debtRow(t, "VER-OPEN").Status)
}

// A debt stored but not yet registered with GPD (CREATED: no notice was sent) cannot be paid:
// both operations answer PAA_PAGAMENTO_SCONOSCIUTO, as pagoPA's GPD does for a draft
// position, and say nothing of it; once issued the same notice verifies.
func TestPaymentNoticeNotYetPayable(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	d := e.mustCreateDebt(t, validRequest("NOTYET-1"))

	r := e.verify(t, pagopa.VerifyPaymentNoticeRequest{Header: e.header(), QRCode: e.qrCode(d)})
	e.requireVerifyKO(t, r, pagopa.FaultUnknownPayment)
	require.Equal(t, "the notice is not payable yet", r.Fault.Description)
	gp := e.getPayment(t, pagopa.GetPaymentV2Request{Header: e.header(), QRCode: e.qrCode(d), Amount: "123.45"})
	e.requireFault(t, gp.Response, pagopa.FaultUnknownPayment)
	require.Nil(t, gp.Data, "no debtor, no transfers")
	require.Equal(t, workflows.StatusCreated, e.debtRow(t, "NOTYET-1").Status, "asking changes nothing")

	_, err := debts.Advance(context.Background(), dbgen.New(e.pool), e.debtRow(t, "NOTYET-1").ID, workflows.StatusIssued)
	require.NoError(t, err)
	require.Equal(t, pagopa.OK(), e.verify(t, pagopa.VerifyPaymentNoticeRequest{Header: e.header(), QRCode: e.qrCode(d)}).Response)
}

// A notice of a service that expires after its due date cannot be paid from the end of that
// day in Rome; before then, and for services that accept late payments, it can.
func TestVerifyPaymentNoticeExpired(t *testing.T) {
	t.Parallel()
	e := newEnv(t, withService(config.Service{
		Code: "SCUOLA", ExpiresAfterDue: true,
		Transfers: []config.Beneficiary{{Taxonomy: "9/0201133IM/", BasisPoints: 10_000}},
	}))
	req := validRequest("EXP-1")
	req.ServiceCode = "SCUOLA"
	expiring := e.mustIssueDebt(t, req)
	late := e.mustIssueDebt(t, validRequest("EXP-TARI")) // TARI accepts late payments

	verify := func(d DebtResponse) pagopa.VerifyPaymentNoticeResponse {
		return e.verify(t, pagopa.VerifyPaymentNoticeRequest{Header: e.header(), QRCode: e.qrCode(d)})
	}
	getPayment := func(d DebtResponse) pagopa.GetPaymentV2Response {
		return e.getPayment(t, pagopa.GetPaymentV2Request{Header: e.header(), QRCode: e.qrCode(d), Amount: "123.45"})
	}

	// 31 December 2026, 23:59:59 in Rome: still the due date.
	e.setNow(time.Date(2026, time.December, 31, 22, 59, 59, 0, time.UTC))
	r := verify(expiring)
	require.Equal(t, pagopa.OK(), r.Response)
	require.Equal(t, "123.45", r.PaymentOption.Amount)
	require.Equal(t, pagopa.OK(), getPayment(expiring).Response)

	// Midnight in Rome: the due date is over.
	e.setNow(time.Date(2026, time.December, 31, 23, 0, 0, 0, time.UTC))
	e.requireVerifyKO(t, verify(expiring), pagopa.FaultExpiredPayment)
	gp := getPayment(expiring)
	e.requireFault(t, gp.Response, pagopa.FaultExpiredPayment)
	require.Nil(t, gp.Data)

	r = verify(late)
	require.Equal(t, pagopa.OK(), r.Response, "a service without ExpiresAfterDue takes late payments")
	require.Equal(t, pagopa.OK(), getPayment(late).Response)
}

func TestVerifyPaymentNoticeMalformed(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	ec := e.cfg.Creditor.FiscalCode
	envelope := func(inner string) []byte {
		return []byte(`<?xml version="1.0" encoding="UTF-8"?><soapenv:Envelope xmlns:soapenv="` + pagopa.NSSoapEnv +
			`"><soapenv:Body>` + inner + `</soapenv:Body></soapenv:Envelope>`)
	}
	bodies := map[string][]byte{
		"not XML":           []byte("this is not XML at all"),
		"empty":             nil,
		"empty SOAP body":   envelope(""),
		"truncated request": envelope(`<pafn:paVerifyPaymentNoticeReq xmlns:pafn="` + pagopa.NSPaForNode + `"><idPA>` + ec + `</idPA><qrCode>`),
	}
	for name, body := range bodies {
		for _, action := range []string{pagopa.OpVerifyPaymentNotice, `"` + pagopa.OpVerifyPaymentNotice + `"`} {
			t.Run(name+" "+action, func(t *testing.T) {
				// The operation is told by the SOAPAction header: the answer is its response element.
				var r pagopa.VerifyPaymentNoticeResponse
				e.callSOAP(t, action, body, pagopa.ElemVerifyPaymentNoticeRes, &r)
				e.requireVerifyKO(t, r, pagopa.FaultSyntax)
			})
		}
	}
	t.Run("paGetPaymentV2 action", func(t *testing.T) {
		var r pagopa.GetPaymentV2Response
		e.callSOAP(t, pagopa.OpGetPaymentV2, []byte("<broken"), pagopa.ElemGetPaymentV2Response, &r)
		e.requireFault(t, r.Response, pagopa.FaultSyntax)
		require.Nil(t, r.Data)
	})
}

// Requests that are well-formed XML but do not match paForNode.xsd are syntax errors too,
// not answers about a notice.
func TestVerifyPaymentNoticeNotMatchingXSD(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	ec := e.cfg.Creditor.FiscalCode
	h := e.header()
	head := `<pafn:paVerifyPaymentNoticeReq xmlns:pafn="` + pagopa.NSPaForNode + `"><idPA>` + h.IDPA +
		`</idPA><idBrokerPA>` + h.IDBrokerPA + `</idBrokerPA><idStation>` + h.IDStation + `</idStation>`
	bodies := map[string]string{
		"no qrCode":                 head + `</pafn:paVerifyPaymentNoticeReq>`,
		"noticeNumber of 17 digits": head + `<qrCode><fiscalCode>` + ec + `</fiscalCode><noticeNumber>30100000000000001</noticeNumber></qrCode></pafn:paVerifyPaymentNoticeReq>`,
		"noticeNumber with letters": head + `<qrCode><fiscalCode>` + ec + `</fiscalCode><noticeNumber>30100000000000000A</noticeNumber></qrCode></pafn:paVerifyPaymentNoticeReq>`,
	}
	for name, inner := range bodies {
		t.Run(name, func(t *testing.T) {
			env := []byte(`<?xml version="1.0" encoding="UTF-8"?><soapenv:Envelope xmlns:soapenv="` + pagopa.NSSoapEnv +
				`"><soapenv:Body>` + inner + `</soapenv:Body></soapenv:Envelope>`)
			var r pagopa.VerifyPaymentNoticeResponse
			e.callSOAP(t, pagopa.OpVerifyPaymentNotice, env, pagopa.ElemVerifyPaymentNoticeRes, &r)
			e.requireVerifyKO(t, r, pagopa.FaultSyntax)
		})
	}
}

func TestGetPaymentV2SplitTransfers(t *testing.T) {
	t.Parallel()
	const (
		provinceCode = "01234567890"
		provinceIBAN = "IT02L1234512345123456789012"
		provinceName = "Provincia di Esempio"
	)
	e := newEnv(t, withService(config.Service{Code: "TARIP", Transfers: []config.Beneficiary{
		{Taxonomy: "9/0101108TS/", BasisPoints: 9_500},
		{Taxonomy: "9/0101109TS/", IBAN: provinceIBAN, FiscalCode: provinceCode, Name: provinceName, BasisPoints: 500},
	}}))
	req := validRequest("SPLIT-1")
	req.ServiceCode = "TARIP"
	d := e.mustIssueDebt(t, req)

	r := e.getPayment(t, pagopa.GetPaymentV2Request{Header: e.header(), QRCode: e.qrCode(d), Amount: "123.45", TransferType: "PAGOPA"})
	require.Equal(t, pagopa.OK(), r.Response)
	require.NotNil(t, r.Data)
	p := r.Data
	require.Equal(t, d.IUV, p.CreditorReferenceID)
	require.Equal(t, "123.45", p.PaymentAmount)
	require.Equal(t, "2026-12-31", p.DueDate)
	require.Equal(t, "TARI 2026 rata unica", p.Description)
	require.Equal(t, e.cfg.Creditor.Name, p.CompanyName)
	require.Equal(t, "F", p.Debtor.UniqueIdentifier.Type)
	require.Equal(t, "RSSMRA85T10A562S", p.Debtor.UniqueIdentifier.Value)
	require.Equal(t, "Mario Rossi", p.Debtor.FullName)
	require.Equal(t, "mario.rossi@example.it", p.Debtor.Email)

	require.Len(t, p.Transfers, 2)
	var sum money.Cents
	for i, tr := range p.Transfers {
		c, err := money.ParseDecimal(tr.TransferAmount)
		require.NoError(t, err, "transfer %d", i+1)
		require.Positive(t, int64(c))
		sum += c
		require.Equal(t, "TARI 2026 rata unica", tr.RemittanceInformation)
	}
	require.Equal(t, money.Cents(12345), sum, "the transfers sum exactly to the amount")

	first, second := p.Transfers[0], p.Transfers[1]
	require.Equal(t, "1", first.IDTransfer)
	require.Equal(t, "2", second.IDTransfer)
	// 95% of 123.45 is 117.2775 and 5% is 6.1725: the cent left over goes to the first transfer.
	require.Equal(t, "117.28", first.TransferAmount)
	require.Equal(t, "6.17", second.TransferAmount)
	require.Equal(t, e.cfg.Creditor.FiscalCode, first.FiscalCodePA)
	require.Equal(t, e.cfg.Creditor.IBAN, first.IBAN)
	require.Equal(t, "9/0101108TS/", first.TransferCategory)
	require.Equal(t, provinceCode, second.FiscalCodePA, "the second beneficiary is the province")
	require.Equal(t, provinceIBAN, second.IBAN)
	require.Equal(t, provinceName, second.CompanyName)
	require.Equal(t, "9/0101109TS/", second.TransferCategory)

	// Without an amount the Nodo asks for the notice's amount.
	r = e.getPayment(t, pagopa.GetPaymentV2Request{Header: e.header(), QRCode: e.qrCode(d)})
	require.Equal(t, pagopa.OK(), r.Response)
	require.Equal(t, "123.45", r.Data.PaymentAmount)
}

func TestGetPaymentV2SingleTransfer(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	d := e.mustIssueDebt(t, validRequest("GP-1"))
	r := e.getPayment(t, pagopa.GetPaymentV2Request{Header: e.header(), QRCode: e.qrCode(d), Amount: "123.45"})
	require.Equal(t, pagopa.OK(), r.Response)
	require.Equal(t, []pagopa.PaymentTransfer{{
		IDTransfer: "1", TransferAmount: "123.45", FiscalCodePA: e.cfg.Creditor.FiscalCode, IBAN: e.cfg.Creditor.IBAN,
		RemittanceInformation: "TARI 2026 rata unica", TransferCategory: "9/0101108TS/",
	}}, r.Data.Transfers)
	require.Equal(t, "2026-12-31", r.Data.DueDate)
}

func TestGetPaymentV2KO(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	ec := e.cfg.Creditor.FiscalCode
	open := e.mustIssueDebt(t, validRequest("GPKO-OPEN"))
	paid := e.mustIssueDebt(t, validRequest("GPKO-PAID"))
	e.markPaid(t, "GPKO-PAID")
	cancelled := e.mustIssueDebt(t, validRequest("GPKO-CANC"))
	e.markCancelled(t, "GPKO-CANC", "issued twice")

	tests := []struct {
		name  string
		req   func() pagopa.GetPaymentV2Request
		fault string
	}{
		{"amount differs", func() pagopa.GetPaymentV2Request {
			return pagopa.GetPaymentV2Request{Header: e.header(), QRCode: e.qrCode(open), Amount: "123.46"}
		}, pagopa.FaultSemantics},
		{"unknown notice", func() pagopa.GetPaymentV2Request {
			return pagopa.GetPaymentV2Request{Header: e.header(), QRCode: pagopa.QRCode{FiscalCode: ec, NoticeNumber: unknownNotice(t, e.cfg.Creditor.Segregation)}}
		}, pagopa.FaultUnknownPayment},
		{"paid", func() pagopa.GetPaymentV2Request {
			return pagopa.GetPaymentV2Request{Header: e.header(), QRCode: e.qrCode(paid), Amount: "123.45"}
		}, pagopa.FaultDuplicatePayment},
		{"cancelled", func() pagopa.GetPaymentV2Request {
			return pagopa.GetPaymentV2Request{Header: e.header(), QRCode: e.qrCode(cancelled), Amount: "123.45"}
		}, pagopa.FaultCancelledPayment},
		{"wrong idStation", func() pagopa.GetPaymentV2Request {
			h := e.header()
			h.IDStation = ec + "_99"
			return pagopa.GetPaymentV2Request{Header: h, QRCode: e.qrCode(open)}
		}, pagopa.FaultWrongStation},
		{"notice of another creditor", func() pagopa.GetPaymentV2Request {
			qr := e.qrCode(open)
			qr.FiscalCode = "99999999999"
			return pagopa.GetPaymentV2Request{Header: e.header(), QRCode: qr}
		}, pagopa.FaultWrongDomain},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := e.getPayment(t, tt.req())
			e.requireFault(t, r.Response, tt.fault)
			require.Nil(t, r.Data)
		})
	}
}

// The SOAP endpoint answers only the Nodo, whatever the operation.
func TestVerifyPaymentNoticeRequiresNodeKey(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	d := e.mustCreateDebt(t, validRequest("VKEY-1"))
	body := wrapRequest(t, pagopa.ElemVerifyPaymentNoticeReq, pagopa.VerifyPaymentNoticeRequest{Header: e.header(), QRCode: e.qrCode(d)})
	resp, out := e.postSOAPAction(t, pagopa.OpVerifyPaymentNotice, body, "wrong")
	requireProblem(t, resp, out, http.StatusUnauthorized)
}

// An amount too small to give every beneficiary of its service a cent can never be registered
// with pagoPA (GPD needs every transfer >= 1 cent): it is refused up front, not accepted and
// left to fail in the debt's process.
func TestAmountTooSmallToSplit(t *testing.T) {
	t.Parallel()
	e := newEnv(t, withService(config.Service{Code: "TARIP", Transfers: []config.Beneficiary{
		{Taxonomy: "9/0101108TS/", BasisPoints: 9_500},
		{Taxonomy: "9/0101109TS/", IBAN: "IT02L1234512345123456789012", FiscalCode: "01234567890", Name: "Provincia di Esempio", BasisPoints: 500},
	}}))
	// 5% of 20 cents is one cent: the smallest amount that splits.
	ok := validRequest("SMALL-OK")
	ok.ServiceCode, ok.AmountCents = "TARIP", 20
	e.mustCreateDebt(t, ok)

	t.Run("create", func(t *testing.T) {
		req := validRequest("SMALL-1")
		req.ServiceCode, req.AmountCents = "TARIP", 19
		resp, body := e.postDebt(t, req)
		p := requireProblem(t, resp, body, http.StatusUnprocessableEntity)
		require.Equal(t, []string{"amountCents"}, fieldsOf(p.Errors))
	})
	t.Run("change", func(t *testing.T) {
		resp, body := e.do(t, http.MethodPost, "/v1/debts/SMALL-OK/change",
			strings.NewReader(`{"amountCents":19,"dueDate":"2027-01-31","reason":"ricalcolo"}`), e.authHeader())
		p := requireProblem(t, resp, body, http.StatusUnprocessableEntity)
		require.Equal(t, []string{"amountCents"}, fieldsOf(p.Errors))
		require.Empty(t, e.fake.Updates())
	})
}
