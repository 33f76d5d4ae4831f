package campaigns

import (
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"io"
	"strings"
	"testing"
	"testing/iotest"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/stretchr/testify/require"

	"incasso/app/config"
	"incasso/db/dbgen"
	"incasso/devstack/testdb"
	"incasso/domain/date"
	"incasso/domain/money"
	"incasso/domain/pagopa"
	"incasso/services/debts"
)

// testToday is the day the tests import on: due dates before it are past.
var testToday = date.Date{Year: 2026, Month: time.November, Day: 20}

func newTestDB(t *testing.T) (*pgxpool.Pool, config.Config) {
	t.Helper()
	pool, _ := testdb.New(t)
	cfg, err := config.FromEnv()
	require.NoError(t, err)
	return pool, cfg
}

func countRows(t *testing.T, pool *pgxpool.Pool, campaignID int64) int {
	t.Helper()
	var n int
	require.NoError(t, pool.QueryRow(context.Background(), "SELECT count(*) FROM campaign_rows WHERE campaign_id = $1", campaignID).Scan(&n))
	return n
}

// requireNothingStored checks that no campaign and no row exist.
func requireNothingStored(t *testing.T, pool *pgxpool.Pool) {
	t.Helper()
	var campaigns, rows int
	require.NoError(t, pool.QueryRow(context.Background(), "SELECT (SELECT count(*) FROM campaigns), (SELECT count(*) FROM campaign_rows)").Scan(&campaigns, &rows))
	require.Zero(t, campaigns, "campaigns")
	require.Zero(t, rows, "campaign_rows")
}

// columns is the order of the CSV rows the tests write with line.
var columns = []string{"iupd", "servizio", "tipo", "codice_fiscale", "nominativo", "email", "pec", "importo", "scadenza", "causale"}

const header = "iupd;servizio;tipo;codice_fiscale;nominativo;email;pec;importo;scadenza;causale"

// line is a valid ;-separated row with the iupd, changed by the overrides (column, value...).
func line(iupd string, overrides ...string) string {
	v := map[string]string{
		"iupd": iupd, "servizio": "TARI", "tipo": "F", "codice_fiscale": "RSSMRA85T10A562S", "nominativo": "Mario Rossi",
		"email": "mario.rossi@example.it", "pec": "", "importo": "123,45", "scadenza": "31/12/2026", "causale": "TARI 2026 rata unica",
	}
	for i := 0; i < len(overrides); i += 2 {
		v[overrides[i]] = overrides[i+1]
	}
	out := make([]string, len(columns))
	for i, c := range columns {
		out[i] = v[c]
	}
	return strings.Join(out, ";")
}

func csvOf(lines ...string) string { return strings.Join(lines, "\n") + "\n" }

func importString(t *testing.T, pool *pgxpool.Pool, cfg config.Config, format, file string, opts Options) (Result, error) {
	t.Helper()
	if opts.Name == "" {
		opts.Name = "Test campaign"
	}
	if opts.Today.IsZero() {
		opts.Today = testToday
	}
	return Import(context.Background(), pool, cfg, strings.NewReader(file), format, opts)
}

