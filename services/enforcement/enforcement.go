// Package enforcement hands debts over to the collection agent for enforced collection. The
// reminder ladder's last step records a hand-over (activities); Export puts the hand-overs of
// the debts still owed into one CSV file (reminders.EnforcementCSV) and stores the file, its
// hash and who asked for it in the transaction that marks them exported, so that the same
// bytes can be read again when the answer was lost on the way.
package enforcement

import (
	"bytes"
	"context"
	"crypto/sha256"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"incasso/db"
	"incasso/db/dbgen"
	"incasso/domain/date"
	"incasso/domain/money"
	"incasso/domain/reminders"
)

// Batch is one export as stored: when, by whom, how many hand-overs, the SHA-256 of its file.
type Batch struct {
	ID        int64
	CreatedAt time.Time
	CreatedBy string
	Rows      int
	SHA256    []byte
}

// Export hands over, in one file, every hand-over not exported yet whose debt is still owed
// (issued or overdue, not paid: a debt paid or cancelled after its hand-over was recorded
// stays out), and stores the file as a batch created by createdBy. It returns the batch and
// the file's bytes. With nothing to hand over the file has the header alone, and is a batch
// all the same.
func Export(ctx context.Context, pool *pgxpool.Pool, createdBy string) (Batch, []byte, error) {
	var out bytes.Buffer
	var row dbgen.InsertEnforcementExportRow
	err := db.InTx(ctx, pool, func(q *dbgen.Queries) error {
		owed, err := q.LockOwedHandovers(ctx)
		if err != nil {
			return err
		}
		handovers := make([]reminders.Handover, len(owed))
		ids := make([]int64, len(owed))
		for i, r := range owed {
			ids[i] = r.ID
			handovers[i] = reminders.Handover{
				IUPD: r.Iupd, NoticeNumber: r.Nav, DebtorFiscalCode: r.DebtorFiscalCode, DebtorName: r.DebtorName,
				Amount: money.Cents(r.AmountCents), DueDate: date.Of(r.DueDate), HandedOverAt: r.HandedOverAt.Time,
				ServiceCode: r.ServiceCode,
			}
		}
		if err := reminders.EnforcementCSV(&out, handovers); err != nil {
			return err
		}
		sum := sha256.Sum256(out.Bytes())
		row, err = q.InsertEnforcementExport(ctx, dbgen.InsertEnforcementExportParams{
			CreatedBy: createdBy, RowCount: int32(len(owed)), Content: out.Bytes(), Sha256: sum[:],
		})
		if err != nil {
			return err
		}
		return q.MarkHandoversExported(ctx, dbgen.MarkHandoversExportedParams{ExportID: row.ID, Ids: ids})
	})
	if err != nil {
		return Batch{}, nil, fmt.Errorf("export hand-overs: %w", err)
	}
	return batchOf(dbgen.ListEnforcementExportsRow(row)), out.Bytes(), nil
}

// Batches lists up to limit batches with an id below before, newest first.
func Batches(ctx context.Context, q *dbgen.Queries, before int64, limit int) ([]Batch, error) {
	rows, err := q.ListEnforcementExports(ctx, dbgen.ListEnforcementExportsParams{BeforeID: before, MaxRows: int32(limit)})
	if err != nil {
		return nil, fmt.Errorf("list enforcement exports: %w", err)
	}
	out := make([]Batch, len(rows))
	for i, r := range rows {
		out[i] = batchOf(r)
	}
	return out, nil
}

func batchOf(r dbgen.ListEnforcementExportsRow) Batch {
	return Batch{ID: r.ID, CreatedAt: r.CreatedAt.Time, CreatedBy: r.CreatedBy, Rows: int(r.RowCount), SHA256: r.Sha256}
}

// File is the batch id and the exact bytes of its file, or db.ErrNotFound.
func File(ctx context.Context, q *dbgen.Queries, id int64) (Batch, []byte, error) {
	r, err := q.GetEnforcementExport(ctx, id)
	if err != nil {
		return Batch{}, nil, db.NotFound(err)
	}
	return batchOf(dbgen.ListEnforcementExportsRow{ID: r.ID, CreatedAt: r.CreatedAt, CreatedBy: r.CreatedBy, RowCount: r.RowCount, Sha256: r.Sha256}), r.Content, nil
}
