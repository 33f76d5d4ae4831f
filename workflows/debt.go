package workflows

import (
	"cmp"
	"errors"
	"fmt"
	"strings"
	"time"
	"unicode/utf8"

	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/workflow"

	"incasso/domain/date"
	"incasso/domain/money"
)

// TaskQueue is the task queue every incasso workflow and activity runs on.
const TaskQueue = "incasso"

// DebtWorkflowID is the ID of the Debt workflow of a position: debt/<ec>/<iupd>.
// It carries no personal data (the iupd is the caller's opaque key).
func DebtWorkflowID(ecFiscalCode, iupd string) string {
	return "debt/" + ecFiscalCode + "/" + iupd
}

// Signal, query and update names of the Debt workflow.
const (
	// SignalReceipt carries a ReceiptSignal: pagoPA delivered a receipt for the notice.
	SignalReceipt = "receipt"
	// QueryStatus answers the debt's current status.
	QueryStatus = "status"
	// UpdateCancel takes a CancelRequest: withdraw the notice and end the debt.
	UpdateCancel = "cancel"
	// UpdateChange takes a ChangeRequest: a new amount or due date, and a new notice.
	UpdateChange = "change"
)

// Names of the activities the Debt workflow calls (methods of activities.Debts).
const (
	ActivityRegisterPosition = "RegisterPosition"
	ActivityRenderNotice     = "RenderNotice"
	ActivitySendNotice       = "SendNotice"
	ActivitySetStatus        = "SetStatus"
	ActivityCancelPosition   = "CancelPosition"
	ActivitySendCancellation = "SendCancellation"
	ActivityChangePosition   = "ChangePosition"
	ActivityIssueNotice      = "IssueNotice"
	ActivitySendReceipt      = "SendReceipt"
)

// MaxReasonLength is the most characters a reason for a cancel or a change may have.
const MaxReasonLength = 500

// ValidReason tells whether a reason for a cancel or change is given and short enough.
func ValidReason(reason string) bool {
	n := utf8.RuneCountInString(reason)
	return n >= 1 && n <= MaxReasonLength
}

// Search attributes the Debt workflow maintains (registered on the namespace).
var (
	SearchDebtStatus  = temporal.NewSearchAttributeKeyKeyword("DebtStatus")
	SearchServiceCode = temporal.NewSearchAttributeKeyKeyword("ServiceCode")
	// SearchCampaignID is the id of the campaign the debt came from, set when it starts.
	SearchCampaignID = temporal.NewSearchAttributeKeyInt64("CampaignId")
)

// SearchAttributes lists every custom search attribute incasso's workflows use.
var SearchAttributes = []temporal.SearchAttributeKey{SearchDebtStatus, SearchServiceCode, SearchLadderStep, SearchCampaignID}

// DebtInput starts a Debt workflow. It holds references and amounts, no personal data.
type DebtInput struct {
	DebtID       int64
	ECFiscalCode string
	IUPD         string
	ServiceCode  string
	Amount       money.Cents
	DueDate      date.Date
}

// ReceiptSignal tells the workflow a receipt was recorded for its notice.
type ReceiptSignal struct {
	ReceiptID string
}

// CancelRequest asks to cancel an unpaid debt. The reason is kept and told to the debtor.
type CancelRequest struct {
	Reason string
}

// ChangeRequest asks to change the amount or the due date of an unpaid debt.
type ChangeRequest struct {
	Amount  money.Cents
	DueDate date.Date
	Reason  string
}

// ChangeInput is what the ChangePosition activity applies: the request as revision Revision.
type ChangeInput struct {
	DebtID   int64
	Revision int
	ChangeRequest
}

// ChangeResult tells which revision of the notice a change produced.
type ChangeResult struct {
	Revision int
}

// DebtResult is how a Debt workflow ended.
type DebtResult struct {
	Status        DebtStatus
	ReceiptID     string
	RemainderIUPD string // the debt that took over what a plan did not collect
}

