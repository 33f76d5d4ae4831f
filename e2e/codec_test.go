package e2e

import (
	"context"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	commonpb "go.temporal.io/api/common/v1"
	enumspb "go.temporal.io/api/enums/v1"
	historypb "go.temporal.io/api/history/v1"
	"go.temporal.io/sdk/client"
	"google.golang.org/protobuf/encoding/protojson"

	"incasso/worker/codec"
	"incasso/workflows"
)

// rawHistory reads a workflow's history through a client without the codec, as the Temporal
// server (and whoever reads its database or backups) holds it.
func (e *env) rawHistory(t *testing.T, workflowID string) *historypb.History {
	t.Helper()
	cfg := e.stack.Deps.Config
	plain, err := client.Dial(client.Options{HostPort: cfg.TemporalAddress, Namespace: cfg.TemporalNamespace})
	require.NoError(t, err)
	defer plain.Close()
	var h historypb.History
	iter := plain.GetWorkflowHistory(context.Background(), workflowID, "", false, enumspb.HISTORY_EVENT_FILTER_TYPE_ALL_EVENT)
	for iter.HasNext() {
		ev, err := iter.Next()
		require.NoError(t, err)
		h.Events = append(h.Events, ev)
	}
	return &h
}

// decodeThroughAPI posts payloads to the API's codec server, as the Temporal Web UI does.
func (e *env) decodeThroughAPI(t *testing.T, payloads []*commonpb.Payload) string {
	t.Helper()
	body, err := protojson.Marshal(&commonpb.Payloads{Payloads: payloads})
	require.NoError(t, err)
	req, err := http.NewRequest(http.MethodPost, e.stack.APIURL+"/codec/decode", strings.NewReader(string(body)))
	require.NoError(t, err)
	req.Header.Set("Authorization", "Bearer "+e.apiKey)
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("X-Namespace", e.stack.Deps.Config.TemporalNamespace)
	resp, err := e.http.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	out, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	require.Equal(t, http.StatusOK, resp.StatusCode, string(out))
	var decoded commonpb.Payloads
	require.NoError(t, protojson.Unmarshal(out, &decoded))
	var s strings.Builder
	for _, p := range decoded.Payloads {
		s.Write(p.Data)
	}
	return s.String()
}

// The stack's Temporal client encrypts: what Temporal keeps of a workflow's input, and of an
// operator's reason sent as an update, is ciphertext with the key's id; the API's codec server
// turns it back, and the workflows run on it as before.
func TestPayloadsEncrypted(t *testing.T) {
	e := start(t)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	keys := e.stack.Deps.Config.PayloadKeys
	require.NotNil(t, keys, "the dev stack encrypts")

	// A workflow started through the stack's client (no worker polls its task queue).
	const marker = "PLAINTEXT-MARKER-7d1c"
	run, err := e.stack.Deps.Temporal.ExecuteWorkflow(ctx, client.StartWorkflowOptions{ID: "codec-probe", TaskQueue: "codec-probe"},
		"CodecProbe", map[string]string{"reason": marker})
	require.NoError(t, err)
	defer func() {
		_ = e.stack.Deps.Temporal.TerminateWorkflow(context.Background(), run.GetID(), "", "test over")
	}()
	h := e.rawHistory(t, run.GetID())
	require.NotContains(t, protojson.Format(h), marker)
	input := h.Events[0].GetWorkflowExecutionStartedEventAttributes().GetInput().GetPayloads()
	require.Len(t, input, 1)
	require.Equal(t, codec.Encoding, string(input[0].Metadata["encoding"]))
	require.Equal(t, keys.Current(), string(input[0].Metadata[codec.MetadataKeyID]))
	require.Contains(t, e.decodeThroughAPI(t, input), marker)

	// A debt cancelled with a reason: the workflow decodes the update, and runs to the end.
	d := e.createDebt(t, "E2E-CODEC", 4_200)
	e.waitStatus(t, "E2E-CODEC", workflows.StatusIssued)
	const reason = "Iscrizione duplicata, segnalata dal contribuente"
	require.Equal(t, http.StatusOK, e.call(t, http.MethodPost, e.stack.APIURL+"/v1/debts/E2E-CODEC/cancel", map[string]string{"reason": reason}, nil))
	var res workflows.DebtResult
	require.NoError(t, e.stack.Deps.Temporal.GetWorkflow(ctx, d.WorkflowID, "").Get(ctx, &res))
	require.Equal(t, workflows.StatusCancelled, res.Status)
	h = e.rawHistory(t, d.WorkflowID)
	raw := protojson.Format(h)
	require.NotContains(t, raw, reason)
	require.NotContains(t, raw, "E2E-CODEC@", "no payload in clear") // the iupd is the workflow id, the email is not
	var found bool
	for _, ev := range h.Events {
		if u := ev.GetWorkflowExecutionUpdateAcceptedEventAttributes(); u != nil {
			found = true
			require.Contains(t, e.decodeThroughAPI(t, u.GetAcceptedRequest().GetInput().GetArgs().GetPayloads()), reason)
		}
	}
	require.True(t, found, "the cancel update is in the history")

	// Decoded for recording (e2e's recordHistory): readable by the replayer, which has no codec.
	require.NoError(t, codec.DecodeHistory(ctx, h, keys))
	for _, ev := range h.Events {
		if u := ev.GetWorkflowExecutionUpdateAcceptedEventAttributes(); u != nil {
			p := u.GetAcceptedRequest().GetInput().GetArgs().GetPayloads()[0]
			require.Equal(t, "json/plain", string(p.Metadata["encoding"]))
			require.Contains(t, string(p.Data), reason)
		}
	}
}
