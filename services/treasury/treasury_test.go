package treasury_test

import (
	"bytes"
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/stretchr/testify/require"

	"incasso/devstack/testdb"
	"incasso/domain/date"
	"incasso/domain/money"
	"incasso/domain/sepa/camt053"
	"incasso/services/treasury"
)

var day = date.Date{Year: 2026, Month: time.March, Day: 17}

// flow stores a reporting flow whose lines report a receipt each (of unknown notices: the
// treasury does not look at the debt), matched as the FdR intake matches them.
func flow(t *testing.T, pool *pgxpool.Pool, flowID string, amounts ...money.Cents) []int64 {
	return flowOf(t, pool, flowID, "80000000000", amounts...)
}

// flowOf is flow whose transfers go to the beneficiary (fiscal code of the entity).
func flowOf(t *testing.T, pool *pgxpool.Pool, flowID, beneficiary string, amounts ...money.Cents) []int64 {
	t.Helper()
	ctx := context.Background()
	var sum money.Cents
	for _, a := range amounts {
		sum += a
	}
	var fid int64
	require.NoError(t, pool.QueryRow(ctx, `INSERT INTO fdr_flows (flow_id, revision, psp_id, ec_fiscal_code, flow_date, payments, sum_cents, status, raw_json, raw_sha256)
		VALUES ($1, 1, 'PSP1', '00000000000', $2, $3, $4, 'MATCHED', '{}', repeat('0', 64)) RETURNING id`,
		flowID, day.Time(), len(amounts), int64(sum)).Scan(&fid))
	var receipts []int64
	for i, a := range amounts {
		var rid, lid int64
		iuv := fmt.Sprintf("%05d%02d", fid, i)
		transfers := fmt.Sprintf(`[{"idTransfer":"1","amountCents":%d,"fiscalCodePA":%q,"transferCategory":"9/0101002IM/"}]`, a, beneficiary)
		require.NoError(t, pool.QueryRow(ctx, `INSERT INTO receipts (receipt_id, nav, amount_cents, outcome, psp_id, psp_name, channel_id, raw_xml, flag, transfers)
			VALUES ($1, '3' || $2, $3, 'OK', 'PSP1', 'PSP', 'CH', '<x/>', 'UNKNOWN_NOTICE', $4) RETURNING id`, "IUR"+iuv, iuv, int64(a), transfers).Scan(&rid))
		require.NoError(t, pool.QueryRow(ctx, `INSERT INTO fdr_flow_lines (flow_id, line_index, iuv, iur, transfer_index, amount_cents, pay_status, outcome_code, receipt_id, match)
			VALUES ($1, $2, $3, $4, 1, $5, 'EXECUTED', 0, $6, 'MATCHED') RETURNING id`, fid, i+1, iuv, "IUR"+iuv, int64(a), rid).Scan(&lid))
		_, err := pool.Exec(ctx, `UPDATE receipt_reconciliation SET status = 'MATCHED_FLOW', flow_line_id = $2, matched_at = now() WHERE receipt_id = $1`, rid, lid)
		require.NoError(t, err)
		receipts = append(receipts, rid)
	}
	return receipts
}

func statement(t *testing.T, msgID string, entries ...camt053.Entry) []byte {
	t.Helper()
	return statementOn(t, msgID, day, entries...)
}

// statementOn is the statement msgID of the day on, of the entries booked that day.
func statementOn(t *testing.T, msgID string, on date.Date, entries ...camt053.Entry) []byte {
	t.Helper()
	s := camt053.Statement{MsgID: msgID, Created: on.EndIn(date.Rome), ID: "STM-" + on.String(),
		IBAN: "IT60X0542811101000000123456", Date: on, Entries: entries}
	for i := range s.Entries {
		s.Entries[i].Ref = fmt.Sprintf("BK%d", i+1)
		s.Entries[i].BookingDate = on
		s.Closing += s.Entries[i].Amount
	}
	var buf bytes.Buffer
	require.NoError(t, camt053.Write(&buf, s))
	return buf.Bytes()
}

func credit(flowID string, amount money.Cents) camt053.Entry {
	return camt053.Entry{Kind: camt053.FlowCredit, Amount: amount, Credit: true, Remittance: camt053.FlowPrefix + flowID, FlowID: flowID}
}

func column(t *testing.T, pool *pgxpool.Pool, query string, args ...any) []string {
	t.Helper()
	rows, err := pool.Query(context.Background(), query, args...)
	require.NoError(t, err)
	defer rows.Close()
	var out []string
	for rows.Next() {
		var s string
		require.NoError(t, rows.Scan(&s))
		out = append(out, s)
	}
	require.NoError(t, rows.Err())
	return out
}

