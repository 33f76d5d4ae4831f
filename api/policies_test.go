package api

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgtype"
	"github.com/stretchr/testify/require"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/temporal"

	"incasso/db/dbgen"
	"incasso/domain/reminders"
	"incasso/workflows"
)

func (e *testEnv) putPolicy(t *testing.T, service, body string) (*http.Response, []byte) {
	t.Helper()
	return e.do(t, http.MethodPut, "/v1/policies/"+service, strings.NewReader(body), e.authHeader())
}

func (e *testEnv) get(t *testing.T, path string) (*http.Response, []byte) {
	t.Helper()
	return e.do(t, http.MethodGet, path, nil, e.authHeader())
}

func decodePolicy(t *testing.T, body []byte) workflows.Policy {
	t.Helper()
	var p workflows.Policy
	dec := json.NewDecoder(strings.NewReader(string(body)))
	dec.DisallowUnknownFields()
	require.NoError(t, dec.Decode(&p), string(body))
	return p
}

func stepsJSON(t *testing.T, steps []workflows.Step) string {
	t.Helper()
	b, err := json.Marshal(PolicyRequest{Steps: steps})
	require.NoError(t, err)
	return string(b)
}

func (e *testEnv) policyVersions(t *testing.T, service string) []dbgen.EscalationPolicy {
	t.Helper()
	rows, err := dbgen.New(e.pool).ListPolicyVersions(context.Background(), service)
	require.NoError(t, err)
	return rows
}

var (
	policyV1 = []workflows.Step{
		{Name: workflows.StepCourtesy, OffsetDays: -5, Channel: workflows.ChannelEmail},
		{Name: workflows.StepSollecito, OffsetDays: 10, Channel: workflows.ChannelEmail},
		{Name: workflows.StepEnforcement, OffsetDays: 90, Channel: workflows.ChannelRecord},
	}
	policyV2 = []workflows.Step{
		{Name: workflows.StepSollecito, OffsetDays: 20, Channel: workflows.ChannelPECOrMail},
		// A step with its channels, cheapest first, kept as given.
		{Name: workflows.StepAccertamento, OffsetDays: 45, Channels: []reminders.Channel{reminders.ChannelPEC, reminders.ChannelPost}},
		{Name: workflows.StepEnforcement, OffsetDays: 150, Channel: workflows.ChannelRecord},
	}
)

