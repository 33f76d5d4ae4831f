package main

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"go.temporal.io/sdk/client"

	"incasso/api"
	"incasso/app/config"
	"incasso/db/dbgen"
	"incasso/devstack/contracttest"
	"incasso/devstack/testdb"
	"incasso/services/access"
	"incasso/services/apiclients"
	"incasso/workflows"
)

// startRecorder is the Temporal the API starts campaigns on: it records the starts.
type startRecorder struct {
	mu     sync.Mutex
	starts []workflows.CampaignInput
}

func (r *startRecorder) ExecuteWorkflow(_ context.Context, _ client.StartWorkflowOptions, _ any, args ...any) (client.WorkflowRun, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, a := range args {
		if in, ok := a.(workflows.CampaignInput); ok {
			r.starts = append(r.starts, in)
		}
	}
	return nil, nil
}

func (r *startRecorder) SignalWorkflow(context.Context, string, string, string, any) error {
	return nil
}

func (r *startRecorder) UpdateWorkflow(context.Context, client.UpdateWorkflowOptions) (client.WorkflowUpdateHandle, error) {
	return nil, nil
}

func (r *startRecorder) CheckHealth(context.Context, *client.CheckHealthRequest) (*client.CheckHealthResponse, error) {
	return &client.CheckHealthResponse{}, nil
}

func (r *startRecorder) Starts() []workflows.CampaignInput {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]workflows.CampaignInput(nil), r.starts...)
}

// The CLI against the real API (on a real PostgreSQL, over real HTTP), every request and
// answer checked against api/openapi.yaml: the generated client and the server agree with the
// contract, and with each other.
func TestCampaignCLIAgainstTheAPI(t *testing.T) {
	pool, _ := testdb.New(t)
	cfg, err := config.FromEnv()
	require.NoError(t, err)
	temporal := &startRecorder{}
	srv := &api.Server{
		Pool: pool, Temporal: temporal, Config: cfg, Log: slog.New(slog.NewTextHandler(io.Discard, nil)),
		Now: func() time.Time { return time.Date(2026, time.November, 20, 10, 0, 0, 0, time.UTC) }, // before the sample's due dates
	}
	ts := httptest.NewServer(srv.Handler())
	t.Cleanup(ts.Close)
	key, err := apiclients.NewKey()
	require.NoError(t, err)
	require.NoError(t, apiclients.Ensure(context.Background(), dbgen.New(pool), "tributi", key, apiclients.Grant{Role: access.Finance}))

	doc, err := api.OpenAPI()
	require.NoError(t, err)
	checker, err := contracttest.New(doc, contracttest.Options{Covers: func(path string) bool { return strings.HasPrefix(path, "/v1/") }})
	require.NoError(t, err)
	transport := &contracttest.Transport{Checker: checker}
	apiClient, err := newAPIClient(ts.URL+"/", key, &http.Client{Transport: transport})
	require.NoError(t, err)
	cli := func(args ...string) (int, string, string) {
		var out, errOut bytes.Buffer
		c := &campaignCLI{api: apiClient, stdout: &out, stderr: &errOut, interval: time.Millisecond, giveUp: time.Second}
		return c.run(context.Background(), args), out.String(), errOut.String()
	}

	// The sample campaign of the README: 1,000 debtors.
	code, stdout, stderr := cli("import", filepath.Join("..", "..", "docs", "examples", "campagna-tari-2026.csv"), "--name", "TARI 2026")
	require.Equal(t, exitOK, code, stderr)
	id, err := strconv.ParseInt(strings.TrimSpace(stdout), 10, 64)
	require.NoError(t, err, stdout)
	require.Contains(t, stderr, "imported: 1000 rows")

	code, stdout, stderr = cli("status", strconv.FormatInt(id, 10), "--json")
	require.Equal(t, exitOK, code, stderr)
	var progress struct {
		Name, Status, SourceFilename string
		Rows                         int64
	}
	require.NoError(t, json.Unmarshal([]byte(stdout), &progress))
	require.Equal(t, "TARI 2026", progress.Name)
	require.Equal(t, "READY", progress.Status)
	require.Equal(t, "campagna-tari-2026.csv", progress.SourceFilename)
	require.Equal(t, int64(1000), progress.Rows)

	code, stdout, stderr = cli("launch", strconv.FormatInt(id, 10), "--rate", "50")
	require.Equal(t, exitOK, code, stderr)
	require.Contains(t, stdout, "launching at 50 debts/s")
	require.Equal(t, []workflows.CampaignInput{{CampaignID: id, Rate: 50}}, temporal.Starts())

	// A file with an error: the report by row and column, nothing imported.
	bad := filepath.Join(t.TempDir(), "errata.csv")
	require.NoError(t, os.WriteFile(bad, []byte("iupd;servizio;tipo;codice_fiscale;nominativo;email;importo;scadenza;causale\n"+
		"IMU-2026-1;IMU;F;RSSMRA85T10A562X;Mario Rossi;mario.rossi@example.it;80,00;31/12/2026;IMU 2026\n"), 0o600))
	code, stdout, _ = cli("import", bad, "--name", "IMU 2026")
	require.Equal(t, exitRejected, code)
	require.Contains(t, stdout, "2\tcodice_fiscale\t")

	code, _, stderr = cli("status", "999")
	require.Equal(t, exitFailed, code)
	require.Contains(t, stderr, "404 Not Found")

	require.Empty(t, transport.Mismatches())
}
