package workflows

import (
	"fmt"
	"slices"
	"time"

	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/workflow"

	"incasso/domain/date"
	"incasso/domain/money"
	"incasso/domain/target2"
)

// PlanWorkflowID is the ID of the InstalmentPlan workflow of a debt: plan/<ec>/<iupd>.
func PlanWorkflowID(ecFiscalCode, iupd string) string {
	return "plan/" + ecFiscalCode + "/" + iupd
}

// Names of the InstalmentPlan workflow's signal, query and updates, and of the Debt
// workflow's update that starts a plan.
const (
	// UpdateRequestPlan (on the Debt workflow) takes a PlanRequest and switches the debt to
	// an instalment plan.
	UpdateRequestPlan = "instalment-plan"
	// SignalCollectionOutcome carries a CollectionOutcome: the bank's answer about one
	// presentation of an instalment.
	SignalCollectionOutcome = "collection-outcome"
	// QueryPlan answers a PlanView.
	QueryPlan = "plan"
	// UpdateSuspendPlan stops presenting instalments until UpdateResumePlan.
	UpdateSuspendPlan = "suspend"
	// UpdateResumePlan presents the instalments due again, and those held.
	UpdateResumePlan = "resume"
	// UpdateReplaceMandate takes a MandateID: the debtor signed a new mandate (a new IBAN).
	UpdateReplaceMandate = "replace-mandate"
)

// Activities of instalment plans (methods of activities.Plans).
const (
	ActivityCreatePlan       = "CreatePlan"
	ActivityPrenotify        = "PrenotifyInstalment"
	ActivityScheduleCollect  = "ScheduleCollection"
	ActivityMarkInstalment   = "MarkInstalmentPaid"
	ActivitySendSollecito    = "SendInstalmentSollecito"
	ActivitySetPlanStatus    = "SetPlanStatus"
	ActivityWithdrawPending  = "WithdrawPendingCollections"
	ActivitySetPlanMandate   = "SetPlanMandate"
	ActivityFinishPlan       = "FinishPlan"
	ActivityRecordInstalment = "RecordInstalmentStatus"
)

// Plan statuses (instalment_plans.status) and the debt's statuses around a plan.
const (
	PlanActive    = "ACTIVE"
	PlanSuspended = "SUSPENDED"
	PlanCompleted = "COMPLETED"
	PlanForfeited = "FORFEITED" // decadenza
)

// Instalment statuses (instalments.status).
const (
	InstalmentPlanned   = "PLANNED"   // to be pre-notified and presented
	InstalmentSubmitted = "SUBMITTED" // handed to the collection run of its date
	InstalmentCollected = "COLLECTED" // accepted by the bank, returns possible until finality
	InstalmentPaid      = "PAID"
	InstalmentMissed    = "MISSED" // a sollecito was sent; the amount goes to the remainder
	InstalmentHeld      = "HELD"   // waits for an operator
)

// Collection outcomes, as the collection run and the bank's notifications report them.
const (
	OutcomeAccepted = "ACCEPTED"
	OutcomeRejected = "REJECTED"
	OutcomeReturned = "RETURNED" // an R-transaction after settlement: a return or a refund
)

// PlanRequest asks the Debt workflow for an instalment plan; the mandate is stored already.
type PlanRequest struct {
	Instalments  int
	FirstDueDate date.Date // zero: the last day of the first month far enough ahead
	MandateID    int64
}

// PlanCreated is what CreatePlan recorded: the plan, its instalments and its policy.
type PlanCreated struct {
	PlanID      int64
	Instalments []PlannedInstalment
	Policy      PlanPolicy
	Calendar    Calendar
	Account     string // the creditor account (alias) that collects
}

// PlannedInstalment is one instalment as the plan was agreed.
type PlannedInstalment struct {
	Seq     int
	Amount  money.Cents
	DueDate date.Date
}

// PlanResult is how a plan ended.
type PlanResult struct {
	Status        string // PlanCompleted or PlanForfeited
	Collected     money.Cents
	Remainder     money.Cents // missed and never presented instalments: a new debt
	RemainderIUPD string
}