func TestImportCSVFromExcel(t *testing.T) {
	t.Parallel()
	pool, cfg := newTestDB(t)
	// UTF-8 with BOM, CRLF, ";", columns in another order and case, quoted fields, decimal comma.
	file := "\ufeffCausale;Importo;Scadenza;IUPD;Servizio;Tipo;Codice Fiscale;Nominativo;Email;PEC\r\n" +
		`"TARI 2026; rata unica";1.234,50;31/12/2026;TARI-1;TARI;F;rssmra85t10a562s;"Rossi ""Mario""";mario.rossi@example.it;mario.rossi@pec.example.it` + "\r\n" +
		"TARI 2026;80;5/1/2027;TARI-2;TARI;G;00000000000;Comune di Prova;tributi@example.it;\r\n" +
		";;;;;;;;;\r\n" + // a blank row, as spreadsheets export them: skipped
		"TARI 2026;€ 12,5;2027-02-28;TARI-3;TARI;F;RSSMRA85T10A562S;Mario Rossi;mario.rossi@example.it;\r\n"
	res, err := importString(t, pool, cfg, FormatCSV, file, Options{Name: "TARI 2026", Filename: "tari.csv", CreatedBy: "tributi"})
	require.NoError(t, err, "%+v", res.Errors)
	require.NotZero(t, res.CampaignID)
	require.Equal(t, Result{CampaignID: res.CampaignID, Rows: 3, Valid: 3}, res)

	cp, err := dbgen.New(pool).GetCampaign(context.Background(), res.CampaignID)
	require.NoError(t, err)
	sum := sha256.Sum256([]byte(file))
	require.Equal(t, sum[:], cp.SourceSha256)
	require.Equal(t, "TARI 2026", cp.Name)
	require.Equal(t, "READY", cp.Status)
	require.Equal(t, "tari.csv", cp.SourceFilename)
	require.Equal(t, "tributi", cp.CreatedBy)
	require.EqualValues(t, 3, cp.RowsTotal)
	require.Zero(t, cp.RowsRejected)

	rows, err := dbgen.New(pool).NextCampaignRows(context.Background(), dbgen.NextCampaignRowsParams{CampaignID: res.CampaignID, RowNo: 0, Limit: 10})
	require.NoError(t, err)
	require.Len(t, rows, 3)
	r := rows[0]
	require.Equal(t, []any{int32(2), "TARI-1", "TARI", "F", "RSSMRA85T10A562S", `Rossi "Mario"`, "mario.rossi@example.it", "mario.rossi@pec.example.it", int64(123450), "2026-12-31", "TARI 2026; rata unica"},
		[]any{r.RowNo, r.Iupd, r.ServiceCode, r.DebtorType, r.DebtorFiscalCode, r.DebtorName, r.DebtorEmail, r.DebtorPec, r.AmountCents, date.Of(r.DueDate).String(), r.Description})
	require.Equal(t, []any{int32(3), "G", int64(8000), "2027-01-05"}, []any{rows[1].RowNo, rows[1].DebtorType, rows[1].AmountCents, date.Of(rows[1].DueDate).String()})
	require.Equal(t, []any{int32(5), int64(1250), "2027-02-28"}, []any{rows[2].RowNo, rows[2].AmountCents, date.Of(rows[2].DueDate).String()})
}

func TestImportCSVCommaISO(t *testing.T) {
	t.Parallel()
	pool, cfg := newTestDB(t)
	// "," separator, ISO dates, decimal point, no pec column, LF.
	file := "iupd,servizio,tipo,codice_fiscale,nominativo,email,importo,scadenza,causale\n" +
		"IMU-1,IMU,F,RSSMRA85T10A562S,\"Rossi, Mario\",mario.rossi@example.it,12.50,2026-12-16,IMU 2026 saldo\n" +
		"IMU-2,IMU,F,RSSMRA85T10A562S,Mario Rossi,mario.rossi@example.it,\"1.234,56\",2026-12-16,IMU 2026 saldo\n"
	res, err := importString(t, pool, cfg, FormatCSV, file, Options{})
	require.NoError(t, err, "%+v", res.Errors)
	require.Equal(t, 2, res.Valid)
	rows, err := dbgen.New(pool).NextCampaignRows(context.Background(), dbgen.NextCampaignRowsParams{CampaignID: res.CampaignID, Limit: 10})
	require.NoError(t, err)
	require.Equal(t, "Rossi, Mario", rows[0].DebtorName)
	require.Equal(t, int64(1250), rows[0].AmountCents)
	require.Equal(t, "", rows[0].DebtorPec)
	require.Equal(t, int64(123456), rows[1].AmountCents)
}

func TestImportJSON(t *testing.T) {
	t.Parallel()
	pool, cfg := newTestDB(t)
	file := `[
 {"iupd": "MENSA-1", "serviceCode": "MENSA", "debtor": {"type": "F", "fiscalCode": "RSSMRA85T10A562S", "fullName": "Mario Rossi", "email": "mario.rossi@example.it"},
  "amountCents": 4550, "dueDate": "2027-01-31", "description": "Mensa gennaio"},
 {"iupd": "MENSA-2", "serviceCode": "MENSA", "debtor": {"type": "F", "fiscalCode": "RSSMRA85T10A562S", "fullName": "Mario Rossi", "email": "mario.rossi@example.it", "pec": "mario@pec.example.it"},
  "amountCents": 4550, "dueDate": "2027-02-28", "description": "Mensa febbraio"}
]`
	res, err := importString(t, pool, cfg, FormatJSON, file, Options{})
	require.NoError(t, err, "%+v", res.Errors)
	require.Equal(t, Result{CampaignID: res.CampaignID, Rows: 2, Valid: 2}, res)
	rows, err := dbgen.New(pool).NextCampaignRows(context.Background(), dbgen.NextCampaignRowsParams{CampaignID: res.CampaignID, Limit: 10})
	require.NoError(t, err)
	require.Len(t, rows, 2)
	require.Equal(t, []any{int32(1), "MENSA-1", int64(4550), ""}, []any{rows[0].RowNo, rows[0].Iupd, rows[0].AmountCents, rows[0].DebtorPec})
	require.Equal(t, []any{int32(2), "mario@pec.example.it"}, []any{rows[1].RowNo, rows[1].DebtorPec})
	cp, err := dbgen.New(pool).GetCampaign(context.Background(), res.CampaignID)
	require.NoError(t, err)
	sum := sha256.Sum256([]byte(file))
	require.Equal(t, sum[:], cp.SourceSha256)
}

