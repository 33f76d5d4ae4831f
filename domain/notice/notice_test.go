package notice

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"incasso/domain/date"
	"incasso/domain/money"
)

const sampleNAV = "322201151398574181"

func sample() Notice {
	return Notice{
		CreditorName:       "Comune di Gallarate",
		CreditorFiscalCode: "01234567890",
		DebtorName:         "Niccolò Ragù",
		DebtorFiscalCode:   "RGANCC80A01D869X",
		Subject:            "TARI 2026 - tassa sui rifiuti, unità immobiliare di via Verdi 3",
		Amount:             123456,
		DueDate:            date.Date{Year: 2026, Month: time.December, Day: 31},
		NoticeNumber:       sampleNAV,
	}
}

// planSample is sample payable in 3 instalments too, to a creditor with a postal account.
func planSample() Notice {
	n := sample()
	n.PostalAccount = "1011136627"
	n.Instalments = []Instalment{
		{"322201151398574282", 41152, date.Date{Year: 2026, Month: time.December, Day: 31}},
		{"322201151398574383", 41152, date.Date{Year: 2027, Month: time.January, Day: 31}},
		{"322201151398574484", 41152, date.Date{Year: 2027, Month: time.February, Day: 28}},
	}
	return n
}

func TestQRPayload(t *testing.T) {
	t.Parallel()
	require.Equal(t, "PAGOPA|002|322201151398574181|01234567890|12345",
		QRPayload(sampleNAV, "01234567890", 12345))
	require.Equal(t, "PAGOPA|002|322201151398574181|01234567890|05",
		QRPayload(sampleNAV, "01234567890", money.Cents(5)))
}

func TestGroupNoticeNumber(t *testing.T) {
	t.Parallel()
	require.Equal(t, "3222 0115 1398 5741 81", GroupNoticeNumber(sampleNAV))
	require.Equal(t, "3022 0115 1398 5741 81", GroupNoticeNumber("302201151398574181"))
}

func TestRenderValidation(t *testing.T) {
	t.Parallel()
	cases := []struct {
		field string
		edit  func(*Notice)
	}{
		{"CreditorName", func(n *Notice) { n.CreditorName = " " }},
		{"CreditorFiscalCode", func(n *Notice) { n.CreditorFiscalCode = "" }},
		{"CreditorFiscalCode", func(n *Notice) { n.CreditorFiscalCode = "0123456789X" }},
		{"DebtorName", func(n *Notice) { n.DebtorName = "" }},
		{"DebtorFiscalCode", func(n *Notice) { n.DebtorFiscalCode = "" }},
		{"Subject", func(n *Notice) { n.Subject = "" }},
		{"Subject", func(n *Notice) { n.Subject = strings.Repeat("à", 141) }},
		{"NoticeNumber", func(n *Notice) { n.NoticeNumber = "" }},
		{"NoticeNumber", func(n *Notice) { n.NoticeNumber = "32220115139857418" }},
		{"NoticeNumber", func(n *Notice) { n.NoticeNumber = "3222 0115 1398 5741 81" }},
		{"Amount", func(n *Notice) { n.Amount = 0 }},
		{"Amount", func(n *Notice) { n.Amount = -100 }},
		{"DueDate", func(n *Notice) { n.DueDate = date.Date{} }},

		{"Instalments has 1", func(n *Notice) { n.Instalments = n.Instalments[:1] }},
		{"Instalments has 37", func(n *Notice) { n.Instalments = make([]Instalment, 37) }},
		{"instalment 2: NoticeNumber", func(n *Notice) { n.Instalments[1].NoticeNumber = "32220115139857438" }},
		{"instalment 2: NoticeNumber", func(n *Notice) { n.Instalments[1].NoticeNumber = n.NoticeNumber }},
		{"instalment 3: NoticeNumber", func(n *Notice) { n.Instalments[2].NoticeNumber = n.Instalments[0].NoticeNumber }},
		{"instalment 1: Amount", func(n *Notice) { n.Instalments[0].Amount = 0 }},
		{"instalment 2: DueDate", func(n *Notice) { n.Instalments[1].DueDate = date.Date{} }},
		{"instalment 3: DueDate", func(n *Notice) { n.Instalments[2].DueDate = n.Instalments[1].DueDate }},
		{"Instalments add up to 1234.55", func(n *Notice) { n.Instalments[2].Amount-- }},

		{"PostalAccount", func(n *Notice) { n.PostalAccount = "1234567890123" }},
		{"PostalAccount", func(n *Notice) { n.PostalAccount = "1011-136627" }},
		{"DebtorFiscalCode", func(n *Notice) { n.DebtorFiscalCode = "RGANCC80A01D869XY" }},
		{"Amount", func(n *Notice) { n.Amount, n.Instalments = 10_000_000_000, nil }},
	}
	for _, c := range cases {
		n := planSample()
		c.edit(&n)
		var buf bytes.Buffer
		err := Render(&buf, n)
		require.ErrorIs(t, err, ErrInvalid, c.field)
		require.ErrorContains(t, err, c.field)
		require.Zero(t, buf.Len(), "nothing is written for an invalid notice")
	}
}

