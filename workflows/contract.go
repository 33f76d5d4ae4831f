package workflows

import (
	"context"
	"reflect"
	"runtime"
	"strings"

	"go.temporal.io/sdk/workflow"

	"incasso/domain/date"
)

// The activities the workflows call, one interface per struct of dependencies in package
// activities, which asserts at compile time that it implements them
// (var _ workflows.DebtActivities = (*Debts)(nil)). A method's name is the activity's name
// (the Activity... constants, checked by TestActivityNamesMatchTheContract), and its
// parameters and result are what the workflows pass and decode: changing one side without
// the other fails to compile, or that test.

// DebtActivities issue, change and cancel a debt's notice and run its reminder ladder.
type DebtActivities interface {
	RegisterPosition(ctx context.Context, debtID int64) error
	IssueNotice(ctx context.Context, debtID int64) error
	RenderNotice(ctx context.Context, debtID int64) (documentID int64, err error)
	SendNotice(ctx context.Context, debtID, documentID int64) error
	SetStatus(ctx context.Context, debtID int64, status DebtStatus) error
	CancelPosition(ctx context.Context, debtID int64, reason string) error
	SendCancellation(ctx context.Context, debtID int64) error
	ChangePosition(ctx context.Context, in ChangeInput) error
	LoadPolicy(ctx context.Context, debtID int64) (Policy, error)
	SendReminder(ctx context.Context, in StepInput) error
	SendReceipt(ctx context.Context, debtID int64, receiptID string) error
	CheckLegalProof(ctx context.Context, in LegalClockInput) (LegalProof, error)
}

// PlanActivities run an instalment plan.
type PlanActivities interface {
	CreatePlan(ctx context.Context, debtID int64, req PlanRequest) (PlanCreated, error)
	PrenotifyInstalment(ctx context.Context, ref InstalmentRef) error
	ScheduleCollection(ctx context.Context, in ScheduleInput) (Scheduled, error)
	MarkInstalmentPaid(ctx context.Context, ref InstalmentRef) error
	SendInstalmentSollecito(ctx context.Context, ref InstalmentRef) error
	SetPlanStatus(ctx context.Context, planID int64, status string) error
	WithdrawPendingCollections(ctx context.Context, planID int64) (seqs []int, err error)
	SetPlanMandate(ctx context.Context, planID, mandateID int64) error
	FinishPlan(ctx context.Context, in FinishInput) (string, error)
	RecordInstalmentStatus(ctx context.Context, ref InstalmentRef, status string) error
}

// SDDActivities send a collection run's file to the bank and read what it answers.
type SDDActivities interface {
	SubmitCollectionFile(ctx context.Context, ref RunRef) (SubmittedFile, error)
	FetchStatusReport(ctx context.Context, ref RunRef) (RunOutcome, error)
	NotifyPlans(ctx context.Context, ref RunRef) (int, error)
	PollBankNotifications(ctx context.Context) (int, error)
	PollTreasuryStatements(ctx context.Context) (int, error)
}

// CampaignActivities launch and withdraw campaigns.
type CampaignActivities interface {
	LaunchRows(ctx context.Context, b LaunchBatch) (LaunchResult, error)
	SetCampaignStatus(ctx context.Context, campaignID int64, status string) error
	WithdrawDebts(ctx context.Context, in WithdrawInput) error
}

// RecoveryActivities pull the receipts that never reached incasso.
type RecoveryActivities interface {
	RecoverReceipts(ctx context.Context) (RecoveryResult, error)
}

// HealActivities sweep up what a crash left half done between the database and the workflows.
type HealActivities interface {
	HealDebts(ctx context.Context) (HealResult, error)
}

// FdRActivities read the reporting flows (FdR) and match them to the receipts.
type FdRActivities interface {
	ListPendingFlows(ctx context.Context, in FdRIntakeInput) ([]FdRFlowRef, error)
	IntakeFlow(ctx context.Context, ref FdRFlowRef, day date.Date) (FdRFlowOutcome, error)
	FlagMissingFlowLines(ctx context.Context, in FdRIntakeInput) (int64, error)
}

// ArchiveActivities delete the messages past their retention.
type ArchiveActivities interface {
	PurgeArchive(ctx context.Context, in PurgeInput) (PurgeResult, error)
}

// WebhookActivities deliver the event feed to the endpoints of other systems.
type WebhookActivities interface {
	NextWebhookDeliveries(ctx context.Context, endpointID int64) (WebhookNext, error)
	DeliverWebhook(ctx context.Context, deliveryID int64) (bool, error)
	DisableWebhook(ctx context.Context, endpointID int64, reason string) error
}

// An activityCall is a call of a contract activity, built from the interface's method
// expression by call0 ... call2R (e.g. call1(DebtActivities.IssueNotice, debtID)): the compiler
// checks the arguments and the result type R against the method, and the activity's name is
// the method's. R is none for an activity that returns only an error.
type activityCall[R any] struct {
	name string
	args []any
}

// none is the result of an activity that returns only an error.
type none struct{}

func call0[I, R any](m func(I, context.Context) (R, error)) activityCall[R] {
	return activityCall[R]{name: methodName(m)}
}

func call1[I, A any](m func(I, context.Context, A) error, a A) activityCall[none] {
	return activityCall[none]{name: methodName(m), args: []any{a}}
}

func call1R[I, A, R any](m func(I, context.Context, A) (R, error), a A) activityCall[R] {
	return activityCall[R]{name: methodName(m), args: []any{a}}
}

func call2[I, A, B any](m func(I, context.Context, A, B) error, a A, b B) activityCall[none] {
	return activityCall[none]{name: methodName(m), args: []any{a, b}}
}

func call2R[I, A, B, R any](m func(I, context.Context, A, B) (R, error), a A, b B) activityCall[R] {
	return activityCall[R]{name: methodName(m), args: []any{a, b}}
}

// methodName is the name of the method m is an expression of ("incasso/workflows.DebtActivities.IssueNotice"
// gives "IssueNotice"), as the worker registers it.
func methodName(m any) string {
	name := runtime.FuncForPC(reflect.ValueOf(m).Pointer()).Name()
	return name[strings.LastIndexByte(name, '.')+1:]
}

// run starts c as an activity with ctx's options and waits for its result.
func run[R any](ctx workflow.Context, c activityCall[R]) (R, error) {
	return result(ctx, c, workflow.ExecuteActivity(ctx, c.name, c.args...))
}

// result waits for f, the future of c, and decodes c's result.
func result[R any](ctx workflow.Context, _ activityCall[R], f workflow.Future) (R, error) {
	var r R
	if _, ok := any(r).(none); ok {
		return r, f.Get(ctx, nil)
	}
	err := f.Get(ctx, &r)
	return r, err
}
