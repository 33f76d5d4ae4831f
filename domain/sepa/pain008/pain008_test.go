package pain008_test

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"incasso/devstack/specs"
	"incasso/domain/date"
	"incasso/domain/money"
	"incasso/domain/sepa/internal/isoxml/isoxmltest"
	"incasso/domain/sepa/pain008"
)

var created = time.Date(2026, 3, 2, 9, 30, 0, 0, date.Rome)

func day(y int, m time.Month, d int) date.Date { return date.Date{Year: y, Month: m, Day: d} }

// sample is a file of two payment informations: a FRST one with a known creditor BIC and a
// RCUR one without. Its text is already SEPA Latin, so it comes back from Parse unchanged.
func sample() pain008.File {
	first := pain008.Batch{
		PaymentInfo: pain008.PaymentInfo{
			ID: "INC-20260302-1-FRST", SequenceType: "FRST", CollectionDate: day(2026, time.March, 10),
			CreditorName: "Comune di Esempio", CreditorIBAN: "IT60X0542811101000000123456",
			CreditorBIC: "BPMOIT22XXX", CreditorID: "IT85ZZZ0000080016350821",
		},
		Transactions: []pain008.Transaction{{
			EndToEndID: "TARI2026-000001-R1", Amount: 12050, MandateID: "MND-000001",
			MandateSigned: day(2026, time.January, 15), DebtorName: "Niccolo D'Amico",
			DebtorIBAN: "IT98Z1234512345123456789012", DebtorBIC: "UNCRITMMXXX",
			RemittanceInfo: "TARI 2026 rata 1/2 - avviso 302000000000000001",
		}, {
			EndToEndID: "TARI2026-000002-R1", Amount: 9999, MandateID: "MND-000002",
			MandateSigned: day(2026, time.February, 1), DebtorName: "Giulia Bianchi",
			DebtorIBAN:     "DE89370400440532013000",
			RemittanceInfo: "TARI 2026 rata 1/2",
		}},
	}
	recurring := pain008.Batch{
		PaymentInfo: pain008.PaymentInfo{
			ID: "INC-20260302-1-RCUR", SequenceType: "RCUR", CollectionDate: day(2026, time.March, 10),
			CreditorName: "Comune di Esempio", CreditorIBAN: "IT60X0542811101000000123456",
			CreditorID: "IT85ZZZ0000080016350821",
		},
		Transactions: []pain008.Transaction{{
			EndToEndID: "TARI2026-000003-R2", Amount: 100, MandateID: "MND-000003",
			MandateSigned: day(2025, time.June, 1), DebtorName: "Lucia Esposito",
			DebtorIBAN: "IT24D0542811101000000654321",
		}},
	}
	return withTotals(pain008.File{MsgID: "INC-20260302-1", Created: created, PaymentInfos: []pain008.Batch{first, recurring}})
}

// withTotals sets the declared totals of f and its payment informations to what they hold.
func withTotals(f pain008.File) pain008.File {
	f.NbOfTxs, f.CtrlSum = 0, 0
	for i := range f.PaymentInfos {
		b := &f.PaymentInfos[i]
		b.NbOfTxs, b.CtrlSum = 0, 0
		for _, tx := range b.Transactions {
			b.NbOfTxs++
			b.CtrlSum += tx.Amount
		}
		f.NbOfTxs += b.NbOfTxs
		f.CtrlSum += b.CtrlSum
	}
	return f
}

// write writes f with a Writer of profile p, declaring the totals f declares.
func write(p pain008.Profile, f pain008.File) ([]byte, error) {
	var buf bytes.Buffer
	w, err := pain008.NewWriter(&buf, p, pain008.GroupHeader{
		MsgID: f.MsgID, Created: f.Created, NbOfTxs: f.NbOfTxs, CtrlSum: f.CtrlSum, InitiatingParty: "Comune di Esempio",
	})
	if err != nil {
		return nil, err
	}
	for _, b := range f.PaymentInfos {
		if err := w.StartPaymentInfo(b.PaymentInfo); err != nil {
			return nil, err
		}
		for _, tx := range b.Transactions {
			if err := w.Add(tx); err != nil {
				return nil, err
			}
		}
	}
	err = w.Close()
	return buf.Bytes(), err
}

