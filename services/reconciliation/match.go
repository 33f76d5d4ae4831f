package reconciliation

import (
	"context"
	"encoding/json"
	"fmt"
	"strconv"

	"github.com/jackc/pgx/v5/pgtype"

	"incasso/db/dbgen"
)

// The outcomes of matching a flow line (fdr_flow_lines.match).
const (
	LineMatched       = "MATCHED"
	LineNoReceipt     = ReasonNoReceipt
	LineAmountDiffers = ReasonAmountDiffers
	LineRevoked       = ReasonRevoked
	LineNoRPT         = ReasonNoRPT
)

// lineMatch is how one flow line matched.
type lineMatch struct {
	receiptID pgtype.Int8 // receipts.id
	expected  pgtype.Int8 // the receipt's transfer amount
	match     string
}

// paidReceipt is a receipt a line may report: by IUR (its receipt id) and IUV.
type paidReceipt struct {
	id        int64
	iuv       string
	transfers map[int]int64 // amount by transfer index
	amount    int64
}

// receiptsFor reads the paid receipts of the IURs given, by IUR.
func receiptsFor(ctx context.Context, q *dbgen.Queries, iurs []string) (map[string]paidReceipt, error) {
	rows, err := q.ReceiptsForFdrLines(ctx, iurs)
	if err != nil {
		return nil, fmt.Errorf("read the receipts of the lines: %w", err)
	}
	out := make(map[string]paidReceipt, len(rows))
	for _, r := range rows {
		var ts []struct {
			IDTransfer  string `json:"idTransfer"`
			AmountCents int64  `json:"amountCents"`
		}
		if err := json.Unmarshal(r.Transfers, &ts); err != nil {
			return nil, fmt.Errorf("receipt %d: transfers: %w", r.ID, err)
		}
		pr := paidReceipt{id: r.ID, iuv: r.Iuv, amount: r.AmountCents, transfers: make(map[int]int64, len(ts))}
		for _, t := range ts {
			if idx, err := strconv.Atoi(t.IDTransfer); err == nil {
				pr.transfers[idx] = t.AmountCents
			}
		}
		out[r.ReceiptID] = pr
	}
	return out, nil
}

// matchLine is the one rule of a line's match: its receipt by IUR and IUV, whose transfer of
// the line's index (the whole receipt when it kept no transfers) must have the line's amount.
// A revocation is never a match; a line no receipt answers is a payment without receipt by its
// payStatus (NO_RPT, STAND_IN_NO_RPT), else a receipt incasso lacks.
func matchLine(iuv, iur string, transfer int, amount int64, payStatus string, receipts map[string]paidReceipt) lineMatch {
	r, ok := receipts[iur]
	if !ok || r.iuv != iuv {
		switch payStatus {
		case "REVOKED":
			return lineMatch{match: LineRevoked}
		case "NO_RPT", "STAND_IN_NO_RPT":
			return lineMatch{match: LineNoRPT}
		}
		return lineMatch{match: LineNoReceipt}
	}
	expected, ok := r.transfers[transfer]
	if !ok && len(r.transfers) == 0 {
		expected = r.amount
	}
	m := lineMatch{receiptID: pgtype.Int8{Int64: r.id, Valid: true}, expected: pgtype.Int8{Int64: expected, Valid: true}, match: LineMatched}
	switch {
	case payStatus == "REVOKED":
		m.match = LineRevoked
	case amount != expected:
		m.match = LineAmountDiffers
	}
	return m
}