// Debt is the life of one credit position: register it with pagoPA, issue the notice, and
// wait for the receipt, marking the debt overdue when its due date passes unpaid. Operators
// may cancel it or change its amount and due date while it is unpaid (updates).
func Debt(ctx workflow.Context, in DebtInput) (DebtResult, error) {
	if in.DebtID == 0 || in.DueDate.IsZero() {
		return DebtResult{}, temporal.NewNonRetryableApplicationError("debt id and due date are required", "InvalidInput", nil)
	}
	w := &debtWorkflow{in: in, status: StatusCreated, revision: 1}
	if err := w.setup(ctx); err != nil {
		return DebtResult{}, err
	}
	result, err := w.run(ctx)
	if err != nil {
		return result, err
	}
	// A change that lost the race with a receipt finishes (and fails) before the run ends.
	err = workflow.Await(ctx, func() bool { return workflow.AllHandlersFinished(ctx) })
	return result, err
}

// Events that wake the waiting debt.
const (
	eventReceipt   = "receipt"
	eventDue       = "due"
	eventChanged   = "changed"
	eventCancelled = "cancelled"
	eventStep      = "step"   // the next reminder step falls due
	eventPolicy    = "policy" // the debt moved to another policy version
	eventPlan      = "plan"   // an instalment plan was agreed
	eventPlanEnded = "plan-ended"
	eventIgnored   = "ignored"
)

type debtWorkflow struct {
	in        DebtInput
	status    DebtStatus
	revision  int
	receiptID string
	receipts  workflow.ReceiveChannel
	events    workflow.Channel // from the update handlers to the main loop
	busy      bool             // an update is running its activities
	cancelled bool

	dueTimer       workflow.Future // pending while the debt is ISSUED
	dueTimerFor    date.Date
	cancelDueTimer workflow.CancelFunc

	ladder ladder
	local  bool // short database activities run as local activities (see issue)

	plan       *PlanCreated    // the instalment plan, once agreed
	planResult workflow.Future // of the InstalmentPlan child, while it runs
}

func (w *debtWorkflow) setup(ctx workflow.Context) error {
	w.receipts = workflow.GetSignalChannel(ctx, SignalReceipt)
	w.events = workflow.NewBufferedChannel(ctx, 4)
	if err := workflow.SetQueryHandler(ctx, QueryStatus, func() (DebtStatus, error) { return w.status, nil }); err != nil {
		return err
	}
	err := workflow.SetUpdateHandlerWithOptions(ctx, UpdateCancel, w.cancel,
		workflow.UpdateHandlerOptions{Validator: w.validateCancel, Description: "Cancel the unpaid debt and withdraw its notice"})
	if err != nil {
		return err
	}
	err = workflow.SetUpdateHandlerWithOptions(ctx, UpdateChange, w.change,
		workflow.UpdateHandlerOptions{Validator: w.validateChange, Description: "Change amount or due date and reissue the notice"})
	if err != nil {
		return err
	}
	err = workflow.SetUpdateHandlerWithOptions(ctx, UpdateUpgradePolicy, w.upgradePolicy,
		workflow.UpdateHandlerOptions{Validator: w.validateUpgrade, Description: "Follow the latest reminder policy of the service"})
	if err != nil {
		return err
	}
	return workflow.SetUpdateHandlerWithOptions(ctx, UpdateRequestPlan, w.requestPlan,
		workflow.UpdateHandlerOptions{Validator: w.validatePlanRequest, Description: "Pay in instalments by SEPA direct debit"})
}

