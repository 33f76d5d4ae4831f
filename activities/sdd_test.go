package activities_test

import (
	"bytes"
	"compress/gzip"
	"context"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"go.temporal.io/api/serviceerror"
	"go.temporal.io/sdk/activity"
	"go.temporal.io/sdk/converter"
	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/testsuite"
	"go.temporal.io/sdk/worker"

	"incasso/activities"
	"incasso/clients/bankgw"
	"incasso/db/dbgen"
	"incasso/devstack/banksim"
	"incasso/devstack/fakeclock"
	"incasso/devstack/jsontest"
	"incasso/devstack/specs"
	"incasso/domain/date"
	"incasso/domain/money"
	"incasso/domain/sepa/camt054"
	"incasso/domain/sepa/pain002"
	"incasso/domain/sepa/pain008"
	"incasso/domain/target2"
	"incasso/workflows"
)

const (
	bankKey   = "test-bank-key"
	bankDelay = time.Hour // until the pain.002 of a file is ready, on the bank's clock
)

// sddFixture is planFixture with the SDD activities, whose bank is the simulator served over
// HTTP and reached through the real gateway.
type sddFixture struct {
	*planFixture
	clock   *fakeclock.Clock
	bankURL string
	gw      *bankgw.HTTP
	sdd     *activities.SDD

	mu        sync.Mutex
	fileposts []filePost // the files submitted to the bank, and its answers
}

// filePost is a file submitted to the bank: the hash of its bytes and the HTTP status answered.
type filePost struct {
	sha256 [32]byte
	status int
}

// statusRecorder keeps the status of an answer.
type statusRecorder struct {
	http.ResponseWriter
	status int
}

func (r *statusRecorder) WriteHeader(status int) {
	r.status = status
	r.ResponseWriter.WriteHeader(status)
}

func (sf *sddFixture) posts() []filePost {
	sf.mu.Lock()
	defer sf.mu.Unlock()
	return append([]filePost(nil), sf.fileposts...)
}

func newSDDFixture(t *testing.T) *sddFixture {
	t.Helper()
	pf := newPlanFixture(t)
	clock := fakeclock.New(time.Now())
	bank := banksim.New(banksim.Config{Delay: bankDelay, APIKey: bankKey, Now: clock.Now, Logger: slog.New(slog.DiscardHandler)})
	sf := &sddFixture{planFixture: pf, clock: clock}
	handler := bank.Handler()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodPost || r.URL.Path != "/bank/sdd/files" {
			handler.ServeHTTP(w, r)
			return
		}
		body, err := io.ReadAll(r.Body)
		if err != nil {
			w.WriteHeader(http.StatusBadRequest)
			return
		}
		r.Body = io.NopCloser(bytes.NewReader(body))
		rec := &statusRecorder{ResponseWriter: w, status: http.StatusOK}
		handler.ServeHTTP(rec, r)
		sf.mu.Lock()
		sf.fileposts = append(sf.fileposts, filePost{sha256: sha256.Sum256(body), status: rec.status})
		sf.mu.Unlock()
	}))
	t.Cleanup(srv.Close)
	sf.bankURL = srv.URL
	sf.gw = bankgw.NewHTTP(srv.URL, bankKey, 10*time.Second)
	cfg := pf.sddCfg
	cfg.ReportPoll = 20 * time.Millisecond
	sf.sdd = &activities.SDD{Pool: pf.pool, Bank: sf.gw, Temporal: pf.temporal, Creditor: creditor, Config: cfg}
	return sf
}

func runRef(on date.Date) workflows.RunRef {
	return workflows.RunRef{Account: sddAccount, CollectionDate: on}
}

func (sf *sddFixture) submit(t *testing.T, a *activities.SDD, on date.Date) workflows.SubmittedFile {
	t.Helper()
	var res workflows.SubmittedFile
	require.NoError(t, runAct(t, a, &res, a.SubmitCollectionFile, runRef(on)))
	return res
}

func (sf *sddFixture) fetch(t *testing.T, a *activities.SDD, on date.Date) workflows.RunOutcome {
	t.Helper()
	var out workflows.RunOutcome
	require.NoError(t, runAct(t, a, &out, a.FetchStatusReport, runRef(on)))
	return out
}

func (sf *sddFixture) poll(t *testing.T, a *activities.SDD) (int, error) {
	t.Helper()
	var n int
	err := runAct(t, a, &n, a.PollBankNotifications)
	return n, err
}

// control calls the simulator's /sim/ controls and requires the status.
func (sf *sddFixture) control(t *testing.T, method, path string, body any, status int) []byte {
	t.Helper()
	_, data := jsontest.Call(t, method, sf.bankURL+path, body, status)
	return data
}

func (sf *sddFixture) bankFiles(t *testing.T) []banksim.FileSummary {
	t.Helper()
	var files []banksim.FileSummary
	require.NoError(t, json.Unmarshal(sf.control(t, http.MethodGet, "/sim/bank/files", nil, http.StatusOK), &files))
	return files
}

// bankReturn has the bank take back a collected transaction, and returns the notification's id.
func (sf *sddFixture) bankReturn(t *testing.T, e2e, reason string, refund bool) string {
	t.Helper()
	var created struct{ ID string }
	require.NoError(t, json.Unmarshal(sf.control(t, http.MethodPost, "/sim/bank/returns",
		banksim.Return{EndToEndID: e2e, Reason: reason, Refund: refund}, http.StatusCreated), &created))
	return created.ID
}

func gunzip(t *testing.T, gz []byte) []byte {
	t.Helper()
	zr, err := gzip.NewReader(bytes.NewReader(gz))
	require.NoError(t, err)
	raw, err := io.ReadAll(zr)
	require.NoError(t, err)
	return raw
}

// messages returns the archived bank messages of a type, oldest first.
func (pf *planFixture) messages(t *testing.T, direction, msgType string) []dbgen.SddMessage {
	t.Helper()
	ctx := context.Background()
	rows, err := pf.pool.Query(ctx, `SELECT msg_id FROM sdd_messages WHERE direction = $1 AND msg_type = $2 ORDER BY id`, direction, msgType)
	require.NoError(t, err)
	defer rows.Close()
	var ids []string
	for rows.Next() {
		var id string
		require.NoError(t, rows.Scan(&id))
		ids = append(ids, id)
	}
	require.NoError(t, rows.Err())
	var out []dbgen.SddMessage
	for _, id := range ids {
		m, err := pf.q.GetSDDMessage(ctx, dbgen.GetSDDMessageParams{Direction: direction, MsgID: id})
		require.NoError(t, err)
		out = append(out, m)
	}
	return out
}

