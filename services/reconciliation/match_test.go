package reconciliation

import (
	"testing"

	"github.com/jackc/pgx/v5/pgtype"
	"github.com/stretchr/testify/require"
)

// The outcome codes of the spec: EXECUTED and STAND_IN are payments with a receipt; REVOKED
// is never a match; NO_RPT and STAND_IN_NO_RPT are paid without one. A receipt matches by IUR
// and IUV, its amount by the transfer of the line's index.
func TestMatchLine(t *testing.T) {
	t.Parallel()
	receipts := map[string]paidReceipt{
		"R1": {id: 7, iuv: "01000000000000001", amount: 1500, transfers: map[int]int64{1: 1000, 2: 500}},
		"R2": {id: 8, iuv: "01000000000000002", amount: 900, transfers: map[int]int64{}}, // kept no transfers
	}
	id := func(n int64) pgtype.Int8 { return pgtype.Int8{Int64: n, Valid: true} }
	for _, c := range []struct {
		name, iuv, iur string
		transfer       int
		amount         int64
		status         string
		want           lineMatch
	}{
		{"executed", "01000000000000001", "R1", 1, 1000, "EXECUTED", lineMatch{id(7), id(1000), LineMatched}},
		{"second beneficiary's transfer", "01000000000000001", "R1", 2, 500, "EXECUTED", lineMatch{id(7), id(500), LineMatched}},
		{"stand-in with its receipt", "01000000000000001", "R1", 1, 1000, "STAND_IN", lineMatch{id(7), id(1000), LineMatched}},
		{"amount differs", "01000000000000001", "R1", 1, 1001, "EXECUTED", lineMatch{id(7), id(1000), LineAmountDiffers}},
		{"no transfers kept: the whole receipt", "01000000000000002", "R2", 1, 900, "EXECUTED", lineMatch{id(8), id(900), LineMatched}},
		{"revoked", "01000000000000001", "R1", 1, 1000, "REVOKED", lineMatch{id(7), id(1000), LineRevoked}},
		{"revoked, no receipt", "01000000000000009", "R9", 1, 1000, "REVOKED", lineMatch{match: LineRevoked}},
		{"paid without receipt", "01000000000000009", "R9", 1, 1000, "NO_RPT", lineMatch{match: LineNoRPT}},
		{"stand-in without receipt", "01000000000000009", "R9", 1, 1000, "STAND_IN_NO_RPT", lineMatch{match: LineNoRPT}},
		{"no receipt", "01000000000000009", "R9", 1, 1000, "EXECUTED", lineMatch{match: LineNoReceipt}},
		{"the IUR of another notice", "01000000000000002", "R1", 1, 1000, "EXECUTED", lineMatch{match: LineNoReceipt}},
		{"a transfer the receipt lacks", "01000000000000001", "R1", 3, 100, "EXECUTED", lineMatch{id(7), id(0), LineAmountDiffers}},
	} {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			require.Equal(t, c.want, matchLine(c.iuv, c.iur, c.transfer, c.amount, c.status, receipts))
		})
	}
}
