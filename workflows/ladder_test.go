package workflows

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"go.temporal.io/sdk/temporal"

	"incasso/domain/date"
	"incasso/domain/reminders"
)

// rome9 is 09:00 in Rome on the given day: when a reminder step falls due.
func rome9(y int, m time.Month, d int) time.Time {
	return time.Date(y, m, d, 9, 0, 0, 0, date.Rome).UTC()
}

func (h *harness) withPolicies(p ...Policy) { h.policies = p }

func (h *harness) reminderLog() []reminder {
	h.mu.Lock()
	defer h.mu.Unlock()
	return append([]reminder(nil), h.reminders...)
}

func defaultPolicy(version int) Policy {
	return Policy{ServiceCode: "TARI", Version: version, Steps: DefaultSteps}
}

func TestValidateSteps(t *testing.T) {
	t.Parallel()
	require.NoError(t, ValidateSteps(DefaultSteps))
	require.NoError(t, ValidateSteps(nil), "a service may have no reminders")
	require.NoError(t, ValidateSteps([]Step{{Name: StepSollecito, OffsetDays: 10, Channel: ChannelEmail}}))
	require.NoError(t, ValidateSteps([]Step{
		{Name: StepCourtesy, OffsetDays: -3, Channels: []reminders.Channel{reminders.ChannelIO, reminders.ChannelEmail}},
		{Name: StepSollecito, OffsetDays: 15, Channels: []reminders.Channel{reminders.ChannelEmail, reminders.ChannelPEC}},
		{Name: StepAccertamento, OffsetDays: 60, Channels: []reminders.Channel{reminders.ChannelPEC, reminders.ChannelSEND}},
		{Name: StepEnforcement, OffsetDays: 120, Channel: ChannelRecord},
	}))
	for _, tt := range []struct {
		steps []Step
		want  string
	}{
		{[]Step{{Name: "warning", OffsetDays: 5, Channel: ChannelEmail}}, "steps[0].name"},
		{[]Step{{Name: StepSollecito, OffsetDays: 10, Channel: ChannelEmail}, {Name: StepCourtesy, OffsetDays: -3, Channel: ChannelEmail}}, "steps[1].name: courtesy is repeated or out of order"},
		{[]Step{{Name: StepSollecito, OffsetDays: 10, Channel: ChannelEmail}, {Name: StepSollecito, OffsetDays: 20, Channel: ChannelEmail}}, "repeated or out of order"},
		{[]Step{{Name: StepCourtesy, OffsetDays: 2, Channel: ChannelEmail}}, "steps[0].offsetDays: a courtesy reminder comes before"},
		{[]Step{{Name: StepSollecito, OffsetDays: 0, Channel: ChannelEmail}}, "at least 1 day"},
		{[]Step{{Name: StepSollecito, OffsetDays: 10, Channel: ChannelEmail}, {Name: StepAccertamento, OffsetDays: 10, Channel: ChannelPECOrPost}}, "steps[1].offsetDays: must be later"},
		{[]Step{{Name: StepAccertamento, OffsetDays: 10, Channel: ChannelEmail}}, "steps[0].channel"},
		{[]Step{{Name: StepEnforcement, OffsetDays: 4000, Channel: ChannelRecord}}, "at most 3650"},
		{[]Step{{Name: StepCourtesy, OffsetDays: -3, Channels: []reminders.Channel{reminders.ChannelEmail, reminders.ChannelIO}}},
			"steps[0].channels[1]: io is repeated or out of order"},
		{[]Step{{Name: StepAccertamento, OffsetDays: 60, Channels: []reminders.Channel{reminders.ChannelEmail, reminders.ChannelPEC}}},
			"steps[0].channels[0]: email has not the legal weight accertamento needs (notify)"},
		{[]Step{{Name: StepSollecito, OffsetDays: 15, Channel: ChannelEmail, Channels: []reminders.Channel{reminders.ChannelEmail}}},
			"steps[0].channel: give channels or channel, not both"},
		{[]Step{{Name: StepEnforcement, OffsetDays: 120, Channels: []reminders.Channel{reminders.ChannelPEC}}},
			"steps[0].channels: enforcement sends no message"},
	} {
		require.ErrorContains(t, ValidateSteps(tt.steps), tt.want, "%+v", tt.steps)
	}
}

// Unpaid: every step at 09:00 Rome on its day, then a late payment ends the debt.
func TestLadderWholeWay(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	h.withPolicies(defaultPolicy(3))
	paidAt := rome9(2027, time.April, 2)
	h.signalReceiptAt(paidAt, "r1")

	res := h.run(testInput())

	require.Equal(t, DebtResult{Status: StatusPaid, ReceiptID: "r1"}, res)
	require.Equal(t, []reminder{
		{StepCourtesy, 3, rome9(2026, time.November, 27)},
		{StepSollecito, 3, rome9(2026, time.December, 15)},
		{StepAccertamento, 3, rome9(2027, time.January, 29)},
		{StepEnforcement, 3, rome9(2027, time.March, 30)}, // 09:00 summer time
	}, h.reminderLog())
	require.Equal(t, []DebtStatus{StatusIssued, StatusOverdue, StatusPaid}, h.statusNames())
	require.Equal(t, []string{StepCourtesy, StepSollecito, StepAccertamento, StepEnforcement}, h.ladderUpserts)
	require.Equal(t, 1, h.policyLoads)
}

