package activities_test

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"mime"
	"mime/multipart"
	"mime/quotedprintable"
	netmail "net/mail"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"incasso/activities"
	"incasso/app/config"
	"incasso/clients/gpd"
	"incasso/db/dbgen"
	"incasso/devstack/mailsink"
	"incasso/devstack/pagopasim"
	"incasso/domain/date"
	"incasso/domain/money"
	"incasso/workflows"
)

// textOf returns the decoded text of a message: its only part, or the first part of a
// multipart message.
func textOf(t *testing.T, raw []byte) string {
	t.Helper()
	msg, err := netmail.ReadMessage(bytes.NewReader(raw))
	require.NoError(t, err)
	mediaType, params, err := mime.ParseMediaType(msg.Header.Get("Content-Type"))
	require.NoError(t, err)
	var body io.Reader = msg.Body
	if strings.HasPrefix(mediaType, "multipart/") {
		part, err := multipart.NewReader(msg.Body, params["boundary"]).NextPart() // decodes quoted-printable
		require.NoError(t, err)
		body = part
	} else if strings.EqualFold(msg.Header.Get("Content-Transfer-Encoding"), "quoted-printable") {
		body = quotedprintable.NewReader(msg.Body)
	}
	b, err := io.ReadAll(body)
	require.NoError(t, err)
	return string(b)
}

// issued stores a debt, registers its position in the simulator and marks it ISSUED, as the
// workflow does before any change.
func (f *fixture) issued(t *testing.T, mutate func(*dbgen.CreateDebtParams)) dbgen.DebtPosition {
	t.Helper()
	d := f.insertDebt(t, mutate)
	require.NoError(t, f.debts.RegisterPosition(context.Background(), d.ID))
	require.NoError(t, f.debts.SetStatus(context.Background(), d.ID, workflows.StatusIssued))
	return f.reload(t, d.ID)
}

func (f *fixture) reload(t *testing.T, id int64) dbgen.DebtPosition {
	t.Helper()
	d, err := f.q.GetDebt(context.Background(), id)
	require.NoError(t, err)
	return d
}

func (f *fixture) position(t *testing.T, d dbgen.DebtPosition) gpd.Position {
	t.Helper()
	pos, err := f.gpd.Get(context.Background(), ecCode, d.Iupd)
	require.NoError(t, err)
	return pos
}

func (f *fixture) waitMessages(t *testing.T, addr string, n int) []mailsink.Message {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	for {
		if msgs := f.messagesTo(addr); len(msgs) >= n {
			return msgs
		}
		select {
		case <-ctx.Done():
			t.Fatalf("%d messages to %s, want %d", len(f.messagesTo(addr)), addr, n)
		case <-time.After(20 * time.Millisecond):
		}
	}
}

