package e2e

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"incasso/app/config"
	"incasso/devstack/iosim"
	"incasso/devstack/mailsink"
	"incasso/domain/date"
	"incasso/workflows"
)

// waitIO waits for the IO simulator to have n messages for the citizen, and returns them.
func (e *env) waitIO(t *testing.T, fiscalCode string, n int) []iosim.Received {
	t.Helper()
	var got []iosim.Received
	require.Eventually(t, func() bool {
		got = e.stack.IO.MessagesTo(fiscalCode)
		return len(got) >= n
	}, 30*time.Second, 100*time.Millisecond, "App IO never got %d messages", n)
	return got
}

// TestAppIO: a debt of TARI, enabled for App IO (as incasso-dev does), whose debtor has an
// IO profile gets its notice in IO with the payment data, is paid, and the debtor gets the
// quietanza in IO; every message archived with the exact bytes IO received and its answer. A
// debtor without a profile gets the notice and the quietanza by email.
func TestAppIO(t *testing.T) {
	e := start(t, func(c *config.Config) { c.IO.Keys = map[string]string{"TARI": config.DevIOKey} })
	const inIO, notInIO = "BNCLRA90E45F205D", "VRDGPP70C15F205N"
	e.stack.IO.AddProfile(inIO)
	due := time.Now().In(date.Rome).AddDate(0, 1, 0)
	create := func(iupd, fiscalCode, email string) debtView {
		t.Helper()
		body := map[string]any{
			"iupd": iupd, "serviceCode": "TARI", "amountCents": 23456, "dueDate": due.Format("2006-01-02"),
			"description": "TARI 2026 " + iupd,
			"debtor":      map[string]any{"type": "F", "fiscalCode": fiscalCode, "fullName": "Laura Bianchi", "email": email},
		}
		var d debtView
		require.Equal(t, http.StatusCreated, e.call(t, http.MethodPost, e.stack.APIURL+"/v1/debts", body, &d))
		return d
	}

	// The notice goes to App IO, payable in the app; no email.
	viaIO := create("IO-E2E-1", inIO, "laura.bianchi@example.it")
	notice := e.waitIO(t, inIO, 1)[0]
	require.Equal(t, "TARI", notice.Service)
	require.NotNil(t, notice.Content.PaymentData)
	require.Equal(t, viaIO.NoticeNumber, notice.Content.PaymentData.NoticeNumber)
	require.Equal(t, int64(23456), notice.Content.PaymentData.Amount)
	require.Equal(t, e.stack.Deps.Config.Creditor.FiscalCode, notice.Content.PaymentData.Payee.FiscalCode)
	dueInRome := time.Date(due.Year(), due.Month(), due.Day(), 0, 0, 0, 0, date.Rome)
	require.Equal(t, dueInRome.UTC().Format("2006-01-02T15:04:05.000Z"), notice.Content.DueDate)
	e.waitStatus(t, "IO-E2E-1", workflows.StatusIssued)

	// Paid (in the app, through pagoPA): the quietanza follows in IO, without payment data.
	paid := e.pay(t, viaIO.NoticeNumber, "")
	require.Equal(t, "OK", paid.Outcome)
	e.waitStatus(t, "IO-E2E-1", workflows.StatusPaid)
	both := e.waitIO(t, inIO, 2)
	require.Len(t, both, 2, "the notice and the quietanza, once each")
	receipt := both[1]
	require.Nil(t, receipt.Content.PaymentData)
	require.Contains(t, receipt.Content.Subject, "Quietanza")
	require.Contains(t, receipt.Content.Markdown, "quietanza")

	// Archived: the exact bytes IO received, their hash, and IO's answer with its id.
	var a archivedView
	require.Eventually(t, func() bool {
		a = e.archive(t, "IO-E2E-1")
		return len(a.Communications) == 2 && a.Communications[0].Status == "SENT"
	}, 10*time.Second, 100*time.Millisecond)
	byID := map[string]iosim.Received{notice.ID: notice, receipt.ID: receipt}
	for _, c := range a.Communications {
		require.Equal(t, "io", c.Channel, c.Kind)
		body, resp := e.get(t, c.Links.EML)
		sum := sha256.Sum256(body)
		require.Equal(t, c.SHA256, hex.EncodeToString(sum[:]))
		require.Equal(t, "application/json", resp.Header.Get("Content-Type"))
		answer, _ := e.get(t, c.Links.Answer)
		var created struct {
			ID string `json:"id"`
		}
		require.NoError(t, json.Unmarshal(answer, &created))
		got, ok := byID[created.ID]
		require.True(t, ok, "the answer names a message IO received")
		require.Equal(t, string(got.Body), string(body), "%s: archived bytes differ from those IO received", c.Kind)
	}
	for _, m := range e.stack.Sink.Messages() {
		require.NotContains(t, string(m.Raw), viaIO.NoticeNumber, "no email for the debt reached in IO")
	}

	// No profile: the notice by email, and the quietanza by email too.
	viaEmail := create("IO-E2E-2", notInIO, "giuseppe.verdi@example.it")
	e.waitMail(t, func(m mailsink.Message) bool {
		return strings.Contains(string(m.Raw), viaEmail.NoticeNumber) && strings.HasPrefix(m.Subject, "Avviso di pagamento")
	})
	e.waitStatus(t, "IO-E2E-2", workflows.StatusIssued)
	require.Equal(t, "OK", e.pay(t, viaEmail.NoticeNumber, "").Outcome)
	e.waitStatus(t, "IO-E2E-2", workflows.StatusPaid)
	q := e.waitMail(t, func(m mailsink.Message) bool { return strings.HasPrefix(m.Subject, "Quietanza di pagamento") })
	require.Equal(t, []string{"giuseppe.verdi@example.it"}, q.To)
	require.Empty(t, e.stack.IO.MessagesTo(notInIO))

	var result workflows.DebtResult
	require.NoError(t, e.stack.Deps.Temporal.GetWorkflow(context.Background(), viaIO.WorkflowID, "").Get(context.Background(), &result))
	require.Equal(t, workflows.StatusPaid, result.Status)
}
