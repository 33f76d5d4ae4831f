package activities_test

import (
	"context"
	"crypto/sha256"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgtype"
	"github.com/stretchr/testify/require"
	"go.temporal.io/sdk/temporal"

	"incasso/clients/appio"
	"incasso/db"
	"incasso/db/dbgen"
	"incasso/devstack/iosim"
	"incasso/domain/reminders"
	"incasso/workflows"
)

const (
	tariIOKey = "io-key-of-tari-for-the-tests-0001"
	withIO    = "RSSMRA85T10A562S" // the fixture's debtor: given a profile by ioFixture
	optedOut  = "VRDGPP70C15F205N" // has a profile, turned TARI off
)

// ioFixture is the debt fixture with App IO enabled for TARI, behind the IO simulator, where
// withIO has a profile that takes TARI's messages and optedOut one that does not. fail, when
// above zero, makes the simulator answer that many submissions with a 500 first.
type ioFixture struct {
	*fixture
	io       *iosim.IO
	fail     atomic.Int32
	down     atomic.Bool  // IO answers every profile check with a 503
	profiles atomic.Int32 // profile checks IO answered
}

func newIOFixture(t *testing.T) *ioFixture {
	t.Helper()
	f := &ioFixture{fixture: newFixture(t), io: iosim.New(map[string]string{tariIOKey: "TARI"})}
	f.io.AddProfile(withIO)
	f.io.AddProfile(optedOut, tariIOKey)
	sim := f.io.Handler()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == iosim.BasePath+"/profiles" && f.down.Load() {
			http.Error(w, `{"title":"Service Unavailable"}`, http.StatusServiceUnavailable)
			return
		}
		if r.URL.Path == iosim.BasePath+"/profiles" {
			f.profiles.Add(1)
		}
		if r.URL.Path == iosim.BasePath+"/messages" && f.fail.Add(-1) >= 0 {
			http.Error(w, `{"title":"Internal Server Error"}`, http.StatusInternalServerError)
			return
		}
		sim.ServeHTTP(w, r)
	}))
	t.Cleanup(srv.Close)
	f.debts.IO = appio.New(srv.URL+iosim.BasePath, map[string]string{"TARI": tariIOKey}, 5*time.Second)
	return f
}

// ioRow is the archived App IO message of the debt under key, checked as the archive keeps it:
// the exact bytes IO received, their hash, IO's id and answer.
func (f *ioFixture) ioRow(t *testing.T, key string) (dbgen.Communication, iosim.Received) {
	t.Helper()
	c, err := f.q.GetCommunicationByDedupeKey(context.Background(), key)
	require.NoError(t, err)
	require.Equal(t, "io", c.Channel)
	require.Equal(t, "SENT", c.Status)
	var got *iosim.Received
	for _, m := range f.io.Messages() {
		if m.ID == c.IoMessageID.String {
			got = &m
		}
	}
	require.NotNil(t, got, "IO has the message of id %q", c.IoMessageID.String)
	require.Equal(t, []byte(got.Body), c.Raw, "archived: the exact bytes IO received")
	sum := sha256.Sum256(c.Raw)
	require.Equal(t, sum[:], c.Sha256)
	require.JSONEq(t, `{"id":"`+got.ID+`"}`, string(c.Answer), "archived: IO's exact answer")
	answerSum := sha256.Sum256(c.Answer)
	require.Equal(t, answerSum[:], c.AnswerSha256)
	require.Equal(t, "TARI", c.Sender, "sent as TARI's IO service")
	return c, *got
}

