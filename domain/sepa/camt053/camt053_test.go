package camt053_test

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"incasso/devstack/specs"
	"incasso/domain/date"
	"incasso/domain/sepa/camt053"
	"incasso/domain/sepa/internal/isoxml/isoxmltest"
)

func day(y int, m time.Month, d int) date.Date { return date.Date{Year: y, Month: m, Day: d} }

// sample is a day of the treasury account: two flows credited, an SDD file credited in one
// booking, a return debited and a fee.
func sample() camt053.Statement {
	d := day(2026, time.March, 17)
	return camt053.Statement{
		MsgID: "STM-20260317-0001", Created: time.Date(2026, 3, 18, 6, 0, 0, 0, date.Rome),
		ID: "STM-20260317", IBAN: "IT60X0542811101000000123456", Date: d,
		Opening: 100000, Closing: 100000 + 12050 + 7500 + 32000 - 12000 - 250,
		Entries: []camt053.Entry{
			{Ref: "BK-1", Kind: camt053.FlowCredit, Amount: 12050, Credit: true, BookingDate: d,
				Remittance: "/PUR/LGPE-RIVERSAMENTO/URI/2026-03-16ABI03069-S0001", FlowID: "2026-03-16ABI03069-S0001"},
			{Ref: "BK-2", Kind: camt053.FlowCredit, Amount: 7500, Credit: true, BookingDate: d,
				Remittance: "/PUR/LGPE-RIVERSAMENTO/URI/2026-03-16UNCRITMM-S0007", FlowID: "2026-03-16UNCRITMM-S0007"},
			{Ref: "BK-3", Kind: camt053.SDDBatch, Amount: 32000, Credit: true, BookingDate: d,
				BatchMsgID: "INC-20260317-1", PmtInfID: "INC-20260317-1-P1"},
			{Ref: "BK-4", Kind: camt053.SDDReturn, Amount: 12000, BookingDate: d,
				EndToEndIDs: []string{"INC-12-3-1", "INC-14-1-1"}},
			{Ref: "BK-5", Kind: camt053.Other, Amount: 250, BookingDate: d, Remittance: "Commissioni"},
		},
	}
}

func parse(t *testing.T, data []byte) camt053.Statement {
	t.Helper()
	s, err := camt053.Parse(data)
	require.NoError(t, err)
	s.Created = s.Created.In(date.Rome)
	return s
}

func TestWriteGoldenAndRoundTrip(t *testing.T) {
	t.Parallel()
	var buf bytes.Buffer
	require.NoError(t, camt053.Write(&buf, sample()))
	isoxmltest.RequireGolden(t, "sample.08.xml", buf.Bytes())
	require.Contains(t, buf.String(), `<Document xmlns="urn:iso:std:iso:20022:tech:xsd:camt.053.001.08">`)
	specs.RequireValid(t, buf.Bytes(), "sepa", "camt.053.001.08.xsd")
	require.Equal(t, sample(), parse(t, buf.Bytes()))

	// A day without entries.
	buf.Reset()
	empty := sample()
	empty.Entries, empty.Closing = nil, empty.Opening
	require.NoError(t, camt053.Write(&buf, empty))
	specs.RequireValid(t, buf.Bytes(), "sepa", "camt.053.001.08.xsd")
	require.Equal(t, empty, parse(t, buf.Bytes()))

	// A debit balance.
	buf.Reset()
	overdrawn := empty
	overdrawn.Opening, overdrawn.Closing = -500, -500
	require.NoError(t, camt053.Write(&buf, overdrawn))
	require.Equal(t, overdrawn, parse(t, buf.Bytes()))
}

