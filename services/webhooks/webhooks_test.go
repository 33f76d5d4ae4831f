package webhooks_test

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/stretchr/testify/require"

	"incasso/db/dbgen"
	"incasso/devstack/testdb"
	"incasso/domain/pagopa"
	"incasso/examples/webhook-receiver/standardwebhooks"
	"incasso/services/access"
	"incasso/services/debts"
	"incasso/services/fault"
	"incasso/services/webhooks"
	"incasso/workflows"
)

var finance = access.Principal{Kind: access.KindClient, Name: "ufficio", Role: access.Finance}

func newDebt(t *testing.T, q *dbgen.Queries, iupd, service, createdBy string) dbgen.DebtPosition {
	t.Helper()
	ctx := context.Background()
	base, err := q.NextIUVBase(ctx, dbgen.NextIUVBaseParams{EcFiscalCode: "00000000000", Segregation: 1})
	require.NoError(t, err)
	nav, err := pagopa.NewNAV(1, base)
	require.NoError(t, err)
	d, err := q.CreateDebt(ctx, dbgen.CreateDebtParams{
		EcFiscalCode: "00000000000", Iupd: iupd, ServiceCode: service, DebtorType: "F",
		DebtorFiscalCode: "RSSMRA85T10A562S", DebtorName: "Mario Rossi", DebtorEmail: "m@example.it",
		AmountCents: 5000, DueDate: time.Date(2026, 12, 31, 0, 0, 0, 0, time.UTC),
		Description: "Mensa", Nav: nav.String(), CreatedBy: createdBy,
	})
	require.NoError(t, err)
	return d
}

// receiver is a real HTTP endpoint that answers each request with the next status of its
// script (then 204), keeping what it got.
type receiver struct {
	mu     sync.Mutex
	script []int
	got    []*http.Request
	bodies [][]byte
}

func (r *receiver) ServeHTTP(w http.ResponseWriter, req *http.Request) {
	body, _ := io.ReadAll(req.Body)
	r.mu.Lock()
	defer r.mu.Unlock()
	r.got, r.bodies = append(r.got, req), append(r.bodies, body)
	status := http.StatusNoContent
	if len(r.script) > 0 {
		status, r.script = r.script[0], r.script[1:]
	}
	w.WriteHeader(status)
	_, _ = w.Write([]byte("answer " + http.StatusText(status)))
}

