package activities_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/stretchr/testify/require"
	tlog "go.temporal.io/sdk/log"
	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/testsuite"

	"incasso/activities"
	"incasso/db/dbgen"
	"incasso/devstack/testdb"
	"incasso/domain/date"
	"incasso/domain/pagopa"
	"incasso/workflows"
)

// archiveFixture is the purge activity on a fresh database with one debt to archive messages
// about; logs keeps what the activity logged.
type archiveFixture struct {
	pool    *pgxpool.Pool
	q       *dbgen.Queries
	debtID  int64
	today   date.Date // the database's current_date
	archive *activities.Archive
	logs    *lockedBuffer
	seq     int
}

type lockedBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *lockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *lockedBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

func newArchiveFixture(t *testing.T) *archiveFixture {
	t.Helper()
	ctx := context.Background()
	pool, _ := testdb.New(t)
	q := dbgen.New(pool)
	const ec = "00000000000"
	base, err := q.NextIUVBase(ctx, dbgen.NextIUVBaseParams{EcFiscalCode: ec, Segregation: 1})
	require.NoError(t, err)
	nav, err := pagopa.NewNAV(1, base)
	require.NoError(t, err)
	d, err := q.CreateDebt(ctx, dbgen.CreateDebtParams{
		EcFiscalCode: ec, Iupd: "TARI-ARCHIVE-1", ServiceCode: "TARI",
		DebtorType: "F", DebtorFiscalCode: "RSSMRA85T10A562S", DebtorName: "Mario Rossi",
		DebtorEmail: "mario.rossi@example.it", AmountCents: 12345,
		DueDate: time.Date(2026, time.December, 31, 0, 0, 0, 0, time.UTC), Description: "TARI 2026 rata unica",
		Nav: nav.String(),
	})
	require.NoError(t, err)
	var today time.Time
	require.NoError(t, pool.QueryRow(ctx, "SELECT current_date").Scan(&today))
	logs := &lockedBuffer{}
	return &archiveFixture{
		pool: pool, q: q, debtID: d.ID, today: date.Of(today), logs: logs,
		archive: &activities.Archive{Pool: pool, Log: slog.New(slog.NewTextHandler(logs, nil))},
	}
}

// message archives a PEC message retained until the given day and returns its id.
func (f *archiveFixture) message(t *testing.T, retainedUntil date.Date) int64 {
	t.Helper()
	ctx := context.Background()
	f.seq++
	key := fmt.Sprintf("debt/%d/test/%d", f.debtID, f.seq)
	raw := []byte(fmt.Sprintf("Message-ID: <test-%d@incasso.local>\r\nSubject: prova\r\n\r\nciao\r\n", f.seq))
	sum := sha256.Sum256(raw)
	require.NoError(t, f.q.InsertCommunication(ctx, dbgen.InsertCommunicationParams{
		DebtID: f.debtID, DedupeKey: key, Kind: "sollecito", Channel: "pec", Recipient: "mario.rossi@pec.example.it",
		Subject: "prova", MessageID: fmt.Sprintf("test-%d@incasso.local", f.seq), Raw: raw, Sha256: sum[:],
		RetentionUntil: retainedUntil.Time(), Step: "sollecito", Sender: "tributi@pec.comune.example.it", Status: "SENT",
	}))
	c, err := f.q.GetCommunicationByDedupeKey(ctx, key)
	require.NoError(t, err)
	return c.ID
}

// receipt stores a PEC receipt of the message.
func (f *archiveFixture) receipt(t *testing.T, commID int64, kind string) {
	t.Helper()
	raw := []byte(fmt.Sprintf("X-Ricevuta: %s\r\nX-Riferimento-Message-ID: <%d>\r\n\r\n", kind, commID))
	sum := sha256.Sum256(raw)
	_, err := f.q.InsertCommunicationReceipt(context.Background(), dbgen.InsertCommunicationReceiptParams{
		CommunicationID: commID, Kind: kind, Raw: raw, Sha256: sum[:],
	})
	require.NoError(t, err)
}

func (f *archiveFixture) purge(t *testing.T, in workflows.PurgeInput) (workflows.PurgeResult, error) {
	t.Helper()
	var suite testsuite.WorkflowTestSuite
	suite.SetLogger(tlog.NewStructuredLogger(slog.New(slog.NewTextHandler(io.Discard, nil))))
	env := suite.NewTestActivityEnvironment()
	env.RegisterActivity(f.archive)
	var res workflows.PurgeResult
	val, err := env.ExecuteActivity(f.archive.PurgeArchive, in)
	if err != nil {
		return res, err
	}
	require.NoError(t, val.Get(&res))
	return res, nil
}

func (f *archiveFixture) exists(t *testing.T, table string, id int64) bool {
	t.Helper()
	col := "id"
	if table == "communication_receipts" {
		col = "communication_id"
	}
	var n int
	require.NoError(t, f.pool.QueryRow(context.Background(), "SELECT count(*) FROM "+table+" WHERE "+col+" = $1", id).Scan(&n))
	return n > 0
}

