package api

import (
	"errors"
	"fmt"
	"net/http"

	"github.com/labstack/echo/v4"

	"incasso/services/fault"
)

// Problem is an RFC 9457 problem detail. Errors carries one entry per invalid field.
type Problem struct {
	Type   string       `json:"type"`
	Title  string       `json:"title"`
	Status int          `json:"status"`
	Detail string       `json:"detail,omitempty"`
	Errors []FieldError `json:"errors,omitempty"`
}

// FieldError names a field of the request (a JSON pointer-ish dotted path) and what is wrong.
type FieldError = fault.FieldError

func (p *Problem) Error() string { return fmt.Sprintf("%d %s: %s", p.Status, p.Title, p.Detail) }

func problem(status int, detail string) *Problem {
	return &Problem{Type: "about:blank", Title: http.StatusText(status), Status: status, Detail: detail}
}

func invalid(errs []FieldError) *Problem {
	p := problem(http.StatusUnprocessableEntity, "the request has invalid fields")
	p.Type, p.Title, p.Errors = "https://incasso.local/problems/validation", "Validation failed", errs
	return p
}

// conflict is a 409 about one field of the request: the value is taken by another resource.
func conflict(field, msg string) *Problem {
	p := problem(http.StatusConflict, field+": "+msg)
	p.Errors = []FieldError{{Field: field, Message: msg}}
	return p
}

// problemOf says a service's fault as a problem, with the status of its kind.
func problemOf(f *fault.Error) *Problem {
	switch f.Kind {
	case fault.Invalid:
		return invalid(f.Fields)
	case fault.NotFound:
		return problem(http.StatusNotFound, f.Message)
	case fault.Conflict:
		return problem(http.StatusConflict, f.Message)
	default:
		return problem(http.StatusServiceUnavailable, f.Message)
	}
}

// handleError is Echo's single error handler: known problems go out as they are, Echo's own
// errors keep their status, anything else is a 500 whose text stays in the log.
func (s *Server) handleError(err error, c echo.Context) {
	if c.Response().Committed {
		return
	}
	var p *Problem
	var he *echo.HTTPError
	f, isFault := fault.As(err)
	switch {
	case errors.As(err, &p):
	case isFault:
		p = problemOf(f)
	case errors.As(err, &he):
		p = problem(he.Code, fmt.Sprint(he.Message))
	default:
		s.Log.Error("internal error", "route", c.Path(), "err", err)
		p = problem(http.StatusInternalServerError, "an internal error occurred; it has been logged")
	}
	c.Response().Header().Set(echo.HeaderContentType, "application/problem+json")
	_ = c.JSON(p.Status, p)
}
