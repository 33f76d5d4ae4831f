package pain008_test

import (
	"bytes"
	"fmt"
	"time"

	"incasso/domain/date"
	"incasso/domain/sepa/pain008"
)

// A collection file is written in one pass, the totals declared first (in practice from an
// SQL aggregate over the instalments due), then read back as the bank simulator does.
func ExampleWriter() {
	var buf bytes.Buffer
	w, err := pain008.NewWriter(&buf, pain008.V08, pain008.GroupHeader{
		MsgID: "INC-20260302-1", Created: time.Date(2026, 3, 2, 9, 30, 0, 0, date.Rome),
		NbOfTxs: 2, CtrlSum: 15000, InitiatingParty: "Comune di Esempio",
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	err = w.StartPaymentInfo(pain008.PaymentInfo{
		ID: "INC-20260302-1-RCUR", SequenceType: "RCUR", CollectionDate: date.Date{Year: 2026, Month: time.March, Day: 10},
		CreditorName: "Comune di Esempio", CreditorIBAN: "IT60X0542811101000000123456",
		CreditorID: "IT85ZZZ0000080016350821", NbOfTxs: 2, CtrlSum: 15000,
	})
	for i, name := range []string{"Niccolò D’Amico", "Città Nuova S.r.l."} {
		if err != nil {
			break
		}
		err = w.Add(pain008.Transaction{
			EndToEndID: fmt.Sprintf("TARI2026-%06d-R2", i+1), Amount: 7500, MandateID: fmt.Sprintf("MND-%06d", i+1),
			MandateSigned: date.Date{Year: 2025, Month: time.June, Day: 1}, DebtorName: name,
			DebtorIBAN: "IT98Z1234512345123456789012", RemittanceInfo: "TARI 2026 rata 2/2",
		})
	}
	if err == nil {
		err = w.Close()
	}
	if err != nil {
		fmt.Println(err) // and discard buf
		return
	}

	f, err := pain008.Parse(&buf)
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(f.MsgID, f.NbOfTxs, f.CtrlSum.Decimal())
	for _, tx := range f.PaymentInfos[0].Transactions {
		fmt.Println(tx.EndToEndID, tx.Amount.Decimal(), tx.DebtorName)
	}
	// Output:
	// INC-20260302-1 2 150.00
	// TARI2026-000001-R2 75.00 Niccolo D'Amico
	// TARI2026-000002-R2 75.00 Citta Nuova S.r.l.
}
