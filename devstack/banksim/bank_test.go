package banksim_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"incasso/clients/bankgw"
	"incasso/devstack/banksim"
	"incasso/devstack/fakeclock"
	"incasso/devstack/jsontest"
	"incasso/devstack/sddtest"
	"incasso/domain/date"
	"incasso/domain/sepa/pain002"
	"incasso/domain/sepa/pain008"
)

const testKey = "test-api-key"

// testBank serves a simulated bank with cfg and returns its URL and a gateway to it.
func testBank(t *testing.T, cfg banksim.Config) (string, *bankgw.HTTP) {
	t.Helper()
	if cfg.APIKey == "" {
		cfg.APIKey = testKey
	}
	cfg.Logger = slog.New(slog.DiscardHandler)
	srv := httptest.NewServer(banksim.New(cfg).Handler())
	t.Cleanup(srv.Close)
	return srv.URL, bankgw.NewHTTP(srv.URL, cfg.APIKey, 10*time.Second)
}

// call makes a request with a JSON body (if v is not nil), requires the status and
// returns the body of the answer.
func call(t *testing.T, method, url string, v any, status int) []byte {
	t.Helper()
	_, data := jsontest.Call(t, method, url, v, status)
	return data
}

// rejects submits file to a new bank with cfg and returns the reason of every rejected
// transaction by EndToEndId.
func rejects(t *testing.T, cfg banksim.Config, msgID string, file []byte) map[string]string {
	t.Helper()
	ctx := context.Background()
	clk := fakeclock.New(time.Date(2026, 3, 2, 10, 0, 0, 0, date.Rome))
	cfg.Now = clk.Now
	_, gw := testBank(t, cfg)
	require.NoError(t, gw.Submit(ctx, msgID, bytes.NewReader(file)))
	clk.Advance(cfg.Delay + 2*time.Second)
	raw, err := gw.StatusReport(ctx, msgID)
	require.NoError(t, err)
	rep, err := pain002.Parse(raw)
	require.NoError(t, err)
	out := map[string]string{}
	for _, pi := range rep.PaymentInfos {
		for _, tx := range pi.Transactions {
			require.Equal(t, "RJCT", tx.Status)
			out[tx.OriginalEndToEndID] = tx.Reason
		}
	}
	return out
}

func count(rejects map[string]string, code string) int {
	n := 0
	for _, c := range rejects {
		if c == code {
			n++
		}
	}
	return n
}

// Rates draw the same rejects for the same seed, whatever the bank instance and the order of
// the transactions, at about the configured rates.
func TestSeededRatesAreReproducible(t *testing.T) {
	t.Parallel()
	cfg := banksim.Config{Seed: 42, RejectRates: map[string]float64{"AM04": 0.1, "MD01": 0.05}}
	txs := sddtest.Transactions("E2E", 2000)
	first := rejects(t, cfg, "MSG-1", sddtest.Pain008(t, pain008.V08, "MSG-1", txs))
	require.Equal(t, first, rejects(t, cfg, "MSG-1", sddtest.Pain008(t, pain008.V08, "MSG-1", txs)), "another bank, the same seed")

	reversed := slices.Clone(txs)
	slices.Reverse(reversed)
	require.Equal(t, first, rejects(t, cfg, "MSG-2", sddtest.Pain008(t, pain008.V08, "MSG-2", reversed)), "another order")

	// 2000 draws: AM04 ~ 200 (sd 13), MD01 among the rest ~ 90 (sd 9).
	require.InDelta(t, 200, count(first, "AM04"), 50)
	require.InDelta(t, 90, count(first, "MD01"), 35)
	require.Len(t, first, count(first, "AM04")+count(first, "MD01"))

	cfg.Seed = 43
	require.NotEqual(t, first, rejects(t, cfg, "MSG-1", sddtest.Pain008(t, pain008.V08, "MSG-1", txs)), "another seed")
}

func TestEveryTransactionRejected(t *testing.T) {
	t.Parallel()
	cfg := banksim.Config{RejectRates: map[string]float64{"AC04": 1}}
	got := rejects(t, cfg, "MSG-1", sddtest.Pain008(t, pain008.V02, "MSG-1", sddtest.Transactions("E2E", 3)))
	require.Equal(t, map[string]string{"E2E-1": "AC04", "E2E-2": "AC04", "E2E-3": "AC04"}, got)
}

