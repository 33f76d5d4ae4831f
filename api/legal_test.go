package api

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"incasso/domain/date"
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

// The print room reads its queue (the letters in status PRINT, newest first), downloads each,
// and marks it posted: it leaves the queue, SENT on the day given; the same mark again is the
// same answer, another date or a message that is no waiting letter a 409; bad dates are named;
// an auditor may read the queue but not mark.
func TestPrintRoom(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.mustCreateDebt(t, validRequest("POST-1"))
	composed := time.Date(2026, time.November, 18, 9, 0, 0, 0, date.Rome)
	notice := e.archive(t, "POST-1", archived{channel: "post", kind: "notice", status: "PRINT", raw: []byte("%PDF-1.4 notice"), createdAt: composed})
	sollecito := e.archive(t, "POST-1", archived{channel: "post", kind: "sollecito", step: "sollecito", status: "PRINT", raw: []byte("%PDF-1.4 sollecito"), createdAt: composed})
	email := e.archive(t, "POST-1", archived{})
	operator := e.addClient(t, "stamperia", apiclients.Grant{Role: access.Operator})
	auditor := e.addClient(t, "revisore", apiclients.Grant{Role: access.Auditor})
	queue := func() []int64 {
		resp, body := e.get(t, "/v1/communications?status=PRINT")
		require.Equal(t, http.StatusOK, resp.StatusCode, string(body))
		var page Communications
		require.NoError(t, json.Unmarshal(body, &page))
		var ids []int64
		for _, c := range page.Communications {
			require.Equal(t, "PRINT", c.Status)
			require.Equal(t, fmt.Sprintf("/v1/communications/%d.pdf", c.ID), c.Links.EML)
			ids = append(ids, c.ID)
		}
		return ids
	}
	require.Equal(t, []int64{sollecito.ID, notice.ID}, queue())

	post := func(key string, id int64, body string) (*http.Response, []byte) {
		h := http.Header{"Authorization": {"Bearer " + key}, "Content-Type": {"application/json"}}
		return e.do(t, http.MethodPost, fmt.Sprintf("/v1/communications/%d/posted", id), bytes.NewBufferString(body), h)
	}
	resp, body := post(operator, notice.ID, `{"date": "2026-11-19"}`)
	require.Equal(t, http.StatusCreated, resp.StatusCode, string(body))
	var posted PostedLetter
	require.NoError(t, json.Unmarshal(body, &posted))
	require.Equal(t, PostedLetter{CommunicationID: notice.ID, Status: "SENT",
		SentAt: time.Date(2026, time.November, 19, 0, 0, 0, 0, date.Rome)}, PostedLetter{posted.CommunicationID, posted.Status, posted.SentAt.In(date.Rome)})
	require.Equal(t, []int64{sollecito.ID}, queue())

	resp, body = post(operator, notice.ID, `{"date": "2026-11-19"}`)
	require.Equal(t, http.StatusOK, resp.StatusCode, string(body))
	resp, body = post(operator, notice.ID, `{"date": "2026-11-20"}`)
	requireProblem(t, resp, body, http.StatusConflict)
	resp, body = post(operator, email.ID, `{"date": "2026-11-20"}`)
	requireProblem(t, resp, body, http.StatusConflict)
	resp, body = post(operator, email.ID+100, `{"date": "2026-11-20"}`)
	requireProblem(t, resp, body, http.StatusNotFound)
	for _, bad := range []string{`{}`, `{"date": "20/11/2026"}`, `{"date": "2026-11-21"}`, `{"date": "2026-11-17"}`} {
		resp, body = post(operator, sollecito.ID, bad)
		p := requireProblem(t, resp, body, http.StatusUnprocessableEntity)
		require.Equal(t, "date", p.Errors[0].Field, bad)
	}
	resp, body = post(auditor, sollecito.ID, `{"date": "2026-11-20"}`)
	requireProblem(t, resp, body, http.StatusForbidden)

	resp, body = post(operator, sollecito.ID, `{"date": "2026-11-20"}`) // today: now
	require.Equal(t, http.StatusCreated, resp.StatusCode, string(body))
	require.NoError(t, json.Unmarshal(body, &posted))
	require.Equal(t, defaultNow, posted.SentAt.UTC())
	require.Empty(t, queue())

	resp, body = e.get(t, "/v1/communications?status=LOST")
	p := requireProblem(t, resp, body, http.StatusUnprocessableEntity)
	require.Equal(t, "status", p.Errors[0].Field)
}
