package workflows

import (
	"fmt"
	"time"

	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/workflow"

	"incasso/date"
	"incasso/money"
)

// TaskQueue is the task queue every incasso workflow and activity runs on.
const TaskQueue = "incasso"

// DebtWorkflowID is the ID of the Debt workflow of a position: debt/<ec>/<iupd>.
// It carries no personal data (the iupd is the caller's opaque key).
func DebtWorkflowID(ecFiscalCode, iupd string) string {
	return "debt/" + ecFiscalCode + "/" + iupd
}

// Signal and query names of the Debt workflow.
const (
	// SignalReceipt carries a ReceiptSignal: pagoPA delivered a receipt for the notice.
	SignalReceipt = "receipt"
	// QueryStatus answers the debt's current status.
	QueryStatus = "status"
)

// Debt statuses, as in the database and the DebtStatus search attribute.
const (
	StatusCreated   = "CREATED"
	StatusIssued    = "ISSUED"
	StatusOverdue   = "OVERDUE"
	StatusPaid      = "PAID"
	StatusCancelled = "CANCELLED"
)

// Names of the activities the Debt workflow calls (methods of activities.Debts).
const (
	ActivityRegisterPosition = "RegisterPosition"
	ActivityRenderNotice     = "RenderNotice"
	ActivitySendNotice       = "SendNotice"
	ActivitySetStatus        = "SetStatus"
)

// Search attributes the Debt workflow maintains (registered on the namespace).
var (
	SearchDebtStatus  = temporal.NewSearchAttributeKeyKeyword("DebtStatus")
	SearchServiceCode = temporal.NewSearchAttributeKeyKeyword("ServiceCode")
)

// SearchAttributes lists every custom search attribute incasso's workflows use.
var SearchAttributes = []temporal.SearchAttributeKey{SearchDebtStatus, SearchServiceCode}

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

// DebtResult is how a Debt workflow ended.
type DebtResult struct {
	Status    string
	ReceiptID string
}

// Debt is the life of one credit position: register it with pagoPA, issue the notice, and
// wait for the receipt, marking the debt overdue when its due date passes unpaid.
func Debt(ctx workflow.Context, in DebtInput) (DebtResult, error) {
	if in.DebtID == 0 || in.DueDate.IsZero() {
		return DebtResult{}, temporal.NewNonRetryableApplicationError("debt id and due date are required", "InvalidInput", nil)
	}
	w := &debtWorkflow{in: in, status: StatusCreated}
	if err := w.setup(ctx); err != nil {
		return DebtResult{}, err
	}
	return w.run(ctx)
}

type debtWorkflow struct {
	in        DebtInput
	status    string
	receiptID string
	receipts  workflow.ReceiveChannel
}

func (w *debtWorkflow) setup(ctx workflow.Context) error {
	w.receipts = workflow.GetSignalChannel(ctx, SignalReceipt)
	return workflow.SetQueryHandler(ctx, QueryStatus, func() (string, error) { return w.status, nil })
}

func (w *debtWorkflow) run(ctx workflow.Context) (DebtResult, error) {
	if err := w.issue(ctx); err != nil {
		return DebtResult{}, err
	}
	// The due date is a day in Rome: it is over at the following midnight there.
	// A notice issued after that (a late import, long retries) becomes overdue at once.
	untilDue := max(0, w.in.DueDate.EndIn(date.Rome).Sub(workflow.Now(ctx)))
	if w.awaitReceipt(ctx, untilDue) {
		return w.paid(ctx)
	}
	if err := w.setStatus(ctx, StatusOverdue); err != nil {
		return DebtResult{}, err
	}
	workflow.SetCurrentDetails(ctx, fmt.Sprintf("Overdue since %s: waiting for a late payment.", w.in.DueDate))
	w.awaitReceipt(ctx, -1)
	return w.paid(ctx)
}

