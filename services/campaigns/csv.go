package campaigns

import (
	"bufio"
	"bytes"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"
	"unicode/utf8"

	"incasso/domain/date"
	"incasso/domain/money"
	"incasso/services/debts"
)

// The CSV columns, in csvColumns.
const (
	colIUPD = iota
	colService
	colType
	colFiscalCode
	colName
	colEmail
	colPEC
	colAmount
	colDueDate
	colDescription
	colStreet
	colPostalCode
	colCity
	colProvince
	colNAV
	colIUV
	colGPDStatus
	nColumns
)

// The CSV columns, by the name of the debts.FieldError field each fills.
var csvColumns = [nColumns]struct{ name, field string }{
	colIUPD:        {"iupd", "iupd"},
	colService:     {"servizio", "serviceCode"},
	colType:        {"tipo", "debtor.type"},
	colFiscalCode:  {"codice_fiscale", "debtor.fiscalCode"},
	colName:        {"nominativo", "debtor.fullName"},
	colEmail:       {"email", "debtor.email"},
	colPEC:         {"pec", "debtor.pec"},
	colAmount:      {"importo", "amountCents"},
	colDueDate:     {"scadenza", "dueDate"},
	colDescription: {"causale", "description"},
	colStreet:      {"indirizzo", "debtor.address.street"},
	colPostalCode:  {"cap", "debtor.address.postalCode"},
	colCity:        {"comune", "debtor.address.city"},
	colProvince:    {"provincia", "debtor.address.province"},
	colNAV:         {"nav", "nav"},
	colIUV:         {"iuv", "iuv"},
	colGPDStatus:   {"stato_gpd", "gpdStatus"},
}

// optionalColumns are the columns a file may leave out: a debtor's PEC and postal address, and
// the notice number and GPD state of a position taken over from the previous platform.
var optionalColumns = map[string]bool{
	"pec": true, "indirizzo": true, "cap": true, "comune": true, "provincia": true, "nav": true, "iuv": true, "stato_gpd": true,
}

// maxHeaderBytes bounds the header line, which is read ahead to find the separator.
const maxHeaderBytes = maxLineBytes

type csvReader struct {
	br     *bufio.Reader
	r      *csv.Reader
	index  map[string]int // column name -> position in the record
	pos    [nColumns]int  // csvColumns' positions in the record, -1 when missing
	fields int            // fields in the header
	err    error          // of the header, returned by the first next
}

func newCSVReader(in io.Reader) *csvReader {
	c := &csvReader{br: bufio.NewReaderSize(&lineGuard{r: in}, maxHeaderBytes)}
	c.err = c.readHeader()
	return c
}

func (c *csvReader) extended() bool {
	for col := colStreet; col < nColumns; col++ {
		if c.pos[col] >= 0 {
			return true
		}
	}
	return false
}

func (c *csvReader) column(field string) string {
	for _, col := range csvColumns {
		if col.field == field {
			return col.name
		}
	}
	return field
}

func (c *csvReader) message(field, msg string) string {
	switch {
	case field == "debtor.email" && strings.HasPrefix(msg, "required unless"):
		return "required unless the debtor has a PEC or a postal address (columns indirizzo, cap, comune, provincia), where notices then go by post"
	case field == "dueDate" && msg == debts.MissingDate:
		return "required: a date as dd/mm/yyyy or yyyy-mm-dd"
	case field == "amountCents" && strings.HasPrefix(msg, "must be an integer number of cents"):
		return fmt.Sprintf("must be from 0,01 to %s euro", debts.MaxAmount.Italian())
	}
	return msg
}