// next waits until the endpoint has deliveries pending (events show once older transactions end).
func next(t *testing.T, pool *pgxpool.Pool, id int64, want int) []int64 {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		pending, active, err := webhooks.Next(context.Background(), pool, id, 500, 100)
		require.NoError(t, err)
		require.True(t, active)
		if len(pending) >= want || time.Now().After(deadline) {
			return pending
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// Registered for debt.issued and debt.cancelled, an endpoint gets only those, signed so that
// the sample receiver's verifier accepts them; a refused attempt is logged with the answer,
// and the retry delivers it; a delivery done is not sent again.
func TestDeliveriesAreSignedLoggedAndOnce(t *testing.T) {
	t.Parallel()
	pool, _ := testdb.New(t)
	ctx := context.Background()
	q := dbgen.New(pool)
	rec := &receiver{script: []int{http.StatusServiceUnavailable}}
	srv := httptest.NewServer(rec)
	t.Cleanup(srv.Close)

	ep, secret, err := webhooks.Register(ctx, q, finance, webhooks.Registration{URL: srv.URL + "/hooks", EventTypes: []string{"debt.issued", "debt.cancelled"}})
	require.NoError(t, err)
	require.Regexp(t, `^whsec_[A-Za-z0-9+/]{43}=$`, secret)

	d := newDebt(t, q, "MENSA-1", "MENSA", "client:ufficio")
	_, err = debts.Advance(ctx, q, d.ID, workflows.StatusIssued)
	require.NoError(t, err)
	_, err = debts.Cancel(ctx, q, d.ID, "iscrizione duplicata")
	require.NoError(t, err)

	pending := next(t, pool, ep.ID, 2)
	require.Len(t, pending, 2, "created is not of its types")
	sender := webhooks.NewSender(5*time.Second, true)
	_, err = sender.Deliver(ctx, q, pending[0])
	require.ErrorIs(t, err, webhooks.ErrNotDelivered)
	out, err := sender.Deliver(ctx, q, pending[0])
	require.NoError(t, err)
	require.True(t, out.Sent)
	_, err = sender.Deliver(ctx, q, pending[1])
	require.NoError(t, err)
	again, err := sender.Deliver(ctx, q, pending[0])
	require.NoError(t, err)
	require.True(t, again.Sent)
	require.Len(t, rec.got, 3, "nothing sent twice once delivered")

	v, err := standardwebhooks.NewVerifier(secret)
	require.NoError(t, err)
	var types []string
	for i, req := range rec.got {
		require.NoError(t, v.Verify(req.Header, rec.bodies[i]))
		var p webhooks.Payload
		require.NoError(t, json.Unmarshal(rec.bodies[i], &p))
		require.Equal(t, req.Header.Get("webhook-id"), p.ID)
		types = append(types, p.Type)
		require.NotContains(t, string(rec.bodies[i]), "Rossi")
	}
	require.Equal(t, []string{"debt.issued", "debt.issued", "debt.cancelled"}, types)
	require.Equal(t, rec.got[0].Header.Get("webhook-id"), rec.got[1].Header.Get("webhook-id"), "a retry keeps its webhook-id")

	log, err := webhooks.Deliveries(ctx, q, finance, ep.ID, 1<<62, 10)
	require.NoError(t, err)
	require.Len(t, log, 2)
	first := log[1]
	require.Equal(t, "DELIVERED", first.Status)
	require.Equal(t, 2, first.Attempts)
	require.Equal(t, http.StatusNoContent, first.LastStatusCode)
	attempts, err := q.ListWebhookAttempts(ctx, first.ID)
	require.NoError(t, err)
	require.Equal(t, int32(http.StatusServiceUnavailable), attempts[0].StatusCode)
	require.Equal(t, "answer Service Unavailable", attempts[0].Response)

	// Replayed from the log, it goes out once more.
	require.NoError(t, webhooks.Replay(ctx, q, finance, ep.ID, first.ID))
	require.Equal(t, []int64{first.ID}, next(t, pool, ep.ID, 1))
	_, err = sender.Deliver(ctx, q, first.ID)
	require.NoError(t, err)
	require.Len(t, rec.got, 4)
}

// After a rotation both secrets sign for the grace period: a receiver still on the old one
// and one on the new one both verify.
func TestRotationSignsWithBothSecrets(t *testing.T) {
	t.Parallel()
	pool, _ := testdb.New(t)
	ctx := context.Background()
	q := dbgen.New(pool)
	rec := &receiver{}
	srv := httptest.NewServer(rec)
	t.Cleanup(srv.Close)
	ep, oldSecret, err := webhooks.Register(ctx, q, finance, webhooks.Registration{URL: srv.URL, EventTypes: []string{"debt.created"}})
	require.NoError(t, err)
	_, newSecret, err := webhooks.Rotate(ctx, q, finance, ep.ID, time.Now(), time.Hour)
	require.NoError(t, err)
	require.NotEqual(t, oldSecret, newSecret)
	newDebt(t, q, "MENSA-9", "MENSA", "client:ufficio")
	pending := next(t, pool, ep.ID, 1)
	require.Len(t, pending, 1)
	_, err = webhooks.NewSender(5*time.Second, true).Deliver(ctx, q, pending[0])
	require.NoError(t, err)
	for _, s := range []string{oldSecret, newSecret} {
		v, err := standardwebhooks.NewVerifier(s)
		require.NoError(t, err)
		require.NoError(t, v.Verify(rec.got[0].Header, rec.bodies[0]))
	}
}

// An integration key's endpoint gets the events of its own debts only, and another key can
// neither see nor delete it.
func TestEndpointsAreScopedToTheirOwner(t *testing.T) {
	t.Parallel()
	pool, _ := testdb.New(t)
	ctx := context.Background()
	q := dbgen.New(pool)
	mensa := access.Principal{Kind: access.KindClient, Name: "mensa", Role: access.Integration, Services: []string{"MENSA"}}
	other := access.Principal{Kind: access.KindClient, Name: "sale", Role: access.Integration, Services: []string{"SALA"}}
	ep, _, err := webhooks.Register(ctx, q, mensa, webhooks.Registration{URL: "https://mensa.example.it/hook", EventTypes: []string{"debt.created"}})
	require.NoError(t, err)
	newDebt(t, q, "MENSA-1", "MENSA", "client:mensa")
	newDebt(t, q, "MENSA-2", "MENSA", "client:altro")
	newDebt(t, q, "MENSA-3", "MENSA", "client:mensa")
	pending := next(t, pool, ep.ID, 2)
	require.Len(t, pending, 2)

	_, err = webhooks.Get(ctx, q, other, ep.ID)
	require.ErrorIs(t, err, webhooks.ErrNotFound)
	require.ErrorIs(t, webhooks.Delete(ctx, q, other, ep.ID), webhooks.ErrNotFound)
	list, err := webhooks.List(ctx, q, other)
	require.NoError(t, err)
	require.Empty(t, list)
	list, err = webhooks.List(ctx, q, finance)
	require.NoError(t, err)
	require.Len(t, list, 1)

	require.NoError(t, webhooks.Delete(ctx, q, mensa, ep.ID))
	_, active, err := webhooks.Next(ctx, pool, ep.ID, 500, 100)
	require.NoError(t, err)
	require.False(t, active, "a deleted endpoint's workflow ends")
}

// Disabled, an endpoint's pending deliveries fail; enabled again, they are pending again.
func TestDisableAndEnable(t *testing.T) {
	t.Parallel()
	pool, _ := testdb.New(t)
	ctx := context.Background()
	q := dbgen.New(pool)
	ep, _, err := webhooks.Register(ctx, q, finance, webhooks.Registration{URL: "https://x.example.it/", EventTypes: []string{"debt.created"}})
	require.NoError(t, err)
	newDebt(t, q, "MENSA-1", "MENSA", "")
	pending := next(t, pool, ep.ID, 1)
	require.Len(t, pending, 1)
	disabled, err := webhooks.Disable(ctx, pool, ep.ID, "delivery 1 not accepted for 72h0m0s")
	require.NoError(t, err)
	require.True(t, disabled)
	got, err := webhooks.Get(ctx, q, finance, ep.ID)
	require.NoError(t, err)
	require.Equal(t, webhooks.StatusDisabled, got.Status)
	require.Equal(t, "delivery 1 not accepted for 72h0m0s", got.DisabledReason)
	_, active, err := webhooks.Next(ctx, pool, ep.ID, 500, 100)
	require.NoError(t, err)
	require.False(t, active)
	f, _ := fault.As(webhooks.Replay(ctx, q, finance, ep.ID, pending[0]))
	require.Equal(t, fault.Conflict, f.Kind)

	_, err = webhooks.Enable(ctx, pool, finance, ep.ID)
	require.NoError(t, err)
	require.Equal(t, pending, next(t, pool, ep.ID, 1))
}

func TestRegistrationIsValidated(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		r     webhooks.Registration
		field string
	}{
		{webhooks.Registration{URL: "ftp://x.example.it/", EventTypes: []string{"debt.paid"}}, "url"},
		{webhooks.Registration{URL: "https://user:pw@x.example.it/", EventTypes: []string{"debt.paid"}}, "url"},
		{webhooks.Registration{URL: "/relative", EventTypes: []string{"debt.paid"}}, "url"},
		{webhooks.Registration{URL: "https://x.example.it/"}, "eventTypes"},
		{webhooks.Registration{URL: "https://x.example.it/", EventTypes: []string{"debt.paid", "debt.eaten"}}, "eventTypes[1]"},
	} {
		f, ok := fault.As(tt.r.Validate())
		require.True(t, ok, tt.r)
		require.Equal(t, tt.field, f.Fields[0].Field, tt.r)
	}
	require.NoError(t, webhooks.Registration{URL: "https://x.example.it/h?t=1", EventTypes: []string{"debt.paid"}}.Validate())
}

// Without AllowPrivate a delivery never connects to loopback, private or link-local addresses.
func TestGuardRefusesPrivateAddresses(t *testing.T) {
	t.Parallel()
	guard := webhooks.Guard(false)
	for _, addr := range []string{"127.0.0.1:80", "10.1.2.3:443", "192.168.0.1:80", "169.254.169.254:80", "[::1]:80", "[fd00::1]:443", "0.0.0.0:80"} {
		require.Error(t, guard("tcp", addr, nil), addr)
	}
	require.NoError(t, guard("tcp", "93.184.216.34:443", nil))
	require.NoError(t, webhooks.Guard(true)("tcp", "127.0.0.1:80", nil))
}