func TestImportCSVRowErrors(t *testing.T) {
	t.Parallel()
	pool, cfg := newTestDB(t)
	file := csvOf(header,
		line("OK-1"),                                           // 2
		line("bad iupd!"),                                      // 3
		line("E-4", "servizio", "NOPE"),                        // 4
		line("E-5", "tipo", "X"),                               // 5
		line("E-6", "codice_fiscale", "RSSMRA85T10A562X"),      // 6
		line("E-7", "nominativo", ""),                          // 7
		line("E-8", "email", "mario@@example"),                 // 8
		line("E-9", "pec", "not-a-pec"),                        // 9
		line("E-10", "importo", "12,3,4"),                      // 10
		line("E-11", "importo", "1.234"),                       // 11
		line("E-12", "importo", "0,00"),                        // 12
		line("E-13", "importo", ""),                            // 13
		line("E-14", "scadenza", "31/02/2027"),                 // 14
		line("E-15", "scadenza", "31/12/26"),                   // 15
		line("E-16", "scadenza", "19/11/2026"),                 // 16: the day before testToday
		line("E-17", "scadenza", ""),                           // 17
		line("E-18", "causale", ""),                            // 18
		"E-19;TARI;F",                                          // 19: too few fields
		line("OK-1"),                                           // 20: the iupd of row 2
		line("E-21", "tipo", "Q", "email", "", "importo", "x"), // 21: three errors
		line("OK-22"),                                          // 22
	)
	res, err := importString(t, pool, cfg, FormatCSV, file, Options{})
	require.ErrorIs(t, err, ErrInvalidFile)
	var fe *FileError
	require.False(t, errors.As(err, &fe), "row errors are not a file error")
	require.Zero(t, res.CampaignID)
	require.Equal(t, 21, res.Rows)
	require.Equal(t, 19, res.Rejected)
	require.Equal(t, 2, res.Valid)
	want := []RowError{
		{3, "iupd", "required: 1 to 35 characters among A-Z a-z 0-9 . _ - (an opaque key: no personal data)"},
		{4, "servizio", "unknown service code"},
		{5, "tipo", "must be F (natural person) or G (legal person)"},
		{6, "codice_fiscale", "not a valid codice fiscale: check character mismatch"},
		{7, "nominativo", "required, at most 70 printable characters on one line"},
		{8, "email", "a plain email address such as nome@example.it, or nothing"},
		{9, "pec", "a plain PEC address such as nome@pec.example.it, or nothing"},
		{10, "importo", "not an amount in euro: write it as 1234,50 or 1.234,50"},
		{11, "importo", "ambiguous amount: write it with a decimal comma, as 1.234,00 or 1234,00"},
		{12, "importo", "must be from 0,01 to 999.999.999,99 euro"},
		{13, "importo", "required: an amount in euro such as 12,50"},
		{14, "scadenza", "not a date of the calendar"},
		{15, "scadenza", "write the year with four digits: dd/mm/yyyy"},
		{16, "scadenza", "must not be in the past"},
		{17, "scadenza", "required: a date as dd/mm/yyyy or yyyy-mm-dd"},
		{18, "causale", "required, at most 140 printable characters on one line"},
		{19, "", "the row has 3 fields, the header 10"},
		{20, "iupd", "the same iupd as row 2"},
		{21, "tipo", "must be F (natural person) or G (legal person)"},
		{21, "email", "required unless the debtor has a PEC or a postal address (columns indirizzo, cap, comune, provincia), where notices then go by post"},
		{21, "importo", "not an amount in euro: write it as 1234,50 or 1.234,50"},
	}
	require.Equal(t, want, res.Errors)
	require.Equal(t, len(want), res.TotalErrors)
	for _, e := range res.Errors { // no value is repeated
		for _, v := range []string{"RSSMRA85T10A562X", "mario@@example", "not-a-pec", "12,3,4", "31/02/2027", "bad iupd", "NOPE"} {
			require.NotContains(t, e.Message, v)
		}
	}
	requireNothingStored(t, pool)
}