// A bank's statement: .001.02, a pending entry, booking dates as date and time, a flow's
// credit with the reference split over two Ustrd and the SDD credit coded BBDD.
func TestParseBankStatement(t *testing.T) {
	t.Parallel()
	data, err := os.ReadFile(filepath.Join("testdata", "bank.02.xml"))
	require.NoError(t, err)
	d := day(2026, time.March, 17)
	require.Equal(t, camt053.Statement{
		MsgID: "STM-20260317-0001", Created: time.Date(2026, 3, 18, 6, 0, 0, 0, date.Rome),
		ID: "STM-20260317", IBAN: "IT60X0542811101000000123456", Date: d, Opening: -1000, Closing: 40550,
		Entries: []camt053.Entry{
			{Ref: "0317-000001", Kind: camt053.FlowCredit, Amount: 12050, Credit: true, BookingDate: d,
				Remittance: "/PUR/LGPE-RIVERSAMENTO/URI/2026-03-16ABI03069-S0001", FlowID: "2026-03-16ABI03069-S0001"},
			{Ref: "0317-000002", Kind: camt053.SDDBatch, Amount: 32000, Credit: true, BookingDate: d,
				BatchMsgID: "INC-20260317-1", PmtInfID: "INC-20260317-1-P1"},
			{Ref: "0317-000004", Kind: camt053.SDDReturn, Amount: 2500, BookingDate: day(2026, time.March, 18),
				EndToEndIDs: []string{"INC-12-3-1"}},
		},
	}, parse(t, data))
}

func TestFlowIDOf(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]string{
		"/PUR/LGPE-RIVERSAMENTO/URI/2026-03-16ABI03069-S0001":           "2026-03-16ABI03069-S0001",
		"  /PUR/LGPE-RIVERSAMENTO/URI/2026-03-16ABI03069-S0001 saldo  ": "2026-03-16ABI03069-S0001",
		"/PUR/LGPE-RIVERSAMENTO/URI/":                                   "",
		"PUR/LGPE-RIVERSAMENTO/URI/X":                                   "",
		"Rimborso":                                                      "",
	} {
		require.Equal(t, want, camt053.FlowIDOf(in), in)
	}
}

func TestParseErrors(t *testing.T) {
	t.Parallel()
	var buf bytes.Buffer
	require.NoError(t, camt053.Write(&buf, sample()))
	good := buf.String()
	for _, tc := range []struct{ old, new, want string }{
		{"camt.053.001.08", "camt.053.001.11", "is not the Document of camt.053.001.02 to .001.10"},
		{"camt.053.001.08", "camt.054.001.08", "is not the Document of camt.053.001.02 to .001.10"},
		{"<BkToCstmrStmt>", "<BkToCstmrStmtX>", "closed by </BkToCstmrStmt>"},
		{"<MsgId>STM-20260317-0001</MsgId>", "", "GrpHdr/MsgId is missing"},
		{"<CreDtTm>2026-03-18T06:00:00+01:00</CreDtTm>", "<CreDtTm>2026-03-18</CreDtTm>", "GrpHdr/CreDtTm is not an ISO date and time"},
		{"<Id>STM-20260317</Id>", "<Id></Id>", "Stmt/Id is missing"},
		{"IT60X0542811101000000123456", "IT61X0542811101000000123456", "Stmt/Acct/Id/IBAN is not a valid IBAN"},
		{"<Cd>OPBD</Cd>", "<Cd>PRCD</Cd>", "Stmt/Bal[OPBD] is missing"},
		{"<Cd>CLBD</Cd>", "<Cd>CLAV</Cd>", "Stmt/Bal[CLBD] is missing"},
		{`<Amt Ccy="EUR">1393.00</Amt>`, `<Amt Ccy="EUR">1393.01</Amt>`, "Stmt/Bal[CLBD]/Amt is 1393.01 EUR but the opening balance and the booked entries make 1393.00 EUR"},
		{"<AcctSvcrRef>BK-2</AcctSvcrRef>", "<AcctSvcrRef>BK-1</AcctSvcrRef>", `Stmt/Ntry[2]/AcctSvcrRef "BK-1" is listed twice`},
		{"<AcctSvcrRef>BK-2</AcctSvcrRef>", "", "Stmt/Ntry[2]/AcctSvcrRef is missing"},
		{`<Amt Ccy="EUR">75.00</Amt>`, `<Amt Ccy="CHF">75.00</Amt>`, `Stmt/Ntry[2]/Amt/@Ccy is "CHF", not EUR`},
		{`<Amt Ccy="EUR">120.50</Amt>`, `<Amt Ccy="EUR">120.5</Amt>`, "Stmt/Ntry[1]/Amt is not an amount with two decimals"},
		{"<CdtDbtInd>CRDT</CdtDbtInd>\n        <Sts>", "<CdtDbtInd>CREDIT</CdtDbtInd>\n        <Sts>", `Stmt/Ntry[1]/CdtDbtInd is "CREDIT", not CRDT or DBIT`},
		{"<MsgId>INC-20260317-1</MsgId>", "", "Stmt/Ntry[3]/NtryDtls/Btch/MsgId is missing"},
		{"<Btch>", "<BtchX>", "closed by"},
		{"<EndToEndId>INC-12-3-1</EndToEndId>", "<EndToEndId></EndToEndId>", "Stmt/Ntry[4]/NtryDtls/TxDtls[1]/Refs/EndToEndId is missing"},
		{"</Document>", "</Document>?", "camt053: text outside the root element"},
	} {
		require.Contains(t, good, tc.old)
		_, err := camt053.Parse([]byte(strings.Replace(good, tc.old, tc.new, 1)))
		require.ErrorContains(t, err, tc.want, tc.new)
	}

	// A pending entry is not booked: dropping its status's BOOK is a balance that does not add up.
	pending := strings.Replace(good, "<Cd>BOOK</Cd>", "<Cd>PDNG</Cd>", 1)
	_, err := camt053.Parse([]byte(pending))
	require.ErrorContains(t, err, "Stmt/Bal[CLBD]/Amt is 1393.00 EUR but the opening balance and the booked entries make 1272.50 EUR")

	_, err = camt053.Parse(make([]byte, camt053.MaxSize+1))
	require.ErrorContains(t, err, "more than")
}

