package events_test

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgtype"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/stretchr/testify/require"

	"incasso/db"
	"incasso/db/dbgen"
	"incasso/devstack/testdb"
	"incasso/domain/pagopa"
	"incasso/services/access"
	"incasso/services/debts"
	"incasso/services/events"
	"incasso/services/receipts"
	"incasso/workflows"
)

const ecCode = "00000000000"

type noSignals struct{}

func (noSignals) SignalWorkflow(context.Context, string, string, string, any) error { return nil }

// newDebt stores a debt of service as createdBy, through the query every writer uses.
func newDebt(t *testing.T, q *dbgen.Queries, iupd, service, createdBy string) dbgen.DebtPosition {
	t.Helper()
	ctx := context.Background()
	base, err := q.NextIUVBase(ctx, dbgen.NextIUVBaseParams{EcFiscalCode: ecCode, Segregation: 1})
	require.NoError(t, err)
	nav, err := pagopa.NewNAV(1, base)
	require.NoError(t, err)
	d, err := q.CreateDebt(ctx, dbgen.CreateDebtParams{
		EcFiscalCode: ecCode, Iupd: iupd, ServiceCode: service, DebtorType: "F",
		DebtorFiscalCode: "RSSMRA85T10A562S", DebtorName: "Mario Rossi", DebtorEmail: "m@example.it",
		AmountCents: 12345, DueDate: time.Date(2026, 12, 31, 0, 0, 0, 0, time.UTC),
		Description: "TARI 2026", Nav: nav.String(), CreatedBy: createdBy,
	})
	require.NoError(t, err)
	return d
}

