package workflows

import (
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"
	"go.temporal.io/sdk/worker"
)

// Histories recorded from real runs (testdata/*.json, exported with `temporal workflow show
// -o json`) must replay on the current code: a change that breaks one needs workflow.GetVersion.
func TestReplayRecordedHistories(t *testing.T) {
	t.Parallel()
	files, err := filepath.Glob(filepath.Join("testdata", "*.json"))
	require.NoError(t, err)
	require.NotEmpty(t, files, "no recorded histories in testdata")
	for _, file := range files {
		replayer := worker.NewWorkflowReplayer()
		for _, wf := range []any{Debt, InstalmentPlan, CollectionRun} {
			replayer.RegisterWorkflow(wf)
		}
		require.NoError(t, replayer.ReplayWorkflowHistoryFromJSONFile(nil, file), file)
	}
}
