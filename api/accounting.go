package api

import (
	"bytes"
	"context"
	"io"
	"net/http"

	"github.com/labstack/echo/v4"

	"incasso/domain/date"
	"incasso/services/treasury"
)

// accountingFile answers a CSV file of the treasury for the day of ?date= (YYYY-MM-DD,
// required): what write writes for it. The file is built whole before it is answered, so
// that an error is a problem and not a truncated file.
func (s *Server) accountingFile(name string, write func(*treasury.Intake, context.Context, date.Date, io.Writer) (int, error)) echo.HandlerFunc {
	return func(c echo.Context) error {
		day, err := date.Parse(c.QueryParam("date"))
		if err != nil {
			return invalid([]FieldError{{Field: "date", Message: "required, a date as YYYY-MM-DD"}})
		}
		var buf bytes.Buffer
		if _, err := write(&treasury.Intake{Pool: s.Pool}, c.Request().Context(), day, &buf); err != nil {
			return err
		}
		c.Response().Header().Set(echo.HeaderContentDisposition, `attachment; filename="`+name+"-"+day.String()+`.csv"`)
		return c.Blob(http.StatusOK, "text/csv; charset=utf-8", buf.Bytes())
	}
}
