// Package bankgw is incasso's channel to the creditor's bank for SEPA Direct Debit: it hands
// over pain.008 collection files, fetches their pain.002 status reports and reads the camt.054
// notifications of returns and refunds, and the account statements (camt.053) that
// reconciliation matches the money against. Gateway is what incasso needs from any bank; HTTP is a
// generic corporate-banking REST profile, the one package banksim simulates. Other profiles
// (CBI, EBICS) would be other implementations of Gateway.
//
// The gateway moves documents and does not read them: packages sepa/pain008, sepa/pain002,
// sepa/camt054 and sepa/camt053 write and parse them.
package bankgw

import (
	"context"
	"io"
)

// Gateway is the channel to the creditor's bank for SDD files.
type Gateway interface {
	// Submit hands a pain.008 file to the bank. It is idempotent on msgID: submitting the same
	// msgID again with the same content is accepted (no double collection); the same msgID
	// with other content is ErrConflict. A file the bank refuses as invalid is ErrRejected.
	Submit(ctx context.Context, msgID string, file io.Reader) error
	// StatusReport returns the raw pain.002 for the file msgID, or ErrNotReady while the bank
	// has none yet.
	StatusReport(ctx context.Context, msgID string) ([]byte, error)
	// Notifications returns the camt.054 documents the bank published after the cursor after
	// ("" = from the start), oldest first, at most limit. The ID of the last one is the
	// cursor of the next call.
	Notifications(ctx context.Context, after string, limit int) ([]Document, error)
	// Statements returns the camt.053 statements of the treasury account published after the
	// cursor after, paged as Notifications.
	Statements(ctx context.Context, after string, limit int) ([]Document, error)
}

// Document is one document the bank published, with the ID that orders it.
type Document struct {
	ID  string
	XML []byte
}

var _ Gateway = (*HTTP)(nil)