// Rules reject the next transactions of their mandate, or of any with "*", in the order they
// were added, across files; DELETE forgets them. The summary tells what happened.
func TestRulesAndFilesSummary(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	clk := fakeclock.New(time.Date(2026, 3, 2, 10, 0, 0, 0, date.Rome))
	url, gw := testBank(t, banksim.Config{Now: clk.Now, Delay: time.Minute})
	call(t, "POST", url+"/sim/bank/rules", banksim.Rule{MandateID: "MND-3", Code: "MD01", Times: 2}, http.StatusNoContent)
	call(t, "POST", url+"/sim/bank/rules", banksim.Rule{MandateID: "*", Code: "MS03"}, http.StatusNoContent)

	submit := func(msgID string, p pain008.Profile) {
		require.NoError(t, gw.Submit(ctx, msgID, bytes.NewReader(sddtest.Pain008(t, p, msgID, sddtest.Transactions(msgID, 3)))))
	}
	submit("MSG-1", pain008.V08) // 1: MS03 (any), 3: MD01
	submit("MSG-2", pain008.V02) // 3: MD01, its last time
	call(t, "DELETE", url+"/sim/bank/rules", nil, http.StatusNoContent)
	call(t, "POST", url+"/sim/bank/file-reject", banksim.FileReject{Code: "FF01", Times: 2}, http.StatusNoContent)
	call(t, "DELETE", url+"/sim/bank/rules", nil, http.StatusNoContent)
	submit("MSG-3", pain008.V08) // nothing left
	clk.Advance(time.Minute)

	raw, err := gw.StatusReport(ctx, "MSG-1")
	require.NoError(t, err)
	rep, err := pain002.Parse(raw)
	require.NoError(t, err)
	require.Equal(t, []pain002.TransactionStatus{
		{OriginalEndToEndID: "MSG-1-1", Status: "RJCT", Reason: "MS03"},
		{OriginalEndToEndID: "MSG-1-3", Status: "RJCT", Reason: "MD01"},
	}, rep.PaymentInfos[0].Transactions)
	raw, err = gw.StatusReport(ctx, "MSG-2")
	require.NoError(t, err)
	rep, err = pain002.Parse(raw)
	require.NoError(t, err)
	require.Equal(t, "pain.008.001.02", rep.OriginalMsgName)

	var files []banksim.FileSummary
	require.NoError(t, json.Unmarshal(call(t, "GET", url+"/sim/bank/files", nil, http.StatusOK), &files))
	for i := range files {
		require.True(t, clk.Now().Add(-time.Minute).Equal(files[i].Received), "%v", files[i].Received)
		files[i].Received = time.Time{}
	}
	require.Equal(t, []banksim.FileSummary{
		{MsgID: "MSG-1", Transactions: 3, Rejected: 2, Rejects: map[string]int{"MD01": 1, "MS03": 1}, Status: "PART", Ready: true},
		{MsgID: "MSG-2", Transactions: 3, Rejected: 1, Rejects: map[string]int{"MD01": 1}, Status: "PART", Ready: true},
		{MsgID: "MSG-3", Transactions: 3, Rejected: 0, Status: "ACCP", Ready: true},
	}, files)
}

func TestControlsRefuseNonsense(t *testing.T) {
	t.Parallel()
	url, _ := testBank(t, banksim.Config{})
	for _, c := range []struct{ path, body string }{
		{"/sim/bank/rules", `{"mandateId":"MND-1","code":"insufficient funds"}`},
		{"/sim/bank/rules", `{"code":"AM04"}`},
		{"/sim/bank/rules", `{"mandateId":"MND-1","code":"AM04","times":-1}`},
		{"/sim/bank/rules", `{"mandateId":"MND-1","code":"AM04","when":"now"}`},
		{"/sim/bank/file-reject", `{"code":"FF1"}`},
		{"/sim/bank/returns", `{"endToEndId":"E2E-1"}`},
		{"/sim/bank/returns", `not JSON`},
	} {
		resp, err := http.Post(url+c.path, "application/json", strings.NewReader(c.body))
		require.NoError(t, err)
		resp.Body.Close()
		require.Equal(t, http.StatusBadRequest, resp.StatusCode, "%s %s", c.path, c.body)
	}
}

func TestNotificationsPaging(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	clk := fakeclock.New(time.Date(2026, 3, 2, 10, 0, 0, 0, date.Rome))
	url, gw := testBank(t, banksim.Config{Now: clk.Now})
	require.NoError(t, gw.Submit(ctx, "MSG-1", bytes.NewReader(sddtest.Pain008(t, pain008.V08, "MSG-1", sddtest.Transactions("E2E", 3)))))
	clk.Advance(2 * time.Second)
	var ids []string
	for i := 1; i <= 3; i++ {
		var created struct{ ID string }
		require.NoError(t, json.Unmarshal(call(t, "POST", url+"/sim/bank/returns", banksim.Return{EndToEndID: fmt.Sprintf("E2E-%d", i), Reason: "AM04"}, http.StatusCreated), &created))
		ids = append(ids, created.ID)
	}
	require.True(t, slices.IsSorted(ids))

	page, err := gw.Notifications(ctx, "", 2)
	require.NoError(t, err)
	require.Equal(t, ids[:2], []string{page[0].ID, page[1].ID})
	page, err = gw.Notifications(ctx, page[1].ID, 2)
	require.NoError(t, err)
	require.Len(t, page, 1)
	require.Equal(t, ids[2], page[0].ID)
	all, err := gw.Notifications(ctx, "", 0)
	require.NoError(t, err)
	require.Len(t, all, 3, "the bank's default limit")

	req, err := http.NewRequest("GET", url+"/bank/notifications?limit=5000", nil)
	require.NoError(t, err)
	req.Header.Set("Authorization", "Bearer "+testKey)
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	resp.Body.Close()
	require.Equal(t, http.StatusBadRequest, resp.StatusCode)
}

func TestAPIKey(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, configured, presented string
		status                      int
	}{
		{"configured key", "secret", "secret", http.StatusOK},
		{"other key", "secret", "guess", http.StatusUnauthorized},
		{"any key accepted", "", "anything", http.StatusOK},
		{"no key", "", "", http.StatusUnauthorized},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			srv := httptest.NewServer(banksim.New(banksim.Config{APIKey: tt.configured, Logger: slog.New(slog.DiscardHandler)}).Handler())
			t.Cleanup(srv.Close)
			req, err := http.NewRequest("GET", srv.URL+"/bank/notifications", nil)
			require.NoError(t, err)
			if tt.presented != "" {
				req.Header.Set("Authorization", "Bearer "+tt.presented)
			}
			resp, err := http.DefaultClient.Do(req)
			require.NoError(t, err)
			resp.Body.Close()
			require.Equal(t, tt.status, resp.StatusCode)
		})
	}
}