var xsd = map[pain008.Profile]string{V08: "pain.008.001.08.xsd", V02: "pain.008.001.02.xsd"}

const (
	V08 = pain008.V08
	V02 = pain008.V02
)

// mustWrite writes f and checks the document against the profile's XSD.
func mustWrite(t *testing.T, p pain008.Profile, f pain008.File) []byte {
	t.Helper()
	doc, err := write(p, f)
	require.NoError(t, err)
	specs.RequireValid(t, doc, "sepa", xsd[p])
	return doc
}

// inRome returns f with its creation time in Rome, to compare files with require.Equal.
func inRome(f pain008.File) pain008.File {
	f.Created = f.Created.In(date.Rome)
	return f
}

func TestGolden(t *testing.T) {
	t.Parallel()
	for p, name := range map[pain008.Profile]string{V08: "sample.08.xml", V02: "sample.02.xml"} {
		isoxmltest.RequireGolden(t, name, mustWrite(t, p, sample()))
	}
}

// compact removes the indentation between elements.
func compact(doc []byte) string {
	return regexp.MustCompile(`>\s+<`).ReplaceAllString(string(doc), "><")
}

func TestContent(t *testing.T) {
	t.Parallel()
	for _, p := range []pain008.Profile{V08, V02} {
		doc := compact(mustWrite(t, p, sample()))
		bic := map[pain008.Profile]string{V08: "BICFI", V02: "BIC"}[p]
		for _, want := range []string{
			`<Document xmlns="urn:iso:std:iso:20022:tech:xsd:` + strings.TrimSuffix(xsd[p], ".xsd") + `">`,
			"<CreDtTm>2026-03-02T09:30:00+01:00</CreDtTm><NbOfTxs>3</NbOfTxs><CtrlSum>221.49</CtrlSum>",
			"<InitgPty><Nm>Comune di Esempio</Nm></InitgPty>",
			"<PmtInfId>INC-20260302-1-FRST</PmtInfId><PmtMtd>DD</PmtMtd><BtchBookg>true</BtchBookg>" +
				"<NbOfTxs>2</NbOfTxs><CtrlSum>220.49</CtrlSum>" +
				"<PmtTpInf><SvcLvl><Cd>SEPA</Cd></SvcLvl><LclInstrm><Cd>CORE</Cd></LclInstrm><SeqTp>FRST</SeqTp></PmtTpInf>" +
				"<ReqdColltnDt>2026-03-10</ReqdColltnDt><Cdtr><Nm>Comune di Esempio</Nm></Cdtr>" +
				"<CdtrAcct><Id><IBAN>IT60X0542811101000000123456</IBAN></Id></CdtrAcct>" +
				"<CdtrAgt><FinInstnId><" + bic + ">BPMOIT22XXX</" + bic + "></FinInstnId></CdtrAgt><ChrgBr>SLEV</ChrgBr>" +
				"<CdtrSchmeId><Id><PrvtId><Othr><Id>IT85ZZZ0000080016350821</Id><SchmeNm><Prtry>SEPA</Prtry></SchmeNm>" +
				"</Othr></PrvtId></Id></CdtrSchmeId>",
			"<DrctDbtTxInf><PmtId><EndToEndId>TARI2026-000001-R1</EndToEndId></PmtId>" +
				`<InstdAmt Ccy="EUR">120.50</InstdAmt>` +
				"<DrctDbtTx><MndtRltdInf><MndtId>MND-000001</MndtId><DtOfSgntr>2026-01-15</DtOfSgntr></MndtRltdInf></DrctDbtTx>" +
				"<DbtrAgt><FinInstnId><" + bic + ">UNCRITMMXXX</" + bic + "></FinInstnId></DbtrAgt>" +
				"<Dbtr><Nm>Niccolo D&#39;Amico</Nm></Dbtr><DbtrAcct><Id><IBAN>IT98Z1234512345123456789012</IBAN></Id></DbtrAcct>" +
				"<RmtInf><Ustrd>TARI 2026 rata 1/2 - avviso 302000000000000001</Ustrd></RmtInf></DrctDbtTxInf>",
			"<SeqTp>RCUR</SeqTp>", "<CdtrAgt><FinInstnId><Othr><Id>NOTPROVIDED</Id></Othr></FinInstnId></CdtrAgt>",
			"<DbtrAgt><FinInstnId><Othr><Id>NOTPROVIDED</Id></Othr></FinInstnId></DbtrAgt><Dbtr><Nm>Giulia Bianchi</Nm>",
			"<IBAN>IT24D0542811101000000654321</IBAN></Id></DbtrAcct></DrctDbtTxInf>", // no RmtInf without remittance text
		} {
			require.Contains(t, doc, want)
		}
		require.Equal(t, 2, strings.Count(doc, "<PmtInf>"))
	}
}