func (w *debtWorkflow) run(ctx workflow.Context) (DebtResult, error) {
	if err := w.issue(ctx); err != nil {
		return DebtResult{}, err
	}
	if err := w.startLadder(ctx); err != nil {
		return DebtResult{}, err
	}
	for {
		switch w.await(ctx) {
		case eventStep:
			if err := w.takeStep(ctx); err != nil {
				return DebtResult{}, err
			}
		case eventPolicy:
			workflow.SetCurrentDetails(ctx, fmt.Sprintf("%s: following reminder policy v%d.", w.status, w.ladder.policy.Version))
		case eventReceipt:
			return w.paid(ctx)
		case eventPlan:
			if err := w.startPlan(ctx); err != nil {
				return DebtResult{}, err
			}
		case eventPlanEnded:
			return w.planEnded(ctx)
		case eventCancelled:
			if err := w.setStatus(ctx, StatusCancelled); err != nil {
				return DebtResult{}, err
			}
			workflow.SetCurrentDetails(ctx, "Cancelled: the notice was withdrawn from pagoPA.")
			return DebtResult{Status: StatusCancelled}, nil
		case eventDue:
			if err := w.setStatus(ctx, StatusOverdue); err != nil {
				return DebtResult{}, err
			}
			workflow.SetCurrentDetails(ctx, fmt.Sprintf("Overdue since %s: waiting for a late payment.", w.in.DueDate))
		case eventChanged:
			if w.status == StatusOverdue && !w.pastDue(ctx) {
				if err := w.setStatus(ctx, StatusIssued); err != nil {
					return DebtResult{}, err
				}
			}
			workflow.SetCurrentDetails(ctx, fmt.Sprintf("Notice revision %d issued: waiting for payment, due %s.", w.revision, w.in.DueDate))
		}
	}
}

// pastDue tells whether the due date, a day in Rome, is over: at the following midnight there
// (or on the compressed clock of a test, see Policy.DayLength).
func (w *debtWorkflow) pastDue(ctx workflow.Context) bool {
	return !workflow.Now(ctx).Before(w.dueAt())
}

// issueOptions are the activity options of issuing and changing a notice: retried with backoff
// until the outside systems answer, but not when the input itself is wrong.
var issueOptions = workflow.ActivityOptions{
	StartToCloseTimeout: time.Minute,
	RetryPolicy: &temporal.RetryPolicy{
		InitialInterval: time.Second, BackoffCoefficient: 2, MaximumInterval: 5 * time.Minute,
		NonRetryableErrorTypes: []string{"InvalidInput", ErrTypeSettled},
	},
}

// issue registers the position with pagoPA, renders the notice and sends it to the debtor.
// Debts started since version "issue-in-one-activity" do it in one activity, and record their
// status and load their policy in local activities: a debt then costs the server two workflow
// tasks and one activity task to be issued, as few as a trivial workflow, which is what lets
// a campaign issue thousands an hour.
func (w *debtWorkflow) issue(ctx workflow.Context) error {
	if workflow.GetVersion(ctx, "issue-in-one-activity", workflow.DefaultVersion, 1) == 1 {
		w.local = true
		return w.issueInOne(ctx)
	}
	ctx = workflow.WithActivityOptions(ctx, issueOptions)
	_, err := run(withSummary(ctx, "Register the position with pagoPA GPD"), call1(DebtActivities.RegisterPosition, w.in.DebtID))
	if err != nil {
		return fmt.Errorf("register position: %w", err)
	}
	if err := w.sendNotice(ctx, "Email the notice to the debtor"); err != nil {
		return err
	}
	if err := w.setStatus(ctx, StatusIssued); err != nil {
		return err
	}
	workflow.SetCurrentDetails(ctx, fmt.Sprintf("Notice issued: waiting for payment, due %s.", w.in.DueDate))
	return nil
}

// issueHeartbeat is how long the IssueNotice activity may go without a heartbeat.
const issueHeartbeat = 15 * time.Second

// issueInOne issues the notice with the IssueNotice activity, which also records ISSUED.
func (w *debtWorkflow) issueInOne(ctx workflow.Context) error {
	opts := issueOptions
	opts.StartToCloseTimeout, opts.Summary = 2*time.Minute, "Register the position with GPD, render the notice, email it"
	// The activity heartbeats while it runs: when its worker dies, another worker retries it
	// after 15 s instead of 2 minutes (a worker holds up to 1000 of them at once). Timeouts are
	// no part of the commands replay compares: no version needed.
	opts.HeartbeatTimeout = issueHeartbeat
	_, err := run(workflow.WithActivityOptions(ctx, opts), call1(DebtActivities.IssueNotice, w.in.DebtID))
	if err != nil {
		return fmt.Errorf("issue notice: %w", err)
	}
	w.status = StatusIssued
	if err := workflow.UpsertTypedSearchAttributes(ctx, StatusIssued.SearchAttribute()); err != nil {
		return fmt.Errorf("upsert DebtStatus: %w", err)
	}
	workflow.SetCurrentDetails(ctx, fmt.Sprintf("Notice issued: waiting for payment, due %s.", w.in.DueDate))
	return nil
}

