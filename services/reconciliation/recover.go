package reconciliation

import (
	"context"
	"errors"
	"fmt"

	"incasso/clients/gpd"
	"incasso/domain/pagopa"
	"incasso/services/receipts"
)

// receiptSource is the part of GPD's receipts API the intake asks for a missing receipt.
type receiptSource interface {
	GetReceipt(ctx context.Context, organization, iuv string) ([]byte, error)
}

var _ receiptSource = (*gpd.Receipts)(nil)

// GPDReceipts recovers the receipt of a flow line as the recovery job does: it asks GPD's
// receipts API and records what GPD holds as a recovered receipt.
type GPDReceipts struct {
	GPD      receiptSource
	Recorder *receipts.Recorder
}

var _ ReceiptRecoverer = (*GPDReceipts)(nil)

// RecoverReceipt reports whether the receipt of the notice iuv is recorded now. A receipt GPD
// does not hold, or one it holds unreadable or refused, is not: the line is flagged.
func (g *GPDReceipts) RecoverReceipt(ctx context.Context, iuv string) (bool, error) {
	raw, err := g.GPD.GetReceipt(ctx, g.Recorder.ECFiscalCode, iuv)
	switch {
	case errors.Is(err, gpd.ErrNotFound), errors.Is(err, gpd.ErrRejected):
		return false, nil
	case err != nil:
		return false, fmt.Errorf("ask GPD for a receipt: %w", err)
	}
	req, err := receipts.Parse(raw)
	if err != nil {
		return false, nil
	}
	out, err := g.Recorder.Record(ctx, req.Receipt, raw, receipts.SourceRecovery)
	if err != nil {
		return false, fmt.Errorf("record a recovered receipt: %w", err)
	}
	// Stored: accepted, kept flagged (an unknown notice answers a fault too), or stored before.
	return out.Fault == "" || out.Flag != "" || out.Fault == pagopa.FaultDuplicateReceipt, nil
}
