package activities_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"incasso/services/debts"
	"incasso/workflows"

	"github.com/jackc/pgx/v5/pgtype"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/stretchr/testify/require"
	"go.temporal.io/sdk/converter"
	tlog "go.temporal.io/sdk/log"
	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/testsuite"

	"incasso/activities"
	"incasso/app/config"
	"incasso/clients/gpd"
	"incasso/clients/mail"
	"incasso/db/dbgen"
	"incasso/devstack/mailsink"
	"incasso/devstack/pagopasim"
	"incasso/devstack/testdb"
	"incasso/domain/date"
	"incasso/domain/pagopa"
)

const (
	gpdKey   = "test-gpd-key"
	ecCode   = "00000000000"
	mailFrom = "tributi@comune.example.it"
	pecFrom  = "protocollo@pec.comune.example.it"
	// Recipients at this domain are refused by the sink with a permanent 550.
	rejectedDomain = "@rejected.example"
)

var creditor = config.Creditor{
	Name: "Comune di Esempio", FiscalCode: ecCode, IBAN: "IT60X0542811101000000123456",
	Segregation: 1, BrokerID: ecCode, StationID: ecCode + "_01",
}

// fixture is Debts on a fresh database, with the simulator as GPD and mailsink as relay.
type fixture struct {
	pool     *pgxpool.Pool
	dbURL    string // of the fresh database behind pool
	smtpAddr string // where sink listens
	q        *dbgen.Queries
	sink     *mailsink.Sink
	pecSink  *mailsink.Sink // the PEC provider's relay, a sink of its own
	gpd      *gpd.Client
	gpdURL   string
	sim      *pagopasim.PagoPA // the simulator behind gpdURL, for payments
	simURL   string
	debts    *activities.Debts
	emails   atomic.Int64
}

// settle marks the debt paid through the one writer of its status, as a receipt would.
func settle(t *testing.T, q *dbgen.Queries, id int64, at time.Time) {
	t.Helper()
	settled, err := debts.Settle(context.Background(), q, id, at)
	require.NoError(t, err)
	require.True(t, settled, "debt %d was not settled", id)
}

func newFixture(t *testing.T) *fixture {
	t.Helper()
	pool, dbURL := testdb.New(t)

	p := pagopasim.NewPagoPA(gpdKey, "http://127.0.0.1:1/unused", "node-key", ecCode, ecCode+"_01")
	srv := httptest.NewServer(p.Handler())
	t.Cleanup(srv.Close)
	gpdURL := srv.URL + pagopasim.GPDBasePath
	client := gpd.New(gpdURL, gpdKey, 5*time.Second)

	sink := mailsink.New()
	sink.RejectRecipient = func(addr string) bool { return strings.HasSuffix(addr, rejectedDomain) }
	addr, err := sink.ListenSMTP(t.Context(), "127.0.0.1:0")
	require.NoError(t, err)
	pecSink := mailsink.New()
	pecSink.RejectRecipient = sink.RejectRecipient
	pecAddr, err := pecSink.ListenSMTP(t.Context(), "127.0.0.1:0")
	require.NoError(t, err)

	services, err := config.ParseServices(config.DefaultServices)
	require.NoError(t, err)
	return &fixture{
		pool: pool, dbURL: dbURL, smtpAddr: addr.String(), q: dbgen.New(pool), sink: sink, pecSink: pecSink, gpd: client, gpdURL: gpdURL, sim: p, simURL: srv.URL,
		debts: &activities.Debts{
			Pool: pool, GPD: client, Mail: mail.NewSender(mail.SMTPConfig{Addr: addr.String(), Timeout: 10 * time.Second}),
			Creditor: creditor, Services: services, MailFrom: mailFrom, RetentionYears: 5,
			PEC: mail.NewSender(mail.SMTPConfig{Addr: pecAddr.String(), Timeout: 10 * time.Second}), PECFrom: pecFrom,
		},
	}
}

// insertDebt stores a debt with a fresh NAV and a recipient of its own, after mutate.
func (f *fixture) insertDebt(t *testing.T, mutate func(*dbgen.CreateDebtParams)) dbgen.DebtPosition {
	t.Helper()
	ctx := context.Background()
	base, err := f.q.NextIUVBase(ctx, dbgen.NextIUVBaseParams{EcFiscalCode: ecCode, Segregation: int32(creditor.Segregation)})
	require.NoError(t, err)
	nav, err := pagopa.NewNAV(creditor.Segregation, base)
	require.NoError(t, err)
	p := dbgen.CreateDebtParams{
		EcFiscalCode: ecCode, Iupd: "TARI-2026-" + nav.String(), ServiceCode: "TARI",
		DebtorType: "F", DebtorFiscalCode: "RSSMRA85T10A562S", DebtorName: "Mario Rossi",
		DebtorEmail: fmt.Sprintf("debtor%d@example.it", f.emails.Add(1)), AmountCents: 12345,
		DueDate: time.Date(2026, time.December, 31, 0, 0, 0, 0, time.UTC), Description: "TARI 2026 rata unica",
		Nav: nav.String(),
	}
	if mutate != nil {
		mutate(&p)
	}
	d, err := f.q.CreateDebt(ctx, p)
	require.NoError(t, err)
	return d
}