// readHeader skips a UTF-8 BOM, picks the separator the header line uses most (";" unless
// "," is more frequent) and maps the columns.
func (c *csvReader) readHeader() error {
	if b, _ := c.br.Peek(3); bytes.HasPrefix(b, []byte("\xef\xbb\xbf")) {
		_, _ = c.br.Discard(3)
	} else if bytes.HasPrefix(b, []byte("\xff\xfe")) || bytes.HasPrefix(b, []byte("\xfe\xff")) {
		return &FileError{Row: 1, Message: "the file is UTF-16: save it as CSV UTF-8"}
	}
	ahead, err := c.br.Peek(maxHeaderBytes)
	var fe *FileError
	if errors.As(err, &fe) {
		return fe
	}
	line, _, found := bytes.Cut(ahead, []byte("\n"))
	if !found && len(ahead) == maxHeaderBytes {
		return &FileError{Row: 1, Message: fmt.Sprintf("the header row is longer than %d bytes", maxHeaderBytes)}
	}
	sep := ';'
	if semi, comma := countOutsideQuotes(line, ';'), countOutsideQuotes(line, ','); comma > semi {
		sep = ','
	}
	c.r = csv.NewReader(c.br)
	c.r.Comma = sep
	c.r.FieldsPerRecord = -1 // a row with too few or too many fields is that row's error
	c.r.ReuseRecord = true

	header, err := c.r.Read()
	if err == io.EOF {
		return &FileError{Message: "the file is empty"}
	}
	if err != nil {
		return csvError(err)
	}
	for _, h := range header {
		if !utf8.ValidString(h) {
			return notUTF8(1)
		}
	}
	c.fields = len(header)
	c.index = map[string]int{}
	known := map[string]bool{}
	for _, col := range csvColumns {
		known[col.name] = true
	}
	var unknown, twice, missing []string
	unnamed := 0
	for i, h := range header {
		name := strings.ToLower(strings.Join(strings.Fields(h), "_"))
		switch _, dup := c.index[name]; {
		case name == "":
			unnamed++
		case !known[name]:
			unknown = append(unknown, fmt.Sprintf("%q", truncate(name, 40)))
		case dup:
			twice = append(twice, name)
		default:
			c.index[name] = i
		}
	}
	for _, col := range csvColumns {
		if _, ok := c.index[col.name]; !ok && !optionalColumns[col.name] {
			missing = append(missing, col.name)
		}
	}
	if len(c.index) == 0 { // not a header at all, perhaps a row of data: repeat nothing of it
		return &FileError{Row: 1, Message: "the first row must be the header, naming the columns " + columnList()}
	}
	var problems []string
	if len(missing) > 0 {
		problems = append(problems, "missing column "+strings.Join(missing, ", "))
	}
	if len(unknown) > 0 {
		problems = append(problems, "unknown column "+strings.Join(unknown, ", "))
	}
	if len(twice) > 0 {
		problems = append(problems, "column "+strings.Join(twice, ", ")+" given twice")
	}
	if unnamed > 0 {
		problems = append(problems, fmt.Sprintf("%d column(s) without a name", unnamed))
	}
	if len(problems) > 0 {
		return &FileError{Row: 1, Message: strings.Join(problems, "; ") + " (the columns are " + columnList() + ")"}
	}
	for k, col := range csvColumns {
		c.pos[k] = -1
		if i, ok := c.index[col.name]; ok {
			c.pos[k] = i
		}
	}
	return nil
}

func columnList() string {
	var names []string
	for _, col := range csvColumns {
		n := col.name
		if optionalColumns[n] {
			n += " (optional)"
		}
		names = append(names, n)
	}
	return strings.Join(names, ", ")
}

func (c *csvReader) next() (row, error) {
	if c.err != nil {
		return row{}, c.err
	}
	for {
		rec, err := c.r.Read()
		if err == io.EOF {
			return row{}, io.EOF
		}
		if err != nil {
			return row{}, csvError(err)
		}
		line, _ := c.r.FieldPos(0)
		blank := true
		for _, f := range rec {
			if !utf8.ValidString(f) {
				return row{}, notUTF8(line)
			}
			blank = blank && strings.TrimSpace(f) == ""
		}
		if blank {
			continue
		}
		return c.row(line, rec), nil
	}
}

// row maps a record to a debt, reading the amount and the due date.
func (c *csvReader) row(line int, rec []string) row {
	r := row{no: line}
	if len(rec) != c.fields {
		r.errs = append(r.errs, fieldError{"", fmt.Sprintf("the row has %d fields, the header %d", len(rec), c.fields)})
		r.unreadable = true // its values are not under their columns
		return r
	}
	get := func(col int) string {
		if i := c.pos[col]; i >= 0 && i < len(rec) {
			return strings.TrimSpace(rec[i])
		}
		return ""
	}
	d := &r.debt
	d.IUPD = get(colIUPD)
	d.ServiceCode = get(colService)
	d.Debtor.Type = strings.ToUpper(get(colType))
	d.Debtor.FiscalCode = get(colFiscalCode)
	d.Debtor.FullName = get(colName)
	d.Debtor.Email = get(colEmail)
	d.Debtor.PEC = get(colPEC)
	d.Debtor.Address = debts.Address{Street: get(colStreet), PostalCode: get(colPostalCode), City: get(colCity), Province: get(colProvince)}
	d.NAV, d.IUV, d.GPDStatus = get(colNAV), get(colIUV), get(colGPDStatus)
	d.Description = get(colDescription)
	var err error
	if d.Amount, err = parseEuro(get(colAmount)); err != nil {
		r.errs = append(r.errs, fieldError{"amountCents", err.Error()})
	}
	if s := get(colDueDate); s != "" { // missing: reported by Validate
		if d.DueDate, err = parseDate(s); err != nil {
			r.errs = append(r.errs, fieldError{"dueDate", err.Error()})
		}
	}
	return r
}