// longPlan is sample payable in 36 monthly instalments, the longest plan.
func longPlan() Notice {
	n := sample()
	for i := range maxInstalments {
		n.Instalments = append(n.Instalments, Instalment{
			NoticeNumber: fmt.Sprintf("3223%014d", i),
			Amount:       n.Amount / maxInstalments,
			DueDate:      date.Date{Year: 2027 + i/12, Month: time.Month(i%12 + 1), Day: 1},
		})
	}
	n.Instalments[0].Amount += n.Amount % maxInstalments
	return n
}

func TestRenderDeterministic(t *testing.T) {
	t.Parallel()
	for _, n := range []Notice{sample(), planSample(), longPlan()} {
		a, b := render(t, n), render(t, n)
		require.True(t, bytes.HasPrefix(a, []byte("%PDF-")))
		require.Equal(t, a, b)
	}
}

func TestRenderReadable(t *testing.T) {
	t.Parallel()
	requireTools(t, "pdftoppm", "pdftotext", "zbarimg")
	n := sample()
	pdf, pages := rasterise(t, render(t, n))
	require.Len(t, pages, 1)
	require.Equal(t, []string{QRPayload(n.NoticeNumber, n.CreditorFiscalCode, n.Amount)}, qrCodes(t, pages))

	text := run(t, "pdftotext", "-layout", pdf, "-")
	require.Contains(t, text, GroupNoticeNumber(n.NoticeNumber))
	require.Contains(t, text, "1.234,56 Euro")
	require.Contains(t, text, n.DebtorName, "accented letters survive the core fonts")
	require.Contains(t, text, "entro il 31/12/2026")
	require.NotContains(t, text, "BOLLETTINO POSTALE PA", "no Poste slip without a postal account")
}

func TestRenderAddressReadable(t *testing.T) {
	t.Parallel()
	requireTools(t, "pdftotext")
	n := sample()
	n.DebtorAddress = []string{"Via dei Mille 12", "21013 Gallarate (VA)"}
	path := filepath.Join(t.TempDir(), "avviso.pdf")
	require.NoError(t, os.WriteFile(path, render(t, n), 0o600))
	text := run(t, "pdftotext", "-layout", path, "-")
	require.Contains(t, text, "Via dei Mille 12")
	require.Contains(t, text, "21013 Gallarate (VA)")
	require.Contains(t, text, n.DebtorName)

	n.DebtorAddress = append(n.DebtorAddress, "Italia")
	require.ErrorIs(t, Render(&bytes.Buffer{}, n), ErrInvalid)
}

