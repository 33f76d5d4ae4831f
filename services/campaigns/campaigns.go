// Package campaigns imports collection campaigns: a file of up to 100,000 debts that the
// finance office prepares in a spreadsheet, checks in one go and, once it is clean, launches
// (the launch is the Campaign workflow's job, not this package's).
//
// # Formats
//
// "csv" is what Italian spreadsheet programs export: UTF-8 with or without BOM, fields
// separated by ";" or "," (whichever the header row uses), CRLF or LF line ends, fields
// quoted with " when they hold the separator, a quote or a line break. A header row is
// required; its names are case-insensitive (spaces count as _), in any order:
//
//	iupd            the debt's key, unique per comune: 1 to 35 of A-Z a-z 0-9 . _ -
//	servizio        the service code (TARI, IMU...)
//	tipo            F natural person, G legal person
//	codice_fiscale  the debtor's codice fiscale (16 characters) or partita IVA (11 digits)
//	nominativo      the debtor's name, at most 70 characters
//	email           the debtor's email address: may be empty when the debtor has a PEC or an address
//	pec             the debtor's PEC address: optional column, and may be empty
//	indirizzo, cap, comune, provincia
//	                the debtor's postal address (street and number, CAP of 5 digits, comune,
//	                province's 2 letters): optional columns, all empty or all given; required
//	                when email and pec are empty, and the notice then goes by post
//	importo         euro, with a decimal comma or point: 12,50  1.234,50  1234,5  12.50  80  € 12,50
//	scadenza        the due date: dd/mm/yyyy (also d/m/yyyy) or yyyy-mm-dd
//	causale         the description on the notice, at most 140 characters
//	nav, iuv        optional: the notice number of a position taken over from the previous
//	                platform (18 digits), or its IUV (17); it keeps it instead of a new one
//	stato_gpd       with nav or iuv: its state in GPD, DRAFT, PUBLISHED or VALID
//
// A missing column or an unknown one makes the whole file invalid. Rows whose fields are all
// empty (spreadsheets export them) are skipped. Rows are numbered by their line in the file,
// the header being line 1.
//
// "json" is an array of objects with the fields of the REST API's POST /v1/debts body
// (iupd, serviceCode, debtor{type, fiscalCode, fullName, email, pec, address{street,
// postalCode, city, province}}, amountCents, dueDate as yyyy-mm-dd, description, nav, iuv,
// gpdStatus), read one element at a time; rows are numbered from 1 by element.
//
// # Checks
//
// Every row goes through debts.New.Validate, the checks of POST /v1/debts, plus: amounts and
// dates readable, no iupd twice in the file, no iupd of an existing debt, nor of a row of
// another campaign not launched yet; the same for the notice numbers taken over. Messages name the row and the column and never repeat
// the values, which are personal data.
//
// The file is read as a stream, so memory stays flat whatever its size, apart from the set of
// iupds seen; the valid rows go into campaign_rows by COPY, in the same transaction as the
// campaign, which is committed only when the file is clean (or, with Options.ValidOnly, with
// the valid rows only).
package campaigns

import (
	"bytes"
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"hash"
	"io"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"incasso/app/config"
	"incasso/db/dbgen"
	"incasso/domain/chars"
	"incasso/domain/date"
	"incasso/services/debts"
)

const (
	// MaxRows is the most data rows a file may have.
	MaxRows = 100_000
	// MaxErrors is the most row errors a Result lists; Result.TotalErrors counts them all.
	MaxErrors = 1000
	// MaxNameLength is the longest campaign name, in characters.
	MaxNameLength = 200
)

// Formats of the files Import reads.
const (
	FormatCSV  = "csv"
	FormatJSON = "json"
)

var (
	// ErrInvalidFile is wrapped by every error about the file's content: a *FileError when
	// the file as a whole cannot be read, or rows in error listed in the Result.
	ErrInvalidFile = errors.New("invalid campaign file")
	// ErrInvalidOptions is returned, before anything is read, when the options are not
	// acceptable (a missing name, an unknown format).
	ErrInvalidOptions = errors.New("invalid import options")
)