func TestCancelPosition(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	ctx := context.Background()
	d := f.issued(t, nil)
	const reason = "Iscrizione duplicata nel ruolo TARI"

	before := time.Now()
	_, err := f.run(t, f.debts.CancelPosition, d.ID, reason)
	require.NoError(t, err)
	require.Equal(t, "INVALID", f.position(t, d).Status, "withdrawn from pagoPA")
	got := f.reload(t, d.ID)
	require.Equal(t, workflows.StatusCancelled, got.Status)
	require.Equal(t, reason, got.CancelReason.String)
	require.True(t, got.CancelledAt.Valid)
	require.WithinDuration(t, time.Now(), got.CancelledAt.Time, time.Since(before)+time.Second)

	// Repeating it (a retry) is fine and changes nothing.
	_, err = f.run(t, f.debts.CancelPosition, d.ID, reason)
	require.NoError(t, err)
	require.NoError(t, f.debts.CancelPosition(ctx, d.ID, "another reason"))
	again := f.reload(t, d.ID)
	require.Equal(t, got.CancelledAt, again.CancelledAt)
	require.Equal(t, reason, again.CancelReason.String)

	t.Run("GPD invalidated, the database not yet", func(t *testing.T) {
		d := f.issued(t, nil)
		require.NoError(t, f.gpd.Invalidate(ctx, ecCode, d.Iupd)) // the first attempt's answer was lost
		_, err := f.run(t, f.debts.CancelPosition, d.ID, reason)
		require.NoError(t, err)
		require.Equal(t, workflows.StatusCancelled, f.reload(t, d.ID).Status)
	})

	t.Run("paid in the database", func(t *testing.T) {
		d := f.issued(t, nil)
		settle(t, f.q, d.ID, time.Now())
		_, err := f.run(t, f.debts.CancelPosition, d.ID, reason)
		requireNonRetryable(t, err, workflows.ErrTypeSettled)
		require.Equal(t, "VALID", f.position(t, d).Status, "GPD is not touched")
		got := f.reload(t, d.ID)
		require.Equal(t, workflows.StatusPaid, got.Status)
		require.False(t, got.CancelReason.Valid)
	})

	t.Run("paid in pagoPA, the receipt not arrived", func(t *testing.T) {
		d := f.issued(t, nil)
		_, err := f.sim.Pay(ctx, pagopasim.Payment{NAV: d.Nav, Undelivered: true})
		require.NoError(t, err)
		_, err = f.run(t, f.debts.CancelPosition, d.ID, reason)
		requireNonRetryable(t, err, workflows.ErrTypeSettled)
		require.Equal(t, workflows.StatusIssued, f.reload(t, d.ID).Status, "not cancelled: the receipt will settle it")
	})

	t.Run("no reason", func(t *testing.T) {
		d := f.issued(t, nil)
		for _, bad := range []string{"", strings.Repeat("x", 501)} {
			_, err := f.run(t, f.debts.CancelPosition, d.ID, bad)
			requireNonRetryable(t, err, workflows.ErrTypeInvalidInput)
		}
		require.Equal(t, "VALID", f.position(t, d).Status)
		require.Equal(t, workflows.StatusIssued, f.reload(t, d.ID).Status)
	})

	t.Run("unknown debt", func(t *testing.T) {
		_, err := f.run(t, f.debts.CancelPosition, int64(987654321), reason)
		requireNonRetryable(t, err, workflows.ErrTypeInvalidInput)
	})
}

// The API accepts a reason of up to 500 characters, and the database stores as many: a reason
// with accented letters (two bytes each in UTF-8) is no less valid.
func TestCancelAndChangeReasonOf500Characters(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	reason := strings.Repeat("è", 500) // 500 characters, 1000 bytes
	t.Run("CancelPosition", func(t *testing.T) {
		d := f.issued(t, nil)
		_, err := f.run(t, f.debts.CancelPosition, d.ID, reason)
		require.NoError(t, err)
		got := f.reload(t, d.ID)
		require.Equal(t, workflows.StatusCancelled, got.Status)
		require.Equal(t, reason, got.CancelReason.String)
	})
	t.Run("ChangePosition", func(t *testing.T) {
		d := f.issued(t, nil)
		_, err := f.run(t, f.debts.ChangePosition, workflows.ChangeInput{DebtID: d.ID, Revision: 2, ChangeRequest: workflows.ChangeRequest{
			Amount: 20000, DueDate: mustDate(t, "2027-01-31"), Reason: reason,
		}})
		require.NoError(t, err)
		require.Equal(t, int32(2), f.reload(t, d.ID).Revision)
	})
}

func TestSendCancellation(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	ctx := context.Background()
	d := f.issued(t, nil)
	const reason = "Iscrizione duplicata nel ruolo TARI"
	require.NoError(t, f.debts.CancelPosition(ctx, d.ID, reason))

	_, err := f.run(t, f.debts.SendCancellation, d.ID)
	require.NoError(t, err)
	msgs := f.waitMessages(t, d.DebtorEmail, 1)
	require.Len(t, msgs, 1)
	require.Equal(t, mailFrom, msgs[0].From)
	require.Contains(t, msgs[0].Subject, "Annullamento")
	require.Contains(t, msgs[0].Subject, d.Description)
	text := textOf(t, msgs[0].Raw)
	require.Contains(t, text, "Motivo: "+reason)
	require.Contains(t, text, "annullato")

	comms, err := f.q.ListCommunicationsByDebt(ctx, d.ID)
	require.NoError(t, err)
	require.Len(t, comms, 1)
	require.Equal(t, "cancellation", comms[0].Kind)
	require.Equal(t, "SENT", comms[0].Status)
	require.Equal(t, msgs[0].Subject, comms[0].Subject)
	c, err := f.q.GetCommunicationByDedupeKey(ctx, fmt.Sprintf("debt/%d/cancellation", d.ID))
	require.NoError(t, err)
	require.Equal(t, msgs[0].Raw, c.Raw, "the archived bytes are those sent")

	// Repeating it sends nothing more.
	_, err = f.run(t, f.debts.SendCancellation, d.ID)
	require.NoError(t, err)
	require.NoError(t, f.debts.SendCancellation(ctx, d.ID))
	time.Sleep(100 * time.Millisecond)
	require.Len(t, f.messagesTo(d.DebtorEmail), 1)
}

