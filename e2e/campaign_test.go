package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"incasso/devstack/pagopasim"
	"incasso/domain/date"
	"incasso/workflows"
)

type campaignView struct {
	ID      int64  `json:"id"`
	Status  string `json:"status"`
	Rows    int64  `json:"rows"`
	Started int64  `json:"started"`
	Errors  int64  `json:"errors"`
	Debts   struct {
		Issued, Overdue, Paid int64
	} `json:"debts"`
	Amounts struct {
		IssuedCents, CollectedCents, OutstandingCents int64
	} `json:"amounts"`
}

// campaignCSV is a campaign file of n debts as a spreadsheet exports it: ';', CRLF, decimal
// comma, dd/mm/yyyy.
func campaignCSV(n int) string {
	var b strings.Builder
	b.WriteString("\ufeffiupd;servizio;tipo;codice_fiscale;nominativo;email;pec;importo;scadenza;causale\r\n")
	due := time.Now().In(date.Rome).AddDate(0, 2, 0).Format("02/01/2006")
	for i := 1; i <= n; i++ {
		fmt.Fprintf(&b, "CMP-%04d;TARI;F;RSSMRA85T10A562S;Mario Rossi;mario.rossi%d@example.it;;%d,%02d;%s;TARI 2026 rata unica\r\n",
			i, i, 100+i%50, i%100, due)
	}
	return b.String()
}

func (e *env) campaign(t *testing.T, id int64) campaignView {
	t.Helper()
	var v campaignView
	require.Equal(t, http.StatusOK, e.call(t, http.MethodGet, fmt.Sprintf("%s/v1/campaigns/%d", e.stack.APIURL, id), nil, &v))
	return v
}

// TestCampaign imports a file of 300 debts, refuses a bad one, launches it, and follows it
// until every notice is issued and some are paid; launching it again creates nothing new.
func TestCampaign(t *testing.T) {
	e := start(t)
	ctx := context.Background()
	post := func(body, name string) (int, []byte) {
		req, err := http.NewRequest(http.MethodPost, e.stack.APIURL+"/v1/campaigns?name="+name, strings.NewReader(body))
		require.NoError(t, err)
		req.Header.Set("Authorization", "Bearer "+e.apiKey)
		req.Header.Set("Content-Type", "text/csv; charset=utf-8")
		resp, err := e.http.Do(req)
		require.NoError(t, err)
		defer resp.Body.Close()
		data, err := io.ReadAll(resp.Body)
		require.NoError(t, err)
		return resp.StatusCode, data
	}

	// One bad row and nothing is stored: the report names the row and the column.
	bad := strings.Replace(campaignCSV(3), "RSSMRA85T10A562S", "RSSMRA85T10A562X", 1)
	status, body := post(bad, "Errata")
	require.Equal(t, http.StatusUnprocessableEntity, status, string(body))
	var report struct {
		Errors []struct {
			Row    int    `json:"row"`
			Column string `json:"column"`
		} `json:"errors"`
	}
	require.NoError(t, json.Unmarshal(body, &report))
	require.Equal(t, 2, report.Errors[0].Row)
	require.Equal(t, "codice_fiscale", report.Errors[0].Column)

	status, body = post(campaignCSV(300), "TARI+2026+E2E")
	require.Equal(t, http.StatusCreated, status, string(body))
	var imported struct {
		CampaignID int64 `json:"campaignId"`
		ValidRows  int   `json:"validRows"`
	}
	require.NoError(t, json.Unmarshal(body, &imported))
	require.Equal(t, 300, imported.ValidRows)
	id := imported.CampaignID
	require.Equal(t, workflows.CampaignReady, e.campaign(t, id).Status)

	launch := fmt.Sprintf("%s/v1/campaigns/%d/launch", e.stack.APIURL, id)
	require.Equal(t, http.StatusAccepted, e.call(t, http.MethodPost, launch, map[string]int{"rate": 200}, nil))
	require.Equal(t, http.StatusAccepted, e.call(t, http.MethodPost, launch, map[string]int{"rate": 200}, nil), "a double click is the same launch")

	var v campaignView
	require.Eventually(t, func() bool {
		v = e.campaign(t, id)
		return v.Status == workflows.CampaignCompleted && v.Debts.Issued == 300
	}, 90*time.Second, 250*time.Millisecond, "campaign never issued every notice: %+v", v)
	require.Equal(t, int64(300), v.Started)
	require.Zero(t, v.Errors)

	// Ten debtors pay: the figures follow.
	rows, err := e.stack.Deps.Pool.Query(ctx, "SELECT nav, amount_cents FROM debt_positions WHERE campaign_id = $1 ORDER BY id LIMIT 10", id)
	require.NoError(t, err)
	var collected int64
	var navs []string
	for rows.Next() {
		var nav string
		var cents int64
		require.NoError(t, rows.Scan(&nav, &cents))
		navs, collected = append(navs, nav), collected+cents
	}
	require.NoError(t, rows.Err())
	for _, nav := range navs {
		_, err := e.stack.PagoPA.Pay(ctx, pagopasim.Payment{NAV: nav})
		require.NoError(t, err)
	}
	require.Eventually(t, func() bool { v = e.campaign(t, id); return v.Debts.Paid == 10 }, 30*time.Second, 200*time.Millisecond)
	require.Equal(t, collected, v.Amounts.CollectedCents)
	require.Equal(t, v.Amounts.IssuedCents-collected, v.Amounts.OutstandingCents)

	var debts int
	require.NoError(t, e.stack.Deps.Pool.QueryRow(ctx, "SELECT count(*) FROM debt_positions WHERE campaign_id = $1", id).Scan(&debts))
	require.Equal(t, 300, debts, "launched twice, one debt per row")
}
