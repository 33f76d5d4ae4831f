package pain002_test

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"incasso/domain/date"
	"incasso/domain/sepa/internal/isoxml/isoxmltest"
	"incasso/domain/sepa/pain002"
)

// sample is a report of a partially accepted file: one transaction of the first payment
// information rejected, the second payment information rejected as a whole.
func sample() pain002.Report {
	return pain002.Report{
		MsgID: "STS-20260303-000042", Created: time.Date(2026, 3, 3, 7, 15, 2, 0, date.Rome),
		OriginalMsgID: "INC-20260302-1", OriginalMsgName: "pain.008.001.08", GroupStatus: pain002.PART,
		PaymentInfos: []pain002.PaymentInfoStatus{{
			OriginalPmtInfID: "INC-20260302-1-FRST", Status: pain002.PART,
			Transactions: []pain002.TransactionStatus{{OriginalEndToEndID: "TARI2026-000001-R1", Status: pain002.RJCT, Reason: "AM04"}},
		}, {
			OriginalPmtInfID: "INC-20260302-1-RCUR", Status: pain002.RJCT, Reason: "RC01",
		}},
	}
}

func parseFile(t *testing.T, name string) pain002.Report {
	t.Helper()
	data, err := os.ReadFile(filepath.Join("testdata", name))
	require.NoError(t, err)
	r, err := pain002.Parse(data)
	require.NoError(t, err)
	r.Created = r.Created.In(date.Rome)
	return r
}

func TestParseBankReport(t *testing.T) {
	t.Parallel()
	got := parseFile(t, "bank.03.xml")
	want := sample()
	want.Created = want.Created.Add(123 * time.Millisecond) // zone-less: Rome time
	require.Equal(t, want, got)
}

// TestParseProprietaryReason: a reason the bank gives as Rsn/Prtry, without Rsn/Cd, is read
// as pain002.Proprietary and the bank's code, which no ISO code can be mistaken for (not even
// a proprietary "AM04"), and written back as Rsn/Prtry.
func TestParseProprietaryReason(t *testing.T) {
	t.Parallel()
	got := parseFile(t, "prtry.03.xml")
	require.Equal(t, pain002.Report{
		MsgID: "STS-20260303-000043", Created: time.Date(2026, 3, 3, 7, 15, 2, 0, date.Rome),
		OriginalMsgID: "INC-20260302-1", OriginalMsgName: "pain.008.001.08", GroupStatus: pain002.PART,
		PaymentInfos: []pain002.PaymentInfoStatus{{
			OriginalPmtInfID: "INC-20260302-1-FRST", Status: pain002.PART,
			Transactions: []pain002.TransactionStatus{
				{OriginalEndToEndID: "TARI2026-000001-R1", Status: pain002.RJCT, Reason: pain002.Proprietary + "CBI-0123"},
				{OriginalEndToEndID: "TARI2026-000002-R1", Status: pain002.RJCT, Reason: pain002.Proprietary + "AM04"},
			},
		}, {
			OriginalPmtInfID: "INC-20260302-1-RCUR", Status: pain002.RJCT, Reason: pain002.Proprietary + "X99",
		}},
	}, got)
	status, reason := got.StatusOf("INC-20260302-1-RCUR", "TARI2026-000003-R2")
	require.Equal(t, pain002.RJCT, status)
	require.Equal(t, "PRTRY:X99", reason)

	var buf bytes.Buffer
	require.NoError(t, pain002.Write(&buf, got))
	require.Contains(t, buf.String(), "<Rsn>\n            <Prtry>CBI-0123</Prtry>")
	again, err := pain002.Parse(buf.Bytes())
	require.NoError(t, err)
	again.Created = again.Created.In(date.Rome)
	require.Equal(t, got, again)

	for _, bad := range []string{pain002.Proprietary, pain002.Proprietary + strings.Repeat("X", 36), pain002.Proprietary + "A\tB"} {
		r := got
		r.PaymentInfos = []pain002.PaymentInfoStatus{{OriginalPmtInfID: "P", Status: pain002.RJCT, Reason: bad}}
		var pe *pain002.Error
		require.ErrorAs(t, pain002.Write(&bytes.Buffer{}, r), &pe, "%q", bad)
		require.Equal(t, `OrgnlPmtInfAndSts[OrgnlPmtInfId="P"]/StsRsnInf/Rsn/Prtry`, pe.Path)
		if text := bad[len(pain002.Proprietary):]; text != "" {
			require.NotContains(t, pe.Error(), text, "the bank's text is not echoed")
		}
	}
}