func mustDate(t *testing.T, s string) date.Date {
	t.Helper()
	d, err := date.Parse(s)
	require.NoError(t, err)
	return d
}

// splitDebts is f.debts with a service whose amounts go 95% to the comune and 5% to the province.
func (f *fixture) splitDebts() *activities.Debts {
	a := *f.debts
	a.Services = append(append(config.Services(nil), a.Services...), config.Service{Code: "TARIP", Transfers: []config.Beneficiary{
		{Taxonomy: "9/0101108TS/", BasisPoints: 9_500},
		{Taxonomy: "9/0101109TS/", IBAN: "IT02L1234512345123456789012", FiscalCode: "01234567890", Name: "Provincia di Esempio", BasisPoints: 500},
	}})
	return &a
}

func TestChangePosition(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	ctx := context.Background()
	f.debts = f.splitDebts()
	d := f.issued(t, func(p *dbgen.CreateDebtParams) { p.ServiceCode = "TARIP" })
	change := workflows.ChangeInput{DebtID: d.ID, Revision: 2, ChangeRequest: workflows.ChangeRequest{
		Amount: 20001, DueDate: mustDate(t, "2027-01-31"), Reason: "ricalcolo superficie",
	}}

	_, err := f.run(t, f.debts.ChangePosition, change)
	require.NoError(t, err)
	got := f.reload(t, d.ID)
	require.Equal(t, int64(20001), got.AmountCents)
	require.Equal(t, "2027-01-31", date.Of(got.DueDate).String())
	require.Equal(t, int32(2), got.Revision)
	require.Equal(t, workflows.StatusIssued, got.Status)
	require.Equal(t, d.Nav, got.Nav, "the notice number stays")

	ch, err := f.q.GetDebtChange(ctx, dbgen.GetDebtChangeParams{DebtID: d.ID, Revision: 2})
	require.NoError(t, err)
	require.Equal(t, int64(20001), ch.AmountCents)
	require.Equal(t, "2027-01-31", date.Of(ch.DueDate).String())
	require.Equal(t, "ricalcolo superficie", ch.Reason)

	pos := f.position(t, d)
	require.Equal(t, "VALID", pos.Status)
	require.Len(t, pos.PaymentOptions, 1)
	opt := pos.PaymentOptions[0]
	require.Equal(t, d.Nav, opt.NAV)
	require.Equal(t, int64(20001), opt.Amount)
	require.True(t, time.Date(2027, time.January, 31, 23, 59, 59, 0, date.Rome).Equal(opt.DueDate), opt.DueDate)
	require.Len(t, opt.Transfers, 2)
	var sum int64
	for _, tr := range opt.Transfers {
		sum += tr.Amount
	}
	require.Equal(t, int64(20001), sum, "the transfers sum to the new amount")
	require.Equal(t, int64(19001), opt.Transfers[0].Amount)
	require.Equal(t, int64(1000), opt.Transfers[1].Amount)
	require.Equal(t, "01234567890", opt.Transfers[1].OrganizationFiscalCode)

	// Repeating it (a retry) changes nothing.
	_, err = f.run(t, f.debts.ChangePosition, change)
	require.NoError(t, err)
	changes, err := f.q.ListDebtChanges(ctx, d.ID)
	require.NoError(t, err)
	require.Len(t, changes, 1)
	require.Equal(t, got, f.reload(t, d.ID))

	// Revision 2 again with other values: refused before GPD is touched.
	other := change
	other.Amount = 30000
	_, err = f.run(t, f.debts.ChangePosition, other)
	requireNonRetryable(t, err, workflows.ErrTypeInvalidInput)
	require.Equal(t, int64(20001), f.position(t, d).PaymentOptions[0].Amount, "GPD keeps revision 2")

	// Revision 3, then revision 2 again: too late.
	third := change
	third.Revision, third.Amount, third.Reason = 3, 15000, "riduzione"
	_, err = f.run(t, f.debts.ChangePosition, third)
	require.NoError(t, err)
	_, err = f.run(t, f.debts.ChangePosition, change)
	requireNonRetryable(t, err, workflows.ErrTypeInvalidInput)
	got = f.reload(t, d.ID)
	require.Equal(t, int32(3), got.Revision)
	require.Equal(t, int64(15000), got.AmountCents)
	require.Equal(t, int64(15000), f.position(t, d).PaymentOptions[0].Amount, "GPD keeps revision 3")

	for name, in := range map[string]workflows.ChangeInput{
		"revision 1":   {DebtID: d.ID, Revision: 1, ChangeRequest: change.ChangeRequest},
		"no amount":    {DebtID: d.ID, Revision: 4, ChangeRequest: workflows.ChangeRequest{DueDate: change.DueDate, Reason: "r"}},
		"no due date":  {DebtID: d.ID, Revision: 4, ChangeRequest: workflows.ChangeRequest{Amount: 100, Reason: "r"}},
		"no reason":    {DebtID: d.ID, Revision: 4, ChangeRequest: workflows.ChangeRequest{Amount: 100, DueDate: change.DueDate}},
		"unknown debt": {DebtID: 987654321, Revision: 4, ChangeRequest: change.ChangeRequest},
	} {
		t.Run(name, func(t *testing.T) {
			_, err := f.run(t, f.debts.ChangePosition, in)
			requireNonRetryable(t, err, workflows.ErrTypeInvalidInput)
		})
	}
	require.Equal(t, int32(3), f.reload(t, d.ID).Revision)
}

