package api

import (
	"encoding/json"
	"errors"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"incasso/services/access"
	"incasso/services/apiclients"
	"incasso/workflows"
)

func withKey(h http.Header, key string) http.Header {
	h = h.Clone()
	h.Set("Idempotency-Key", key)
	return h
}

// A POST repeated with its Idempotency-Key gets the first answer replayed, and the debt is
// stored and its workflow started once; another body under the same key is a 422 naming the
// header; the same key on another route is another operation.
func TestIdempotencyKeyReplaysTheAnswer(t *testing.T) {
	t.Parallel()
	env := newEnv(t)
	body, err := json.Marshal(validRequest("TARI-IDEM-1"))
	require.NoError(t, err)
	h := withKey(env.authHeader(), "k-1")

	first, firstBody := env.do(t, http.MethodPost, "/v1/debts", strings.NewReader(string(body)), h)
	require.Equal(t, http.StatusCreated, first.StatusCode, string(firstBody))
	again, againBody := env.do(t, http.MethodPost, "/v1/debts", strings.NewReader(string(body)), h)
	require.Equal(t, http.StatusCreated, again.StatusCode, "the stored answer, not the 200 of a repeat")
	require.Equal(t, "true", again.Header.Get("Idempotent-Replayed"))
	require.Equal(t, string(firstBody), string(againBody))
	require.Equal(t, first.Header.Get("Location"), again.Header.Get("Location"))
	require.Len(t, env.fake.Executions(), 1, "the workflow started once")

	other, err := json.Marshal(validRequest("TARI-IDEM-2"))
	require.NoError(t, err)
	resp, b := env.do(t, http.MethodPost, "/v1/debts", strings.NewReader(string(other)), h)
	require.Equal(t, http.StatusUnprocessableEntity, resp.StatusCode)
	require.Contains(t, string(b), `"field":"Idempotency-Key"`)
	resp, _ = env.getDebt(t, "TARI-IDEM-2")
	require.Equal(t, http.StatusNotFound, resp.StatusCode, "nothing changed")

	// An invalid request's answer is replayed too; without a key nothing is stored.
	bad := withKey(env.authHeader(), "k-2")
	resp, b1 := env.do(t, http.MethodPost, "/v1/debts", strings.NewReader(`{"iupd":""}`), bad)
	require.Equal(t, http.StatusUnprocessableEntity, resp.StatusCode)
	resp, b2 := env.do(t, http.MethodPost, "/v1/debts", strings.NewReader(`{"iupd":""}`), bad)
	require.Equal(t, http.StatusUnprocessableEntity, resp.StatusCode)
	require.Equal(t, "true", resp.Header.Get("Idempotent-Replayed"))
	require.Equal(t, string(b1), string(b2))

	// The same key of another client is its own.
	mensa := env.addClient(t, "mensa", apiclients.Grant{Role: access.Integration})
	mh := withKey(env.authHeader(), "k-1")
	mh.Set("Authorization", "Bearer "+mensa)
	resp, _ = env.do(t, http.MethodPost, "/v1/debts", strings.NewReader(string(other)), mh)
	require.Equal(t, http.StatusCreated, resp.StatusCode)
	require.Empty(t, resp.Header.Get("Idempotent-Replayed"))
}