func TestImportJSONRowErrors(t *testing.T) {
	t.Parallel()
	pool, cfg := newTestDB(t)
	ok := `{"iupd": "%s", "serviceCode": "TARI", "debtor": {"type": "F", "fiscalCode": "RSSMRA85T10A562S", "fullName": "Mario Rossi", "email": "mario.rossi@example.it"}, "amountCents": %s, "dueDate": "%s", "description": "TARI"}`
	file := "[" + strings.Join([]string{
		fmt.Sprintf(ok, "J-1", "100", "2027-01-31"),
		fmt.Sprintf(ok, "J-2", `"100"`, "2027-01-31"),
		fmt.Sprintf(ok, "J-3", "100", "31/01/2027"),
		`42`,
		`{"iupd": "J-5", "extra": true}`,
		`{"iupd": "J-6", "debtor": {"type": "F", "fiscalCode": 7}}`,
		fmt.Sprintf(ok, "J-1", "100.5", "2027-01-31"),
	}, ",\n") + "]"
	res, err := importString(t, pool, cfg, FormatJSON, file, Options{})
	require.ErrorIs(t, err, ErrInvalidFile)
	require.Equal(t, 7, res.Rows)
	require.Equal(t, 6, res.Rejected)
	byRow := map[int][]string{}
	for _, e := range res.Errors {
		byRow[e.Row] = append(byRow[e.Row], e.Column+": "+e.Message)
	}
	require.Equal(t, []string{"amountCents: must be a JSON integer"}, byRow[2])
	require.Equal(t, []string{"dueDate: required: a date as YYYY-MM-DD"}, byRow[3])
	require.Equal(t, []string{": must be a JSON object"}, byRow[4])
	require.Equal(t, "extra: unknown field", byRow[5][0])
	require.Contains(t, byRow[5], "debtor.fiscalCode: not a valid codice fiscale: wrong length 0, want 16 or 11")
	require.Contains(t, byRow[6], "debtor.fiscalCode: must be a JSON string")
	require.NotContains(t, byRow[6], "debtor.fiscalCode: not a valid codice fiscale: wrong length 0, want 16 or 11")
	require.Equal(t, []string{"iupd: the same iupd as row 1", "amountCents: must be a JSON integer"}, byRow[7])
	requireNothingStored(t, pool)
}

// existingDebt stores a debt with the iupd, as POST /v1/debts does.
func existingDebt(t *testing.T, pool *pgxpool.Pool, cfg config.Config, iupd string) {
	t.Helper()
	_, created, err := debts.Store(context.Background(), dbgen.New(pool), cfg.Creditor, debts.New{
		IUPD: iupd, ServiceCode: "TARI", Amount: money.Cents(100), DueDate: date.Date{Year: 2027, Month: 1, Day: 31}, Description: "TARI",
		Debtor: debts.Debtor{Type: "F", FiscalCode: "RSSMRA85T10A562S", FullName: "Mario Rossi", Email: "mario.rossi@example.it"},
	})
	require.NoError(t, err)
	require.True(t, created)
}