// CollectionOutcome is the bank's answer about the presentation EndToEndID.
type CollectionOutcome struct {
	EndToEndID string
	Outcome    string
	Reason     string // ISO reason code of a reject or return
}

// InstalmentState is one instalment inside the running plan.
type InstalmentState struct {
	PlannedInstalment
	Status         string
	CollectionDate date.Date // of the current or next presentation
	Prenotified    date.Date // the collection date the debtor was told about
	Attempt        int       // presentations so far, technical ones included
	Represented    int       // re-presentations after rejects that count
	Technical      int       // presentations lost to technical errors
	EndToEndID     string    // of the current presentation
	Reason         string    // of the last reject or return
}

// PlanInput starts a plan, or carries it on after continue-as-new.
type PlanInput struct {
	PlanID      int64
	DebtID      int64
	Account     string
	Policy      PlanPolicy
	Calendar    Calendar
	Instalments []InstalmentState
	Suspended   bool
	Closing     bool                // decadenza: waiting for the presentations the bank has
	Misses      []date.Date         // days of the misses that count towards decadenza
	Pending     []CollectionOutcome // outcomes received but not yet applied
	Run         int                 // how many times the plan continued as new
}

// PlanView is what QueryPlan answers.
type PlanView struct {
	Suspended   bool
	Misses      []date.Date
	Instalments []InstalmentState
	Run         int
}

// ScheduleInput hands one presentation of an instalment to the collection run of its date.
type ScheduleInput struct {
	PlanID         int64
	Seq            int
	Attempt        int
	Amount         money.Cents
	CollectionDate date.Date
	Account        string
	Calendar       Calendar
}

// Scheduled is the presentation as scheduled: its EndToEndId and date, which is later than
// asked when the run of that date had submitted its file already.
type Scheduled struct {
	EndToEndID     string
	CollectionDate date.Date
}

// InstalmentRef names one instalment of a plan for an activity.
type InstalmentRef struct {
	PlanID int64
	Seq    int
	Date   date.Date // the collection date (pre-notification), or when it was paid
	Reason string    // the reason code (sollecito)
}

// FinishInput ends a plan: Remainder is owed by a new debt when it is above zero.
type FinishInput struct {
	PlanID    int64
	Status    string
	Remainder money.Cents
}

// InstalmentPlan collects a debt in instalments by SEPA direct debit. For each instalment it
// pre-notifies the debtor, hands the instalment to the collection run of its date, and waits
// for the bank: an accepted collection is paid once returns are no longer possible; a reject
// or return follows the reason-code policy (re-present, miss with a sollecito, or hold). Two
// misses within six months end the plan in decadenza; what is owed then becomes one pagoPA
// notice. Operators suspend and resume the plan and replace the mandate with updates.
func InstalmentPlan(ctx workflow.Context, in PlanInput) (PlanResult, error) {
	if in.PlanID == 0 || len(in.Instalments) == 0 {
		return PlanResult{}, temporal.NewNonRetryableApplicationError("plan id and instalments are required", "InvalidInput", nil)
	}
	w := &planWorkflow{PlanInput: in}
	if err := w.setup(ctx); err != nil {
		return PlanResult{}, err
	}
	return w.run(ctx)
}

type planWorkflow struct {
	PlanInput
	outcomes workflow.ReceiveChannel
	wake     workflow.Channel // an update changed the plan
	busy     bool             // an update is running its activities

	timer    workflow.Future
	timerFor time.Time

	afterReturnWindow int // 1: pay the day after the last day of returns; 0 in older runs
}