// dbState is every row of the SDD tables and of the plans, for checking that nothing changed.
func (pf *planFixture) dbState(t *testing.T) string {
	t.Helper()
	var b strings.Builder
	for _, table := range []string{"sdd_runs", "sdd_collections", "sdd_messages", "sdd_cursors", "instalments", "instalment_plans"} {
		var rows string
		require.NoError(t, pf.pool.QueryRow(context.Background(),
			`SELECT coalesce(string_agg(t::text, E'\n' ORDER BY t::text), '') FROM `+table+` t`).Scan(&rows))
		fmt.Fprintf(&b, "%s:\n%s\n", table, rows)
	}
	return b.String()
}

func (pf *planFixture) cursor(t *testing.T) (string, bool) {
	t.Helper()
	pos, err := pf.q.GetCursor(context.Background(), "bank-notifications")
	if err != nil {
		return "", false
	}
	return pos, true
}

// withDeadline is an activity environment whose activities' context ends after d.
func withDeadline(t *testing.T, a any, d time.Duration) *testsuite.TestActivityEnvironment {
	t.Helper()
	env := activityEnv(a)
	ctx, cancel := context.WithTimeout(context.Background(), d)
	t.Cleanup(cancel)
	env.SetWorkerOptions(worker.Options{BackgroundActivityContext: ctx})
	return env
}

// requireNotFinal checks that Temporal would try err's activity again.
func requireNotFinal(t *testing.T, err error) {
	t.Helper()
	require.Error(t, err)
	var appErr *temporal.ApplicationError
	if errors.As(err, &appErr) {
		require.False(t, appErr.NonRetryable(), "%v", err)
		require.NotEqual(t, workflows.ErrTypeInvalidInput, appErr.Type(), "%v", err)
	}
}

// countingGateway is the bank, counting the requests for status reports; onReport, if set, is
// called before the n-th is made.
type countingGateway struct {
	bankgw.Gateway
	reports  atomic.Int64
	onReport func(n int64)
}

func (g *countingGateway) StatusReport(ctx context.Context, msgID string) ([]byte, error) {
	n := g.reports.Add(1)
	if g.onReport != nil {
		g.onReport(n)
	}
	return g.Gateway.StatusReport(ctx, msgID)
}

// reportGateway is the bank, except that it answers status reports with report.
type reportGateway struct {
	bankgw.Gateway
	report func(msgID string) ([]byte, error)
}

func (g reportGateway) StatusReport(_ context.Context, msgID string) ([]byte, error) {
	return g.report(msgID)
}

// notificationsGateway is the bank, except that its notifications are docs.
type notificationsGateway struct {
	bankgw.Gateway
	docs []bankgw.Document
}

func (g notificationsGateway) Notifications(_ context.Context, after string, limit int) ([]bankgw.Document, error) {
	var out []bankgw.Document
	for _, d := range g.docs {
		if d.ID > after && len(out) < limit {
			out = append(out, d)
		}
	}
	return out, nil
}

func writeReport(t *testing.T, r pain002.Report) []byte {
	t.Helper()
	var buf bytes.Buffer
	require.NoError(t, pain002.Write(&buf, r))
	return buf.Bytes()
}

func TestSubmitCollectionFile(t *testing.T) {
	t.Parallel()
	sf := newSDDFixture(t)
	ctx := context.Background()
	_, ma, a := sf.newPlan(t, 1_000_00, 5) // 200,00 each
	db := sf.issuedOf(t, 450_00, nil)
	mb := sf.mandate(t, db, "Nicolò Fabbrì")
	b, err := sf.plans.CreatePlan(ctx, db.ID, workflows.PlanRequest{Instalments: 2, MandateID: mb.ID}) // 225,00 each
	require.NoError(t, err)
	d1 := target2.AddBusinessDays(todayInRome(), 10)
	d2 := target2.AddBusinessDays(todayInRome(), 15)

	// A's mandate has collected before: its first instalment went to the bank and was accepted.
	first := sf.schedule(t, scheduleInput(a, 1, 1, d1))
	sf.submit(t, sf.sdd, d1)
	sf.clock.Advance(bankDelay)
	require.Equal(t, workflows.RunOutcome{Accepted: 1}, sf.fetch(t, sf.sdd, d1))
	require.Equal(t, "ACCEPTED", sf.collection(t, a.PlanID, 1, 1).Status)

	sa := sf.schedule(t, scheduleInput(a, 2, 1, d2))
	sb := sf.schedule(t, scheduleInput(b, 1, 1, d2))
	res := sf.submit(t, sf.sdd, d2)

	run := sf.run(t, d2)
	msgID := fmt.Sprintf("INC-SDD-%s-%d", d2.Time().Format("20060102"), run.ID)
	require.Equal(t, workflows.SubmittedFile{MsgID: msgID, Transactions: 2, CtrlSum: 425_00}, res)
	require.Equal(t, "SUBMITTED", run.Status)
	require.Equal(t, msgID, run.MsgID.String)
	require.Equal(t, int32(2), run.Transactions)
	require.Equal(t, int64(425_00), run.CtrlSumCents)
	require.True(t, run.SubmittedAt.Valid)

	ca, cb := sf.collection(t, a.PlanID, 2, 1), sf.collection(t, b.PlanID, 1, 1)
	require.Equal(t, "SUBMITTED", ca.Status)
	require.Equal(t, ma.ID, ca.MandateID.Int64)
	require.Equal(t, "RCUR", ca.SequenceType.String, "the mandate has collected before")
	require.Equal(t, "SUBMITTED", cb.Status)
	require.Equal(t, mb.ID, cb.MandateID.Int64)
	require.Equal(t, "FRST", cb.SequenceType.String, "the mandate's first collection")

	// The file, as archived: valid against the schema, its totals matching its transactions.
	out := sf.messages(t, "OUT", "pain.008")
	require.Len(t, out, 2)
	stored := out[1]
	require.Equal(t, msgID, stored.MsgID)
	require.Equal(t, run.ID, stored.RunID.Int64)
	xml := gunzip(t, stored.ContentGz)
	sum := sha256.Sum256(xml)
	require.Equal(t, sum[:], stored.Sha256)
	require.Equal(t, int64(len(xml)), stored.SizeBytes)
	specs.RequireValid(t, xml, "sepa", "pain.008.001.08.xsd")
	file, err := pain008.Parse(bytes.NewReader(xml))
	require.NoError(t, err)
	require.Equal(t, msgID, file.MsgID)
	require.Equal(t, 2, file.NbOfTxs)
	require.Equal(t, money.Cents(425_00), file.CtrlSum)
	require.Len(t, file.PaymentInfos, 2)
	batches := map[string]pain008.Batch{}
	for _, batch := range file.PaymentInfos {
		batches[batch.SequenceType] = batch
		require.Equal(t, msgID+"-"+batch.SequenceType, batch.ID)
		require.Equal(t, d2, batch.CollectionDate)
		require.Equal(t, creditor.IBAN, batch.CreditorIBAN)
		require.Equal(t, sf.sddCfg.CreditorID, batch.CreditorID)
		require.Equal(t, creditor.Name, batch.CreditorName)
		require.Len(t, batch.Transactions, 1)
		require.Equal(t, batch.NbOfTxs, 1)
		require.Equal(t, batch.CtrlSum, batch.Transactions[0].Amount)
	}
	signed := date.Date{Year: 2025, Month: time.June, Day: 1}
	frst, rcur := batches["FRST"].Transactions[0], batches["RCUR"].Transactions[0]
	require.Equal(t, pain008.Transaction{EndToEndID: sb.EndToEndID, Amount: 225_00, MandateID: mb.Reference, MandateSigned: signed,
		DebtorName: "Nicolo Fabbri", DebtorIBAN: sf.ibanOf(t, mb), RemittanceInfo: "Rata 1/2 " + db.Iupd + " " + db.Description}, frst)
	require.Equal(t, sa.EndToEndID, rcur.EndToEndID)
	require.NotEqual(t, first.EndToEndID, rcur.EndToEndID)
	require.Equal(t, money.Cents(200_00), rcur.Amount)
	require.Equal(t, ma.Reference, rcur.MandateID)
	require.Equal(t, sf.ibanOf(t, ma), rcur.DebtorIBAN)
	require.True(t, strings.HasPrefix(rcur.RemittanceInfo, "Rata 2/5 "), rcur.RemittanceInfo)

	// The bank has it: exactly the archived bytes.
	files := sf.bankFiles(t)
	require.Len(t, files, 2)
	require.Equal(t, msgID, files[1].MsgID)
	require.Equal(t, 2, files[1].Transactions)
	require.Equal(t, filePost{sha256: sum, status: http.StatusAccepted}, sf.posts()[1])

	// Again (a retry): the same bytes under the same message id, which the bank takes as the
	// same file (200, no new file); nothing changes.
	before := sf.dbState(t)
	require.Equal(t, res, sf.submit(t, sf.sdd, d2))
	posts := sf.posts()
	require.Len(t, posts, 3)
	require.Equal(t, filePost{sha256: sum, status: http.StatusOK}, posts[2])
	require.Len(t, sf.bankFiles(t), 2)
	require.Equal(t, before, sf.dbState(t))

	// The run takes no more collections: the next presentation of its date moves on.
	moved := sf.schedule(t, scheduleInput(b, 2, 1, d2))
	require.Equal(t, target2.AddBusinessDays(d2, 1), moved.CollectionDate)
}

