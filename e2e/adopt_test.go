package e2e

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"incasso/clients/gpd"
	"incasso/devstack/pagopasim"
	"incasso/domain/pagopa"
	"incasso/workflows"
)

// TestAdoptedDebtByPostToPaid: a position the previous platform registered in GPD comes in
// over REST with its notice number and a debtor without email; incasso takes the position
// over, queues the notice for the post, and the citizen's payment settles it.
func TestAdoptedDebtByPostToPaid(t *testing.T) {
	e := start(t)
	ctx := context.Background()
	cfg := e.stack.Deps.Config
	old := gpd.New(e.stack.PagoPASimURL+pagopasim.GPDBasePath, cfg.GPDKey, 10*time.Second)
	nav, err := pagopa.NewNAV(cfg.Creditor.Segregation, 5_000_000_000_001)
	require.NoError(t, err)
	due := time.Now().In(time.UTC).AddDate(0, 1, 0)
	require.NoError(t, old.CreateAndPublish(ctx, cfg.Creditor.FiscalCode, gpd.Position{
		IUPD: "IMU-2025-OLD-1", Type: "F", FiscalCode: "RSSMRA85T10A562S", FullName: "Mario Rossi", CompanyName: cfg.Creditor.Name,
		PaymentOptions: []gpd.PaymentOption{{IUV: nav.IUV(), Amount: 100, Description: "IMU 2025", DueDate: due,
			Transfers: []gpd.Transfer{{IDTransfer: "1", Amount: 100, RemittanceInformation: "IMU 2025", Category: "9/0101101IM/"}}}},
	}), "the previous platform's position")

	body := map[string]any{
		"iupd": "IMU-2025-OLD-1", "serviceCode": "IMU", "amountCents": 45600, "dueDate": due.Format("2006-01-02"),
		"description": "IMU 2025 saldo", "nav": nav.String(), "gpdStatus": "VALID",
		"debtor": map[string]any{"type": "F", "fiscalCode": "RSSMRA85T10A562S", "fullName": "Mario Rossi",
			"address": map[string]any{"street": "Via Roma 1", "postalCode": "21013", "city": "Gallarate", "province": "VA"}},
	}
	var created debtView
	require.Equal(t, http.StatusCreated, e.call(t, http.MethodPost, e.stack.APIURL+"/v1/debts", body, &created))
	require.Equal(t, nav.String(), created.NoticeNumber)

	issued := e.waitStatus(t, "IMU-2025-OLD-1", workflows.StatusIssued)
	require.Len(t, issued.Communications, 1)
	require.Equal(t, "PRINT", issued.Communications[0].Status, "the notice waits for the print room")
	pos, err := old.Get(ctx, cfg.Creditor.FiscalCode, "IMU-2025-OLD-1")
	require.NoError(t, err)
	require.Equal(t, int64(45600), pos.PaymentOptions[0].Amount, "GPD holds incasso's position now")
	require.Empty(t, e.stack.Sink.Messages(), "no email")

	paid := e.pay(t, nav.String(), "")
	require.Equal(t, "OK", paid.Outcome)
	final := e.waitStatus(t, "IMU-2025-OLD-1", workflows.StatusPaid)
	require.Equal(t, int64(45600), final.PaidCents)

	// A notice number GPD does not know: the workflow fails, saying so, and the debt is not issued.
	missing, err := pagopa.NewNAV(cfg.Creditor.Segregation, 5_000_000_000_002)
	require.NoError(t, err)
	body["iupd"], body["nav"] = "IMU-2025-OLD-2", missing.String()
	require.Equal(t, http.StatusCreated, e.call(t, http.MethodPost, e.stack.APIURL+"/v1/debts", body, &created))
	err = e.stack.Deps.Temporal.GetWorkflow(ctx, created.WorkflowID, "").Get(ctx, nil)
	require.Error(t, err)
	require.True(t, strings.Contains(err.Error(), "GPD has no such position"), "%v", err)
	var d debtView
	e.call(t, http.MethodGet, e.stack.APIURL+"/v1/debts/IMU-2025-OLD-2", nil, &d)
	require.Equal(t, workflows.StatusCreated, d.Status)
}
