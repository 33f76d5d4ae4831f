package activities_test

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"incasso/clients/gpd"
	"incasso/db/dbgen"
	"incasso/workflows"
)

// oldPosition registers the position as the previous platform left it in GPD: published
// (VALID) or not (DRAFT), for 1 euro to another name.
func (f *fixture) oldPosition(t *testing.T, iupd, iuv string, publish bool) {
	t.Helper()
	p := gpd.Position{
		IUPD: iupd, Type: "F", FiscalCode: "RSSMRA85T10A562S", FullName: "Vecchia Piattaforma", CompanyName: creditor.Name,
		PaymentOptions: []gpd.PaymentOption{{IUV: iuv, Amount: 100, Description: "IMU 2025", DueDate: time.Now().Add(24 * time.Hour),
			Transfers: []gpd.Transfer{{IDTransfer: "1", Amount: 100, RemittanceInformation: "IMU 2025", Category: "9/0101101IM/"}}}},
	}
	if publish {
		require.NoError(t, f.gpd.CreateAndPublish(context.Background(), ecCode, p))
		return
	}
	body, err := json.Marshal(p) // the client publishes what it creates: a draft is posted here
	require.NoError(t, err)
	req, err := http.NewRequest(http.MethodPost, f.gpdURL+"/organizations/"+ecCode+"/debtpositions", bytes.NewReader(body))
	require.NoError(t, err)
	req.Header.Set("Ocp-Apim-Subscription-Key", gpdKey)
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	require.NoError(t, resp.Body.Close())
	require.Equal(t, http.StatusCreated, resp.StatusCode)
}

func adopted(status string) func(*dbgen.CreateDebtParams) {
	return func(p *dbgen.CreateDebtParams) { p.GpdAdopted = status }
}

func TestRegisterAdoptedPosition(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	ctx := context.Background()
	for _, status := range []string{"DRAFT", "VALID"} {
		t.Run(status, func(t *testing.T) {
			d := f.insertDebt(t, adopted(status))
			f.oldPosition(t, d.Iupd, d.Nav[1:], status == "VALID")

			_, err := f.run(t, f.debts.RegisterPosition, d.ID)
			require.NoError(t, err)
			_, err = f.run(t, f.debts.RegisterPosition, d.ID) // a retry updates it again
			require.NoError(t, err)

			pos, err := f.gpd.Get(ctx, ecCode, d.Iupd)
			require.NoError(t, err)
			require.Equal(t, "VALID", pos.Status, "taken over and published")
			require.Equal(t, d.DebtorName, pos.FullName, "with incasso's data, not the old platform's")
			require.Len(t, pos.PaymentOptions, 1)
			require.Equal(t, d.Nav, pos.PaymentOptions[0].NAV)
			require.Equal(t, d.AmountCents, pos.PaymentOptions[0].Amount)
		})
	}
}

func TestRegisterAdoptedPositionFailures(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	ctx := context.Background()
	requireRefused := func(t *testing.T, d dbgen.DebtPosition, why string) {
		t.Helper()
		_, err := f.run(t, f.debts.RegisterPosition, d.ID)
		requireNonRetryable(t, err, workflows.ErrTypeGPDRejected)
		require.Contains(t, err.Error(), why)
		require.NotContains(t, err.Error(), d.DebtorName)
		require.NotContains(t, err.Error(), d.DebtorFiscalCode)
	}

	t.Run("GPD has no such position", func(t *testing.T) {
		d := f.insertDebt(t, adopted("VALID"))
		requireRefused(t, d, "GPD has no such position")
		_, err := f.gpd.Get(ctx, ecCode, d.Iupd)
		require.ErrorIs(t, err, gpd.ErrNotFound, "nothing was created in its place")
	})

	t.Run("GPD holds it with another notice number", func(t *testing.T) {
		d := f.insertDebt(t, adopted("VALID"))
		other := f.insertDebt(t, nil) // draws another notice number
		f.oldPosition(t, d.Iupd, other.Nav[1:], true)
		requireRefused(t, d, "another notice number")
	})

	t.Run("GPD holds it invalid", func(t *testing.T) {
		d := f.insertDebt(t, adopted("VALID"))
		f.oldPosition(t, d.Iupd, d.Nav[1:], true)
		require.NoError(t, f.gpd.Invalidate(ctx, ecCode, d.Iupd))
		requireRefused(t, d, "GPD holds it as INVALID")
	})
}

// byPost is a debtor without email or PEC, with a postal address.
func byPost(p *dbgen.CreateDebtParams) {
	p.DebtorEmail, p.DebtorStreet, p.DebtorPostalCode, p.DebtorCity, p.DebtorProvince = "", "Via Roma 1", "21013", "Gallarate", "VA"
}

