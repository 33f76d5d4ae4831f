package api

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/json"
	"fmt"
	"io"
	"mime/multipart"
	"net/http"
	"net/textproto"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"incasso/db/dbgen"
)

const campaignHeader = "iupd;servizio;tipo;codice_fiscale;nominativo;email;pec;importo;scadenza;causale"

// campaignLine is a valid CSV row (due after defaultNow) with the iupd.
func campaignLine(iupd string) string {
	return iupd + ";TARI;F;RSSMRA85T10A562S;Mario Rossi;mario.rossi@example.it;;123,45;31/12/2026;TARI 2026 rata unica"
}

func (e *testEnv) postCampaign(t *testing.T, query, contentType string, body io.Reader) (*http.Response, []byte) {
	t.Helper()
	h := e.authHeader()
	h.Set("Content-Type", contentType)
	return e.do(t, http.MethodPost, "/v1/campaigns"+query, body, h)
}

func decodeImport(t *testing.T, resp *http.Response, body []byte, status int) CampaignImportProblem {
	t.Helper()
	require.Equal(t, status, resp.StatusCode, string(body))
	var p CampaignImportProblem
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	require.NoError(t, dec.Decode(&p), string(body))
	return p
}

func (e *testEnv) campaignCounts(t *testing.T) (campaigns, rows int) {
	t.Helper()
	require.NoError(t, e.pool.QueryRow(context.Background(), "SELECT (SELECT count(*) FROM campaigns), (SELECT count(*) FROM campaign_rows)").Scan(&campaigns, &rows))
	return campaigns, rows
}

func TestImportCampaignCSV(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	file := "\ufeff" + campaignHeader + "\r\n" + campaignLine("T-1") + "\r\n" + campaignLine("T-2") + "\r\n"
	resp, body := e.postCampaign(t, "?name=TARI+2026&filename=tari.csv", "text/csv; charset=utf-8", strings.NewReader(file))
	got := decodeImport(t, resp, body, http.StatusCreated)
	require.NotZero(t, got.CampaignID)
	loc := fmt.Sprintf("/v1/campaigns/%d", got.CampaignID)
	require.Equal(t, loc, resp.Header.Get("Location"))
	require.Equal(t, CampaignImport{CampaignID: got.CampaignID, Rows: 2, ValidRows: 2, Errors: []CampaignRowError{},
		Links: map[string]string{"self": loc, "launch": loc + "/launch"}}, got.CampaignImport)
	require.Contains(t, string(body), `"errors":[]`)

	cp, err := dbgen.New(e.pool).GetCampaign(context.Background(), got.CampaignID)
	require.NoError(t, err)
	sum := sha256.Sum256([]byte(file))
	require.Equal(t, sum[:], cp.SourceSha256)
	require.Equal(t, []string{"TARI 2026", "tari.csv", "client:tributi", "READY"}, []string{cp.Name, cp.SourceFilename, cp.CreatedBy, cp.Status})

	// The campaign's page answers at the Location.
	resp, body = e.do(t, http.MethodGet, loc, nil, e.authHeader())
	require.Equal(t, http.StatusOK, resp.StatusCode, string(body))
}

func TestImportCampaignJSON(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	// The same objects POST /v1/debts takes.
	file, err := json.Marshal([]CreateDebtRequest{validRequest("J-1"), validRequest("J-2"), validRequest("J-3")})
	require.NoError(t, err)
	resp, body := e.postCampaign(t, "?name=Mensa", "application/json", bytes.NewReader(file))
	got := decodeImport(t, resp, body, http.StatusCreated)
	require.Equal(t, 3, got.ValidRows)
}

