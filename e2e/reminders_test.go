package e2e

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/csv"
	"encoding/hex"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"incasso/app"
	"incasso/app/config"
	"incasso/devstack/mailsink"
	"incasso/devstack/pagopasim"
	"incasso/devstack/pectest"
	"incasso/devstack/sendsim"
	"incasso/devstack/testcerts"
	"incasso/domain/date"
	"incasso/services/access"
	"incasso/services/apiclients"
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

// TestReminderLadder runs the whole ladder on a compressed calendar (a day lasts 500 ms), with
// the acts of legal weight sent where the law says and the hand-over on the legal clock:
//   - LAD-PEC has a digital domicile in INAD: the sollecito and the accertamento go by PEC to
//     it, not to the PEC of its file; the PEC delivery receipt starts the clock, and it is
//     handed over 2 days (payDays 1 + waitDays 1) after it;
//   - LAD-SEND has none: the accertamento goes by SEND, perfected 2 days later, which starts
//     the clock; its legal facts are archived;
//   - LAD-GONE has none either, and SEND cannot reach it: never handed over, the debt says why;
//   - LAD-PAID is paid after the courtesy reminder and gets nothing more.
//
// Every message is archived with the hash of the exact bytes the SMTP server received.
func TestReminderLadder(t *testing.T) {
	// The PEC providers' certificates are configured, as production requires: the delivery
	// receipt that starts LAD-PEC's legal clock is signed by its provider.
	providers := testcerts.NewCA(t, "PEC providers")
	provider := providers.Signer(t, "Gestore PEC di prova")
	e := start(t, func(c *config.Config) { c.LadderDay, c.PECProviders = 500*time.Millisecond, providers.File })
	ctx := context.Background()
	policy := map[string]any{"steps": []map[string]any{
		{"name": "courtesy", "offsetDays": -2, "channel": "email"},
		{"name": "sollecito", "offsetDays": 1, "channel": "pec_or_mail"},
		{"name": "accertamento", "offsetDays": 2, "channel": "pec_or_post", "payDays": 1},
		{"name": "enforcement", "offsetDays": 3, "channel": "record", "waitDays": 1},
	}}
	var created workflows.Policy
	require.Equal(t, http.StatusCreated, e.call(t, http.MethodPut, e.stack.APIURL+"/v1/policies/TARI", policy, &created))
	require.Equal(t, 1, created.Version)

	const domicile = "mario.esposito@pec.inad.example.it"
	fiscalCodes := map[string]string{"LAD-PEC": "SPSFNC86D06L219V", "LAD-SEND": "RSSMRC40A01H501M", "LAD-GONE": "RSSGPP77H12F205C", "LAD-PAID": "FRRLCU49S23F839F"}
	e.stack.Registries.Set(fiscalCodes["LAD-PEC"], domicile)
	e.stack.SEND.Script(fiscalCodes["LAD-SEND"], sendsim.Outcome{Outcome: sendsim.Perfected, AfterDays: 2})
	e.stack.SEND.Script(fiscalCodes["LAD-GONE"], sendsim.Outcome{Outcome: sendsim.Unreachable, AfterDays: 1})

	due := time.Now().In(date.Rome).AddDate(0, 0, 3).Format("2006-01-02") // 4 compressed days: due 2 s after issue
	debt := func(iupd, pec string) map[string]any {
		debtor := map[string]any{"type": "F", "fiscalCode": fiscalCodes[iupd], "fullName": "Mario Esposito", "email": strings.ToLower(iupd) + "@example.it"}
		if pec != "" {
			debtor["pec"] = pec
		}
		return map[string]any{"iupd": iupd, "serviceCode": "TARI", "amountCents": 12345, "dueDate": due, "description": "TARI 2026 " + iupd, "debtor": debtor}
	}
	for _, d := range []map[string]any{debt("LAD-PEC", "mario.esposito@pec.example.it"), debt("LAD-SEND", ""), debt("LAD-GONE", ""), debt("LAD-PAID", "")} {
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

	// The accertamento reaches LAD-PEC's domicile; its provider's delivery receipt comes back.
	act := e.waitMail(t, func(m mailsink.Message) bool {
		return m.To[0] == domicile && strings.Contains(m.Subject, "ccertamento")
	})
	var accertamento int64
	var messageID string
	for _, c := range e.archive(t, "LAD-PEC").Communications {
		if c.Kind == "accertamento" {
			accertamento, messageID = c.ID, c.MessageID
		}
	}
	require.NotZero(t, accertamento, "the accertamento is archived")
	require.Contains(t, string(act.Raw), messageID)
	forged := pectest.Receipt{Kind: "avvenuta-consegna", MessageID: messageID, At: time.Now()}
	e.postPECDelivery(t, accertamento, pectest.Signed(t, testcerts.NewCA(t, "impostore").Signer(t, "impostore"), forged, nil), http.StatusUnprocessableEntity)
	e.postPECDelivery(t, accertamento, pectest.Signed(t, provider, pectest.Receipt{Kind: "avvenuta-consegna", MessageID: messageID, At: time.Now()}, nil), http.StatusCreated)

	type legalView struct {
		LadderStep string `json:"ladderStep"`
		LegalClock struct {
			NotifiedBy      string     `json:"notifiedBy"`
			NotifiedAt      *time.Time `json:"notifiedAt"`
			PayBy           string     `json:"payBy"`
			HandoverFrom    string     `json:"handoverFrom"`
			Failed          string     `json:"failed"`
			DomicileLookups []struct {
				Step, Registry string
				Found          bool
			} `json:"domicileLookups"`
			SENDNotifications []struct {
				Status      string     `json:"status"`
				PerfectedAt *time.Time `json:"perfectedAt"`
			} `json:"sendNotifications"`
			LegalFacts []struct {
				Category string `json:"category"`
				SHA256   string `json:"sha256"`
			} `json:"legalFacts"`
		} `json:"legalClock"`
	}
	view := func(iupd string) legalView {
		var v legalView
		e.call(t, http.MethodGet, e.stack.APIURL+"/v1/debts/"+iupd, nil, &v)
		return v
	}
	// The two with proof go the whole way.
	for _, iupd := range []string{"LAD-PEC", "LAD-SEND"} {
		require.Eventually(t, func() bool { return view(iupd).LadderStep == workflows.StepEnforcement },
			30*time.Second, 100*time.Millisecond, "%s never reached enforcement", iupd)
	}
	pecView, sendView := view("LAD-PEC"), view("LAD-SEND")
	require.Equal(t, workflows.ProofPEC, pecView.LegalClock.NotifiedBy)
	require.Len(t, pecView.LegalClock.DomicileLookups, 2, "looked up before the sollecito and the accertamento")
	require.True(t, pecView.LegalClock.DomicileLookups[1].Found)
	require.Equal(t, "INAD", pecView.LegalClock.DomicileLookups[1].Registry)
	require.Equal(t, workflows.ProofSEND, sendView.LegalClock.NotifiedBy)
	require.Equal(t, "EFFECTIVE_DATE", sendView.LegalClock.SENDNotifications[0].Status)
	require.Equal(t, sendView.LegalClock.SENDNotifications[0].PerfectedAt.Unix(), sendView.LegalClock.NotifiedAt.Unix(), "the clock starts when SEND perfected it")
	require.Len(t, sendView.LegalClock.LegalFacts, 2)
	require.Equal(t, "DIGITAL_DELIVERY", sendView.LegalClock.LegalFacts[1].Category)

	// Without proof, no hand-over: LAD-GONE stops at its accertamento, and says why.
	require.Eventually(t, func() bool { return view("LAD-GONE").LegalClock.Failed != "" }, 30*time.Second, 100*time.Millisecond)
	gone := view("LAD-GONE")
	require.Equal(t, "SEND: UNREACHABLE", gone.LegalClock.Failed)
	require.Equal(t, workflows.StepAccertamento, gone.LadderStep)
	require.Empty(t, gone.LegalClock.NotifiedBy)
	// An upgrade of its policy after the act was sent changes its ladder, not the act's days
	// (workflow version "clock-days-of-the-act"): recorded for the replay test.
	policy["steps"].([]map[string]any)[2]["payDays"] = 5
	require.Equal(t, http.StatusCreated, e.call(t, http.MethodPut, e.stack.APIURL+"/v1/policies/TARI", policy, &created))
	require.Equal(t, 2, created.Version)
	var upgraded struct {
		PolicyVersion int `json:"policyVersion"`
	}
	require.Equal(t, http.StatusOK, e.call(t, http.MethodPost, e.stack.APIURL+"/v1/debts/LAD-GONE/upgrade-policy", nil, &upgraded))
	require.Equal(t, 2, upgraded.PolicyVersion)
	require.Equal(t, "SEND: UNREACHABLE", view("LAD-GONE").LegalClock.Failed, "the upgrade keeps the act's clock")

	ladderPEC := e.waitStatus(t, "LAD-PEC", workflows.StatusOverdue)
	e.recordHistory(t, ladderPEC.WorkflowID, "debt_legal_clock_pec_receipt")
	e.recordHistory(t, e.waitStatus(t, "LAD-SEND", workflows.StatusOverdue).WorkflowID, "debt_legal_clock_send")
	e.recordHistory(t, e.waitStatus(t, "LAD-GONE", workflows.StatusOverdue).WorkflowID, "debt_legal_clock_unreachable_upgraded")

	steps := func(a archivedView) map[string]string {
		out := map[string]string{}
		for _, c := range a.Communications {
			out[c.Kind] = c.Channel + "/" + c.Status
		}
		return out
	}
	require.Equal(t, map[string]string{"notice": "email/SENT", "courtesy": "email/SENT", "sollecito": "pec/SENT", "accertamento": "pec/SENT"},
		steps(e.archive(t, "LAD-PEC")))
	for _, m := range e.stack.Sink.Messages() {
		require.NotEqual(t, "mario.esposito@pec.example.it", m.To[0], "the file's PEC is only a fallback")
	}
	require.Equal(t, map[string]string{"notice": "email/SENT", "courtesy": "email/SENT", "sollecito": "email/SENT"},
		steps(e.archive(t, "LAD-SEND")), "the accertamento went by SEND, not by the post")
	time.Sleep(2 * time.Second) // past the paid debt's sollecito day
	require.Equal(t, map[string]string{"notice": "email/SENT", "courtesy": "email/SENT", "receipt": "email/SENT"}, steps(e.archive(t, "LAD-PAID")),
		"after the payment only its quietanza")
	e.recordHistory(t, paying.WorkflowID, "debt_paid_after_courtesy_quietanza")

	// What the archive keeps is what the SMTP server received, byte for byte.
	sent := map[string][]byte{} // by Message-ID
	for _, m := range e.stack.Sink.Messages() {
		for _, line := range strings.Split(string(m.Raw), "\r\n") {
			if id, ok := strings.CutPrefix(line, "Message-ID: <"); ok {
				sent[strings.TrimSuffix(id, ">")] = m.Raw
			}
		}
	}
	for _, c := range append(e.archive(t, "LAD-PEC").Communications, e.archive(t, "LAD-SEND").Communications...) {
		body, resp := e.get(t, c.Links.EML)
		sum := sha256.Sum256(body)
		require.Equal(t, c.SHA256, hex.EncodeToString(sum[:]), "%s %s", c.Kind, c.Channel)
		require.Equal(t, c.SHA256, resp.Header.Get("X-Content-SHA256"))
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
	require.ElementsMatch(t, []string{"LAD-PEC", "LAD-SEND"}, iupds)
	again := e.exportEnforcement(t)
	require.Equal(t, 1, strings.Count(strings.TrimSpace(again), "\n")+1, "a second export has only the header")
}

// postPECDelivery posts, as the PEC gateway does, a receipt as the provider sent it (raw), and
// checks the answer's status.
func (e *env) postPECDelivery(t *testing.T, commID int64, raw []byte, want int) {
	t.Helper()
	key := "pec-gw-" + fmt.Sprint(time.Now().UnixNano())
	require.NoError(t, app.EnsureAPIClient(context.Background(), e.stack.Deps, "pec-gateway", key, apiclients.Grant{Role: access.PECGateway}))
	req, err := http.NewRequest(http.MethodPost, fmt.Sprintf("%s/v1/communications/%d/receipts", e.stack.APIURL, commID), bytes.NewReader(raw))
	require.NoError(t, err)
	req.Header.Set("Authorization", "Bearer "+key)
	req.Header.Set("Content-Type", "message/rfc822")
	resp, err := e.http.Do(req)
	require.NoError(t, err)
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	require.Equal(t, want, resp.StatusCode, string(body))
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
