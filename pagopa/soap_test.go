package pagopa

import (
	"bytes"
	"encoding/xml"
	"errors"
	"testing"

	"github.com/stretchr/testify/require"

	"incasso/internal/specs"
)

// requireValidBody checks that the body of a SOAP envelope validates against paForNode.xsd.
func requireValidBody(t *testing.T, envelope []byte) {
	t.Helper()
	_, inner, err := Unwrap(bytes.NewReader(envelope))
	require.NoError(t, err)
	err = specs.Validate(specs.Path("pagopa", "paForNode.xsd"), inner)
	if errors.Is(err, specs.ErrNoXmllint) {
		t.Skip("xmllint is not installed (Debian libxml2-utils): cannot validate against paForNode.xsd")
	}
	require.NoError(t, err)
}

func sampleReceipt() ReceiptV2 {
	r := ReceiptV2{
		ReceiptID: "c8a2f0e1b5d54c1e", NoticeNumber: "322201151398574181", FiscalCode: "00000000000",
		Outcome: "OK", CreditorReferenceID: "22201151398574181", PaymentAmount: "123.45",
		Description: "TARI 2026 rata unica", CompanyName: "Comune di Esempio",
		IDPSP: "SIMPSP01", PSPCompanyName: "PSP Simulato", IDChannel: "SIMPSP01_01",
		ChannelDescription: "app", PaymentMethod: "creditCard", Fee: "1.00",
		PaymentDateTime: "2026-11-25T10:11:12", ApplicationDate: "2026-11-25", TransferDate: "2026-11-26",
	}
	r.Debtor.UniqueIdentifier.Type = "F"
	r.Debtor.UniqueIdentifier.Value = "RSSMRA85T10A562S"
	r.Debtor.FullName = "Mario Rossi"
	r.Transfers = []ReceiptTransfer{{
		IDTransfer: "1", TransferAmount: "123.45", FiscalCodePA: "00000000000",
		IBAN: "IT60X0542811101000000123456", RemittanceInformation: "TARI 2026", TransferCategory: "9/0101108TS/",
	}}
	return r
}

func TestSendRTV2RoundTripValidates(t *testing.T) {
	t.Parallel()
	req := SendRTV2Request{Header: Header{IDPA: "00000000000", IDBrokerPA: "00000000000", IDStation: "00000000000_01"}, Receipt: sampleReceipt()}
	env, err := Wrap(ElemSendRTV2Request, req)
	require.NoError(t, err)
	requireValidBody(t, env)

	name, inner, err := Unwrap(bytes.NewReader(env))
	require.NoError(t, err)
	require.Equal(t, xml.Name{Space: NSPaForNode, Local: ElemSendRTV2Request}, name)
	var back SendRTV2Request
	require.NoError(t, DecodeBody(inner, &back))
	require.Equal(t, req, back)
}

func TestResponsesValidate(t *testing.T) {
	t.Parallel()
	for _, resp := range []Response{OK(), KO(FaultUnknownPayment, "notice not found", "00000000000"), KO(FaultDuplicateReceipt, "", "00000000000")} {
		env, err := Wrap(ElemSendRTV2Response, SendRTV2Response{resp})
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

func FuzzUnwrap(f *testing.F) {
	env, _ := Wrap(ElemSendRTV2Request, SendRTV2Request{Receipt: sampleReceipt()})
	f.Add(env)
	f.Fuzz(func(t *testing.T, b []byte) {
		_, inner, err := Unwrap(bytes.NewReader(b))
		if err != nil {
			require.ErrorIs(t, err, ErrSyntax)
			return
		}
		var req SendRTV2Request
		_ = DecodeBody(inner, &req)
	})
}
