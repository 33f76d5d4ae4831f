package workflows

import (
	"errors"
	"fmt"
	"slices"
	"time"

	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/workflow"

	"incasso/domain/date"
	"incasso/domain/reminders"
)

// Reminder steps, in the order a ladder may use them (DOMAIN.md section 5).
const (
	StepCourtesy     = "courtesy"     // a courtesy reminder before the due date
	StepSollecito    = "sollecito"    // a formal reminder after it
	StepAccertamento = "accertamento" // accertamento esecutivo: the enforceable demand
	StepEnforcement  = "enforcement"  // hand-over to enforced collection
)

// Channels of a step in the policies written before Step.Channels, still valid: Step.Ladder
// says which channels each stands for.
const (
	ChannelEmail     = "email"       // ordinary email
	ChannelPECOrMail = "pec_or_mail" // PEC when the debtor has a PEC address, else email
	ChannelPECOrPost = "pec_or_post" // PEC, else a letter printed for registered post
	ChannelRecord    = "record"      // no message: a record and an export for the collection agent
)

// Step is one rung of an escalation ladder: what happens how many days from the due date, and
// by which channels. Channels, when given, are the channels the service allows the step,
// cheapest first (reminders.ValidateChannels): the step goes by the first that reaches the
// debtor. Without them, Channel names the ladder of an older policy (see Ladder).
type Step struct {
	Name       string              `json:"name"`
	OffsetDays int                 `json:"offsetDays"` // negative: before the due date
	Channel    string              `json:"channel,omitempty"`
	Channels   []reminders.Channel `json:"channels,omitempty"`
	// PayDays, on the accertamento step, are the days to pay or appeal from the perfected
	// notification (zero: DefaultPayDays); WaitDays, on the enforcement step, the days after
	// those before the hand-over (zero: DefaultWaitDays). See the legal clock.
	PayDays  int `json:"payDays,omitempty"`
	WaitDays int `json:"waitDays,omitempty"`
}

// Ladder is the channels the step tries in order, nil for the hand-over (no message). An App
// IO message goes only to a debtor of a service enabled for IO whose profile takes it, so a
// policy without Channels lets IO come before email:
//   - email: IO, then e-mail, then PEC for a debtor with no e-mail address;
//   - pec_or_mail: PEC, then IO, then e-mail (a sollecito preferring PEC);
//   - pec_or_post: PEC, then SEND (when configured: its paper fallback replaces the registered
//     letter), then a registered letter.
func (s Step) Ladder() []reminders.Channel {
	if len(s.Channels) > 0 {
		return s.Channels
	}
	switch s.Channel {
	case ChannelEmail:
		return []reminders.Channel{reminders.ChannelIO, reminders.ChannelEmail, reminders.ChannelPEC}
	case ChannelPECOrMail:
		return []reminders.Channel{reminders.ChannelPEC, reminders.ChannelIO, reminders.ChannelEmail}
	case ChannelPECOrPost:
		return []reminders.Channel{reminders.ChannelPEC, reminders.ChannelSEND, reminders.ChannelPost}
	}
	return nil
}

// Policy is a version of a service's escalation ladder. Steps are in time order.
type Policy struct {
	ServiceCode string `json:"serviceCode"`
	Version     int    `json:"version"`
	Steps       []Step `json:"steps"`
	// DayLength, when set, compresses the calendar for end-to-end tests and demos: the debt's
	// days, from its issue to its due date and on through the steps, last this long each.
	// Zero (production) means calendar days in Rome.
	DayLength time.Duration `json:"dayLength,omitempty"`
}

// DefaultSteps is the ladder of a service without a policy of its own.
var DefaultSteps = []Step{
	{Name: StepCourtesy, OffsetDays: -3, Channel: ChannelEmail},
	{Name: StepSollecito, OffsetDays: 15, Channel: ChannelPECOrMail},
	{Name: StepAccertamento, OffsetDays: 60, Channel: ChannelPECOrPost},
	{Name: StepEnforcement, OffsetDays: 120, Channel: ChannelRecord},
}

