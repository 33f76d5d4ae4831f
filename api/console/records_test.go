package console

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"incasso/services/access"
)

// The campaign's rows link to each debt's page; the search box finds a debt by notice number
// or iupd and a debtor's file by fiscal code, with a POST so the code lands in no URL, and the
// trail names the debtor only by pseudonym.
func TestDebtPageAndSearch(t *testing.T) {
	e := newEnv(t)
	id := seedCampaign(t, e, "TARI 2026", 3, 3)
	iupd := fmt.Sprintf("C%d-1", id)
	var nav string
	require.NoError(t, e.pool.QueryRow(context.Background(), "SELECT nav FROM debt_positions WHERE iupd = $1", iupd).Scan(&nav))
	e.addUser(t, "anna", access.Operator)
	b := e.browser(t)
	require.Equal(t, http.StatusSeeOther, b.loginUser(t, "anna", password).status)

	campaign := b.get(t, fmt.Sprintf("/console/campagne/%d", id))
	require.Contains(t, campaign.body, `href="/console/posizioni/`+iupd+`"`)
	require.NotContains(t, campaign.body, "dati (JSON)")

	debt := b.get(t, "/console/posizioni/"+iupd)
	require.Equal(t, http.StatusOK, debt.status, debt.body)
	for _, want := range []string{iupd, nav, "123,45", "31/01/2027", "Mario Rossi", "RSSMRA85T10A562S", "Nessun pagamento ricevuto"} {
		require.Contains(t, debt.body, want)
	}
	require.Equal(t, http.StatusNotFound, b.get(t, "/console/posizioni/NESSUNO-1").status)

	search := func(q string) page { return b.post(t, "/console/cerca", url.Values{"csrf": {b.csrf(t)}, "q": {q}}) }
	for _, q := range []string{nav, " " + nav[:6] + " " + nav[6:] + " ", iupd} {
		p := search(q)
		require.Equal(t, http.StatusSeeOther, p.status, "%q: %s", q, p.body)
		require.Equal(t, "/console/posizioni/"+iupd, p.header.Get("Location"))
	}
	file := search("rssmra85t10a562s")
	require.Equal(t, http.StatusOK, file.status, file.body)
	require.Equal(t, 3, strings.Count(file.body, `href="/console/posizioni/C`), "the debtor's three positions")
	require.Contains(t, file.body, "370,35", "the balance of the three")
	for _, q := range []string{"RSSMRA85T10A562X", "301000000000999999", "sconosciuto", ""} {
		p := search(q)
		require.Equal(t, http.StatusNotFound, p.status, q)
		require.Contains(t, p.body, `id="errore"`)
	}

	var pseudonyms, clear int
	require.NoError(t, e.pool.QueryRow(context.Background(), `SELECT
		count(*) FILTER (WHERE targets->>'debtor' LIKE 'hmac:%'),
		count(*) FILTER (WHERE targets::text LIKE '%RSSMRA85T10A562S%' OR reason LIKE '%RSSMRA85T10A562S%')
		FROM audit_log WHERE action = 'POST /console/cerca' AND actor = 'user:anna'`).Scan(&pseudonyms, &clear))
	require.Equal(t, []int{1, 0}, []int{pseudonyms, clear}, "one file read, by pseudonym")
	var pageRead int
	require.NoError(t, e.pool.QueryRow(context.Background(),
		`SELECT count(*) FROM audit_log WHERE action = 'GET /console/posizioni/{iupd}' AND targets->>'iupd' = $1`, iupd).Scan(&pageRead))
	require.Equal(t, 1, pageRead)
}
