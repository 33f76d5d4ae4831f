package app

import (
	"context"
	"errors"
	"fmt"
	"time"

	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/temporal"

	"incasso/app/config"
	"incasso/domain/date"
	"incasso/services/reconciliation"
	"incasso/workflows"
)

// ensureSchedule creates the Temporal Schedule id, or, when it exists, sets its spec and
// action to these: the configuration of the running version wins. A run still going when
// the next is due makes that one skip.
func ensureSchedule(ctx context.Context, c client.Client, id string, spec client.ScheduleSpec, action *client.ScheduleWorkflowAction, note string) error {
	_, err := c.ScheduleClient().Create(ctx, client.ScheduleOptions{
		ID:      id,
		Spec:    spec,
		Overlap: enumspb.SCHEDULE_OVERLAP_POLICY_SKIP,
		Action:  action,
		Note:    note,
	})
	if !errors.Is(err, temporal.ErrScheduleAlreadyRunning) {
		if err != nil {
			return fmt.Errorf("create schedule %s: %w", id, err)
		}
		return nil
	}
	err = c.ScheduleClient().GetHandle(ctx, id).Update(ctx, client.ScheduleUpdateOptions{
		DoUpdate: func(in client.ScheduleUpdateInput) (*client.ScheduleUpdate, error) {
			in.Description.Schedule.Spec, in.Description.Schedule.Action = &spec, action
			return &client.ScheduleUpdate{Schedule: &in.Description.Schedule}, nil
		},
	})
	if err != nil {
		return fmt.Errorf("update schedule %s: %w", id, err)
	}
	return nil
}

// EnsurePurgeSchedule creates the Temporal Schedule of the archive's retention purge, every
// night at 03:00 in Rome (a time that exists, once, on both nights the clocks change), or
// brings the existing one to this spec.
func EnsurePurgeSchedule(ctx context.Context, c client.Client, cfg config.Config) error {
	spec := client.ScheduleSpec{
		Calendars: []client.ScheduleCalendarSpec{{
			Hour: []client.ScheduleRange{{Start: 3}}, Minute: []client.ScheduleRange{{Start: 0}},
			Second: []client.ScheduleRange{{Start: 0}}, Comment: "every day at 03:00 Europe/Rome",
		}},
		TimeZoneName: "Europe/Rome",
	}
	action := &client.ScheduleWorkflowAction{
		ID: workflows.ArchivePurgeScheduleID, Workflow: workflows.ArchivePurge, TaskQueue: cfg.TaskQueue,
		WorkflowExecutionTimeout: 2 * time.Hour,
	}
	return ensureSchedule(ctx, c, workflows.ArchivePurgeScheduleID, spec, action,
		"incasso: delete archived messages to citizens whose retention has expired")
}

// EnsureNotificationsSchedule creates the Temporal Schedule that reads the bank's returns and
// refunds (camt.054), or sets the interval of the existing one to the configured one.
func EnsureNotificationsSchedule(ctx context.Context, c client.Client, cfg config.Config) error {
	spec := client.ScheduleSpec{Intervals: []client.ScheduleIntervalSpec{{Every: cfg.SDD.NotificationsEvery}}}
	action := &client.ScheduleWorkflowAction{
		ID: workflows.BankNotificationsScheduleID, Workflow: workflows.BankNotifications, TaskQueue: cfg.TaskQueue,
		WorkflowExecutionTimeout: time.Hour,
	}
	return ensureSchedule(ctx, c, workflows.BankNotificationsScheduleID, spec, action,
		"incasso: read returns and refunds of direct debits from the bank")
}

// EnsureFdRSchedule creates the Temporal Schedule of the reporting-flow intake, every day at
// INCASSO_FDR_HOUR in Rome, or brings the existing one to this spec.
func EnsureFdRSchedule(ctx context.Context, c client.Client, cfg config.Config) error {
	spec := client.ScheduleSpec{
		Calendars: []client.ScheduleCalendarSpec{{
			Hour: []client.ScheduleRange{{Start: cfg.FdR.Hour}}, Minute: []client.ScheduleRange{{Start: 0}},
			Second: []client.ScheduleRange{{Start: 0}}, Comment: "every day at INCASSO_FDR_HOUR Europe/Rome",
		}},
		TimeZoneName: "Europe/Rome",
	}
	action := &client.ScheduleWorkflowAction{
		ID: workflows.FdRIntakeScheduleID, Workflow: workflows.FdRIntake, TaskQueue: cfg.TaskQueue,
		Args:                     []any{reconciliation.IntakeInput(cfg.FdR, date.Date{})},
		WorkflowExecutionTimeout: 6 * time.Hour,
	}
	return ensureSchedule(ctx, c, workflows.FdRIntakeScheduleID, spec, action,
		"incasso: read the reporting flows (FdR) published for the comune and match them to the receipts")
}