// stepChannels are the channels each step may use.
var stepChannels = map[string][]string{
	StepCourtesy:     {ChannelEmail},
	StepSollecito:    {ChannelEmail, ChannelPECOrMail},
	StepAccertamento: {ChannelPECOrPost},
	StepEnforcement:  {ChannelRecord},
}

// ValidateSteps checks a ladder: known steps with their channels (either Channels, cheapest
// first and each with the legal weight the step needs, or one of the older Channel values),
// each step at most once, in the order courtesy, sollecito, accertamento, enforcement,
// offsets strictly increasing, a courtesy reminder before the due date and the others after it.
func ValidateSteps(steps []Step) error {
	next := 0
	for i, s := range steps {
		where := fmt.Sprintf("steps[%d]", i)
		rank := stepRank(s.Name)
		switch {
		case rank < 0:
			return fmt.Errorf("%s.name: %q is not one of courtesy, sollecito, accertamento, enforcement", where, s.Name)
		case rank < next:
			return fmt.Errorf("%s.name: %s is repeated or out of order", where, s.Name)
		case len(s.Channels) > 0 && s.Channel != "":
			return fmt.Errorf("%s.channel: give channels or channel, not both", where)
		case len(s.Channels) > 0:
			if err := reminders.ValidateChannels(s.Name, s.Channels); err != nil {
				return fmt.Errorf("%s.%w", where, err)
			}
		case !slices.Contains(stepChannels[s.Name], s.Channel):
			return fmt.Errorf("%s.channel: %s cannot go by %q (allowed: %v)", where, s.Name, s.Channel, stepChannels[s.Name])
		}
		switch {
		case s.Name == StepCourtesy && s.OffsetDays >= 0:
			return fmt.Errorf("%s.offsetDays: a courtesy reminder comes before the due date (negative days)", where)
		case s.Name != StepCourtesy && s.OffsetDays < 1:
			return fmt.Errorf("%s.offsetDays: %s comes after the due date (at least 1 day)", where, s.Name)
		case s.OffsetDays > 3650:
			return fmt.Errorf("%s.offsetDays: at most 3650 days", where)
		case i > 0 && s.OffsetDays <= steps[i-1].OffsetDays:
			return fmt.Errorf("%s.offsetDays: must be later than the step before", where)
		case s.PayDays != 0 && (s.Name != StepAccertamento || s.PayDays < 1 || s.PayDays > 3650):
			return fmt.Errorf("%s.payDays: only on the accertamento step, 1 to 3650 days", where)
		case s.WaitDays != 0 && (s.Name != StepEnforcement || s.WaitDays < 1 || s.WaitDays > 3650):
			return fmt.Errorf("%s.waitDays: only on the enforcement step, 1 to 3650 days", where)
		}
		next = rank + 1
	}
	return nil
}

// StepTime is when a step falls due: 09:00 in Rome, offset days from the due date.
func StepTime(due date.Date, offsetDays int) time.Time {
	d := due.Time().AddDate(0, 0, offsetDays)
	return time.Date(d.Year(), d.Month(), d.Day(), 9, 0, 0, 0, date.Rome)
}

// StepInput is what the SendReminder activity needs: the debt, the step and the policy
// version it comes from, and for an accertamento the days its legal clock will count after
// the days to pay (Step.PayDays): WaitDays, before the hand-over (zero: DefaultWaitDays).
type StepInput struct {
	DebtID        int64
	Step          Step
	PolicyVersion int
	WaitDays      int `json:",omitempty"`
}

// Activities of the reminder ladder.
const (
	ActivityLoadPolicy   = "LoadPolicy"
	ActivitySendReminder = "SendReminder"
)

// SearchLadderStep is the search attribute with the last reminder step taken.
var SearchLadderStep = temporal.NewSearchAttributeKeyKeyword("LadderStep")

// UpdateUpgradePolicy moves a running debt to the latest version of its service's policy.
const UpdateUpgradePolicy = "upgrade-policy"