func TestSubmitCollectionFileEmptyRun(t *testing.T) {
	t.Parallel()
	sf := newSDDFixture(t)
	_, _, plan := sf.newPlan(t, 1_000_00, 5)
	on := target2.AddBusinessDays(todayInRome(), 10)
	sf.schedule(t, scheduleInput(plan, 1, 1, on))
	var seqs []int
	require.NoError(t, runAct(t, sf.plans, &seqs, sf.plans.WithdrawPendingCollections, plan.PlanID))
	require.Equal(t, []int{1}, seqs)

	require.Equal(t, workflows.SubmittedFile{}, sf.submit(t, sf.sdd, on))
	run := sf.run(t, on)
	require.Equal(t, "EMPTY", run.Status)
	require.False(t, run.MsgID.Valid)
	require.Empty(t, sf.bankFiles(t), "nothing is sent")
	require.Empty(t, sf.messages(t, "OUT", "pain.008"))
	require.Equal(t, "WITHDRAWN", sf.collection(t, plan.PlanID, 1, 1).Status)
	require.Equal(t, workflows.SubmittedFile{}, sf.submit(t, sf.sdd, on), "again")
	require.Equal(t, workflows.RunOutcome{}, sf.fetch(t, sf.sdd, on))
}

func TestSDDUnknownRun(t *testing.T) {
	t.Parallel()
	sf := newSDDFixture(t)
	ref := runRef(target2.AddBusinessDays(todayInRome(), 10))
	for name, act := range map[string]any{
		"SubmitCollectionFile": sf.sdd.SubmitCollectionFile, "FetchStatusReport": sf.sdd.FetchStatusReport, "NotifyPlans": sf.sdd.NotifyPlans,
	} {
		err := runAct(t, sf.sdd, nil, act, ref)
		requireNonRetryable(t, err, workflows.ErrTypeInvalidInput)
		require.ErrorContains(t, err, "no collection run", name)
	}
}

// A file the bank refuses as invalid (HTTP 400) is a technical reject of all its collections
// (FF01), which the plans present again.
func TestSubmitCollectionFileRefusedByBank(t *testing.T) {
	t.Parallel()
	sf := newSDDFixture(t)
	var posts, others atomic.Int64
	refusing := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodPost && r.URL.Path == "/bank/sdd/files" {
			_, _ = io.Copy(io.Discard, r.Body)
			posts.Add(1)
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(http.StatusBadRequest)
			_, _ = w.Write([]byte(`{"error":"pain.008.001.08.xsd does not validate"}`))
			return
		}
		others.Add(1)
		w.WriteHeader(http.StatusInternalServerError)
	}))
	t.Cleanup(refusing.Close)
	a := *sf.sdd
	a.Bank = bankgw.NewHTTP(refusing.URL, bankKey, 5*time.Second)

	_, _, p1 := sf.newPlan(t, 1_000_00, 5)
	_, _, p2 := sf.newPlan(t, 1_000_00, 5)
	on := target2.AddBusinessDays(todayInRome(), 10)
	s1 := sf.schedule(t, scheduleInput(p1, 1, 1, on))
	s2 := sf.schedule(t, scheduleInput(p2, 1, 1, on))

	res := sf.submit(t, &a, on)
	require.Equal(t, 2, res.Transactions)
	require.Equal(t, money.Cents(400_00), res.CtrlSum)
	require.EqualValues(t, 1, posts.Load())
	for _, c := range []dbgen.GetCollectionByAttemptRow{sf.collection(t, p1.PlanID, 1, 1), sf.collection(t, p2.PlanID, 1, 1)} {
		require.Equal(t, "REJECTED", c.Status, c.EndToEndID)
		require.Equal(t, "FF01", c.ReasonCode)
	}
	run := sf.run(t, on)
	require.Equal(t, "REPORTED", run.Status)
	require.True(t, run.ReportedAt.Valid)
	require.Equal(t, workflows.InstalmentSubmitted, sf.instalment(t, p1.PlanID, 1).Status, "the plan decides")

	// A retry sends nothing more; the outcome is known without asking the bank.
	require.Equal(t, res, sf.submit(t, &a, on))
	require.EqualValues(t, 1, posts.Load())
	require.Equal(t, workflows.RunOutcome{Rejected: 2}, sf.fetch(t, &a, on))
	require.Zero(t, others.Load(), "no status report asked for")

	var told int
	require.NoError(t, runAct(t, &a, &told, a.NotifyPlans, runRef(on)))
	require.Equal(t, 2, told)
	sigs := sf.temporal.signals()
	require.Len(t, sigs, 2)
	require.ElementsMatch(t, []any{
		workflows.CollectionOutcome{EndToEndID: s1.EndToEndID, Outcome: workflows.OutcomeRejected, Reason: "FF01"},
		workflows.CollectionOutcome{EndToEndID: s2.EndToEndID, Outcome: workflows.OutcomeRejected, Reason: "FF01"},
	}, []any{sigs[0].arg, sigs[1].arg})
}

