package e2e

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"incasso/app/config"
	"incasso/examples/webhook-receiver/standardwebhooks"
	"incasso/workflows"
)

// hookReceiver is another system's endpoint: a real HTTP server that refuses its first
// `fail` requests with a 500, then accepts, keeping every request.
type hookReceiver struct {
	mu       sync.Mutex
	fail     int
	requests []hookRequest
}

type hookRequest struct {
	header http.Header
	body   []byte
	status int
}

func (r *hookReceiver) ServeHTTP(w http.ResponseWriter, req *http.Request) {
	body, _ := io.ReadAll(req.Body)
	r.mu.Lock()
	defer r.mu.Unlock()
	status := http.StatusNoContent
	if r.fail > 0 {
		r.fail--
		status = http.StatusInternalServerError
	}
	r.requests = append(r.requests, hookRequest{header: req.Header.Clone(), body: body, status: status})
	w.WriteHeader(status)
}

func (r *hookReceiver) accepted() []hookRequest {
	r.mu.Lock()
	defer r.mu.Unlock()
	var out []hookRequest
	for _, q := range r.requests {
		if q.status < 300 {
			out = append(out, q)
		}
	}
	return out
}

func (r *hookReceiver) count() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return len(r.requests)
}

// A system registers its endpoint for debt.paid; a debt paid through the simulator reaches it
// once, signed, with the receipt's data, although the endpoint refused the first three
// attempts; the sample receiver's verifier accepts it and rejects a forgery; the delivery log
// says what the endpoint answered.
func TestWebhookDeliversDebtPaid(t *testing.T) {
	e := start(t, func(c *config.Config) {
		c.Webhooks.PollEvery = 100 * time.Millisecond
		c.Webhooks.FirstRetry = 200 * time.Millisecond
	})
	rec := &hookReceiver{fail: 3}
	srv := httptest.NewServer(rec)
	t.Cleanup(srv.Close)

	var hook struct {
		ID     int64  `json:"id"`
		Secret string `json:"secret"`
	}
	require.Equal(t, http.StatusCreated, e.call(t, http.MethodPost, e.stack.APIURL+"/v1/webhooks",
		map[string]any{"url": srv.URL + "/incasso", "eventTypes": []string{"debt.paid"}}, &hook))
	verifier, err := standardwebhooks.NewVerifier(hook.Secret)
	require.NoError(t, err)

	d := e.createDebt(t, "TARI-HOOK-1", 12345)
	e.waitStatus(t, "TARI-HOOK-1", workflows.StatusIssued)
	require.Equal(t, "OK", e.pay(t, d.NoticeNumber, "").Outcome)
	paid := e.waitStatus(t, "TARI-HOOK-1", workflows.StatusPaid)
	require.Len(t, paid.Receipts, 1)

	require.Eventually(t, func() bool { return len(rec.accepted()) == 1 }, 60*time.Second, 100*time.Millisecond, "debt.paid never accepted")
	time.Sleep(time.Second) // a second delivery would come within the poll interval
	require.Len(t, rec.accepted(), 1, "delivered once")
	require.Equal(t, 4, rec.count(), "three refusals, then the delivery")
	got := rec.accepted()[0]
	for _, r := range rec.requests {
		require.Equal(t, got.header.Get("webhook-id"), r.header.Get("webhook-id"), "the retries are the same message")
	}

	require.NoError(t, verifier.Verify(got.header, got.body))
	var event struct {
		ID   string `json:"id"`
		Type string `json:"type"`
		Data struct {
			Iupd        string `json:"iupd"`
			Nav         string `json:"nav"`
			AmountCents int64  `json:"amountCents"`
			Status      string `json:"status"`
			Receipt     struct {
				ReceiptID       string `json:"receiptId"`
				PaidAmountCents int64  `json:"paidAmountCents"`
			} `json:"receipt"`
		} `json:"data"`
	}
	require.NoError(t, json.Unmarshal(got.body, &event))
	require.Equal(t, "debt.paid", event.Type)
	require.Equal(t, got.header.Get("webhook-id"), event.ID)
	require.Equal(t, "TARI-HOOK-1", event.Data.Iupd)
	require.Equal(t, d.NoticeNumber, event.Data.Nav)
	require.Equal(t, "PAID", event.Data.Status)
	require.Equal(t, int64(12345), event.Data.AmountCents)
	require.Equal(t, paid.Receipts[0].ReceiptID, event.Data.Receipt.ReceiptID)
	require.Equal(t, int64(12345), event.Data.Receipt.PaidAmountCents)
	require.NotContains(t, string(got.body), "Rossi")
	require.NotContains(t, string(got.body), "RSSMRA85T10A562S")

	// A forgery: another amount under the signature received, or the right body re-signed
	// with a guessed key, or the message sent again ten minutes later.
	forged := bytes.Replace(got.body, []byte(`"amountCents":12345`), []byte(`"amountCents":1`), 1)
	require.NotEqual(t, got.body, forged)
	require.ErrorIs(t, verifier.Verify(got.header, forged), standardwebhooks.ErrSignature)
	wrong := got.header.Clone()
	wrong.Set("webhook-signature", "v1,"+"bm90IHRoZSBzaWduYXR1cmUgb2YgdGhpcyBtZXNzYWdlIQ==")
	require.ErrorIs(t, verifier.Verify(wrong, got.body), standardwebhooks.ErrSignature)
	ts, err := strconv.ParseInt(got.header.Get("webhook-timestamp"), 10, 64)
	require.NoError(t, err)
	late := *verifier
	late.Now = func() time.Time { return time.Unix(ts, 0).Add(10 * time.Minute) }
	require.ErrorIs(t, late.Verify(got.header, got.body), standardwebhooks.ErrStale)

	var log struct {
		Deliveries []struct {
			EventID        string `json:"eventId"`
			Status         string `json:"status"`
			Attempts       int    `json:"attempts"`
			LastStatusCode int    `json:"lastStatusCode"`
		} `json:"deliveries"`
	}
	hookURL := e.stack.APIURL + "/v1/webhooks/" + strconv.FormatInt(hook.ID, 10)
	require.Equal(t, http.StatusOK, e.call(t, http.MethodGet, hookURL+"/deliveries", nil, &log))
	require.Len(t, log.Deliveries, 1)
	require.Equal(t, event.ID, log.Deliveries[0].EventID)
	require.Equal(t, "DELIVERED", log.Deliveries[0].Status)
	require.Equal(t, 4, log.Deliveries[0].Attempts)
	require.Equal(t, http.StatusNoContent, log.Deliveries[0].LastStatusCode)

	// Deleted, the endpoint's workflow ends at its next look at the feed.
	require.Equal(t, http.StatusNoContent, e.call(t, http.MethodDelete, hookURL, nil, nil))
	run := e.stack.Deps.Temporal.GetWorkflow(t.Context(), workflows.WebhookWorkflowID(hook.ID), "")
	require.NoError(t, run.Get(t.Context(), nil))
	e.recordHistory(t, workflows.WebhookWorkflowID(hook.ID), "webhook_three_refusals_then_delivered")
}
