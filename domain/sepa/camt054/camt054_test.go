package camt054_test

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
	"incasso/domain/sepa/camt054"
	"incasso/domain/sepa/internal/isoxml/isoxmltest"
)

func day(y int, m time.Month, d int) date.Date { return date.Date{Year: y, Month: m, Day: d} }

// sample is a notification of an unpaid collection and of a refund.
func sample() camt054.Notification {
	return camt054.Notification{
		MsgID: "NTF-20260316-0001", Created: time.Date(2026, 3, 16, 6, 0, 0, 0, date.Rome),
		Returns: []camt054.Return{
			{EndToEndID: "TARI2026-000001-R1", Amount: 12050, Reason: "AM04", BookingDate: day(2026, time.March, 13)},
			{EndToEndID: "TARI2025-000417-R1", Amount: 7500, Reason: "MD01", Refund: true, BookingDate: day(2026, time.March, 16)},
		},
	}
}

func parse(t *testing.T, data []byte) camt054.Notification {
	t.Helper()
	n, err := camt054.Parse(data)
	require.NoError(t, err)
	n.Created = n.Created.In(date.Rome)
	return n
}

func TestParseBankNotification(t *testing.T) {
	t.Parallel()
	data, err := os.ReadFile(filepath.Join("testdata", "bank.02.xml"))
	require.NoError(t, err)
	want := sample()
	want.Returns = []camt054.Return{
		want.Returns[0], // booked at 00:30 on the 14th in Rome, 23:30 UTC on the 13th
		{EndToEndID: "TARI2026-000002-R1", Amount: 9999, Reason: "MD06", Refund: true, BookingDate: day(2026, time.March, 14)},
		want.Returns[1],
	}
	want.Returns[0].BookingDate = day(2026, time.March, 14)
	want.Returns[1].BookingDate = want.Returns[0].BookingDate
	require.Equal(t, want, parse(t, data))
}

func TestWriteGoldenAndRoundTrip(t *testing.T) {
	t.Parallel()
	var buf bytes.Buffer
	require.NoError(t, camt054.Write(&buf, sample()))
	isoxmltest.RequireGolden(t, "sample.08.xml", buf.Bytes())
	require.Contains(t, buf.String(), `<Document xmlns="urn:iso:std:iso:20022:tech:xsd:camt.054.001.08">`)
	specs.RequireValid(t, buf.Bytes(), "sepa", "camt.054.001.08.xsd")
	require.Equal(t, sample(), parse(t, buf.Bytes()))

	// No returns at all.
	buf.Reset()
	empty := camt054.Notification{MsgID: "NTF-0", Created: sample().Created}
	require.NoError(t, camt054.Write(&buf, empty))
	require.Equal(t, empty, parse(t, buf.Bytes()))
}

func TestMD06IsARefund(t *testing.T) {
	t.Parallel()
	n := sample()
	n.Returns = n.Returns[:1]
	n.Returns[0].Reason = "MD06"
	var buf bytes.Buffer
	require.NoError(t, camt054.Write(&buf, n))
	require.Contains(t, buf.String(), "<SubFmlyCd>UPDD</SubFmlyCd>")
	require.True(t, parse(t, buf.Bytes()).Returns[0].Refund)
}