// localOptions run the short database activities (status, policy) of a debt inside its
// workflow task, when w.local.
var localOptions = workflow.LocalActivityOptions{
	StartToCloseTimeout: 10 * time.Second, ScheduleToCloseTimeout: time.Hour,
	RetryPolicy: &temporal.RetryPolicy{MaximumInterval: time.Minute, NonRetryableErrorTypes: []string{"InvalidInput"}},
}

// runShort runs a short database activity of debt w: locally in debts started since the
// one-activity issue, as a regular activity in older ones (their histories say so).
func runShort[R any](ctx workflow.Context, w *debtWorkflow, opts workflow.ActivityOptions, c activityCall[R]) (R, error) {
	if w.local {
		lo := localOptions
		lo.Summary = opts.Summary
		return result(ctx, c, workflow.ExecuteLocalActivity(workflow.WithLocalActivityOptions(ctx, lo), c.name, c.args...))
	}
	return result(ctx, c, workflow.ExecuteActivity(workflow.WithActivityOptions(ctx, opts), c.name, c.args...))
}

// sendNotice renders the notice of the debt's current revision and emails it to the debtor.
func (w *debtWorkflow) sendNotice(ctx workflow.Context, summary string) error {
	documentID, err := run(withSummary(ctx, "Render the payment notice PDF"), call1R(DebtActivities.RenderNotice, w.in.DebtID))
	if err != nil {
		return fmt.Errorf("render notice: %w", err)
	}
	_, err = run(withSummary(ctx, summary), call2(DebtActivities.SendNotice, w.in.DebtID, documentID))
	if err != nil {
		return fmt.Errorf("send notice: %w", err)
	}
	return nil
}

// withSummary labels the next activity for operators in the Web UI.
func withSummary(ctx workflow.Context, summary string) workflow.Context {
	opts := workflow.GetActivityOptions(ctx)
	opts.Summary = summary
	return workflow.WithActivityOptions(ctx, opts)
}

// await waits for the next event: a receipt, the end of the due date while the debt is
// ISSUED, or an update that changed or cancelled the debt.
func (w *debtWorkflow) await(ctx workflow.Context) string {
	var event string
	sel := workflow.NewSelector(ctx)
	sel.AddReceive(w.receipts, func(c workflow.ReceiveChannel, _ bool) {
		var sig ReceiptSignal
		c.Receive(ctx, &sig)
		if w.plan != nil { // the notice was replaced by the plan: the receipt is flagged for refund
			workflow.GetLogger(ctx).Warn("receipt for a debt in instalments ignored", "receipt_id", sig.ReceiptID)
			event = eventIgnored
			return
		}
		w.receiptID, event = sig.ReceiptID, eventReceipt
	})
	if w.planResult != nil {
		sel.AddFuture(w.planResult, func(workflow.Future) { event = eventPlanEnded })
	}
	sel.AddReceive(w.events, func(c workflow.ReceiveChannel, _ bool) { c.Receive(ctx, &event) })
	if w.status == StatusIssued {
		sel.AddFuture(w.timerForDueDate(ctx), func(workflow.Future) {
			w.dueTimer, event = nil, eventDue
		})
	}
	if step := w.stepTimer(ctx); step != nil {
		sel.AddFuture(step, func(workflow.Future) { event = eventStep })
	}
	sel.Select(ctx)
	return event
}