func TestNoticeByPost(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	d := f.insertDebt(t, byPost)
	_, err := f.run(t, f.debts.IssueNotice, d.ID)
	require.NoError(t, err)
	a := *f.debts
	a.Mail, a.PEC = deadRelay(t), deadRelay(t)
	_, err = activityEnv(&a).ExecuteActivity(a.IssueNotice, d.ID) // a retry prints nothing twice
	require.NoError(t, err)

	list := f.communications(t, d.ID)
	require.Len(t, list, 1)
	c := f.communication(t, d.ID)
	require.Equal(t, []string{"notice", "post", "PRINT"}, []string{c.Kind, c.Channel, c.Status}, "queued for the print room")
	require.Equal(t, "posta ordinaria: "+d.DebtorName, c.Recipient)
	require.Equal(t, f.notice(t, d.ID).Content, c.Raw, "the letter is the notice itself")
	require.Empty(t, f.sink.Messages())
	require.Empty(t, f.pecSink.Messages())
	require.Equal(t, workflows.StatusIssued, f.reload(t, d.ID).Status)
	text := pdfText(t, c.Raw)
	require.Contains(t, text, "Via Roma 1")
	require.Contains(t, text, "21013 Gallarate (VA)")

	// The courtesy reminder is an email only: nothing to print, nothing sent, the step taken.
	in := workflows.StepInput{DebtID: d.ID, Step: ladderStep(t, workflows.StepCourtesy), PolicyVersion: 0}
	_, err = f.run(t, f.debts.SendReminder, in)
	require.NoError(t, err)
	require.Len(t, f.communications(t, d.ID), 1)
	f.requireLadderStep(t, d.ID, workflows.StepCourtesy, time.Time{})

	// The accertamento's letter for registered post carries the address too.
	in.Step = ladderStep(t, workflows.StepAccertamento)
	_, err = f.run(t, f.debts.SendReminder, in)
	require.NoError(t, err)
	acc := f.reminderRow(t, d.ID, workflows.StepAccertamento)
	require.Equal(t, []string{"post", "PRINT", "raccomandata A/R: " + d.DebtorName}, []string{acc.Channel, acc.Status, acc.Recipient})
	require.Contains(t, pdfText(t, acc.Raw), "21013 Gallarate (VA)")
}

func TestNoticeByPECWithoutEmail(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	d := f.insertDebt(t, func(p *dbgen.CreateDebtParams) { p.DebtorEmail, p.DebtorPec = "", "mario@pec.example.it" })
	_, err := f.run(t, f.debts.IssueNotice, d.ID)
	require.NoError(t, err)
	c := f.communication(t, d.ID)
	require.Equal(t, []string{"pec", "SENT", d.DebtorPec}, []string{c.Channel, c.Status, c.Recipient})
	require.Len(t, f.pecMessagesTo(d.DebtorPec), 1)
	require.Empty(t, f.sink.Messages())
}

// pdfText is the text of a PDF, by pdftotext (poppler-utils).
func pdfText(t *testing.T, pdf []byte) string {
	t.Helper()
	require.True(t, bytes.HasPrefix(pdf, []byte("%PDF")))
	if _, err := exec.LookPath("pdftotext"); err != nil {
		if os.Getenv("INCASSO_REQUIRE_E2E") != "" {
			t.Fatal("pdftotext not on PATH: install poppler-utils")
		}
		t.Skip("pdftotext not on PATH: install poppler-utils to read the letter")
	}
	path := filepath.Join(t.TempDir(), "letter.pdf")
	require.NoError(t, os.WriteFile(path, pdf, 0o600))
	out, err := exec.Command("pdftotext", "-layout", path, "-").Output()
	require.NoError(t, err)
	return strings.Join(strings.Fields(string(out)), " ")
}

// A campaign's rows that adopt a notice number and write by post become such debts; a notice
// number another debt took since the import leaves its row in error.
func TestLaunchRowsAdoptedByPost(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	ctx := context.Background()
	taken := f.insertDebt(t, nil)
	free := f.insertDebt(t, nil) // only to draw a notice number nobody holds
	_, err := f.pool.Exec(ctx, "DELETE FROM debt_positions WHERE id = $1", free.ID)
	require.NoError(t, err)
	id := f.campaignWithRows(t, 2, nil)
	for row, nav := range map[int]string{2: free.Nav, 3: taken.Nav} {
		_, err := f.pool.Exec(ctx, `UPDATE campaign_rows SET nav = $3, gpd_adopted = 'PUBLISHED', debtor_email = '',
			debtor_street = 'Via Roma 1', debtor_postal_code = '21013', debtor_city = 'Gallarate', debtor_province = 'VA'
			WHERE campaign_id = $1 AND row_no = $2`, id, row, nav)
		require.NoError(t, err)
	}
	a := f.campaigns(&fakeStarter{})
	val, err := activityEnv(a).ExecuteActivity(a.LaunchRows, workflows.LaunchBatch{CampaignID: id, Limit: 10, Rate: 1000})
	require.NoError(t, err)
	var res workflows.LaunchResult
	require.NoError(t, val.Get(&res))
	require.Equal(t, workflows.LaunchResult{LastRow: 3, Started: 1, Failed: 1, Done: true}, res)

	rows, err := f.q.NextCampaignRows(ctx, dbgen.NextCampaignRowsParams{CampaignID: id, Limit: 10})
	require.NoError(t, err)
	d, err := f.q.GetDebt(ctx, rows[0].DebtID.Int64)
	require.NoError(t, err)
	require.Equal(t, []string{free.Nav, "PUBLISHED", "", "Via Roma 1", "VA"}, []string{d.Nav, d.GpdAdopted, d.DebtorEmail, d.DebtorStreet, d.DebtorProvince})
	require.Equal(t, "nav: already used by another debt", rows[1].Error)
	require.False(t, rows[1].DebtID.Valid)
}