// A notice of a service enabled for IO goes to the debtor's IO profile, with the payment data
// that lets them pay it in the app, once; no email goes.
func TestNoticeByAppIO(t *testing.T) {
	t.Parallel()
	f := newIOFixture(t)
	d := f.noticed(t, nil)
	doc := f.notice(t, d.ID)
	for range 2 { // a retry sends nothing again
		_, err := f.run(t, f.debts.SendNotice, d.ID, doc.ID)
		require.NoError(t, err)
	}

	_, m := f.ioRow(t, fmt.Sprintf("debt/%d/notice", d.ID))
	require.Len(t, f.io.Messages(), 1, "sent once")
	require.Empty(t, f.sink.Messages(), "no email")
	require.Equal(t, withIO, m.FiscalCode)
	require.NotNil(t, m.Content.PaymentData)
	require.Equal(t, d.Nav, m.Content.PaymentData.NoticeNumber)
	require.Equal(t, d.AmountCents, m.Content.PaymentData.Amount)
	require.Equal(t, ecCode, m.Content.PaymentData.Payee.FiscalCode)
	require.Equal(t, "2026-12-30T23:00:00.000Z", m.Content.DueDate, "31/12/2026 in Rome")
	require.Contains(t, m.Content.Markdown, "Paga")
	require.Contains(t, m.Content.Subject, d.Description)
}

// No profile, a profile that turned the service off, a service not enabled for IO, or a
// company: the notice goes by email, the ladder's next channel.
func TestNoticeWithoutAppIOGoesByEmail(t *testing.T) {
	t.Parallel()
	f := newIOFixture(t)
	for name, mutate := range map[string]func(*dbgen.CreateDebtParams){
		"no profile":      func(p *dbgen.CreateDebtParams) { p.DebtorFiscalCode = "BNCLRA90E45F205D" },
		"opted out":       func(p *dbgen.CreateDebtParams) { p.DebtorFiscalCode = optedOut },
		"not enabled":     func(p *dbgen.CreateDebtParams) { p.ServiceCode, p.Iupd = "IMU", "IMU-"+p.Iupd },
		"company":         func(p *dbgen.CreateDebtParams) { p.DebtorType, p.DebtorFiscalCode = "G", "00560180128" },
		"lower-case code": func(p *dbgen.CreateDebtParams) { p.DebtorFiscalCode = "rssmra85t10a562s" },
	} {
		before := len(f.sink.Messages())
		d := f.noticed(t, mutate)
		_, err := f.run(t, f.debts.SendNotice, d.ID, f.notice(t, d.ID).ID)
		require.NoError(t, err, name)
		c, err := f.q.GetCommunicationByDedupeKey(context.Background(), fmt.Sprintf("debt/%d/notice", d.ID))
		require.NoError(t, err, name)
		require.Equal(t, "email", c.Channel, name)
		require.False(t, c.IoMessageID.Valid, name)
		require.Len(t, f.sink.Messages(), before+1, name)
	}
	require.Empty(t, f.io.Messages())
	require.Equal(t, int32(2), f.profiles.Load(), "IO was asked about the debtor without a profile and the one opted out, only")
}

// App IO not answering the profile check holds the notice back (the activity fails, to be
// retried, and nothing is archived) until the attempt IOHoldAttempts; from then on the notice
// goes by email, once, and IO is not asked again.
func TestNoticeWaitsForAppIOThenGoesByEmail(t *testing.T) {
	t.Parallel()
	f := newIOFixture(t)
	f.down.Store(true)
	d := f.noticed(t, nil)
	doc := f.notice(t, d.ID)
	key := fmt.Sprintf("debt/%d/notice", d.ID)

	_, err := f.run(t, f.debts.SendNotice, d.ID, doc.ID)
	require.ErrorContains(t, err, "app io profile check")
	var appErr *temporal.ApplicationError
	require.ErrorAs(t, err, &appErr)
	require.False(t, appErr.NonRetryable(), "retried: IO may answer later")
	_, err = f.q.GetCommunicationByDedupeKey(context.Background(), key)
	require.ErrorIs(t, db.NotFound(err), db.ErrNotFound, "nothing archived while IO is awaited")
	require.Empty(t, f.sink.Messages())

	f.debts.IOHoldAttempts = 1 // the attempt a test environment runs is the first
	for range 2 {
		_, err = f.run(t, f.debts.SendNotice, d.ID, doc.ID)
		require.NoError(t, err)
	}
	c, err := f.q.GetCommunicationByDedupeKey(context.Background(), key)
	require.NoError(t, err)
	require.Equal(t, "email", c.Channel)
	require.Len(t, f.sink.Messages(), 1, "sent once")
	require.Empty(t, f.io.Messages())
}