// ladder is the reminder escalation of one debt: the policy version it follows and how far
// it has gone. A debt started before ladders existed has none.
type ladder struct {
	policy *Policy
	next   int    // index in policy.Steps of the next step
	taken  string // the last step taken

	timer    workflow.Future // pending until the next step falls due
	timerFor time.Time
	cancel   workflow.CancelFunc
	issuedAt time.Time // where a compressed calendar starts
}

// compressed is the day length of a test's compressed calendar, zero for real days.
func (w *debtWorkflow) compressed() time.Duration {
	if w.ladder.policy == nil {
		return 0
	}
	return w.ladder.policy.DayLength
}

// dueAt is when the due date is over: the following midnight in Rome, or on a compressed
// calendar as many compressed days after the issue as there are days from issue to due date.
func (w *debtWorkflow) dueAt() time.Time {
	day := w.compressed()
	if day == 0 {
		return w.in.DueDate.EndIn(date.Rome)
	}
	days := int(w.in.DueDate.Time().Sub(date.InRome(w.ladder.issuedAt).Time()).Hours()/24) + 1
	return w.ladder.issuedAt.Add(time.Duration(days) * day)
}

// stepAt is when a step falls due: StepTime, or offset compressed days from dueAt.
func (w *debtWorkflow) stepAt(step Step) time.Time {
	if day := w.compressed(); day > 0 {
		return w.dueAt().Add(time.Duration(step.OffsetDays) * day)
	}
	return StepTime(w.in.DueDate, step.OffsetDays)
}

// reminderOptions: a reminder is retried until the mail servers answer; a refusal is final.
var reminderOptions = workflow.ActivityOptions{
	StartToCloseTimeout: 2 * time.Minute,
	RetryPolicy: &temporal.RetryPolicy{
		InitialInterval: 10 * time.Second, BackoffCoefficient: 2, MaximumInterval: time.Hour,
		NonRetryableErrorTypes: []string{"InvalidInput", "MailRejected"},
	},
}

// startLadder loads the policy the debt will follow. Debts started before the ladder existed
// replay without it. A courtesy reminder whose day has passed when the notice is issued (a
// late issue) is skipped; later steps that have passed are taken at once, in order.
func (w *debtWorkflow) startLadder(ctx workflow.Context) error {
	if workflow.GetVersion(ctx, "reminder-ladder", workflow.DefaultVersion, 1) == workflow.DefaultVersion {
		return nil
	}
	p, err := w.loadPolicy(ctx)
	if err != nil {
		return err
	}
	w.ladder.policy, w.ladder.issuedAt = &p, workflow.Now(ctx)
	w.startClock(ctx)
	for w.ladder.next < len(p.Steps) && p.Steps[w.ladder.next].Name == StepCourtesy &&
		!workflow.Now(ctx).Before(w.stepAt(p.Steps[w.ladder.next])) {
		w.ladder.next++
	}
	return nil
}

// loadPolicy asks for the latest policy of the debt's service, which the debt follows from now.
func (w *debtWorkflow) loadPolicy(ctx workflow.Context) (Policy, error) {
	opts := issueOptions
	opts.Summary = "Load the reminder policy of the service"
	p, err := runShort(ctx, w, opts, call1R(DebtActivities.LoadPolicy, w.in.DebtID))
	if err != nil {
		return p, fmt.Errorf("load reminder policy: %w", err)
	}
	return p, nil
}

// stepTimer returns the timer of the next step, (re)starting it when the step or the due date
// changed; nil when the ladder has no step left.
func (w *debtWorkflow) stepTimer(ctx workflow.Context) workflow.Future {
	l := &w.ladder
	if l.policy == nil || l.next >= len(l.policy.Steps) {
		return nil
	}
	step := l.policy.Steps[l.next]
	at, summary := w.stepAt(step), fmt.Sprintf("Reminder step %s on %s", step.Name, w.stepAt(step).Format("2006-01-02"))
	if w.clocked(step) {
		var ok bool
		if at, ok = w.clockAt(); !ok {
			return nil // the act never reached the debtor: no hand-over
		}
		summary = "Look for the proof of the accertamento's notification"
		if w.clock.proof != nil {
			summary = "Hand-over to enforced collection from " + w.clock.proof.HandoverFrom.String()
		}
	}
	if l.timer != nil && l.timerFor.Equal(at) {
		return l.timer
	}
	if l.cancel != nil {
		l.cancel()
	}
	timerCtx, cancel := workflow.WithCancel(ctx)
	l.timer = workflow.NewTimerWithOptions(timerCtx, max(0, at.Sub(workflow.Now(ctx))),
		workflow.TimerOptions{Summary: summary})
	l.timerFor, l.cancel = at, cancel
	return l.timer
}

