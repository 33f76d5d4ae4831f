package api

import (
	"net/http"
	"strconv"
	"strings"

	"github.com/labstack/echo/v4"

	"incasso/db/dbgen"
	"incasso/services/events"
)

// listEvents is GET /v1/events?after=<cursor>&limit=&types=: the feed in order after the
// cursor (none: from the start), of what the caller's key may see, with the cursor to ask
// after next (the same cursor when nothing new happened yet).
func (s *Server) listEvents(c echo.Context) error {
	var errs []FieldError
	after, err := events.ParseCursor(c.QueryParam("after"))
	if err != nil {
		errs = append(errs, FieldError{Field: "after", Message: "must be the next cursor of a previous page, or empty for the start of the feed"})
	}
	limit := 100
	if v := c.QueryParam("limit"); v != "" {
		if limit, err = strconv.Atoi(v); err != nil || limit < 1 || limit > 1000 {
			errs = append(errs, FieldError{Field: "limit", Message: "must be a whole number from 1 to 1000"})
		}
	}
	var types []string
	if v := c.QueryParam("types"); v != "" {
		types = strings.Split(v, ",")
		if err := events.CheckTypes("types", types); err != nil {
			return err
		}
	}
	if len(errs) > 0 {
		return invalid(errs)
	}
	page, err := events.Feed(c.Request().Context(), dbgen.New(s.Pool), principalOf(c), after, types, limit)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, page)
}
