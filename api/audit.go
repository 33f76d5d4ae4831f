package api

import (
	"encoding/hex"
	"errors"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"incasso/domain/date"
	"incasso/services/access"
	"incasso/services/audit"
)

// auditTrail records each request its route's rule wants audited (audit.Wanted: every
// request that may change something, and reads of personal data), refused ones included,
// after the handler answered: who, the route, its path parameters and what the handler noted
// with auditTarget and auditReason, the address, the status. A route added later is audited
// by its rule alone; its handler notes targets that are not in its path (an id created, an
// id in the body). A failure to write is logged: the request has been answered already.
func (s *Server) auditTrail(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		rule, _ := access.RuleOf(c.Request().Method, c.Path())
		if !audit.Wanted(c.Request().Method, rule) {
			return next(c)
		}
		if err := next(c); err != nil {
			c.Error(err)
		}
		p := principalOf(c)
		e := audit.Entry{
			At: s.Now(), Actor: p.Actor(), Role: p.Role, Action: c.Request().Method + " " + c.Path(),
			Targets: map[string]string{}, IP: c.RealIP(), Outcome: c.Response().Status,
		}
		for i, name := range c.ParamNames() {
			if i < len(c.ParamValues()) {
				e.Targets[name] = strings.TrimSuffix(strings.TrimSuffix(c.ParamValues()[i], ".eml"), ".pdf")
			}
		}
		if notes, ok := c.Get(auditNotesKey).(*auditNotes); ok {
			for k, v := range notes.targets {
				e.Targets[k] = v
			}
			e.Reason = notes.reason
		}
		if _, err := (audit.Trail{Pool: s.Pool}).Append(c.Request().Context(), e); err != nil {
			s.Log.Error("audit trail not written", "route", c.Path(), "status", e.Outcome, "err", err)
		}
		return nil
	}
}

type auditNotes struct {
	targets map[string]string
	reason  string
}

const auditNotesKey = "audit"

func notesOf(c echo.Context) *auditNotes {
	n, ok := c.Get(auditNotesKey).(*auditNotes)
	if !ok {
		n = &auditNotes{targets: map[string]string{}}
		c.Set(auditNotesKey, n)
	}
	return n
}

// auditTarget adds a target to the request's audit entry: an id (never personal data; a
// debtor's fiscal code goes through auditDebtor).
func auditTarget(c echo.Context, name, id string) { notesOf(c).targets[name] = id }

// auditReason puts the reason the request gave in its audit entry.
func auditReason(c echo.Context, reason string) { notesOf(c).reason = reason }

// auditDebtor adds a debtor to the request's audit entry, by the pseudonym of the fiscal code.
func (s *Server) auditDebtor(c echo.Context, fiscalCode string) {
	auditTarget(c, "debtor", audit.Pseudonym(s.auditKey, fiscalCode))
}

// AuditEntry is an entry of the audit trail as GET /v1/audit shows it.
type AuditEntry struct {
	ID      int64             `json:"id"`
	At      time.Time         `json:"at"`
	Actor   string            `json:"actor"`
	Role    access.Role       `json:"role"`
	Action  string            `json:"action"`
	Targets map[string]string `json:"targets"`
	Reason  string            `json:"reason,omitempty"`
	IP      string            `json:"ip"`
	Outcome int               `json:"outcome"`
	Hash    string            `json:"hash"`
}

// AuditPage is a page of the trail, newest first; Next continues it.
type AuditPage struct {
	Entries []AuditEntry `json:"entries"`
	Next    string       `json:"next,omitempty"`
}

// listAudit is GET /v1/audit?actor=&action=&target=name:id&from=&to=&before=&limit=: from and
// to are dates (Rome) or RFC 3339 instants, to excluded.
func (s *Server) listAudit(c echo.Context) error {
	q := c.QueryParams()
	pg, errs := pageOf(c, 100, 1000)
	f := audit.Filter{Actor: q.Get("actor"), Action: q.Get("action"), Limit: pg.limit, Before: pg.before}
	if t := q.Get("target"); t != "" {
		name, id, ok := strings.Cut(t, ":")
		if !ok || name == "" || id == "" {
			errs = append(errs, FieldError{Field: "target", Message: "want name:id, e.g. iupd:TARI-2026-0001"})
		}
		f.Target = map[string]string{name: id}
	}
	var err error
	if f.From, err = parseInstant(q.Get("from"), false); err != nil {
		errs = append(errs, FieldError{Field: "from", Message: err.Error()})
	}
	if f.To, err = parseInstant(q.Get("to"), true); err != nil {
		errs = append(errs, FieldError{Field: "to", Message: err.Error()})
	}
	if len(errs) > 0 {
		return invalid(errs)
	}
	rows, err := audit.Trail{Pool: s.Pool}.Search(c.Request().Context(), f)
	if err != nil {
		return err
	}
	page := AuditPage{Entries: make([]AuditEntry, 0, len(rows))}
	for _, r := range rows {
		page.Entries = append(page.Entries, AuditEntry{
			ID: r.ID, At: r.At, Actor: r.Actor, Role: r.Role, Action: r.Action, Targets: r.Targets,
			Reason: r.Reason, IP: r.IP, Outcome: r.Outcome, Hash: hex.EncodeToString(r.Hash),
		})
	}
	if len(rows) == f.Limit {
		next := c.Request().URL.Query()
		next.Set("before", strconv.FormatInt(rows[len(rows)-1].ID, 10))
		page.Next = "/v1/audit?" + next.Encode()
	}
	return c.JSON(http.StatusOK, page)
}

// parseInstant reads a date (its start in Rome, or with end its next day's) or an RFC 3339
// instant; "" is the zero time.
func parseInstant(v string, end bool) (time.Time, error) {
	if v == "" {
		return time.Time{}, nil
	}
	if t, err := time.Parse(time.RFC3339, v); err == nil {
		return t, nil
	}
	d, err := time.ParseInLocation(time.DateOnly, v, date.Rome)
	if err != nil {
		return time.Time{}, errors.New("want a date (YYYY-MM-DD) or an RFC 3339 instant")
	}
	if end {
		d = d.AddDate(0, 0, 1)
	}
	return d, nil
}