func TestWriteRejectsInvalid(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		change func(*camt053.Statement)
		want   string
	}{
		{func(s *camt053.Statement) { s.Entries[0].FlowID = "OTHER" }, `Stmt/Ntry[1]/NtryDtls/TxDtls[1]/RmtInf/Ustrd names flow "2026-03-16ABI03069-S0001", not "OTHER"`},
		{func(s *camt053.Statement) { s.Entries[0].Credit = false }, "Stmt/Ntry[1]/CdtDbtInd is DBIT: a flow's transfer is a credit"},
		{func(s *camt053.Statement) { s.Entries[3].EndToEndIDs = nil }, "Stmt/Ntry[4]/NtryDtls/TxDtls is missing: a return names its collections"},
		{func(s *camt053.Statement) {
			s.Entries[4].Remittance = s.Entries[0].Remittance
			s.Entries[4].Credit = true
			s.Closing += 500
		}, "Stmt/Ntry[5]/NtryDtls/TxDtls[1]/RmtInf/Ustrd names a flow"},
		{func(s *camt053.Statement) { s.Entries[4].FlowID = "X" }, "Stmt/Ntry[5] has references of another kind of entry"},
		{func(s *camt053.Statement) { s.Entries[4].Kind = "FEE" }, `Stmt/Ntry[5] is of kind "FEE"`},
		{func(s *camt053.Statement) { s.Entries[2].Amount = 0 }, "Stmt/Ntry[3]/Amt must be 0.01"},
		{func(s *camt053.Statement) { s.Closing++ }, "Stmt/Bal[CLBD]/Amt is"},
		{func(s *camt053.Statement) { s.Date = date.Date{} }, "Stmt/Bal/Dt is not a valid date"},
	} {
		s := sample()
		tc.change(&s)
		var ce *camt053.Error
		err := camt053.Write(&bytes.Buffer{}, s)
		require.ErrorAs(t, err, &ce)
		require.ErrorContains(t, err, tc.want)
	}
}

func FuzzParse(f *testing.F) {
	created := func(s *camt053.Statement) *time.Time { return &s.Created }
	isoxmltest.Fuzz(f, camt053.Parse, camt053.Write, created, func(t *testing.T, s camt053.Statement) {
		// Invariants of an accepted statement.
		require.NotEmpty(t, s.MsgID)
		sum := s.Opening
		refs := map[string]bool{}
		for _, e := range s.Entries {
			require.False(t, refs[e.Ref], "duplicate %q", e.Ref)
			refs[e.Ref] = true
			require.Positive(t, e.Amount)
			if e.Credit {
				sum += e.Amount
			} else {
				sum -= e.Amount
			}
			switch e.Kind {
			case camt053.FlowCredit:
				require.True(t, e.Credit)
				require.Equal(t, e.FlowID, camt053.FlowIDOf(e.Remittance))
			case camt053.SDDBatch:
				require.NotEmpty(t, e.BatchMsgID)
			case camt053.SDDReturn:
				require.NotEmpty(t, e.EndToEndIDs)
			}
		}
		require.Equal(t, s.Closing, sum)
	})
}
