package api

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"time"

	"github.com/labstack/echo/v4"

	"incasso/db"
	"incasso/db/dbgen"
	"incasso/domain/fiscalcode"
	"incasso/services/search"
)

// maxFilePositions is how many positions a debtor's file shows, latest due first.
const maxFilePositions = 1000

// searchRequest reads a search from the query (GET) or the JSON body (POST) and validates it.
// A GET must not carry a fiscal code: URLs end up in logs and browser histories.
func (s *Server) searchRequest(c echo.Context) (search.Query, error) {
	var req search.Request
	var errs []FieldError
	if c.Request().Method == http.MethodGet {
		if req, errs = search.FromQuery(c.QueryParams()); c.QueryParams().Has("debtor") {
			errs = append(errs, FieldError{Field: "debtor", Message: "a fiscal code must not travel in a URL: POST the search with it in the JSON body"})
			req.Debtor = ""
		}
	} else if err := decodeJSON(c, &req); err != nil {
		return search.Query{}, err
	}
	q, more := req.Validate(s.Config.Services)
	if errs = append(errs, more...); len(errs) > 0 {
		return q, invalid(errs)
	}
	return q, nil
}

func (s *Server) searcher() search.Searcher {
	return search.Searcher{Pool: s.Pool, ECFiscalCode: s.Config.Creditor.FiscalCode}
}

// auditSearch puts in the request's audit entry the debtor the search names, if any (the
// route's rule has the trail record the read itself).
func (s *Server) auditSearch(c echo.Context, f search.Filter) {
	if f.Debtor != "" {
		s.auditDebtor(c, f.Debtor)
	}
}

func (s *Server) searchDebts(c echo.Context) error {
	q, err := s.searchRequest(c)
	if err != nil {
		return err
	}
	page, err := s.searcher().Search(c.Request().Context(), q)
	if err != nil {
		return err
	}
	s.auditSearch(c, q.Filter)
	auditTarget(c, "debts", strconv.Itoa(len(page.Debts)))
	return c.JSON(http.StatusOK, page)
}

// exportDebts streams every debt of the filter as CSV (debts.csv) or JSON Lines (debts.jsonl).
func (s *Server) exportDebts(format string) echo.HandlerFunc {
	return func(c echo.Context) error {
		q, err := s.searchRequest(c)
		if err != nil {
			return err
		}
		s.auditSearch(c, q.Filter)
		h := c.Response().Header()
		name := "posizioni-" + s.Now().In(time.UTC).Format("20060102-150405") + "." + format
		h.Set(echo.HeaderContentDisposition, `attachment; filename="`+name+`"`)
		var w search.RowWriter
		if format == "csv" {
			h.Set(echo.HeaderContentType, "text/csv; charset=utf-8")
			c.Response().WriteHeader(http.StatusOK)
			w = search.NewCSV(c.Response())
		} else {
			h.Set(echo.HeaderContentType, "application/jsonl; charset=utf-8")
			c.Response().WriteHeader(http.StatusOK)
			w = search.NewJSONLines(c.Response())
		}
		if _, err := s.searcher().Export(c.Request().Context(), q, w); err != nil {
			// The status is sent: the client sees a truncated body, the log says why.
			s.Log.Error("export debts", "format", format, "err", err)
		}
		return nil
	}
}

// DebtorFileRequest is the body of POST /v1/debtors/file.
type DebtorFileRequest struct {
	FiscalCode string `json:"fiscalCode"`
}

// DebtorFile is the file of one debtor (fascicolo del contribuente): every position of the
// person or company across services and years, latest due first, and the balance of them all.
type DebtorFile struct {
	// Debtor is who the latest position names (its email and PEC the latest known).
	Debtor    Debtor           `json:"debtor"`
	Balance   search.Totals    `json:"balance"`
	Positions []DebtorPosition `json:"positions"`
	// Truncated says that the debtor has more positions than the file shows.
	Truncated bool `json:"truncated,omitempty"`
}

// DebtorPosition is one debt of the file: the debt as GET /v1/debts/{iupd} shows it, its
// notices and its instalment plan (IBAN masked).
type DebtorPosition struct {
	DebtResponse
	Notices        []Notice `json:"notices"`
	InstalmentPlan *Plan    `json:"instalmentPlan,omitempty"`
}

// Notice is a document issued for a debt (the payment notice, one per revision).
type Notice struct {
	Kind      string    `json:"kind"`
	Revision  int       `json:"revision"`
	Filename  string    `json:"filename"`
	SHA256    string    `json:"sha256"`
	CreatedAt time.Time `json:"createdAt"`
}