// A reminder step goes by the first channel of its ladder that reaches the debtor: App IO
// with the payment data for a debtor with a profile, the email for one without.
func TestReminderByAppIOThenNextChannel(t *testing.T) {
	t.Parallel()
	f := newIOFixture(t)
	step := workflows.Step{Name: workflows.StepSollecito, OffsetDays: 15,
		Channels: []reminders.Channel{reminders.ChannelIO, reminders.ChannelEmail}}
	in := func(d dbgen.DebtPosition) workflows.StepInput {
		return workflows.StepInput{DebtID: d.ID, Step: step, PolicyVersion: 2}
	}

	profiled := f.noticed(t, nil)
	for range 2 {
		_, err := f.run(t, f.debts.SendReminder, in(profiled))
		require.NoError(t, err)
	}
	c, m := f.ioRow(t, fmt.Sprintf("debt/%d/sollecito/1", profiled.ID))
	require.Equal(t, "sollecito", c.Step)
	require.Len(t, f.io.Messages(), 1, "sent once")
	require.Contains(t, m.Content.Markdown, "scaduto")
	require.NotNil(t, m.Content.PaymentData, "payable in the app")
	require.Equal(t, profiled.Nav, m.Content.PaymentData.NoticeNumber)
	require.Empty(t, f.sink.Messages())

	none := f.noticed(t, func(p *dbgen.CreateDebtParams) { p.DebtorFiscalCode = "BNCLRA90E45F205D" })
	_, err := f.run(t, f.debts.SendReminder, in(none))
	require.NoError(t, err)
	require.Equal(t, "email", f.reminderRow(t, none.ID, "sollecito").Channel)
	require.Len(t, f.sink.Messages(), 1)

	// A ladder of App IO alone sends nothing to a debtor without a profile.
	step.Channels = []reminders.Channel{reminders.ChannelIO}
	alone := f.noticed(t, func(p *dbgen.CreateDebtParams) { p.DebtorFiscalCode = "BNCLRA90E45F205D" })
	_, err = f.run(t, f.debts.SendReminder, in(alone))
	require.NoError(t, err)
	_, err = f.q.GetCommunicationByDedupeKey(context.Background(), fmt.Sprintf("debt/%d/sollecito/1", alone.ID))
	require.Error(t, err, "nothing archived")
	require.Len(t, f.sink.Messages(), 1)
	require.Len(t, f.io.Messages(), 1)
}

// IO answering that it did not take the message (a 500) leaves it to send again: the retry
// sends the same archived bytes, once.
func TestAppIOFailureIsRetriedWithTheSameBytes(t *testing.T) {
	t.Parallel()
	f := newIOFixture(t)
	f.fail.Store(1)
	d := f.noticed(t, nil)
	doc := f.notice(t, d.ID)
	_, err := f.run(t, f.debts.SendNotice, d.ID, doc.ID)
	requireRetryable(t, err)
	key := fmt.Sprintf("debt/%d/notice", d.ID)
	c, err := f.q.GetCommunicationByDedupeKey(context.Background(), key)
	require.NoError(t, err)
	require.Equal(t, "PENDING", c.Status)
	require.Empty(t, f.io.Messages())

	_, err = f.run(t, f.debts.SendNotice, d.ID, doc.ID)
	require.NoError(t, err)
	sent, _ := f.ioRow(t, key)
	require.Equal(t, c.Raw, sent.Raw, "the bytes archived before the first attempt")
	require.Len(t, f.io.Messages(), 1)
}