func TestFetchStatusReport(t *testing.T) {
	t.Parallel()
	sf := newSDDFixture(t)
	_, ma, a := sf.newPlan(t, 1_000_00, 5)
	_, _, b := sf.newPlan(t, 1_000_00, 5)
	on := target2.AddBusinessDays(todayInRome(), 10)
	sa := sf.schedule(t, scheduleInput(a, 1, 1, on))
	sf.schedule(t, scheduleInput(b, 1, 1, on))
	sf.control(t, http.MethodPost, "/sim/bank/rules", banksim.Rule{MandateID: ma.Reference, Code: "AM04"}, http.StatusNoContent)
	res := sf.submit(t, sf.sdd, on)

	// Before the bank's delay: the attempt asks, waits and asks again until it gives up; it
	// fails to be retried, and nothing changes.
	before := sf.dbState(t)
	gw := &countingGateway{Gateway: sf.gw}
	slow := *sf.sdd
	slow.Bank = gw
	var heartbeats atomic.Int64
	env := withDeadline(t, &slow, 500*time.Millisecond)
	env.SetOnActivityHeartbeatListener(func(*activity.Info, converter.EncodedValues) { heartbeats.Add(1) })
	_, err := env.ExecuteActivity(slow.FetchStatusReport, runRef(on))
	requireNotFinal(t, err)
	require.ErrorContains(t, err, "deadline exceeded", "the attempt was still waiting for the bank")
	require.Greater(t, gw.reports.Load(), int64(2), "the bank is asked every ReportPoll")
	require.Positive(t, heartbeats.Load(), "the waiting attempt heartbeats")
	require.Equal(t, before, sf.dbState(t))

	// After the delay: an outcome for every collection.
	sf.clock.Advance(bankDelay)
	require.Equal(t, workflows.RunOutcome{Accepted: 1, Rejected: 1}, sf.fetch(t, sf.sdd, on))
	ca, cb := sf.collection(t, a.PlanID, 1, 1), sf.collection(t, b.PlanID, 1, 1)
	require.Equal(t, "REJECTED", ca.Status)
	require.Equal(t, "AM04", ca.ReasonCode)
	require.Equal(t, sa.EndToEndID, ca.EndToEndID)
	require.Equal(t, "ACCEPTED", cb.Status)
	require.Empty(t, cb.ReasonCode)
	require.Equal(t, workflows.InstalmentSubmitted, sf.instalment(t, a.PlanID, 1).Status, "the plan decides on a reject")
	require.Equal(t, workflows.InstalmentCollected, sf.instalment(t, b.PlanID, 1).Status)
	run := sf.run(t, on)
	require.Equal(t, "REPORTED", run.Status)
	require.True(t, run.ReportedAt.Valid)

	reports := sf.messages(t, "IN", "pain.002")
	require.Len(t, reports, 1)
	require.Equal(t, run.ID, reports[0].RunID.Int64)
	raw := gunzip(t, reports[0].ContentGz)
	sum := sha256.Sum256(raw)
	require.Equal(t, sum[:], reports[0].Sha256)
	rep, err := pain002.Parse(raw)
	require.NoError(t, err)
	require.Equal(t, res.MsgID, rep.OriginalMsgID)
	require.Equal(t, rep.MsgID, reports[0].MsgID)

	// Again (a retry): the same outcome, from the database.
	before = sf.dbState(t)
	gw.reports.Store(0)
	require.Equal(t, workflows.RunOutcome{Accepted: 1, Rejected: 1}, sf.fetch(t, &slow, on))
	require.Zero(t, gw.reports.Load(), "the bank is not asked again")
	require.Equal(t, before, sf.dbState(t))

	// The mandate whose first collection was rejected collects FRST again; the other RCUR.
	later := target2.AddBusinessDays(on, 5)
	sf.schedule(t, scheduleInput(a, 1, 2, later))
	sf.schedule(t, scheduleInput(b, 2, 1, later))
	sf.submit(t, sf.sdd, later)
	require.Equal(t, "FRST", sf.collection(t, a.PlanID, 1, 2).SequenceType.String)
	require.Equal(t, "RCUR", sf.collection(t, b.PlanID, 2, 1).SequenceType.String)
}

// An attempt waits for the report: the bank having it after a few asks, the same attempt
// records it.
func TestFetchStatusReportWaitsForTheBank(t *testing.T) {
	t.Parallel()
	sf := newSDDFixture(t)
	_, _, a := sf.newPlan(t, 1_000_00, 5)
	on := target2.AddBusinessDays(todayInRome(), 10)
	sf.schedule(t, scheduleInput(a, 1, 1, on))
	sf.submit(t, sf.sdd, on)
	gw := &countingGateway{Gateway: sf.gw, onReport: func(n int64) {
		if n == 3 {
			sf.clock.Advance(bankDelay)
		}
	}}
	waiting := *sf.sdd
	waiting.Bank = gw
	require.Equal(t, workflows.RunOutcome{Accepted: 1}, sf.fetch(t, &waiting, on))
	require.EqualValues(t, 3, gw.reports.Load())
	require.Equal(t, "REPORTED", sf.run(t, on).Status)
}

// A file the bank rejects as a whole in its pain.002 rejects every collection with the
// group's reason.
func TestFetchStatusReportFileRejected(t *testing.T) {
	t.Parallel()
	sf := newSDDFixture(t)
	_, _, a := sf.newPlan(t, 1_000_00, 5)
	_, _, b := sf.newPlan(t, 1_000_00, 5)
	on := target2.AddBusinessDays(todayInRome(), 10)
	sf.schedule(t, scheduleInput(a, 1, 1, on))
	sf.schedule(t, scheduleInput(b, 1, 1, on))
	sf.control(t, http.MethodPost, "/sim/bank/file-reject", banksim.FileReject{Code: "RC01"}, http.StatusNoContent)
	sf.submit(t, sf.sdd, on)
	sf.clock.Advance(bankDelay)
	require.Equal(t, workflows.RunOutcome{Rejected: 2}, sf.fetch(t, sf.sdd, on))
	for _, c := range []dbgen.GetCollectionByAttemptRow{sf.collection(t, a.PlanID, 1, 1), sf.collection(t, b.PlanID, 1, 1)} {
		require.Equal(t, "REJECTED", c.Status)
		require.Equal(t, "RC01", c.ReasonCode)
	}
	require.Equal(t, "REPORTED", sf.run(t, on).Status)
}

