package campaigns

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"github.com/jackc/pgx/v5/pgtype"
	"github.com/jackc/pgx/v5/pgxpool"
	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/api/serviceerror"
	"go.temporal.io/sdk/client"

	"incasso/db"
	"incasso/db/dbgen"
	"incasso/domain/date"
	"incasso/domain/money"
	"incasso/services/fault"
	"incasso/workflows"
)

// Service is the campaign feature as the REST API and the web console both use it: read a
// campaign's progress, launch it, pause, resume or stop the launch, withdraw it. Import is the
// package function Import. Requests that cannot be done are *fault.Error.
type Service struct {
	Pool      *pgxpool.Pool
	Temporal  workflowStarter
	TaskQueue string
	Log       *slog.Logger
}

// workflowStarter is the part of the Temporal client the service uses.
type workflowStarter interface {
	ExecuteWorkflow(ctx context.Context, options client.StartWorkflowOptions, workflow any, args ...any) (client.WorkflowRun, error)
	SignalWorkflow(ctx context.Context, workflowID, runID, signalName string, arg any) error
}

// Progress is a campaign and where its debts are, computed from PostgreSQL on every call
// (two indexed aggregates: cheap enough to poll every second).
type Progress struct {
	ID             int64      `json:"id"`
	Name           string     `json:"name"`
	Status         string     `json:"status"`
	SourceFilename string     `json:"sourceFilename,omitempty"`
	StartRate      int        `json:"startRate"`
	CreatedAt      time.Time  `json:"createdAt"`
	LaunchedAt     *time.Time `json:"launchedAt,omitempty"`
	FinishedAt     *time.Time `json:"finishedAt,omitempty"`
	WithdrawReason string     `json:"withdrawReason,omitempty"`
	Rows           int64      `json:"rows"`         // valid rows imported
	RejectedRows   int        `json:"rejectedRows"` // left out at import ("valid rows only")
	Started        int64      `json:"started"`      // rows that became debts
	Errors         int64      `json:"errors"`       // rows that could not become debts at launch
	Debts          DebtCounts `json:"debts"`
	Amounts        Amounts    `json:"amounts"`
	WorkflowID     string     `json:"workflowId"`
}

// DebtCounts counts the campaign's debts by where they are.
type DebtCounts struct {
	Created       int64 `json:"created"` // stored, notice not issued yet
	Issued        int64 `json:"issued"`  // notice issued, not paid, not overdue
	Overdue       int64 `json:"overdue"`
	Paid          int64 `json:"paid"`
	Cancelled     int64 `json:"cancelled"`
	InInstalments int64 `json:"inInstalments"` // being paid in instalments by SEPA direct debit
	Superseded    int64 `json:"superseded"`    // a plan ended uncollected: the rest is another debt
}

// Amounts are the campaign's money, in cents.
type Amounts struct {
	IssuedCents      money.Cents `json:"issuedCents"`      // of the debts issued (paid, overdue or not)
	CollectedCents   money.Cents `json:"collectedCents"`   // paid through pagoPA
	OutstandingCents money.Cents `json:"outstandingCents"` // issued and not paid (in instalments: whole, until the plan ends)
}

// DayAmount is an amount collected on a day (in Rome).
type DayAmount struct {
	Day   date.Date
	Cents money.Cents
}

// Debt is one of a campaign's debts.
type Debt struct {
	Row     int // its row in the campaign's file
	IUPD    string
	Status  workflows.DebtStatus
	Amount  money.Cents
	DueDate date.Date
}

// MaxRate is the most debts per second a campaign may be launched at.
const MaxRate = 1000

var errNoCampaign = fault.New(fault.NotFound, "no campaign with this id")

// Progress is the campaign's progress.
func (s *Service) Progress(ctx context.Context, id int64) (Progress, error) {
	cp, err := s.load(ctx, id)
	if err != nil {
		return Progress{}, err
	}
	return s.progress(ctx, cp)
}

// List is up to limit campaigns with an id below before (0: from the newest), newest first.
func (s *Service) List(ctx context.Context, before int64, limit int) ([]Progress, error) {
	rows, err := dbgen.New(s.Pool).ListCampaigns(ctx, dbgen.ListCampaignsParams{BeforeID: before, MaxRows: int32(limit)})
	if err != nil {
		return nil, err
	}
	out := make([]Progress, 0, len(rows))
	for _, cp := range rows {
		p, err := s.progress(ctx, cp)
		if err != nil {
			return nil, err
		}
		out = append(out, p)
	}
	return out, nil
}

