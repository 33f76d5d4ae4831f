package pagopasim_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"incasso/clients/gpd"
	"incasso/devstack/pagopasim"
	"incasso/domain/pagopa"
)

// do sends a request to the simulator with the subscription key and returns the answer.
func (e *simEnv) do(t *testing.T, method, path string, body any) (*http.Response, []byte) {
	t.Helper()
	var r io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		require.NoError(t, err)
		r = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(context.Background(), method, e.url+path, r)
	require.NoError(t, err)
	req.Header.Set("Ocp-Apim-Subscription-Key", testKey)
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	return resp, b
}

func (e *simEnv) status(t *testing.T, iupd string) string {
	t.Helper()
	pos, err := e.gpd.Get(context.Background(), testOrg, iupd)
	require.NoError(t, err)
	return pos.Status
}

func TestCreateConflicts(t *testing.T) {
	t.Parallel()
	e := start(t)
	ctx := context.Background()
	p := newPosition(t, 100, 500)
	require.NoError(t, e.gpd.CreateAndPublish(ctx, testOrg, p))

	require.ErrorIs(t, e.gpd.CreateAndPublish(ctx, testOrg, p), gpd.ErrConflict, "same IUPD")
	other := newPosition(t, 100, 500)
	other.IUPD = "IUPD-OTHER"
	require.ErrorIs(t, e.gpd.CreateAndPublish(ctx, testOrg, other), gpd.ErrConflict, "same IUV in the organization")
	_, err := e.gpd.Get(ctx, testOrg, other.IUPD)
	require.ErrorIs(t, err, gpd.ErrNotFound, "a conflicting position is not stored")

	// Notices are unique per organization: another EC may use the same IUV.
	require.NoError(t, e.gpd.CreateAndPublish(ctx, "11111111111", other))
	// Paying that NAV then needs the organization.
	status, body := e.pay(t, mustNAV(t, 100), "")
	require.Equal(t, http.StatusBadRequest, status, "%s", body)
	require.Contains(t, string(body), "several organizations")
	status, body = e.pay(t, mustNAV(t, 100), "organization="+testOrg)
	require.Equal(t, http.StatusOK, status, "%s", body)
	require.Equal(t, "PAID", e.status(t, p.IUPD))
	other, err = e.gpd.Get(ctx, "11111111111", other.IUPD)
	require.NoError(t, err)
	require.Equal(t, "VALID", other.Status)
}

func TestPositionValidation(t *testing.T) {
	t.Parallel()
	e := start(t)
	tests := []struct {
		name   string
		mutate func(*gpd.Position)
		field  string // named in the problem title; empty: the position is accepted
	}{
		{"140 accented characters are fine", func(p *gpd.Position) { p.PaymentOptions[0].Description = strings.Repeat("è", 140) }, ""},
		{"141 characters", func(p *gpd.Position) { p.PaymentOptions[0].Description = strings.Repeat("e", 141) }, "paymentOption[0].description"},
		{"long company name", func(p *gpd.Position) { p.CompanyName = strings.Repeat("C", 141) }, "companyName"},
		{"idTransfer 6", func(p *gpd.Position) { p.PaymentOptions[0].Transfers[1].IDTransfer = "6" }, "paymentOption[0].transfer[1].idTransfer"},
		{"idTransfer repeated", func(p *gpd.Position) { p.PaymentOptions[0].Transfers[1].IDTransfer = "1" }, "paymentOption[0].transfer[1].idTransfer"},
		{"transfer of no cent", func(p *gpd.Position) {
			p.PaymentOptions[0].Transfers[0].Amount += p.PaymentOptions[0].Transfers[1].Amount
			p.PaymentOptions[0].Transfers[1].Amount = 0
		}, "paymentOption[0].transfer[1].amount"},
		{"no category", func(p *gpd.Position) { p.PaymentOptions[0].Transfers[0].Category = "" }, "paymentOption[0].transfer[0].category"},
		{"IBAN with spaces", func(p *gpd.Position) { p.PaymentOptions[0].Transfers[0].IBAN = "IT60 X054" }, "paymentOption[0].transfer[0].iban"},
		{"six transfers", func(p *gpd.Position) {
			for range 4 {
				p.PaymentOptions[0].Transfers = append(p.PaymentOptions[0].Transfers, p.PaymentOptions[0].Transfers[0])
			}
		}, "paymentOption[0].transfer"},
		{"IUV repeated", func(p *gpd.Position) {
			p.PaymentOptions = append(p.PaymentOptions, p.PaymentOptions[0])
		}, "paymentOption[1].iuv"},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := newPosition(t, int64(110+i), 900, 100)
			tt.mutate(&p)
			resp, body := e.do(t, http.MethodPost, pagopasim.GPDBasePath+"/organizations/"+testOrg+"/debtpositions?toPublish=true", p)
			if tt.field == "" {
				require.Equal(t, http.StatusCreated, resp.StatusCode, "%s", body)
				return
			}
			require.Equal(t, http.StatusBadRequest, resp.StatusCode, "%s", body)
			require.Contains(t, string(body), tt.field)
		})
	}
}