// A reject whose reason is the bank's own code (Rsn/Prtry, no Rsn/Cd) is recorded like any
// other, under "PRTRY:" and the code: no rule of the reason-code table names it, so the plan
// holds the instalment for an operator.
func TestFetchStatusReportProprietaryReason(t *testing.T) {
	t.Parallel()
	sf := newSDDFixture(t)
	ctx := context.Background()
	_, ma, a := sf.newPlan(t, 1_000_00, 5)
	_, _, b := sf.newPlan(t, 1_000_00, 5)
	on := target2.AddBusinessDays(todayInRome(), 10)
	sf.schedule(t, scheduleInput(a, 1, 1, on))
	sf.schedule(t, scheduleInput(b, 1, 1, on))
	sf.control(t, http.MethodPost, "/sim/bank/rules", banksim.Rule{MandateID: ma.Reference, Code: "AM04"}, http.StatusNoContent)
	res := sf.submit(t, sf.sdd, on)
	sf.clock.Advance(bankDelay)
	real, err := sf.gw.StatusReport(ctx, res.MsgID)
	require.NoError(t, err)
	require.Contains(t, string(real), "<Cd>AM04</Cd>")
	proprietary := *sf.sdd
	proprietary.Bank = reportGateway{Gateway: sf.gw, report: func(string) ([]byte, error) {
		return bytes.ReplaceAll(real, []byte("<Cd>AM04</Cd>"), []byte("<Prtry>CBI-0123</Prtry>")), nil
	}}

	require.Equal(t, workflows.RunOutcome{Accepted: 1, Rejected: 1}, sf.fetch(t, &proprietary, on))
	ca := sf.collection(t, a.PlanID, 1, 1)
	require.Equal(t, "REJECTED", ca.Status)
	require.Equal(t, "PRTRY:CBI-0123", ca.ReasonCode)
	require.Equal(t, workflows.ReasonHold, workflows.DefaultPlanPolicy().Reasons.Rule(ca.ReasonCode).Action)
	require.Equal(t, "ACCEPTED", sf.collection(t, b.PlanID, 1, 1).Status)
	require.Equal(t, "REPORTED", sf.run(t, on).Status)
}

// A report that cannot be read, or that is about another file, is refused with the reason
// and changes nothing.
func TestFetchStatusReportRefusesBadReports(t *testing.T) {
	t.Parallel()
	sf := newSDDFixture(t)
	ctx := context.Background()
	_, ma, a := sf.newPlan(t, 1_000_00, 5)
	_, _, b := sf.newPlan(t, 1_000_00, 5)
	on := target2.AddBusinessDays(todayInRome(), 10)
	sf.schedule(t, scheduleInput(a, 1, 1, on))
	sf.schedule(t, scheduleInput(b, 1, 1, on))
	sf.control(t, http.MethodPost, "/sim/bank/rules", banksim.Rule{MandateID: ma.Reference, Code: "AM04"}, http.StatusNoContent)
	res := sf.submit(t, sf.sdd, on)
	sf.clock.Advance(bankDelay)
	real, err := sf.gw.StatusReport(ctx, res.MsgID)
	require.NoError(t, err)
	require.Contains(t, string(real), "<TxSts>RJCT</TxSts>")

	other := writeReport(t, pain002.Report{MsgID: "STS-OTHER-1", Created: time.Now(), OriginalMsgID: "INC-SDD-20260101-999",
		OriginalMsgName: "pain.008.001.08", GroupStatus: pain002.ACCP})
	tests := []struct {
		name   string
		report func(msgID string) ([]byte, error)
		want   string
	}{
		{"not XML", func(string) ([]byte, error) { return []byte("this is not a status report"), nil }, "status report of file " + res.MsgID + " refused"},
		{"not a pain.002", func(string) ([]byte, error) {
			return []byte(`<Document xmlns="urn:iso:std:iso:20022:tech:xsd:pain.008.001.08"/>`), nil
		}, "refused"},
		{"unknown status code", func(string) ([]byte, error) {
			return bytes.ReplaceAll(real, []byte("<TxSts>RJCT</TxSts>"), []byte("<TxSts>NOPE</TxSts>")), nil
		}, `"NOPE" is not a status code`},
		{"rejected without a reason", func(string) ([]byte, error) {
			return bytes.ReplaceAll(real, []byte("<Cd>AM04</Cd>"), []byte("")), nil
		}, "refused"},
		{"about another file", func(string) ([]byte, error) { return other, nil }, "is about file INC-SDD-20260101-999, not " + res.MsgID},
		{"unknown to the bank", func(string) ([]byte, error) {
			return nil, fmt.Errorf("bank status report: HTTP 404: %w", bankgw.ErrNotFound)
		}, "unknown to the bank"},
	}
	before := sf.dbState(t)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			bad := *sf.sdd
			bad.Bank = reportGateway{Gateway: sf.gw, report: tt.report}
			err := runAct(t, &bad, nil, bad.FetchStatusReport, runRef(on))
			requireNotFinal(t, err)
			require.ErrorContains(t, err, tt.want)
			require.Equal(t, before, sf.dbState(t), "nothing changed")
		})
	}
	require.Empty(t, sf.messages(t, "IN", "pain.002"))
	// The bank's own report is then recorded.
	require.Equal(t, workflows.RunOutcome{Accepted: 1, Rejected: 1}, sf.fetch(t, sf.sdd, on))
}

// statusReport is a pain.002 under msgID about the FRST collections of file fileMsgID.
func statusReport(t *testing.T, msgID, fileMsgID string, txs ...pain002.TransactionStatus) []byte {
	t.Helper()
	return writeReport(t, pain002.Report{MsgID: msgID, Created: time.Now(), OriginalMsgID: fileMsgID,
		OriginalMsgName: "pain.008.001.08", GroupStatus: pain002.PART,
		PaymentInfos: []pain002.PaymentInfoStatus{{OriginalPmtInfID: fileMsgID + "-FRST", Status: pain002.PART, Transactions: txs}}})
}