// takeStep sends the next step's message (or records the hand-over) and moves the ladder on.
// A message the mail server refuses is archived as failed; the ladder goes on.
func (w *debtWorkflow) takeStep(ctx workflow.Context) error {
	l := &w.ladder
	step := l.policy.Steps[l.next]
	if w.clocked(step) {
		ready, err := w.checkProof(ctx)
		if err != nil || !ready {
			l.timer = nil
			return err
		}
	}
	in := StepInput{DebtID: w.in.DebtID, Step: step, PolicyVersion: l.policy.Version}
	if w.clock.on && step.Name == StepAccertamento {
		in.WaitDays = w.clock.waitDays
	}
	actx := workflow.WithActivityOptions(ctx, reminderOptions)
	_, err := run(withSummary(actx, "Reminder step "+step.Name+" by "+step.Channel), call1(DebtActivities.SendReminder, in))
	var appErr *temporal.ApplicationError
	if errors.As(err, &appErr) && appErr.Type() == "MailRejected" {
		workflow.GetLogger(ctx).Warn("reminder refused by the mail server", "step", step.Name)
	} else if err != nil {
		return fmt.Errorf("reminder step %s: %w", step.Name, err)
	}
	l.taken, l.next, l.timer = step.Name, l.next+1, nil
	if err := workflow.UpsertTypedSearchAttributes(ctx, SearchLadderStep.ValueSet(step.Name)); err != nil {
		return fmt.Errorf("upsert LadderStep: %w", err)
	}
	workflow.SetCurrentDetails(ctx, fmt.Sprintf("%s: reminder step %s taken (policy v%d).", w.status, step.Name, l.policy.Version))
	if step.Name == StepAccertamento {
		w.sentAct(ctx)
	}
	return nil
}

// validateUpgrade accepts moving to the latest policy a debt that follows a ladder.
func (w *debtWorkflow) validateUpgrade() error {
	if err := w.validateUpdate(); err != nil {
		return err
	}
	if w.ladder.policy == nil {
		return rejected("this debt started before reminder policies: it has no ladder to upgrade")
	}
	return nil
}

// upgradePolicy moves the debt to the latest policy, going on after the last step taken.
func (w *debtWorkflow) upgradePolicy(ctx workflow.Context) (int, error) {
	w.busy = true
	defer func() { w.busy = false }()
	p, err := w.loadPolicy(ctx)
	if err != nil {
		return 0, err
	}
	next := 0
	if w.ladder.taken != "" {
		next = len(p.Steps)
		for i, s := range p.Steps {
			if stepRank(s.Name) > stepRank(w.ladder.taken) {
				next = i
				break
			}
		}
	}
	w.ladder.policy, w.ladder.next = &p, next
	// Since version "clock-days-of-the-act", the days the accertamento sent gave the debtor stay
	// its days: an upgrade while its clock runs changes the ladder, not the act's deadlines.
	if stepRank(w.ladder.taken) < stepRank(StepAccertamento) ||
		workflow.GetVersion(ctx, "clock-days-of-the-act", workflow.DefaultVersion, 1) == workflow.DefaultVersion {
		w.clockDays()
	}
	w.events.SendAsync(eventPolicy)
	return p.Version, nil
}

// stepRank is a step's place in the escalation.
func stepRank(name string) int {
	return slices.Index([]string{StepCourtesy, StepSollecito, StepAccertamento, StepEnforcement}, name)
}
