package workflows

import (
	"fmt"
	"time"

	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/workflow"

	"incasso/domain/date"
)

// The legal clock (L. 160/2019 c. 792): an accertamento esecutivo may be paid or appealed
// within 60 days of its notification, and handed over to enforced collection 30 days after
// that. Both count from the day the notification was perfected, proven by SEND, by the PEC
// delivery receipt or by the return card of the registered letter; a ladder's accertamento
// step may set other days (payDays) and so may its enforcement step (waitDays).
const (
	DefaultPayDays  = 60
	DefaultWaitDays = 30
)

// How the notification of an act was proven perfected (debt_positions.notified_by).
const (
	ProofSEND       = "send"
	ProofPEC        = "pec"
	ProofReturnCard = "return_card"
)

// ActivityCheckLegalProof looks for the proof of the accertamento's notification.
const ActivityCheckLegalProof = "CheckLegalProof"

// LegalClockInput asks for the proof of the notification of the debt's act of step Step, and
// the deadlines that follow from it.
type LegalClockInput struct {
	DebtID   int64
	Step     string
	PayDays  int
	WaitDays int
}

// LegalProof is what CheckLegalProof found: the proof (By, At) and the deadlines it sets, or
// that the act never reached the debtor (Failed says how), or else what it still waits for.
type LegalProof struct {
	By           string
	At           time.Time
	PayBy        date.Date
	HandoverFrom date.Date
	Failed       string
	Waiting      string
}

// Deadlines are the last day to pay or appeal an act perfected at the instant, and the first
// day of its hand-over to enforced collection.
func Deadlines(perfected time.Time, payDays, waitDays int) (payBy, handoverFrom date.Date) {
	d := date.InRome(perfected).Time()
	return date.Of(d.AddDate(0, 0, payDays)), date.Of(d.AddDate(0, 0, payDays+waitDays))
}

// legalClock is the debt's clock once its accertamento was sent: on for debts started since
// version "legal-clock" 1, when the ladder has an accertamento before its hand-over.
type legalClock struct {
	on       bool
	payDays  int
	waitDays int
	proof    *LegalProof // nil until the proof (or the failure) is found
	nextPoll time.Time   // when to look for the proof again
}

// proofPoll is how often the proof is looked for while none is there (a compressed day in tests).
const proofPoll = 6 * time.Hour

// checkOptions: the check calls SEND and the database; retried until they answer.
var checkOptions = workflow.ActivityOptions{
	StartToCloseTimeout: 2 * time.Minute,
	RetryPolicy: &temporal.RetryPolicy{
		InitialInterval: 10 * time.Second, BackoffCoefficient: 2, MaximumInterval: time.Hour,
		NonRetryableErrorTypes: []string{ErrTypeInvalidInput},
	},
}

// startClock sets the clock up when the ladder loads: the hand-over then waits for the proof
// of the accertamento's notification instead of the enforcement step's fixed offset.
func (w *debtWorkflow) startClock(ctx workflow.Context) {
	if workflow.GetVersion(ctx, "legal-clock", workflow.DefaultVersion, 1) == workflow.DefaultVersion {
		return
	}
	w.clock = legalClock{on: true, payDays: DefaultPayDays, waitDays: DefaultWaitDays}
	w.clockDays()
}

// clockDays reads the days of the policy in force.
func (w *debtWorkflow) clockDays() {
	if !w.clock.on || w.ladder.policy == nil {
		return
	}
	w.clock.payDays, w.clock.waitDays = DefaultPayDays, DefaultWaitDays
	for _, s := range w.ladder.policy.Steps {
		switch {
		case s.Name == StepAccertamento && s.PayDays > 0:
			w.clock.payDays = s.PayDays
		case s.Name == StepEnforcement && s.WaitDays > 0:
			w.clock.waitDays = s.WaitDays
		}
	}
}

// clocked tells whether the step is a hand-over that waits for the legal clock: the clock is
// on and the accertamento was sent.
func (w *debtWorkflow) clocked(step Step) bool {
	return w.clock.on && step.Name == StepEnforcement && w.ladder.taken == StepAccertamento
}

// clockAt is when the clocked hand-over falls due: the day after the proof's deadlines (or
// those compressed days after the proof), the next look for the proof while none is there,
// and never (false) when the act never reached the debtor.
func (w *debtWorkflow) clockAt() (time.Time, bool) {
	p := w.clock.proof
	switch {
	case p == nil:
		return w.clock.nextPoll, true
	case p.Failed != "":
		return time.Time{}, false
	}
	if day := w.compressed(); day > 0 {
		return p.At.Add(time.Duration(w.clock.payDays+w.clock.waitDays) * day), true
	}
	return StepTime(p.HandoverFrom, 0), true
}

// sentAct starts looking for the proof once the accertamento was sent.
func (w *debtWorkflow) sentAct(ctx workflow.Context) {
	if !w.clock.on {
		return
	}
	w.clock.nextPoll = workflow.Now(ctx).Add(w.pollEvery())
	workflow.SetCurrentDetails(ctx, fmt.Sprintf("%s: accertamento sent; waiting for the proof of its notification (SEND, PEC delivery receipt or return card).", w.status))
}

func (w *debtWorkflow) pollEvery() time.Duration {
	if day := w.compressed(); day > 0 {
		return day
	}
	return proofPoll
}

// checkProof looks for the proof of the accertamento's notification, says in the Web UI what
// the debt waits for, and tells whether the hand-over may be taken now.
func (w *debtWorkflow) checkProof(ctx workflow.Context) (bool, error) {
	if w.clock.proof != nil {
		return w.clock.proof.Failed == "", nil
	}
	in := LegalClockInput{DebtID: w.in.DebtID, Step: StepAccertamento, PayDays: w.clock.payDays, WaitDays: w.clock.waitDays}
	actx := workflow.WithActivityOptions(ctx, checkOptions)
	p, err := run(withSummary(actx, "Look for the proof of the accertamento's notification"), call1R(DebtActivities.CheckLegalProof, in))
	if err != nil {
		return false, fmt.Errorf("check legal proof: %w", err)
	}
	switch {
	case p.Failed != "":
		w.clock.proof = &p
		workflow.SetCurrentDetails(ctx, fmt.Sprintf("%s: the accertamento did not reach the debtor (%s): no hand-over to enforced collection without proof; an operator must notify it again.", w.status, p.Failed))
	case p.By != "":
		w.clock.proof = &p
		workflow.SetCurrentDetails(ctx, fmt.Sprintf("%s: accertamento notified on %s (proof: %s); pay or appeal by %s, hand-over from %s.",
			w.status, date.InRome(p.At), p.By, p.PayBy, p.HandoverFrom))
	default:
		w.clock.nextPoll = workflow.Now(ctx).Add(w.pollEvery())
		workflow.SetCurrentDetails(ctx, fmt.Sprintf("%s: no hand-over without proof; waiting for %s.", w.status, p.Waiting))
	}
	return false, nil
}