func (w *planWorkflow) setup(ctx workflow.Context) error {
	if workflow.GetVersion(ctx, "paid-after-return-window", workflow.DefaultVersion, 1) == 1 {
		w.afterReturnWindow = 1
	}
	w.outcomes = workflow.GetSignalChannel(ctx, SignalCollectionOutcome)
	w.wake = workflow.NewBufferedChannel(ctx, 8)
	err := workflow.SetQueryHandler(ctx, QueryPlan, func() (PlanView, error) {
		return PlanView{Suspended: w.Suspended, Misses: w.Misses, Instalments: w.Instalments, Run: w.Run}, nil
	})
	if err != nil {
		return err
	}
	for _, h := range []struct {
		name, desc    string
		fn, validator any
	}{
		{UpdateSuspendPlan, "Stop presenting instalments to the bank", w.suspend, w.validateSuspend},
		{UpdateResumePlan, "Present the instalments due again, and those held", w.resume, w.validateResume},
		{UpdateReplaceMandate, "Collect the next instalments with a new mandate", w.replaceMandate, w.validateMandate},
	} {
		err := workflow.SetUpdateHandlerWithOptions(ctx, h.name, h.fn, workflow.UpdateHandlerOptions{Validator: h.validator, Description: h.desc})
		if err != nil {
			return err
		}
	}
	return nil
}

func (w *planWorkflow) run(ctx workflow.Context) (PlanResult, error) {
	pending := w.Pending
	w.Pending = nil
	for _, o := range pending {
		if err := w.apply(ctx, o); err != nil {
			return PlanResult{}, err
		}
	}
	for {
		if !w.Closing && w.forfeited() {
			if err := w.close(ctx); err != nil {
				return PlanResult{}, err
			}
		}
		if w.done() {
			return w.finish(ctx)
		}
		if err := w.act(ctx); err != nil {
			return PlanResult{}, err
		}
		if w.done() {
			continue
		}
		if w.historyIsLong(ctx) && !w.busy && workflow.AllHandlersFinished(ctx) {
			return PlanResult{}, w.continueAsNew(ctx)
		}
		w.setDetails(ctx)
		if err := w.wait(ctx); err != nil {
			return PlanResult{}, err
		}
	}
}

// wait blocks until an outcome arrives, an update changed the plan, or the next action is due.
func (w *planWorkflow) wait(ctx workflow.Context) error {
	var outcome *CollectionOutcome
	sel := workflow.NewSelector(ctx)
	sel.AddReceive(w.outcomes, func(c workflow.ReceiveChannel, _ bool) {
		var o CollectionOutcome
		c.Receive(ctx, &o)
		outcome = &o
	})
	sel.AddReceive(w.wake, func(c workflow.ReceiveChannel, _ bool) { c.Receive(ctx, nil) })
	if next, ok := w.nextActionAt(); ok {
		sel.AddFuture(w.timerUntil(ctx, next), func(workflow.Future) { w.timer = nil })
	}
	sel.Select(ctx)
	if outcome != nil {
		return w.apply(ctx, *outcome)
	}
	return nil
}

// timerUntil returns the timer that fires at t, reusing the pending one when it is for t.
func (w *planWorkflow) timerUntil(ctx workflow.Context, t time.Time) workflow.Future {
	if w.timer == nil || !w.timerFor.Equal(t) {
		w.timer = workflow.NewTimerWithOptions(ctx, max(0, t.Sub(workflow.Now(ctx))), workflow.TimerOptions{Summary: "Next instalment action"})
		w.timerFor = t
	}
	return w.timer
}

// prenotifyAt is when instalment i is pre-notified and handed to its collection run.
func (w *planWorkflow) prenotifyAt(i *InstalmentState) time.Time {
	if i.Prenotified == i.CollectionDate {
		return time.Time{} // already told: hand it over at once (a re-presentation)
	}
	return w.Calendar.At(date.Of(i.CollectionDate.Time().AddDate(0, 0, -w.Policy.PrenotifyDays)), actionHour)
}

// finalAt is when a collected instalment can no longer be returned, so it is paid: the
// business day after the last one a return may come (plans started before that was fixed pay
// on the last one).
func (w *planWorkflow) finalAt(i *InstalmentState) time.Time {
	return w.Calendar.At(target2.AddBusinessDays(i.CollectionDate, w.Policy.FinalityBusinessDays+w.afterReturnWindow), actionHour)
}

// nextActionAt is the earliest time an instalment has something to do.
func (w *planWorkflow) nextActionAt() (time.Time, bool) {
	var next time.Time
	found := false
	for k := range w.Instalments {
		i := &w.Instalments[k]
		var at time.Time
		switch {
		case i.Status == InstalmentPlanned && !w.Suspended && !w.Closing:
			at = w.prenotifyAt(i)
		case i.Status == InstalmentCollected:
			at = w.finalAt(i)
		default:
			continue
		}
		if !found || at.Before(next) {
			next, found = at, true
		}
	}
	return next, found
}