// FileError is a problem with the file as a whole (not UTF-8, a bad header, malformed JSON,
// too many rows). Row is where it was found, 0 when nowhere in particular.
type FileError struct {
	Row     int
	Message string
}

func (e *FileError) Error() string {
	if e.Row > 0 {
		return fmt.Sprintf("row %d: %s", e.Row, e.Message)
	}
	return e.Message
}

// Unwrap makes every FileError an ErrInvalidFile.
func (e *FileError) Unwrap() error { return ErrInvalidFile }

// Options are the import's parameters.
type Options struct {
	Name      string    // required: 1 to 200 printable characters
	Filename  string    // the file's name, kept for the record
	ValidOnly bool      // store the valid rows and leave the others out, instead of refusing the file
	Today     date.Date // due dates before it are refused; zero means today in Rome
	CreatedBy string    // who imports (the API client's name)
}

// Result says what the import found and did.
type Result struct {
	CampaignID  int64 // zero when nothing was stored
	Rows        int   // data rows in the file
	Valid       int
	Rejected    int        // rows with at least one error
	Errors      []RowError // the first MaxErrors errors, by row
	TotalErrors int        // all the errors, listed or not
}

// RowError is one problem with one row. Row is the line in a CSV file (the header is 1), the
// element's position from 1 in a JSON file; Column is the CSV column's header name or the
// JSON field's path (debtor.fiscalCode), empty for the row as a whole.
type RowError struct {
	Row     int
	Column  string
	Message string
}