// TestTransliteration checks that names and remittance text are written as sepa.Transliterate
// turns them, the EPC rules of the SEPA Latin set: '&', which is not in it, becomes '+'; the
// hyphen-minus '-' is in it and stays, the other dashes and '_' become it.
func TestTransliteration(t *testing.T) {
	t.Parallel()
	f := sample()
	tx := &f.PaymentInfos[0].Transactions[0]
	tx.DebtorName = "  Niccolò  D’Amico & Figli <S.r.l.> "
	tx.RemittanceInfo = "Più € di così: «TARI»\n2026 – rata 1/2 - IMU_2025 — saldo"
	f.PaymentInfos[0].CreditorName = "Città di Forlì"
	doc := mustWrite(t, V08, f)
	require.Contains(t, string(doc), "<Nm>Niccolo D&#39;Amico + Figli S.r.l.</Nm>")
	require.Contains(t, string(doc), "<Ustrd>Piu EUR di cosi: &#39;TARI&#39; 2026 - rata 1/2 - IMU-2025 - saldo</Ustrd>")
	require.Contains(t, string(doc), "<Nm>Citta di Forli</Nm>")
	require.NotContains(t, string(doc), "&amp;")

	got, err := pain008.Parse(bytes.NewReader(doc))
	require.NoError(t, err)
	require.Equal(t, "Niccolo D'Amico + Figli S.r.l.", got.PaymentInfos[0].Transactions[0].DebtorName)
	require.Equal(t, "Piu EUR di cosi: 'TARI' 2026 - rata 1/2 - IMU-2025 - saldo", got.PaymentInfos[0].Transactions[0].RemittanceInfo)
}

func TestRoundTrip(t *testing.T) {
	t.Parallel()
	for _, p := range []pain008.Profile{V08, V02} {
		got, err := pain008.Parse(bytes.NewReader(mustWrite(t, p, sample())))
		require.NoError(t, err)
		require.Equal(t, sample(), inRome(got))
	}
}

func TestTotalsMismatch(t *testing.T) {
	t.Parallel()
	for name, change := range map[string]func(*pain008.File){
		"group declares one more":         func(f *pain008.File) { f.NbOfTxs++ },
		"group declares a cent less":      func(f *pain008.File) { f.CtrlSum-- },
		"group declares one fewer":        func(f *pain008.File) { f.NbOfTxs--; f.CtrlSum -= 100 },
		"first PmtInf declares one fewer": func(f *pain008.File) { f.PaymentInfos[0].NbOfTxs--; f.PaymentInfos[0].CtrlSum -= 9999 },
		"first PmtInf declares a cent more": func(f *pain008.File) {
			f.PaymentInfos[0].CtrlSum++
		},
		"last PmtInf declares one more": func(f *pain008.File) { f.PaymentInfos[1].NbOfTxs++; f.PaymentInfos[1].CtrlSum += 100 },
	} {
		f := sample()
		change(&f)
		_, err := write(V08, f)
		require.ErrorIs(t, err, pain008.ErrTotals, name)
		require.ErrorContains(t, err, "declares", name)
	}
}

