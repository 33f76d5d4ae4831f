package notice

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"incasso/date"
	"incasso/money"
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
	}
	for _, c := range cases {
		n := sample()
		c.edit(&n)
		var buf bytes.Buffer
		err := Render(&buf, n)
		require.ErrorIs(t, err, ErrInvalid, c.field)
		require.ErrorContains(t, err, c.field)
		require.Zero(t, buf.Len(), "nothing is written for an invalid notice")
	}
}

func TestRenderDeterministic(t *testing.T) {
	t.Parallel()
	var a, b bytes.Buffer
	require.NoError(t, Render(&a, sample()))
	require.NoError(t, Render(&b, sample()))
	require.True(t, bytes.HasPrefix(a.Bytes(), []byte("%PDF-")))
	require.Equal(t, a.Bytes(), b.Bytes())
}

func TestRenderReadable(t *testing.T) {
	t.Parallel()
	n := sample()
	var buf bytes.Buffer
	require.NoError(t, Render(&buf, n))
	require.True(t, bytes.HasPrefix(buf.Bytes(), []byte("%PDF-")))

	for _, tool := range []string{"pdftoppm", "pdftotext", "zbarimg"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Skipf("%s not on PATH: install the Debian packages poppler-utils zbar-tools to check the PDF", tool)
		}
	}
	dir := t.TempDir()
	pdf := filepath.Join(dir, "notice.pdf")
	require.NoError(t, os.WriteFile(pdf, buf.Bytes(), 0o600))

	run(t, "pdftoppm", "-png", "-r", "200", "-f", "1", "-l", "1", "-singlefile", pdf, filepath.Join(dir, "page"))
	decoded := run(t, "zbarimg", "--quiet", "--raw", filepath.Join(dir, "page.png"))
	require.Equal(t, QRPayload(n.NoticeNumber, n.CreditorFiscalCode, n.Amount), strings.TrimSpace(decoded))

	text := run(t, "pdftotext", "-layout", pdf, "-")
	require.Contains(t, text, GroupNoticeNumber(n.NoticeNumber))
	require.Contains(t, text, "1.234,56 Euro")
	require.Contains(t, text, n.DebtorName, "accented letters survive the core fonts")
	require.Contains(t, text, "entro il 31/12/2026")
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