// A flow credited once reconciles its receipts; a flow credited in two bookings that add up
// reconciles them too and is flagged CREDIT_SPLIT; a flow without credit, past the cutoff, is
// FLOW_WITHOUT_CREDIT; a credit of another amount is CREDIT_AMOUNT_DIFFERS. Running it again
// changes nothing.
func TestFlowCredits(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	pool, _ := testdb.New(t)
	paid := flow(t, pool, "2026-03-16PSP1-S0001", 10000, 2050)
	split := flowOf(t, pool, "2026-03-16PSP2-S0001", "01234567890", 7500)
	missing := flow(t, pool, "2026-03-16PSP3-S0001", 3000)
	short := flow(t, pool, "2026-03-16PSP4-S0001", 4000)
	data := statement(t, "STM-1", credit("2026-03-16PSP1-S0001", 12050),
		credit("2026-03-16PSP2-S0001", 5000), credit("2026-03-16PSP2-S0001", 2500), credit("2026-03-16PSP4-S0001", 3999))

	in := treasury.Intake{Pool: pool}
	res, err := in.Take(ctx, data)
	require.NoError(t, err)
	require.Equal(t, treasury.Result{MsgID: "STM-1", Entries: 4}, res)
	m, err := in.Match(ctx, day, day)
	require.NoError(t, err)
	require.Equal(t, int64(4), m.Flows)
	require.Equal(t, int64(3), m.Reconciled)
	require.Equal(t, int64(3), m.Differences)

	status := func(ids []int64) []string {
		return column(t, pool, `SELECT status FROM receipt_reconciliation WHERE receipt_id = ANY($1) ORDER BY receipt_id`, ids)
	}
	require.Equal(t, []string{"RECONCILED", "RECONCILED"}, status(paid))
	require.Equal(t, []string{"RECONCILED"}, status(split))
	require.Equal(t, []string{"MATCHED_FLOW"}, status(missing))
	require.Equal(t, []string{"MATCHED_FLOW"}, status(short))
	require.Equal(t, []string{"MATCHED", "MATCHED", "MATCHED", "AMOUNT_DIFFERS"}, column(t, pool, `SELECT match FROM treasury_entries ORDER BY id`))
	differences := `SELECT reason || ' ' || subject || ' ' || coalesce(expected_cents::text, '-') || ' ' || coalesce(reported_cents::text, '-')
		FROM reconciliation_differences WHERE resolution IS NULL ORDER BY reason`
	want := []string{
		"CREDIT_AMOUNT_DIFFERS credit:2026-03-16PSP4-S0001 4000 3999",
		"CREDIT_SPLIT credit:2026-03-16PSP2-S0001 7500 7500",
		"FLOW_WITHOUT_CREDIT flow:2026-03-16PSP3-S0001/1 3000 -",
	}
	require.Equal(t, want, column(t, pool, differences))

	// The same statement again, and matching again: nothing new.
	res, err = in.Take(ctx, data)
	require.NoError(t, err)
	require.True(t, res.Resent)
	m, err = in.Match(ctx, day, day)
	require.NoError(t, err)
	require.Zero(t, m.Reconciled+m.Differences+m.Superseded)
	require.Equal(t, want, column(t, pool, differences))

	// The missing credit comes the next day: the difference is closed by incasso.
	next := day
	next.Day++
	_, err = in.Take(ctx, statementOn(t, "STM-2", next, credit("2026-03-16PSP3-S0001", 3000)))
	require.NoError(t, err)
	m, err = in.Match(ctx, next, day)
	require.NoError(t, err)
	require.Equal(t, int64(1), m.Superseded)
	require.Equal(t, []string{"RECONCILED"}, status(missing))
	require.Equal(t, want[:2], column(t, pool, differences))

	// The accounting export of each day, and what is still open.
	var csv bytes.Buffer
	n, err := in.Accounting(ctx, day, &csv)
	require.NoError(t, err)
	require.Equal(t, 2, n)
	require.Equal(t, "data_accredito;canale;servizio;tassonomia;beneficiario;pagamenti;importo_centesimi\r\n"+
		"2026-03-17;PAGOPA;;9/0101002IM/;01234567890;1;7500\r\n"+
		"2026-03-17;PAGOPA;;9/0101002IM/;80000000000;2;12050\r\n", csv.String())
	csv.Reset()
	_, err = in.Accounting(ctx, next, &csv)
	require.NoError(t, err)
	require.Contains(t, csv.String(), "\r\n2026-03-18;PAGOPA;;9/0101002IM/;80000000000;1;3000\r\n")
	csv.Reset()
	n, err = in.Open(ctx, next, &csv)
	require.NoError(t, err)
	require.Equal(t, 2, n)
	require.Contains(t, csv.String(), ";CREDIT_AMOUNT_DIFFERS;credit:2026-03-16PSP4-S0001;4000;3999;")
	require.Contains(t, csv.String(), ";CREDIT_SPLIT;credit:2026-03-16PSP2-S0001;7500;7500;")
}

