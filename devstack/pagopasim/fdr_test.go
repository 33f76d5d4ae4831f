package pagopasim

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"incasso/domain/date"
	"incasso/domain/pagopa"
	"incasso/domain/target2"
)

// The controls: publish a day's flows with faults, list them with their totals; bad input is
// a 400 naming what is wrong, and changes nothing.
func TestFlowControls(t *testing.T) {
	t.Parallel()
	p := NewPagoPA("key", "http://127.0.0.1:1/unused", "node-key", "00000000000", "00000000000_01")
	srv := httptest.NewServer(p.Handler())
	defer srv.Close()
	for i, psp := range []string{"", "", "UNCRITMM"} {
		nav, err := pagopa.NewNAV(1, int64(500+i))
		require.NoError(t, err)
		_, err = p.Pay(context.Background(), Payment{NAV: nav.String(), Organization: "00000000000", Amount: 1000, Undelivered: true, PSP: psp})
		require.NoError(t, err)
	}
	post := func(body string) (*http.Response, []byte) {
		resp, err := http.Post(srv.URL+"/sim/fdr/publish", "application/json", strings.NewReader(body))
		require.NoError(t, err)
		defer resp.Body.Close()
		var b json.RawMessage
		_ = json.NewDecoder(resp.Body).Decode(&b)
		return resp, b
	}
	resp, body := post(`{"date":"2026-12-07","daysLate":99}`)
	require.Equal(t, http.StatusBadRequest, resp.StatusCode)
	require.Contains(t, string(body), "daysLate")
	resp, _ = post(`{"date":"2026-12-07","typo":true}`)
	require.Equal(t, http.StatusBadRequest, resp.StatusCode)
	require.Empty(t, p.Flows())

	today := date.InRome(time.Now())
	resp, body = post(`{"date":"` + today.String() + `","psp":"UNCRITMM","daysLate":2}`)
	require.Equal(t, http.StatusOK, resp.StatusCode, string(body))
	var flows []PublishedFlow
	require.NoError(t, json.Unmarshal(body, &flows))
	require.Len(t, flows, 1, "only the PSP asked for")
	require.Equal(t, "UNCRITMM", flows[0].PSPID)
	require.Equal(t, 3, target2.BusinessDaysBetween(today, flows[0].FlowDate), "the next business day, 2 late")
	resp, body = post(`{"date":"` + today.String() + `"}`)
	require.Equal(t, http.StatusOK, resp.StatusCode, string(body))
	require.NoError(t, json.Unmarshal(body, &flows))
	require.Len(t, flows, 1, "the other PSP's, the first one's not again")
	require.EqualValues(t, 2000, flows[0].TotalCents)
	require.Equal(t, RemittancePrefix+flows[0].FlowID, flows[0].Remittance)

	r, err := http.Get(srv.URL + "/sim/fdr/flows")
	require.NoError(t, err)
	defer r.Body.Close()
	var all []PublishedFlow
	require.NoError(t, json.NewDecoder(r.Body).Decode(&all))
	require.Len(t, all, 2)
}