func TestFieldErrors(t *testing.T) {
	t.Parallel()
	const e2e = "TARI2026-000001-R1"
	for i, tc := range []struct {
		field, e2e string
		change     func(*pain008.File)
	}{
		{"GroupHeader.MsgID", "", func(f *pain008.File) { f.MsgID = "" }},
		{"GroupHeader.MsgID", "", func(f *pain008.File) { f.MsgID = strings.Repeat("A", 36) }},
		{"GroupHeader.MsgID", "", func(f *pain008.File) { f.MsgID = "INC_1" }},
		{"GroupHeader.Created", "", func(f *pain008.File) { f.Created = time.Time{} }},
		{"GroupHeader.NbOfTxs", "", func(f *pain008.File) { f.NbOfTxs = 0 }},
		{"GroupHeader.NbOfTxs", "", func(f *pain008.File) { f.CtrlSum = 2 }},
		{"PaymentInfo.ID", "", func(f *pain008.File) { f.PaymentInfos[0].ID = "/INC" }},
		{"PaymentInfo.SequenceType", "", func(f *pain008.File) { f.PaymentInfos[0].SequenceType = "RPRE" }},
		{"PaymentInfo.CollectionDate", "", func(f *pain008.File) { f.PaymentInfos[0].CollectionDate = date.Date{} }},
		{"PaymentInfo.CollectionDate", "", func(f *pain008.File) { f.PaymentInfos[0].CollectionDate = day(2026, time.February, 30) }},
		{"PaymentInfo.CreditorName", "", func(f *pain008.File) { f.PaymentInfos[0].CreditorName = "☺ ☹" }},
		{"PaymentInfo.CreditorIBAN", "", func(f *pain008.File) { f.PaymentInfos[0].CreditorIBAN = "IT60 X054 2811" }},
		{"PaymentInfo.CreditorBIC", "", func(f *pain008.File) { f.PaymentInfos[0].CreditorBIC = "BPMOIT2" }},
		{"PaymentInfo.CreditorID", "", func(f *pain008.File) { f.PaymentInfos[0].CreditorID = "IT66 ZZZ" }},
		{"PaymentInfo.CreditorIBAN", "", func(f *pain008.File) { f.PaymentInfos[0].CreditorIBAN = "IT61X0542811101000000123456" }},
		{"PaymentInfo.CreditorID", "", func(f *pain008.File) { f.PaymentInfos[0].CreditorID = "IT86ZZZ0000080016350821" }},
		{"PaymentInfo.CollectionDate", "", func(f *pain008.File) { f.PaymentInfos[0].CollectionDate = day(2026, time.April, 6) }}, // Easter Monday
		{"PaymentInfo.CollectionDate", "", func(f *pain008.File) { f.PaymentInfos[0].CollectionDate = day(2026, time.December, 25) }},
		{"PaymentInfo.CollectionDate", "", func(f *pain008.File) { f.PaymentInfos[0].CollectionDate = day(2026, time.March, 14) }}, // a Saturday
		{"Transaction.EndToEndID", "TARI 2026//1", func(f *pain008.File) { f.PaymentInfos[0].Transactions[0].EndToEndID = "TARI 2026//1" }},
		{"Transaction.Amount", e2e, func(f *pain008.File) { f.PaymentInfos[0].Transactions[0].Amount = 0 }},
		{"Transaction.Amount", e2e, func(f *pain008.File) { f.PaymentInfos[0].Transactions[0].Amount = 100_000_000_000 }},
		{"Transaction.MandateID", e2e, func(f *pain008.File) { f.PaymentInfos[0].Transactions[0].MandateID = "MND 1" }},
		{"Transaction.MandateSigned", e2e, func(f *pain008.File) { f.PaymentInfos[0].Transactions[0].MandateSigned = date.Date{} }},
		{"Transaction.MandateSigned", e2e, func(f *pain008.File) {
			f.PaymentInfos[0].Transactions[0].MandateSigned = day(2026, time.March, 11)
		}},
		{"Transaction.DebtorName", e2e, func(f *pain008.File) {
			f.PaymentInfos[0].Transactions[0].DebtorName = strings.Repeat("Ròssi ", 12)
		}},
		{"Transaction.DebtorIBAN", e2e, func(f *pain008.File) {
			f.PaymentInfos[0].Transactions[0].DebtorIBAN = "it02l1234512345123456789012"
		}},
		{"Transaction.DebtorIBAN", e2e, func(f *pain008.File) { // check digits
			f.PaymentInfos[0].Transactions[0].DebtorIBAN = "IT99Z1234512345123456789012"
		}},
		{"Transaction.DebtorIBAN", e2e, func(f *pain008.File) { // CIN, with check digits that match
			f.PaymentInfos[0].Transactions[0].DebtorIBAN = "IT64Y0542811101000000123456"
		}},
		{"Transaction.EndToEndID", e2e, func(f *pain008.File) {
			f.PaymentInfos[0].Transactions[1].EndToEndID = e2e
		}},
		{"Transaction.EndToEndID", e2e, func(f *pain008.File) { // in another payment information
			f.PaymentInfos[1].Transactions[0].EndToEndID = e2e
		}},
		{"Transaction.DebtorBIC", e2e, func(f *pain008.File) { f.PaymentInfos[0].Transactions[0].DebtorBIC = "UNCRITMM-XX" }},
		{"Transaction.RemittanceInfo", e2e, func(f *pain008.File) {
			f.PaymentInfos[0].Transactions[0].RemittanceInfo = strings.Repeat("x", 141)
		}},
	} {
		t.Run(fmt.Sprintf("%d %s", i+1, tc.field), func(t *testing.T) {
			f := sample()
			tc.change(&f)
			_, err := write(V08, f)
			var fe *pain008.FieldError
			require.ErrorAs(t, err, &fe, tc.field)
			require.Equal(t, tc.field, fe.Field)
			require.Equal(t, tc.e2e, fe.EndToEndID, tc.field)
			require.Contains(t, err.Error(), tc.field)
			tx := f.PaymentInfos[0].Transactions[0]
			for _, personal := range []string{tx.DebtorName, tx.DebtorIBAN} {
				require.NotContains(t, err.Error(), personal, "personal data in %q", err)
			}
		})
	}
}