// The receipt of a payment goes by the channel the debtor was reached on: App IO after an IO
// notice (without payment data: nothing is left to pay), email after an email one; once.
func TestReceiptByTheChannelReached(t *testing.T) {
	t.Parallel()
	f := newIOFixture(t)
	ctx := context.Background()
	pay := func(d dbgen.DebtPosition, receiptID string) {
		t.Helper()
		_, err := f.q.InsertReceipt(ctx, dbgen.InsertReceiptParams{
			ReceiptID: receiptID, DebtID: pgtype.Int8{Int64: d.ID, Valid: true}, Nav: d.Nav, EcFiscalCode: ecCode,
			AmountCents: d.AmountCents, Outcome: "OK", PspID: "PSP1", PspName: "Banca", ChannelID: "CH1",
			PaidAt:    pgtype.Timestamptz{Time: time.Date(2026, time.December, 3, 23, 30, 0, 0, time.UTC), Valid: true},
			Transfers: []byte("[]"), Source: "PUSH", RawXml: "<receipt/>",
		})
		require.NoError(t, err)
		settle(t, f.q, d.ID, time.Now())
	}

	viaIO := f.noticed(t, nil)
	_, err := f.run(t, f.debts.SendNotice, viaIO.ID, f.notice(t, viaIO.ID).ID)
	require.NoError(t, err)
	pay(viaIO, "rcpt-io-1")
	for range 2 {
		_, err = f.run(t, f.debts.SendReceipt, viaIO.ID, "rcpt-io-1")
		require.NoError(t, err)
	}
	c, m := f.ioRow(t, fmt.Sprintf("debt/%d/receipt", viaIO.ID))
	require.Equal(t, "receipt", c.Kind)
	require.Len(t, f.io.MessagesTo(withIO), 2, "the notice and the receipt, once each")
	require.Nil(t, m.Content.PaymentData)
	require.Contains(t, m.Content.Markdown, "quietanza")
	require.Contains(t, m.Content.Markdown, "04/12/2026", "paid on 4 December in Rome")

	viaEmail := f.noticed(t, func(p *dbgen.CreateDebtParams) { p.DebtorFiscalCode = "BNCLRA90E45F205D" })
	_, err = f.run(t, f.debts.SendNotice, viaEmail.ID, f.notice(t, viaEmail.ID).ID)
	require.NoError(t, err)
	pay(viaEmail, "rcpt-email-1")
	_, err = f.run(t, f.debts.SendReceipt, viaEmail.ID, "rcpt-email-1")
	require.NoError(t, err)
	rc, err := f.q.GetCommunicationByDedupeKey(ctx, fmt.Sprintf("debt/%d/receipt", viaEmail.ID))
	require.NoError(t, err)
	require.Equal(t, "email", rc.Channel)
	require.Contains(t, string(rc.Raw), "rcpt-email-1")
	require.Len(t, f.sink.Messages(), 2, "the notice and the receipt")

	_, err = f.run(t, f.debts.SendReceipt, viaEmail.ID, "rcpt-io-1")
	requireNonRetryable(t, err, workflows.ErrTypeInvalidInput)
}

// The archive keeps IO's answer as it came: the database refuses to change it.
func TestAppIOAnswerIsArchived(t *testing.T) {
	t.Parallel()
	f := newIOFixture(t)
	d := f.noticed(t, nil)
	_, err := f.run(t, f.debts.SendNotice, d.ID, f.notice(t, d.ID).ID)
	require.NoError(t, err)
	c, _ := f.ioRow(t, fmt.Sprintf("debt/%d/notice", d.ID))
	_, err = f.pool.Exec(context.Background(), "UPDATE communications SET answer = $2, answer_sha256 = $2 WHERE id = $1", c.ID, []byte("{}"))
	require.ErrorContains(t, err, "archived with its answer")
	var body map[string]any
	require.NoError(t, json.Unmarshal(c.Raw, &body))
	require.Equal(t, withIO, body["fiscal_code"])
}
