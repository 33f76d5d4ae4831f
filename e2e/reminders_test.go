package e2e

import (
	"context"
	"crypto/sha256"
	"encoding/csv"
	"encoding/hex"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"incasso/app/config"
	"incasso/devstack/mailsink"
	"incasso/devstack/pagopasim"
	"incasso/domain/date"
	"incasso/workflows"
)

type archivedView struct {
	Communications []struct {
		ID        int64  `json:"id"`
		Kind      string `json:"kind"`
		Step      string `json:"step"`
		Channel   string `json:"channel"`
		Sender    string `json:"sender"`
		Status    string `json:"status"`
		MessageID string `json:"messageId"`
		SHA256    string `json:"sha256"`
		Links     struct {
			EML    string `json:"eml"`
			Answer string `json:"answer"`
		} `json:"links"`
	} `json:"communications"`
}

// get fetches a path of the API with the key and returns the body.
func (e *env) get(t *testing.T, path string) ([]byte, *http.Response) {
	t.Helper()
	return e.request(t, http.MethodGet, path, http.StatusOK)
}

// request calls a path of the API with the key and no body, requires the status and returns
// the body.
func (e *env) request(t *testing.T, method, path string, status int) ([]byte, *http.Response) {
	t.Helper()
	req, err := http.NewRequest(method, e.stack.APIURL+path, nil)
	require.NoError(t, err)
	req.Header.Set("Authorization", "Bearer "+e.apiKey)
	resp, err := e.http.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	require.Equal(t, status, resp.StatusCode, string(body))
	return body, resp
}

func (e *env) archive(t *testing.T, iupd string) archivedView {
	t.Helper()
	var a archivedView
	require.Equal(t, http.StatusOK, e.call(t, http.MethodGet, e.stack.APIURL+"/v1/communications?debt="+iupd, nil, &a))
	return a
}