func TestImportConflicts(t *testing.T) {
	t.Parallel()
	pool, cfg := newTestDB(t)
	existingDebt(t, pool, cfg, "DEBT-1")
	first, err := importString(t, pool, cfg, FormatCSV, csvOf(header, line("C1-1"), line("C1-2")), Options{Name: "first"})
	require.NoError(t, err)

	file := csvOf(header, line("C2-1"), line("DEBT-1"), line("C1-2"), line("C2-4"), line("C2-4"))
	res, err := importString(t, pool, cfg, FormatCSV, file, Options{Name: "second"})
	require.ErrorIs(t, err, ErrInvalidFile)
	require.Zero(t, res.CampaignID)
	require.Equal(t, []RowError{
		{3, "iupd", "iupd already used by an existing debt"},
		{4, "iupd", fmt.Sprintf("iupd already used in campaign %d, which has not created that debt yet", first.CampaignID)},
		{6, "iupd", "the same iupd as row 5"},
	}, res.Errors)
	require.Equal(t, Result{Rows: 5, Valid: 2, Rejected: 3, Errors: res.Errors, TotalErrors: 3}, res)

	// Valid rows only: the two others are stored, the campaign says 3 were left out.
	res, err = importString(t, pool, cfg, FormatCSV, file, Options{Name: "second", ValidOnly: true})
	require.NoError(t, err)
	require.NotZero(t, res.CampaignID)
	require.Equal(t, 2, res.Valid)
	require.Equal(t, 3, res.Rejected)
	require.Len(t, res.Errors, 3)
	rows, err := dbgen.New(pool).NextCampaignRows(context.Background(), dbgen.NextCampaignRowsParams{CampaignID: res.CampaignID, Limit: 10})
	require.NoError(t, err)
	require.Len(t, rows, 2)
	require.Equal(t, []string{"C2-1", "C2-4"}, []string{rows[0].Iupd, rows[1].Iupd})
	require.Equal(t, []int32{2, 5}, []int32{rows[0].RowNo, rows[1].RowNo})
	cp, err := dbgen.New(pool).GetCampaign(context.Background(), res.CampaignID)
	require.NoError(t, err)
	require.Equal(t, []int32{5, 3}, []int32{cp.RowsTotal, cp.RowsRejected})

	// A campaign that is over no longer holds its iupds.
	_, err = pool.Exec(context.Background(), "UPDATE campaigns SET status = 'CANCELLED', finished_at = now() WHERE id = $1", first.CampaignID)
	require.NoError(t, err)
	res, err = importString(t, pool, cfg, FormatCSV, csvOf(header, line("C1-1")), Options{Name: "third"})
	require.NoError(t, err, "%+v", res.Errors)
}

func TestImportValidOnly(t *testing.T) {
	t.Parallel()
	pool, cfg := newTestDB(t)
	file := csvOf(header, line("V-1"), line("V-2", "importo", "abc"), line("V-3"), line("V-4", "tipo", ""), line("V-5"))
	res, err := importString(t, pool, cfg, FormatCSV, file, Options{ValidOnly: true})
	require.NoError(t, err)
	require.NotZero(t, res.CampaignID)
	require.Equal(t, Result{CampaignID: res.CampaignID, Rows: 5, Valid: 3, Rejected: 2, TotalErrors: 2, Errors: []RowError{
		{3, "importo", "not an amount in euro: write it as 1234,50 or 1.234,50"},
		{5, "tipo", "must be F (natural person) or G (legal person)"},
	}}, res)
	require.Equal(t, 3, countRows(t, pool, res.CampaignID))
	cp, err := dbgen.New(pool).GetCampaign(context.Background(), res.CampaignID)
	require.NoError(t, err)
	require.Equal(t, []int32{5, 2}, []int32{cp.RowsTotal, cp.RowsRejected})

	// Without a single valid row, nothing is stored even so.
	pool2, _ := newTestDB(t)
	res, err = importString(t, pool2, cfg, FormatCSV, csvOf(header, line("V-1", "tipo", "")), Options{ValidOnly: true})
	require.ErrorIs(t, err, ErrInvalidFile)
	require.Zero(t, res.CampaignID)
	requireNothingStored(t, pool2)
}

func TestImportDefaultStoresNothingOnOneBadRow(t *testing.T) {
	t.Parallel()
	pool, cfg := newTestDB(t)
	lines := []string{header}
	for i := range 50 {
		lines = append(lines, line(fmt.Sprintf("D-%d", i)))
	}
	lines[40] = line("D-39", "codice_fiscale", "RSSMRA85T10A562")
	res, err := importString(t, pool, cfg, FormatCSV, csvOf(lines...), Options{})
	require.ErrorIs(t, err, ErrInvalidFile)
	require.Equal(t, []RowError{{41, "codice_fiscale", "not a valid codice fiscale: wrong length 15, want 16 or 11"}}, res.Errors)
	require.Equal(t, 49, res.Valid)
	requireNothingStored(t, pool)
}

func TestImportErrorsCapped(t *testing.T) {
	t.Parallel()
	pool, cfg := newTestDB(t)
	lines := []string{header}
	for i := range 700 {
		lines = append(lines, line(fmt.Sprintf("X-%d", i), "tipo", "", "email", "")) // 2 errors each
	}
	lines = append(lines, line("X-0"))
	res, err := importString(t, pool, cfg, FormatCSV, csvOf(lines...), Options{})
	require.ErrorIs(t, err, ErrInvalidFile)
	require.Len(t, res.Errors, MaxErrors)
	require.Equal(t, 1401, res.TotalErrors)
	require.Equal(t, 701, res.Rejected)
	require.Equal(t, 501, res.Errors[MaxErrors-1].Row)
}

