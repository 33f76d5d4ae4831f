package api

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5/pgtype"
	"github.com/labstack/echo/v4"
	"go.temporal.io/api/serviceerror"
	"go.temporal.io/sdk/client"

	enumspb "go.temporal.io/api/enums/v1"

	"incasso/db"
	"incasso/db/dbgen"
	"incasso/domain/money"
	"incasso/workflows"
)

// CampaignProgress is a campaign as GET /v1/campaigns/{id} shows it, computed from
// PostgreSQL on every call (two indexed aggregates: cheap enough to poll every second).
type CampaignProgress struct {
	ID             int64             `json:"id"`
	Name           string            `json:"name"`
	Status         string            `json:"status"`
	SourceFilename string            `json:"sourceFilename,omitempty"`
	StartRate      int               `json:"startRate"`
	CreatedAt      time.Time         `json:"createdAt"`
	LaunchedAt     *time.Time        `json:"launchedAt,omitempty"`
	FinishedAt     *time.Time        `json:"finishedAt,omitempty"`
	WithdrawReason string            `json:"withdrawReason,omitempty"`
	Rows           int64             `json:"rows"`         // valid rows imported
	RejectedRows   int               `json:"rejectedRows"` // left out at import ("valid rows only")
	Started        int64             `json:"started"`      // rows that became debts
	Errors         int64             `json:"errors"`       // rows that could not become debts at launch
	Debts          CampaignDebts     `json:"debts"`
	Amounts        CampaignAmounts   `json:"amounts"`
	WorkflowID     string            `json:"workflowId"`
	Links          map[string]string `json:"links"`
}

// CampaignDebts counts the campaign's debts by where they are.
type CampaignDebts struct {
	Created       int64 `json:"created"` // stored, notice not issued yet
	Issued        int64 `json:"issued"`  // notice issued, not paid, not overdue
	Overdue       int64 `json:"overdue"`
	Paid          int64 `json:"paid"`
	Cancelled     int64 `json:"cancelled"`
	InInstalments int64 `json:"inInstalments"` // being paid in instalments by SEPA direct debit
	Superseded    int64 `json:"superseded"`    // a plan ended uncollected: the rest is another debt
}

// CampaignAmounts are the campaign's money, in cents.
type CampaignAmounts struct {
	IssuedCents      money.Cents `json:"issuedCents"`      // of the debts issued (paid, overdue or not)
	CollectedCents   money.Cents `json:"collectedCents"`   // paid through pagoPA
	OutstandingCents money.Cents `json:"outstandingCents"` // issued and not paid (in instalments: whole, until the plan ends)
}

func (s *Server) campaignByID(c echo.Context) (dbgen.Campaign, error) {
	id, err := strconv.ParseInt(c.Param("id"), 10, 64)
	if err != nil || id < 1 {
		return dbgen.Campaign{}, problem(http.StatusNotFound, "no campaign with this id")
	}
	cp, err := dbgen.New(s.Pool).GetCampaign(c.Request().Context(), id)
	if err = db.NotFound(err); errors.Is(err, db.ErrNotFound) {
		return cp, problem(http.StatusNotFound, "no campaign with this id")
	}
	return cp, err
}

// progress computes a campaign's progress.
func (s *Server) progress(c echo.Context, cp dbgen.Campaign) (CampaignProgress, error) {
	return s.campaignProgress(c.Request().Context(), cp)
}

func (s *Server) campaignProgress(ctx context.Context, cp dbgen.Campaign) (CampaignProgress, error) {
	q := dbgen.New(s.Pool)
	rows, err := q.CampaignRowCounts(ctx, cp.ID)
	if err != nil {
		return CampaignProgress{}, err
	}
	byStatus, err := q.CampaignDebtCounts(ctx, pgtype.Int8{Int64: cp.ID, Valid: true})
	if err != nil {
		return CampaignProgress{}, err
	}
	collected, err := q.CampaignCollected(ctx, pgtype.Int8{Int64: cp.ID, Valid: true})
	if err != nil {
		return CampaignProgress{}, err
	}
	p := CampaignProgress{
		ID: cp.ID, Name: cp.Name, Status: cp.Status, SourceFilename: cp.SourceFilename, StartRate: int(cp.StartRate),
		CreatedAt: cp.CreatedAt.Time, LaunchedAt: timePtr(cp.LaunchedAt), FinishedAt: timePtr(cp.FinishedAt),
		WithdrawReason: cp.WithdrawReason.String, Rows: rows.Rows, RejectedRows: int(cp.RowsRejected),
		Started: rows.Started, Errors: rows.Errors, WorkflowID: workflows.CampaignWorkflowID(cp.ID),
		Links: map[string]string{"self": fmt.Sprintf("/v1/campaigns/%d", cp.ID)},
	}
	p.Amounts.CollectedCents = money.Cents(collected)
	for _, b := range byStatus {
		switch b.Status {
		case workflows.StatusCreated:
			p.Debts.Created = b.Debts
		case workflows.StatusIssued:
			p.Debts.Issued = b.Debts
		case workflows.StatusOverdue:
			p.Debts.Overdue = b.Debts
		case workflows.StatusPaid:
			p.Debts.Paid = b.Debts
		case workflows.StatusCancelled:
			p.Debts.Cancelled = b.Debts
		case workflows.StatusInstalments:
			p.Debts.InInstalments = b.Debts
		case workflows.StatusSuperseded:
			p.Debts.Superseded = b.Debts
		}
		switch b.Status {
		case workflows.StatusIssued, workflows.StatusOverdue, workflows.StatusInstalments:
			p.Amounts.OutstandingCents += money.Cents(b.AmountCents)
			p.Amounts.IssuedCents += money.Cents(b.AmountCents)
		case workflows.StatusPaid, workflows.StatusSuperseded:
			p.Amounts.IssuedCents += money.Cents(b.AmountCents)
		}
	}
	if u := s.workflowURL(p.WorkflowID); u != "" {
		p.Links["workflow"] = u
	}
	return p, nil
}

