package pagopa

import (
	"bytes"
	"testing"

	"github.com/stretchr/testify/require"

	"incasso/devstack/specs"
)

// requireValidBody checks that the body of a SOAP envelope validates against paForNode.xsd.
func requireValidBody(t *testing.T, envelope []byte) {
	t.Helper()
	_, inner, err := Unwrap(bytes.NewReader(envelope))
	require.NoError(t, err)
	specs.RequireValid(t, inner, "pagopa", "paForNode.xsd")
}

func sampleSubject() Subject {
	var s Subject
	s.UniqueIdentifier.Type = "F"
	s.UniqueIdentifier.Value = "RSSMRA85T10A562S"
	s.FullName = "Mario Rossi"
	s.StreetName, s.CivicNumber, s.PostalCode = "Via Roma", "1", "00100"
	s.City, s.StateProvinceRegion, s.Country = "Roma", "RM", "IT"
	s.Email = "mario.rossi@example.it"
	return s
}

func sampleReceipt() ReceiptV2 {
	payer := sampleSubject()
	payer.UniqueIdentifier.Value, payer.FullName = "VRDLGU80A01H501U", "Luigi Verdi"
	return ReceiptV2{
		ReceiptID: "c8a2f0e1b5d54c1e", NoticeNumber: "322201151398574181", FiscalCode: "00000000000",
		Outcome: "OK", CreditorReferenceID: "22201151398574181", PaymentAmount: "123.45",
		Description: "TARI 2026 rata unica", CompanyName: "Comune di Esempio", OfficeName: "Ufficio Tributi",
		Debtor: sampleSubject(),
		Transfers: []ReceiptTransfer{{
			IDTransfer: "1", TransferAmount: "123.45", FiscalCodePA: "00000000000", CompanyName: "Comune di Esempio",
			IBAN: "IT60X0542811101000000123456", RemittanceInformation: "TARI 2026", TransferCategory: "9/0101108TS/",
			Metadata: &Metadata{Entries: []MapEntry{{Key: "capitolo", Value: "1010"}}},
		}},
		IDPSP: "SIMPSP01", PSPFiscalCode: "12345678901", PSPPartitaIVA: "12345678901", PSPCompanyName: "PSP Simulato",
		IDChannel: "SIMPSP01_01", ChannelDescription: "app", Payer: &payer, PaymentMethod: "creditCard",
		PaymentNote: "rata unica", Fee: "1.00", PrimaryCiIncurredFee: "0.50", IDBundle: "bundle-1", IDCiBundle: "ci-bundle-1",
		PaymentDateTime: "2026-11-25T10:11:12", ApplicationDate: "2026-11-25", TransferDate: "2026-11-26",
		Metadata: &Metadata{Entries: []MapEntry{{Key: "anno", Value: "2026"}}}, StandIn: true,
	}
}

func TestSendRTV2RoundTripValidates(t *testing.T) {
	t.Parallel()
	req := SendRTV2Request{Header: Header{IDPA: "00000000000", IDBrokerPA: "00000000000", IDStation: "00000000000_01"}, Receipt: sampleReceipt()}
	requireRoundTrip(t, ElemSendRTV2Request, req)
}

func TestResponsesValidate(t *testing.T) {
	t.Parallel()
	for _, resp := range []Response{OK(), KO(FaultUnknownPayment, "notice not found", "00000000000"), KO(FaultDuplicateReceipt, "", "00000000000")} {
		env, err := Wrap(ElemSendRTV2Response, SendRTV2Response{resp})
		require.NoError(t, err)
		requireValidBody(t, env)
	}
	ko := KO(FaultExpiredPayment, "notice expired", "00000000000")
	for elem, body := range map[string]any{
		ElemVerifyPaymentNoticeRes: VerifyPaymentNoticeResponse{Response: ko},
		ElemGetPaymentV2Response:   GetPaymentV2Response{Response: ko},
	} {
		env, err := Wrap(elem, body)
		require.NoError(t, err)
		requireValidBody(t, env)
	}
}

func TestUnwrapRejectsGarbage(t *testing.T) {
	t.Parallel()
	for _, bad := range []string{"", "not xml", "<a/>", `<soapenv:Envelope xmlns:soapenv="` + NSSoapEnv + `"><soapenv:Body></soapenv:Body></soapenv:Envelope>`} {
		_, _, err := Unwrap(bytes.NewReader([]byte(bad)))
		require.ErrorIs(t, err, ErrSyntax, bad)
	}
}

// FuzzUnwrap feeds any bytes to the envelope reader and what it unwraps to the decoder of
// every body the EC's endpoint takes.
func FuzzUnwrap(f *testing.F) {
	env, _ := Wrap(ElemSendRTV2Request, SendRTV2Request{Receipt: sampleReceipt()})
	f.Add(env)
	f.Add([]byte(`<s:Envelope xmlns:s="http://schemas.xmlsoap.org/soap/envelope/"><s:Body>` +
		`<paVerifyPaymentNoticeReq><idPA>00000000000</idPA><qrCode><fiscalCode>00000000000</fiscalCode>` +
		`<noticeNumber>301000000000000012</noticeNumber></qrCode></paVerifyPaymentNoticeReq></s:Body></s:Envelope>`))
	f.Add([]byte(`<s:Envelope xmlns:s="http://schemas.xmlsoap.org/soap/envelope/"><s:Body>` +
		`<paGetPaymentV2Req><qrCode><noticeNumber>3</noticeNumber></qrCode><amount>1.00</amount></paGetPaymentV2Req></s:Body></s:Envelope>`))
	f.Fuzz(func(t *testing.T, b []byte) {
		_, inner, err := Unwrap(bytes.NewReader(b))
		if err != nil {
			require.ErrorIs(t, err, ErrSyntax)
			return
		}
		_ = DecodeBody(inner, &SendRTV2Request{})
		_ = DecodeBody(inner, &VerifyPaymentNoticeRequest{})
		_ = DecodeBody(inner, &GetPaymentV2Request{})
	})
}
