package activities_test

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"go.temporal.io/api/serviceerror"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/temporal"

	"incasso/activities"
	"incasso/db/dbgen"
	"incasso/workflows"
)

// fakeStarter records the workflows started and the updates sent, as the Temporal client would
// receive them.
type fakeStarter struct {
	mu        sync.Mutex
	started   []string // workflow IDs
	updates   []client.UpdateWorkflowOptions
	updateErr func(workflowID string) error
}

func (f *fakeStarter) ExecuteWorkflow(_ context.Context, o client.StartWorkflowOptions, _ any, _ ...any) (client.WorkflowRun, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.started = append(f.started, o.ID)
	return nil, nil
}

type doneUpdate struct{ client.WorkflowUpdateHandle }

func (doneUpdate) Get(context.Context, any) error { return nil }

func (f *fakeStarter) UpdateWorkflow(_ context.Context, o client.UpdateWorkflowOptions) (client.WorkflowUpdateHandle, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.updates = append(f.updates, o)
	if f.updateErr != nil {
		if err := f.updateErr(o.WorkflowID); err != nil {
			return nil, err
		}
	}
	return doneUpdate{}, nil
}

// campaignWithRows inserts a READY campaign and its rows: a valid debt each, except that
// mutate may change row i.
func (f *fixture) campaignWithRows(t *testing.T, n int, mutate func(i int, row map[string]any)) int64 {
	t.Helper()
	ctx := context.Background()
	var id int64
	require.NoError(t, f.pool.QueryRow(ctx,
		`INSERT INTO campaigns (name, source_sha256, rows_total) VALUES ('TARI 2026', '\x00', $1) RETURNING id`, n).Scan(&id))
	for i := 1; i <= n; i++ {
		row := map[string]any{
			"iupd": fmt.Sprintf("CAMP-%d-%04d", id, i), "due": time.Now().AddDate(0, 2, 0), "amount": 10_000 + i,
		}
		if mutate != nil {
			mutate(i, row)
		}
		_, err := f.pool.Exec(ctx, `INSERT INTO campaign_rows (campaign_id, row_no, iupd, service_code, debtor_type,
			debtor_fiscal_code, debtor_name, debtor_email, amount_cents, due_date, description)
			VALUES ($1, $2, $3, 'TARI', 'F', 'RSSMRA85T10A562S', 'Mario Rossi', 'mario.rossi@example.it', $4, $5, 'TARI 2026')`,
			id, i+1, row["iupd"], row["amount"], row["due"])
		require.NoError(t, err)
	}
	return id
}

func (f *fixture) campaigns(starter *fakeStarter) *activities.Campaigns {
	return &activities.Campaigns{Pool: f.pool, Temporal: starter, Creditor: creditor, Services: f.debts.Services, TaskQueue: "incasso-test"}
}

func TestLaunchRows(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	taken := f.insertDebt(t, nil) // an iupd a campaign row will collide with
	id := f.campaignWithRows(t, 5, func(i int, row map[string]any) {
		switch i {
		case 2:
			row["iupd"] = taken.Iupd
		case 4:
			row["due"] = time.Now().AddDate(0, 0, -3) // past since the import
		}
	})
	starter := &fakeStarter{}
	a := f.campaigns(starter)
	env := activityEnv(a)

	val, err := env.ExecuteActivity(a.LaunchRows, workflows.LaunchBatch{CampaignID: id, AfterRow: 0, Limit: 10, Rate: 1000})
	require.NoError(t, err)
	var res workflows.LaunchResult
	require.NoError(t, val.Get(&res))
	require.Equal(t, workflows.LaunchResult{LastRow: 6, Started: 3, Failed: 2, Done: true}, res)

	rows, err := f.q.NextCampaignRows(context.Background(), dbgen.NextCampaignRowsParams{CampaignID: id, RowNo: 0, Limit: 10})
	require.NoError(t, err)
	var linked []string
	for _, r := range rows {
		if r.DebtID.Valid {
			d, err := f.q.GetDebt(context.Background(), r.DebtID.Int64)
			require.NoError(t, err)
			require.Equal(t, id, d.CampaignID.Int64)
			require.Equal(t, r.Iupd, d.Iupd)
			linked = append(linked, workflows.DebtWorkflowID(d.EcFiscalCode, d.Iupd))
		}
	}
	require.Len(t, linked, 3)
	require.ElementsMatch(t, linked, starter.started)
	require.Equal(t, "iupd: already used by a different debt", rows[1].Error)
	require.Contains(t, rows[3].Error, "dueDate")

	// Launched again (a retry, a second launch): no new debt, the same workflows.
	_, err = env.ExecuteActivity(a.LaunchRows, workflows.LaunchBatch{CampaignID: id, AfterRow: 0, Limit: 10, Rate: 1000})
	require.NoError(t, err)
	var debts int
	require.NoError(t, f.pool.QueryRow(context.Background(), "SELECT count(*) FROM debt_positions WHERE campaign_id = $1", id).Scan(&debts))
	require.Equal(t, 3, debts)
	require.ElementsMatch(t, append(linked, linked...), starter.started)
}