// A receipt at any step stops the ladder there.
func TestLadderStopsWhenPaid(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		name   string
		paidAt time.Time
		steps  []string
	}{
		{"before the courtesy reminder", rome9(2026, time.November, 20), nil},
		{"after the courtesy reminder", rome9(2026, time.November, 28), []string{StepCourtesy}},
		{"after the sollecito", rome9(2026, time.December, 20), []string{StepCourtesy, StepSollecito}},
		{"after the accertamento", rome9(2027, time.February, 1), []string{StepCourtesy, StepSollecito, StepAccertamento}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			h := newHarness(t)
			h.withPolicies(defaultPolicy(1))
			h.signalReceiptAt(tt.paidAt, "r1")
			res := h.run(testInput())
			require.Equal(t, StatusPaid, res.Status)
			var steps []string
			for _, r := range h.reminderLog() {
				steps = append(steps, r.Step)
			}
			require.Equal(t, tt.steps, steps)
			require.True(t, h.env.Now().Equal(tt.paidAt), "ended at %s, not when paid", h.env.Now())
		})
	}
}

// Cancelling mid-ladder stops it.
func TestLadderStopsWhenCancelled(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	withUpdateActivities(h)
	h.withPolicies(defaultPolicy(1))
	cancelAt := rome9(2026, time.December, 20)
	cancel := h.updateAt(cancelAt, "cancel-1", UpdateCancel, CancelRequest{Reason: "iscrizione duplicata"})

	res := h.run(testInput())

	require.Equal(t, DebtResult{Status: StatusCancelled}, res)
	_, _, err := cancel.requireCompleted()
	require.NoError(t, err)
	require.Len(t, h.reminderLog(), 2, "courtesy and sollecito, nothing after the cancellation")
}

// A running debt keeps the policy it started with; an upgrade moves it to the latest version,
// going on after the last step taken.
func TestLadderPolicyVersions(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	withUpdateActivities(h)
	v2 := Policy{ServiceCode: "TARI", Version: 2, Steps: []Step{
		{Name: StepCourtesy, OffsetDays: -5, Channel: ChannelEmail},
		{Name: StepSollecito, OffsetDays: 30, Channel: ChannelPECOrMail},
		{Name: StepAccertamento, OffsetDays: 90, Channel: ChannelPECOrPost},
	}}
	h.withPolicies(defaultPolicy(1), v2)
	upgradeAt := rome9(2026, time.December, 20) // after v1's sollecito (15 Dec)
	upgrade := h.updateAt(upgradeAt, "upgrade-1", UpdateUpgradePolicy, nil)
	paidAt := rome9(2027, time.April, 1)
	h.signalReceiptAt(paidAt, "r1")

	res := h.run(testInput())

	require.Equal(t, StatusPaid, res.Status)
	version, _, err := upgrade.requireCompleted()
	require.NoError(t, err)
	require.EqualValues(t, 2, version)
	require.Equal(t, []reminder{
		{StepCourtesy, 1, rome9(2026, time.November, 27)},
		{StepSollecito, 1, rome9(2026, time.December, 15)},
		// v2 goes on after the sollecito: its accertamento is at +90 days, v1's enforcement is gone.
		{StepAccertamento, 2, rome9(2027, time.February, 28)},
	}, h.reminderLog())
	require.Equal(t, 2, h.policyLoads)
}

// A notice issued after its courtesy day gets no courtesy reminder; a step refused by the mail
// server does not stop the ladder.
func TestLadderLateIssueAndRefusedMessage(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	h.setStart(rome9(2026, time.November, 29))
	h.withPolicies(defaultPolicy(1))
	h.reminderErr = temporal.NewNonRetryableApplicationError("refused", "MailRejected", nil)
	h.signalReceiptAt(rome9(2027, time.February, 1), "r1")

	res := h.run(testInput())

	require.Equal(t, StatusPaid, res.Status)
	var steps []string
	for _, r := range h.reminderLog() {
		steps = append(steps, r.Step)
	}
	require.Equal(t, []string{StepSollecito, StepAccertamento}, steps)
}

// Moving the due date moves the steps with it.
func TestLadderFollowsDueDateChange(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	withUpdateActivities(h)
	h.withPolicies(defaultPolicy(1))
	newDue := date.Date{Year: 2027, Month: time.January, Day: 15}
	h.updateAt(rome9(2026, time.November, 20), "change-1", UpdateChange,
		ChangeRequest{Amount: 12345, DueDate: newDue, Reason: "proroga"})
	h.signalReceiptAt(rome9(2027, time.January, 20), "r1")

	h.run(testInput())

	require.Equal(t, []reminder{{StepCourtesy, 1, rome9(2027, time.January, 12)}}, h.reminderLog())
}

// On a compressed calendar (end-to-end tests) days last DayLength from the issue on.
func TestLadderCompressedCalendar(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	p := defaultPolicy(1)
	p.DayLength = time.Second
	h.withPolicies(p)
	// Issued 2026-11-10, due 2026-11-30: 21 compressed days, so due at +21s.
	h.signalReceiptAt(h.start.Add(40*time.Second), "r1")

	h.run(testInput())

	at := func(s int) time.Time { return h.start.Add(time.Duration(s) * time.Second).UTC() }
	require.Equal(t, []reminder{{StepCourtesy, 1, at(18)}, {StepSollecito, 1, at(36)}}, h.reminderLog())
	require.True(t, h.statusTime(StatusOverdue).Equal(at(21)), "overdue at %s", h.statusTime(StatusOverdue))
}