func TestPutAndGetPolicy(t *testing.T) {
	t.Parallel()
	e := newEnv(t)

	// No policy stored: the built-in ladder, version 0.
	resp, body := e.get(t, "/v1/policies/TARI")
	require.Equal(t, http.StatusOK, resp.StatusCode, string(body))
	require.Equal(t, workflows.Policy{ServiceCode: "TARI", Version: 0, Steps: workflows.DefaultSteps}, decodePolicy(t, body))
	require.NotContains(t, string(body), "dayLength")

	resp, body = e.putPolicy(t, "TARI", stepsJSON(t, policyV1))
	require.Equal(t, http.StatusCreated, resp.StatusCode, string(body))
	require.Equal(t, "/v1/policies/TARI/versions/1", resp.Header.Get("Location"))
	require.Equal(t, workflows.Policy{ServiceCode: "TARI", Version: 1, Steps: policyV1}, decodePolicy(t, body))

	resp, body = e.putPolicy(t, "TARI", stepsJSON(t, policyV2))
	require.Equal(t, http.StatusCreated, resp.StatusCode, string(body))
	require.Equal(t, "/v1/policies/TARI/versions/2", resp.Header.Get("Location"))
	require.Equal(t, workflows.Policy{ServiceCode: "TARI", Version: 2, Steps: policyV2}, decodePolicy(t, body))

	resp, body = e.get(t, "/v1/policies/TARI")
	require.Equal(t, http.StatusOK, resp.StatusCode, string(body))
	require.Equal(t, workflows.Policy{ServiceCode: "TARI", Version: 2, Steps: policyV2}, decodePolicy(t, body), "the latest")

	resp, body = e.get(t, "/v1/policies/TARI/versions/1")
	require.Equal(t, http.StatusOK, resp.StatusCode, string(body))
	require.Equal(t, workflows.Policy{ServiceCode: "TARI", Version: 1, Steps: policyV1}, decodePolicy(t, body))
	resp, body = e.get(t, "/v1/policies/TARI/versions/2")
	require.Equal(t, http.StatusOK, resp.StatusCode, string(body))
	require.Equal(t, 2, decodePolicy(t, body).Version)
	for _, v := range []string{"3", "0", "-1", "abc", "1.0", "99999999999"} {
		resp, body = e.get(t, "/v1/policies/TARI/versions/"+v)
		requireProblem(t, resp, body, http.StatusNotFound)
	}
	resp, body = e.get(t, "/v1/policies/IMU/versions/1")
	requireProblem(t, resp, body, http.StatusNotFound)

	// Another service keeps the built-in ladder, and numbers its own versions from 1.
	resp, body = e.get(t, "/v1/policies/IMU")
	require.Equal(t, http.StatusOK, resp.StatusCode, string(body))
	require.Equal(t, workflows.Policy{ServiceCode: "IMU", Version: 0, Steps: workflows.DefaultSteps}, decodePolicy(t, body))
	resp, body = e.putPolicy(t, "IMU", stepsJSON(t, policyV1))
	require.Equal(t, http.StatusCreated, resp.StatusCode, string(body))
	require.Equal(t, 1, decodePolicy(t, body).Version)

	// An empty ladder is a ladder: no reminders at all.
	resp, body = e.putPolicy(t, "MENSA", `{"steps":[]}`)
	require.Equal(t, http.StatusCreated, resp.StatusCode, string(body))
	p := decodePolicy(t, body)
	require.Equal(t, 1, p.Version)
	require.Empty(t, p.Steps)
	require.Contains(t, string(body), `"steps":[]`)

	// Stored with the name of the API client that sent them.
	rows := e.policyVersions(t, "TARI")
	require.Len(t, rows, 2)
	for _, row := range rows {
		require.Equal(t, "client:tributi", row.CreatedBy)
		require.WithinDuration(t, time.Now(), row.CreatedAt.Time, time.Minute)
	}
	require.JSONEq(t, stepsJSON(t, policyV2), `{"steps":`+string(rows[0].Steps)+`}`)
	require.JSONEq(t, stepsJSON(t, policyV1), `{"steps":`+string(rows[1].Steps)+`}`)
}

func TestPolicyUnknownService(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	resp, body := e.putPolicy(t, "NOPE", stepsJSON(t, policyV1))
	requireProblem(t, resp, body, http.StatusNotFound)
	resp, body = e.get(t, "/v1/policies/NOPE")
	requireProblem(t, resp, body, http.StatusNotFound)
	resp, body = e.get(t, "/v1/policies/NOPE/versions/1")
	requireProblem(t, resp, body, http.StatusNotFound)
	resp, body = e.putPolicy(t, "tari", stepsJSON(t, policyV1))
	requireProblem(t, resp, body, http.StatusNotFound)
	require.Empty(t, e.policyVersions(t, "NOPE"))
	require.Empty(t, e.policyVersions(t, "tari"))
}