// Import reads a campaign file in the given format (FormatCSV or FormatJSON), checks every
// row and stores the campaign (status READY) with its valid rows, in one transaction.
//
// A file with errors is refused as a whole (nothing stored, CampaignID 0) with an error
// wrapping ErrInvalidFile and the errors in the Result, unless opts.ValidOnly: then the valid
// rows are stored, and the campaign records how many were rejected. A file without any valid
// row is never stored. A problem with the file as a whole is a *FileError. Other errors
// (reading src, the database) are returned as they are.
func Import(ctx context.Context, pool *pgxpool.Pool, cfg config.Config, src io.Reader, format string, opts Options) (Result, error) {
	if n := utf8.RuneCountInString(opts.Name); strings.TrimSpace(opts.Name) == "" || n > MaxNameLength || !chars.Printable(opts.Name) {
		return Result{}, fmt.Errorf("%w: the name is required, at most %d printable characters", ErrInvalidOptions, MaxNameLength)
	}
	if opts.Today.IsZero() {
		opts.Today = date.InRome(time.Now())
	}
	in := &hashingReader{r: src, h: sha256.New()}
	var rd rowReader
	switch format {
	case FormatCSV:
		rd = newCSVReader(in)
	case FormatJSON:
		rd = newJSONReader(in)
	default:
		return Result{}, fmt.Errorf("%w: unknown format %q", ErrInvalidOptions, format)
	}

	tx, err := pool.Begin(ctx)
	if err != nil {
		return Result{}, err
	}
	defer func() { _ = tx.Rollback(context.WithoutCancel(ctx)) }()
	q := dbgen.New(tx)
	id, err := q.CreateCampaign(ctx, dbgen.CreateCampaignParams{Name: opts.Name, SourceFilename: opts.Filename, CreatedBy: opts.CreatedBy})
	if err != nil {
		return Result{}, fmt.Errorf("create the campaign: %w", err)
	}

	cs := &copySource{rd: rd, in: in, cfg: cfg, today: opts.Today, campaignID: id, seen: map[string]int{}, seenNAV: map[string]int{},
		extended: rd.extended()}
	columns := rowColumns
	if cs.extended {
		columns = append(slices.Clip(rowColumns), extendedColumns...)
	}
	copied, err := tx.CopyFrom(ctx, pgx.Identifier{"campaign_rows"}, columns, cs)
	if cs.err != nil {
		return cs.res, cs.err // the reader's error, whatever became of the COPY
	}
	if err != nil {
		return Result{}, fmt.Errorf("copy the rows: %w", err)
	}
	res := cs.res
	if res.Rows == 0 {
		return Result{}, &FileError{Message: "the file has no data rows"}
	}

	// Against the debts and the other campaigns: set-based, after the COPY, one import at a time.
	if err := q.LockCampaignImports(ctx); err != nil {
		return Result{}, err
	}
	conflicts, err := q.CampaignImportConflicts(ctx, dbgen.CampaignImportConflictsParams{EcFiscalCode: cfg.Creditor.FiscalCode, CampaignID: id})
	if err != nil {
		return Result{}, fmt.Errorf("check the iupds and notice numbers: %w", err)
	}
	var taken []int32
	var conflictErrs []RowError
	for _, c := range conflicts {
		what := "iupd"
		if c.Field == "nav" {
			what = "notice number"
		}
		msg := what + " already used by an existing debt"
		if c.OtherCampaignID != 0 {
			msg = fmt.Sprintf("%s already used in campaign %d, which has not created that debt yet", what, c.OtherCampaignID)
		}
		res.TotalErrors++
		if len(conflictErrs) < MaxErrors {
			conflictErrs = append(conflictErrs, RowError{Row: int(c.RowNo), Column: rd.column(c.Field), Message: msg})
		}
		if len(taken) == 0 || taken[len(taken)-1] != c.RowNo { // by row_no
			taken = append(taken, c.RowNo)
		}
	}
	if len(conflictErrs) > 0 {
		res.Errors = append(res.Errors, conflictErrs...)
		slices.SortStableFunc(res.Errors, func(a, b RowError) int { return a.Row - b.Row })
		res.Errors = res.Errors[:min(len(res.Errors), MaxErrors)]
	}
	res.Rejected += len(taken)
	res.Valid = res.Rows - res.Rejected
	if int(copied) != res.Rows-cs.rejected {
		return Result{}, fmt.Errorf("copied %d rows instead of %d", copied, res.Rows-cs.rejected)
	}

	if res.TotalErrors > 0 && (!opts.ValidOnly || res.Valid == 0) {
		return res, fmt.Errorf("%w: %d errors in %d of %d rows", ErrInvalidFile, res.TotalErrors, res.Rejected, res.Rows)
	}
	if len(taken) > 0 {
		if err := q.DeleteCampaignRows(ctx, dbgen.DeleteCampaignRowsParams{CampaignID: id, RowNos: taken}); err != nil {
			return Result{}, fmt.Errorf("leave out the rows whose iupd is taken: %w", err)
		}
	}
	if err := q.FinishCampaignImport(ctx, dbgen.FinishCampaignImportParams{
		ID: id, SourceSha256: in.h.Sum(nil), RowsTotal: int32(res.Rows), RowsRejected: int32(res.Rejected),
	}); err != nil {
		return Result{}, fmt.Errorf("record the campaign: %w", err)
	}
	if err := tx.Commit(ctx); err != nil {
		return Result{}, fmt.Errorf("commit the campaign: %w", err)
	}
	res.CampaignID = id
	return res, nil
}

// rowColumns are the columns of campaign_rows the import fills, in copySource.Values' order,
// and extendedColumns those it fills too when the file may have them (a CSV file without
// their columns leaves them to their defaults, which COPY then need not send).
var (
	rowColumns = []string{
		"campaign_id", "row_no", "iupd", "service_code", "debtor_type", "debtor_fiscal_code", "debtor_name",
		"debtor_email", "debtor_pec", "amount_cents", "due_date", "description",
	}
	extendedColumns = []string{"nav", "gpd_adopted", "debtor_street", "debtor_postal_code", "debtor_city", "debtor_province"}
)

