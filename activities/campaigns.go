package activities

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5/pgtype"
	"github.com/jackc/pgx/v5/pgxpool"
	"go.temporal.io/api/serviceerror"
	"go.temporal.io/sdk/activity"
	"go.temporal.io/sdk/client"

	"incasso/app/config"
	"incasso/db"
	"incasso/db/dbgen"
	"incasso/domain/date"
	"incasso/domain/money"
	"incasso/services/debts"
	"incasso/workflows"
)

// temporalClient is the part of the Temporal client the campaign activities use.
type temporalClient interface {
	debts.Starter
	UpdateWorkflow(ctx context.Context, options client.UpdateWorkflowOptions) (client.WorkflowUpdateHandle, error)
}

// Campaigns are the activities of the campaign workflows.
type Campaigns struct {
	Pool      *pgxpool.Pool
	Temporal  temporalClient
	Creditor  config.Creditor
	Services  config.Services
	TaskQueue string
}

// SetCampaignStatus records a campaign's status. A finished campaign keeps its status.
func (a *Campaigns) SetCampaignStatus(ctx context.Context, campaignID int64, status string) error {
	_, err := dbgen.New(a.Pool).SetCampaignStatus(ctx, dbgen.SetCampaignStatusParams{ID: campaignID, Status: status})
	if err = db.NotFound(err); err != nil && !errors.Is(err, db.ErrNotFound) {
		return fmt.Errorf("set status of campaign %d: %w", campaignID, err)
	}
	return nil
}

// LaunchRows turns the campaign's rows after b.AfterRow into debts, at most b.Limit of them
// at b.Rate per second: each is stored (idempotently on its iupd) and its Debt workflow
// started (idempotently on its ID). The row reached is the heartbeat, so a retry goes on from
// there. A row that can no longer become a debt (its iupd taken meanwhile, its due date past)
// records why and is skipped.
func (a *Campaigns) LaunchRows(ctx context.Context, b workflows.LaunchBatch) (workflows.LaunchResult, error) {
	res := workflows.LaunchResult{LastRow: b.AfterRow}
	if activity.HasHeartbeatDetails(ctx) {
		_ = activity.GetHeartbeatDetails(ctx, &res.LastRow)
	}
	q := dbgen.New(a.Pool)
	rows, err := q.NextCampaignRows(ctx, dbgen.NextCampaignRowsParams{CampaignID: b.CampaignID, RowNo: int32(res.LastRow), Limit: int32(b.Limit)})
	if err != nil {
		return res, fmt.Errorf("load rows of campaign %d: %w", b.CampaignID, err)
	}
	tick := time.NewTicker(time.Second / time.Duration(max(b.Rate, 1)))
	defer tick.Stop()
	today := date.InRome(time.Now())
	for _, row := range rows {
		select {
		case <-ctx.Done():
			return res, ctx.Err()
		case <-tick.C:
		}
		ok, err := a.launch(ctx, q, row, today)
		if err != nil {
			return res, err
		}
		if ok {
			res.Started++
		} else {
			res.Failed++
		}
		res.LastRow = int(row.RowNo)
		activity.RecordHeartbeat(ctx, res.LastRow)
	}
	res.Done = len(rows) < b.Limit
	return res, nil
}