// act does every action that is due: pre-notify and hand over instalments, and pay those
// whose collection is final.
func (w *planWorkflow) act(ctx workflow.Context) error {
	now := workflow.Now(ctx)
	for k := range w.Instalments {
		i := &w.Instalments[k]
		switch {
		case i.Status == InstalmentPlanned && !w.Suspended && !w.Closing && !now.Before(w.prenotifyAt(i)):
			if err := w.present(ctx, i); err != nil {
				return err
			}
		case i.Status == InstalmentCollected && !now.Before(w.finalAt(i)):
			if err := w.pay(ctx, i); err != nil {
				return err
			}
		}
	}
	return nil
}

var planActivityOptions = workflow.ActivityOptions{
	StartToCloseTimeout: time.Minute,
	RetryPolicy: &temporal.RetryPolicy{
		InitialInterval: time.Second, BackoffCoefficient: 2, MaximumInterval: 5 * time.Minute,
		NonRetryableErrorTypes: []string{"InvalidInput"},
	},
}

// runPlan runs an activity of the plan with the plan's options and the summary.
func runPlan[R any](ctx workflow.Context, summary string, c activityCall[R]) (R, error) {
	opts := planActivityOptions
	opts.Summary = summary
	return run(workflow.WithActivityOptions(ctx, opts), c)
}

// present pre-notifies the debtor of the instalment's collection date, unless told already,
// and hands the instalment to the collection run of that date.
func (w *planWorkflow) present(ctx workflow.Context, i *InstalmentState) error {
	today := w.Calendar.Today(workflow.Now(ctx))
	if i.Prenotified != i.CollectionDate {
		// A pre-notification sent late (after a suspension or a hold) moves the collection so
		// that the debtor still has the full notice.
		if earliest := target2.NextBusinessDay(date.Of(today.Time().AddDate(0, 0, w.Policy.PrenotifyDays))); i.CollectionDate.Before(earliest) {
			i.CollectionDate = earliest
		}
		ref := InstalmentRef{PlanID: w.PlanID, Seq: i.Seq, Date: i.CollectionDate}
		summary := fmt.Sprintf("Pre-notify instalment %d, collected on %s", i.Seq, i.CollectionDate)
		if _, err := runPlan(ctx, summary, call1(PlanActivities.PrenotifyInstalment, ref)); err != nil {
			return fmt.Errorf("pre-notify instalment %d: %w", i.Seq, err)
		}
		i.Prenotified = i.CollectionDate
		if w.Suspended || w.Closing { // suspended, or forfeited, while the debtor was being told
			return nil
		}
	}
	// The bank needs the file the business day before: a date too close moves on.
	if earliest := target2.AddBusinessDays(today, 2); i.CollectionDate.Before(earliest) {
		i.CollectionDate = earliest
	}
	in := ScheduleInput{PlanID: w.PlanID, Seq: i.Seq, Attempt: i.Attempt + 1, Amount: i.Amount,
		CollectionDate: i.CollectionDate, Account: w.Account, Calendar: w.Calendar}
	summary := fmt.Sprintf("Hand instalment %d (attempt %d) to the collection of %s", i.Seq, in.Attempt, i.CollectionDate)
	s, err := runPlan(ctx, summary, call1R(PlanActivities.ScheduleCollection, in))
	if err != nil {
		return fmt.Errorf("schedule instalment %d: %w", i.Seq, err)
	}
	i.Attempt, i.EndToEndID, i.CollectionDate, i.Status = in.Attempt, s.EndToEndID, s.CollectionDate, InstalmentSubmitted
	if !i.Prenotified.IsZero() {
		i.Prenotified = i.CollectionDate // a move by the run is within the notice already given
	}
	return nil
}