func TestRenderPlanReadable(t *testing.T) {
	t.Parallel()
	requireTools(t, "pdftoppm", "pdftotext", "zbarimg")
	n := planSample()
	pdf, pages := rasterise(t, render(t, n))
	require.Len(t, pages, 2, "the single payment, then a page of 3 instalments")

	want := []string{QRPayload(n.NoticeNumber, n.CreditorFiscalCode, n.Amount)}
	for _, in := range n.Instalments {
		want = append(want, QRPayload(in.NoticeNumber, n.CreditorFiscalCode, in.Amount))
	}
	require.ElementsMatch(t, want, qrCodes(t, pages))

	text := run(t, "pdftotext", "-layout", pdf, "-")
	require.Contains(t, text, "oppure in 3 rate")
	for i, in := range n.Instalments {
		require.Contains(t, text, fmt.Sprintf("Rata %d di 3", i+1))
		require.Contains(t, text, "entro il "+in.DueDate.Italian())
		require.Contains(t, text, GroupNoticeNumber(in.NoticeNumber))
	}
	require.Contains(t, text, "411,52 Euro")
	require.Contains(t, text, "C/C n. 1011136627")
}

func TestRenderPosteDataMatrix(t *testing.T) {
	t.Parallel()
	requireTools(t, "pdftoppm", "dmtxread")
	n := planSample()
	_, pages := rasterise(t, render(t, n))

	// dmtxread takes minutes to scan a whole page, and milliseconds once it has found as many
	// symbols as it was told to expect: the single payment's on page 1, the instalments' on page 2.
	expected := []int{1, 3}
	require.Len(t, pages, len(expected))
	var got []string
	for i, page := range pages {
		out := run(t, "dmtxread", "--newline", fmt.Sprintf("--stop-after=%d", expected[i]), "--milliseconds=60000", page)
		got = append(got, strings.Split(strings.TrimSuffix(out, "\n"), "\n")...)
	}

	var want []string
	for _, o := range n.options() {
		payload, err := PosteDataMatrixPayload(n, o.NoticeNumber)
		require.NoError(t, err)
		want = append(want, payload)
	}
	require.ElementsMatch(t, want, got)
}

func render(t *testing.T, n Notice) []byte {
	t.Helper()
	var buf bytes.Buffer
	require.NoError(t, Render(&buf, n))
	return buf.Bytes()
}

// debianPackages names the Debian package of each command the tests run.
var debianPackages = map[string]string{
	"pdftoppm":  "poppler-utils",
	"pdftotext": "poppler-utils",
	"zbarimg":   "zbar-tools",
	"dmtxread":  "dmtx-utils",
}

// requireTools skips t unless every command in tools is on PATH; with INCASSO_REQUIRE_E2E set,
// as `make test` does, it fails t instead.
func requireTools(t *testing.T, tools ...string) {
	t.Helper()
	for _, tool := range tools {
		if _, err := exec.LookPath(tool); err != nil {
			msg := fmt.Sprintf("%s not on PATH: install the Debian package %s to check the PDF", tool, debianPackages[tool])
			if os.Getenv("INCASSO_REQUIRE_E2E") != "" {
				t.Fatal(msg)
			}
			t.Skip(msg)
		}
	}
}

// rasterise writes pdf to a temporary file and renders its pages at 200 dpi, returning the
// file and the PNG of every page, in order.
func rasterise(t *testing.T, pdf []byte) (string, []string) {
	t.Helper()
	dir := t.TempDir()
	file := filepath.Join(dir, "notice.pdf")
	require.NoError(t, os.WriteFile(file, pdf, 0o600))
	run(t, "pdftoppm", "-png", "-r", "200", file, filepath.Join(dir, "page"))
	pages, err := filepath.Glob(filepath.Join(dir, "page-*.png")) // sorted; pdftoppm pads the numbers
	require.NoError(t, err)
	return file, pages
}

// qrCodes decodes every QR code on the pages.
func qrCodes(t *testing.T, pages []string) []string {
	t.Helper()
	args := append([]string{"--quiet", "--raw", "-Sdisable", "-Sqrcode.enable"}, pages...)
	return strings.Fields(run(t, "zbarimg", args...))
}

func run(t *testing.T, name string, args ...string) string {
	t.Helper()
	var stderr bytes.Buffer
	cmd := exec.CommandContext(t.Context(), name, args...)
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	require.NoError(t, err, "%s: %s", name, stderr.String())
	return string(out)
}