// A status report whose message id is archived already with other content is refused for
// good, and none of its outcomes is applied; the same bytes again are a harmless resend.
func TestFetchStatusReportMsgIDReused(t *testing.T) {
	t.Parallel()
	sf := newSDDFixture(t)
	_, _, a := sf.newPlan(t, 1_000_00, 5)
	_, _, b := sf.newPlan(t, 1_000_00, 5)
	_, _, c := sf.newPlan(t, 1_000_00, 5)
	first := target2.AddBusinessDays(todayInRome(), 10)
	second := target2.AddBusinessDays(first, 1)
	sa := sf.schedule(t, scheduleInput(a, 1, 1, first))
	sb := sf.schedule(t, scheduleInput(b, 1, 1, second))
	sc := sf.schedule(t, scheduleInput(c, 1, 1, second))
	f1, f2 := sf.submit(t, sf.sdd, first), sf.submit(t, sf.sdd, second)

	reports := map[string][]byte{f1.MsgID: statusReport(t, "STS-REUSED-1", f1.MsgID,
		pain002.TransactionStatus{OriginalEndToEndID: sa.EndToEndID, Status: pain002.ACCP})}
	bank := *sf.sdd
	bank.Bank = reportGateway{Gateway: sf.gw, report: func(msgID string) ([]byte, error) { return reports[msgID], nil }}
	require.Equal(t, workflows.RunOutcome{Accepted: 1}, sf.fetch(t, &bank, first))

	// The report of the second file under the first report's id: refused, nothing changes.
	reports[f2.MsgID] = statusReport(t, "STS-REUSED-1", f2.MsgID,
		pain002.TransactionStatus{OriginalEndToEndID: sb.EndToEndID, Status: pain002.RJCT, Reason: "AM04"},
		pain002.TransactionStatus{OriginalEndToEndID: sc.EndToEndID, Status: pain002.ACCP})
	before := sf.dbState(t)
	err := runAct(t, &bank, nil, bank.FetchStatusReport, runRef(second))
	requireNonRetryable(t, err, workflows.ErrTypeMessageIDReused)
	require.ErrorContains(t, err, "pain.002 STS-REUSED-1: message id archived already")
	require.Equal(t, before, sf.dbState(t), "none of its outcomes applied")
	require.Equal(t, "SUBMITTED", sf.collection(t, b.PlanID, 1, 1).Status)
	require.Equal(t, "SUBMITTED", sf.run(t, second).Status)
	require.Len(t, sf.messages(t, "IN", "pain.002"), 1)

	// A report under its own id, leaving c undecided, sent twice with the same bytes: the
	// resend is taken as the same message, and b's reject is recorded once.
	reports[f2.MsgID] = statusReport(t, "STS-OWN-2", f2.MsgID,
		pain002.TransactionStatus{OriginalEndToEndID: sb.EndToEndID, Status: pain002.RJCT, Reason: "AM04"},
		pain002.TransactionStatus{OriginalEndToEndID: sc.EndToEndID, Status: pain002.PDNG})
	for range 2 {
		_, err = withDeadline(t, &bank, 2*time.Second).ExecuteActivity(bank.FetchStatusReport, runRef(second))
		requireNotFinal(t, err)
		require.ErrorContains(t, err, "leaves 1 collections without an outcome")
		require.Equal(t, "REJECTED", sf.collection(t, b.PlanID, 1, 1).Status)
		require.Len(t, sf.messages(t, "IN", "pain.002"), 2)
	}
}

// A report may leave some collections undecided (PDNG, RCVD): the run must then go on asking
// for the report until every collection has an outcome.
func TestFetchStatusReportPendingTransactions(t *testing.T) {
	t.Parallel()
	sf := newSDDFixture(t)
	_, _, a := sf.newPlan(t, 1_000_00, 5)
	_, _, b := sf.newPlan(t, 1_000_00, 5)
	on := target2.AddBusinessDays(todayInRome(), 10)
	sa := sf.schedule(t, scheduleInput(a, 1, 1, on))
	sb := sf.schedule(t, scheduleInput(b, 1, 1, on))
	res := sf.submit(t, sf.sdd, on)

	var mu sync.Mutex
	current := writeReport(t, pain002.Report{MsgID: "STS-PART-1", Created: time.Now(), OriginalMsgID: res.MsgID,
		OriginalMsgName: "pain.008.001.08", GroupStatus: pain002.PART,
		PaymentInfos: []pain002.PaymentInfoStatus{{OriginalPmtInfID: res.MsgID + "-FRST", Status: pain002.PART,
			Transactions: []pain002.TransactionStatus{
				{OriginalEndToEndID: sa.EndToEndID, Status: pain002.RJCT, Reason: "AM04"},
				{OriginalEndToEndID: sb.EndToEndID, Status: pain002.PDNG},
			}}}})
	pending := *sf.sdd
	pending.Bank = reportGateway{Gateway: sf.gw, report: func(string) ([]byte, error) {
		mu.Lock()
		defer mu.Unlock()
		return current, nil
	}}

	_, err := withDeadline(t, &pending, 2*time.Second).ExecuteActivity(pending.FetchStatusReport, runRef(on))
	requireNotFinal(t, err)
	require.Equal(t, "SUBMITTED", sf.run(t, on).Status)
	require.Equal(t, "SUBMITTED", sf.collection(t, b.PlanID, 1, 1).Status)

	// The bank's final report decides the rest.
	mu.Lock()
	current = writeReport(t, pain002.Report{MsgID: "STS-FINAL-2", Created: time.Now(), OriginalMsgID: res.MsgID,
		OriginalMsgName: "pain.008.001.08", GroupStatus: pain002.PART,
		PaymentInfos: []pain002.PaymentInfoStatus{{OriginalPmtInfID: res.MsgID + "-FRST", Status: pain002.PART,
			Transactions: []pain002.TransactionStatus{{OriginalEndToEndID: sa.EndToEndID, Status: pain002.RJCT, Reason: "AM04"}}}}})
	mu.Unlock()
	require.Equal(t, workflows.RunOutcome{Accepted: 1, Rejected: 1}, sf.fetch(t, &pending, on))
	require.Equal(t, "REPORTED", sf.run(t, on).Status)
	require.Equal(t, "ACCEPTED", sf.collection(t, b.PlanID, 1, 1).Status)
	require.Equal(t, "REJECTED", sf.collection(t, a.PlanID, 1, 1).Status)
}

func TestNotifyPlans(t *testing.T) {
	t.Parallel()
	sf := newSDDFixture(t)
	da, ma, a := sf.newPlan(t, 1_000_00, 5)
	db, _, b := sf.newPlan(t, 1_000_00, 5)
	dc, _, c := sf.newPlan(t, 1_000_00, 5)
	on := target2.AddBusinessDays(todayInRome(), 10)
	sa := sf.schedule(t, scheduleInput(a, 1, 1, on))
	sb := sf.schedule(t, scheduleInput(b, 1, 1, on))
	sf.schedule(t, scheduleInput(c, 1, 1, on))
	sf.control(t, http.MethodPost, "/sim/bank/rules", banksim.Rule{MandateID: ma.Reference, Code: "MD01"}, http.StatusNoContent)
	sf.submit(t, sf.sdd, on)
	sf.clock.Advance(bankDelay)
	require.Equal(t, workflows.RunOutcome{Accepted: 2, Rejected: 1}, sf.fetch(t, sf.sdd, on))

	// C's plan is not running: Temporal answers NotFound, which is logged and skipped.
	sf.temporal.signalErr = func(workflowID string) error {
		if workflowID == workflows.PlanWorkflowID(ecCode, dc.Iupd) {
			return serviceerror.NewNotFound("workflow execution not found")
		}
		return nil
	}
	var told int
	require.NoError(t, runAct(t, sf.sdd, &told, sf.sdd.NotifyPlans, runRef(on)))
	require.Equal(t, 3, told)
	sigs := sf.temporal.signals()
	require.Len(t, sigs, 2)
	require.Equal(t, signalCall{workflowID: "plan/" + ecCode + "/" + da.Iupd, name: workflows.SignalCollectionOutcome,
		arg: workflows.CollectionOutcome{EndToEndID: sa.EndToEndID, Outcome: workflows.OutcomeRejected, Reason: "MD01"}}, sigs[0])
	require.Equal(t, signalCall{workflowID: "plan/" + ecCode + "/" + db.Iupd, name: workflows.SignalCollectionOutcome,
		arg: workflows.CollectionOutcome{EndToEndID: sb.EndToEndID, Outcome: workflows.OutcomeAccepted}}, sigs[1])

	// A retry goes on from the collection its heartbeat reached.
	env := activityEnv(sf.sdd)
	env.SetHeartbeatDetails(sf.collection(t, a.PlanID, 1, 1).ID)
	val, err := env.ExecuteActivity(sf.sdd.NotifyPlans, runRef(on))
	require.NoError(t, err)
	require.NoError(t, val.Get(&told))
	require.Equal(t, 2, told)
	sigs = sf.temporal.signals()[2:]
	require.Len(t, sigs, 1)
	require.Equal(t, sb.EndToEndID, sigs[0].arg.(workflows.CollectionOutcome).EndToEndID)

	// Temporal failing otherwise fails the activity, to be retried.
	sf.temporal.signalErr = func(string) error { return serviceerror.NewUnavailable("frontend unavailable") }
	err = runAct(t, sf.sdd, nil, sf.sdd.NotifyPlans, runRef(on))
	requireRetryable(t, err)
}