// run executes an activity method of f.debts as a worker would, so that errors go through
// Temporal's failure conversion exactly as a workflow sees them.
func (f *fixture) run(t *testing.T, activity any, args ...any) (converter.EncodedValue, error) {
	t.Helper()
	return activityEnv(f.debts).ExecuteActivity(activity, args...)
}

// activityEnv runs the activities of a (*activities.Debts or *activities.Recovery) outside a
// worker, logging nothing: the failures tests provoke on purpose would otherwise be logged as
// errors.
func activityEnv(a any) *testsuite.TestActivityEnvironment {
	var suite testsuite.WorkflowTestSuite
	suite.SetLogger(tlog.NewStructuredLogger(slog.New(slog.NewTextHandler(io.Discard, nil))))
	env := suite.NewTestActivityEnvironment()
	env.RegisterActivity(a)
	return env
}

// requireNonRetryable checks that err is, to Temporal, a non-retryable application error of typ.
func requireNonRetryable(t *testing.T, err error, typ string) {
	t.Helper()
	require.Error(t, err)
	var appErr *temporal.ApplicationError
	require.ErrorAs(t, err, &appErr, "%v", err)
	require.Equal(t, typ, appErr.Type(), "%v", err)
	require.True(t, appErr.NonRetryable(), "%v", err)
}

// requireRetryable checks that Temporal would retry err.
func requireRetryable(t *testing.T, err error) {
	t.Helper()
	require.Error(t, err)
	var appErr *temporal.ApplicationError
	require.ErrorAs(t, err, &appErr, "%v", err)
	require.False(t, appErr.NonRetryable(), "%v", err)
	require.NotEqual(t, workflows.ErrTypeInvalidInput, appErr.Type())
}

func TestRegisterPosition(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	ctx := context.Background()
	d := f.insertDebt(t, nil)

	_, err := f.run(t, f.debts.RegisterPosition, d.ID)
	require.NoError(t, err)
	// A retry after a lost answer hits 409, reads the position back and accepts it.
	_, err = f.run(t, f.debts.RegisterPosition, d.ID)
	require.NoError(t, err)
	require.NoError(t, f.debts.RegisterPosition(ctx, d.ID))

	pos, err := f.gpd.Get(ctx, ecCode, d.Iupd)
	require.NoError(t, err)
	require.Equal(t, "VALID", pos.Status)
	require.Equal(t, d.Iupd, pos.IUPD)
	require.Equal(t, "F", pos.Type)
	require.Equal(t, d.DebtorFiscalCode, pos.FiscalCode)
	require.Equal(t, d.DebtorName, pos.FullName)
	require.Equal(t, d.DebtorEmail, pos.Email)
	require.Equal(t, creditor.Name, pos.CompanyName)
	require.Len(t, pos.PaymentOptions, 1)
	opt := pos.PaymentOptions[0]
	require.Equal(t, d.Nav, opt.NAV)
	require.Equal(t, d.Nav[1:], opt.IUV)
	require.Equal(t, d.AmountCents, opt.Amount)
	require.Equal(t, d.Description, opt.Description)
	// The position is payable until the end of its due date in Rome.
	wantDue := time.Date(2026, time.December, 31, 23, 59, 59, 0, date.Rome)
	require.True(t, wantDue.Equal(opt.DueDate), "due %s, want %s", opt.DueDate, wantDue)
	require.Equal(t, []gpd.Transfer{{
		IDTransfer: "1", Amount: d.AmountCents, RemittanceInformation: d.Description,
		Category: "9/0101108TS/", IBAN: creditor.IBAN,
	}}, opt.Transfers)
}

func TestRegisterPositionDueDateAcrossDST(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	// 30 June is in summer time (UTC+2): the end of the day is 21:59:59 UTC.
	d := f.insertDebt(t, func(p *dbgen.CreateDebtParams) { p.DueDate = time.Date(2026, time.June, 30, 0, 0, 0, 0, time.UTC) })
	require.NoError(t, f.debts.RegisterPosition(context.Background(), d.ID))
	pos, err := f.gpd.Get(context.Background(), ecCode, d.Iupd)
	require.NoError(t, err)
	require.Equal(t, time.Date(2026, time.June, 30, 21, 59, 59, 0, time.UTC), pos.PaymentOptions[0].DueDate.UTC())
}