func TestImportCampaignInvalidRows(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	file := campaignHeader + "\n" + campaignLine("R-1") + "\n" +
		"R-2;TARI;F;RSSMRA85T10A562X;Mario Rossi;mario.rossi@example.it;;12,50;01/01/2020;TARI\n" +
		campaignLine("R-1") + "\n"
	resp, body := e.postCampaign(t, "?name=x", "text/csv", strings.NewReader(file))
	require.Equal(t, "application/problem+json", resp.Header.Get("Content-Type"))
	p := decodeImport(t, resp, body, http.StatusUnprocessableEntity)
	require.Equal(t, "Invalid campaign file", p.Title)
	require.Equal(t, http.StatusUnprocessableEntity, p.Status)
	require.Equal(t, "3 errors in 2 of 3 rows: nothing was imported", p.Detail)
	require.Equal(t, []CampaignRowError{
		{3, "codice_fiscale", "not a valid codice fiscale: check character mismatch"},
		{3, "scadenza", "must not be in the past"},
		{4, "iupd", "the same iupd as row 2"},
	}, p.Errors)
	require.Equal(t, 3, p.TotalErrors)
	require.Zero(t, p.CampaignID)
	require.NotContains(t, string(body), "RSSMRA85T10A562X")
	require.NotContains(t, resp.Header, "Location")
	campaigns, rows := e.campaignCounts(t)
	require.Zero(t, campaigns+rows)

	// Valid rows only: the one valid row is stored.
	resp, body = e.postCampaign(t, "?name=x&validOnly=true", "text/csv", strings.NewReader(file))
	got := decodeImport(t, resp, body, http.StatusCreated)
	require.Equal(t, []int{3, 1, 2, 3}, []int{got.Rows, got.ValidRows, got.RejectedRows, got.TotalErrors})
	require.Len(t, got.Errors, 3)
	campaigns, rows = e.campaignCounts(t)
	require.Equal(t, []int{1, 1}, []int{campaigns, rows})
}

func TestImportCampaignBadRequests(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	file := campaignHeader + "\n" + campaignLine("B-1") + "\n"
	for _, tt := range []struct {
		name, query, contentType, body string
		status                         int
		detail                         string
	}{
		{"missing column", "?name=x", "text/csv", strings.Replace(campaignHeader, ";scadenza", "", 1) + "\n", 400, "the file cannot be read, nothing was imported: row 1: missing column scadenza"},
		{"malformed JSON", "?name=x", "application/json", `[{"iupd": 1,]`, 400, "the file cannot be read, nothing was imported: row 1: malformed JSON at byte 12"},
		{"empty", "?name=x", "text/csv", "", 400, "the file cannot be read, nothing was imported: the file is empty"},
		{"no name", "", "text/csv", file, 400, "name is required"},
		{"long name", "?name=" + strings.Repeat("n", 201), "text/csv", file, 400, "name is required"},
		{"bad validOnly", "?name=x&validOnly=yes", "text/csv", file, 400, "validOnly must be true or false"},
		{"no content type", "?name=x", "", file, 415, "send the file as text/csv or application/json"},
		{"xml", "?name=x", "application/xml", file, 415, "send the file as text/csv or application/json"},
		{"latin-1", "?name=x", "text/csv; charset=iso-8859-1", file, 415, "campaign files must be UTF-8"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			resp, body := e.postCampaign(t, tt.query, tt.contentType, strings.NewReader(tt.body))
			p := requireProblem(t, resp, body, tt.status)
			require.Contains(t, p.Detail, tt.detail)
		})
	}
	campaigns, _ := e.campaignCounts(t)
	require.Zero(t, campaigns)

	resp, body := e.do(t, http.MethodPost, "/v1/campaigns?name=x", strings.NewReader(file), http.Header{"Content-Type": {"text/csv"}})
	requireProblem(t, resp, body, http.StatusUnauthorized)
}

func TestImportCampaignMultipart(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	form := func(fields [][2]string, fileType, filename, content string) (string, *bytes.Buffer) {
		var b bytes.Buffer
		w := multipart.NewWriter(&b)
		for _, f := range fields {
			require.NoError(t, w.WriteField(f[0], f[1]))
		}
		h := textproto.MIMEHeader{}
		h.Set("Content-Disposition", fmt.Sprintf(`form-data; name="file"; filename="%s"`, filename))
		if fileType != "" {
			h.Set("Content-Type", fileType)
		}
		pw, err := w.CreatePart(h)
		require.NoError(t, err)
		_, _ = pw.Write([]byte(content))
		require.NoError(t, w.Close())
		return w.FormDataContentType(), &b
	}
	file := campaignHeader + "\n" + campaignLine("M-1") + "\n" + campaignLine("M-1") + "\n"

	// As a browser on Windows sends a .csv file, with the form's fields first.
	ct, body := form([][2]string{{"csrf", "t"}, {"name", "TARI dal browser"}, {"validOnly", "true"}}, "application/vnd.ms-excel", `C:\Users\tributi\tari 2026.csv`, file)
	resp, b := e.postCampaign(t, "", ct, body)
	got := decodeImport(t, resp, b, http.StatusCreated)
	require.Equal(t, []int{2, 1, 1}, []int{got.Rows, got.ValidRows, got.RejectedRows})
	cp, err := dbgen.New(e.pool).GetCampaign(context.Background(), got.CampaignID)
	require.NoError(t, err)
	require.Equal(t, []string{"TARI dal browser", "tari 2026.csv"}, []string{cp.Name, cp.SourceFilename})

	// Without validOnly the duplicate refuses the file.
	ct, body = form([][2]string{{"name", "TARI"}}, "", "tari.csv", strings.ReplaceAll(file, "M-1", "M-2"))
	resp, b = e.postCampaign(t, "", ct, body)
	p := decodeImport(t, resp, b, http.StatusUnprocessableEntity)
	require.Equal(t, []CampaignRowError{{3, "iupd", "the same iupd as row 2"}}, p.Errors)

	// JSON by its type; the name as a query parameter.
	js, _ := json.Marshal([]CreateDebtRequest{validRequest("MJ-1")})
	ct, body = form(nil, "application/json", "debiti.json", string(js))
	resp, b = e.postCampaign(t, "?name=JSON", ct, body)
	decodeImport(t, resp, b, http.StatusCreated)

	// The name must come before the file; a file must be there; its type must be known.
	ct, body = form(nil, "text/csv", "tari.csv", file)
	resp, b = e.postCampaign(t, "", ct, body)
	require.Contains(t, requireProblem(t, resp, b, http.StatusBadRequest).Detail, "a form field before the file")
	resp, b = e.postCampaign(t, "?name=x", "multipart/form-data; boundary=xyz", strings.NewReader("--xyz--\r\n"))
	require.Equal(t, "the form has no field file", requireProblem(t, resp, b, http.StatusBadRequest).Detail)
	ct, body = form([][2]string{{"name", "x"}}, "application/pdf", "tari.pdf", file)
	resp, b = e.postCampaign(t, "", ct, body)
	requireProblem(t, resp, b, http.StatusUnsupportedMediaType)
}