// A change moves the due date, not the status: the workflow, which knows the date, brings an
// overdue debt back to ISSUED (services/debts.Advance is the one writer of the status).
func TestChangePositionLeavesTheStatusToTheWorkflow(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	ctx := context.Background()
	due := date.Of(date.InRome(time.Now()).Time().AddDate(0, 1, 0))
	d := f.issued(t, nil)
	require.NoError(t, f.debts.SetStatus(ctx, d.ID, workflows.StatusOverdue))
	_, err := f.run(t, f.debts.ChangePosition, workflows.ChangeInput{DebtID: d.ID, Revision: 2, ChangeRequest: workflows.ChangeRequest{
		Amount: 12345, DueDate: due, Reason: "nuova scadenza",
	}})
	require.NoError(t, err)
	got := f.reload(t, d.ID)
	require.Equal(t, workflows.StatusOverdue, got.Status)
	require.Equal(t, due.String(), date.Of(got.DueDate).String())
	require.Equal(t, int32(2), got.Revision)
}

func TestChangePositionSettled(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	ctx := context.Background()
	change := func(id int64) workflows.ChangeInput {
		return workflows.ChangeInput{DebtID: id, Revision: 2, ChangeRequest: workflows.ChangeRequest{
			Amount: 20000, DueDate: mustDate(t, "2027-01-31"), Reason: "ricalcolo",
		}}
	}

	paid := f.issued(t, nil)
	settle(t, f.q, paid.ID, time.Now())
	_, err := f.run(t, f.debts.ChangePosition, change(paid.ID))
	requireNonRetryable(t, err, workflows.ErrTypeSettled)
	require.Equal(t, int64(12345), f.position(t, paid).PaymentOptions[0].Amount, "GPD is not touched")

	cancelled := f.issued(t, nil)
	require.NoError(t, f.debts.CancelPosition(ctx, cancelled.ID, "duplicate"))
	_, err = f.run(t, f.debts.ChangePosition, change(cancelled.ID))
	requireNonRetryable(t, err, workflows.ErrTypeSettled)

	// Paid in pagoPA before the receipt arrived: GPD refuses the update.
	paidOutside := f.issued(t, nil)
	_, err = f.sim.Pay(ctx, pagopasim.Payment{NAV: paidOutside.Nav, Undelivered: true})
	require.NoError(t, err)
	_, err = f.run(t, f.debts.ChangePosition, change(paidOutside.ID))
	requireNonRetryable(t, err, workflows.ErrTypeSettled)
	got := f.reload(t, paidOutside.ID)
	require.Equal(t, int32(1), got.Revision, "not applied")
	require.Equal(t, int64(12345), got.AmountCents)
}