func (s *Server) getCampaign(c echo.Context) error {
	cp, err := s.campaignByID(c)
	if err != nil {
		return err
	}
	p, err := s.progress(c, cp)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, p)
}

// CampaignList is a page of GET /v1/campaigns, newest first.
type CampaignList struct {
	Campaigns []CampaignProgress `json:"campaigns"`
	Next      string             `json:"next,omitempty"`
}

func (s *Server) listCampaigns(c echo.Context) error {
	pg, errs := pageOf(c, 20, 100)
	if len(errs) > 0 {
		return invalid(errs)
	}
	rows, err := dbgen.New(s.Pool).ListCampaigns(c.Request().Context(), dbgen.ListCampaignsParams{BeforeID: pg.before, MaxRows: int32(pg.limit)})
	if err != nil {
		return err
	}
	page := CampaignList{Campaigns: make([]CampaignProgress, 0, len(rows))}
	for _, cp := range rows {
		p, err := s.progress(c, cp)
		if err != nil {
			return err
		}
		page.Campaigns = append(page.Campaigns, p)
	}
	if len(rows) == pg.limit {
		page.Next = fmt.Sprintf("/v1/campaigns?limit=%d&before=%d", pg.limit, rows[len(rows)-1].ID)
	}
	return c.JSON(http.StatusOK, page)
}

// LaunchRequest is the optional body of POST /v1/campaigns/{id}/launch.
type LaunchRequest struct {
	Rate int `json:"rate,omitempty"` // debts started per second; the campaign's start rate if 0
}

// launchCampaign starts launching a READY campaign. Launching a running one again is the
// same launch: its workflow ID is the campaign's, and a second start finds the first.
func (s *Server) launchCampaign(c echo.Context) error {
	cp, err := s.campaignByID(c)
	if err != nil {
		return err
	}
	var req LaunchRequest
	if c.Request().ContentLength != 0 {
		if err := decodeJSON(c, &req); err != nil {
			return err
		}
	}
	if err := s.launch(c.Request().Context(), cp, req.Rate); err != nil {
		return err
	}
	return s.respondCampaign(c, cp.ID, http.StatusAccepted)
}

// launch starts the campaign's workflow at rate debts per second (its start rate if 0).
func (s *Server) launch(ctx context.Context, cp dbgen.Campaign, rate int) error {
	if rate < 0 || rate > 1000 {
		return invalid([]FieldError{{"rate", "must be from 1 to 1000 debts per second"}})
	}
	if cp.Status != workflows.CampaignReady && cp.Status != workflows.CampaignRunning && cp.Status != workflows.CampaignPaused {
		return problem(http.StatusConflict, "the campaign is "+strings.ToLower(cp.Status)+": it cannot be launched")
	}
	if rate == 0 {
		rate = int(cp.StartRate)
	}
	_, err := s.Temporal.ExecuteWorkflow(ctx, client.StartWorkflowOptions{
		ID:                       workflows.CampaignWorkflowID(cp.ID),
		TaskQueue:                s.Config.TaskQueue,
		WorkflowIDReusePolicy:    enumspb.WORKFLOW_ID_REUSE_POLICY_REJECT_DUPLICATE,
		WorkflowIDConflictPolicy: enumspb.WORKFLOW_ID_CONFLICT_POLICY_USE_EXISTING,
		StaticSummary:            fmt.Sprintf("Campaign %d: %d debts at %d/s", cp.ID, cp.RowsTotal, rate),
	}, workflows.Campaign, workflows.CampaignInput{CampaignID: cp.ID, Rate: rate})
	var started *serviceerror.WorkflowExecutionAlreadyStarted
	if err != nil && !errors.As(err, &started) {
		s.Log.Error("launch campaign", "campaign_id", cp.ID, "err", err)
		return problem(http.StatusServiceUnavailable, "the campaign could not be launched yet; retry")
	}
	return nil
}

