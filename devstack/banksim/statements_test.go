package banksim_test

import (
	"bytes"
	"context"
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"incasso/devstack/banksim"
	"incasso/devstack/fakeclock"
	"incasso/devstack/sddtest"
	"incasso/devstack/specs"
	"incasso/domain/date"
	"incasso/domain/money"
	"incasso/domain/sepa/camt053"
	"incasso/domain/sepa/pain008"
)

// The statement books the collection file's credit net of rejects, the flows credited (one
// split in two), and a return; the next day's statement opens at the closing balance and
// holds only what was booked since.
func TestStatements(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	clk := fakeclock.New(time.Date(2026, 3, 17, 10, 0, 0, 0, date.Rome))
	url, gw := testBank(t, banksim.Config{Now: clk.Now, Delay: time.Minute})
	call(t, "POST", url+"/sim/bank/rules", banksim.Rule{MandateID: "MND-2", Code: "AM04"}, http.StatusNoContent)
	txs := sddtest.Transactions("E2E", 3)
	var total, rejected money.Cents
	for _, tx := range txs {
		total += tx.Amount
		if tx.MandateID == "MND-2" {
			rejected = tx.Amount
		}
	}
	require.NotZero(t, rejected)
	require.NoError(t, gw.Submit(ctx, "MSG-1", bytes.NewReader(sddtest.Pain008(t, pain008.V08, "MSG-1", txs))))
	clk.Advance(time.Minute)
	call(t, "POST", url+"/sim/bank/credits", banksim.Credit{FlowID: "2026-03-16PSP1-S0001", AmountCents: 12050}, http.StatusCreated)
	call(t, "POST", url+"/sim/bank/credits", banksim.Credit{FlowID: "2026-03-16PSP2-S0001", AmountCents: 1001, Split: 2}, http.StatusCreated)
	call(t, "POST", url+"/sim/bank/returns", banksim.Return{EndToEndID: "E2E-1", Reason: "MD06", Refund: true}, http.StatusCreated)
	call(t, "POST", url+"/sim/bank/credits", banksim.Credit{FlowID: "has space", AmountCents: 1}, http.StatusBadRequest)
	call(t, "POST", url+"/sim/bank/credits", banksim.Credit{FlowID: "F", AmountCents: 1, Split: 2}, http.StatusBadRequest)

	day := date.Date{Year: 2026, Month: time.March, Day: 17}
	call(t, "POST", url+"/sim/bank/statements", banksim.CloseDay{Date: day}, http.StatusCreated)
	docs, err := gw.Statements(ctx, "", 10)
	require.NoError(t, err)
	require.Len(t, docs, 1)
	specs.RequireValid(t, docs[0].XML, "sepa", "camt.053.001.08.xsd")
	s, err := camt053.Parse(docs[0].XML)
	require.NoError(t, err)
	require.Equal(t, day, s.Date)
	require.Zero(t, s.Opening)
	got := map[camt053.Kind][]money.Cents{}
	for _, e := range s.Entries {
		got[e.Kind] = append(got[e.Kind], e.Amount)
	}
	require.Equal(t, map[camt053.Kind][]money.Cents{
		camt053.SDDBatch:   {total - rejected},
		camt053.FlowCredit: {12050, 500, 501},
		camt053.SDDReturn:  {txs[0].Amount},
	}, got)
	require.Equal(t, "MSG-1", s.Entries[0].BatchMsgID)
	require.Equal(t, total-rejected+12050+1001-txs[0].Amount, s.Closing)

	// The next day: one credit, the balance carried.
	clk.Advance(24 * time.Hour)
	call(t, "POST", url+"/sim/bank/credits", banksim.Credit{FlowID: "2026-03-17PSP1-S0001", AmountCents: 700}, http.StatusCreated)
	call(t, "POST", url+"/sim/bank/statements", banksim.CloseDay{Date: date.Date{Year: 2026, Month: time.March, Day: 18}}, http.StatusCreated)
	docs, err = gw.Statements(ctx, docs[0].ID, 10)
	require.NoError(t, err)
	require.Len(t, docs, 1)
	next, err := camt053.Parse(docs[0].XML)
	require.NoError(t, err)
	require.Equal(t, s.Closing, next.Opening)
	require.Len(t, next.Entries, 1)
	require.Equal(t, "2026-03-17PSP1-S0001", next.Entries[0].FlowID)
	require.NotEqual(t, s.MsgID, next.MsgID)
}

// The flows of Config.Flows are credited once, on the first statement after they appear,
// but for the faults: a missing credit never comes, a split credit comes in two bookings.
func TestStatementsCreditFlows(t *testing.T) {
	t.Parallel()
	clk := fakeclock.New(time.Date(2026, 3, 17, 10, 0, 0, 0, date.Rome))
	flows := []banksim.Credit{{FlowID: "F-1", AmountCents: 1000}, {FlowID: "F-2", AmountCents: 2000}, {FlowID: "F-3", AmountCents: 3001}}
	url, gw := testBank(t, banksim.Config{Now: clk.Now, Flows: func() []banksim.Credit { return flows }})
	day := date.Date{Year: 2026, Month: time.March, Day: 17}
	call(t, "POST", url+"/sim/bank/statements", banksim.CloseDay{Date: day, Missing: []string{"F-2"}, Split: []string{"F-3"}}, http.StatusCreated)
	flows = append(flows, banksim.Credit{FlowID: "F-4", AmountCents: 400})
	day.Day++
	call(t, "POST", url+"/sim/bank/statements", banksim.CloseDay{Date: day}, http.StatusCreated)

	docs, err := gw.Statements(context.Background(), "", 0)
	require.NoError(t, err)
	require.Len(t, docs, 2)
	credits := func(xml []byte) map[string][]money.Cents {
		s, err := camt053.Parse(xml)
		require.NoError(t, err)
		out := map[string][]money.Cents{}
		for _, e := range s.Entries {
			out[e.FlowID] = append(out[e.FlowID], e.Amount)
		}
		return out
	}
	require.Equal(t, map[string][]money.Cents{"F-1": {1000}, "F-3": {1500, 1501}}, credits(docs[0].XML))
	require.Equal(t, map[string][]money.Cents{"F-4": {400}}, credits(docs[1].XML), "each flow once; the missing one never")
}