func TestBICPatternPerProfile(t *testing.T) {
	t.Parallel()
	// "BPM0IT22" has a digit in the bank code: valid in .08 (BICFIDec2014), not in .02.
	f := sample()
	f.PaymentInfos[0].CreditorBIC = "BPM0IT22"
	mustWrite(t, V08, f)
	_, err := write(V02, f)
	var fe *pain008.FieldError
	require.ErrorAs(t, err, &fe)
	require.Equal(t, "PaymentInfo.CreditorBIC", fe.Field)
}

func TestWriterMisuse(t *testing.T) {
	t.Parallel()
	f := sample()
	h := pain008.GroupHeader{MsgID: "M", Created: created, NbOfTxs: 1, CtrlSum: 100, InitiatingParty: "Comune"}
	_, err := pain008.NewWriter(&bytes.Buffer{}, pain008.Profile(7), h)
	require.ErrorContains(t, err, "unknown profile")

	w, err := pain008.NewWriter(&bytes.Buffer{}, V08, h)
	require.NoError(t, err)
	require.ErrorContains(t, w.Add(f.PaymentInfos[1].Transactions[0]), "Add before StartPaymentInfo")
	require.ErrorContains(t, w.Close(), "Add before StartPaymentInfo", "errors stick")

	w, err = pain008.NewWriter(&bytes.Buffer{}, V08, h)
	require.NoError(t, err)
	require.ErrorContains(t, w.Close(), "no payment information")

	w, err = pain008.NewWriter(&bytes.Buffer{}, V08, h)
	require.NoError(t, err)
	pi := f.PaymentInfos[1].PaymentInfo
	require.NoError(t, w.StartPaymentInfo(pi))
	require.NoError(t, w.Add(f.PaymentInfos[1].Transactions[0]))
	require.ErrorIs(t, w.Add(f.PaymentInfos[1].Transactions[0]), pain008.ErrTotals, "more than declared, found at once")

	w, err = pain008.NewWriter(&bytes.Buffer{}, V08, h)
	require.NoError(t, err)
	require.NoError(t, w.StartPaymentInfo(pi))
	require.NoError(t, w.Add(f.PaymentInfos[1].Transactions[0]))
	require.NoError(t, w.Close())
	require.Error(t, w.Close(), "closed")
	require.Error(t, w.StartPaymentInfo(pi), "closed")
}

type failingWriter struct{}

func (failingWriter) Write([]byte) (int, error) { return 0, errors.New("disk full") }