func TestRegisterPositionFailures(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	ctx := context.Background()

	t.Run("unknown service", func(t *testing.T) {
		d := f.insertDebt(t, func(p *dbgen.CreateDebtParams) { p.ServiceCode = "NOPE" })
		_, err := f.run(t, f.debts.RegisterPosition, d.ID)
		requireNonRetryable(t, err, workflows.ErrTypeInvalidInput)
		_, err = f.gpd.Get(ctx, ecCode, d.Iupd)
		require.ErrorIs(t, err, gpd.ErrNotFound, "nothing reached GPD")
	})

	t.Run("GPD holds the IUPD with another notice", func(t *testing.T) {
		d := f.insertDebt(t, nil)
		other, err := pagopa.NewNAV(creditor.Segregation, pagopa.MaxIUVBase)
		require.NoError(t, err)
		require.NoError(t, f.gpd.CreateAndPublish(ctx, ecCode, gpd.Position{
			IUPD: d.Iupd, Type: "F", FiscalCode: d.DebtorFiscalCode, FullName: d.DebtorName, CompanyName: creditor.Name,
			PaymentOptions: []gpd.PaymentOption{{IUV: other.IUV(), Amount: 100, Description: "altro", DueDate: time.Now(),
				Transfers: []gpd.Transfer{{IDTransfer: "1", Amount: 100, RemittanceInformation: "altro", Category: "9/0101108TS/"}}}},
		}))
		_, err = f.run(t, f.debts.RegisterPosition, d.ID)
		requireNonRetryable(t, err, workflows.ErrTypeGPDRejected)
	})

	t.Run("GPD refuses the key", func(t *testing.T) {
		d := f.insertDebt(t, nil)
		a := *f.debts
		a.GPD = gpd.New(f.gpdURL, "wrong-key", 5*time.Second)
		_, err := activityEnv(&a).ExecuteActivity(a.RegisterPosition, d.ID)
		requireNonRetryable(t, err, workflows.ErrTypeGPDRejected)
	})

	for _, status := range []int{http.StatusInternalServerError, http.StatusTooManyRequests, http.StatusServiceUnavailable} {
		t.Run(fmt.Sprintf("GPD answers %d", status), func(t *testing.T) {
			d := f.insertDebt(t, nil)
			down := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				w.WriteHeader(status)
			}))
			t.Cleanup(down.Close)
			a := *f.debts
			a.GPD = gpd.New(down.URL, gpdKey, 5*time.Second)
			_, err := activityEnv(&a).ExecuteActivity(a.RegisterPosition, d.ID)
			requireRetryable(t, err)
		})
	}
}

func TestRenderNotice(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	ctx := context.Background()
	d := f.insertDebt(t, nil)

	val, err := f.run(t, f.debts.RenderNotice, d.ID)
	require.NoError(t, err)
	var first int64
	require.NoError(t, val.Get(&first))
	require.NotZero(t, first)
	second, err := f.debts.RenderNotice(ctx, d.ID)
	require.NoError(t, err)
	require.Equal(t, first, second, "a retry returns the same document")

	doc, err := f.q.GetDocument(ctx, first)
	require.NoError(t, err)
	require.Equal(t, d.ID, doc.DebtID)
	require.Equal(t, "notice", doc.Kind)
	require.Equal(t, "application/pdf", doc.ContentType)
	require.Equal(t, "avviso-"+d.Nav+".pdf", doc.Filename)
	require.True(t, bytes.HasPrefix(doc.Content, []byte("%PDF")), "content starts with %q", doc.Content[:min(8, len(doc.Content))])
	sum := sha256.Sum256(doc.Content)
	require.Equal(t, sum[:], doc.Sha256)

	byDebt, err := f.q.GetLatestDocument(ctx, dbgen.GetLatestDocumentParams{DebtID: d.ID, Kind: "notice"})
	require.NoError(t, err)
	require.Equal(t, first, byDebt.ID)

	// Another debt gets its own document.
	other, err := f.debts.RenderNotice(ctx, f.insertDebt(t, nil).ID)
	require.NoError(t, err)
	require.NotEqual(t, first, other)
}

// messagesTo returns the messages the sink received for addr.
func (f *fixture) messagesTo(addr string) []mailsink.Message { return receivedBy(f.sink, addr) }

