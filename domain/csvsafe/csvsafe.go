// Package csvsafe writes CSV that is safe to open in a spreadsheet. A cell that starts with
// = + - @, a tab or a carriage return is read by Excel, LibreOffice and Google Sheets as a
// formula, so a debtor named =HYPERLINK(...) would come out live in the office that opens the
// file; Cell prefixes such a cell with an apostrophe, which spreadsheets read as "text", as
// OWASP's advice on CSV injection says. Every CSV incasso writes goes through it.
package csvsafe

import (
	"encoding/csv"
	"io"
	"strings"
)

// formulaStarts are the first characters that make a spreadsheet read a cell as a formula.
const formulaStarts = "=+-@\t\r"

// Cell returns s as a cell no spreadsheet evaluates: with a leading apostrophe when it starts
// with one of = + - @, a tab or a carriage return, else unchanged.
func Cell(s string) string {
	if s != "" && strings.ContainsRune(formulaStarts, rune(s[0])) {
		return "'" + s
	}
	return s
}

// Writer is a csv.Writer that passes every cell through Cell.
type Writer struct {
	w *csv.Writer
}

// NewWriter writes records to w, cells separated by comma, lines ended by CRLF when crlf is
// true (else LF), quoted as RFC 4180 wants.
func NewWriter(w io.Writer, comma rune, crlf bool) *Writer {
	cw := csv.NewWriter(w)
	cw.Comma, cw.UseCRLF = comma, crlf
	return &Writer{w: cw}
}

// Write writes one record, each cell through Cell; record itself is left as it was.
func (w *Writer) Write(record []string) error {
	safe := make([]string, len(record))
	for i, cell := range record {
		safe[i] = Cell(cell)
	}
	return w.w.Write(safe)
}

// Flush writes what is buffered and returns the first error of any write.
func (w *Writer) Flush() error {
	w.w.Flush()
	return w.w.Error()
}
