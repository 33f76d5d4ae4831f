package worker

import (
	"reflect"
	"testing"

	"github.com/stretchr/testify/require"

	"incasso/activities"
	"incasso/workflows"
)

// The Debt workflow calls activities by name: every name must be a method of activities.Debts.
func TestDebtActivityNamesExist(t *testing.T) {
	t.Parallel()
	typ := reflect.TypeOf(&activities.Debts{})
	for _, name := range []string{
		workflows.ActivityRegisterPosition, workflows.ActivityRenderNotice,
		workflows.ActivitySendNotice, workflows.ActivitySetStatus,
	} {
		_, ok := typ.MethodByName(name)
		require.True(t, ok, "activities.Debts has no method %s", name)
	}
}
