package workflows

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// sentAt is when the default ladder's accertamento goes out for testInput's debt.
var sentAt = rome9(2027, time.January, 29)

// The hand-over counts from the proof, not from the accertamento's step: the PEC delivery
// receipt comes 10 days late, the debt looks for it every 6 hours until then, and hands over
// 90 days after it.
func TestLegalClockStartsAtTheProof(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	h.withPolicies(defaultPolicy(1))
	delivered := sentAt.Add(10 * 24 * time.Hour)
	h.proof = func(now time.Time, in LegalClockInput) LegalProof {
		if now.Before(delivered) {
			return LegalProof{Waiting: "the PEC delivery receipt"}
		}
		payBy, from := Deadlines(delivered, in.PayDays, in.WaitDays)
		return LegalProof{By: ProofPEC, At: delivered, PayBy: payBy, HandoverFrom: from}
	}
	h.signalReceiptAt(rome9(2027, time.June, 1), "r1")

	res := h.run(testInput())

	require.Equal(t, StatusPaid, res.Status)
	log := h.reminderLog()
	require.Len(t, log, 4)
	require.Equal(t, StepEnforcement, log[3].Step)
	require.Equal(t, rome9(2027, time.May, 9), log[3].At, "Feb 8 + 60 + 30 days, at 09:00")
	require.Equal(t, sentAt.Add(6*time.Hour), h.proofChecks[0], "the first look 6 hours after sending")
	require.Len(t, h.proofChecks, 40, "every 6 hours for 10 days")
	require.Equal(t, delivered, h.proofChecks[39])
}

// An act that never reached the debtor (SEND unreachable, the letter returned) is never handed
// over: the ladder stops, the debt still waits for its payment.
func TestLegalClockNoHandoverWithoutProof(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	h.withPolicies(defaultPolicy(1))
	h.proof = func(now time.Time, _ LegalClockInput) LegalProof {
		if now.Before(sentAt.Add(3 * 24 * time.Hour)) {
			return LegalProof{Waiting: "SEND's notification"}
		}
		return LegalProof{Failed: "SEND: UNREACHABLE"}
	}
	paidAt := rome9(2027, time.December, 1)
	h.signalReceiptAt(paidAt, "r1")

	res := h.run(testInput())

	require.Equal(t, StatusPaid, res.Status)
	for _, r := range h.reminderLog() {
		require.NotEqual(t, StepEnforcement, r.Step, "handed over without proof")
	}
	require.Len(t, h.proofChecks, 12, "no look after the failure")
	require.True(t, h.env.Now().Equal(paidAt))
}

// The ladder's policy sets the days: 30 to pay or appeal, 10 more before the hand-over.
func TestLegalClockPolicyDays(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	steps := append([]Step(nil), DefaultSteps...)
	steps[2].PayDays, steps[3].WaitDays = 30, 10
	require.NoError(t, ValidateSteps(steps))
	h.withPolicies(Policy{ServiceCode: "TARI", Version: 2, Steps: steps})
	h.signalReceiptAt(rome9(2027, time.June, 1), "r1")

	h.run(testInput())

	log := h.reminderLog()
	require.Len(t, log, 4)
	require.Equal(t, rome9(2027, time.March, 10), log[3].At, "Jan 29 + 30 + 10 days")
}

func TestValidateClockDays(t *testing.T) {
	t.Parallel()
	steps := append([]Step(nil), DefaultSteps...)
	steps[1].PayDays = 10
	require.ErrorContains(t, ValidateSteps(steps), "steps[1].payDays: only on the accertamento step")
	steps = append([]Step(nil), DefaultSteps...)
	steps[3].WaitDays = -1
	require.ErrorContains(t, ValidateSteps(steps), "steps[3].waitDays")
}

// A policy upgrade while the clock runs changes the ladder, not the deadlines the accertamento
// already sent gave the debtor: v2's 30 + 10 days apply to debts whose act is still to come.
// The upgrade comes while the debt waits for the PEC delivery receipt (10 days late).
func TestLegalClockUpgradeKeepsTheActsDays(t *testing.T) {
	t.Parallel()
	delivered := sentAt.Add(10 * 24 * time.Hour) // Feb 8
	for _, tt := range []struct {
		name      string
		upgradeAt time.Time
		handover  time.Time
	}{
		{"after the act: its days", sentAt.Add(24 * time.Hour), rome9(2027, time.May, 9)},             // Feb 8 + 60 + 30
		{"before the act: the new days", rome9(2026, time.December, 20), rome9(2027, time.March, 20)}, // Feb 8 + 30 + 10
	} {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			h := newHarness(t)
			withUpdateActivities(h)
			steps := append([]Step(nil), DefaultSteps...)
			steps[2].PayDays, steps[3].WaitDays = 30, 10
			h.withPolicies(defaultPolicy(1), Policy{ServiceCode: "TARI", Version: 2, Steps: steps})
			h.proof = func(now time.Time, in LegalClockInput) LegalProof {
				if now.Before(delivered) {
					return LegalProof{Waiting: "the PEC delivery receipt"}
				}
				payBy, from := Deadlines(delivered, in.PayDays, in.WaitDays)
				return LegalProof{By: ProofPEC, At: delivered, PayBy: payBy, HandoverFrom: from}
			}
			upgrade := h.updateAt(tt.upgradeAt, "upgrade-1", UpdateUpgradePolicy, nil)
			h.signalReceiptAt(rome9(2027, time.June, 1), "r1")

			h.run(testInput())

			_, _, err := upgrade.requireCompleted()
			require.NoError(t, err)
			log := h.reminderLog()
			require.Len(t, log, 4)
			require.Equal(t, StepEnforcement, log[3].Step)
			require.Equal(t, 2, log[3].Version)
			require.Equal(t, tt.handover, log[3].At)
		})
	}
}