func TestImportFileErrors(t *testing.T) {
	t.Parallel()
	pool, cfg := newTestDB(t)
	many := func(n int) string {
		var b strings.Builder
		b.WriteString(header + "\n")
		for i := range n {
			b.WriteString(line(fmt.Sprintf("M-%d", i)) + "\n")
		}
		return b.String()
	}
	element := `{"iupd": "J-1", "serviceCode": "TARI", "debtor": {"type": "F", "fiscalCode": "RSSMRA85T10A562S", "fullName": "Mario Rossi", "email": "mario.rossi@example.it"}, "amountCents": 100, "dueDate": "2027-01-31", "description": "TARI"}`
	for _, tt := range []struct {
		name, format, file string
		row                int
		msg                string
	}{
		{"empty", "csv", "", 0, "the file is empty"},
		{"header only", "csv", header + "\r\n", 0, "the file has no data rows"},
		{"missing column", "csv", strings.Replace(header, ";importo", "", 1) + "\n", 1, "missing column importo (the columns are "},
		{"unknown column", "csv", header + ";note\n", 1, `unknown column "note" (the columns are`},
		{"column twice", "csv", header + ";email\n", 1, "column email given twice"},
		{"no header", "csv", csvOf(line("A-1")), 1, "the first row must be the header, naming the columns iupd, servizio"},
		{"not UTF-8", "csv", csvOf(header, line("A-1"), line("A-2", "nominativo", "Nicol\xf2 Rossi")), 3, "the file is not UTF-8: save it as CSV UTF-8"},
		{"UTF-16", "csv", "\xff\xfei\x00u\x00", 1, "the file is UTF-16: save it as CSV UTF-8"},
		{"open quote", "csv", csvOf(header, line("A-1"), line("A-2", "causale", `"TARI`)), 3, "a quoted field is not closed"},
		{"bare quote", "csv", csvOf(header, line("A-1", "nominativo", `Bar "Roma"`)), 2, `a field not in quotes contains a "`},
		{"long line", "csv", csvOf(header, line("A-1", "causale", strings.Repeat("x", maxLineBytes))), 2, "the line is longer than 65536 bytes"},
		{"too many rows", "csv", many(MaxRows + 1), MaxRows + 2, "the file has more than 100000 rows"},
		{"json empty", "json", " ", 0, "the file is empty"},
		{"json not an array", "json", `{"iupd": "A"}`, 0, "the file must be a JSON array of debts"},
		{"json empty array", "json", `[]`, 0, "the file has no data rows"},
		{"json malformed", "json", "[" + element + ", {\"iupd\": }]", 2, "malformed JSON at byte"},
		{"json truncated", "json", "[" + element + ", ", 2, "the JSON ends too early"},
		{"json after the array", "json", "[" + element + "] []", 0, "the file has data after the JSON array"},
		{"json blanks", "json", "[" + element + "," + strings.Repeat(" ", 2*maxElementBytes) + element + "]", 2, "the element is larger than 1048576 bytes"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			res, err := importString(t, pool, cfg, tt.format, tt.file, Options{})
			require.ErrorIs(t, err, ErrInvalidFile)
			var fe *FileError
			require.ErrorAs(t, err, &fe)
			require.Equal(t, tt.row, fe.Row, fe.Message)
			require.Contains(t, fe.Message, tt.msg)
			require.Zero(t, res.CampaignID)
			requireNothingStored(t, pool)
		})
	}
}

func TestImportOptions(t *testing.T) {
	t.Parallel()
	pool, cfg := newTestDB(t)
	file := csvOf(header, line("A-1"))
	for _, name := range []string{" ", strings.Repeat("n", MaxNameLength+1), "a\nb"} {
		_, err := Import(context.Background(), pool, cfg, strings.NewReader(file), FormatCSV, Options{Name: name})
		require.ErrorIs(t, err, ErrInvalidOptions)
	}
	_, err := Import(context.Background(), pool, cfg, strings.NewReader(file), "xlsx", Options{Name: "x"})
	require.ErrorIs(t, err, ErrInvalidOptions)
	res, err := Import(context.Background(), pool, cfg, strings.NewReader(file), FormatCSV, Options{Name: strings.Repeat("è", MaxNameLength)})
	require.NoError(t, err, "%+v", res.Errors)
}

