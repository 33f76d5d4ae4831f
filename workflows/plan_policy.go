package workflows

import (
	"encoding/json"
	"fmt"
	"regexp"
	"slices"
	"strings"
	"time"

	"incasso/domain/date"
	"incasso/domain/target2"
)

// What a plan does with a collection the bank rejected or returned, by reason code.
const (
	// ReasonRepresent: present the instalment again, with a new EndToEndId, at most
	// MaxRepresentations times and at least MinBusinessDaysApart after the last presentation;
	// after that the instalment is missed.
	ReasonRepresent = "represent"
	// ReasonFinal: the instalment is missed; the debtor gets a sollecito and the miss counts
	// towards decadenza.
	ReasonFinal = "final"
	// ReasonTechnical: an error on the comune's side (file, identifiers, format). Presented
	// again at once, never counted against the debtor; after TechnicalRetries it is held.
	ReasonTechnical = "technical"
	// ReasonHold: not presented again and not counted (a duplicate, an unknown code): the
	// instalment waits for an operator to resume the plan or replace the mandate.
	ReasonHold = "hold"
)

// ReasonRule is what a plan does with one reason code.
type ReasonRule struct {
	Action               string `json:"action"`
	MaxRepresentations   int    `json:"maxRepresentations,omitempty"`
	MinBusinessDaysApart int    `json:"minBusinessDaysApart,omitempty"`
}

// ReasonRules maps ISO 20022 reason codes to rules. A code not in the table is held.
type ReasonRules map[string]ReasonRule

// DefaultReasonRules is the policy of DOMAIN.md section 4.
func DefaultReasonRules() ReasonRules {
	rules := ReasonRules{
		"AM04": {Action: ReasonRepresent, MaxRepresentations: 2, MinBusinessDaysApart: 5},
		"MS03": {Action: ReasonRepresent, MaxRepresentations: 1, MinBusinessDaysApart: 5},
		"AM05": {Action: ReasonHold},
	}
	for _, code := range []string{"AC01", "AC04", "AC06", "AG01", "MD07", "SL01", "MD01", "MD02", "MD06", "MS02"} {
		rules[code] = ReasonRule{Action: ReasonFinal}
	}
	for _, code := range []string{"FF01", "RC01", "BE05", "AG02"} {
		rules[code] = ReasonRule{Action: ReasonTechnical}
	}
	return rules
}

var reasonCode = regexp.MustCompile(`^[A-Z0-9]{4}$`)

// ParseReasonRules reads a JSON object of code -> rule that overrides and extends the default
// table, and validates it.
func ParseReasonRules(data []byte) (ReasonRules, error) {
	var overrides ReasonRules
	if err := json.Unmarshal(data, &overrides); err != nil {
		return nil, fmt.Errorf("reason rules: %w", err)
	}
	rules := DefaultReasonRules()
	for code, rule := range overrides {
		if !reasonCode.MatchString(code) {
			return nil, fmt.Errorf("reason rules: %q is not a reason code (4 upper-case letters or digits)", code)
		}
		switch {
		case !slices.Contains([]string{ReasonRepresent, ReasonFinal, ReasonTechnical, ReasonHold}, rule.Action):
			return nil, fmt.Errorf("reason rules: %s.action: %q is not one of represent, final, technical, hold", code, rule.Action)
		case rule.Action == ReasonRepresent && (rule.MaxRepresentations < 1 || rule.MaxRepresentations > 5):
			return nil, fmt.Errorf("reason rules: %s.maxRepresentations: 1 to 5", code)
		case rule.Action == ReasonRepresent && (rule.MinBusinessDaysApart < 1 || rule.MinBusinessDaysApart > 60):
			return nil, fmt.Errorf("reason rules: %s.minBusinessDaysApart: 1 to 60", code)
		}
		rules[code] = rule
	}
	return rules, nil
}

// Rule returns the rule of a reason code.
func (r ReasonRules) Rule(code string) ReasonRule {
	if rule, ok := r[strings.ToUpper(code)]; ok {
		return rule
	}
	return ReasonRule{Action: ReasonHold}
}

// PlanPolicy is how a plan collects: the timings of SDD Core and the law on instalments. It
// comes in the plan's input, so a running plan keeps the policy it started with.
type PlanPolicy struct {
	PrenotifyDays        int         `json:"prenotifyDays"`        // calendar days before the collection date
	FinalityBusinessDays int         `json:"finalityBusinessDays"` // returns are possible until D+n
	TechnicalRetries     int         `json:"technicalRetries"`
	MissesForDecadenza   int         `json:"missesForDecadenza"`
	DecadenzaMonths      int         `json:"decadenzaMonths"`
	Reasons              ReasonRules `json:"reasons"`
	// ContinueAfterEvents: the run continues as new once its history has this many events.
	ContinueAfterEvents int `json:"continueAfterEvents"`
}

// DefaultPlanPolicy is SDD Core with the comune's defaults (DOMAIN.md sections 4 and 5).
func DefaultPlanPolicy() PlanPolicy {
	return PlanPolicy{
		PrenotifyDays: 14, FinalityBusinessDays: 5, TechnicalRetries: 3,
		MissesForDecadenza: 2, DecadenzaMonths: 6, Reasons: DefaultReasonRules(), ContinueAfterEvents: 400,
	}
}

// Calendar maps the dates of a plan and its collections to instants. With DayLength zero a
// date's actions happen at Hour o'clock in Rome; on the compressed calendar of a test or demo
// each day lasts DayLength, starting from Origin, which is OriginDate.
type Calendar struct {
	DayLength  time.Duration `json:"dayLength,omitempty"`
	Origin     time.Time     `json:"origin,omitempty"`
	OriginDate date.Date     `json:"originDate,omitempty"`
	// CutoffHour is the bank's cut-off, the day before the collection date: the collection
	// run submits its file then.
	CutoffHour int `json:"cutoffHour"`
}

// actionHour is when the day's work of a plan (pre-notifications, finality) is done.
const actionHour = 7

// Today is the date at instant now.
func (c Calendar) Today(now time.Time) date.Date {
	if c.DayLength == 0 {
		return date.InRome(now)
	}
	days := int(now.Sub(c.Origin) / c.DayLength)
	return date.Of(c.OriginDate.Time().AddDate(0, 0, days))
}

// At is the instant of hour on date d.
func (c Calendar) At(d date.Date, hour int) time.Time {
	if c.DayLength == 0 {
		return time.Date(d.Year, d.Month, d.Day, hour, 0, 0, 0, date.Rome)
	}
	days := int(d.Time().Sub(c.OriginDate.Time()).Hours() / 24)
	return c.Origin.Add(time.Duration(days)*c.DayLength + c.DayLength*time.Duration(hour)/24)
}

// CutoffAt is when the file for collection date d is submitted: the cut-off of the business
// day before.
func (c Calendar) CutoffAt(d date.Date) time.Time {
	return c.At(target2.PreviousBusinessDay(d), c.CutoffHour)
}