// repeatReader yields header, then line over and over, n bytes in all.
type repeatReader struct {
	head, line []byte
	n, off     int64
}

func (r *repeatReader) Read(p []byte) (int, error) {
	if r.off >= r.n {
		return 0, io.EOF
	}
	i := 0
	for i < len(p) && r.off < r.n {
		var b byte
		if r.off < int64(len(r.head)) {
			b = r.head[r.off]
		} else {
			l := int64(len(r.line))
			b = r.line[(r.off-int64(len(r.head)))%l]
		}
		p[i] = b
		i++
		r.off++
	}
	return i, nil
}

func TestImportCampaignBodyLimits(t *testing.T) {
	t.Parallel()
	e := newEnv(t)

	// Over 2 MB is fine for a campaign: 12,000 rows of about 200 bytes.
	var b strings.Builder
	b.WriteString(campaignHeader + "\n")
	for i := range 12_000 {
		fmt.Fprintf(&b, "TARI-2026-%06d;TARI;F;RSSMRA85T10A562S;Mario Rossi;mario.rossi@example.it;mario.rossi@pec.example.it;1.234,56;31/12/2026;TARI 2026 - utenza domestica, rata unica, via Roma %d\n", i, i)
	}
	require.Greater(t, b.Len(), 2<<20)
	resp, body := e.postCampaign(t, "?name=big", "text/csv", strings.NewReader(b.String()))
	require.Equal(t, 12_000, decodeImport(t, resp, body, http.StatusCreated).ValidRows)

	// Beyond 64 MB: refused by its Content-Length before anything is read...
	big := int64(maxCampaignBytes + 1)
	req, err := http.NewRequest(http.MethodPost, e.url+"/v1/campaigns?name=x", &repeatReader{head: []byte(campaignHeader + "\n"), line: []byte(";;;;;;;;;\n"), n: big})
	require.NoError(t, err)
	req.ContentLength = big
	req.Header = e.authHeader()
	req.Header.Set("Content-Type", "text/csv")
	resp, err = e.client.Do(req)
	require.NoError(t, err)
	body, _ = io.ReadAll(resp.Body)
	resp.Body.Close()
	require.Contains(t, requireProblem(t, resp, body, http.StatusRequestEntityTooLarge).Detail, "at most 64 MB")

	// ... or when the 64 MB are passed, without a Content-Length (blank rows, skipped).
	resp, body = e.postCampaign(t, "?name=x", "text/csv", io.NopCloser(&repeatReader{head: []byte(campaignHeader + "\n"), line: []byte(";;;;;;;;;\n"), n: big}))
	requireProblem(t, resp, body, http.StatusRequestEntityTooLarge)
	campaigns, _ := e.campaignCounts(t)
	require.Equal(t, 1, campaigns)

	// The other routes keep their 2 MB.
	resp, body = e.postDebtRaw(t, `{"iupd": "`+strings.Repeat("x", 2<<20)+`"}`)
	requireProblem(t, resp, body, http.StatusRequestEntityTooLarge)
}