// launch makes one row a debt and starts its workflow; false when the row cannot be one.
func (a *Campaigns) launch(ctx context.Context, q *dbgen.Queries, row dbgen.CampaignRow, today date.Date) (bool, error) {
	n := debts.New{
		IUPD: row.Iupd, ServiceCode: row.ServiceCode, Amount: money.Cents(row.AmountCents),
		DueDate: date.Of(row.DueDate), Description: row.Description, CampaignID: row.CampaignID,
		Debtor: debts.Debtor{Type: row.DebtorType, FiscalCode: row.DebtorFiscalCode, FullName: row.DebtorName,
			Email: row.DebtorEmail, PEC: row.DebtorPec, Address: debts.Address{Street: row.DebtorStreet,
				PostalCode: row.DebtorPostalCode, City: row.DebtorCity, Province: row.DebtorProvince}},
		NAV: row.Nav, GPDStatus: row.GpdAdopted,
	}
	var d dbgen.DebtPosition
	if row.DebtID.Valid { // launched before: only its workflow may be missing
		var err error
		if d, err = q.GetDebt(ctx, row.DebtID.Int64); err != nil {
			return false, fmt.Errorf("load debt of campaign %d row %d: %w", row.CampaignID, row.RowNo, err)
		}
	} else {
		if errs := n.Validate(today, a.Creditor, a.Services); len(errs) > 0 {
			return false, a.rowError(ctx, q, row, errs[0].Field+": "+errs[0].Message)
		}
		var err error
		d, _, err = debts.Store(ctx, q, a.Creditor, n)
		if errors.Is(err, debts.ErrConflict) {
			return false, a.rowError(ctx, q, row, "iupd: already used by a different debt")
		}
		if errors.Is(err, debts.ErrNAVTaken) {
			return false, a.rowError(ctx, q, row, "nav: already used by another debt")
		}
		if err != nil {
			return false, err
		}
		if err := q.SetCampaignRowDebt(ctx, dbgen.SetCampaignRowDebtParams{CampaignID: row.CampaignID, RowNo: row.RowNo, DebtID: pgtype.Int8{Int64: d.ID, Valid: true}}); err != nil {
			return false, fmt.Errorf("link campaign %d row %d: %w", row.CampaignID, row.RowNo, err)
		}
	}
	if err := debts.Start(ctx, a.Temporal, a.TaskQueue, d); err != nil {
		return false, err
	}
	return true, nil
}

func (a *Campaigns) rowError(ctx context.Context, q *dbgen.Queries, row dbgen.CampaignRow, msg string) error {
	err := q.SetCampaignRowError(ctx, dbgen.SetCampaignRowErrorParams{CampaignID: row.CampaignID, RowNo: row.RowNo, Error: msg})
	if err != nil {
		return fmt.Errorf("record error of campaign %d row %d: %w", row.CampaignID, row.RowNo, err)
	}
	return nil
}

// WithdrawDebts cancels every unpaid debt of the campaign through its workflow's cancel
// update, with the campaign's reason; the cursor is the heartbeat. A debt paid meanwhile, or
// whose workflow has ended, is left as it is.
func (a *Campaigns) WithdrawDebts(ctx context.Context, in workflows.WithdrawInput) error {
	var after int64
	if activity.HasHeartbeatDetails(ctx) {
		_ = activity.GetHeartbeatDetails(ctx, &after)
	}
	q := dbgen.New(a.Pool)
	for {
		page, err := q.UnpaidCampaignDebts(ctx, dbgen.UnpaidCampaignDebtsParams{CampaignID: pgtype.Int8{Int64: in.CampaignID, Valid: true}, ID: after, Limit: 200})
		if err != nil {
			return fmt.Errorf("list unpaid debts of campaign %d: %w", in.CampaignID, err)
		}
		for _, d := range page {
			if err := a.withdraw(ctx, in, d.EcFiscalCode, d.Iupd); err != nil {
				return fmt.Errorf("withdraw debt %d: %w", d.ID, err)
			}
			after = d.ID
			activity.RecordHeartbeat(ctx, after)
		}
		if len(page) < 200 {
			return nil
		}
	}
}

func (a *Campaigns) withdraw(ctx context.Context, in workflows.WithdrawInput, ec, iupd string) error {
	handle, err := a.Temporal.UpdateWorkflow(ctx, client.UpdateWorkflowOptions{
		WorkflowID: workflows.DebtWorkflowID(ec, iupd), UpdateName: workflows.UpdateCancel,
		UpdateID: fmt.Sprintf("withdraw/campaign/%d", in.CampaignID), Args: []any{workflows.CancelRequest{Reason: in.Reason}},
		WaitForStage: client.WorkflowUpdateStageCompleted,
	})
	if err == nil {
		err = handle.Get(ctx, nil)
	}
	var ended *serviceerror.NotFound
	switch {
	case err == nil, errors.As(err, &ended): // cancelled now, or its workflow has ended (paid, cancelled)
		return nil
	case workflows.FindErrorType(err, workflows.ErrTypeRejected) != nil, workflows.FindErrorType(err, workflows.ErrTypeSettled) != nil:
		return nil // paid or cancelled meanwhile
	}
	return err
}