// pay records a collected instalment as paid, in incasso and in GPD, once it is final.
func (w *planWorkflow) pay(ctx workflow.Context, i *InstalmentState) error {
	ref := InstalmentRef{PlanID: w.PlanID, Seq: i.Seq, Date: i.CollectionDate}
	if _, err := runPlan(ctx, fmt.Sprintf("Instalment %d is final: mark it paid", i.Seq), call1(PlanActivities.MarkInstalmentPaid, ref)); err != nil {
		return fmt.Errorf("mark instalment %d paid: %w", i.Seq, err)
	}
	i.Status = InstalmentPaid
	return nil
}

// apply takes the bank's answer about a presentation. Answers about a presentation that is not
// the instalment's current one, or repeated answers, change nothing.
func (w *planWorkflow) apply(ctx workflow.Context, o CollectionOutcome) error {
	k := slices.IndexFunc(w.Instalments, func(i InstalmentState) bool { return i.EndToEndID == o.EndToEndID })
	if k < 0 {
		workflow.GetLogger(ctx).Info("outcome of an unknown presentation ignored", "end_to_end_id", o.EndToEndID)
		return nil
	}
	i := &w.Instalments[k]
	switch {
	case o.Outcome == OutcomeAccepted && i.Status == InstalmentSubmitted:
		i.Status = InstalmentCollected
	case o.Outcome == OutcomeRejected && i.Status == InstalmentSubmitted,
		o.Outcome == OutcomeReturned && (i.Status == InstalmentCollected || i.Status == InstalmentPaid):
		return w.notCollected(ctx, i, o.Reason)
	default:
		workflow.GetLogger(ctx).Info("repeated or late outcome ignored", "end_to_end_id", o.EndToEndID, "outcome", o.Outcome, "status", i.Status)
	}
	return nil
}

// notCollected applies the reason-code policy to a rejected or returned instalment.
func (w *planWorkflow) notCollected(ctx workflow.Context, i *InstalmentState, reason string) error {
	i.Reason = reason
	today := w.Calendar.Today(workflow.Now(ctx))
	rule := w.Policy.Reasons.Rule(reason)
	switch {
	case w.Closing: // decadenza came first: the amount is in the remainder, no sollecito
		i.Status = InstalmentMissed
		return w.record(ctx, i)
	case rule.Action == ReasonTechnical && i.Technical < w.Policy.TechnicalRetries:
		i.Technical++
		i.Status, i.CollectionDate = InstalmentPlanned, target2.AddBusinessDays(today, 2)
		i.Prenotified = i.CollectionDate
	case rule.Action == ReasonRepresent && i.Represented < rule.MaxRepresentations:
		i.Represented++
		next := target2.AddBusinessDays(i.CollectionDate, rule.MinBusinessDaysApart)
		if soonest := target2.AddBusinessDays(today, 2); next.Before(soonest) {
			next = soonest
		}
		i.Status, i.CollectionDate, i.Prenotified = InstalmentPlanned, next, next
	case rule.Action == ReasonTechnical || rule.Action == ReasonHold:
		i.Status = InstalmentHeld
		return w.record(ctx, i)
	default: // final, or re-presented as often as allowed
		ref := InstalmentRef{PlanID: w.PlanID, Seq: i.Seq, Date: today, Reason: reason}
		if _, err := runPlan(ctx, fmt.Sprintf("Instalment %d missed (%s): send a sollecito", i.Seq, reason), call1(PlanActivities.SendInstalmentSollecito, ref)); err != nil {
			return fmt.Errorf("sollecito for instalment %d: %w", i.Seq, err)
		}
		i.Status = InstalmentMissed
		w.Misses = append(w.Misses, today)
	}
	return nil
}

// record writes an instalment's status to the database, for the states no other activity
// records (held).
func (w *planWorkflow) record(ctx workflow.Context, i *InstalmentState) error {
	ref := InstalmentRef{PlanID: w.PlanID, Seq: i.Seq, Reason: i.Reason}
	if _, err := runPlan(ctx, fmt.Sprintf("Record instalment %d as %s", i.Seq, i.Status), call2(PlanActivities.RecordInstalmentStatus, ref, string(i.Status))); err != nil {
		return fmt.Errorf("record instalment %d: %w", i.Seq, err)
	}
	return nil
}