// The start rate holds: 20 rows at 40 per second take about half a second.
func TestLaunchRowsRate(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	id := f.campaignWithRows(t, 20, nil)
	a := f.campaigns(&fakeStarter{})
	began := time.Now()
	_, err := activityEnv(a).ExecuteActivity(a.LaunchRows, workflows.LaunchBatch{CampaignID: id, Limit: 100, Rate: 40})
	require.NoError(t, err)
	took := time.Since(began)
	require.GreaterOrEqual(t, took, 450*time.Millisecond)
	require.Less(t, took, 3*time.Second)
}

func TestWithdrawDebts(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	id := f.campaignWithRows(t, 4, nil)
	a := f.campaigns(&fakeStarter{})
	_, err := activityEnv(a).ExecuteActivity(a.LaunchRows, workflows.LaunchBatch{CampaignID: id, Limit: 10, Rate: 1000})
	require.NoError(t, err)
	var ids []int64
	rows, err := f.pool.Query(context.Background(), "SELECT id FROM debt_positions WHERE campaign_id = $1 ORDER BY id", id)
	require.NoError(t, err)
	for rows.Next() {
		var d int64
		require.NoError(t, rows.Scan(&d))
		ids = append(ids, d)
	}
	require.Len(t, ids, 4)
	// One paid: not withdrawn. One whose workflow has ended, one whose update is rejected: fine.
	_, err = f.pool.Exec(context.Background(), "UPDATE debt_positions SET status = 'PAID' WHERE id = $1", ids[0])
	require.NoError(t, err)
	debt := func(i int) dbgen.DebtPosition {
		d, err := f.q.GetDebt(context.Background(), ids[i])
		require.NoError(t, err)
		return d
	}
	ended, rejected := debt(1), debt(2)
	starter := &fakeStarter{updateErr: func(wid string) error {
		switch wid {
		case workflows.DebtWorkflowID(ended.EcFiscalCode, ended.Iupd):
			return serviceerror.NewNotFound("workflow execution already completed")
		case workflows.DebtWorkflowID(rejected.EcFiscalCode, rejected.Iupd):
			return temporal.NewApplicationError("the debt is paid already", workflows.ErrTypeRejected)
		}
		return nil
	}}
	a = f.campaigns(starter)
	_, err = activityEnv(a).ExecuteActivity(a.WithdrawDebts, workflows.WithdrawInput{CampaignID: id, Reason: "ruolo errato"})
	require.NoError(t, err)
	require.Len(t, starter.updates, 3, "the three unpaid debts")
	for _, u := range starter.updates {
		require.Equal(t, workflows.UpdateCancel, u.UpdateName)
		require.Equal(t, fmt.Sprintf("withdraw/campaign/%d", id), u.UpdateID)
		require.Equal(t, []any{workflows.CancelRequest{Reason: "ruolo errato"}}, u.Args)
	}
}