func TestPollBankNotifications(t *testing.T) {
	t.Parallel()
	sf := newSDDFixture(t)
	da, _, a := sf.newPlan(t, 1_000_00, 5)
	db, _, b := sf.newPlan(t, 1_000_00, 5)
	on := target2.AddBusinessDays(todayInRome(), 10)
	sa := sf.schedule(t, scheduleInput(a, 1, 1, on))
	sb := sf.schedule(t, scheduleInput(b, 1, 1, on))
	sf.submit(t, sf.sdd, on)
	sf.clock.Advance(bankDelay)
	require.Equal(t, workflows.RunOutcome{Accepted: 2}, sf.fetch(t, sf.sdd, on))

	// Nothing published yet.
	n, err := sf.poll(t, sf.sdd)
	require.NoError(t, err)
	require.Zero(t, n)
	_, ok := sf.cursor(t)
	require.False(t, ok)

	// A return (unpaid, AM04).
	id1 := sf.bankReturn(t, sa.EndToEndID, "AM04", false)
	n, err = sf.poll(t, sf.sdd)
	require.NoError(t, err)
	require.Equal(t, 1, n)
	ca := sf.collection(t, a.PlanID, 1, 1)
	require.Equal(t, "RETURNED", ca.Status)
	require.Equal(t, "AM04", ca.ReasonCode)
	require.Equal(t, "ACCEPTED", sf.collection(t, b.PlanID, 1, 1).Status)
	require.Equal(t, []signalCall{{workflowID: "plan/" + ecCode + "/" + da.Iupd, name: workflows.SignalCollectionOutcome,
		arg: workflows.CollectionOutcome{EndToEndID: sa.EndToEndID, Outcome: workflows.OutcomeReturned, Reason: "AM04"}}}, sf.temporal.signals())
	camts := sf.messages(t, "IN", "camt.054")
	require.Len(t, camts, 1)
	notification, err := camt054.Parse(gunzip(t, camts[0].ContentGz))
	require.NoError(t, err)
	require.Equal(t, camts[0].MsgID, notification.MsgID)
	require.Equal(t, sa.EndToEndID, notification.Returns[0].EndToEndID)
	require.False(t, camts[0].RunID.Valid)
	pos, ok := sf.cursor(t)
	require.True(t, ok)
	require.Equal(t, id1, pos)
	require.Equal(t, workflows.RunOutcome{Accepted: 2}, sf.fetch(t, sf.sdd, on), "a return still counts as accepted by the run")

	// Polling again: nothing new, nothing told.
	before := sf.dbState(t)
	n, err = sf.poll(t, sf.sdd)
	require.NoError(t, err)
	require.Zero(t, n)
	require.Len(t, sf.temporal.signals(), 1)
	require.Equal(t, before, sf.dbState(t))

	// A refund (MD06).
	id2 := sf.bankReturn(t, sb.EndToEndID, "MD06", true)
	n, err = sf.poll(t, sf.sdd)
	require.NoError(t, err)
	require.Equal(t, 1, n)
	cb := sf.collection(t, b.PlanID, 1, 1)
	require.Equal(t, "REFUNDED", cb.Status)
	require.Equal(t, "MD06", cb.ReasonCode)
	sigs := sf.temporal.signals()
	require.Len(t, sigs, 2)
	require.Equal(t, signalCall{workflowID: "plan/" + ecCode + "/" + db.Iupd, name: workflows.SignalCollectionOutcome,
		arg: workflows.CollectionOutcome{EndToEndID: sb.EndToEndID, Outcome: workflows.OutcomeReturned, Reason: "MD06"}}, sigs[1])
	require.Len(t, sf.messages(t, "IN", "camt.054"), 2)
	pos, _ = sf.cursor(t)
	require.Equal(t, id2, pos)

	// Read again when the cursor did not move (an attempt stopped after recording the returns,
	// before moving the cursor): the returns are recorded once more, which changes nothing,
	// and their plans are told again, which they ignore.
	require.NoError(t, sf.q.SetCursor(context.Background(), dbgen.SetCursorParams{Name: "bank-notifications", Position: ""}))
	n, err = sf.poll(t, sf.sdd)
	require.NoError(t, err)
	require.Equal(t, 2, n)
	sigs = sf.temporal.signals()
	require.Len(t, sigs, 4)
	require.Equal(t, sigs[0:2], sigs[2:4], "told again, the same")
	require.Len(t, sf.messages(t, "IN", "camt.054"), 2, "each notification is stored once")
	require.Equal(t, "RETURNED", sf.collection(t, a.PlanID, 1, 1).Status)
	require.Equal(t, "REFUNDED", sf.collection(t, b.PlanID, 1, 1).Status)
	pos, _ = sf.cursor(t)
	require.Equal(t, id2, pos)
}