// After a change the notice is rendered again as a new document and sent as an update.
func TestChangedNoticeIsSentAgain(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	ctx := context.Background()
	d := f.issued(t, nil)
	first, err := f.debts.RenderNotice(ctx, d.ID)
	require.NoError(t, err)
	require.NoError(t, f.debts.SendNotice(ctx, d.ID, first))

	_, err = f.run(t, f.debts.ChangePosition, workflows.ChangeInput{DebtID: d.ID, Revision: 2, ChangeRequest: workflows.ChangeRequest{
		Amount: 20000, DueDate: mustDate(t, "2027-01-31"), Reason: "ricalcolo superficie",
	}})
	require.NoError(t, err)

	val, err := f.run(t, f.debts.RenderNotice, d.ID)
	require.NoError(t, err)
	var second int64
	require.NoError(t, val.Get(&second))
	require.NotEqual(t, first, second, "a new document")
	doc, err := f.q.GetDocument(ctx, second)
	require.NoError(t, err)
	require.Equal(t, int32(2), doc.Revision)
	require.Equal(t, "avviso-"+d.Nav+"-rev2.pdf", doc.Filename)
	old, err := f.q.GetDocument(ctx, first)
	require.NoError(t, err)
	require.Equal(t, int32(1), old.Revision, "the first notice is kept")
	require.Equal(t, "avviso-"+d.Nav+".pdf", old.Filename)
	require.NotEqual(t, old.Sha256, doc.Sha256)
	latest, err := f.q.GetLatestDocument(ctx, dbgen.GetLatestDocumentParams{DebtID: d.ID, Kind: "notice"})
	require.NoError(t, err)
	require.Equal(t, second, latest.ID)
	again, err := f.debts.RenderNotice(ctx, d.ID)
	require.NoError(t, err)
	require.Equal(t, second, again, "a retry returns the same document")

	_, err = f.run(t, f.debts.SendNotice, d.ID, second)
	require.NoError(t, err)
	require.NoError(t, f.debts.SendNotice(ctx, d.ID, second)) // a retry sends nothing more
	f.waitMessages(t, d.DebtorEmail, 2)
	time.Sleep(100 * time.Millisecond) // a duplicate would have arrived by now
	msgs := f.messagesTo(d.DebtorEmail)
	require.Len(t, msgs, 2, "the first notice and its update")
	update := msgs[1]
	require.Contains(t, update.Subject, "aggiornato")
	require.NotContains(t, msgs[0].Subject, "aggiornato")
	require.Contains(t, string(update.Raw), "avviso-"+d.Nav+"-rev2.pdf", "the new notice is attached")
	text := textOf(t, update.Raw)
	require.Contains(t, text, money.Cents(20000).Italian())
	require.Contains(t, text, "31/01/2027")
	require.Contains(t, text, "sostituisce")

	comms, err := f.q.ListCommunicationsByDebt(ctx, d.ID)
	require.NoError(t, err)
	require.Len(t, comms, 2)
	require.Equal(t, "notice", comms[0].Kind)
	require.Equal(t, "notice_change", comms[1].Kind)
	require.Equal(t, "SENT", comms[1].Status)
	require.NotEqual(t, comms[0].MessageID, comms[1].MessageID)
}