// issue registers the position with pagoPA, renders the notice and sends it to the debtor.
func (w *debtWorkflow) issue(ctx workflow.Context) error {
	ctx = workflow.WithActivityOptions(ctx, workflow.ActivityOptions{
		StartToCloseTimeout: time.Minute,
		RetryPolicy: &temporal.RetryPolicy{
			InitialInterval: time.Second, BackoffCoefficient: 2, MaximumInterval: 5 * time.Minute,
			NonRetryableErrorTypes: []string{"InvalidInput"},
		},
	})
	err := workflow.ExecuteActivity(withSummary(ctx, "Register the position with pagoPA GPD"),
		ActivityRegisterPosition, w.in.DebtID).Get(ctx, nil)
	if err != nil {
		return fmt.Errorf("register position: %w", err)
	}
	var documentID int64
	err = workflow.ExecuteActivity(withSummary(ctx, "Render the payment notice PDF"),
		ActivityRenderNotice, w.in.DebtID).Get(ctx, &documentID)
	if err != nil {
		return fmt.Errorf("render notice: %w", err)
	}
	err = workflow.ExecuteActivity(withSummary(ctx, "Email the notice to the debtor"),
		ActivitySendNotice, w.in.DebtID, documentID).Get(ctx, nil)
	if err != nil {
		return fmt.Errorf("send notice: %w", err)
	}
	if err := w.setStatus(ctx, StatusIssued); err != nil {
		return err
	}
	workflow.SetCurrentDetails(ctx, fmt.Sprintf("Notice issued: waiting for payment, due %s.", w.in.DueDate))
	return nil
}

// withSummary labels the next activity for operators in the Web UI.
func withSummary(ctx workflow.Context, summary string) workflow.Context {
	opts := workflow.GetActivityOptions(ctx)
	opts.Summary = summary
	return workflow.WithActivityOptions(ctx, opts)
}

// awaitReceipt waits for a receipt signal for at most d (forever when d < 0) and reports
// whether one arrived.
func (w *debtWorkflow) awaitReceipt(ctx workflow.Context, d time.Duration) bool {
	got := false
	sel := workflow.NewSelector(ctx)
	sel.AddReceive(w.receipts, func(c workflow.ReceiveChannel, _ bool) {
		var sig ReceiptSignal
		c.Receive(ctx, &sig)
		w.receiptID, got = sig.ReceiptID, true
	})
	if d >= 0 {
		timer := workflow.NewTimerWithOptions(ctx, d, workflow.TimerOptions{Summary: "Due date " + w.in.DueDate.String()})
		sel.AddFuture(timer, func(workflow.Future) {})
	}
	sel.Select(ctx)
	return got
}

// paid records the end of the debt. The receipts themselves were stored by whoever received
// them; the first one settles the debt and later ones (re-deliveries) are only logged.
func (w *debtWorkflow) paid(ctx workflow.Context) (DebtResult, error) {
	if err := w.setStatus(ctx, StatusPaid); err != nil {
		return DebtResult{}, err
	}
	var later ReceiptSignal
	for w.receipts.ReceiveAsync(&later) {
		workflow.GetLogger(ctx).Info("receipt after the first one ignored", "receipt_id", later.ReceiptID)
	}
	workflow.SetCurrentDetails(ctx, "Paid: receipt "+w.receiptID)
	return DebtResult{Status: StatusPaid, ReceiptID: w.receiptID}, nil
}

// setStatus records the status in the database and in the DebtStatus search attribute.
func (w *debtWorkflow) setStatus(ctx workflow.Context, status string) error {
	ctx = workflow.WithActivityOptions(ctx, workflow.ActivityOptions{
		StartToCloseTimeout: 30 * time.Second,
		Summary:             "Record status " + status,
		RetryPolicy:         &temporal.RetryPolicy{MaximumInterval: time.Minute},
	})
	if err := workflow.ExecuteActivity(ctx, ActivitySetStatus, w.in.DebtID, status).Get(ctx, nil); err != nil {
		return fmt.Errorf("set status %s: %w", status, err)
	}
	w.status = status
	if err := workflow.UpsertTypedSearchAttributes(ctx, SearchDebtStatus.ValueSet(status)); err != nil {
		return fmt.Errorf("upsert DebtStatus: %w", err)
	}
	return nil
}