// csvError turns a syntax error into a FileError at its line; other errors pass.
func csvError(err error) error {
	var pe *csv.ParseError
	if errors.As(err, &pe) {
		msg := pe.Err.Error()
		switch {
		case errors.Is(pe.Err, csv.ErrQuote):
			msg = `a quoted field is not closed, or a " inside it is not doubled`
		case errors.Is(pe.Err, csv.ErrBareQuote):
			msg = `a field not in quotes contains a ": put the field in quotes and double the "`
		}
		return &FileError{Row: pe.StartLine, Message: msg}
	}
	return err
}

func notUTF8(line int) error {
	return &FileError{Row: line, Message: "the file is not UTF-8: save it as CSV UTF-8"}
}

// countOutsideQuotes counts the bytes sep in a CSV line outside quoted fields.
func countOutsideQuotes(line []byte, sep byte) int {
	n, quoted := 0, false
	for _, b := range line {
		switch {
		case b == '"':
			quoted = !quoted
		case b == sep && !quoted:
			n++
		}
	}
	return n
}

func truncate(s string, n int) string {
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	return string([]rune(s)[:n]) + "…"
}

// parseEuro reads an amount of euro as spreadsheets write it: a decimal comma with dots
// grouping the thousands (1.234,50), or a decimal point (1234.50), or whole euro (80). A
// point followed by three digits and nothing else (1.234) is refused as ambiguous. A euro
// sign before or after is allowed. Errors never repeat the value.
// Errors of parseEuro and parseDate, made once: a file has many rows.
var (
	errBadEuro = errors.New("not an amount in euro: write it as 1234,50 or 1.234,50")
	errBadDate = errors.New("not a date: write it as dd/mm/yyyy or yyyy-mm-dd")
)

func parseEuro(s string) (money.Cents, error) {
	s = strings.TrimSpace(strings.TrimSuffix(strings.TrimPrefix(strings.TrimSpace(s), "€"), "€"))
	if s == "" {
		return 0, errors.New("required: an amount in euro such as 12,50")
	}
	bad := errBadEuro
	var whole, frac string
	switch {
	case strings.Contains(s, ","):
		var ok bool
		whole, frac, ok = strings.Cut(s, ",")
		if !ok || strings.Contains(frac, ",") {
			return 0, bad
		}
		if strings.Contains(whole, ".") {
			groups := strings.Split(whole, ".")
			if len(groups[0]) < 1 || len(groups[0]) > 3 {
				return 0, bad
			}
			for _, g := range groups[1:] {
				if len(g) != 3 {
					return 0, bad
				}
			}
			whole = strings.Join(groups, "")
		}
	case strings.Count(s, ".") == 1:
		whole, frac, _ = strings.Cut(s, ".")
		if len(frac) == 3 {
			return 0, errors.New("ambiguous amount: write it with a decimal comma, as 1.234,00 or 1234,00")
		}
	default:
		whole = s
	}
	if whole == "" || len(whole) > 13 || len(frac) > 2 || (frac == "" && strings.ContainsAny(s, ",.")) ||
		!allDigits(whole) || !allDigits(frac) {
		return 0, bad
	}
	var c int64
	for _, r := range whole {
		c = c*10 + int64(r-'0')
	}
	c *= 100
	switch len(frac) {
	case 1:
		c += int64(frac[0]-'0') * 10
	case 2:
		c += int64(frac[0]-'0')*10 + int64(frac[1]-'0')
	}
	return money.Cents(c), nil
}

func allDigits(s string) bool {
	for i := range len(s) {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

// parseDate reads a date as dd/mm/yyyy (d/m/yyyy too) or yyyy-mm-dd.
func parseDate(s string) (date.Date, error) {
	bad := errBadDate
	day, rest, ok := strings.Cut(s, "/")
	if !ok { // ISO; tried last, a failing time.Parse costs
		if d, err := date.Parse(s); err == nil {
			return d, nil
		}
		return date.Date{}, bad
	}
	month, year, ok := strings.Cut(rest, "/")
	if !ok || strings.Contains(year, "/") {
		return date.Date{}, bad
	}
	if len(year) == 2 && allDigits(year) {
		return date.Date{}, errors.New("write the year with four digits: dd/mm/yyyy")
	}
	if len(day) < 1 || len(day) > 2 || len(month) < 1 || len(month) > 2 || len(year) != 4 ||
		!allDigits(day) || !allDigits(month) || !allDigits(year) {
		return date.Date{}, bad
	}
	d := date.Date{Year: atoi(year), Month: time.Month(atoi(month)), Day: atoi(day)}
	if date.Of(d.Time()) != d { // 31/02, 00/13...
		return date.Date{}, errors.New("not a date of the calendar")
	}
	return d, nil
}

func atoi(digits string) int {
	n := 0
	for i := range len(digits) {
		n = n*10 + int(digits[i]-'0')
	}
	return n
}
