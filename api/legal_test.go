package api

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"testing"

	"github.com/stretchr/testify/require"

	"incasso/services/access"
	"incasso/services/apiclients"
)

func (e *testEnv) postCard(t *testing.T, key string, commID int64, body string) (*http.Response, []byte) {
	t.Helper()
	h := http.Header{"Authorization": {"Bearer " + key}, "Content-Type": {"application/json"}}
	return e.do(t, http.MethodPost, fmt.Sprintf("/v1/communications/%d/return-card", commID), bytes.NewBufferString(body), h)
}

// An operator enters the return card of a registered letter once; the same card again is the
// same answer, another is a 409; bad fields are named; an email has no card; the audit trail
// names the debt.
func TestReturnCard(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.mustCreateDebt(t, validRequest("CARD-1"))
	letter := e.archive(t, "CARD-1", archived{channel: "post", kind: "accertamento", step: "accertamento", status: "PRINT", raw: []byte("%PDF-1.4 letter")})
	email := e.archive(t, "CARD-1", archived{})
	operator := e.addClient(t, "sportello", apiclients.Grant{Role: access.Operator})
	auditor := e.addClient(t, "revisore", apiclients.Grant{Role: access.Auditor})

	resp, body := e.postCard(t, operator, letter.ID, `{"outcome": "delivered", "date": "2026-11-18"}`)
	require.Equal(t, http.StatusCreated, resp.StatusCode, string(body))
	var card ReturnCard
	require.NoError(t, json.Unmarshal(body, &card))
	require.Equal(t, "delivered", card.Outcome)
	require.Equal(t, "2026-11-18", card.Date.String())
	require.Equal(t, "client:sportello", card.EnteredBy)

	resp, body = e.postCard(t, operator, letter.ID, `{"outcome": "delivered", "date": "2026-11-18"}`)
	require.Equal(t, http.StatusOK, resp.StatusCode, string(body))
	resp, body = e.postCard(t, e.apiKey, letter.ID, `{"outcome": "returned", "date": "2026-11-18"}`)
	requireProblem(t, resp, body, http.StatusConflict)

	resp, body = e.postCard(t, operator, letter.ID, `{"outcome": "lost", "date": "2026-12-25"}`)
	p := requireProblem(t, resp, body, http.StatusUnprocessableEntity)
	require.Len(t, p.Errors, 2)
	require.Equal(t, "outcome", p.Errors[0].Field)
	require.Equal(t, "date", p.Errors[1].Field)
	require.Contains(t, p.Errors[1].Message, "future")

	resp, body = e.postCard(t, operator, email.ID, `{"outcome": "delivered", "date": "2026-11-18"}`)
	requireProblem(t, resp, body, http.StatusConflict)
	resp, body = e.postCard(t, operator, email.ID+100, `{"outcome": "delivered", "date": "2026-11-18"}`)
	requireProblem(t, resp, body, http.StatusNotFound)
	resp, body = e.postCard(t, auditor, letter.ID, `{"outcome": "delivered", "date": "2026-11-18"}`)
	requireProblem(t, resp, body, http.StatusForbidden)

	var targets []string
	rows, err := e.pool.Query(t.Context(), `SELECT COALESCE(targets->>'iupd', '') FROM audit_log WHERE action = 'POST /v1/communications/:id/return-card' ORDER BY id`)
	require.NoError(t, err)
	defer rows.Close()
	for rows.Next() {
		var s string
		require.NoError(t, rows.Scan(&s))
		targets = append(targets, s)
	}
	require.Contains(t, targets, "CARD-1")

	// The debt shows its (still empty) legal clock.
	resp, body = e.do(t, http.MethodGet, "/v1/debts/CARD-1", nil, e.authHeader())
	require.Equal(t, http.StatusOK, resp.StatusCode)
	d := decodeDebt(t, body)
	require.Empty(t, d.LegalClock.NotifiedBy)
	require.Empty(t, d.LegalClock.DomicileLookups)
}