func TestParseErrors(t *testing.T) {
	t.Parallel()
	var buf bytes.Buffer
	require.NoError(t, camt054.Write(&buf, sample()))
	good := buf.String()
	const tx1 = "Ntfctn[1]/Ntry[1]/NtryDtls/TxDtls[1]"
	for _, tc := range []struct{ old, new, want string }{
		{"camt.054.001.08", "camt.054.001.11", "is not the Document of camt.054.001.02 to .001.10"},
		{"camt.054.001.08", "camt.053.001.08", "is not the Document of camt.054.001.02 to .001.10"},
		{"BkToCstmrDbtCdtNtfctn", "BkToCstmrStmt", "Document/BkToCstmrDbtCdtNtfctn is missing"},
		{"</BkToCstmrDbtCdtNtfctn>", "</BkToCstmrDbtCdtNtfctnX>", "closed by </BkToCstmrDbtCdtNtfctnX>"},
		{"<MsgId>NTF-20260316-0001</MsgId>", "", "GrpHdr/MsgId is missing"},
		{"<CreDtTm>2026-03-16T06:00:00+01:00</CreDtTm>", "<CreDtTm>2026-03-16</CreDtTm>", "GrpHdr/CreDtTm is not an ISO date and time"},
		{"<CreDtTm>2026-03-16T06:00:00+01:00</CreDtTm>", "<CreDtTm>1800-03-16T06:00:00Z</CreDtTm>", "GrpHdr/CreDtTm is not a time of the years 1900 to 9999"},
		{`<Amt Ccy="EUR">120.50</Amt>`, `<Amt Ccy="EUR">120.5</Amt>`, "Ntfctn[1]/Ntry[1]/Amt is not an amount with two decimals"},
		{`<Amt Ccy="EUR">75.00</Amt>`, `<Amt Ccy="CHF">75.00</Amt>`, `Ntfctn[1]/Ntry[2]/Amt/@Ccy is "CHF", not EUR`},
		{"<CdtDbtInd>DBIT</CdtDbtInd>", "<CdtDbtInd>CRDT</CdtDbtInd>", `Ntfctn[1]/Ntry[1]/CdtDbtInd is "CRDT": a return or refund is DBIT`},
		{"<Dt>2026-03-13</Dt>", "<Dt>13/03/2026</Dt>", "Ntfctn[1]/Ntry[1]/BookgDt/Dt is not a date"},
		{"<Dt>2026-03-13</Dt>", "", "Ntfctn[1]/Ntry[1]/BookgDt is missing or not a date"},
		{"<EndToEndId>TARI2026-000001-R1</EndToEndId>", "", tx1 + "/Refs/EndToEndId is missing"},
		{"TARI2025-000417-R1", "TARI2026-000001-R1", `Ntfctn[1]/Ntry[2]/NtryDtls/TxDtls[1]/Refs/EndToEndId "TARI2026-000001-R1" is listed twice`},
		{"<Cd>AM04</Cd>", "<Prtry>AM04</Prtry>", tx1 + "/RtrInf/Rsn/Cd is missing: a return has a reason code"},
		{"<Cd>AM04</Cd>", "<Cd>AM4</Cd>", `"AM4" is not a reason code of 4 capital letters or digits`},
		{`<Amt Ccy="EUR">120.50</Amt>` + "\n            <CdtDbtInd>", `<Amt Ccy="EUR">120.49</Amt>` + "\n            <CdtDbtInd>", "Ntfctn[1]/Ntry[1]/Amt is 120.50 EUR but its transactions add up to 120.49 EUR"},
		{`<Amt Ccy="EUR">120.50</Amt>`, `<Amt Ccy="EUR">0.00</Amt>`, tx1 + "/Amt must be 0.01 to 999999999.99 EUR"},
		{"<NtryDtls>", "<NtryDtlsX>", "closed by"},
		{"</Document>", "</Document>?", "camt054: text outside the root element"}, // one of isoxml's
	} {
		require.Contains(t, good, tc.old)
		_, err := camt054.Parse([]byte(strings.ReplaceAll(good, tc.old, tc.new)))
		require.ErrorContains(t, err, tc.want, tc.new)
	}

	// A transaction without its own amount takes the entry's only when it is the only one.
	noAmt := strings.Replace(good, `<Amt Ccy="EUR">120.50</Amt>`+"\n            <CdtDbtInd>DBIT</CdtDbtInd>", "", 1)
	require.Equal(t, sample(), parse(t, []byte(noAmt)))
	two := strings.Replace(noAmt, "</TxDtls>", "</TxDtls><TxDtls><Refs><EndToEndId>X</EndToEndId></Refs></TxDtls>", 1)
	_, err := camt054.Parse([]byte(two))
	require.ErrorContains(t, err, tx1+"/Amt is missing, and the entry has several transactions")

	_, err = camt054.Parse(make([]byte, camt054.MaxSize+1))
	require.ErrorContains(t, err, "more than")
}

func TestWriteRejectsInvalid(t *testing.T) {
	t.Parallel()
	n := sample()
	n.Returns[1].Reason = ""
	var ce *camt054.Error
	require.ErrorAs(t, camt054.Write(&bytes.Buffer{}, n), &ce)
	require.Equal(t, "Ntfctn[1]/Ntry[2]/NtryDtls/TxDtls[1]/RtrInf/Rsn/Cd", ce.Path)
	n = sample()
	n.Returns[0].BookingDate = date.Date{}
	require.ErrorContains(t, camt054.Write(&bytes.Buffer{}, n), "Ntfctn[1]/Ntry[1]/BookgDt is not a valid date")
}

func FuzzParse(f *testing.F) {
	created := func(n *camt054.Notification) *time.Time { return &n.Created }
	isoxmltest.Fuzz(f, camt054.Parse, camt054.Write, created, func(t *testing.T, n camt054.Notification) {
		// Invariants of an accepted notification.
		require.NotEmpty(t, n.MsgID)
		seen := map[string]bool{}
		for _, r := range n.Returns {
			require.False(t, seen[r.EndToEndID], "duplicate %q", r.EndToEndID)
			seen[r.EndToEndID] = true
			require.Regexp(t, `^[A-Z0-9]{4}$`, r.Reason)
			require.True(t, r.Amount > 0 && r.Amount < 100_000_000_000)
			require.False(t, r.BookingDate.IsZero())
			if r.Reason == "MD06" {
				require.True(t, r.Refund)
			}
		}
	})
}