func TestUpdatePosition(t *testing.T) {
	t.Parallel()
	e := start(t)
	ctx := context.Background()
	p := newPosition(t, 200, 5000)
	require.NoError(t, e.gpd.CreateAndPublish(ctx, testOrg, p))
	oldNAV := mustNAV(t, 200)

	// A new notice and amount replace the old ones.
	p.PaymentOptions = newPosition(t, 201, 3000, 1000).PaymentOptions
	p.Email = "mario.rossi@example.it"
	require.NoError(t, e.gpd.Update(ctx, testOrg, p))
	got, err := e.gpd.Get(ctx, testOrg, p.IUPD)
	require.NoError(t, err)
	require.Equal(t, "VALID", got.Status)
	require.Equal(t, "mario.rossi@example.it", got.Email)
	require.Len(t, got.PaymentOptions, 1)
	require.Equal(t, mustNAV(t, 201), got.PaymentOptions[0].NAV)
	require.Equal(t, int64(4000), got.PaymentOptions[0].Amount)

	// The old notice is gone and its IUV free again; the new one is payable.
	status, body := e.pay(t, oldNAV, "")
	require.Equal(t, http.StatusBadRequest, status, "%s", body)
	reuse := newPosition(t, 200, 100)
	reuse.IUPD = "IUPD-REUSE"
	require.NoError(t, e.gpd.CreateAndPublish(ctx, testOrg, reuse))

	// An update may not take another position's notice.
	taken := p
	taken.PaymentOptions = newPosition(t, 200, 100).PaymentOptions
	require.ErrorIs(t, e.gpd.Update(ctx, testOrg, taken), gpd.ErrConflict)

	// Nor may it touch an unknown, paid or invalid position.
	unknown := newPosition(t, 202, 100)
	require.ErrorIs(t, e.gpd.Update(ctx, testOrg, unknown), gpd.ErrNotFound)
	status, body = e.pay(t, mustNAV(t, 201), "")
	require.Equal(t, http.StatusOK, status, "%s", body)
	require.ErrorIs(t, e.gpd.Update(ctx, testOrg, p), gpd.ErrConflict, "paid")
	require.NoError(t, e.gpd.Invalidate(ctx, testOrg, reuse.IUPD))
	require.ErrorIs(t, e.gpd.Update(ctx, testOrg, reuse), gpd.ErrConflict, "invalid")

	// The IUPD of the path and of the body must agree.
	resp, body := e.do(t, http.MethodPut, pagopasim.GPDBasePath+"/organizations/"+testOrg+"/debtpositions/IUPD-ELSE?toPublish=true", p)
	require.Equal(t, http.StatusBadRequest, resp.StatusCode, "%s", body)
}

func TestInvalidatePosition(t *testing.T) {
	t.Parallel()
	e := start(t)
	ctx := context.Background()
	nav := e.register(t, 300, 5000)
	require.NoError(t, e.gpd.Invalidate(ctx, testOrg, "IUPD-300"))
	require.Equal(t, "INVALID", e.status(t, "IUPD-300"))

	status, body := e.pay(t, nav, "")
	require.Equal(t, http.StatusUnprocessableEntity, status, "%s", body)
	require.Contains(t, string(body), pagopa.FaultCancelledPayment)
	require.Empty(t, e.ec.Calls())

	require.ErrorIs(t, e.gpd.Invalidate(ctx, testOrg, "IUPD-300"), gpd.ErrConflict, "already invalid")
	require.ErrorIs(t, e.gpd.Invalidate(ctx, testOrg, "IUPD-NONE"), gpd.ErrNotFound)
	e.register(t, 301, 5000)
	status, body = e.pay(t, mustNAV(t, 301), "")
	require.Equal(t, http.StatusOK, status, "%s", body)
	require.ErrorIs(t, e.gpd.Invalidate(ctx, testOrg, "IUPD-301"), gpd.ErrConflict, "paid")
}

func TestMarkPaid(t *testing.T) {
	t.Parallel()
	e := start(t)
	ctx := context.Background()
	nav := e.register(t, 400, 5000)
	paid := gpd.Paid{Date: time.Now(), Method: "SDD", PSPCompany: "Banca di Esempio"}

	require.NoError(t, e.gpd.MarkPaid(ctx, testOrg, nav, paid))
	require.Equal(t, "PAID", e.status(t, "IUPD-400"))
	require.ErrorIs(t, e.gpd.MarkPaid(ctx, testOrg, nav, paid), gpd.ErrConflict)

	// A PSP can no longer collect it.
	status, body := e.pay(t, nav, "")
	require.Equal(t, http.StatusConflict, status, "%s", body)
	require.Contains(t, string(body), pagopa.FaultDuplicatePayment)

	require.ErrorIs(t, e.gpd.MarkPaid(ctx, testOrg, mustNAV(t, 401), paid), gpd.ErrNotFound)
	require.ErrorIs(t, e.gpd.MarkPaid(ctx, "11111111111", nav, paid), gpd.ErrNotFound, "the notice of another organization")

	e.register(t, 402, 5000)
	require.NoError(t, e.gpd.Invalidate(ctx, testOrg, "IUPD-402"))
	require.ErrorIs(t, e.gpd.MarkPaid(ctx, testOrg, mustNAV(t, 402), paid), gpd.ErrRejected, "invalid: 422")
}

