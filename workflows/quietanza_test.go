package workflows

import (
	"errors"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"go.temporal.io/sdk/temporal"
)

// A paid debt sends the receipt of its first payment, once, after recording PAID.
func TestDebtPaidSendsTheReceiptOnce(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	h.setStatusTakes = 10 * time.Second // later receipts reach a workflow still running
	first := h.start.Add(2 * 24 * time.Hour)
	h.signalReceiptAt(first, "r1")
	h.signalReceiptAt(first.Add(time.Second), "r2")

	res := h.run(testInput())

	require.Equal(t, DebtResult{Status: StatusPaid, ReceiptID: "r1"}, res)
	require.Equal(t, []string{"r1"}, h.receiptsSent)
	h.env.AssertExpectations(t)
}

// A receipt refused for good (archived FAILED) leaves the debt paid; one that cannot be sent
// yet is retried until it is.
func TestDebtReceiptRefusedOrRetried(t *testing.T) {
	t.Parallel()
	t.Run("refused", func(t *testing.T) {
		t.Parallel()
		h := newHarness(t)
		h.receiptErr = temporal.NewNonRetryableApplicationError("refused", ErrTypeMailRejected, nil)
		h.signalReceiptAt(h.start.Add(time.Hour), "r1")
		require.Equal(t, StatusPaid, h.run(testInput()).Status)
		require.Equal(t, []string{"r1"}, h.receiptsSent)
	})
	t.Run("invalid", func(t *testing.T) {
		t.Parallel()
		h := newHarness(t)
		h.receiptErr = temporal.NewNonRetryableApplicationError("no such receipt", ErrTypeInvalidInput, nil)
		h.signalReceiptAt(h.start.Add(time.Hour), "r1")
		h.env.ExecuteWorkflow(Debt, testInput())
		require.True(t, h.env.IsWorkflowCompleted())
		require.ErrorContains(t, h.env.GetWorkflowError(), "send receipt")
	})
	t.Run("retried", func(t *testing.T) {
		t.Parallel()
		h := newHarness(t)
		h.receiptErr = errors.New("App IO unavailable")
		h.at(h.start.Add(2*time.Hour), func() {
			h.mu.Lock()
			defer h.mu.Unlock()
			h.receiptErr = nil
		})
		h.signalReceiptAt(h.start.Add(time.Hour), "r1")
		require.Equal(t, StatusPaid, h.run(testInput()).Status)
		require.Greater(t, len(h.receiptsSent), 1, "retried")
	})
}