// A webhook is registered with its secret shown once and its workflow started; it is read,
// rotated and deleted; bad fields are named; another integration key cannot see it.
func TestWebhookRoutes(t *testing.T) {
	t.Parallel()
	env := newEnv(t)
	mensa := env.addClient(t, "mensa", apiclients.Grant{Role: access.Integration, Services: []string{"MENSA"}})
	sale := env.addClient(t, "sale", apiclients.Grant{Role: access.Integration, Services: []string{"SALA"}})
	as := func(key string) http.Header {
		h := env.authHeader()
		h.Set("Authorization", "Bearer "+key)
		return h
	}

	resp, b := env.do(t, http.MethodPost, "/v1/webhooks", strings.NewReader(`{"url":"gopher://x","eventTypes":["debt.eaten"]}`), as(mensa))
	require.Equal(t, http.StatusUnprocessableEntity, resp.StatusCode)
	require.Contains(t, string(b), `"field":"url"`)
	require.Contains(t, string(b), `"field":"eventTypes[0]"`)

	resp, b = env.do(t, http.MethodPost, "/v1/webhooks", strings.NewReader(`{"url":"https://mensa.example.it/hook","eventTypes":["debt.paid"]}`), as(mensa))
	require.Equal(t, http.StatusCreated, resp.StatusCode, string(b))
	var created Webhook
	require.NoError(t, json.Unmarshal(b, &created))
	require.Regexp(t, `^whsec_`, created.Secret)
	require.Equal(t, "client:mensa", created.Owner)
	require.Equal(t, "/v1/webhooks/"+strconv.FormatInt(created.ID, 10), resp.Header.Get("Location"))
	ex := env.fake.Executions()
	require.Len(t, ex, 1)
	require.Equal(t, workflows.WebhookWorkflowID(created.ID), ex[0].Options.ID)
	require.Equal(t, workflows.WebhookInput{EndpointID: created.ID, GiveUpAfter: 72 * time.Hour, FirstRetry: 10 * time.Second}, ex[0].Args[0])

	path := "/v1/webhooks/" + strconv.FormatInt(created.ID, 10)
	resp, b = env.do(t, http.MethodGet, path, nil, as(mensa))
	require.Equal(t, http.StatusOK, resp.StatusCode)
	require.NotContains(t, string(b), "whsec_", "the secret is shown once")
	resp, _ = env.do(t, http.MethodGet, path, nil, as(sale))
	require.Equal(t, http.StatusNotFound, resp.StatusCode)
	resp, _ = env.do(t, http.MethodGet, path, nil, env.authHeader())
	require.Equal(t, http.StatusOK, resp.StatusCode, "the finance office sees every endpoint")

	resp, b = env.do(t, http.MethodPost, path+"/rotate-secret", nil, as(mensa))
	require.Equal(t, http.StatusOK, resp.StatusCode, string(b))
	var rotated Webhook
	require.NoError(t, json.Unmarshal(b, &rotated))
	require.Regexp(t, `^whsec_`, rotated.Secret)
	require.NotEqual(t, created.Secret, rotated.Secret)
	require.NotNil(t, rotated.PreviousSecretValidUntil)

	resp, b = env.do(t, http.MethodGet, path+"/deliveries", nil, as(mensa))
	require.Equal(t, http.StatusOK, resp.StatusCode)
	require.JSONEq(t, `{"deliveries":[]}`, string(b))
	resp, _ = env.do(t, http.MethodPost, path+"/enable", nil, as(mensa))
	require.Equal(t, http.StatusOK, resp.StatusCode, "an active endpoint: its workflow is made sure of")
	require.Len(t, env.fake.Executions(), 2)
	require.Equal(t, workflows.WebhookWorkflowID(created.ID), env.fake.Executions()[1].Options.ID)

	resp, _ = env.do(t, http.MethodDelete, path, nil, as(sale))
	require.Equal(t, http.StatusNotFound, resp.StatusCode)
	resp, _ = env.do(t, http.MethodDelete, path, nil, as(mensa))
	require.Equal(t, http.StatusNoContent, resp.StatusCode)
	resp, _ = env.do(t, http.MethodGet, path, nil, as(mensa))
	require.Equal(t, http.StatusNotFound, resp.StatusCode)
}

// The feed over HTTP: a debt created shows, the cursor goes on, a bad cursor is named.
func TestEventsRoute(t *testing.T) {
	t.Parallel()
	env := newEnv(t)
	env.mustCreateDebt(t, validRequest("TARI-EV-1"))
	var page struct {
		Events []struct {
			ID, Type string
			Data     map[string]any
		}
		Next string
	}
	deadline := time.Now().Add(30 * time.Second)
	for len(page.Events) == 0 && time.Now().Before(deadline) {
		resp, b := env.do(t, http.MethodGet, "/v1/events?types=debt.created", nil, env.authHeader())
		require.Equal(t, http.StatusOK, resp.StatusCode, string(b))
		require.NoError(t, json.Unmarshal(b, &page))
		time.Sleep(50 * time.Millisecond)
	}
	require.Len(t, page.Events, 1)
	require.Equal(t, "debt.created", page.Events[0].Type)
	require.Equal(t, "TARI-EV-1", page.Events[0].Data["iupd"])
	require.NotContains(t, page.Events[0].Data, "debtor")

	resp, b := env.do(t, http.MethodGet, "/v1/events?after="+page.Next, nil, env.authHeader())
	require.Equal(t, http.StatusOK, resp.StatusCode)
	require.NotContains(t, string(b), "debt.created")
	resp, b = env.do(t, http.MethodGet, "/v1/events?after=nonsense&limit=0", nil, env.authHeader())
	require.Equal(t, http.StatusUnprocessableEntity, resp.StatusCode)
	require.Contains(t, string(b), `"field":"after"`)
	require.Contains(t, string(b), `"field":"limit"`)
}

// A registration whose workflow cannot start is a 503 that says how to go on; enable then
// starts it.
func TestWebhookStartFails(t *testing.T) {
	t.Parallel()
	env := newEnv(t)
	env.fake.failExecute(errors.New("temporal unavailable"))
	resp, b := env.do(t, http.MethodPost, "/v1/webhooks", strings.NewReader(`{"url":"https://x.example.it/","eventTypes":["debt.paid"]}`), env.authHeader())
	require.Equal(t, http.StatusServiceUnavailable, resp.StatusCode)
	require.Contains(t, string(b), "/v1/webhooks/1/enable")
	require.NotContains(t, string(b), "temporal unavailable")
	env.fake.failExecute(nil)
	resp, _ = env.do(t, http.MethodPost, "/v1/webhooks/1/enable", nil, env.authHeader())
	require.Equal(t, http.StatusOK, resp.StatusCode)
	require.Len(t, env.fake.Executions(), 2)
}