// Launch starts launching a READY campaign at rate debts per second (its start rate if 0).
// Launching a running one again is the same launch: its workflow ID is the campaign's, and a
// second start finds the first.
func (s *Service) Launch(ctx context.Context, id int64, rate int) error {
	cp, err := s.load(ctx, id)
	if err != nil {
		return err
	}
	if rate < 0 || rate > MaxRate {
		return fault.InvalidFields(fault.FieldError{Field: "rate", Message: fmt.Sprintf("must be from 1 to %d debts per second", MaxRate)})
	}
	if cp.Status != workflows.CampaignReady && cp.Status != workflows.CampaignRunning && cp.Status != workflows.CampaignPaused {
		return fault.New(fault.Conflict, "the campaign is "+strings.ToLower(cp.Status)+": it cannot be launched")
	}
	if rate == 0 {
		rate = int(cp.StartRate)
	}
	_, err = s.Temporal.ExecuteWorkflow(ctx, client.StartWorkflowOptions{
		ID:                       workflows.CampaignWorkflowID(cp.ID),
		TaskQueue:                s.TaskQueue,
		WorkflowIDReusePolicy:    enumspb.WORKFLOW_ID_REUSE_POLICY_REJECT_DUPLICATE,
		WorkflowIDConflictPolicy: enumspb.WORKFLOW_ID_CONFLICT_POLICY_USE_EXISTING,
		StaticSummary:            fmt.Sprintf("Campaign %d: %d debts at %d/s", cp.ID, cp.RowsTotal, rate),
	}, workflows.Campaign, workflows.CampaignInput{CampaignID: cp.ID, Rate: rate})
	if err != nil && !errors.As(err, new(*serviceerror.WorkflowExecutionAlreadyStarted)) {
		s.Log.Error("launch campaign", "campaign_id", cp.ID, "err", err)
		return fault.New(fault.Unavailable, "the campaign could not be launched yet; retry")
	}
	return nil
}

// Signal tells a launching campaign to pause, resume or stop launching: signal is
// workflows.SignalCampaignPause, SignalCampaignResume or SignalCampaignCancel.
func (s *Service) Signal(ctx context.Context, id int64, signal string) error {
	switch signal {
	case workflows.SignalCampaignPause, workflows.SignalCampaignResume, workflows.SignalCampaignCancel:
	default:
		return fmt.Errorf("unknown campaign signal %q", signal)
	}
	cp, err := s.load(ctx, id)
	if err != nil {
		return err
	}
	err = s.Temporal.SignalWorkflow(ctx, workflows.CampaignWorkflowID(cp.ID), "", signal, nil)
	if errors.As(err, new(*serviceerror.NotFound)) {
		return fault.New(fault.Conflict, "the campaign is not launching: it is "+strings.ToLower(cp.Status))
	}
	if err != nil {
		s.Log.Error("signal campaign", "campaign_id", cp.ID, "signal", signal, "err", err)
		return fault.New(fault.Unavailable, "the campaign could not be told yet; retry")
	}
	return nil
}