func (s *Server) debtorFile(c echo.Context) error {
	var req DebtorFileRequest
	if err := decodeJSON(c, &req); err != nil {
		return err
	}
	fc := fiscalcode.Normalize(req.FiscalCode)
	if _, err := fiscalcode.Validate(fc); err != nil {
		return invalid([]FieldError{{Field: "fiscalCode", Message: "not a valid codice fiscale or partita IVA"}})
	}
	file, err := s.debtorFileOf(c.Request().Context(), fc)
	if errors.Is(err, db.ErrNotFound) {
		return problem(http.StatusNotFound, "no position of this debtor")
	} else if err != nil {
		return err
	}
	s.auditDebtor(c, fc)
	return c.JSON(http.StatusOK, file)
}

// ConsoleDebt is the debt iupd as the debtor's file shows it (a DebtorPosition), for the
// console's debt page (console.Deps.Debt); db.ErrNotFound when there is none.
func (s *Server) ConsoleDebt(ctx context.Context, iupd string) (any, error) {
	q := dbgen.New(s.Pool)
	d, err := q.GetDebtByIUPD(ctx, dbgen.GetDebtByIUPDParams{EcFiscalCode: s.Config.Creditor.FiscalCode, Iupd: iupd})
	if err = db.NotFound(err); err != nil {
		return nil, err
	}
	return s.positionOf(ctx, q, d)
}

// ConsoleDebtorFile is the debtor's file (a DebtorFile), for the console's search box
// (console.Deps.DebtorFile); db.ErrNotFound when no position names the debtor.
func (s *Server) ConsoleDebtorFile(ctx context.Context, fiscalCode string) (any, error) {
	return s.debtorFileOf(ctx, fiscalCode)
}

// positionOf is the debt with its notices and its instalment plan, if any.
func (s *Server) positionOf(ctx context.Context, q *dbgen.Queries, d dbgen.DebtPosition) (DebtorPosition, error) {
	p := DebtorPosition{Notices: []Notice{}}
	var err error
	if p.DebtResponse, err = s.debtResponse(ctx, d); err != nil {
		return p, err
	}
	docs, err := q.ListDocumentsOfDebt(ctx, d.ID)
	if err != nil {
		return p, err
	}
	for _, doc := range docs {
		p.Notices = append(p.Notices, Notice{Kind: doc.Kind, Revision: int(doc.Revision), Filename: doc.Filename,
			SHA256: fmt.Sprintf("%x", doc.Sha256), CreatedAt: doc.CreatedAt.Time})
	}
	if plan, err := s.planOf(ctx, d); err == nil {
		p.InstalmentPlan = &plan
	} else if !errors.Is(err, db.ErrNotFound) {
		return p, err
	}
	return p, nil
}

// debtorFileOf assembles the file of the debtor with a normalised fiscal code, or
// db.ErrNotFound when no position names them.
func (s *Server) debtorFileOf(ctx context.Context, fiscalCode string) (DebtorFile, error) {
	q := dbgen.New(s.Pool)
	rows, err := q.ListDebtsOfDebtor(ctx, dbgen.ListDebtsOfDebtorParams{
		EcFiscalCode: s.Config.Creditor.FiscalCode, DebtorFiscalCode: fiscalCode, MaxRows: maxFilePositions + 1,
	})
	if err != nil {
		return DebtorFile{}, err
	}
	if len(rows) == 0 {
		return DebtorFile{}, db.ErrNotFound
	}
	file := DebtorFile{Positions: []DebtorPosition{}}
	if len(rows) > maxFilePositions {
		rows, file.Truncated = rows[:maxFilePositions], true
	}
	if file.Balance, err = s.searcher().Totals(ctx, search.Filter{Debtor: fiscalCode}); err != nil {
		return DebtorFile{}, err
	}
	latest := rows[0]
	for _, d := range rows {
		if d.ID > latest.ID {
			latest = d
		}
		p, err := s.positionOf(ctx, q, d)
		if err != nil {
			return DebtorFile{}, err
		}
		file.Positions = append(file.Positions, p)
	}
	file.Debtor = Debtor{Type: latest.DebtorType, FiscalCode: latest.DebtorFiscalCode, FullName: latest.DebtorName,
		Email: latest.DebtorEmail, PEC: latest.DebtorPec}
	return file, nil
}