// timerForDueDate returns the timer that fires when the current due date is over, starting
// it (and cancelling one for an earlier due date) when needed. A notice issued after its due
// date (a late import, long retries) fires at once.
func (w *debtWorkflow) timerForDueDate(ctx workflow.Context) workflow.Future {
	if w.dueTimer != nil && w.dueTimerFor == w.in.DueDate {
		return w.dueTimer
	}
	if w.cancelDueTimer != nil {
		w.cancelDueTimer()
	}
	timerCtx, cancel := workflow.WithCancel(ctx)
	untilDue := max(0, w.dueAt().Sub(workflow.Now(ctx)))
	w.dueTimer = workflow.NewTimerWithOptions(timerCtx, untilDue, workflow.TimerOptions{Summary: "Due date " + w.in.DueDate.String()})
	w.dueTimerFor, w.cancelDueTimer = w.in.DueDate, cancel
	return w.dueTimer
}

// validateCancel accepts a cancellation of an issued, unpaid debt with a reason.
func (w *debtWorkflow) validateCancel(req CancelRequest) error {
	if err := w.validateUpdate(); err != nil {
		return err
	}
	if !ValidReason(req.Reason) {
		return rejected("reason: required, at most 500 characters")
	}
	return nil
}

// validateChange accepts a change of amount or due date of an issued, unpaid debt.
func (w *debtWorkflow) validateChange(req ChangeRequest) error {
	if err := w.validateUpdate(); err != nil {
		return err
	}
	switch {
	case req.Amount < 1:
		return rejected("amount: must be at least one cent")
	case req.DueDate.IsZero():
		return rejected("dueDate: required")
	case !ValidReason(req.Reason):
		return rejected("reason: required, at most 500 characters")
	case req.Amount == w.in.Amount && req.DueDate == w.in.DueDate:
		return rejected("the amount and the due date are those of the debt already")
	}
	return nil
}

func (w *debtWorkflow) validateUpdate() error {
	switch {
	case w.status == StatusPaid || w.status == StatusCancelled || w.receiptID != "" || w.cancelled:
		return rejected(fmt.Sprintf("the debt is %s already", strings.ToLower(string(cmp.Or(w.statusAfterEvents(), w.status)))))
	case w.busy:
		return rejected("another change of this debt is in progress: try again in a moment")
	case w.plan != nil:
		return rejected("the debt is being paid in instalments: suspend or change the plan instead")
	}
	return nil
}

// statusAfterEvents is the status the debt is about to take from an event not yet handled.
func (w *debtWorkflow) statusAfterEvents() DebtStatus {
	switch {
	case w.receiptID != "":
		return StatusPaid
	case w.cancelled:
		return StatusCancelled
	}
	return ""
}

// awaitIssued lets an update that arrived while the notice was being issued wait for the
// issue to end, and rejects it if the debt was paid meanwhile.
func (w *debtWorkflow) awaitIssued(ctx workflow.Context) error {
	if err := workflow.Await(ctx, func() bool { return w.status != StatusCreated || w.receiptID != "" }); err != nil {
		return err
	}
	if after := w.statusAfterEvents(); after != "" {
		return rejected("the debt is " + strings.ToLower(string(after)) + " already")
	}
	return nil
}

// cancel withdraws the notice from pagoPA, records the reason and tells the debtor.
func (w *debtWorkflow) cancel(ctx workflow.Context, req CancelRequest) error {
	w.busy = true
	defer func() { w.busy = false }()
	if err := w.awaitIssued(ctx); err != nil {
		return err
	}
	ctx = workflow.WithActivityOptions(ctx, issueOptions)
	_, err := run(withSummary(ctx, "Invalidate the position in GPD and record the cancellation"),
		call2(DebtActivities.CancelPosition, w.in.DebtID, req.Reason))
	if err != nil {
		return fmt.Errorf("cancel position: %w", err)
	}
	w.cancelled = true
	w.events.SendAsync(eventCancelled)
	if w.receiptID != "" { // a receipt came in meanwhile: it will be flagged for refund
		return nil
	}
	_, err = run(withSummary(ctx, "Email the cancellation to the debtor"), call1(DebtActivities.SendCancellation, w.in.DebtID))
	if err != nil { // the debt is cancelled all the same; the failure is visible in the history
		workflow.GetLogger(ctx).Error("cancellation message not sent", "error", err)
	}
	return nil
}