func TestPutPolicyValidation(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	s := func(name string, days int, channel string) workflows.Step {
		return workflows.Step{Name: name, OffsetDays: days, Channel: channel}
	}
	invalid := map[string][]workflows.Step{
		"courtesy with positive offset": {s("courtesy", 3, "email")},
		"courtesy on the due date":      {s("courtesy", 0, "email")},
		"unknown channel":               {s("courtesy", -3, "sms")},
		"channel of another step":       {s("courtesy", -3, "email"), s("accertamento", 60, "email")},
		"unknown step":                  {s("courtesy", -3, "email"), s("diffida", 30, "email")},
		"out of order": {
			s("sollecito", 15, "pec_or_mail"), s("courtesy", -3, "email"),
		},
		"repeated":                {s("sollecito", 15, "email"), s("sollecito", 30, "email")},
		"sollecito on due date":   {s("sollecito", 0, "email")},
		"offsets not increasing":  {s("sollecito", 60, "email"), s("accertamento", 60, "pec_or_post")},
		"too far":                 {s("enforcement", 3651, "record")},
		"empty name":              {s("", 10, "email")},
		"enforcement by email":    {s("enforcement", 120, "email")},
		"valid then invalid last": {s("courtesy", -3, "email"), s("sollecito", 15, "pec_or_mail"), s("enforcement", 10, "record")},
		"accertamento by email": {{Name: "accertamento", OffsetDays: 60,
			Channels: []reminders.Channel{reminders.ChannelEmail, reminders.ChannelPEC}}},
		"channels out of order": {{Name: "courtesy", OffsetDays: -3,
			Channels: []reminders.Channel{reminders.ChannelEmail, reminders.ChannelIO}}},
	}
	for name, steps := range invalid {
		t.Run(name, func(t *testing.T) {
			want := workflows.ValidateSteps(steps)
			require.Error(t, want, "the case is invalid")
			resp, body := e.putPolicy(t, "TARI", stepsJSON(t, steps))
			p := requireProblem(t, resp, body, http.StatusUnprocessableEntity)
			require.Equal(t, []FieldError{{Field: "steps", Message: want.Error()}}, p.Errors)
		})
	}
	for name, body := range map[string]string{
		"missing steps": `{}`,
		"null steps":    `{"steps":null}`,
	} {
		t.Run(name, func(t *testing.T) {
			resp, out := e.putPolicy(t, "TARI", body)
			p := requireProblem(t, resp, out, http.StatusUnprocessableEntity)
			require.Equal(t, []string{"steps"}, fieldsOf(p.Errors))
		})
	}
	for name, body := range map[string]string{
		"unknown field":         `{"steps":[],"version":3}`,
		"unknown step field":    `{"steps":[{"name":"courtesy","offsetDays":-3,"channel":"email","subject":"x"}]}`,
		"misspelled step field": `{"steps":[{"name":"courtesy","offset":-3,"channel":"email"}]}`,
		"steps not a list":      `{"steps":"courtesy"}`,
		"offset not integer":    `{"steps":[{"name":"courtesy","offsetDays":-2.5,"channel":"email"}]}`,
		"not an object":         `[]`,
		"trailing data":         `{"steps":[]} {}`,
		"not JSON":              `steps=courtesy`,
	} {
		t.Run(name, func(t *testing.T) {
			resp, out := e.putPolicy(t, "TARI", body)
			requireProblem(t, resp, out, http.StatusBadRequest)
		})
	}
	t.Run("needs the API key", func(t *testing.T) {
		resp, out := e.do(t, http.MethodPut, "/v1/policies/TARI", strings.NewReader(stepsJSON(t, policyV1)), http.Header{"Content-Type": {"application/json"}})
		requireProblem(t, resp, out, http.StatusUnauthorized)
		resp, out = e.do(t, http.MethodGet, "/v1/policies/TARI", nil, nil)
		requireProblem(t, resp, out, http.StatusUnauthorized)
	})
	require.Empty(t, e.policyVersions(t, "TARI"), "nothing stored")
}

