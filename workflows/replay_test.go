package workflows

import (
	"encoding/base64"
	"maps"
	"os"
	"path/filepath"
	"reflect"
	"runtime"
	"slices"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	enumspb "go.temporal.io/api/enums/v1"
	historypb "go.temporal.io/api/history/v1"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/worker"
)

// recordedHistory is one history of testdata/*.json, recorded from a real run and exported
// with `temporal workflow show -o json` (or e2e's recordHistory).
type recordedHistory struct {
	file         string
	workflowType string // of its first event
	history      *historypb.History
}

// recordedHistories reads every history in testdata.
func recordedHistories(t *testing.T) []recordedHistory {
	t.Helper()
	files, err := filepath.Glob(filepath.Join("testdata", "*.json"))
	require.NoError(t, err)
	require.NotEmpty(t, files, "no recorded histories in testdata")
	var out []recordedHistory
	for _, file := range files {
		f, err := os.Open(file)
		require.NoError(t, err)
		h, err := client.HistoryFromJSON(f, client.HistoryJSONOptions{})
		f.Close()
		require.NoError(t, err, file)
		require.NotEmpty(t, h.Events, file)
		first := h.Events[0]
		require.Equal(t, enumspb.EVENT_TYPE_WORKFLOW_EXECUTION_STARTED, first.GetEventType(), "%s: the first event must start the workflow", file)
		typ := first.GetWorkflowExecutionStartedEventAttributes().GetWorkflowType().GetName()
		require.NotEmpty(t, typ, "%s: no workflow type in the first event", file)
		out = append(out, recordedHistory{file: file, workflowType: typ, history: h})
	}
	return out
}

// workflowTypeName is the workflow type the SDK registers fn under when no name is given:
// the function's name without its package, as the SDK derives it.
func workflowTypeName(fn any) string {
	full := runtime.FuncForPC(reflect.ValueOf(fn).Pointer()).Name()
	return strings.TrimSuffix(full[strings.LastIndex(full, ".")+1:], "-fm")
}

// Histories recorded from real runs (testdata/*.json, exported with `temporal workflow show
// -o json`) must replay on the current code: a change that breaks one needs workflow.GetVersion.
// The replayer registers every workflow the worker registers (All).
func TestReplayRecordedHistories(t *testing.T) {
	t.Parallel()
	for _, rec := range recordedHistories(t) {
		t.Run(filepath.Base(rec.file), func(t *testing.T) {
			replayer := worker.NewWorkflowReplayer()
			for _, wf := range All() {
				replayer.RegisterWorkflow(wf)
			}
			require.NoError(t, replayer.ReplayWorkflowHistory(nil, rec.history), rec.file)
		})
	}
}

// Recorded histories are kept in clear (the replayer has no codec): a history exported from a
// stack that encrypts payloads must be decoded first, as e2e's recordHistory does, or exported
// with `temporal workflow show --codec-endpoint <API>/codec --codec-auth "Bearer <key>"`.
func TestRecordedHistoriesAreInClear(t *testing.T) {
	t.Parallel()
	encrypted := base64.StdEncoding.EncodeToString([]byte("binary/encrypted"))
	for _, rec := range recordedHistories(t) {
		data, err := os.ReadFile(rec.file)
		require.NoError(t, err)
		require.NotContains(t, string(data), encrypted, "%s holds encrypted payloads: record it decoded", rec.file)
	}
}

// Every workflow type the worker registers has at least one recorded history, so that the
// replay test guards each against non-deterministic changes; and every history is of a
// registered type.
func TestEveryWorkflowTypeHasARecordedHistory(t *testing.T) {
	t.Parallel()
	recorded := map[string][]string{} // workflow type -> files
	for _, rec := range recordedHistories(t) {
		recorded[rec.workflowType] = append(recorded[rec.workflowType], filepath.Base(rec.file))
	}
	registered := map[string]bool{}
	for _, wf := range All() {
		name := workflowTypeName(wf)
		require.False(t, registered[name], "workflow type %s is in All twice", name)
		registered[name] = true
		assert.NotEmpty(t, recorded[name], "workflow type %s has no recorded history in testdata/: run it for real "+
			"(Temporal dev server, the stack as e2e starts it) and export the finished run with "+
			"`bin/temporal workflow show --address ... -w ID -r RUNID -o json > workflows/testdata/<name>.json`, "+
			"with no personal data in it", name)
	}
	for _, typ := range slices.Sorted(maps.Keys(recorded)) {
		assert.True(t, registered[typ], "%v: workflow type %s is not one the worker registers (All)", recorded[typ], typ)
	}
}
