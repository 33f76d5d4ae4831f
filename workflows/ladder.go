package workflows

import (
	"fmt"
	"slices"
	"time"

	"go.temporal.io/sdk/temporal"

	"incasso/date"
)

// Reminder steps, in the order a ladder may use them (DOMAIN.md section 5).
const (
	StepCourtesy     = "courtesy"     // a courtesy reminder before the due date
	StepSollecito    = "sollecito"    // a formal reminder after it
	StepAccertamento = "accertamento" // accertamento esecutivo: the enforceable demand
	StepEnforcement  = "enforcement"  // hand-over to enforced collection
)

// Channels of a step.
const (
	ChannelEmail     = "email"       // ordinary email
	ChannelPECOrMail = "pec_or_mail" // PEC when the debtor has a PEC address, else email
	ChannelPECOrPost = "pec_or_post" // PEC, else a letter printed for registered post
	ChannelRecord    = "record"      // no message: a record and an export for the collection agent
)

// Step is one rung of an escalation ladder: what happens how many days from the due date.
type Step struct {
	Name       string `json:"name"`
	OffsetDays int    `json:"offsetDays"` // negative: before the due date
	Channel    string `json:"channel"`
}

// Policy is a version of a service's escalation ladder. Steps are in time order.
type Policy struct {
	ServiceCode string `json:"serviceCode"`
	Version     int    `json:"version"`
	Steps       []Step `json:"steps"`
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

// ValidateSteps checks a ladder: known steps with their channels, each at most once, in the
// order courtesy, sollecito, accertamento, enforcement, offsets strictly increasing, a
// courtesy reminder before the due date and the others after it.
func ValidateSteps(steps []Step) error {
	order := []string{StepCourtesy, StepSollecito, StepAccertamento, StepEnforcement}
	next := 0
	for i, s := range steps {
		where := fmt.Sprintf("steps[%d]", i)
		rank := -1
		for r, name := range order {
			if name == s.Name {
				rank = r
			}
		}
		switch {
		case rank < 0:
			return fmt.Errorf("%s.name: %q is not one of courtesy, sollecito, accertamento, enforcement", where, s.Name)
		case rank < next:
			return fmt.Errorf("%s.name: %s is repeated or out of order", where, s.Name)
		case !slices.Contains(stepChannels[s.Name], s.Channel):
			return fmt.Errorf("%s.channel: %s cannot go by %q (allowed: %v)", where, s.Name, s.Channel, stepChannels[s.Name])
		case s.Name == StepCourtesy && s.OffsetDays >= 0:
			return fmt.Errorf("%s.offsetDays: a courtesy reminder comes before the due date (negative days)", where)
		case s.Name != StepCourtesy && s.OffsetDays < 1:
			return fmt.Errorf("%s.offsetDays: %s comes after the due date (at least 1 day)", where, s.Name)
		case s.OffsetDays > 3650:
			return fmt.Errorf("%s.offsetDays: at most 3650 days", where)
		case i > 0 && s.OffsetDays <= steps[i-1].OffsetDays:
			return fmt.Errorf("%s.offsetDays: must be later than the step before", where)
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
// version it comes from.
type StepInput struct {
	DebtID        int64
	Step          Step
	PolicyVersion int
}

// Activities of the reminder ladder.
const (
	ActivityLoadPolicy   = "LoadPolicy"
	ActivitySendReminder = "SendReminder"
)

// SearchLadderStep is the search attribute with the last reminder step taken.
var SearchLadderStep = temporal.NewSearchAttributeKeyKeyword("LadderStep")
