package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// fakeAPI stands in for the REST API: it records the requests and answers with handler.
type fakeAPI struct {
	t        *testing.T
	mu       sync.Mutex
	requests []recorded
	handler  func(w http.ResponseWriter, r *http.Request, body []byte)
	srv      *httptest.Server
}

type recorded struct {
	Method, Path, ContentType, Auth string
	Query                           map[string][]string
	Body                            []byte
}

func newFakeAPI(t *testing.T, handler func(w http.ResponseWriter, r *http.Request, body []byte)) *fakeAPI {
	f := &fakeAPI{t: t, handler: handler}
	f.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, err := io.ReadAll(r.Body)
		require.NoError(t, err)
		f.mu.Lock()
		f.requests = append(f.requests, recorded{
			Method: r.Method, Path: r.URL.Path, ContentType: r.Header.Get("Content-Type"),
			Auth: r.Header.Get("Authorization"), Query: r.URL.Query(), Body: body,
		})
		f.mu.Unlock()
		f.handler(w, r, body)
	}))
	t.Cleanup(f.srv.Close)
	return f
}

func (f *fakeAPI) only() recorded {
	f.t.Helper()
	f.mu.Lock()
	defer f.mu.Unlock()
	require.Len(f.t, f.requests, 1)
	return f.requests[0]
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

// runCLI runs `incasso campaign ARGS` against the fake API, as main does.
func runCLI(t *testing.T, api *fakeAPI, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	t.Setenv("INCASSO_API_URL", api.srv.URL+"/") // a trailing slash is fine
	t.Setenv("INCASSO_API_KEY", "ik_test")
	var out, errOut bytes.Buffer
	code = runCampaign(context.Background(), args, &out, &errOut)
	return code, out.String(), errOut.String()
}

func progress(status string, rows, started, paid int64) map[string]any {
	return map[string]any{
		"id": 7, "name": "TARI 2026", "status": status, "startRate": 20, "rows": rows, "rejectedRows": 2,
		"started": started, "errors": 1,
		"debts":   map[string]any{"created": 3, "issued": started - paid - 3, "overdue": 0, "paid": paid, "cancelled": 0},
		"amounts": map[string]any{"issuedCents": 123456, "collectedCents": 2050, "outstandingCents": 121406},
	}
}

func TestImportPostsTheFileAndPrintsTheID(t *testing.T) {
	csv := "iupd;servizio\nA-1;TARI\n"
	file := filepath.Join(t.TempDir(), "tari 2026.csv")
	require.NoError(t, os.WriteFile(file, []byte(csv), 0o600))
	api := newFakeAPI(t, func(w http.ResponseWriter, r *http.Request, body []byte) {
		writeJSON(w, http.StatusCreated, map[string]any{"campaignId": 42, "rows": 1, "validRows": 1, "rejectedRows": 0, "errors": []any{}, "totalErrors": 0})
	})

	// Flags after the file, as in the usage line.
	code, stdout, stderr := runCLI(t, api, "import", file, "--name", "TARI 2026")
	require.Equal(t, exitOK, code, stderr)
	require.Equal(t, "42\n", stdout) // for ID=$(incasso campaign import ...)
	require.Contains(t, stderr, "campaign launch 42")

	req := api.only()
	require.Equal(t, http.MethodPost, req.Method)
	require.Equal(t, "/v1/campaigns", req.Path)
	require.Equal(t, "text/csv", req.ContentType)
	require.Equal(t, "Bearer ik_test", req.Auth)
	require.Equal(t, []string{"TARI 2026"}, req.Query["name"])
	require.NotContains(t, req.Query, "validOnly")
	require.Equal(t, csv, string(req.Body))
}

func TestImportValidOnlyAndJSON(t *testing.T) {
	file := filepath.Join(t.TempDir(), "debts.JSON")
	require.NoError(t, os.WriteFile(file, []byte(`[{"iupd":"A-1"}]`), 0o600))
	api := newFakeAPI(t, func(w http.ResponseWriter, r *http.Request, body []byte) {
		writeJSON(w, http.StatusCreated, map[string]any{"campaignId": 9, "rows": 4, "validRows": 1, "rejectedRows": 3, "totalErrors": 3})
	})
	code, stdout, stderr := runCLI(t, api, "import", "--valid-only", "--name=IMU", file)
	require.Equal(t, exitOK, code, stderr)
	require.Equal(t, "9\n", stdout)
	require.Contains(t, stderr, "imported: 1 rows, 3 invalid rows left out")
	req := api.only()
	require.Equal(t, "application/json", req.ContentType)
	require.Equal(t, []string{"true"}, req.Query["validOnly"])
	require.Equal(t, []string{"IMU"}, req.Query["name"])
}

func TestImportRefusedPrintsTheReportAndExits2(t *testing.T) {
	file := filepath.Join(t.TempDir(), "bad.csv")
	require.NoError(t, os.WriteFile(file, []byte("x"), 0o600))
	api := newFakeAPI(t, func(w http.ResponseWriter, r *http.Request, body []byte) {
		w.Header().Set("Content-Type", "application/problem+json")
		writeJSON(w, http.StatusUnprocessableEntity, map[string]any{
			"type": "https://incasso.local/problems/campaign-file", "title": "Invalid campaign file", "status": 422,
			"detail": "1500 errors in 2 of 5 rows: nothing was imported", "rows": 5, "validRows": 3, "rejectedRows": 2,
			"totalErrors": 1500,
			"errors": []map[string]any{
				{"row": 2, "column": "codice_fiscale", "message": "check character mismatch"},
				{"row": 2, "column": "importo", "message": "not an amount in euro:\nwrite it as 1234,50"},
				{"row": 4, "column": "scadenza", "message": "is in the past"},
				{"column": "", "message": "the file as a whole"},
			},
		})
	})
	code, stdout, stderr := runCLI(t, api, "import", file, "--name", "X")
	require.Equal(t, exitRejected, code)
	require.Equal(t, "row\tcolumn\tmessage\n"+
		"2\tcodice_fiscale\tcheck character mismatch\n"+
		"2\timporto\tnot an amount in euro: write it as 1234,50\n"+
		"4\tscadenza\tis in the past\n"+
		"-\t\tthe file as a whole\n", stdout)
	require.Contains(t, stderr, "422 Unprocessable Entity: 1500 errors in 2 of 5 rows")
	require.Contains(t, stderr, "the first 4 of 1500 errors are listed")
}

func TestImportFailures(t *testing.T) {
	file := filepath.Join(t.TempDir(), "f.csv")
	require.NoError(t, os.WriteFile(file, []byte("x"), 0o600))
	unauthorized := newFakeAPI(t, func(w http.ResponseWriter, r *http.Request, body []byte) {
		writeJSON(w, http.StatusUnauthorized, map[string]any{"title": "Unauthorized", "status": 401, "detail": "unknown or disabled API key"})
	})
	code, stdout, stderr := runCLI(t, unauthorized, "import", file, "--name", "X")
	require.Equal(t, exitFailed, code)
	require.Empty(t, stdout)
	require.Contains(t, stderr, "401 Unauthorized: unknown or disabled API key")
	require.Contains(t, stderr, "INCASSO_API_KEY")

	// Nothing listening.
	down := newFakeAPI(t, nil)
	down.srv.Close()
	code, _, stderr = runCLI(t, down, "import", file, "--name", "X")
	require.Equal(t, exitFailed, code)
	require.Contains(t, stderr, "connection refused")

	// A file that is not there: no request.
	api := newFakeAPI(t, func(w http.ResponseWriter, r *http.Request, body []byte) { t.Error("unexpected request") })
	code, _, stderr = runCLI(t, api, "import", filepath.Join(t.TempDir(), "missing.csv"), "--name", "X")
	require.Equal(t, exitFailed, code)
	require.Contains(t, stderr, "no such file")
}

func TestUsageErrorsExit64(t *testing.T) {
	api := newFakeAPI(t, func(w http.ResponseWriter, r *http.Request, body []byte) { t.Error("unexpected request") })
	for _, args := range [][]string{
		{},
		{"frobnicate"},
		{"import", "f.csv"},       // no --name
		{"import", "--name", "X"}, // no file
		{"import", "a.csv", "b.csv", "--name", "X"}, // two files
		{"import", "f.csv", "--name", "X", "--bogus"},
		{"launch"},
		{"launch", "abc"},
		{"launch", "0"},
		{"launch", "3", "--rate", "5000"},
		{"launch", "3", "--rate", "fast"},
		{"status"},
		{"status", "-1"},
	} {
		code, stdout, stderr := runCLI(t, api, args...)
		require.Equal(t, exitUsage, code, "%q", args)
		require.Empty(t, stdout, "%q", args)
		require.NotEmpty(t, stderr, "%q", args)
	}
	code, _, stderr := runCLI(t, api, "help")
	require.Equal(t, exitOK, code)
	require.Contains(t, stderr, "exit codes")
}

func TestAPIKeyFromTheDevDataDir(t *testing.T) {
	api := newFakeAPI(t, func(w http.ResponseWriter, r *http.Request, body []byte) {
		writeJSON(w, http.StatusOK, progress("READY", 10, 0, 0))
	})
	dir := t.TempDir()
	t.Setenv("INCASSO_API_URL", api.srv.URL)
	t.Setenv("INCASSO_API_KEY", "")
	t.Setenv("INCASSO_DATA_DIR", dir)
	var out, errOut bytes.Buffer
	require.Equal(t, exitUsage, runCampaign(context.Background(), []string{"status", "7"}, &out, &errOut))
	require.Contains(t, errOut.String(), "INCASSO_API_KEY")

	require.NoError(t, os.WriteFile(filepath.Join(dir, "dev-api-key"), []byte("ik_dev\n"), 0o600))
	require.Equal(t, exitOK, runCampaign(context.Background(), []string{"status", "7"}, &out, &errOut), errOut.String())
	require.Equal(t, "Bearer ik_dev", api.only().Auth)
}

func TestLaunch(t *testing.T) {
	api := newFakeAPI(t, func(w http.ResponseWriter, r *http.Request, body []byte) {
		writeJSON(w, http.StatusAccepted, progress("READY", 100, 0, 0))
	})
	code, stdout, stderr := runCLI(t, api, "launch", "7", "--rate", "50")
	require.Equal(t, exitOK, code, stderr)
	require.Contains(t, stdout, `campaign 7 "TARI 2026" launching at 50 debts/s`)
	req := api.only()
	require.Equal(t, http.MethodPost, req.Method)
	require.Equal(t, "/v1/campaigns/7/launch", req.Path)
	require.Equal(t, "application/json", req.ContentType)
	require.JSONEq(t, `{"rate": 50}`, string(req.Body))

	// Without --rate: no body, the campaign's own start rate.
	api = newFakeAPI(t, func(w http.ResponseWriter, r *http.Request, body []byte) {
		writeJSON(w, http.StatusAccepted, progress("RUNNING", 100, 5, 0))
	})
	code, stdout, _ = runCLI(t, api, "launch", "7")
	require.Equal(t, exitOK, code)
	require.Contains(t, stdout, "launching at 20 debts/s: RUNNING, 5/100 started")
	require.Empty(t, api.only().Body)
}

func TestLaunchRefused(t *testing.T) {
	for status, want := range map[int]int{
		http.StatusConflict:            exitFailed,
		http.StatusNotFound:            exitFailed,
		http.StatusServiceUnavailable:  exitFailed,
		http.StatusUnprocessableEntity: exitRejected,
	} {
		api := newFakeAPI(t, func(w http.ResponseWriter, r *http.Request, body []byte) {
			p := map[string]any{"title": http.StatusText(status), "status": status, "detail": "the campaign is completed: it cannot be launched"}
			if status == http.StatusUnprocessableEntity {
				p["errors"] = []map[string]any{{"field": "rate", "message": "must be from 1 to 1000 debts per second"}}
			}
			writeJSON(w, status, p)
		})
		code, stdout, stderr := runCLI(t, api, "launch", "7")
		require.Equal(t, want, code, "status %d", status)
		require.Contains(t, stderr, fmt.Sprintf("%d %s: the campaign is completed", status, http.StatusText(status)))
		if status == http.StatusUnprocessableEntity {
			require.Equal(t, "row\tcolumn\tmessage\n-\trate\tmust be from 1 to 1000 debts per second\n", stdout)
		}
	}
}

func TestStatusOnce(t *testing.T) {
	api := newFakeAPI(t, func(w http.ResponseWriter, r *http.Request, body []byte) {
		writeJSON(w, http.StatusOK, progress("RUNNING", 200, 100, 50))
	})
	code, stdout, stderr := runCLI(t, api, "status", "7")
	require.Equal(t, exitOK, code, stderr)
	require.Equal(t, http.MethodGet, api.only().Method)
	require.Equal(t, "/v1/campaigns/7", api.only().Path)
	require.Contains(t, stdout, `campaign 7 "TARI 2026": RUNNING`)
	require.Contains(t, stdout, "started:     100/200  [##########..........]")
	require.Contains(t, stdout, "paid:        50/200  [#####...............]")
	require.Contains(t, stdout, "issued 1234,56 €, collected 20,50 €, outstanding 1214,06 €")

	code, stdout, _ = runCLI(t, api, "status", "--json", "7")
	require.Equal(t, exitOK, code)
	var v map[string]any
	require.NoError(t, json.Unmarshal([]byte(stdout), &v))
	require.Equal(t, "RUNNING", v["status"])

	missing := newFakeAPI(t, func(w http.ResponseWriter, r *http.Request, body []byte) {
		writeJSON(w, http.StatusNotFound, map[string]any{"title": "Not Found", "status": 404, "detail": "no campaign with this id"})
	})
	code, _, stderr = runCLI(t, missing, "status", "8")
	require.Equal(t, exitFailed, code)
	require.Contains(t, stderr, "404 Not Found: no campaign with this id")
}

// sequenceAPI answers GET /v1/campaigns/7 with the given answers in turn, the last one forever.
func sequenceAPI(t *testing.T, answers ...func(w http.ResponseWriter)) *fakeAPI {
	var mu sync.Mutex
	i := 0
	return newFakeAPI(t, func(w http.ResponseWriter, r *http.Request, body []byte) {
		mu.Lock()
		a := answers[min(i, len(answers)-1)]
		i++
		mu.Unlock()
		a(w)
	})
}

func answer(status string, rows, started, paid int64) func(w http.ResponseWriter) {
	return func(w http.ResponseWriter) { writeJSON(w, http.StatusOK, progress(status, rows, started, paid)) }
}

func testCLI(t *testing.T, api *fakeAPI, tty bool) (*campaignCLI, *bytes.Buffer, *bytes.Buffer) {
	var out, errOut bytes.Buffer
	client, err := newAPIClient(api.srv.URL, "ik_test", api.srv.Client())
	require.NoError(t, err)
	return &campaignCLI{
		api: client, stdout: &out, stderr: &errOut,
		tty: tty, interval: time.Millisecond, giveUp: time.Second,
	}, &out, &errOut
}

func TestFollowPrintsOneLinePerPollWhenNotATerminal(t *testing.T) {
	api := sequenceAPI(t, answer("READY", 10, 0, 0), answer("RUNNING", 10, 4, 0), answer("RUNNING", 10, 10, 1), answer("COMPLETED", 10, 10, 2))
	c, out, _ := testCLI(t, api, false)
	require.Equal(t, exitOK, c.run(context.Background(), []string{"status", "7", "--follow"}))
	require.Equal(t,
		"started [....................]  0/10   0%   paid [....................]  0/10   0%   READY\n"+
			"started [########............]  4/10  40%   paid [....................]  0/10   0%   RUNNING\n"+
			"started [####################] 10/10 100%   paid [##..................]  1/10  10%   RUNNING\n"+
			"started [####################] 10/10 100%   paid [####................]  2/10  20%   COMPLETED\n",
		out.String())
	require.NotContains(t, out.String(), "\r")
}

func TestFollowRedrawsInPlaceOnATerminal(t *testing.T) {
	api := sequenceAPI(t, answer("RUNNING", 4, 1, 0), answer("RUNNING", 4, 2, 0), answer("CANCELLED", 4, 2, 1))
	c, out, _ := testCLI(t, api, true)
	require.Equal(t, exitStopped, c.run(context.Background(), []string{"status", "7", "--follow"}))
	got := out.String()
	require.Equal(t, 3, strings.Count(got, "\r"), "%q", got)
	require.Equal(t, 1, strings.Count(got, "\n"), "%q", got)
	require.True(t, strings.HasSuffix(got, "paid [#####...............] 1/4  25%   CANCELLED\x1b[K\n"), "%q", got)
	require.True(t, strings.HasPrefix(got, "\rstarted [#####...............] 1/4  25%"), "%q", got)
}

func TestFollowWithdrawnExits3(t *testing.T) {
	c, _, _ := testCLI(t, sequenceAPI(t, answer("WITHDRAWN", 4, 4, 0)), false)
	require.Equal(t, exitStopped, c.run(context.Background(), []string{"status", "--follow", "7"}))
}

func TestFollowRidesOutAnAPIRestart(t *testing.T) {
	unavailable := func(w http.ResponseWriter) {
		writeJSON(w, http.StatusServiceUnavailable, map[string]any{"title": "Service Unavailable", "status": 503})
	}
	api := sequenceAPI(t, answer("RUNNING", 4, 1, 0), unavailable, unavailable, answer("COMPLETED", 4, 4, 0))
	c, out, _ := testCLI(t, api, false)
	require.Equal(t, exitOK, c.run(context.Background(), []string{"status", "7", "--follow"}))
	require.Equal(t, 2, strings.Count(out.String(), "\n"))

	// Down for longer than giveUp: exit 1.
	c, _, errOut := testCLI(t, sequenceAPI(t, answer("RUNNING", 4, 1, 0), unavailable), false)
	c.giveUp = 20 * time.Millisecond
	require.Equal(t, exitFailed, c.run(context.Background(), []string{"status", "7", "--follow"}))
	require.Contains(t, errOut.String(), "503 Service Unavailable")

	// A 404 is not worth waiting for.
	notFound := func(w http.ResponseWriter) {
		writeJSON(w, http.StatusNotFound, map[string]any{"title": "Not Found", "status": 404, "detail": "no campaign with this id"})
	}
	c, _, _ = testCLI(t, sequenceAPI(t, notFound), false)
	c.giveUp = time.Hour
	require.Equal(t, exitFailed, c.run(context.Background(), []string{"status", "7", "--follow"}))
}

func TestFollowStopsWithTheContext(t *testing.T) {
	c, out, _ := testCLI(t, sequenceAPI(t, answer("RUNNING", 4, 1, 0)), true)
	c.interval = 10 * time.Millisecond
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	require.Equal(t, exitFailed, c.run(ctx, []string{"status", "7", "--follow"}))
	require.True(t, strings.HasSuffix(out.String(), "\n"), "the line is ended on Ctrl-C")
}

func TestBar(t *testing.T) {
	require.Equal(t, "[..........]", bar(0, 0, 10))
	require.Equal(t, "[..........]", bar(0, 7, 10))
	require.Equal(t, "[###.......]", bar(1, 3, 10))
	require.Equal(t, "[##########]", bar(7, 7, 10))
	require.Equal(t, "[##########]", bar(9, 7, 10)) // never past the end
	require.Equal(t, int64(33), percent(1, 3))
	require.Equal(t, int64(0), percent(5, 0))
	require.Equal(t, "-1,05 €", euro(-105))
}