// TestReminderLadder runs the whole ladder on a compressed calendar (a day lasts 500 ms): an
// unpaid debt with a PEC address gets the courtesy email, the sollecito and the accertamento
// by PEC, then is handed over; one without PEC gets the accertamento as a letter to post; one
// paid after the courtesy reminder gets nothing more. Every message is archived with the hash
// of the exact bytes the SMTP server received.
func TestReminderLadder(t *testing.T) {
	e := start(t, func(c *config.Config) { c.LadderDay = 500 * time.Millisecond })
	ctx := context.Background()
	policy := map[string]any{"steps": []map[string]any{
		{"name": "courtesy", "offsetDays": -2, "channel": "email"},
		{"name": "sollecito", "offsetDays": 1, "channel": "pec_or_mail"},
		{"name": "accertamento", "offsetDays": 2, "channel": "pec_or_post"},
		{"name": "enforcement", "offsetDays": 3, "channel": "record"},
	}}
	var created workflows.Policy
	require.Equal(t, http.StatusCreated, e.call(t, http.MethodPut, e.stack.APIURL+"/v1/policies/TARI", policy, &created))
	require.Equal(t, 1, created.Version)

	due := time.Now().In(date.Rome).AddDate(0, 0, 3).Format("2006-01-02") // 4 compressed days: due 2 s after issue
	debt := func(iupd, pec string) map[string]any {
		debtor := map[string]any{"type": "F", "fiscalCode": "RSSMRA85T10A562S", "fullName": "Mario Rossi", "email": strings.ToLower(iupd) + "@example.it"}
		if pec != "" {
			debtor["pec"] = pec
		}
		return map[string]any{"iupd": iupd, "serviceCode": "TARI", "amountCents": 12345, "dueDate": due, "description": "TARI 2026 " + iupd, "debtor": debtor}
	}
	for _, d := range []map[string]any{debt("LAD-PEC", "mario.rossi@pec.example.it"), debt("LAD-POST", ""), debt("LAD-PAID", "")} {
		require.Equal(t, http.StatusCreated, e.call(t, http.MethodPost, e.stack.APIURL+"/v1/debts", d, nil))
	}

	// Paid as soon as its courtesy reminder arrives: the ladder stops there.
	e.waitMail(t, func(m mailsink.Message) bool {
		return m.To[0] == "lad-paid@example.it" && strings.Contains(m.Subject, "Promemoria")
	})
	paying := e.waitStatus(t, "LAD-PAID", workflows.StatusIssued)
	_, err := e.stack.PagoPA.Pay(ctx, pagopasim.Payment{NAV: paying.NoticeNumber})
	require.NoError(t, err)
	e.waitStatus(t, "LAD-PAID", workflows.StatusPaid)

	// The others go the whole way.
	for _, iupd := range []string{"LAD-PEC", "LAD-POST"} {
		require.Eventually(t, func() bool {
			var d struct {
				LadderStep string `json:"ladderStep"`
			}
			e.call(t, http.MethodGet, e.stack.APIURL+"/v1/debts/"+iupd, nil, &d)
			return d.LadderStep == workflows.StepEnforcement
		}, 30*time.Second, 100*time.Millisecond, "%s never reached enforcement", iupd)
	}
	ladderPEC := e.waitStatus(t, "LAD-PEC", workflows.StatusOverdue)
	e.recordHistory(t, ladderPEC.WorkflowID, "debt_whole_ladder_unpaid")
	e.recordHistory(t, paying.WorkflowID, "debt_ladder_paid_after_courtesy")

	steps := func(a archivedView) map[string]string {
		out := map[string]string{}
		for _, c := range a.Communications {
			out[c.Kind] = c.Channel + "/" + c.Status
		}
		return out
	}
	require.Equal(t, map[string]string{"notice": "email/SENT", "courtesy": "email/SENT", "sollecito": "pec/SENT", "accertamento": "pec/SENT"},
		steps(e.archive(t, "LAD-PEC")))
	require.Equal(t, map[string]string{"notice": "email/SENT", "courtesy": "email/SENT", "sollecito": "email/SENT", "accertamento": "post/PRINT"},
		steps(e.archive(t, "LAD-POST")))
	time.Sleep(2 * time.Second) // past the paid debt's sollecito day
	require.Equal(t, map[string]string{"notice": "email/SENT", "courtesy": "email/SENT", "receipt": "email/SENT"}, steps(e.archive(t, "LAD-PAID")),
		"after the payment only its quietanza")

	// What the archive keeps is what the SMTP server received, byte for byte.
	sent := map[string][]byte{} // by Message-ID
	for _, m := range e.stack.Sink.Messages() {
		for _, line := range strings.Split(string(m.Raw), "\r\n") {
			if id, ok := strings.CutPrefix(line, "Message-ID: <"); ok {
				sent[strings.TrimSuffix(id, ">")] = m.Raw
			}
		}
	}
	for _, c := range append(e.archive(t, "LAD-PEC").Communications, e.archive(t, "LAD-POST").Communications...) {
		body, resp := e.get(t, c.Links.EML)
		sum := sha256.Sum256(body)
		require.Equal(t, c.SHA256, hex.EncodeToString(sum[:]), "%s %s", c.Kind, c.Channel)
		require.Equal(t, c.SHA256, resp.Header.Get("X-Content-SHA256"))
		if c.Channel == "post" {
			require.True(t, strings.HasPrefix(string(body), "%PDF"), "the letter to print")
			continue
		}
		require.Equal(t, string(sent[c.MessageID]), string(body), "%s: archived bytes differ from those sent", c.Kind)
		if c.Channel == "pec" {
			require.Equal(t, e.stack.Deps.Config.PECFrom, c.Sender)
		}
	}

	// The collection agent's file lists both handed-over debts, once.
	csvBody := e.exportEnforcement(t)
	r := csv.NewReader(strings.NewReader(csvBody))
	r.Comma = ';'
	rows, err := r.ReadAll()
	require.NoError(t, err)
	var iupds []string
	for _, row := range rows[1:] {
		iupds = append(iupds, row[0])
	}
	require.ElementsMatch(t, []string{"LAD-PEC", "LAD-POST"}, iupds)
	again := e.exportEnforcement(t)
	require.Equal(t, 1, strings.Count(strings.TrimSpace(again), "\n")+1, "a second export has only the header")
}

// exportEnforcement makes an export of the hand-overs, and checks that the export it names
// serves the same bytes again; it returns the CSV.
func (e *env) exportEnforcement(t *testing.T) string {
	t.Helper()
	csvBody, resp := e.request(t, http.MethodPost, "/v1/enforcement/exports", http.StatusCreated)
	again, _ := e.get(t, resp.Header.Get("Location"))
	require.Equal(t, string(csvBody), string(again), "the export is kept as it was handed over")
	return string(csvBody)
}
