package activities_test

import (
	"context"
	"net/http"
	"testing"

	"github.com/jackc/pgx/v5"
	"github.com/stretchr/testify/require"

	"incasso/db/dbgen"
	"incasso/devstack/banksim"
	"incasso/domain/date"
	"incasso/workflows"
)

func (sf *sddFixture) pollTreasury(t *testing.T) (int, error) {
	t.Helper()
	var n int
	err := runAct(t, sf.sdd, &n, sf.sdd.PollTreasuryStatements)
	return n, err
}

// closeDay has the bank publish the statement of today, on its clock.
func (sf *sddFixture) closeDay(t *testing.T) {
	t.Helper()
	sf.control(t, http.MethodPost, "/sim/bank/statements", banksim.CloseDay{Date: date.InRome(sf.clock.Now())}, http.StatusCreated)
}

// entries returns the match of each stored entry by kind.
func (sf *sddFixture) entries(t *testing.T) map[string][]string {
	t.Helper()
	rows, err := sf.pool.Query(context.Background(), `SELECT kind, match FROM treasury_entries ORDER BY id`)
	require.NoError(t, err)
	defer rows.Close()
	out := map[string][]string{}
	for rows.Next() {
		var kind, match string
		require.NoError(t, rows.Scan(&kind, &match))
		out[kind] = append(out[kind], match)
	}
	require.NoError(t, rows.Err())
	return out
}

// The collection file's credit matches its run; a return matches once it is recorded; a
// flow's credit waits for its flow; a statement read again changes nothing.
func TestPollTreasuryStatements(t *testing.T) {
	t.Parallel()
	sf := newSDDFixture(t)
	sf.sdd.Config.TreasuryGraceDays = 2
	pa, _, _ := sf.twoAccepted(t)
	sf.bankReturn(t, pa.collection.EndToEndID, "AM04", false)
	sf.control(t, http.MethodPost, "/sim/bank/credits", banksim.Credit{FlowID: "2026-03-16PSP1-S0001", AmountCents: 12050}, http.StatusCreated)
	sf.closeDay(t)

	n, err := sf.pollTreasury(t)
	require.NoError(t, err)
	require.Equal(t, 3, n)
	require.Equal(t, map[string][]string{
		"SDD_BATCH":   {"MATCHED"},
		"SDD_RETURN":  {"UNKNOWN_COLLECTION"}, // the camt.054 not read yet
		"FLOW_CREDIT": {"PENDING"},
	}, sf.entries(t))
	pos, err := sf.q.GetCursor(context.Background(), "treasury-statements")
	require.NoError(t, err)
	require.NotEmpty(t, pos)

	// The return recorded, the next poll matches it, with no new statement.
	_, err = sf.poll(t, sf.sdd)
	require.NoError(t, err)
	n, err = sf.pollTreasury(t)
	require.NoError(t, err)
	require.Zero(t, n)
	require.Equal(t, []string{"MATCHED"}, sf.entries(t)["SDD_RETURN"])

	// Read again from the start: stored once.
	before := sf.entries(t)
	require.NoError(t, sf.q.SetCursor(context.Background(), dbgen.SetCursorParams{Name: "treasury-statements", Position: ""}))
	n, err = sf.pollTreasury(t)
	require.NoError(t, err)
	require.Zero(t, n)
	require.Equal(t, before, sf.entries(t))
	var statements int
	require.NoError(t, sf.pool.QueryRow(context.Background(), `SELECT count(*) FROM treasury_statements`).Scan(&statements))
	require.Equal(t, 1, statements)
	require.Empty(t, sf.differences(t), "within the grace, nothing is a difference")

	// Past the grace, the credit of a flow incasso does not have is a difference, once. (The
	// bank's clock is an hour ahead of the activity's, which may be tomorrow in Rome: the
	// entries are moved back a few days, so the grace of 0 has passed whatever the hour.)
	sf.sdd.Config.TreasuryGraceDays = 0
	_, err = sf.pool.Exec(context.Background(), `UPDATE treasury_entries SET booking_date = booking_date - 5`)
	require.NoError(t, err)
	for range 2 {
		_, err = sf.pollTreasury(t)
		require.NoError(t, err)
	}
	require.Equal(t, []string{"UNKNOWN_FLOW"}, sf.entries(t)["FLOW_CREDIT"])
	require.Equal(t, []string{"CREDIT_WITHOUT_FLOW credit:2026-03-16PSP1-S0001 12050"}, sf.differences(t))
}

// differences lists the open differences: reason, subject and amount credited.
func (sf *sddFixture) differences(t *testing.T) []string {
	t.Helper()
	rows, err := sf.pool.Query(context.Background(),
		`SELECT reason || ' ' || subject || ' ' || coalesce(reported_cents::text, '-') FROM reconciliation_differences WHERE resolution IS NULL ORDER BY id`)
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

// A statement whose MsgId is stored with other content is refused for good, nothing of it
// stored; the cursor stays before it.
func TestPollTreasuryStatementsMsgIDReused(t *testing.T) {
	t.Parallel()
	sf := newSDDFixture(t)
	sf.closeDay(t)
	// Another statement stored under the MsgId the bank gives its first one.
	_, err := sf.pool.Exec(context.Background(), `INSERT INTO treasury_statements (msg_id, statement_ref, statement_date, opening_cents, closing_cents, entries, raw_xml, raw_sha256)
		VALUES ('STM000000000001', 'X', now(), 0, 0, 0, '<x/>', sha256('<x/>'::bytea))`)
	require.NoError(t, err)
	_, err = sf.pollTreasury(t)
	require.NotNil(t, workflows.FindErrorType(err, workflows.ErrTypeMessageIDReused), "%v", err)
	_, err = sf.q.GetCursor(context.Background(), "treasury-statements")
	require.ErrorIs(t, err, pgx.ErrNoRows, "the cursor never moved past it")
	var entries int
	require.NoError(t, sf.pool.QueryRow(context.Background(), `SELECT count(*) FROM treasury_entries`).Scan(&entries))
	require.Zero(t, entries)
}
