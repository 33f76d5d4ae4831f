package worker

import (
	"reflect"
	"testing"

	"github.com/stretchr/testify/require"

	"incasso/activities"
	"incasso/workflows"
)

// Workflows call activities by name: every name must be a method of the registered structs.
func TestActivityNamesExist(t *testing.T) {
	t.Parallel()
	for typ, names := range map[reflect.Type][]string{
		reflect.TypeOf(&activities.Debts{}): {
			workflows.ActivityRegisterPosition, workflows.ActivityRenderNotice, workflows.ActivitySendNotice,
			workflows.ActivitySetStatus, workflows.ActivityCancelPosition, workflows.ActivitySendCancellation,
			workflows.ActivityChangePosition, workflows.ActivityLoadPolicy, workflows.ActivitySendReminder,
		},
		reflect.TypeOf(&activities.Recovery{}): {workflows.ActivityRecoverReceipts},
		reflect.TypeOf(&activities.Campaigns{}): {
			workflows.ActivityLaunchRows, workflows.ActivitySetCampaignStatus, workflows.ActivityWithdrawDebts,
		},
		reflect.TypeOf(&activities.Archive{}): {workflows.ActivityPurgeArchive},
		reflect.TypeOf(&activities.FdR{}): {
			workflows.ActivityListPendingFlows, workflows.ActivityIntakeFlow, workflows.ActivityFlagMissingFlowLines,
		},
	} {
		for _, name := range names {
			_, ok := typ.MethodByName(name)
			require.True(t, ok, "%s has no method %s", typ, name)
		}
	}
}