func TestUpgradePolicy(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.mustCreateDebt(t, validRequest("UPG-1"))

	resp, body := e.postJSON(t, "/v1/debts/UPG-1/upgrade-policy", "", nil)
	require.Equal(t, http.StatusOK, resp.StatusCode, string(body))
	require.Equal(t, "UPG-1", decodeDebt(t, body).IUPD)
	ups := e.fake.Updates()
	require.Len(t, ups, 1)
	u := ups[0]
	require.Equal(t, e.workflowID("UPG-1"), u.WorkflowID)
	require.Equal(t, workflows.UpdateUpgradePolicy, u.UpdateName)
	require.Equal(t, "upgrade-policy", u.UpdateName)
	require.Empty(t, u.Args, "the workflow loads the latest policy itself")
	require.Equal(t, client.WorkflowUpdateStageAccepted, u.WaitForStage)
	require.Empty(t, u.UpdateID)

	resp, body = e.postJSON(t, "/v1/debts/UPG-1/upgrade-policy", "", http.Header{"Idempotency-Key": {"k-1"}})
	require.Equal(t, http.StatusOK, resp.StatusCode, string(body))
	ups = e.fake.Updates()
	require.Len(t, ups, 2)
	require.Equal(t, "upgrade-policy/k-1", ups[1].UpdateID)

	t.Run("paid", func(t *testing.T) {
		e.mustCreateDebt(t, validRequest("UPG-PAID"))
		e.markPaid(t, "UPG-PAID")
		resp, body := e.postJSON(t, "/v1/debts/UPG-PAID/upgrade-policy", "", nil)
		requireProblem(t, resp, body, http.StatusConflict)
	})
	t.Run("cancelled", func(t *testing.T) {
		e.mustCreateDebt(t, validRequest("UPG-CANC"))
		e.markCancelled(t, "UPG-CANC", "duplicate")
		resp, body := e.postJSON(t, "/v1/debts/UPG-CANC/upgrade-policy", "", nil)
		requireProblem(t, resp, body, http.StatusConflict)
	})
	t.Run("unknown debt", func(t *testing.T) {
		resp, body := e.postJSON(t, "/v1/debts/NOPE/upgrade-policy", "", nil)
		requireProblem(t, resp, body, http.StatusNotFound)
	})
	t.Run("rejected by the workflow", func(t *testing.T) {
		e.mustCreateDebt(t, validRequest("UPG-OLD"))
		e.fake.failUpdate(nil, temporal.NewApplicationError("this debt started before reminder policies: it has no ladder to upgrade", workflows.ErrTypeRejected))
		t.Cleanup(func() { e.fake.failUpdate(nil, nil) })
		resp, body := e.postJSON(t, "/v1/debts/UPG-OLD/upgrade-policy", "", nil)
		p := requireProblem(t, resp, body, http.StatusConflict)
		require.Contains(t, p.Detail, "no ladder to upgrade")
	})
	require.Len(t, e.fake.Updates(), 3, "only the debts that could be upgraded reached the workflow")
}

func TestCreateDebtWithPEC(t *testing.T) {
	t.Parallel()
	e := newEnv(t)

	req := validRequest("PEC-D1")
	req.Debtor.PEC = "  mario.rossi@pec.example.it "
	d := e.mustCreateDebt(t, req)
	require.Equal(t, "mario.rossi@pec.example.it", d.Debtor.PEC, "trimmed")
	require.Equal(t, "mario.rossi@pec.example.it", e.debtRow(t, "PEC-D1").DebtorPec)
	resp, body := e.getDebt(t, "PEC-D1")
	require.Equal(t, http.StatusOK, resp.StatusCode, string(body))
	require.Equal(t, "mario.rossi@pec.example.it", decodeDebt(t, body).Debtor.PEC)

	// The same request again is the same debt.
	resp, body = e.postDebt(t, req)
	require.Equal(t, http.StatusOK, resp.StatusCode, string(body))
	require.Equal(t, d.NoticeNumber, decodeDebt(t, body).NoticeNumber)

	// The same iupd with another PEC, or none, is another debt.
	other := req
	other.Debtor.PEC = "altro@pec.example.it"
	resp, body = e.postDebt(t, other)
	requireProblem(t, resp, body, http.StatusConflict)
	other.Debtor.PEC = ""
	resp, body = e.postDebt(t, other)
	requireProblem(t, resp, body, http.StatusConflict)
	require.Equal(t, "mario.rossi@pec.example.it", e.debtRow(t, "PEC-D1").DebtorPec, "unchanged")

	// And the other way round: a debt without PEC, asked again with one.
	plain := validRequest("PEC-D2")
	e.mustCreateDebt(t, plain)
	require.Empty(t, e.debtRow(t, "PEC-D2").DebtorPec)
	resp, body = e.getDebt(t, "PEC-D2")
	require.Equal(t, http.StatusOK, resp.StatusCode, string(body))
	require.NotContains(t, string(body), `"pec"`, "no PEC, no field")
	plain.Debtor.PEC = "mario.rossi@pec.example.it"
	resp, body = e.postDebt(t, plain)
	requireProblem(t, resp, body, http.StatusConflict)

	for _, bad := range []string{"not-a-pec", "Mario <mario@pec.example.it>", "mario@", "@pec.rossi.it", "mario rossi@pec.example.it", strings.Repeat("a", 250) + "@pec.example.it"} {
		t.Run(bad, func(t *testing.T) {
			r := validRequest("PEC-BAD")
			r.Debtor.PEC = bad
			resp, body := e.postDebt(t, r)
			p := requireProblem(t, resp, body, http.StatusUnprocessableEntity)
			require.Equal(t, []string{"debtor.pec"}, fieldsOf(p.Errors))
			require.NotContains(t, string(body), bad, "the value is not echoed")
		})
	}
	resp, body = e.getDebt(t, "PEC-BAD")
	requireProblem(t, resp, body, http.StatusNotFound)
}