// forfeited tells whether MissesForDecadenza misses fall within DecadenzaMonths (decadenza).
func (w *planWorkflow) forfeited() bool {
	n := w.Policy.MissesForDecadenza
	if n < 1 {
		return false
	}
	for k := n - 1; k < len(w.Misses); k++ {
		first := w.Misses[k-n+1].Time()
		if w.Misses[k].Time().Before(first.AddDate(0, w.Policy.DecadenzaMonths, 0)) {
			return true
		}
	}
	return false
}

// done tells whether the plan can end: in decadenza once the bank has nothing of it, else once
// every instalment is paid or missed.
func (w *planWorkflow) done() bool {
	if w.Closing {
		return !w.inFlight()
	}
	return w.allSettled()
}

// allSettled tells whether every instalment is paid or missed.
func (w *planWorkflow) allSettled() bool {
	for _, i := range w.Instalments {
		if i.Status != InstalmentPaid && i.Status != InstalmentMissed {
			return false
		}
	}
	return true
}

// close starts the end of a plan in decadenza: nothing more is presented, presentations not
// yet sent to the bank are withdrawn, and the plan waits for those the bank has.
func (w *planWorkflow) close(ctx workflow.Context) error {
	w.Closing = true
	withdrawn, err := runPlan(ctx, "Decadenza: withdraw the presentations not yet sent", call1R(PlanActivities.WithdrawPendingCollections, w.PlanID))
	if err != nil {
		return fmt.Errorf("withdraw pending collections: %w", err)
	}
	w.markWithdrawn(withdrawn)
	return nil
}

func (w *planWorkflow) markWithdrawn(seqs []int) {
	for k := range w.Instalments {
		if i := &w.Instalments[k]; slices.Contains(seqs, i.Seq) && i.Status == InstalmentSubmitted {
			i.Status, i.EndToEndID, i.Prenotified = InstalmentPlanned, "", date.Date{}
		}
	}
}

// inFlight tells whether an instalment is with the bank: submitted, or collected and not final.
func (w *planWorkflow) inFlight() bool {
	return slices.ContainsFunc(w.Instalments, func(i InstalmentState) bool {
		return i.Status == InstalmentSubmitted || i.Status == InstalmentCollected
	})
}

// finish ends the plan: what was not collected becomes a new debt with its own pagoPA notice
// (through FinishPlan).
func (w *planWorkflow) finish(ctx workflow.Context) (PlanResult, error) {
	if err := w.workflowAwaitHandlers(ctx); err != nil {
		return PlanResult{}, err
	}
	status := PlanCompleted
	if w.Closing {
		status = PlanForfeited
	}
	result := PlanResult{Status: status}
	for _, i := range w.Instalments {
		switch i.Status {
		case InstalmentPaid:
			result.Collected += i.Amount
		default:
			result.Remainder += i.Amount
		}
	}
	in := FinishInput{PlanID: w.PlanID, Status: status, Remainder: result.Remainder}
	summary := "Plan completed"
	if result.Remainder > 0 {
		summary = fmt.Sprintf("Plan %s: issue a pagoPA notice for the remainder of %s EUR", status, result.Remainder.Decimal())
	}
	var err error
	if result.RemainderIUPD, err = runPlan(ctx, summary, call1R(PlanActivities.FinishPlan, in)); err != nil {
		return PlanResult{}, fmt.Errorf("finish plan: %w", err)
	}
	workflow.SetCurrentDetails(ctx, fmt.Sprintf("Plan %s: collected %s EUR, remainder %s EUR.", status, result.Collected.Decimal(), result.Remainder.Decimal()))
	return result, nil
}

// workflowAwaitHandlers lets a running update finish before the plan ends.
func (w *planWorkflow) workflowAwaitHandlers(ctx workflow.Context) error {
	return workflow.Await(ctx, func() bool { return !w.busy && workflow.AllHandlersFinished(ctx) })
}

func (w *planWorkflow) historyIsLong(ctx workflow.Context) bool {
	limit := w.Policy.ContinueAfterEvents
	return limit > 0 && workflow.GetInfo(ctx).GetCurrentHistoryLength() >= limit
}