func TestWriteGoldenAndRoundTrip(t *testing.T) {
	t.Parallel()
	var buf bytes.Buffer
	require.NoError(t, pain002.Write(&buf, sample()))
	isoxmltest.RequireGolden(t, "sample.10.xml", buf.Bytes())
	require.Contains(t, buf.String(), `<Document xmlns="urn:iso:std:iso:20022:tech:xsd:pain.002.001.10">`)
	require.Equal(t, sample(), parseFile(t, "sample.10.xml"))

	// Only a group status, and a file rejected as a whole.
	for _, r := range []pain002.Report{
		{MsgID: "S1", Created: sample().Created, OriginalMsgID: "M", OriginalMsgName: "pain.008.001.02", GroupStatus: pain002.ACCP},
		{MsgID: "S2", Created: sample().Created, OriginalMsgID: "M", OriginalMsgName: "pain.008.001.08", GroupStatus: pain002.RJCT, GroupReason: "FF01"},
	} {
		buf.Reset()
		require.NoError(t, pain002.Write(&buf, r))
		got, err := pain002.Parse(buf.Bytes())
		require.NoError(t, err)
		got.Created = got.Created.In(date.Rome)
		require.Equal(t, r, got)
	}
}

func TestParseErrors(t *testing.T) {
	t.Parallel()
	var buf bytes.Buffer
	require.NoError(t, pain002.Write(&buf, sample()))
	good := buf.String()
	for _, tc := range []struct{ old, new, want string }{
		{"pain.002.001.10", "pain.002.001.13", "is not the Document of pain.002.001.03 to .001.12"},
		{"pain.002.001.10", "pain.008.001.08", "is not the Document of pain.002.001.03 to .001.12"},
		{"</CstmrPmtStsRpt>", "</CstmrPmtStsRpt2>", "closed by </CstmrPmtStsRpt2>"},
		{"CstmrPmtStsRpt", "CstmrPmtStsRpX", "Document/CstmrPmtStsRpt is missing"},
		{"<MsgId>STS-20260303-000042</MsgId>", "", "GrpHdr/MsgId is missing"},
		{"<MsgId>STS-20260303-000042</MsgId>", "<MsgId>" + strings.Repeat("9", 36) + "</MsgId>", "GrpHdr/MsgId is longer than 35 characters"},
		{"<CreDtTm>2026-03-03T07:15:02+01:00</CreDtTm>", "<CreDtTm>03/03/2026</CreDtTm>", "GrpHdr/CreDtTm is not an ISO date and time"},
		{"<OrgnlMsgId>INC-20260302-1</OrgnlMsgId>", "<OrgnlMsgId> </OrgnlMsgId>", "OrgnlGrpInfAndSts/OrgnlMsgId is missing"},
		{"<OrgnlMsgNmId>pain.008.001.08</OrgnlMsgNmId>", "", "OrgnlGrpInfAndSts/OrgnlMsgNmId is missing"},
		{"<GrpSts>PART</GrpSts>", "<GrpSts>OKAY</GrpSts>", `OrgnlGrpInfAndSts/GrpSts "OKAY" is not a status code`},
		{"<PmtInfSts>RJCT</PmtInfSts>", "<PmtInfSts>rjct</PmtInfSts>", `OrgnlPmtInfAndSts[OrgnlPmtInfId="INC-20260302-1-RCUR"]/PmtInfSts "rjct" is not a status code`},
		{"<TxSts>RJCT</TxSts>", "<TxSts>PART</TxSts>", "TxSts is PART, a status of groups and payment informations"},
		{"<TxSts>RJCT</TxSts>", "", `TxInfAndSts[OrgnlEndToEndId="TARI2026-000001-R1"]/TxSts is missing`},
		{"<Cd>AM04</Cd>", "<Prtry> </Prtry>", `OrgnlPmtInfAndSts[OrgnlPmtInfId="INC-20260302-1-FRST"]/TxInfAndSts[OrgnlEndToEndId="TARI2026-000001-R1"]/StsRsnInf/Rsn/Cd is missing: a rejected transaction has a reason code`},
		{"<Cd>AM04</Cd>", "<Cd>am04</Cd>", `"am04" is not a reason code of 4 capital letters or digits`},
		{"<Cd>RC01</Cd>", "<Cd>RC001</Cd>", `"RC001" is not a reason code`},
		{"<GrpSts>PART</GrpSts>", "<StsRsnInf><Rsn><Cd>FF01</Cd></Rsn></StsRsnInf>", "gives a reason without a status (GrpSts)"},
		{"<OrgnlEndToEndId>TARI2026-000001-R1</OrgnlEndToEndId>", "", `TxInfAndSts[1]/OrgnlEndToEndId is missing`},
		{"INC-20260302-1-RCUR", "INC-20260302-1-FRST", `OrgnlPmtInfAndSts[OrgnlPmtInfId="INC-20260302-1-FRST"] is listed twice`},
		{"</TxInfAndSts>", "</TxInfAndSts><TxInfAndSts><OrgnlEndToEndId>TARI2026-000001-R1</OrgnlEndToEndId><TxSts>ACCP</TxSts></TxInfAndSts>", `TxInfAndSts[OrgnlEndToEndId="TARI2026-000001-R1"] is listed twice`},
		{"</Document>", "</Document>\ntrailing", "pain002: text outside the root element"}, // one of isoxml's
	} {
		require.Contains(t, good, tc.old)
		_, err := pain002.Parse([]byte(strings.ReplaceAll(good, tc.old, tc.new)))
		require.ErrorContains(t, err, tc.want)
	}

	_, err := pain002.Parse(make([]byte, pain002.MaxSize+1))
	require.ErrorContains(t, err, "more than")
	_, err = pain002.Parse(nil)
	require.Error(t, err)
}