// A reader that fails is not the file's fault: its error comes back as it is.
func TestImportReadError(t *testing.T) {
	t.Parallel()
	pool, cfg := newTestDB(t)
	boom := errors.New("connection reset")
	src := io.MultiReader(strings.NewReader(csvOf(header, line("A-1"))), iotest.ErrReader(boom))
	_, err := Import(context.Background(), pool, cfg, src, FormatCSV, Options{Name: "x", Today: testToday})
	require.ErrorIs(t, err, boom)
	require.NotErrorIs(t, err, ErrInvalidFile)
	requireNothingStored(t, pool)
}

func TestParseEuro(t *testing.T) {
	t.Parallel()
	for s, want := range map[string]money.Cents{
		"12,50": 1250, "12,5": 1250, "12": 1200, "1.234,50": 123450, "1.234.567,89": 123456789, "1234,50": 123450,
		"12.50": 1250, "12.5": 1250, "0,01": 1, " € 7,00 ": 700, "7,00 €": 700, "999.999.999,99": 99_999_999_999,
	} {
		got, err := parseEuro(s)
		require.NoError(t, err, s)
		require.Equal(t, want, got, s)
	}
	for _, s := range []string{"", "abc", "-1,00", "12,345", "1.23,00", "12,", ",50", "1.234", "1.234.567", "1,234.50", "12.50.1", "1e3", "12 50", "99999999999999"} {
		_, err := parseEuro(s)
		require.Error(t, err, s)
	}
}

func TestParseDate(t *testing.T) {
	t.Parallel()
	for s, want := range map[string]string{"31/12/2026": "2026-12-31", "1/2/2027": "2027-02-01", "2027-02-28": "2027-02-28", "29/02/2028": "2028-02-29"} {
		got, err := parseDate(s)
		require.NoError(t, err, s)
		require.Equal(t, want, got.String())
	}
	for _, s := range []string{"31/02/2027", "29/02/2027", "2027-02-30", "12/31/2026x", "31-12-2026", "31/12/26", "00/01/2027", "1/13/2027", "tomorrow"} {
		_, err := parseDate(s)
		require.Error(t, err, s)
	}
}

// navOf is a notice number of the test creditor's segregation code (or another).
func navOf(t *testing.T, segregation int, base int64) string {
	t.Helper()
	n, err := pagopa.NewNAV(segregation, base)
	require.NoError(t, err)
	return n.String()
}

