package pagopa

import (
	"bytes"
	"encoding/xml"
	"testing"

	"github.com/stretchr/testify/require"
)

var sampleHeader = Header{IDPA: "00000000000", IDBrokerPA: "00000000000", IDStation: "00000000000_01"}

var sampleQRCode = QRCode{FiscalCode: "00000000000", NoticeNumber: "322201151398574181"}

// requireRoundTrip wraps body as element, checks that it validates against paForNode.xsd and
// that it decodes back to body.
func requireRoundTrip[T any](t *testing.T, element string, body T) {
	t.Helper()
	env, err := Wrap(element, body)
	require.NoError(t, err)
	requireValidBody(t, env)
	name, inner, err := Unwrap(bytes.NewReader(env))
	require.NoError(t, err)
	require.Equal(t, xml.Name{Space: NSPaForNode, Local: element}, name)
	var back T
	require.NoError(t, DecodeBody(inner, &back))
	require.Equal(t, body, back)
}

func TestVerifyPaymentNoticeValidates(t *testing.T) {
	t.Parallel()
	requireRoundTrip(t, ElemVerifyPaymentNoticeReq, VerifyPaymentNoticeRequest{Header: sampleHeader, QRCode: sampleQRCode})
	requireRoundTrip(t, ElemVerifyPaymentNoticeRes, VerifyPaymentNoticeResponse{
		Response: OK(),
		PaymentOption: &PaymentOptionDescription{
			Amount: "123.45", Options: "EQ", DueDate: "2026-12-31", DetailDescription: "TARI 2026 rata unica",
		},
		PaymentDescription: "TARI 2026 rata unica", FiscalCodePA: "00000000000",
		CompanyName: "Comune di Esempio", OfficeName: "Ufficio Tributi",
	})
	requireRoundTrip(t, ElemVerifyPaymentNoticeRes, VerifyPaymentNoticeResponse{Response: KO(FaultUnknownPayment, "notice not found", "00000000000")})
}

func TestGetPaymentV2Validates(t *testing.T) {
	t.Parallel()
	requireRoundTrip(t, ElemGetPaymentV2Request, GetPaymentV2Request{Header: sampleHeader, QRCode: sampleQRCode})
	requireRoundTrip(t, ElemGetPaymentV2Request, GetPaymentV2Request{
		Header: sampleHeader, QRCode: sampleQRCode, Amount: "123.45", PaymentNote: "rata unica",
		TransferType: "PAGOPA", DueDate: "2026-12-31",
	})
	requireRoundTrip(t, ElemGetPaymentV2Response, GetPaymentV2Response{
		Response: OK(),
		Data: &PaymentV2{
			CreditorReferenceID: "22201151398574181", PaymentAmount: "123.45", DueDate: "2026-12-31",
			RetentionDate: "2027-01-31T00:00:00", LastPayment: true, Description: "TARI 2026 rata unica",
			CompanyName: "Comune di Esempio", OfficeName: "Ufficio Tributi", Debtor: sampleSubject(),
			Transfers: []PaymentTransfer{
				{
					IDTransfer: "1", TransferAmount: "100.00", FiscalCodePA: "00000000000", CompanyName: "Comune di Esempio",
					IBAN: "IT60X0542811101000000123456", RemittanceInformation: "TARI 2026", TransferCategory: "9/0101108TS/",
					Metadata: &Metadata{Entries: []MapEntry{{Key: "capitolo", Value: "1010"}}},
				},
				{
					IDTransfer: "2", TransferAmount: "23.45", FiscalCodePA: "11111111111",
					IBAN: "IT60X0542811101000000654321", RemittanceInformation: "TEFA 2026", TransferCategory: "9/0301116TS/",
				},
			},
			Metadata: &Metadata{Entries: []MapEntry{{Key: "anno", Value: "2026"}}},
		},
	})
	requireRoundTrip(t, ElemGetPaymentV2Response, GetPaymentV2Response{Response: KO(FaultExpiredPayment, "notice expired", "00000000000")})
}

// nodoRequest is an envelope as the Nodo writes it, with the paForNode prefix nfp declared on
// the body element or, when onEnvelope, on the envelope.
func nodoRequest(element, fields string, onEnvelope bool) []byte {
	decl := ` xmlns:nfp="` + NSPaForNode + `"`
	envDecl, elemDecl := "", decl
	if onEnvelope {
		envDecl, elemDecl = decl, ""
	}
	return []byte(`<?xml version="1.0" encoding="UTF-8"?>
<soapenv:Envelope xmlns:soapenv="` + NSSoapEnv + `"` + envDecl + `>
  <soapenv:Header/>
  <soapenv:Body>
    <nfp:` + element + elemDecl + `>` + fields + `
    </nfp:` + element + `>
  </soapenv:Body>
</soapenv:Envelope>`)
}

const nodoHeaderAndQRCode = `
      <idPA>00000000000</idPA>
      <idBrokerPA>00000000000</idBrokerPA>
      <idStation>00000000000_01</idStation>
      <qrCode>
        <fiscalCode>00000000000</fiscalCode>
        <noticeNumber>322201151398574181</noticeNumber>
      </qrCode>`

func TestDecodeNodoRequests(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		element, fields string
		into            func() any // a new value to decode into
		want            any
	}{
		{
			ElemVerifyPaymentNoticeReq, nodoHeaderAndQRCode,
			func() any { return &VerifyPaymentNoticeRequest{} }, &VerifyPaymentNoticeRequest{Header: sampleHeader, QRCode: sampleQRCode},
		},
		{
			ElemGetPaymentV2Request, nodoHeaderAndQRCode + `
      <amount>123.45</amount>
      <paymentNote>rata unica</paymentNote>
      <transferType>PAGOPA</transferType>
      <dueDate>2026-12-31</dueDate>`,
			func() any { return &GetPaymentV2Request{} }, &GetPaymentV2Request{
				Header: sampleHeader, QRCode: sampleQRCode, Amount: "123.45", PaymentNote: "rata unica",
				TransferType: "PAGOPA", DueDate: "2026-12-31",
			},
		},
	} {
		requireValidBody(t, nodoRequest(tc.element, tc.fields, false))
		for _, onEnvelope := range []bool{false, true} {
			name, inner, err := Unwrap(bytes.NewReader(nodoRequest(tc.element, tc.fields, onEnvelope)))
			require.NoError(t, err)
			require.Equal(t, xml.Name{Space: NSPaForNode, Local: tc.element}, name)
			got := tc.into()
			require.NoError(t, DecodeBody(inner, got))
			require.Equal(t, tc.want, got)
		}
	}
}