// A notification that cannot be read stops the poll with the reason; the cursor stays before
// it, so that it is read again.
func TestPollBankNotificationsRefusesMalformed(t *testing.T) {
	t.Parallel()
	sf := newSDDFixture(t)
	ctx := context.Background()
	_, _, a := sf.newPlan(t, 1_000_00, 5)
	on := target2.AddBusinessDays(todayInRome(), 10)
	sa := sf.schedule(t, scheduleInput(a, 1, 1, on))
	sf.submit(t, sf.sdd, on)
	sf.clock.Advance(bankDelay)
	sf.fetch(t, sf.sdd, on)
	id := sf.bankReturn(t, sa.EndToEndID, "AM04", false)
	docs, err := sf.gw.Notifications(ctx, "", 10)
	require.NoError(t, err)
	require.Len(t, docs, 1)
	good := docs[0]
	garbage := bankgw.Document{ID: id + "-2", XML: []byte("<Document>not a camt.054")}

	// The first notification unreadable: nothing recorded, nothing told, the cursor unset.
	before := sf.dbState(t)
	bad := *sf.sdd
	bad.Bank = notificationsGateway{Gateway: sf.gw, docs: []bankgw.Document{{ID: "000000000000", XML: garbage.XML}, good}}
	_, err = sf.poll(t, &bad)
	requireNotFinal(t, err)
	require.ErrorContains(t, err, "bank notification 000000000000 refused")
	require.Equal(t, before, sf.dbState(t))
	require.Empty(t, sf.temporal.signals())
	_, ok := sf.cursor(t)
	require.False(t, ok)

	// A readable one, then an unreadable one: the first is recorded and the cursor stops there.
	bad.Bank = notificationsGateway{Gateway: sf.gw, docs: []bankgw.Document{good, garbage}}
	_, err = sf.poll(t, &bad)
	requireNotFinal(t, err)
	require.ErrorContains(t, err, "bank notification "+garbage.ID+" refused")
	pos, _ := sf.cursor(t)
	require.Equal(t, id, pos)
	require.Equal(t, "RETURNED", sf.collection(t, a.PlanID, 1, 1).Status)
	require.Len(t, sf.temporal.signals(), 1)
	again := sf.dbState(t)
	_, err = sf.poll(t, &bad)
	require.ErrorContains(t, err, "bank notification "+garbage.ID+" refused")
	require.Equal(t, again, sf.dbState(t))
	require.Len(t, sf.temporal.signals(), 1, "the notification before it is not read again")

	// A notification about a collection incasso did not make is recorded and skipped.
	var buf bytes.Buffer
	require.NoError(t, camt054.Write(&buf, camt054.Notification{MsgID: "NTF-FOREIGN-1", Created: time.Now(), Returns: []camt054.Return{{
		EndToEndID: "OTHER-CREDITOR-1", Amount: 100_00, Reason: "AM04", BookingDate: todayInRome()}}}))
	bad.Bank = notificationsGateway{Gateway: sf.gw, docs: []bankgw.Document{good, {ID: id + "-3", XML: buf.Bytes()}}}
	n, err := sf.poll(t, &bad)
	require.NoError(t, err)
	require.Zero(t, n)
	pos, _ = sf.cursor(t)
	require.Equal(t, id+"-3", pos)
	require.Len(t, sf.messages(t, "IN", "camt.054"), 2)
	require.Len(t, sf.temporal.signals(), 1)
}

// A notification whose message id is archived already with other content stops the poll for
// good before it, and none of its returns is applied; the same bytes again (under another
// document of the bank) are a harmless resend.
func TestPollBankNotificationsMsgIDReused(t *testing.T) {
	t.Parallel()
	sf := newSDDFixture(t)
	_, _, a := sf.newPlan(t, 1_000_00, 5)
	_, _, b := sf.newPlan(t, 1_000_00, 5)
	on := target2.AddBusinessDays(todayInRome(), 10)
	sa := sf.schedule(t, scheduleInput(a, 1, 1, on))
	sb := sf.schedule(t, scheduleInput(b, 1, 1, on))
	sf.submit(t, sf.sdd, on)
	sf.clock.Advance(bankDelay)
	require.Equal(t, workflows.RunOutcome{Accepted: 2}, sf.fetch(t, sf.sdd, on))
	notification := func(e2e string) []byte {
		var buf bytes.Buffer
		require.NoError(t, camt054.Write(&buf, camt054.Notification{MsgID: "NTF-REUSED-1", Created: time.Now(), Returns: []camt054.Return{{
			EndToEndID: e2e, Amount: 200_00, Reason: "AM04", BookingDate: todayInRome()}}}))
		return buf.Bytes()
	}
	good := bankgw.Document{ID: "000000000001", XML: notification(sa.EndToEndID)}
	resent := bankgw.Document{ID: "000000000002", XML: good.XML}
	reused := bankgw.Document{ID: "000000000003", XML: notification(sb.EndToEndID)}

	bank := *sf.sdd
	bank.Bank = notificationsGateway{Gateway: sf.gw, docs: []bankgw.Document{good, resent}}
	n, err := sf.poll(t, &bank)
	require.NoError(t, err)
	require.Equal(t, 2, n, "the resend is recorded again, which changes nothing, and told again")
	require.Equal(t, "RETURNED", sf.collection(t, a.PlanID, 1, 1).Status)
	require.Len(t, sf.messages(t, "IN", "camt.054"), 1)
	pos, _ := sf.cursor(t)
	require.Equal(t, resent.ID, pos)

	bank.Bank = notificationsGateway{Gateway: sf.gw, docs: []bankgw.Document{good, resent, reused}}
	before, told := sf.dbState(t), len(sf.temporal.signals())
	_, err = sf.poll(t, &bank)
	requireNonRetryable(t, err, workflows.ErrTypeMessageIDReused)
	require.ErrorContains(t, err, "camt.054 NTF-REUSED-1: message id archived already")
	require.Equal(t, before, sf.dbState(t), "none of its returns applied, the cursor before it")
	require.Equal(t, "ACCEPTED", sf.collection(t, b.PlanID, 1, 1).Status)
	require.Len(t, sf.temporal.signals(), told, "no plan told")
}

// A return the bank publishes before incasso has recorded the file's pain.002 (the collection
// still SUBMITTED) must not be lost.
func TestPollBankNotificationsReturnBeforeReport(t *testing.T) {
	t.Parallel()
	sf := newSDDFixture(t)
	_, _, a := sf.newPlan(t, 1_000_00, 5)
	on := target2.AddBusinessDays(todayInRome(), 10)
	sa := sf.schedule(t, scheduleInput(a, 1, 1, on))
	sf.submit(t, sf.sdd, on)
	sf.clock.Advance(bankDelay) // the report is ready at the bank, not yet fetched
	id := sf.bankReturn(t, sa.EndToEndID, "AM04", false)

	_, err := sf.poll(t, sf.sdd)
	pos, moved := sf.cursor(t)
	requireNotFinal(t, err)
	require.False(t, moved && pos == id, "the cursor stays before the return")

	require.Equal(t, workflows.RunOutcome{Accepted: 1}, sf.fetch(t, sf.sdd, on))
	n, err := sf.poll(t, sf.sdd)
	require.NoError(t, err)
	require.Equal(t, 1, n)
	require.Equal(t, "RETURNED", sf.collection(t, a.PlanID, 1, 1).Status)
	sigs := sf.temporal.signals()
	require.NotEmpty(t, sigs)
	require.Equal(t, workflows.CollectionOutcome{EndToEndID: sa.EndToEndID, Outcome: workflows.OutcomeReturned, Reason: "AM04"}, sigs[len(sigs)-1].arg)
}