func TestImportAdoptedAndPostal(t *testing.T) {
	t.Parallel()
	pool, cfg := newTestDB(t)
	existingDebt(t, pool, cfg, "DEBT-1")
	taken, err := dbgen.New(pool).GetDebtByIUPD(context.Background(), dbgen.GetDebtByIUPDParams{EcFiscalCode: cfg.Creditor.FiscalCode, Iupd: "DEBT-1"})
	require.NoError(t, err)
	nav := navOf(t, cfg.Creditor.Segregation, 7_000_000_000_001)
	bad := nav[:16] + fmt.Sprintf("%02d", (int(nav[16]-'0')*10+int(nav[17]-'0')+1)%93)
	extra := func(iupd string, email, street, cap, city, province, nav, iuv, status string) string {
		return line(iupd, "email", email) + ";" + strings.Join([]string{street, cap, city, province, nav, iuv, status}, ";")
	}
	const post = "Via Roma 1"
	file := csvOf(header+";indirizzo;cap;comune;provincia;nav;iuv;stato_gpd",
		extra("A-2", "", post, "21013", "Gallarate", "va", nav, "", "valid"),                         // 2: by post, adopted
		extra("A-3", "", "", "", "", "", "", "", ""),                                                 // 3: nowhere to write to
		extra("A-4", "", post, "2101", "Gallarate", "Varese", "", "", ""),                            // 4
		extra("A-5", "", post, "", "", "", "", "", ""),                                               // 5: part of an address
		extra("A-6", "m@example.it", "", "", "", "", bad, "", "VALID"),                               // 6: check digits
		extra("A-7", "m@example.it", "", "", "", "", navOf(t, 47, 12), "", "VALID"),                  // 7: another comune's
		extra("A-8", "m@example.it", "", "", "", "", navOf(t, 1, 13), "", ""),                        // 8: no state
		extra("A-9", "m@example.it", "", "", "", "", navOf(t, 1, 14), "", "PAID"),                    // 9: not to collect
		extra("A-10", "m@example.it", "", "", "", "", "", nav[1:], "VALID"),                          // 10: row 2's, as IUV
		extra("A-11", "m@example.it", "", "", "", "", taken.Nav, "", "VALID"),                        // 11: an existing debt's
		extra("A-12", "m@example.it", "", "", "", "", "", "", "DRAFT"),                               // 12: a state without nav
		extra("A-13", "m@example.it", "", "", "", "", navOf(t, 1, 15), navOf(t, 1, 16)[1:], "VALID"), // 13: nav and iuv differ
	)
	res, err := importString(t, pool, cfg, FormatCSV, file, Options{})
	require.ErrorIs(t, err, ErrInvalidFile)
	states := "required with a nav: the position's state in GPD, one of DRAFT, PUBLISHED, VALID"
	require.Equal(t, []RowError{
		{3, "email", "required unless the debtor has a PEC or a postal address (columns indirizzo, cap, comune, provincia), where notices then go by post"},
		{4, "cap", "required: the CAP, 5 digits"},
		{4, "provincia", "required: the province's two letters, such as MI"},
		{5, "cap", "required: the CAP, 5 digits"},
		{5, "comune", "required: the comune, at most 60 printable characters on one line"},
		{5, "provincia", "required: the province's two letters, such as MI"},
		{6, "nav", "not a valid notice number: 18 digits, aux digit 3 first and check digits last"},
		{7, "nav", "not of this comune's segregation code"},
		{8, "stato_gpd", states},
		{9, "stato_gpd", states},
		{10, "iuv", "the same notice number as row 2"},
		{11, "nav", "notice number already used by an existing debt"},
		{12, "stato_gpd", "only with the nav of a position taken over from the previous platform"},
		{13, "iuv", "must be the nav without its first digit, or left out"},
	}, res.Errors)
	for _, e := range res.Errors {
		require.NotContains(t, e.Message, nav[1:], "no notice number repeated")
	}
	requireNothingStored(t, pool)

	res, err = importString(t, pool, cfg, FormatCSV, file, Options{ValidOnly: true})
	require.NoError(t, err)
	require.Equal(t, 1, res.Valid)
	rows, err := dbgen.New(pool).NextCampaignRows(context.Background(), dbgen.NextCampaignRowsParams{CampaignID: res.CampaignID, Limit: 10})
	require.NoError(t, err)
	require.Len(t, rows, 1)
	r := rows[0]
	require.Equal(t, []string{"A-2", "", nav, "VALID", post, "21013", "Gallarate", "VA"},
		[]string{r.Iupd, r.DebtorEmail, r.Nav, r.GpdAdopted, r.DebtorStreet, r.DebtorPostalCode, r.DebtorCity, r.DebtorProvince})

	// Another campaign may not adopt the notice number this one will.
	res, err = importString(t, pool, cfg, FormatJSON, `[{"iupd": "J-1", "serviceCode": "TARI", "debtor": {"type": "F",
		"fiscalCode": "RSSMRA85T10A562S", "fullName": "Mario Rossi", "address": {"street": "Via Roma 1", "postalCode": "21013",
		"city": "Gallarate", "province": "XX1"}}, "amountCents": 100, "dueDate": "2027-01-31", "description": "IMU",
		"nav": "`+nav+`", "gpdStatus": "DRAFT"}]`, Options{Name: "json"})
	require.ErrorIs(t, err, ErrInvalidFile)
	require.Equal(t, []RowError{
		{1, "debtor.address.province", "required: the province's two letters, such as MI"},
	}, res.Errors)
	res, err = importString(t, pool, cfg, FormatJSON, `[{"iupd": "J-1", "serviceCode": "TARI", "debtor": {"type": "F",
		"fiscalCode": "RSSMRA85T10A562S", "fullName": "Mario Rossi", "pec": "m@pec.example.it"}, "amountCents": 100,
		"dueDate": "2027-01-31", "description": "IMU", "nav": "`+nav+`", "gpdStatus": "DRAFT"}]`, Options{Name: "json"})
	require.ErrorIs(t, err, ErrInvalidFile)
	require.Equal(t, []RowError{
		{1, "nav", fmt.Sprintf("notice number already used in campaign %d, which has not created that debt yet", rows[0].CampaignID)},
	}, res.Errors)
}