// hashingReader hashes every byte read and keeps the first error other than io.EOF, so that
// a failure to read (a body over its limit, a dropped connection) is never taken for a
// malformed file.
type hashingReader struct {
	r   io.Reader
	h   hash.Hash
	err error
}

func (r *hashingReader) Read(p []byte) (int, error) {
	n, err := r.r.Read(p)
	r.h.Write(p[:n])
	if err != nil && err != io.EOF && r.err == nil {
		r.err = err
	}
	return n, err
}

// maxLineBytes bounds a line of a CSV file, and maxElementBytes an element of a JSON file
// (with the blanks before it): a row is well under 2 KiB, and a reader must never have to
// hold more than this at once, whatever the file.
const (
	maxLineBytes    = 64 << 10
	maxElementBytes = 1 << 20
)

// lineGuard stops a CSV file at the first line longer than maxLineBytes.
type lineGuard struct {
	r       io.Reader
	line    int // complete lines read
	lineLen int
}

func (g *lineGuard) Read(p []byte) (int, error) {
	n, err := g.r.Read(p)
	for rest := p[:n]; ; {
		i := bytes.IndexByte(rest, '\n')
		if i < 0 {
			g.lineLen += len(rest)
			break
		}
		if g.lineLen += i; g.lineLen > maxLineBytes {
			break
		}
		g.line, g.lineLen, rest = g.line+1, 0, rest[i+1:]
	}
	if g.lineLen > maxLineBytes {
		return 0, &FileError{Row: g.line + 1, Message: fmt.Sprintf("the line is longer than %d bytes", maxLineBytes)}
	}
	return n, err
}

// elementGuard stops a JSON file when the decoder must read more than maxElementBytes past
// where it is: an element too large, or a flood of blanks.
type elementGuard struct {
	r     io.Reader
	read  int64
	limit int64 // set before each read of an element
}

var errElementTooLarge = fmt.Errorf("an element is larger than %d bytes", maxElementBytes)

func (g *elementGuard) Read(p []byte) (int, error) {
	if g.read > g.limit {
		return 0, errElementTooLarge
	}
	n, err := g.r.Read(p)
	g.read += int64(n)
	return n, err
}

// row is a data row as read, before the checks common to every format.
type row struct {
	no   int
	debt debts.New
	errs []fieldError // found while reading (unreadable amount, wrong type...)
	// unreadable rows are not checked any further: their fields are not where they belong
	unreadable bool
}

// fieldError is a problem with a field named as in debts.FieldError ("" for the whole row).
type fieldError struct {
	field, message string
}

// rowReader reads a file's data rows one at a time.
type rowReader interface {
	// next returns the next data row, io.EOF after the last, a *FileError when the file
	// cannot be read any further.
	next() (row, error)
	// column names a field (as in debts.FieldError) the way the file does.
	column(field string) string
	// message rewords a debts.FieldError message for the file's format.
	message(field, msg string) string
	// extended tells whether rows may have a postal address or a notice number taken over.
	extended() bool
}

// fieldRank orders a row's errors as the fields of the REST API.
var fieldRank = map[string]int{
	"iupd": 1, "serviceCode": 2, "debtor": 3, "debtor.type": 3, "debtor.fiscalCode": 4, "debtor.fullName": 5,
	"debtor.email": 6, "debtor.pec": 7, "debtor.address.street": 8, "debtor.address.postalCode": 9,
	"debtor.address.city": 10, "debtor.address.province": 11, "amountCents": 12, "dueDate": 13, "description": 14,
	"nav": 15, "iuv": 15, "gpdStatus": 16,
}

// copySource feeds the valid rows to COPY while it reads and checks the file: it is the
// import's only loop over the rows, so memory does not grow with them.
type copySource struct {
	rd         rowReader
	in         *hashingReader
	cfg        config.Config
	today      date.Date
	campaignID int64
	seen       map[string]int // iupd -> first row
	seenNAV    map[string]int // notice number taken over -> first row
	extended   bool           // the rows fill extendedColumns too
	vals       []any
	res        Result
	rejected   int // rows rejected while reading
	err        error
}