func TestWriteRejectsInvalid(t *testing.T) {
	t.Parallel()
	r := sample()
	r.PaymentInfos[0].Transactions[0].Reason = ""
	var pe *pain002.Error
	require.ErrorAs(t, pain002.Write(&bytes.Buffer{}, r), &pe)
	require.Equal(t, `OrgnlPmtInfAndSts[OrgnlPmtInfId="INC-20260302-1-FRST"]/TxInfAndSts[OrgnlEndToEndId="TARI2026-000001-R1"]/StsRsnInf/Rsn/Cd`, pe.Path)
	require.Error(t, pain002.Write(&bytes.Buffer{}, pain002.Report{MsgID: "S", OriginalMsgID: "M", OriginalMsgName: "pain.008.001.08"}), "no creation time")
}

func TestStatusOf(t *testing.T) {
	t.Parallel()
	r := sample()
	accepted := r
	accepted.GroupStatus, accepted.PaymentInfos = pain002.ACCP, nil
	rejected := r
	rejected.GroupStatus, rejected.GroupReason = pain002.RJCT, "FF01"
	partialPmt := r
	partialPmt.PaymentInfos = []pain002.PaymentInfoStatus{{OriginalPmtInfID: "INC-20260302-1-FRST", Status: pain002.ACTC}}
	silent := r
	silent.GroupStatus = ""
	for _, tc := range []struct {
		name           string
		r              pain002.Report
		pmt, e2e       string
		status, reason string
	}{
		{"listed", r, "INC-20260302-1-FRST", "TARI2026-000001-R1", pain002.RJCT, "AM04"},
		{"not listed in a PART payment information of a PART group", r, "INC-20260302-1-FRST", "TARI2026-000002-R1", pain002.ACCP, ""},
		{"payment information rejected", r, "INC-20260302-1-RCUR", "TARI2026-000003-R2", pain002.RJCT, "RC01"},
		{"listed under another payment information only", r, "INC-20260302-1-RCUR", "TARI2026-000001-R1", pain002.RJCT, "RC01"},
		{"payment information not listed", r, "OTHER", "X", pain002.ACCP, ""},
		{"group accepted", accepted, "INC-20260302-1-FRST", "TARI2026-000001-R1", pain002.ACCP, ""},
		{"group rejected, listed with its own reason", rejected, "INC-20260302-1-FRST", "TARI2026-000001-R1", pain002.RJCT, "AM04"},
		{"group rejected, not listed", rejected, "INC-20260302-1-FRST", "TARI2026-000002-R1", pain002.RJCT, "FF01"},
		{"payment information status", partialPmt, "INC-20260302-1-FRST", "TARI2026-000002-R1", pain002.ACTC, ""},
		{"no group status", silent, "OTHER", "X", "", ""},
	} {
		status, reason := tc.r.StatusOf(tc.pmt, tc.e2e)
		require.Equal(t, tc.status, status, tc.name)
		require.Equal(t, tc.reason, reason, tc.name)
	}
}

func FuzzParse(f *testing.F) {
	created := func(r *pain002.Report) *time.Time { return &r.Created }
	isoxmltest.Fuzz(f, pain002.Parse, pain002.Write, created, func(t *testing.T, r pain002.Report) {
		// Invariants of an accepted report.
		require.NotEmpty(t, r.MsgID)
		require.NotEmpty(t, r.OriginalMsgID)
		known := func(status, reason string) {
			require.Contains(t, []string{"", "ACCP", "ACSC", "ACSP", "ACTC", "ACWC", "PART", "PDNG", "RCVD", "RJCT"}, status)
			require.Regexp(t, `^([A-Z0-9]{4}|PRTRY:\S.{0,34})?$`, reason)
		}
		known(r.GroupStatus, r.GroupReason)
		seen := map[string]bool{}
		for _, p := range r.PaymentInfos {
			known(p.Status, p.Reason)
			for _, tx := range p.Transactions {
				known(tx.Status, tx.Reason)
				require.False(t, seen[tx.OriginalEndToEndID], "duplicate %q", tx.OriginalEndToEndID)
				seen[tx.OriginalEndToEndID] = true
				require.NotContains(t, []string{"", pain002.PART}, tx.Status)
				if tx.Status == pain002.RJCT {
					require.NotEmpty(t, tx.Reason)
				}
				status, _ := r.StatusOf(p.OriginalPmtInfID, tx.OriginalEndToEndID)
				require.NotEmpty(t, status)
			}
		}
	})
}
