package activities_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"go.temporal.io/api/serviceerror"

	"incasso/activities"
	"incasso/devstack/pagopasim"
	"incasso/workflows"
)

// The sweep heals what a crash leaves between the database and the workflows: a debt paid
// whose workflow was never told, a debt stored whose workflow never started.
func TestHealDebts(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	ctx := context.Background()
	age := func(id int64) { // stored and paid two hours ago
		_, err := f.pool.Exec(ctx, `UPDATE debt_positions SET created_at = now() - interval '2 hours',
			paid_at = CASE WHEN paid_at IS NULL THEN NULL ELSE now() - interval '2 hours' END WHERE id = $1`, id)
		require.NoError(t, err)
	}

	// Paid and recorded, but the signal to its workflow failed and pagoPA never resent it.
	lost := f.issued(t, nil)
	pay, err := f.sim.Pay(ctx, pagopasim.Payment{NAV: lost.Nav, Undelivered: true})
	require.NoError(t, err)
	_, err = runRecovery(t, f.recovery("", &signals{err: errors.New("connection refused")}))
	require.Error(t, err, "the receipt is stored, its workflow not told")
	require.Equal(t, workflows.StatusPaid, f.reload(t, lost.ID).Status)
	age(lost.ID)
	// Paid, and its workflow knows (it recorded PAID): left alone.
	told := f.issued(t, nil)
	_, err = f.sim.Pay(ctx, pagopasim.Payment{NAV: told.Nav, Undelivered: true})
	require.NoError(t, err)
	_, err = runRecovery(t, f.recovery("", &signals{}))
	require.NoError(t, err)
	require.NoError(t, f.debts.SetStatus(ctx, told.ID, workflows.StatusPaid))
	age(told.ID)
	// Stored two hours ago, its workflow never started; another stored a moment ago.
	orphan := f.insertDebt(t, nil)
	age(orphan.ID)
	young := f.insertDebt(t, nil)

	tf := &temporalFake{}
	h := &activities.Healer{Pool: f.pool, Temporal: tf, TaskQueue: "incasso-test", MinAge: time.Hour, MaxAge: 24 * time.Hour, Batch: 10}
	var res workflows.HealResult
	val, err := activityEnv(h).ExecuteActivity(h.HealDebts)
	require.NoError(t, err)
	require.NoError(t, val.Get(&res))
	require.Equal(t, workflows.HealResult{Resignalled: 1, Started: 1}, res)
	require.Equal(t, []signalCall{{workflowID: workflows.DebtWorkflowID(ecCode, lost.Iupd), name: workflows.SignalReceipt,
		arg: workflows.ReceiptSignal{ReceiptID: pay.ReceiptID}}}, tf.signals())
	starts := tf.started()
	require.Len(t, starts, 1)
	require.Equal(t, workflows.DebtWorkflowID(ecCode, orphan.Iupd), starts[0].opts.ID)
	require.Equal(t, "incasso-test", starts[0].opts.TaskQueue)

	// Again, before the workflow acknowledged: signalled again (it ignores a receipt it knows);
	// the orphan's workflow exists now and is not started twice.
	val, err = activityEnv(h).ExecuteActivity(h.HealDebts)
	require.NoError(t, err)
	require.NoError(t, val.Get(&res))
	require.Equal(t, workflows.HealResult{Resignalled: 1}, res)

	// The workflow acknowledges the payment: nothing left to heal.
	require.NoError(t, f.debts.SetStatus(ctx, lost.ID, workflows.StatusPaid))
	val, err = activityEnv(h).ExecuteActivity(h.HealDebts)
	require.NoError(t, err)
	require.NoError(t, val.Get(&res))
	require.Equal(t, workflows.HealResult{}, res)
	require.Len(t, tf.signals(), 2)
	require.Len(t, tf.started(), 1)
	require.Equal(t, workflows.StatusCreated, f.reload(t, young.ID).Status, "left to its caller")

	// A paid debt whose workflow is over is acknowledged without a signal.
	over := f.issued(t, nil)
	_, err = f.sim.Pay(ctx, pagopasim.Payment{NAV: over.Nav, Undelivered: true})
	require.NoError(t, err)
	_, err = runRecovery(t, f.recovery("", &signals{}))
	require.NoError(t, err)
	age(over.ID)
	tf.signalErr = func(string) error { return serviceerror.NewNotFound("workflow execution already completed") }
	val, err = activityEnv(h).ExecuteActivity(h.HealDebts)
	require.NoError(t, err)
	require.NoError(t, val.Get(&res))
	require.Equal(t, workflows.HealResult{}, res)
	require.True(t, f.reload(t, over.ID).PaidAcknowledgedAt.Valid)
}