// feed reads the page after the cursor once it holds want events: an event shows once every
// transaction older than its own has ended, and the tests of other packages write to the same
// server meanwhile.
func feed(t *testing.T, pool *pgxpool.Pool, p access.Principal, after events.Cursor, want int) events.Page {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		page, err := events.Feed(context.Background(), dbgen.New(pool), p, after, nil, 100)
		require.NoError(t, err)
		if len(page.Events) >= want || time.Now().After(deadline) {
			return page
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func typesOf(page events.Page) []string {
	out := make([]string, len(page.Events))
	for i, e := range page.Events {
		out[i] = e.Type
	}
	return out
}

// A debt's life through the one writer of its status and the receipts' recorder gives its
// events in order, the payment with the receipt's data and no personal data; a change rolled
// back leaves no event; the cursor goes on where it left.
func TestFeedFollowsTheWritePaths(t *testing.T) {
	t.Parallel()
	pool, _ := testdb.New(t)
	ctx := context.Background()
	q := dbgen.New(pool)
	finance := access.Principal{Kind: access.KindClient, Name: "ufficio", Role: access.Finance}

	d := newDebt(t, q, "TARI-2026-1", "TARI", "client:ufficio")
	_, err := debts.Advance(ctx, q, d.ID, workflows.StatusIssued)
	require.NoError(t, err)
	_, err = debts.Advance(ctx, q, d.ID, workflows.StatusOverdue)
	require.NoError(t, err)

	first := feed(t, pool, finance, events.Cursor{}, 3)
	require.Equal(t, []string{"debt.created", "debt.issued", "debt.overdue"}, typesOf(first))

	// A cancel rolled back with its transaction takes its event with it.
	rollback := errors.New("roll back")
	err = db.InTx(ctx, pool, func(tx *dbgen.Queries) error {
		_, err := debts.Cancel(ctx, tx, d.ID, "iscrizione duplicata")
		require.NoError(t, err)
		return rollback
	})
	require.ErrorIs(t, err, rollback)

	rec := &receipts.Recorder{Pool: pool, Temporal: noSignals{}, ECFiscalCode: ecCode, Log: slog.New(slog.NewTextHandler(io.Discard, nil))}
	rt := pagopa.ReceiptV2{
		ReceiptID: "rcpt-1", NoticeNumber: d.Nav, FiscalCode: ecCode, Outcome: "OK", CreditorReferenceID: d.Nav[1:],
		PaymentAmount: "123.45", Description: "TARI 2026", CompanyName: "Comune di Esempio",
		IDPSP: "BCITITMM", PSPFiscalCode: "00799960158", PSPCompanyName: "Intesa Sanpaolo S.p.A.",
		IDChannel: "BCITITMM_01", ChannelDescription: "app", PaymentMethod: "CP", Fee: "1.50",
		PaymentDateTime: "2026-11-25T10:11:12", ApplicationDate: "2026-11-25", TransferDate: "2026-11-26",
	}
	rt.Debtor.UniqueIdentifier.Type, rt.Debtor.UniqueIdentifier.Value, rt.Debtor.FullName = "F", "RSSMRA85T10A562S", "Mario Rossi"
	rt.Transfers = []pagopa.ReceiptTransfer{{IDTransfer: "1", TransferAmount: "123.45", FiscalCodePA: ecCode,
		IBAN: "IT60X0542811101000000123456", RemittanceInformation: "TARI 2026", TransferCategory: "9/0101108TS/"}}
	_, err = rec.Record(ctx, rt, []byte("<rt/>"), receipts.SourcePush)
	require.NoError(t, err)

	next, err := events.ParseCursor(first.Next)
	require.NoError(t, err)
	second := feed(t, pool, finance, next, 1)
	require.Equal(t, []string{"debt.paid"}, typesOf(second), "the rolled-back cancel left nothing")
	var paid struct {
		Iupd        string `json:"iupd"`
		Nav         string `json:"nav"`
		AmountCents int64  `json:"amountCents"`
		Status      string `json:"status"`
		Receipt     struct {
			ReceiptID       string `json:"receiptId"`
			PaidAmountCents int64  `json:"paidAmountCents"`
			PspName         string `json:"pspName"`
		} `json:"receipt"`
	}
	require.NoError(t, json.Unmarshal(second.Events[0].Data, &paid))
	require.Equal(t, "TARI-2026-1", paid.Iupd)
	require.Equal(t, d.Nav, paid.Nav)
	require.Equal(t, int64(12345), paid.AmountCents)
	require.Equal(t, "PAID", paid.Status)
	require.Equal(t, "rcpt-1", paid.Receipt.ReceiptID)
	require.Equal(t, int64(12345), paid.Receipt.PaidAmountCents)
	require.Equal(t, "Intesa Sanpaolo S.p.A.", paid.Receipt.PspName)
	for _, e := range append(first.Events, second.Events...) {
		for _, personal := range []string{"RSSMRA85T10A562S", "Mario Rossi", "m@example.it", "IT60X"} {
			require.NotContains(t, string(e.Data), personal, e.Type)
		}
	}

	again := feed(t, pool, finance, mustCursor(t, second.Next), 0)
	require.Empty(t, again.Events)
	require.Equal(t, second.Next, again.Next, "an empty page keeps the cursor")
}

func mustCursor(t *testing.T, s string) events.Cursor {
	t.Helper()
	c, err := events.ParseCursor(s)
	require.NoError(t, err)
	return c
}

// An integration key sees the events of its own debts of its services; with all debts, every
// debt of its services; never a campaign's.
func TestFeedIsScopedToTheKey(t *testing.T) {
	t.Parallel()
	pool, _ := testdb.New(t)
	q := dbgen.New(pool)
	newDebt(t, q, "MENSA-1", "MENSA", "client:mensa")
	newDebt(t, q, "MENSA-2", "MENSA", "client:altro")
	newDebt(t, q, "TARI-1", "TARI", "client:mensa")

	feed(t, pool, access.Principal{Role: access.Finance}, events.Cursor{}, 3) // all three shown
	iupds := func(p access.Principal) []string {
		var out []string
		for _, e := range feed(t, pool, p, events.Cursor{}, 0).Events {
			var d struct{ Iupd string }
			require.NoError(t, json.Unmarshal(e.Data, &d))
			out = append(out, d.Iupd)
		}
		return out
	}
	mensa := access.Principal{Kind: access.KindClient, Name: "mensa", Role: access.Integration, Services: []string{"MENSA"}}
	require.Equal(t, []string{"MENSA-1"}, iupds(mensa))
	mensa.AllDebts = true
	require.Equal(t, []string{"MENSA-1", "MENSA-2"}, iupds(mensa))
	operator := access.Principal{Kind: access.KindUser, Name: "op", Role: access.Operator}
	require.Equal(t, []string{"MENSA-1", "MENSA-2", "TARI-1"}, iupds(operator))
}

func TestCursorRoundTrip(t *testing.T) {
	t.Parallel()
	c := events.Cursor{Txid: 7412, ID: 99}
	got, err := events.ParseCursor(c.String())
	require.NoError(t, err)
	require.Equal(t, c, got)
	for _, bad := range []string{"x", "MTIz", "!!"} {
		_, err := events.ParseCursor(bad)
		require.Error(t, err, bad)
	}
}

// The other write paths have their events too: a campaign launched and finished, a message
// sent and delivered, a hand-over to enforcement, each with ids and states only.
func TestFeedOfCampaignsMessagesAndHandovers(t *testing.T) {
	t.Parallel()
	pool, _ := testdb.New(t)
	ctx := context.Background()
	q := dbgen.New(pool)

	campaign, err := q.CreateCampaign(ctx, dbgen.CreateCampaignParams{Name: "TARI 2026", CreatedBy: "user:anna"})
	require.NoError(t, err)
	for _, status := range []string{"RUNNING", "PAUSED", "RUNNING", "COMPLETED"} {
		_, err := q.SetCampaignStatus(ctx, dbgen.SetCampaignStatusParams{ID: campaign, Status: status})
		require.NoError(t, err)
	}
	d := newDebt(t, q, "TARI-2026-9", "TARI", "client:ufficio")
	require.NoError(t, q.InsertCommunication(ctx, dbgen.InsertCommunicationParams{
		DebtID: d.ID, DedupeKey: "debt/1/notice/1", Kind: "notice", Channel: "email", Recipient: "m@example.it",
		Subject: "Avviso di pagamento", MessageID: "<1@comune>", Raw: []byte("raw"), Sha256: make([]byte, 32),
		RetentionUntil: time.Now().AddDate(5, 0, 0), Status: "PENDING",
	}))
	msg, err := q.GetCommunicationByDedupeKey(ctx, "debt/1/notice/1")
	require.NoError(t, err)
	now := pgtype.Timestamptz{Time: time.Now(), Valid: true}
	require.NoError(t, q.ConfirmCommunicationSent(ctx, dbgen.ConfirmCommunicationSentParams{ID: msg.ID, SentAt: now}))
	require.NoError(t, q.ConfirmCommunicationSent(ctx, dbgen.ConfirmCommunicationSentParams{ID: msg.ID, SentAt: now}))
	require.NoError(t, q.SetCommunicationDelivered(ctx, dbgen.SetCommunicationDeliveredParams{ID: msg.ID, DeliveredAt: now}))
	require.NoError(t, q.InsertHandover(ctx, dbgen.InsertHandoverParams{DebtID: d.ID, AmountCents: 12345}))

	page := feed(t, pool, access.Principal{Role: access.Finance}, events.Cursor{}, 6)
	require.Equal(t, []string{"campaign.started", "campaign.finished", "debt.created", "message.sent", "message.delivered", "debt.enforcement"},
		typesOf(page), "a resumed campaign is not started again, a repeated confirmation not sent again")
	for _, e := range page.Events {
		require.NotContains(t, string(e.Data), "m@example.it", e.Type)
		require.NotContains(t, string(e.Data), "anna", e.Type)
	}
	integration := access.Principal{Kind: access.KindClient, Name: "ufficio", Role: access.Integration}
	require.Equal(t, []string{"debt.created", "message.sent", "message.delivered", "debt.enforcement"},
		typesOf(feed(t, pool, integration, events.Cursor{}, 0)), "no campaign events for an integration key")
}