// pecMessagesTo returns the messages the PEC relay received for addr.
func (f *fixture) pecMessagesTo(addr string) []mailsink.Message { return receivedBy(f.pecSink, addr) }

func receivedBy(sink *mailsink.Sink, addr string) []mailsink.Message {
	var out []mailsink.Message
	for _, m := range sink.Messages() {
		for _, to := range m.To {
			if to == addr {
				out = append(out, m)
			}
		}
	}
	return out
}

func (f *fixture) communication(t *testing.T, debtID int64) dbgen.Communication {
	t.Helper()
	c, err := f.q.GetCommunicationByDedupeKey(context.Background(), fmt.Sprintf("debt/%d/notice", debtID))
	require.NoError(t, err)
	return c
}

func TestSendNotice(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	ctx := context.Background()
	d := f.insertDebt(t, nil)
	docID, err := f.debts.RenderNotice(ctx, d.ID)
	require.NoError(t, err)

	before := time.Now()
	_, err = f.run(t, f.debts.SendNotice, d.ID, docID)
	require.NoError(t, err)
	require.NoError(t, f.debts.SendNotice(ctx, d.ID, docID)) // a retry sends nothing more

	waitCtx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	msg, err := f.sink.WaitFor(waitCtx, func(m mailsink.Message) bool { return len(m.To) == 1 && m.To[0] == d.DebtorEmail })
	require.NoError(t, err)
	require.Len(t, f.messagesTo(d.DebtorEmail), 1, "exactly one message")
	require.Equal(t, mailFrom, msg.From)
	require.Contains(t, msg.Subject, d.Description)

	c := f.communication(t, d.ID)
	require.Equal(t, "SENT", c.Status)
	require.True(t, c.SentAt.Valid)
	require.WithinDuration(t, time.Now(), c.SentAt.Time, time.Since(before)+time.Second)
	require.Equal(t, d.ID, c.DebtID)
	require.Equal(t, "email", c.Channel)
	require.Equal(t, d.DebtorEmail, c.Recipient)
	require.Equal(t, msg.Subject, c.Subject)
	sum := sha256.Sum256(c.Raw)
	require.Equal(t, sum[:], c.Sha256, "the stored hash is the hash of the stored bytes")
	require.Equal(t, c.Raw, msg.Raw, "the relay received exactly the archived bytes")
	require.Contains(t, string(c.Raw), "Message-ID: <"+c.MessageID+">")
	require.Contains(t, string(c.Raw), "avviso-"+d.Nav+".pdf", "the notice is attached")

	// Kept for five calendar years from today (Rome).
	fiveYears := date.InRome(time.Now()).Time().AddDate(5, 0, 0)
	require.Equal(t, fiveYears.Format(time.DateOnly), c.RetentionUntil.Format(time.DateOnly))

	list, err := f.q.ListCommunicationsByDebt(ctx, d.ID)
	require.NoError(t, err)
	require.Len(t, list, 1)
}

func TestSendNoticeRecipientRejected(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	ctx := context.Background()
	d := f.insertDebt(t, func(p *dbgen.CreateDebtParams) { p.DebtorEmail = "nobody" + rejectedDomain })
	docID, err := f.debts.RenderNotice(ctx, d.ID)
	require.NoError(t, err)

	for range 2 {
		_, err = f.run(t, f.debts.SendNotice, d.ID, docID)
		requireNonRetryable(t, err, workflows.ErrTypeMailRejected)
		require.NotContains(t, err.Error(), d.DebtorEmail, "errors carry no personal data")
	}
	require.Empty(t, f.messagesTo(d.DebtorEmail))
	c := f.communication(t, d.ID)
	require.Equal(t, "FAILED", c.Status)
	require.Equal(t, "smtp rcpt 550", c.Failure, "the step and the code, no personal data")
	require.False(t, c.SentAt.Valid)
}

func TestSendNoticeRelayDownThenUp(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	ctx := context.Background()
	d := f.insertDebt(t, nil)
	docID, err := f.debts.RenderNotice(ctx, d.ID)
	require.NoError(t, err)

	// Nothing listens on the relay's address: the failure is temporary.
	dead := httptest.NewServer(http.NotFoundHandler())
	deadAddr := dead.Listener.Addr().String()
	dead.Close()
	a := *f.debts
	a.Mail = mail.NewSender(mail.SMTPConfig{Addr: deadAddr, Timeout: 2 * time.Second})
	_, err = activityEnv(&a).ExecuteActivity(a.SendNotice, d.ID, docID)
	requireRetryable(t, err)
	pending := f.communication(t, d.ID)
	require.Equal(t, "PENDING", pending.Status)

	// The retry sends the message composed the first time, byte for byte.
	require.NoError(t, f.debts.SendNotice(ctx, d.ID, docID))
	msgs := f.messagesTo(d.DebtorEmail)
	require.Len(t, msgs, 1)
	require.Equal(t, pending.Raw, msgs[0].Raw)
	sent := f.communication(t, d.ID)
	require.Equal(t, "SENT", sent.Status)
	require.Equal(t, pending.Sha256, sent.Sha256)
	require.Equal(t, pending.ID, sent.ID)
}

