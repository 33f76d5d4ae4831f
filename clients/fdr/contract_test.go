package fdr_test

import (
	"context"
	"encoding/json"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"incasso/clients/fdr"
	"incasso/devstack/contracttest"
	"incasso/devstack/pagopasim"
	"incasso/domain/date"
	"incasso/domain/money"
	"incasso/domain/pagopa"
)

const (
	testKey = "test-subscription-key"
	testOrg = "00000000000"
)

// paid pays n notices unknown to GPD for the organization, receipts never pushed, and returns
// their receipt ids by IUV.
func paid(t *testing.T, p *pagopasim.PagoPA, n int) map[string]string {
	t.Helper()
	ids := map[string]string{}
	for i := range n {
		nav, err := pagopa.NewNAV(1, int64(1000+i))
		require.NoError(t, err)
		res, err := p.Pay(context.Background(), pagopasim.Payment{NAV: nav.String(), Organization: testOrg,
			Amount: money.Cents(1000 + i), Undelivered: true})
		require.NoError(t, err)
		ids[nav.IUV()] = res.ReceiptID
	}
	return ids
}

// TestContract lists, gets and pages a flow against the simulator behind the FdR spec: every
// request the client sends and every answer of the simulator must match it.
func TestContract(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	p := pagopasim.NewPagoPA(testKey, "http://127.0.0.1:1/unused", "node-key", testOrg, testOrg+"_01")
	ct := contracttest.Serve(t, p.Handler(), testKey, map[string]string{pagopasim.FdRBasePath: "fdr-organization.json"})
	c := fdr.New(ct.URL+pagopasim.FdRBasePath, testKey, 5*time.Second)

	ids := paid(t, p, 5)
	today := date.InRome(time.Now())
	published, err := p.PublishFlows(pagopasim.FlowFaults{Date: today})
	require.NoError(t, err)
	require.Len(t, published, 1, "one PSP: one flow")
	pf := published[0]
	require.Equal(t, pagopasim.RemittancePrefix+pf.FlowID, pf.Remittance)
	require.Regexp(t, `^\d{4}-\d{2}-\d{2}BCITITMM-\d{7}$`, pf.FlowID, "date + PSP id + progressive")
	require.Equal(t, money.Cents(5*1000+0+1+2+3+4), pf.TotalCents)

	refs, page, err := c.ListFlows(ctx, testOrg, today.Time().AddDate(0, 0, -1), 1, 10)
	require.NoError(t, err, "%v", ct.Mismatches())
	require.True(t, page.Last())
	require.Equal(t, []fdr.FlowRef{{FlowID: pf.FlowID, PSPID: pf.PSPID, Revision: 1, Published: refs[0].Published, FlowDate: pf.FlowDate.Time()}}, refs)

	flow, err := c.GetFlow(ctx, testOrg, pf.FlowID, 1, pf.PSPID)
	require.NoError(t, err, "%v", ct.Mismatches())
	require.Equal(t, pf.TotalCents, flow.SumPaymentsCents)
	require.EqualValues(t, 5, flow.TotPayments)
	require.True(t, json.Valid(flow.Raw))

	// Two pages of 3 and 2.
	var got []fdr.Payment
	for n := 1; ; n++ {
		ps, page, raw, err := c.Payments(ctx, testOrg, pf.FlowID, 1, pf.PSPID, n, 3)
		require.NoError(t, err, "%v", ct.Mismatches())
		require.NotEmpty(t, raw)
		got = append(got, ps...)
		if page.Last() {
			require.Equal(t, 2, n)
			break
		}
	}
	require.Len(t, got, 5)
	for i, pay := range got {
		require.EqualValues(t, i+1, pay.Index)
		require.Equal(t, ids[pay.IUV], pay.IUR, "the IUR is the receipt id")
		require.Equal(t, "EXECUTED", pay.PayStatus)
		require.Equal(t, 1, pay.TransferIdx)
	}

	_, err = c.GetFlow(ctx, testOrg, pf.FlowID, 2, pf.PSPID)
	require.ErrorIs(t, err, fdr.ErrNotFound)
	require.Empty(t, ct.Mismatches())
}

// TestContractCatchesMismatches proves the validator is not vacuous: a page too large breaks
// the spec, and so does a wrong key.
func TestContractCatchesMismatches(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	p := pagopasim.NewPagoPA(testKey, "http://127.0.0.1:1/unused", "node-key", testOrg, testOrg+"_01")
	ct := contracttest.Serve(t, p.Handler(), testKey, map[string]string{pagopasim.FdRBasePath: "fdr-organization.json"})

	_, _, err := fdr.New(ct.URL+pagopasim.FdRBasePath, testKey, 5*time.Second).ListFlows(ctx, testOrg, time.Now(), 1, 5000)
	require.ErrorIs(t, err, fdr.ErrRejected)
	require.Len(t, ct.Mismatches(), 1)
	require.Contains(t, ct.Mismatches()[0], "size")

	_, _, err = fdr.New(ct.URL+pagopasim.FdRBasePath, "wrong-key", 5*time.Second).ListFlows(ctx, testOrg, time.Now(), 1, 5)
	require.ErrorIs(t, err, fdr.ErrRejected)
	require.Len(t, ct.Mismatches(), 2, "the subscription key is checked")
}

func TestCents(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]money.Cents{"12": 1200, "12.5": 1250, "12.50": 1250, "0.01": 1} {
		got, err := fdr.Cents(json.Number(in))
		require.NoError(t, err, in)
		require.Equal(t, want, got, in)
	}
	for _, bad := range []string{"-1.00", "1.234", "1e3", ""} {
		_, err := fdr.Cents(json.Number(bad))
		require.Error(t, err, bad)
	}
}
