package enforcement_test

import (
	"bytes"
	"context"
	"encoding/csv"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/stretchr/testify/require"

	"incasso/db/dbgen"
	"incasso/devstack/testdb"
	"incasso/domain/pagopa"
	"incasso/domain/reminders"
	"incasso/services/debts"
	"incasso/services/enforcement"
	"incasso/workflows"
)

const ecCode = "00000000000"

// handedOver stores an overdue debt whose ladder handed it over, and returns it.
func handedOver(t *testing.T, pool *pgxpool.Pool, n int) dbgen.DebtPosition {
	t.Helper()
	ctx := context.Background()
	q := dbgen.New(pool)
	base, err := q.NextIUVBase(ctx, dbgen.NextIUVBaseParams{EcFiscalCode: ecCode, Segregation: 1})
	require.NoError(t, err)
	nav, err := pagopa.NewNAV(1, base)
	require.NoError(t, err)
	d, err := q.CreateDebt(ctx, dbgen.CreateDebtParams{
		EcFiscalCode: ecCode, Iupd: fmt.Sprintf("ENF-%d", n), ServiceCode: "TARI",
		DebtorType: "F", DebtorFiscalCode: "RSSMRA85T10A562S", DebtorName: "Mario Rossi", DebtorEmail: "m@example.it",
		AmountCents: 12345, DueDate: time.Date(2026, time.March, 31, 0, 0, 0, 0, time.UTC),
		Description: "TARI 2026 rata unica", Nav: nav.String(),
	})
	require.NoError(t, err)
	_, err = debts.Advance(ctx, q, d.ID, workflows.StatusOverdue)
	require.NoError(t, err)
	require.NoError(t, q.InsertHandover(ctx, dbgen.InsertHandoverParams{DebtID: d.ID, AmountCents: d.AmountCents}))
	return d
}

// iupds are the debts of an export's file.
func iupds(t *testing.T, file []byte) []string {
	t.Helper()
	r := csv.NewReader(bytes.NewReader(file))
	r.Comma = ';'
	records, err := r.ReadAll()
	require.NoError(t, err)
	require.Equal(t, reminders.EnforcementHeader, records[0])
	var out []string
	for _, rec := range records[1:] {
		out = append(out, rec[0])
	}
	return out
}

// An export that meets a receipt being recorded for a handed-over debt (the recorder holds
// the debt's row) waits for it, and leaves the debt out once it is paid.
func TestExportWaitsForAReceiptBeingRecorded(t *testing.T) {
	t.Parallel()
	pool, _ := testdb.New(t)
	ctx := context.Background()
	paid, owed := handedOver(t, pool, 1), handedOver(t, pool, 2)

	tx, err := pool.Begin(ctx)
	require.NoError(t, err)
	defer func() { _ = tx.Rollback(ctx) }() // after the commit, a no-op
	q := dbgen.New(tx)
	_, err = q.LockDebt(ctx, paid.ID)
	require.NoError(t, err)
	settled, err := debts.Settle(ctx, q, paid.ID, time.Now())
	require.NoError(t, err)
	require.True(t, settled)

	type result struct {
		file []byte
		err  error
	}
	done := make(chan result, 1)
	go func() {
		_, file, err := enforcement.Export(ctx, pool, "tributi")
		done <- result{file, err}
	}()
	select {
	case r := <-done:
		t.Fatalf("the export did not wait for the receipt: %v %q", r.err, r.file)
	case <-time.After(300 * time.Millisecond):
	}
	require.NoError(t, tx.Commit(ctx))
	r := <-done
	require.NoError(t, r.err)
	require.Equal(t, []string{owed.Iupd}, iupds(t, r.file))
}

// Exports made at the same time hand each debt over once.
func TestConcurrentExportsHandOverOnce(t *testing.T) {
	t.Parallel()
	pool, _ := testdb.New(t)
	ctx := context.Background()
	var want []string
	for i := range 20 {
		want = append(want, handedOver(t, pool, i).Iupd)
	}
	var mu sync.Mutex
	var got []string
	var wg sync.WaitGroup
	for range 4 {
		wg.Go(func() {
			b, file, err := enforcement.Export(ctx, pool, "tributi")
			require.NoError(t, err)
			mu.Lock()
			defer mu.Unlock()
			require.Len(t, iupds(t, file), b.Rows)
			got = append(got, iupds(t, file)...)
		})
	}
	wg.Wait()
	require.ElementsMatch(t, want, got)

	batches, err := enforcement.Batches(ctx, dbgen.New(pool), 1<<62, 10)
	require.NoError(t, err)
	require.Len(t, batches, 4)
	var unexported int
	require.NoError(t, pool.QueryRow(ctx, `SELECT count(*) FROM enforcement_handovers WHERE export_id IS NULL`).Scan(&unexported))
	require.Zero(t, unexported)
}