func addDays(d date.Date, n int) date.Date { return date.Of(d.Time().AddDate(0, 0, n)) }

func TestPurgeArchive(t *testing.T) {
	t.Parallel()
	f := newArchiveFixture(t)
	old := f.message(t, date.Date{Year: 2020, Month: time.March, Day: 1})
	f.receipt(t, old, "accettazione")
	f.receipt(t, old, "avvenuta-consegna")
	yesterday := f.message(t, addDays(f.today, -1))
	today := f.message(t, f.today) // retained until the end of today
	f.receipt(t, today, "accettazione")
	future := f.message(t, addDays(f.today, 5*365))
	f.receipt(t, future, "avvenuta-consegna")

	// Receipts of messages still retained cannot go on their own.
	_, err := f.pool.Exec(context.Background(), "DELETE FROM communication_receipts WHERE communication_id = $1", future)
	requireIntegrityViolation(t, err)

	// Up to a day in the past: only what expired before it.
	res, err := f.purge(t, workflows.PurgeInput{AsOf: date.Date{Year: 2020, Month: time.March, Day: 1}})
	require.NoError(t, err)
	require.Equal(t, workflows.PurgeResult{}, res, "retained until 1 March 2020: kept on that day")

	res, err = f.purge(t, workflows.PurgeInput{AsOf: f.today, Batch: 10})
	require.NoError(t, err)
	require.Equal(t, workflows.PurgeResult{Messages: 2, Receipts: 2}, res)
	require.False(t, f.exists(t, "communications", old))
	require.False(t, f.exists(t, "communication_receipts", old), "the receipts went with their message")
	require.False(t, f.exists(t, "communications", yesterday))
	for _, id := range []int64{today, future} {
		require.True(t, f.exists(t, "communications", id))
		require.True(t, f.exists(t, "communication_receipts", id))
	}

	// A date far in the future cannot take what is still retained today: nothing is selected,
	// so nothing fails.
	res, err = f.purge(t, workflows.PurgeInput{AsOf: date.Date{Year: 2200, Month: time.January, Day: 1}})
	require.NoError(t, err)
	require.Equal(t, workflows.PurgeResult{}, res)
	require.True(t, f.exists(t, "communications", today))
	require.True(t, f.exists(t, "communications", future))
	require.True(t, f.exists(t, "communication_receipts", future))

	// The trigger would refuse them anyway.
	_, err = f.pool.Exec(context.Background(), "DELETE FROM communications WHERE id = $1", future)
	requireIntegrityViolation(t, err)
	require.NotContains(t, f.logs.String(), "mario", "no personal data in the log")
}

func TestPurgeArchiveBatches(t *testing.T) {
	t.Parallel()
	f := newArchiveFixture(t)
	var ids []int64
	for i := range 25 {
		ids = append(ids, f.message(t, date.Date{Year: 2021, Month: time.January, Day: 1 + i}))
	}
	kept := f.message(t, addDays(f.today, 1))
	f.receipt(t, ids[3], "accettazione")
	f.receipt(t, ids[24], "mancata-consegna")

	res, err := f.purge(t, workflows.PurgeInput{AsOf: f.today, Batch: 10})
	require.NoError(t, err)
	require.Equal(t, workflows.PurgeResult{Messages: 25, Receipts: 2}, res)
	require.Equal(t, 3, strings.Count(f.logs.String(), "msg=\"archive purge batch\""), f.logs.String())
	for _, n := range []string{"messages=10 ", "messages=5 "} {
		require.Contains(t, f.logs.String(), n)
	}
	for _, id := range ids {
		require.False(t, f.exists(t, "communications", id))
	}
	require.True(t, f.exists(t, "communications", kept))

	// Nothing left: one round, nothing deleted, with the default batch.
	res, err = f.purge(t, workflows.PurgeInput{AsOf: f.today})
	require.NoError(t, err)
	require.Equal(t, workflows.PurgeResult{}, res)
	require.Equal(t, 4, strings.Count(f.logs.String(), "msg=\"archive purge batch\""))
}

func TestPurgeArchiveNeedsADate(t *testing.T) {
	t.Parallel()
	f := newArchiveFixture(t)
	id := f.message(t, date.Date{Year: 2020, Month: time.January, Day: 1})
	_, err := f.purge(t, workflows.PurgeInput{})
	var appErr *temporal.ApplicationError
	require.ErrorAs(t, err, &appErr)
	require.Equal(t, workflows.ErrTypeInvalidInput, appErr.Type())
	require.True(t, appErr.NonRetryable())
	require.True(t, f.exists(t, "communications", id), "nothing deleted")
}

func requireIntegrityViolation(t *testing.T, err error) {
	t.Helper()
	var pgErr *pgconn.PgError
	require.ErrorAs(t, err, &pgErr)
	require.Equal(t, "23000", pgErr.Code, pgErr.Message)
}