func (s *Server) respondCampaign(c echo.Context, id int64, status int) error {
	cp, err := dbgen.New(s.Pool).GetCampaign(c.Request().Context(), id)
	if err != nil {
		return err
	}
	p, err := s.progress(c, cp)
	if err != nil {
		return err
	}
	return c.JSON(status, p)
}

func (s *Server) pauseCampaign(c echo.Context) error {
	return s.signalCampaign(c, workflows.SignalCampaignPause)
}

func (s *Server) resumeCampaign(c echo.Context) error {
	return s.signalCampaign(c, workflows.SignalCampaignResume)
}

func (s *Server) cancelCampaign(c echo.Context) error {
	return s.signalCampaign(c, workflows.SignalCampaignCancel)
}

// signalCampaign tells a launching campaign to pause, resume or stop launching.
func (s *Server) signalCampaign(c echo.Context, signal string) error {
	cp, err := s.campaignByID(c)
	if err != nil {
		return err
	}
	if err := s.signal(c.Request().Context(), cp, signal); err != nil {
		return err
	}
	return s.respondCampaign(c, cp.ID, http.StatusAccepted)
}

func (s *Server) signal(ctx context.Context, cp dbgen.Campaign, signal string) error {
	err := s.Temporal.SignalWorkflow(ctx, workflows.CampaignWorkflowID(cp.ID), "", signal, nil)
	var notFound *serviceerror.NotFound
	if errors.As(err, &notFound) {
		return problem(http.StatusConflict, "the campaign is not launching: it is "+strings.ToLower(cp.Status))
	}
	if err != nil {
		s.Log.Error("signal campaign", "campaign_id", cp.ID, "signal", signal, "err", err)
		return problem(http.StatusServiceUnavailable, "the campaign could not be told yet; retry")
	}
	return nil
}

// WithdrawRequest is the body of POST /v1/campaigns/{id}/withdraw. Confirm must repeat the
// campaign's name: withdrawing cancels every unpaid debt of the campaign.
type WithdrawRequest struct {
	Reason  string `json:"reason"`
	Confirm string `json:"confirm"`
}

// withdrawCampaign stops a campaign and cancels all its unpaid debts, with a reason that each
// debtor is told.
func (s *Server) withdrawCampaign(c echo.Context) error {
	cp, err := s.campaignByID(c)
	if err != nil {
		return err
	}
	var req WithdrawRequest
	if err := decodeJSON(c, &req); err != nil {
		return err
	}
	if err := s.withdraw(c.Request().Context(), cp, req); err != nil {
		return err
	}
	return s.respondCampaign(c, cp.ID, http.StatusAccepted)
}

func (s *Server) withdraw(ctx context.Context, cp dbgen.Campaign, req WithdrawRequest) error {
	reason, errs := validReason(req.Reason)
	if req.Confirm != cp.Name {
		errs = append(errs, FieldError{"confirm", "must repeat the campaign's name exactly, to confirm the withdrawal"})
	}
	if len(errs) > 0 {
		return invalid(errs)
	}
	if cp.Status != workflows.CampaignWithdrawn {
		_, err := dbgen.New(s.Pool).SetCampaignStatus(ctx, dbgen.SetCampaignStatusParams{
			ID: cp.ID, Status: workflows.CampaignWithdrawn, WithdrawReason: pgtype.Text{String: reason, Valid: true},
		})
		if err != nil {
			return err
		}
	}
	// Stop launching first; a campaign not launching has nothing to stop.
	var notFound *serviceerror.NotFound
	if err := s.Temporal.SignalWorkflow(ctx, workflows.CampaignWorkflowID(cp.ID), "", workflows.SignalCampaignCancel, nil); err != nil && !errors.As(err, &notFound) {
		s.Log.Error("stop campaign", "campaign_id", cp.ID, "err", err)
		return problem(http.StatusServiceUnavailable, "the campaign could not be stopped yet; retry the same request")
	}
	_, err := s.Temporal.ExecuteWorkflow(ctx, client.StartWorkflowOptions{
		ID:                       workflows.CampaignWithdrawWorkflowID(cp.ID),
		TaskQueue:                s.Config.TaskQueue,
		WorkflowIDReusePolicy:    enumspb.WORKFLOW_ID_REUSE_POLICY_REJECT_DUPLICATE,
		WorkflowIDConflictPolicy: enumspb.WORKFLOW_ID_CONFLICT_POLICY_USE_EXISTING,
		StaticSummary:            fmt.Sprintf("Withdraw the unpaid debts of campaign %d", cp.ID),
	}, workflows.CampaignWithdraw, workflows.WithdrawInput{CampaignID: cp.ID, Reason: reason})
	var started *serviceerror.WorkflowExecutionAlreadyStarted
	if err != nil && !errors.As(err, &started) {
		s.Log.Error("withdraw campaign", "campaign_id", cp.ID, "err", err)
		return problem(http.StatusServiceUnavailable, "the withdrawal is recorded but could not start yet; retry the same request")
	}
	return nil
}