func TestDebtShowsLadder(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	ctx := context.Background()
	q := dbgen.New(e.pool)
	e.mustCreateDebt(t, validRequest("LAD-1"))
	e.mustCreateDebt(t, validRequest("LAD-0"))

	resp, body := e.getDebt(t, "LAD-1")
	require.Equal(t, http.StatusOK, resp.StatusCode, string(body))
	d := decodeDebt(t, body)
	require.Empty(t, d.LadderStep)
	require.Nil(t, d.LadderStepAt)
	require.Nil(t, d.PolicyVersion)
	require.NotContains(t, string(body), "ladderStep")
	require.NotContains(t, string(body), "policyVersion")

	id := e.debtRow(t, "LAD-1").ID
	before := time.Now()
	require.NoError(t, q.SetDebtPolicy(ctx, dbgen.SetDebtPolicyParams{ID: id, PolicyVersion: pgtype.Int4{Int32: 2, Valid: true}}))
	require.NoError(t, q.SetLadderStep(ctx, dbgen.SetLadderStepParams{ID: id, LadderStep: workflows.StepSollecito}))

	resp, body = e.getDebt(t, "LAD-1")
	require.Equal(t, http.StatusOK, resp.StatusCode, string(body))
	d = decodeDebt(t, body)
	require.Equal(t, "sollecito", d.LadderStep)
	require.NotNil(t, d.PolicyVersion)
	require.Equal(t, 2, *d.PolicyVersion)
	require.NotNil(t, d.LadderStepAt)
	require.WithinRange(t, *d.LadderStepAt, before.Add(-time.Second), time.Now().Add(time.Second))
	var raw map[string]any
	require.NoError(t, json.Unmarshal(body, &raw))
	require.Equal(t, "sollecito", raw["ladderStep"])
	require.EqualValues(t, 2, raw["policyVersion"])

	// Version 0, the built-in ladder, is a version like the others.
	require.NoError(t, q.SetDebtPolicy(ctx, dbgen.SetDebtPolicyParams{ID: e.debtRow(t, "LAD-0").ID, PolicyVersion: pgtype.Int4{Int32: 0, Valid: true}}))
	resp, body = e.getDebt(t, "LAD-0")
	require.Equal(t, http.StatusOK, resp.StatusCode, string(body))
	require.Contains(t, string(body), `"policyVersion":0`)
	d = decodeDebt(t, body)
	require.NotNil(t, d.PolicyVersion)
	require.Zero(t, *d.PolicyVersion)
}

