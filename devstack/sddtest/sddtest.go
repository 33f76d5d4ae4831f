// Package sddtest builds SEPA direct debit files for the tests of the bank gateway and its
// simulator.
package sddtest

import (
	"bytes"
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"incasso/domain/date"
	"incasso/domain/money"
	"incasso/domain/sepa/pain008"
)

// Pain008 writes a pain.008 of profile p with one RCUR batch, PMT-1, of txs, collected on
// 2026-03-10 for the Comune di Esempio.
func Pain008(t testing.TB, p pain008.Profile, msgID string, txs []pain008.Transaction) []byte {
	t.Helper()
	var sum money.Cents
	for _, tx := range txs {
		sum += tx.Amount
	}
	var buf bytes.Buffer
	w, err := pain008.NewWriter(&buf, p, pain008.GroupHeader{
		MsgID: msgID, Created: time.Date(2026, 3, 1, 9, 0, 0, 0, date.Rome),
		NbOfTxs: len(txs), CtrlSum: sum, InitiatingParty: "Comune di Esempio",
	})
	require.NoError(t, err)
	require.NoError(t, w.StartPaymentInfo(pain008.PaymentInfo{
		ID: "PMT-1", SequenceType: "RCUR", CollectionDate: date.Date{Year: 2026, Month: time.March, Day: 10},
		CreditorName: "Comune di Esempio", CreditorIBAN: "IT60X0542811101000000123456",
		CreditorBIC: "BPMOIT22XXX", CreditorID: "IT85ZZZ0000080016350821",
		NbOfTxs: len(txs), CtrlSum: sum,
	}))
	for _, tx := range txs {
		require.NoError(t, w.Add(tx))
	}
	require.NoError(t, w.Close())
	return buf.Bytes()
}

// Transactions returns n transactions: EndToEndIds <prefix>-1..n, mandates MND-1..n, amounts
// 10.01, 10.02...
func Transactions(prefix string, n int) []pain008.Transaction {
	txs := make([]pain008.Transaction, n)
	for i := range txs {
		txs[i] = pain008.Transaction{
			EndToEndID:     fmt.Sprintf("%s-%d", prefix, i+1),
			Amount:         money.Cents(1001 + i),
			MandateID:      fmt.Sprintf("MND-%d", i+1),
			MandateSigned:  date.Date{Year: 2025, Month: time.June, Day: 1},
			DebtorName:     "Mario Rossi",
			DebtorIBAN:     "IT60X0542811101000000123456",
			RemittanceInfo: fmt.Sprintf("Rata %d TARI 2026", i+1),
		}
	}
	return txs
}