// continueAsNew carries the plan, with the outcomes not yet applied, into a new run.
func (w *planWorkflow) continueAsNew(ctx workflow.Context) error {
	next := w.PlanInput
	next.Run++
	var o CollectionOutcome
	for w.outcomes.ReceiveAsync(&o) {
		next.Pending = append(next.Pending, o)
	}
	return workflow.NewContinueAsNewError(ctx, InstalmentPlan, next)
}

func (w *planWorkflow) setDetails(ctx workflow.Context) {
	counts := map[string]int{}
	for _, i := range w.Instalments {
		counts[i.Status]++
	}
	state := "active"
	if w.Suspended {
		state = "suspended"
	}
	workflow.SetCurrentDetails(ctx, fmt.Sprintf("Plan %s: %d of %d instalments paid, %d collected awaiting finality, %d missed, %d held.",
		state, counts[InstalmentPaid], len(w.Instalments), counts[InstalmentCollected], counts[InstalmentMissed], counts[InstalmentHeld]))
}

// validatePlanUpdate refuses an update while another is running.
func (w *planWorkflow) validatePlanUpdate() error {
	switch {
	case w.Closing || w.done():
		return rejected("the plan is ending")
	case w.busy:
		return rejected("another change of this plan is in progress: try again in a moment")
	}
	return nil
}

func (w *planWorkflow) validateSuspend() error {
	if w.Suspended {
		return rejected("the plan is suspended already")
	}
	return w.validatePlanUpdate()
}

func (w *planWorkflow) validateResume() error {
	if !w.Suspended && !slices.ContainsFunc(w.Instalments, func(i InstalmentState) bool { return i.Status == InstalmentHeld }) {
		return rejected("the plan is neither suspended nor holding an instalment")
	}
	return w.validatePlanUpdate()
}

func (w *planWorkflow) validateMandate(mandateID int64) error {
	if mandateID < 1 {
		return rejected("mandateId: required")
	}
	return w.validatePlanUpdate()
}

// suspend stops presenting instalments: those handed to a run that has not sent its file yet
// are withdrawn and will be pre-notified again on resume.
func (w *planWorkflow) suspend(ctx workflow.Context) error {
	w.busy = true
	defer func() { w.busy = false }()
	if _, err := runPlan(ctx, "Record the plan as suspended", call2(PlanActivities.SetPlanStatus, w.PlanID, PlanSuspended)); err != nil {
		return err
	}
	w.Suspended = true
	withdrawn, err := runPlan(ctx, "Withdraw the presentations not yet sent", call1R(PlanActivities.WithdrawPendingCollections, w.PlanID))
	if err != nil {
		return err
	}
	w.markWithdrawn(withdrawn)
	w.wake.SendAsync(nil)
	return nil
}

// resume presents again what is due, and the instalments held, with a new pre-notification.
func (w *planWorkflow) resume(ctx workflow.Context) error {
	w.busy = true
	defer func() { w.busy = false }()
	if _, err := runPlan(ctx, "Record the plan as active", call2(PlanActivities.SetPlanStatus, w.PlanID, PlanActive)); err != nil {
		return err
	}
	w.Suspended = false
	for k := range w.Instalments { // the dates the debtor was told may be past: tell again
		if i := &w.Instalments[k]; i.Status == InstalmentPlanned {
			i.Prenotified = date.Date{}
		}
	}
	w.releaseHeld()
	w.wake.SendAsync(nil)
	return nil
}

func (w *planWorkflow) releaseHeld() {
	for k := range w.Instalments {
		if i := &w.Instalments[k]; i.Status == InstalmentHeld {
			i.Status, i.Prenotified, i.Technical = InstalmentPlanned, date.Date{}, 0
		}
	}
}

// replaceMandate makes the plan collect with the debtor's new mandate from the next file on;
// instalments held for an account problem are presented again.
func (w *planWorkflow) replaceMandate(ctx workflow.Context, mandateID int64) error {
	w.busy = true
	defer func() { w.busy = false }()
	if _, err := runPlan(ctx, "Collect with the new mandate", call2(PlanActivities.SetPlanMandate, w.PlanID, mandateID)); err != nil {
		return err
	}
	w.releaseHeld()
	w.wake.SendAsync(nil)
	return nil
}
