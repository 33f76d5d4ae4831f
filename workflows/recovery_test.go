package workflows

import (
	"context"
	"errors"
	"testing"

	"github.com/stretchr/testify/require"
	"go.temporal.io/sdk/activity"
	"go.temporal.io/sdk/testsuite"
)

// A run of the recovery job recovers, then heals; the heal runs even when nothing was
// recovered, and a failed recovery skips it (the next run does both).
func TestReceiptRecoveryRecoversThenHeals(t *testing.T) {
	for _, tt := range []struct {
		name       string
		recoverErr error
		want       RecoveryResult
		healed     bool
	}{
		{"both", nil, RecoveryResult{Checked: 3, Recovered: 1, Healed: HealResult{Resignalled: 2, Started: 1}}, true},
		{"recovery fails", errors.New("GPD unavailable"), RecoveryResult{}, false},
	} {
		t.Run(tt.name, func(t *testing.T) {
			var suite testsuite.WorkflowTestSuite
			env := suite.NewTestWorkflowEnvironment()
			healed := false
			env.RegisterActivityWithOptions(func(context.Context) (RecoveryResult, error) {
				return RecoveryResult{Checked: 3, Recovered: 1}, tt.recoverErr
			}, activity.RegisterOptions{Name: ActivityRecoverReceipts})
			env.RegisterActivityWithOptions(func(context.Context) (HealResult, error) {
				healed = true
				return HealResult{Resignalled: 2, Started: 1}, nil
			}, activity.RegisterOptions{Name: ActivityHealDebts})
			env.ExecuteWorkflow(ReceiptRecovery)
			require.True(t, env.IsWorkflowCompleted())
			require.Equal(t, tt.healed, healed)
			if tt.recoverErr != nil {
				require.ErrorContains(t, env.GetWorkflowError(), "GPD unavailable")
				return
			}
			require.NoError(t, env.GetWorkflowError())
			var got RecoveryResult
			require.NoError(t, env.GetWorkflowResult(&got))
			require.Equal(t, tt.want, got)
		})
	}
}
