package api

import (
	"encoding/hex"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"time"

	"github.com/labstack/echo/v4"

	"incasso/db"
	"incasso/db/dbgen"
	"incasso/domain/date"
	"incasso/services/enforcement"
)

// EnforcementExport is a file of hand-overs given to the collection agent, without its bytes
// (links.file serves them).
type EnforcementExport struct {
	ID        int64     `json:"id"`
	CreatedAt time.Time `json:"createdAt"`
	CreatedBy string    `json:"createdBy"`
	Rows      int       `json:"rows"`   // hand-overs in the file
	SHA256    string    `json:"sha256"` // of the file, hex
	Links     struct {
		File string `json:"file"`
	} `json:"links"`
}

// EnforcementExports is a page of GET /v1/enforcement/exports, newest first.
type EnforcementExports struct {
	Exports []EnforcementExport `json:"exports"`
	// Next is the link to the following page, empty on the last one.
	Next string `json:"next,omitempty"`
}

// exportEnforcement hands the debts still owed whose hand-over was not exported yet to the
// collection agent as a CSV file (reminders.EnforcementCSV). The file is stored with its hash
// in the transaction that marks them exported, and answered as the export created (201, its
// id in Location, its hash in X-Content-SHA256): if the answer is lost, GET of the export
// gives the same bytes.
func (s *Server) exportEnforcement(c echo.Context) error {
	b, file, err := enforcement.Export(c.Request().Context(), s.Pool, principalOf(c).Actor())
	if err != nil {
		return err
	}
	c.Response().Header().Set(echo.HeaderLocation, exportLink(b.ID))
	return sendFile(c, http.StatusCreated, "text/csv; charset=utf-8", exportFilename(b), file, b.SHA256)
}

// listEnforcementExports lists the exports made, newest first.
func (s *Server) listEnforcementExports(c echo.Context) error {
	pg, errs := pageOf(c, 50, 500)
	if len(errs) > 0 {
		return invalid(errs)
	}
	batches, err := enforcement.Batches(c.Request().Context(), dbgen.New(s.Pool), pg.before, pg.limit)
	if err != nil {
		return err
	}
	page := EnforcementExports{Exports: make([]EnforcementExport, 0, len(batches))}
	for _, b := range batches {
		e := EnforcementExport{ID: b.ID, CreatedAt: b.CreatedAt, CreatedBy: b.CreatedBy, Rows: b.Rows, SHA256: hex.EncodeToString(b.SHA256)}
		e.Links.File = exportLink(b.ID)
		page.Exports = append(page.Exports, e)
	}
	if len(batches) == pg.limit {
		page.Next = "/v1/enforcement/exports?limit=" + strconv.Itoa(pg.limit) + "&before=" + strconv.FormatInt(batches[len(batches)-1].ID, 10)
	}
	return c.JSON(http.StatusOK, page)
}

// getEnforcementExport serves the file of an export again, byte for byte.
func (s *Server) getEnforcementExport(c echo.Context) error {
	v := c.Param("id")
	id, err := strconv.ParseInt(v, 10, 64)
	if err != nil || id < 1 || v[0] == '+' {
		return problem(http.StatusNotFound, "no such export")
	}
	b, file, err := enforcement.File(c.Request().Context(), dbgen.New(s.Pool), id)
	if errors.Is(err, db.ErrNotFound) {
		return problem(http.StatusNotFound, "no such export")
	} else if err != nil {
		return fmt.Errorf("load enforcement export %d: %w", id, err)
	}
	return s.serveArchived(c, "enforcement export", b.ID, file, b.SHA256, "text/csv; charset=utf-8", exportFilename(b))
}

func exportLink(id int64) string { return "/v1/enforcement/exports/" + strconv.FormatInt(id, 10) }

// exportFilename names an export's file by the day it was made, in Rome, and its id.
func exportFilename(b enforcement.Batch) string {
	return fmt.Sprintf("affidamenti-%s-%d.csv", date.InRome(b.CreatedAt).String(), b.ID)
}