func TestSendNoticeSettledDebt(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	ctx := context.Background()

	paid := f.issued(t, nil)
	docID, err := f.debts.RenderNotice(ctx, paid.ID)
	require.NoError(t, err)
	settle(t, f.q, paid.ID, time.Now())
	_, err = f.run(t, f.debts.SendNotice, paid.ID, docID)
	require.NoError(t, err)

	cancelled := f.issued(t, nil)
	cancelledDoc, err := f.debts.RenderNotice(ctx, cancelled.ID)
	require.NoError(t, err)
	require.NoError(t, f.debts.CancelPosition(ctx, cancelled.ID, "duplicate"))
	_, err = f.run(t, f.debts.SendNotice, cancelled.ID, cancelledDoc)
	require.NoError(t, err)

	time.Sleep(100 * time.Millisecond)
	for _, d := range []dbgen.DebtPosition{paid, cancelled} {
		require.Empty(t, f.messagesTo(d.DebtorEmail))
		comms, err := f.q.ListCommunicationsByDebt(ctx, d.ID)
		require.NoError(t, err)
		require.Empty(t, comms, "nothing archived either")
	}
}

// A change that could not be applied leaves no trace in the debt's history, and the next
// change, which the workflow numbers with the same revision, is recorded as it was asked.
func TestChangePositionFailureLeavesNoChange(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	ctx := context.Background()
	f.debts = f.splitDebts()
	for _, tt := range []struct {
		name string
		fail func(d dbgen.DebtPosition) (*activities.Debts, workflows.ChangeInput)
		typ  string
	}{
		{"an amount the transfers cannot split", func(d dbgen.DebtPosition) (*activities.Debts, workflows.ChangeInput) {
			return f.debts, workflows.ChangeInput{DebtID: d.ID, Revision: 2, ChangeRequest: workflows.ChangeRequest{
				Amount: 1, DueDate: mustDate(t, "2027-01-31"), Reason: "errore di battitura",
			}}
		}, workflows.ErrTypeInvalidInput},
		{"GPD refuses", func(d dbgen.DebtPosition) (*activities.Debts, workflows.ChangeInput) {
			a := *f.debts
			a.GPD = gpd.New(f.gpdURL, "wrong-key", 5*time.Second)
			return &a, workflows.ChangeInput{DebtID: d.ID, Revision: 2, ChangeRequest: workflows.ChangeRequest{
				Amount: 99999, DueDate: mustDate(t, "2027-03-31"), Reason: "errore di battitura",
			}}
		}, workflows.ErrTypeGPDRejected},
	} {
		t.Run(tt.name, func(t *testing.T) {
			d := f.issued(t, func(p *dbgen.CreateDebtParams) { p.ServiceCode = "TARIP" })
			a, bad := tt.fail(d)
			_, err := activityEnv(a).ExecuteActivity(a.ChangePosition, bad)
			requireNonRetryable(t, err, tt.typ)
			got := f.reload(t, d.ID)
			require.Equal(t, int32(1), got.Revision, "not applied")
			require.Equal(t, int64(12345), got.AmountCents)
			changes, err := f.q.ListDebtChanges(ctx, d.ID)
			require.NoError(t, err)
			assert.Empty(t, changes, "a change that was not applied is not in the history")

			// The operator asks again, correctly: the workflow's next revision is still 2.
			good := workflows.ChangeInput{DebtID: d.ID, Revision: 2, ChangeRequest: workflows.ChangeRequest{
				Amount: 20000, DueDate: mustDate(t, "2027-01-31"), Reason: "ricalcolo superficie",
			}}
			_, err = f.run(t, f.debts.ChangePosition, good)
			require.NoError(t, err)
			got = f.reload(t, d.ID)
			require.Equal(t, int32(2), got.Revision)
			require.Equal(t, int64(20000), got.AmountCents)
			ch, err := f.q.GetDebtChange(ctx, dbgen.GetDebtChangeParams{DebtID: d.ID, Revision: 2})
			require.NoError(t, err)
			require.Equal(t, int64(20000), ch.AmountCents, "revision 2 is recorded as applied")
			require.Equal(t, "2027-01-31", date.Of(ch.DueDate).String())
			require.Equal(t, "ricalcolo superficie", ch.Reason)
		})
	}
}
