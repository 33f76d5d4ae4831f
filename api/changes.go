package api

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/labstack/echo/v4"
	"go.temporal.io/api/serviceerror"
	"go.temporal.io/sdk/client"

	"incasso/db/dbgen"
	"incasso/domain/date"
	"incasso/domain/money"
	"incasso/services/debts"
	"incasso/workflows"
)

// CancelDebtRequest is the body of POST /v1/debts/{iupd}/cancel.
type CancelDebtRequest struct {
	Reason string `json:"reason"`
}

// ChangeDebtRequest is the body of POST /v1/debts/{iupd}/change: the new amount and due date
// (both, even when one stays the same) and why.
type ChangeDebtRequest struct {
	AmountCents money.Cents `json:"amountCents"`
	DueDate     string      `json:"dueDate"`
	Reason      string      `json:"reason"`
}

// updateWait is how long a cancel or change request waits for the debt's process to finish
// it before answering 202 Accepted.
const updateWait = 20 * time.Second

func validReason(reason string) (string, []FieldError) {
	reason = strings.TrimSpace(reason)
	if !workflows.ValidReason(reason) {
		return reason, []FieldError{{Field: "reason", Message: fmt.Sprintf("required, at most %d characters", workflows.MaxReasonLength)}}
	}
	return reason, nil
}

func (s *Server) cancelDebt(c echo.Context) error {
	var req CancelDebtRequest
	if err := decodeJSON(c, &req); err != nil {
		return err
	}
	auditReason(c, req.Reason)
	reason, errs := validReason(req.Reason)
	if len(errs) > 0 {
		return invalid(errs)
	}
	d, err := s.debtByIUPD(c)
	if err != nil {
		return err
	}
	if d.Status == workflows.StatusCancelled { // a repeated request: the same answer
		return s.respondDebt(c, d)
	}
	return s.updateDebt(c, d, workflows.UpdateCancel, workflows.CancelRequest{Reason: reason})
}

func (s *Server) changeDebt(c echo.Context) error {
	var req ChangeDebtRequest
	if err := decodeJSON(c, &req); err != nil {
		return err
	}
	auditReason(c, req.Reason)
	reason, errs := validReason(req.Reason)
	if req.AmountCents < 1 || req.AmountCents > MaxAmount {
		errs = append(errs, FieldError{Field: "amountCents", Message: fmt.Sprintf("must be an integer number of cents from 1 to %d", MaxAmount)})
	}
	due, err := date.Parse(req.DueDate)
	switch {
	case err != nil:
		errs = append(errs, FieldError{Field: "dueDate", Message: "required: a date as YYYY-MM-DD"})
	case due.Before(date.InRome(s.Now())):
		errs = append(errs, FieldError{Field: "dueDate", Message: "must not be in the past"})
	}
	if len(errs) > 0 {
		return invalid(errs)
	}
	d, err := s.debtByIUPD(c)
	if err != nil {
		return err
	}
	if service, ok := s.Config.Services.Find(d.ServiceCode); ok && !debts.Splittable(s.Config.Creditor, service, req.AmountCents) {
		return invalid([]FieldError{{Field: "amountCents", Message: fmt.Sprintf("too small to split among the %d beneficiaries of service %s", len(service.Transfers), d.ServiceCode)}})
	}
	return s.updateDebt(c, d, workflows.UpdateChange, workflows.ChangeRequest{Amount: req.AmountCents, DueDate: due, Reason: reason})
}

// updateDebt asks the debt's workflow to apply an update and answers with the debt as it is
// after it: 200 when done, 202 when still running after updateWait, 409 when the debt's state
// does not allow it. An Idempotency-Key header makes a repeated request the same update.
func (s *Server) updateDebt(c echo.Context, d dbgen.DebtPosition, name string, args ...any) error {
	switch d.Status {
	case workflows.StatusPaid, workflows.StatusCancelled:
		return problem(http.StatusConflict, "the debt is "+strings.ToLower(string(d.Status))+" already")
	}
	if err := s.runUpdate(c, d, workflows.DebtWorkflowID(d.EcFiscalCode, d.Iupd), name, nil, args...); err != nil {
		return err
	}
	d, err := s.reloadDebt(c, d.ID)
	if err != nil {
		return err
	}
	return s.respondDebt(c, d)
}

// errStillRunning is returned by runUpdate once it has answered 202 Accepted.
var errStillRunning = errors.New("update still running")

// runUpdate asks a workflow of debt d to apply an update, waiting at most updateWait, and
// reads its result into result (when not nil). When the wait ends first it answers 202
// Accepted and returns errStillRunning; callers return that error as it is, Echo having sent
// the answer already. Refusals become problems.
func (s *Server) runUpdate(c echo.Context, d dbgen.DebtPosition, workflowID, name string, result any, args ...any) error {
	ctx, cancel := context.WithTimeout(c.Request().Context(), updateWait)
	defer cancel()
	opts := client.UpdateWorkflowOptions{
		WorkflowID: workflowID, UpdateName: name, Args: args, WaitForStage: client.WorkflowUpdateStageAccepted,
	}
	if key := c.Request().Header.Get("Idempotency-Key"); key != "" {
		opts.UpdateID = name + "/" + key
	}
	handle, err := s.Temporal.UpdateWorkflow(ctx, opts)
	if err == nil {
		err = handle.Get(ctx, result)
	}
	if err == nil {
		return nil
	}
	// The SDK reports the end of the wait as its own error type (WorkflowUpdateServiceTimeoutOrCanceledError),
	// which may come as the server's poll ends, an instant before the context tells (make chaos
	// met it as a 503): while the caller still waits, either way the update may still apply.
	var waited *client.WorkflowUpdateServiceTimeoutOrCanceledError
	if errors.Is(err, context.DeadlineExceeded) || ((ctx.Err() != nil || errors.As(err, &waited)) && c.Request().Context().Err() == nil) {
		if jsonErr := c.JSON(http.StatusAccepted, map[string]string{
			"status": "IN_PROGRESS", "detail": "the request was accepted and is still being applied; read the debt later",
		}); jsonErr != nil {
			return jsonErr
		}
		return errStillRunning
	}
	return s.updateProblem(d, err)
}

// updateProblem explains why an update did not apply, without personal data.
func (s *Server) updateProblem(d dbgen.DebtPosition, err error) error {
	var notFound *serviceerror.NotFound
	if rejected := workflows.FindErrorType(err, workflows.ErrTypeRejected); rejected != nil {
		return problem(http.StatusConflict, rejected.Message()) // the validator's message names the problem
	}
	switch {
	case errors.As(err, &notFound):
		return problem(http.StatusConflict, "the debt's process has ended: it is paid or cancelled")
	case workflows.FindErrorType(err, workflows.ErrTypeSettled) != nil:
		return problem(http.StatusConflict, "the debt was paid or cancelled in the meantime")
	case workflows.FindErrorType(err, workflows.ErrTypeGPDRejected) != nil:
		return problem(http.StatusBadGateway, "pagoPA refused the change of the position")
	case workflows.FindErrorType(err, workflows.ErrTypeInvalidInput) != nil:
		return problem(http.StatusUnprocessableEntity, "the request cannot be applied to this debt")
	}
	s.Log.Error("update debt", "debt_id", d.ID, "err", err)
	return problem(http.StatusServiceUnavailable, "the debt's process could not apply the request; retry later")
}

func (s *Server) reloadDebt(c echo.Context, id int64) (dbgen.DebtPosition, error) {
	return dbgen.New(s.Pool).GetDebt(c.Request().Context(), id)
}