func TestWriteError(t *testing.T) {
	t.Parallel()
	f := sample()
	f.PaymentInfos = f.PaymentInfos[1:]
	f = withTotals(f)
	w, err := pain008.NewWriter(failingWriter{}, V08, pain008.GroupHeader{
		MsgID: f.MsgID, Created: created, NbOfTxs: f.NbOfTxs, CtrlSum: f.CtrlSum, InitiatingParty: "Comune",
	})
	require.NoError(t, err, "buffered")
	require.NoError(t, w.StartPaymentInfo(f.PaymentInfos[0].PaymentInfo))
	require.NoError(t, w.Add(f.PaymentInfos[0].Transactions[0]))
	require.ErrorContains(t, w.Close(), "disk full")
}

func TestParseErrors(t *testing.T) {
	t.Parallel()
	good := string(mustWrite(t, V08, sample()))
	for _, tc := range []struct {
		old, new, want string
	}{
		{"pain.008.001.08", "pain.008.001.05", "is not the Document of pain.008.001.08 or .001.02"},
		{"<CstmrDrctDbtInitn>", "<CstmrDrctDbtInitx>", "closed by </CstmrDrctDbtInitn>"},
		{"<NbOfTxs>3</NbOfTxs>", "<NbOfTxs>4</NbOfTxs>", "the group header declares 4 transactions"},
		{"<CtrlSum>221.49</CtrlSum>", "<CtrlSum>221.48</CtrlSum>", "totals differ"},
		{"<CtrlSum>220.49</CtrlSum>", "<CtrlSum>220.50</CtrlSum>", `payment information "INC-20260302-1-FRST" declares`},
		{"<NbOfTxs>3</NbOfTxs>", "<NbOfTxs>+3</NbOfTxs>", "GrpHdr/NbOfTxs is not a number"},
		{"</Document>", "</Document>\ngarbage", "pain008: text outside the root element"}, // one of isoxml's
		{`<InstdAmt Ccy="EUR">120.50`, `<InstdAmt Ccy="EUR">120.5`, `transaction "TARI2026-000001-R1": DrctDbtTxInf/InstdAmt is not an amount`},
		{`<InstdAmt Ccy="EUR">120.50`, `<InstdAmt Ccy="USD">120.50`, "InstdAmt/@Ccy must be EUR"},
		{"<Cd>CORE</Cd>", "<Cd>B2B</Cd>", "LclInstrm/Cd must be CORE"},
		{"<SeqTp>FRST</SeqTp>", "<SeqTp>RPRE</SeqTp>", "PaymentInfo.SequenceType must be FRST"},
		{"<DtOfSgntr>2026-01-15</DtOfSgntr>", "<DtOfSgntr>15/01/2026</DtOfSgntr>", "DtOfSgntr is not a date"},
		{"<BICFI>UNCRITMMXXX</BICFI>", "<Nm>UniCredit</Nm>", "DbtrAgt/FinInstnId has neither BICFI nor Othr/Id NOTPROVIDED"},
		{"TARI2026-000002-R1", "TARI2026-000001-R1", "is not unique in the file"},
		{"<CreDtTm>2026-03-02T09:30:00+01:00</CreDtTm>", "<CreDtTm>2026-03-02</CreDtTm>", "GrpHdr/CreDtTm is not an ISO date and time"},
	} {
		require.Contains(t, good, tc.old)
		_, err := pain008.Parse(strings.NewReader(strings.Replace(good, tc.old, tc.new, 1)))
		require.Error(t, err, tc.new)
		require.ErrorContains(t, err, tc.want)
	}

	// A zone-less CreDtTm is Rome time; optional totals may be left out.
	doc := strings.Replace(good, "<CreDtTm>2026-03-02T09:30:00+01:00", "<CreDtTm>2026-03-02T09:30:00", 1)
	doc = regexp.MustCompile(`(?s)(<PmtMtd>DD</PmtMtd>.*?)<NbOfTxs>\d+</NbOfTxs>\s*<CtrlSum>[0-9.]+</CtrlSum>`).ReplaceAllString(doc, "$1")
	require.Equal(t, 1, strings.Count(doc, "<NbOfTxs>"))
	got, err := pain008.Parse(strings.NewReader(doc))
	require.NoError(t, err)
	require.Equal(t, sample(), inRome(got))
}