func TestSetStatus(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	ctx := context.Background()
	status := func(id int64) workflows.DebtStatus {
		t.Helper()
		d, err := f.q.GetDebt(ctx, id)
		require.NoError(t, err)
		return d.Status
	}
	d := f.insertDebt(t, nil)
	require.Equal(t, workflows.StatusCreated, status(d.ID))

	_, err := f.run(t, f.debts.SetStatus, d.ID, workflows.StatusIssued)
	require.NoError(t, err)
	require.Equal(t, workflows.StatusIssued, status(d.ID))
	require.NoError(t, f.debts.SetStatus(ctx, d.ID, workflows.StatusIssued), "setting the same status again is fine")
	require.NoError(t, f.debts.SetStatus(ctx, d.ID, workflows.StatusOverdue))
	require.Equal(t, workflows.StatusOverdue, status(d.ID))

	// PAID is written by the receipt (or the plan's end), never by the workflow: told of a
	// payment that no receipt records, SetStatus keeps failing (retryably) and changes nothing.
	_, err = f.run(t, f.debts.SetStatus, d.ID, workflows.StatusPaid)
	require.ErrorContains(t, err, "no receipt or completed plan settles it")
	var appErr *temporal.ApplicationError
	require.True(t, errors.As(err, &appErr) && !appErr.NonRetryable(), "retried until a receipt is recorded: %v", err)
	require.Equal(t, workflows.StatusOverdue, status(d.ID))

	settle(t, f.q, d.ID, time.Now())
	require.Equal(t, workflows.StatusPaid, status(d.ID))
	for _, late := range []workflows.DebtStatus{workflows.StatusOverdue, workflows.StatusIssued, workflows.StatusCancelled, workflows.StatusPaid} {
		_, err = f.run(t, f.debts.SetStatus, d.ID, late)
		require.NoError(t, err, "a late %s is accepted and ignored", late)
		require.Equal(t, workflows.StatusPaid, status(d.ID), "PAID is final: %s leaves it", late)
	}

	cancelled := f.insertDebt(t, nil)
	_, err = f.run(t, f.debts.SetStatus, cancelled.ID, workflows.StatusCancelled)
	requireNonRetryable(t, err, workflows.ErrTypeInvalidInput)
	require.Equal(t, workflows.StatusCreated, status(cancelled.ID), "only CancelPosition cancels, with a reason")
	_, err = f.q.CancelDebt(ctx, dbgen.CancelDebtParams{ID: cancelled.ID, CancelReason: pgtype.Text{String: "duplicate", Valid: true}})
	require.NoError(t, err)
	require.NoError(t, f.debts.SetStatus(ctx, cancelled.ID, workflows.StatusCancelled), "confirming a cancellation is fine")
	require.NoError(t, f.debts.SetStatus(ctx, cancelled.ID, workflows.StatusOverdue))
	require.Equal(t, workflows.StatusCancelled, status(cancelled.ID), "CANCELLED is final")
}

func TestUnknownDebt(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	const missing = int64(987654321)
	docID, err := f.debts.RenderNotice(context.Background(), f.insertDebt(t, nil).ID)
	require.NoError(t, err)

	tests := []struct {
		name     string
		activity any
		args     []any
	}{
		{"RegisterPosition", f.debts.RegisterPosition, []any{missing}},
		{"RenderNotice", f.debts.RenderNotice, []any{missing}},
		{"SendNotice", f.debts.SendNotice, []any{missing, docID}},
		{"SendNotice unknown document", f.debts.SendNotice, []any{f.insertDebt(t, nil).ID, int64(987654321)}},
		{"SetStatus", f.debts.SetStatus, []any{missing, workflows.StatusIssued}},
		{"SetStatus unknown status", f.debts.SetStatus, []any{f.insertDebt(t, nil).ID, workflows.DebtStatus("LOST")}},
		{"SetStatus CREATED", f.debts.SetStatus, []any{f.insertDebt(t, nil).ID, workflows.StatusCreated}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := f.run(t, tt.activity, tt.args...)
			requireNonRetryable(t, err, workflows.ErrTypeInvalidInput)
		})
	}
}