func (s *copySource) Next() bool {
	for {
		r, err := s.rd.next()
		if s.in.err != nil { // a read error is never the file's fault
			s.err = fmt.Errorf("read the file: %w", s.in.err)
			return false
		}
		if err == io.EOF {
			if _, err := io.Copy(io.Discard, s.in); err != nil { // the checksum covers every byte
				s.err = fmt.Errorf("read the file: %w", err)
			}
			return false
		}
		if err != nil {
			s.err = err
			return false
		}
		if s.res.Rows++; s.res.Rows > MaxRows {
			s.err = &FileError{Row: r.no, Message: fmt.Sprintf("the file has more than %d rows", MaxRows)}
			return false
		}
		if errs := s.check(&r); len(errs) > 0 {
			s.rejected++
			s.res.Rejected++
			s.res.TotalErrors += len(errs)
			for _, e := range errs {
				if len(s.res.Errors) < MaxErrors {
					s.res.Errors = append(s.res.Errors, e)
				}
			}
			continue
		}
		d := r.debt
		s.vals = append(s.vals[:0], s.campaignID, int32(r.no), d.IUPD, d.ServiceCode, d.Debtor.Type,
			d.Debtor.FiscalCode, d.Debtor.FullName, d.Debtor.Email, d.Debtor.PEC, int64(d.Amount), d.DueDate.Time(), d.Description)
		if s.extended {
			a := d.Debtor.Address
			s.vals = append(s.vals, d.AdoptedNAV(), d.GPDStatus, a.Street, a.PostalCode, a.City, a.Province)
		}
		return true
	}
}

func (s *copySource) Values() ([]any, error) { return s.vals, nil }

func (s *copySource) Err() error { return s.err }

// check normalises and validates the row as POST /v1/debts does, and looks for its iupd
// earlier in the file.
func (s *copySource) check(r *row) []RowError {
	if r.unreadable {
		return s.rowErrors(r.no, r.errs)
	}
	r.debt.Normalize()
	errs := r.errs
	for _, fe := range r.debt.Validate(s.today, s.cfg.Creditor, s.cfg.Services) {
		said := func(e fieldError) bool { return e.field == fe.Field || strings.HasPrefix(fe.Field, e.field+".") }
		if !slices.ContainsFunc(r.errs, said) {
			errs = append(errs, fieldError{fe.Field, s.rd.message(fe.Field, fe.Message)})
		}
	}
	if iupd := r.debt.IUPD; debts.ValidIUPD(iupd) {
		if first, dup := s.seen[iupd]; dup {
			errs = append(errs, fieldError{"iupd", fmt.Sprintf("the same iupd as row %d", first)})
		} else {
			s.seen[strings.Clone(iupd)] = r.no // not a slice of the whole row
		}
	}
	if nav := r.debt.AdoptedNAV(); nav != "" && len(errs) == 0 {
		if first, dup := s.seenNAV[nav]; dup {
			field := "nav"
			if r.debt.NAV == "" {
				field = "iuv"
			}
			errs = append(errs, fieldError{field, fmt.Sprintf("the same notice number as row %d", first)})
		} else {
			s.seenNAV[strings.Clone(nav)] = r.no
		}
	}
	return s.rowErrors(r.no, errs)
}

// rowErrors sorts a row's errors by field and names their columns.
func (s *copySource) rowErrors(no int, errs []fieldError) []RowError {
	if len(errs) == 0 {
		return nil
	}
	slices.SortStableFunc(errs, func(a, b fieldError) int { return fieldRank[a.field] - fieldRank[b.field] })
	out := make([]RowError, len(errs))
	for i, e := range errs {
		out[i] = RowError{Row: no, Column: s.rd.column(e.field), Message: e.message}
	}
	return out
}