// TestWriterStreams writes 10,000 transactions and checks that the Writer holds none of
// them (only their EndToEndIds): the live heap grows by far less than the file's size or the
// transactions' sizes.
func TestWriterStreams(t *testing.T) {
	// Not parallel: it measures the heap.
	const n = 10_000
	path := filepath.Join(t.TempDir(), "big.xml")
	out, err := os.Create(path)
	require.NoError(t, err)
	defer out.Close()
	counted := &countingWriter{w: out}

	tx := func(i int) pain008.Transaction {
		return pain008.Transaction{
			EndToEndID: fmt.Sprintf("TARI2026-%06d-R1", i), Amount: money.Cents(1000 + i%5000),
			MandateID: fmt.Sprintf("MND-%06d", i), MandateSigned: day(2025, time.May, 1+i%28),
			DebtorName: fmt.Sprintf("Contribuente numero %d di Esempio", i), DebtorIBAN: "IT60X0542811101000000123456",
			RemittanceInfo: strings.Repeat(fmt.Sprintf("TARI 2026 avviso %018d ", i), 4)[:140],
		}
	}
	var sum money.Cents
	for i := range n {
		sum += tx(i).Amount
	}
	runtime.GC()
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)

	w, err := pain008.NewWriter(counted, V08, pain008.GroupHeader{MsgID: "BIG", Created: created, NbOfTxs: n, CtrlSum: sum, InitiatingParty: "Comune"})
	require.NoError(t, err)
	pi := sample().PaymentInfos[1].PaymentInfo
	pi.NbOfTxs, pi.CtrlSum = n, sum
	require.NoError(t, w.StartPaymentInfo(pi))
	for i := range n {
		require.NoError(t, w.Add(tx(i)))
	}
	runtime.GC()
	runtime.ReadMemStats(&after)
	require.NoError(t, w.Close())

	grown := int64(after.HeapAlloc) - int64(before.HeapAlloc)
	t.Logf("%d transactions, %.1f MB written, live heap grown by %d kB", n, float64(counted.n)/1e6, grown>>10)
	require.Greater(t, counted.n, int64(8<<20), "the file is large enough for the test to mean something")
	require.Less(t, grown, int64(2<<20), "the Writer holds what it wrote")

	doc, err := os.ReadFile(path)
	require.NoError(t, err)
	specs.RequireValid(t, doc, "sepa", xsd[V08])
}

type countingWriter struct {
	w interface{ Write([]byte) (int, error) }
	n int64
}

func (c *countingWriter) Write(p []byte) (int, error) {
	n, err := c.w.Write(p)
	c.n += int64(n)
	return n, err
}

func FuzzParse(f *testing.F) {
	// Small seeds, without indentation, keep the minimisation of new inputs quick.
	small := sample()
	small.PaymentInfos = small.PaymentInfos[1:]
	for _, p := range []pain008.Profile{V08, V02} {
		doc, err := write(p, withTotals(small))
		require.NoError(f, err)
		f.Add([]byte(compact(doc)))
	}
	f.Add([]byte(`<Document xmlns="urn:iso:std:iso:20022:tech:xsd:pain.008.001.08"><CstmrDrctDbtInitn/></Document>`))
	f.Fuzz(func(t *testing.T, data []byte) {
		file, err := pain008.Parse(bytes.NewReader(data))
		if err != nil {
			return
		}
		var n int
		var sum money.Cents
		for _, b := range file.PaymentInfos {
			var bn int
			var bsum money.Cents
			for _, tx := range b.Transactions {
				bn, bsum = bn+1, bsum+tx.Amount
			}
			require.Equal(t, b.NbOfTxs, bn)
			require.Equal(t, b.CtrlSum, bsum)
			n, sum = n+bn, sum+bsum
		}
		require.Equal(t, file.NbOfTxs, n)
		require.Equal(t, file.CtrlSum, sum)

		// What Parse accepts, a Writer writes again (.08 accepts the BICs of .02), identically
		// but for the creation time, written to the second.
		doc, err := write(V08, file)
		require.NoError(t, err)
		again, err := pain008.Parse(bytes.NewReader(doc))
		require.NoError(t, err)
		file.Created = file.Created.Truncate(time.Second)
		require.Equal(t, inRome(file), inRome(again))
	})
}