// A credit of a flow incasso does not have waits for it until the cutoff, then is a
// difference; the flow stored later matches it and closes the difference.
func TestCreditBeforeItsFlow(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	pool, _ := testdb.New(t)
	in := treasury.Intake{Pool: pool}
	_, err := in.Take(ctx, statement(t, "STM-1", credit("2026-03-16PSP1-S0001", 500)))
	require.NoError(t, err)
	before := day
	before.Day--
	_, err = in.Match(ctx, day, before)
	require.NoError(t, err)
	require.Equal(t, []string{"PENDING"}, column(t, pool, `SELECT match FROM treasury_entries`))
	_, err = in.Match(ctx, day, day)
	require.NoError(t, err)
	require.Equal(t, []string{"UNKNOWN_FLOW"}, column(t, pool, `SELECT match FROM treasury_entries`))
	require.Equal(t, []string{"CREDIT_WITHOUT_FLOW"}, column(t, pool, `SELECT reason FROM reconciliation_differences WHERE resolution IS NULL`))

	receipts := flow(t, pool, "2026-03-16PSP1-S0001", 500)
	_, err = in.Match(ctx, day, day)
	require.NoError(t, err)
	require.Equal(t, []string{"MATCHED"}, column(t, pool, `SELECT match FROM treasury_entries`))
	require.Equal(t, []string{"RECONCILED"}, column(t, pool, `SELECT status FROM receipt_reconciliation WHERE receipt_id = $1`, receipts[0]))
	require.Empty(t, column(t, pool, `SELECT reason FROM reconciliation_differences WHERE resolution IS NULL`))
}

// A statement that cannot be read, or whose MsgId is stored with other content, stores nothing.
func TestRefusedStatements(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	pool, _ := testdb.New(t)
	in := treasury.Intake{Pool: pool}
	_, err := in.Take(ctx, statement(t, "STM-1", credit("F-1", 500)))
	require.NoError(t, err)
	_, err = in.Take(ctx, statement(t, "STM-1", credit("F-1", 501)))
	require.ErrorIs(t, err, treasury.ErrMessageIDReused)
	bad := bytes.Replace(statement(t, "STM-2", credit("F-2", 500)), []byte("<Cd>CLBD</Cd>"), []byte("<Cd>CLAV</Cd>"), 1)
	_, err = in.Take(ctx, bad)
	var ce *camt053.Error
	require.ErrorAs(t, err, &ce)
	require.Equal(t, "Stmt/Bal[CLBD]", ce.Path)
	require.Equal(t, []string{"STM-1"}, column(t, pool, `SELECT msg_id FROM treasury_statements`))
	for _, sql := range []string{`UPDATE treasury_statements SET raw_xml = 'x'`, `DELETE FROM treasury_statements`} {
		_, err = pool.Exec(ctx, sql)
		require.ErrorContains(t, err, "treasury statements are kept as the bank sent them", sql)
	}
	require.Equal(t, []string{"500"}, column(t, pool, `SELECT amount_cents::text FROM treasury_entries`))
}

// A credit split over two days' statements: the first part differs from the flow until the
// second comes, then both match and the receipt is reconciled.
func TestCreditSplitOverTwoDays(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	pool, _ := testdb.New(t)
	receipts := flow(t, pool, "2026-03-16PSP1-S0001", 1000)
	in := treasury.Intake{Pool: pool}
	_, err := in.Take(ctx, statement(t, "STM-1", credit("2026-03-16PSP1-S0001", 600)))
	require.NoError(t, err)
	_, err = in.Match(ctx, day, date.Date{})
	require.NoError(t, err)
	require.Equal(t, []string{"AMOUNT_DIFFERS"}, column(t, pool, `SELECT match FROM treasury_entries`))
	next := day
	next.Day++
	_, err = in.Take(ctx, statementOn(t, "STM-2", next, credit("2026-03-16PSP1-S0001", 400)))
	require.NoError(t, err)
	_, err = in.Match(ctx, next, date.Date{})
	require.NoError(t, err)
	require.Equal(t, []string{"MATCHED", "MATCHED"}, column(t, pool, `SELECT match FROM treasury_entries ORDER BY id`))
	require.Equal(t, []string{"RECONCILED"}, column(t, pool, `SELECT status FROM receipt_reconciliation WHERE receipt_id = $1`, receipts[0]))
}
