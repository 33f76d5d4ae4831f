package receipts

import (
	"testing"

	"incasso/domain/money"
)

// FuzzParse reads any bytes as a receipt (pushed by the Nodo or pulled from GPD) and maps
// what parses to the row Record would store: errors, never a panic, and an amount that
// parses is never negative.
func FuzzParse(f *testing.F) {
	f.Add([]byte(`<paSendRTV2Req><idPA>00000000000</idPA><receipt><receiptId>r1</receiptId>` +
		`<noticeNumber>301000000000000012</noticeNumber><fiscalCode>00000000000</fiscalCode><outcome>OK</outcome>` +
		`<paymentAmount>123.45</paymentAmount><fee>1.00</fee><paymentDateTime>2026-11-25T10:11:12</paymentDateTime>` +
		`<transferList><transfer><idTransfer>1</idTransfer><transferAmount>123.45</transferAmount></transfer></transferList>` +
		`</receipt></paSendRTV2Req>`))
	f.Add([]byte(`<paSendRTV2Req><receipt><paymentAmount>-1.00</paymentAmount><applicationDate>2026-13-01</applicationDate></receipt></paSendRTV2Req>`))
	f.Add([]byte(`not xml`))
	r := &Recorder{}
	f.Fuzz(func(t *testing.T, raw []byte) {
		req, err := Parse(raw)
		if err != nil {
			return
		}
		amount, err := money.ParseDecimal(req.Receipt.PaymentAmount)
		if err != nil {
			return
		}
		if amount < 0 {
			t.Fatalf("a negative amount parsed: %q", req.Receipt.PaymentAmount)
		}
		_, _ = r.row(req.Receipt, amount, raw, SourcePush)
	})
}