// change applies a new amount or due date as the next revision and reissues the notice.
func (w *debtWorkflow) change(ctx workflow.Context, req ChangeRequest) (ChangeResult, error) {
	w.busy = true
	defer func() { w.busy = false }()
	if err := w.awaitIssued(ctx); err != nil {
		return ChangeResult{}, err
	}
	ctx = workflow.WithActivityOptions(ctx, issueOptions)
	in := ChangeInput{DebtID: w.in.DebtID, Revision: w.revision + 1, ChangeRequest: req}
	_, err := run(withSummary(ctx, "Update the position in GPD and record the change"), call1(DebtActivities.ChangePosition, in))
	if err != nil {
		return ChangeResult{}, fmt.Errorf("change position: %w", err)
	}
	// The change is applied: the main loop re-arms the due date whatever happens to the notice.
	w.revision, w.in.Amount, w.in.DueDate = in.Revision, req.Amount, req.DueDate
	w.events.SendAsync(eventChanged)
	if w.receiptID == "" { // paid meanwhile: no new notice to send
		if err := w.sendNotice(ctx, "Email the revised notice to the debtor"); err != nil {
			return ChangeResult{Revision: in.Revision}, fmt.Errorf("revision %d applied, but its notice was not sent: %w", in.Revision, err)
		}
	}
	return ChangeResult{Revision: in.Revision}, nil
}

// paid records the end of the debt. The receipts themselves were stored by whoever received
// them; the first one settles the debt and later ones (re-deliveries) are only logged. Debts
// since version "quietanza" then send the debtor the receipt of the payment.
func (w *debtWorkflow) paid(ctx workflow.Context) (DebtResult, error) {
	if err := w.setStatus(ctx, StatusPaid); err != nil {
		return DebtResult{}, err
	}
	if workflow.GetVersion(ctx, "quietanza", workflow.DefaultVersion, 1) == 1 {
		if err := w.sendReceipt(ctx); err != nil {
			return DebtResult{}, err
		}
	}
	var later ReceiptSignal
	for w.receipts.ReceiveAsync(&later) {
		workflow.GetLogger(ctx).Info("receipt after the first one ignored", "receipt_id", later.ReceiptID)
	}
	workflow.SetCurrentDetails(ctx, "Paid: receipt "+w.receiptID)
	return DebtResult{Status: StatusPaid, ReceiptID: w.receiptID}, nil
}

// setStatus records the status in the database and in the DebtStatus search attribute.
func (w *debtWorkflow) setStatus(ctx workflow.Context, status DebtStatus) error {
	opts := workflow.ActivityOptions{
		StartToCloseTimeout: 30 * time.Second,
		Summary:             "Record status " + string(status),
		RetryPolicy:         &temporal.RetryPolicy{MaximumInterval: time.Minute},
	}
	if _, err := runShort(ctx, w, opts, call2(DebtActivities.SetStatus, w.in.DebtID, status)); err != nil {
		return fmt.Errorf("set status %s: %w", status, err)
	}
	w.status = status
	if err := workflow.UpsertTypedSearchAttributes(ctx, status.SearchAttribute()); err != nil {
		return fmt.Errorf("upsert DebtStatus: %w", err)
	}
	return nil
}

// sendReceipt sends the debtor the quietanza of the payment, by the channel they were reached
// on. A message refused for good is archived as failed: the debt is paid all the same.
func (w *debtWorkflow) sendReceipt(ctx workflow.Context) error {
	actx := withSummary(workflow.WithActivityOptions(ctx, reminderOptions), "Send the receipt (quietanza) to the debtor")
	_, err := run(actx, call2(DebtActivities.SendReceipt, w.in.DebtID, w.receiptID))
	var appErr *temporal.ApplicationError
	if errors.As(err, &appErr) && appErr.Type() == ErrTypeMailRejected {
		workflow.GetLogger(ctx).Warn("receipt refused by the mail server or App IO")
	} else if err != nil {
		return fmt.Errorf("send receipt: %w", err)
	}
	return nil
}