// Withdraw stops the campaign and cancels all its unpaid debts, with a reason that each debtor
// is told. confirm must repeat the campaign's name. Repeating a withdrawal is the same one.
func (s *Service) Withdraw(ctx context.Context, id int64, reason, confirm string) error {
	cp, err := s.load(ctx, id)
	if err != nil {
		return err
	}
	reason = strings.TrimSpace(reason)
	var fields []fault.FieldError
	if !workflows.ValidReason(reason) {
		fields = append(fields, fault.FieldError{Field: "reason", Message: fmt.Sprintf("required, at most %d characters", workflows.MaxReasonLength)})
	}
	if confirm != cp.Name {
		fields = append(fields, fault.FieldError{Field: "confirm", Message: "must repeat the campaign's name exactly, to confirm the withdrawal"})
	}
	if len(fields) > 0 {
		return fault.InvalidFields(fields...)
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
	err = s.Temporal.SignalWorkflow(ctx, workflows.CampaignWorkflowID(cp.ID), "", workflows.SignalCampaignCancel, nil)
	if err != nil && !errors.As(err, new(*serviceerror.NotFound)) {
		s.Log.Error("stop campaign", "campaign_id", cp.ID, "err", err)
		return fault.New(fault.Unavailable, "the campaign could not be stopped yet; retry the same request")
	}
	_, err = s.Temporal.ExecuteWorkflow(ctx, client.StartWorkflowOptions{
		ID:                       workflows.CampaignWithdrawWorkflowID(cp.ID),
		TaskQueue:                s.TaskQueue,
		WorkflowIDReusePolicy:    enumspb.WORKFLOW_ID_REUSE_POLICY_REJECT_DUPLICATE,
		WorkflowIDConflictPolicy: enumspb.WORKFLOW_ID_CONFLICT_POLICY_USE_EXISTING,
		StaticSummary:            fmt.Sprintf("Withdraw the unpaid debts of campaign %d", cp.ID),
	}, workflows.CampaignWithdraw, workflows.WithdrawInput{CampaignID: cp.ID, Reason: reason})
	if err != nil && !errors.As(err, new(*serviceerror.WorkflowExecutionAlreadyStarted)) {
		s.Log.Error("withdraw campaign", "campaign_id", cp.ID, "err", err)
		return fault.New(fault.Unavailable, "the withdrawal is recorded but could not start yet; retry the same request")
	}
	return nil
}

// CollectedByDay is what the campaign's debts collected each day a receipt arrived, oldest first.
func (s *Service) CollectedByDay(ctx context.Context, id int64) ([]DayAmount, error) {
	rows, err := dbgen.New(s.Pool).CampaignCollectedByDay(ctx, pgtype.Int8{Int64: id, Valid: true})
	if err != nil {
		return nil, err
	}
	out := make([]DayAmount, len(rows))
	for i, r := range rows {
		out[i] = DayAmount{Day: date.Of(r.Day), Cents: money.Cents(r.Cents)}
	}
	return out, nil
}

// Debts is a page of the campaign's debts in the order of its file: up to limit of them, after
// the first offset.
func (s *Service) Debts(ctx context.Context, id int64, offset, limit int) ([]Debt, error) {
	rows, err := dbgen.New(s.Pool).CampaignDebtPage(ctx, dbgen.CampaignDebtPageParams{CampaignID: id, Skip: int32(offset), MaxRows: int32(limit)})
	if err != nil {
		return nil, err
	}
	out := make([]Debt, len(rows))
	for i, r := range rows {
		out[i] = Debt{Row: int(r.RowNo), IUPD: r.Iupd, Status: r.Status, Amount: money.Cents(r.AmountCents), DueDate: date.Of(r.DueDate)}
	}
	return out, nil
}

func (s *Service) load(ctx context.Context, id int64) (dbgen.Campaign, error) {
	if id < 1 {
		return dbgen.Campaign{}, errNoCampaign
	}
	cp, err := dbgen.New(s.Pool).GetCampaign(ctx, id)
	if err = db.NotFound(err); errors.Is(err, db.ErrNotFound) {
		return cp, errNoCampaign
	}
	return cp, err
}

func (s *Service) progress(ctx context.Context, cp dbgen.Campaign) (Progress, error) {
	q := dbgen.New(s.Pool)
	rows, err := q.CampaignRowCounts(ctx, cp.ID)
	if err != nil {
		return Progress{}, err
	}
	byStatus, err := q.CampaignDebtCounts(ctx, pgtype.Int8{Int64: cp.ID, Valid: true})
	if err != nil {
		return Progress{}, err
	}
	collected, err := q.CampaignCollected(ctx, pgtype.Int8{Int64: cp.ID, Valid: true})
	if err != nil {
		return Progress{}, err
	}
	p := Progress{
		ID: cp.ID, Name: cp.Name, Status: cp.Status, SourceFilename: cp.SourceFilename, StartRate: int(cp.StartRate),
		CreatedAt: cp.CreatedAt.Time, LaunchedAt: timePtr(cp.LaunchedAt), FinishedAt: timePtr(cp.FinishedAt),
		WithdrawReason: cp.WithdrawReason.String, Rows: rows.Rows, RejectedRows: int(cp.RowsRejected),
		Started: rows.Started, Errors: rows.Errors, WorkflowID: workflows.CampaignWorkflowID(cp.ID),
	}
	p.Amounts.CollectedCents = money.Cents(collected)
	for _, b := range byStatus {
		amount := money.Cents(b.AmountCents)
		switch b.Status {
		case workflows.StatusCreated:
			p.Debts.Created = b.Debts
			continue // not issued yet
		case workflows.StatusIssued:
			p.Debts.Issued, p.Amounts.OutstandingCents = b.Debts, p.Amounts.OutstandingCents+amount
		case workflows.StatusOverdue:
			p.Debts.Overdue, p.Amounts.OutstandingCents = b.Debts, p.Amounts.OutstandingCents+amount
		case workflows.StatusInstalments:
			p.Debts.InInstalments, p.Amounts.OutstandingCents = b.Debts, p.Amounts.OutstandingCents+amount
		case workflows.StatusPaid:
			p.Debts.Paid = b.Debts
		case workflows.StatusSuperseded:
			p.Debts.Superseded = b.Debts
		case workflows.StatusCancelled:
			p.Debts.Cancelled = b.Debts
			continue // withdrawn from what was issued
		default:
			continue
		}
		p.Amounts.IssuedCents += amount
	}
	return p, nil
}

func timePtr(t pgtype.Timestamptz) *time.Time {
	if !t.Valid {
		return nil
	}
	return &t.Time
}
