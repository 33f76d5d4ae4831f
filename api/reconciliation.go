package api

import (
	"context"
	"errors"
	"net/http"
	"strconv"
	"time"

	"github.com/labstack/echo/v4"

	"incasso/domain/date"
	"incasso/services/reconciliation"
	"incasso/workflows"
)

// ReceiptReconciliation is where a receipt stands in the reconciliation: UNMATCHED until a
// reporting flow line reports it, MATCHED_FLOW, RECONCILED once the treasury's credit is
// matched too, or DIFFERENCE with the reason code.
type ReceiptReconciliation struct {
	Status       string     `json:"status"`
	Reason       string     `json:"reason,omitempty"`
	FlowID       string     `json:"flowId,omitempty"`
	FlowRevision int32      `json:"flowRevision,omitempty"`
	MatchedAt    *time.Time `json:"matchedAt,omitempty"`
	ReconciledAt *time.Time `json:"reconciledAt,omitempty"`
}

// Differences is a page of GET /v1/reconciliation/differences, newest first.
type Differences struct {
	Differences []reconciliation.Difference `json:"differences"`
	Next        string                      `json:"next,omitempty"`
}

// ResolveRequest is the body of the resolve actions: ACCEPTED, REFUND_REQUESTED or
// WRITTEN_OFF, and why (no personal data).
type ResolveRequest struct {
	Resolution string `json:"resolution"`
	Reason     string `json:"reason"`
}

// FdRRunRequest is the body of POST /v1/reconciliation/fdr-runs: the day (default today).
type FdRRunRequest struct {
	Date string `json:"date"`
}

// FdRRunResponse is the run's result when it finished in time, else its workflow.
type FdRRunResponse struct {
	WorkflowID string                     `json:"workflowId"`
	Result     *workflows.FdRIntakeResult `json:"result,omitempty"`
}

// fdrRunWait is how long POST /v1/reconciliation/fdr-runs waits for the run to finish.
const fdrRunWait = 20 * time.Second

func (s *Server) listDifferences(c echo.Context) error {
	pg, errs := pageOf(c, 50, 500)
	f := reconciliation.Filter{Reason: c.QueryParam("reason"), Before: pg.before, Limit: pg.limit}
	if v := c.QueryParam("resolved"); v != "" {
		b, err := strconv.ParseBool(v)
		if err != nil {
			errs = append(errs, FieldError{Field: "resolved", Message: "must be true or false"})
		}
		f.Resolved = b
	}
	if len(f.Reason) > 40 {
		errs = append(errs, FieldError{Field: "reason", Message: "must be a reason code such as AMOUNT_DIFFERS"})
	}
	if len(errs) > 0 {
		return invalid(errs)
	}
	list, err := reconciliation.List(c.Request().Context(), s.Pool, f)
	if err != nil {
		return err
	}
	page := Differences{Differences: list}
	if len(list) == pg.limit {
		q := c.QueryParams()
		q.Set("limit", strconv.Itoa(pg.limit))
		q.Set("before", strconv.FormatInt(list[len(list)-1].ID, 10))
		page.Next = "/v1/reconciliation/differences?" + q.Encode()
	}
	return c.JSON(http.StatusOK, page)
}

func (s *Server) resolveDifference(c echo.Context) error {
	id, err := strconv.ParseInt(c.Param("id"), 10, 64)
	if err != nil || id < 1 {
		return problem(http.StatusNotFound, "no difference with this id")
	}
	auditTarget(c, "difference", strconv.FormatInt(id, 10))
	var req ResolveRequest
	if err := decodeJSON(c, &req); err != nil {
		return err
	}
	auditReason(c, req.Reason)
	d, err := reconciliation.Resolve(c.Request().Context(), s.Pool, id, req.Resolution, principalOf(c).Actor(), req.Reason)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, d)
}

func (s *Server) resolveFlaggedReceipt(c echo.Context) error {
	receiptID := c.Param("receiptId")
	auditTarget(c, "receipt", receiptID)
	var req ResolveRequest
	if err := decodeJSON(c, &req); err != nil {
		return err
	}
	auditReason(c, req.Reason)
	d, err := reconciliation.ResolveFlaggedReceipt(c.Request().Context(), s.Pool, receiptID, req.Resolution, principalOf(c).Actor(), req.Reason)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, d)
}

// runFdRIntake runs the FdR intake of a day on demand: 200 with its result, or 202 with its
// workflow when it is still running after fdrRunWait.
func (s *Server) runFdRIntake(c echo.Context) error {
	var req FdRRunRequest
	if err := decodeJSON(c, &req); err != nil {
		return err
	}
	day := date.InRome(s.Now())
	if req.Date != "" {
		d, err := date.Parse(req.Date)
		if err != nil {
			return invalid([]FieldError{{Field: "date", Message: "must be a date as YYYY-MM-DD"}})
		}
		if day.Before(d) {
			return invalid([]FieldError{{Field: "date", Message: "must not be in the future"}})
		}
		day = d
	}
	auditTarget(c, "fdr-run", day.String())
	run, err := reconciliation.StartIntake(c.Request().Context(), s.Temporal, s.Config.TaskQueue, reconciliation.IntakeInput(s.Config.FdR, day))
	if err != nil {
		return err
	}
	out := FdRRunResponse{WorkflowID: run.GetID()}
	ctx, cancel := context.WithTimeout(c.Request().Context(), fdrRunWait)
	defer cancel()
	var res workflows.FdRIntakeResult
	switch err := run.Get(ctx, &res); {
	case errors.Is(ctx.Err(), context.DeadlineExceeded):
		return c.JSON(http.StatusAccepted, out)
	case err != nil:
		return err
	}
	out.Result = &res
	return c.JSON(http.StatusOK, out)
}