func TestExpiredPosition(t *testing.T) {
	t.Parallel()
	e := start(t)
	ctx := context.Background()
	for i, expire := range []bool{true, false} {
		p := newPosition(t, int64(500+i), 5000)
		p.SwitchToExpired = expire
		p.PaymentOptions[0].DueDate = time.Now().Add(-time.Hour)
		require.NoError(t, e.gpd.CreateAndPublish(ctx, testOrg, p))
		status, body := e.pay(t, mustNAV(t, int64(500+i)), "")
		if !expire {
			require.Equal(t, http.StatusOK, status, "a position that does not expire stays payable: %s", body)
			continue
		}
		require.Equal(t, "EXPIRED", e.status(t, p.IUPD))
		require.Equal(t, http.StatusUnprocessableEntity, status, "%s", body)
		require.Contains(t, string(body), pagopa.FaultExpiredPayment)
		require.ErrorIs(t, e.gpd.Update(ctx, testOrg, p), gpd.ErrConflict)
	}
}

func TestFaults(t *testing.T) {
	t.Parallel()
	e := start(t)
	ctx := context.Background()
	e.register(t, 600, 5000)

	// Two failures, then GPD answers: a client retrying four times gets through.
	require.NoError(t, e.sim.InjectFaults(pagopasim.Faults{Count: 2, Status: http.StatusServiceUnavailable}))
	retrying := gpd.New(e.url+pagopasim.GPDBasePath, testKey, time.Second,
		gpd.WithRetry(gpd.RetryPolicy{Attempts: 4, Initial: time.Millisecond, Max: time.Millisecond}))
	_, err := retrying.Get(ctx, testOrg, "IUPD-600")
	require.NoError(t, err)
	_, err = e.gpd.Get(ctx, testOrg, "IUPD-600")
	require.NoError(t, err, "the faults are used up")

	// Over HTTP: 429 with Retry-After, on the receipts API too.
	resp, body := e.do(t, http.MethodPost, "/sim/faults", pagopasim.Faults{Count: 2, Status: http.StatusTooManyRequests, RetryAfter: 7})
	require.Equal(t, http.StatusNoContent, resp.StatusCode, "%s", body)
	for _, path := range []string{
		pagopasim.GPDBasePath + "/organizations/" + testOrg + "/debtpositions/IUPD-600",
		pagopasim.ReceiptsBasePath + "/payments/" + testOrg + "/receipts/" + mustNAV(t, 600)[1:],
	} {
		resp, body = e.do(t, http.MethodGet, path, nil)
		require.Equal(t, http.StatusTooManyRequests, resp.StatusCode, "%s", body)
		require.Equal(t, "7", resp.Header.Get("Retry-After"))
	}
	_, err = e.gpd.Get(ctx, testOrg, "IUPD-600")
	require.NoError(t, err)

	// Latency: a client with a shorter timeout gives up, until the faults are cleared.
	require.NoError(t, e.sim.InjectFaults(pagopasim.Faults{LatencyMS: 300}))
	impatient := gpd.New(e.url+pagopasim.GPDBasePath, testKey, 50*time.Millisecond, gpd.WithRetry(gpd.RetryPolicy{Attempts: 1}))
	_, err = impatient.Get(ctx, testOrg, "IUPD-600")
	require.Error(t, err)
	require.NotErrorIs(t, err, gpd.ErrNotFound)
	start := time.Now()
	_, err = e.gpd.Get(ctx, testOrg, "IUPD-600")
	require.NoError(t, err)
	require.GreaterOrEqual(t, time.Since(start), 300*time.Millisecond)
	resp, _ = e.do(t, http.MethodDelete, "/sim/faults", nil)
	require.Equal(t, http.StatusNoContent, resp.StatusCode)
	_, err = impatient.Get(ctx, testOrg, "IUPD-600")
	require.NoError(t, err)

	// Faults never touch the PSP side.
	require.NoError(t, e.sim.InjectFaults(pagopasim.Faults{Count: 1, Status: http.StatusInternalServerError}))
	status, body := e.pay(t, mustNAV(t, 600), "")
	require.Equal(t, http.StatusOK, status, "%s", body)
	e.sim.ClearFaults()

	for _, bad := range []string{`{"count":1}`, `{"count":1,"status":200}`, `{"latencyMs":-1}`, `{"count":-1}`, `{"delay":5}`, `{`} {
		req, err := http.NewRequestWithContext(ctx, http.MethodPost, e.url+"/sim/faults", strings.NewReader(bad))
		require.NoError(t, err)
		resp, err := http.DefaultClient.Do(req)
		require.NoError(t, err)
		resp.Body.Close()
		require.Equal(t, http.StatusBadRequest, resp.StatusCode, bad)
	}
	require.ErrorIs(t, e.sim.InjectFaults(pagopasim.Faults{Count: 1, Status: 302}), pagopasim.ErrInvalidFaults)
}
