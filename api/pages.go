package api

import (
	"fmt"
	"math"
	"strconv"

	"github.com/labstack/echo/v4"
)

// page is a keyset page of a list newest first: at most limit rows with ids before before.
type page struct {
	limit  int
	before int64
}

// pageOf reads ?limit= (1 to max, default def) and ?before= (an id from a previous page's next
// link), reporting each invalid one as a FieldError.
func pageOf(c echo.Context, def, max int) (page, []FieldError) {
	p := page{limit: def, before: math.MaxInt64}
	var errs []FieldError
	if v := c.QueryParam("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > max {
			errs = append(errs, FieldError{Field: "limit", Message: fmt.Sprintf("must be a whole number from 1 to %d", max)})
		}
		p.limit = n
	}
	if v := c.QueryParam("before"); v != "" {
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil || n < 1 {
			errs = append(errs, FieldError{Field: "before", Message: "must be a cursor from a previous page"})
		}
		p.before = n
	}
	return p, errs
}