// TestPutPolicyConcurrent: versions are numbered by the database; two clients storing a
// policy at the same time must not make one of them fail with an internal error.
func TestPutPolicyConcurrent(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	const n = 16
	type answer struct {
		status int
		body   []byte
		err    error
	}
	answers := make([]answer, n)
	body := stepsJSON(t, policyV1)
	var wg sync.WaitGroup
	start := make(chan struct{})
	for i := range n {
		wg.Add(1)
		go func() { // no require here: FailNow belongs to the test's goroutine
			defer wg.Done()
			<-start // all at once
			req, err := http.NewRequest(http.MethodPut, e.url+"/v1/policies/TARI", strings.NewReader(body))
			if err != nil {
				answers[i].err = err
				return
			}
			req.Header = e.authHeader()
			resp, err := e.client.Do(req)
			if err != nil {
				answers[i].err = err
				return
			}
			defer resp.Body.Close()
			answers[i].status = resp.StatusCode
			answers[i].body, answers[i].err = io.ReadAll(resp.Body)
		}()
	}
	close(start)
	wg.Wait()
	for _, a := range answers {
		require.NoError(t, a.err)
	}
	versions := map[int]bool{}
	for _, a := range answers {
		require.Contains(t, []int{http.StatusCreated, http.StatusConflict}, a.status, "a concurrent PUT is stored, or refused as a conflict, never an internal error: %s", a.body)
		if a.status == http.StatusCreated {
			v := decodePolicy(t, a.body).Version
			require.False(t, versions[v], "version %d given twice", v)
			versions[v] = true
		}
	}
	require.NotEmpty(t, versions)
	require.Len(t, e.policyVersions(t, "TARI"), len(versions), "every 201 is a stored version")
}

// TestPolicyVersionOutOfRange: a version number beyond int32 is no version, not another one
// (4294967297 must not wrap around to version 1).
func TestPolicyVersionOutOfRange(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	resp, body := e.putPolicy(t, "TARI", stepsJSON(t, policyV1))
	require.Equal(t, http.StatusCreated, resp.StatusCode, string(body))
	for _, v := range []string{"4294967297", "2147483648", "-4294967295"} {
		resp, body = e.get(t, "/v1/policies/TARI/versions/"+v)
		requireProblem(t, resp, body, http.StatusNotFound)
	}
}

// TestCreateDebtRefusesUnprintableText: the debtor's name and the description go into every
// reminder's subject and letter and into the hand-over file, which refuse control characters
// (reminders.Data.validate, reminders.EnforcementCSV). A debt accepted with one would fail its
// workflow at the first reminder step (SendReminder: non-retryable InvalidInput) and make every
// enforcement export fail once it is handed over: the API must refuse it at the door.
func TestCreateDebtRefusesUnprintableText(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	for i, tc := range []struct {
		name   string
		mutate func(*CreateDebtRequest)
		field  string
	}{
		{"fullName with a line break", func(r *CreateDebtRequest) { r.Debtor.FullName = "Mario\nRossi" }, "debtor.fullName"},
		{"fullName with a tab", func(r *CreateDebtRequest) { r.Debtor.FullName = "Mario\tRossi" }, "debtor.fullName"},
		{"fullName with NUL", func(r *CreateDebtRequest) { r.Debtor.FullName = "Mario\x00Rossi" }, "debtor.fullName"},
		{"fullName with a C1 control", func(r *CreateDebtRequest) { r.Debtor.FullName = "Mario\u0085Rossi" }, "debtor.fullName"},
		{"description with CRLF", func(r *CreateDebtRequest) { r.Description = "TARI 2026\r\nrata unica" }, "description"},
		{"description with a bell", func(r *CreateDebtRequest) { r.Description = "TARI 2026\arata unica" }, "description"},
		{"description with DEL", func(r *CreateDebtRequest) { r.Description = "TARI 2026\x7frata unica" }, "description"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			iupd := fmt.Sprintf("UNPRINTABLE-%d", i)
			r := validRequest(iupd)
			tc.mutate(&r)
			resp, body := e.postDebt(t, r)
			p := requireProblem(t, resp, body, http.StatusUnprocessableEntity)
			require.Equal(t, []string{tc.field}, fieldsOf(p.Errors))
			resp, body = e.getDebt(t, iupd)
			requireProblem(t, resp, body, http.StatusNotFound)
		})
	}
	require.Empty(t, e.fake.Executions(), "no workflow started")
}
