// Package webhooks delivers the event feed (package events) to the endpoints other systems
// register: each event of the endpoint's types its owner may see, at least once, in order,
// signed with the Standard Webhooks scheme (webhook-id, webhook-timestamp, webhook-signature
// "v1,<base64 HMAC-SHA256 of id.timestamp.body>"). Each endpoint has its own Temporal workflow
// (workflows.WebhookEndpoint), which retries a failing delivery with backoff and disables the
// endpoint when it has failed for Config.Webhooks.GiveUpAfter; every attempt is logged with the
// answer received, and an operator replays a delivery from that log.
package webhooks

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/jackc/pgx/v5/pgtype"
	"github.com/jackc/pgx/v5/pgxpool"

	"incasso/db"
	"incasso/db/dbgen"
	"incasso/services/access"
	"incasso/services/events"
	"incasso/services/fault"
)

// The states of an endpoint.
const (
	StatusActive   = "ACTIVE"
	StatusDisabled = "DISABLED"
)

// Endpoint is a registered endpoint, without its secrets.
type Endpoint struct {
	ID             int64
	URL            string
	EventTypes     []string
	Owner          string
	Status         string
	DisabledReason string
	DisabledAt     time.Time // zero unless disabled
	CreatedAt      time.Time
	// PreviousSecretUntil is when the secret replaced by the last rotation stops signing.
	PreviousSecretUntil time.Time
}

// Registration is what POST /v1/webhooks asks for.
type Registration struct {
	URL        string
	EventTypes []string
}

// Validate names every invalid field. Only http and https URLs with a host are taken, without
// user information; where they may point is checked when delivering (Guard).
func (r Registration) Validate() error {
	var errs []fault.FieldError
	u, err := url.Parse(r.URL)
	switch {
	case r.URL == "":
		errs = append(errs, fault.FieldError{Field: "url", Message: "required"})
	case len(r.URL) > 2000 || err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.Hostname() == "":
		errs = append(errs, fault.FieldError{Field: "url", Message: "must be an absolute http or https URL of at most 2000 characters"})
	case u.User != nil:
		errs = append(errs, fault.FieldError{Field: "url", Message: "must not carry a user or password: the signature authenticates incasso"})
	case u.Fragment != "":
		errs = append(errs, fault.FieldError{Field: "url", Message: "must not have a fragment"})
	}
	if len(r.EventTypes) == 0 {
		errs = append(errs, fault.FieldError{Field: "eventTypes", Message: "at least one event type: " + strings.Join(events.Types, ", ")})
	} else if err := events.CheckTypes("eventTypes", r.EventTypes); err != nil {
		f, _ := fault.As(err)
		errs = append(errs, f.Fields...)
	}
	if len(errs) > 0 {
		return fault.InvalidFields(errs...)
	}
	return nil
}

// Register stores an endpoint of p, which receives what p may read of the feed, and returns
// it with its secret ("whsec_" and base64), which is shown this once.
func Register(ctx context.Context, q *dbgen.Queries, p access.Principal, r Registration) (Endpoint, string, error) {
	if err := r.Validate(); err != nil {
		return Endpoint{}, "", err
	}
	secret := newSecret()
	types := slices.Clone(r.EventTypes)
	slices.Sort(types)
	row, err := q.InsertWebhookEndpoint(ctx, dbgen.InsertWebhookEndpointParams{
		Url: r.URL, EventTypes: slices.Compact(types), Owner: p.Actor(), OwnerRole: string(p.Role),
		OwnerServices: append([]string{}, p.Services...), OwnerAllDebts: p.AllDebts, Secret: secret,
	})
	if err != nil {
		return Endpoint{}, "", fmt.Errorf("register webhook endpoint: %w", err)
	}
	return endpointOf(row), FormatSecret(secret), nil
}

// ErrNotFound is an endpoint that does not exist, was deleted, or is not the caller's.
var ErrNotFound = fault.New(fault.NotFound, "no such webhook endpoint")

// Get returns endpoint id if p may see it: an integration key only its own.
func Get(ctx context.Context, q *dbgen.Queries, p access.Principal, id int64) (Endpoint, error) {
	row, err := get(ctx, q, p, id)
	return endpointOf(row), err
}

func get(ctx context.Context, q *dbgen.Queries, p access.Principal, id int64) (dbgen.WebhookEndpoint, error) {
	row, err := q.GetWebhookEndpoint(ctx, id)
	if errors.Is(db.NotFound(err), db.ErrNotFound) || (err == nil && !mayManage(p, row)) {
		return dbgen.WebhookEndpoint{}, ErrNotFound
	}
	if err != nil {
		return dbgen.WebhookEndpoint{}, fmt.Errorf("load webhook endpoint %d: %w", id, err)
	}
	return row, nil
}

func mayManage(p access.Principal, e dbgen.WebhookEndpoint) bool {
	return p.Role != access.Integration || e.Owner == p.Actor()
}

// List returns the endpoints p may see, oldest first.
func List(ctx context.Context, q *dbgen.Queries, p access.Principal) ([]Endpoint, error) {
	owner := ""
	if p.Role == access.Integration {
		owner = p.Actor()
	}
	rows, err := q.ListWebhookEndpoints(ctx, owner)
	if err != nil {
		return nil, fmt.Errorf("list webhook endpoints: %w", err)
	}
	out := make([]Endpoint, len(rows))
	for i, r := range rows {
		out[i] = endpointOf(r)
	}
	return out, nil
}

// Delete removes an endpoint: its workflow ends at its next look at the feed, and nothing more
// is sent to it. Its delivery log stays.
func Delete(ctx context.Context, q *dbgen.Queries, p access.Principal, id int64) error {
	if _, err := get(ctx, q, p, id); err != nil {
		return err
	}
	_, err := q.DeleteWebhookEndpoint(ctx, id)
	return err
}

// Rotate gives the endpoint a new secret, returned this once; the old one keeps signing (a
// second signature in webhook-signature) for grace, so the receiver can switch over.
func Rotate(ctx context.Context, q *dbgen.Queries, p access.Principal, id int64, now time.Time, grace time.Duration) (Endpoint, string, error) {
	if _, err := get(ctx, q, p, id); err != nil {
		return Endpoint{}, "", err
	}
	secret := newSecret()
	row, err := q.RotateWebhookSecret(ctx, dbgen.RotateWebhookSecretParams{
		ID: id, Secret: secret, PreviousValidUntil: pgtype.Timestamptz{Time: now.Add(grace), Valid: true},
	})
	if err != nil {
		return Endpoint{}, "", fmt.Errorf("rotate webhook secret %d: %w", id, err)
	}
	return endpointOf(row), FormatSecret(secret), nil
}

// Enable makes a disabled endpoint active again, the deliveries that failed queued again in
// order; an active one stays as it is. Its workflow must then be started (or found running):
// it goes on from there and from where its cursor was.
func Enable(ctx context.Context, pool *pgxpool.Pool, p access.Principal, id int64) (Endpoint, error) {
	row, err := get(ctx, dbgen.New(pool), p, id)
	if err != nil || row.Status == StatusActive {
		return endpointOf(row), err
	}
	err = db.InTx(ctx, pool, func(q *dbgen.Queries) error {
		if _, err := q.EnableWebhookEndpoint(ctx, id); err != nil {
			return err
		}
		return q.RequeueFailedWebhookDeliveries(ctx, id)
	})
	if err != nil {
		return Endpoint{}, fmt.Errorf("enable webhook endpoint %d: %w", id, err)
	}
	row.Status, row.DisabledReason, row.DisabledAt = StatusActive, "", pgtype.Timestamptz{}
	return endpointOf(row), nil
}

// Replay queues a delivery again; the endpoint's workflow sends it at its next look at the
// feed. A disabled endpoint must be enabled first.
func Replay(ctx context.Context, q *dbgen.Queries, p access.Principal, endpointID, deliveryID int64) error {
	row, err := get(ctx, q, p, endpointID)
	if err != nil {
		return err
	}
	if row.Status != StatusActive {
		return fault.New(fault.Conflict, "the endpoint is disabled: enable it first")
	}
	n, err := q.ReplayWebhookDelivery(ctx, dbgen.ReplayWebhookDeliveryParams{ID: deliveryID, EndpointID: endpointID})
	if err != nil {
		return fmt.Errorf("replay webhook delivery %d: %w", deliveryID, err)
	}
	if n == 0 {
		return fault.New(fault.NotFound, "no such delivery of this endpoint")
	}
	return nil
}

// Delivery is one event's delivery to an endpoint, with the last answer received.
type Delivery struct {
	ID, EventID     int64
	EventType       string
	Status          string // PENDING, DELIVERED, FAILED (the endpoint was disabled)
	Attempts        int
	CreatedAt       time.Time
	DeliveredAt     time.Time // zero until delivered
	LastStatusCode  int       // 0: no answer
	LastResponse    string    // the start of the body answered
	LastError       string    // why there was no answer
	LastAttemptedAt time.Time
}

// Deliveries is a page of the endpoint's delivery log, newest first, before the delivery id given.
func Deliveries(ctx context.Context, q *dbgen.Queries, p access.Principal, endpointID, before int64, limit int) ([]Delivery, error) {
	if _, err := get(ctx, q, p, endpointID); err != nil {
		return nil, err
	}
	rows, err := q.ListWebhookDeliveries(ctx, dbgen.ListWebhookDeliveriesParams{EndpointID: endpointID, BeforeID: before, MaxRows: int32(limit)})
	if err != nil {
		return nil, fmt.Errorf("list webhook deliveries: %w", err)
	}
	out := make([]Delivery, len(rows))
	for i, r := range rows {
		out[i] = Delivery{
			ID: r.ID, EventID: r.EventID, EventType: r.Type, Status: r.Status, Attempts: int(r.Attempts),
			CreatedAt: r.CreatedAt.Time, DeliveredAt: r.DeliveredAt.Time, LastStatusCode: int(r.LastStatusCode),
			LastResponse: r.LastResponse, LastError: r.LastError, LastAttemptedAt: r.LastAttemptedAt.Time,
		}
	}
	return out, nil
}

func endpointOf(r dbgen.WebhookEndpoint) Endpoint {
	return Endpoint{
		ID: r.ID, URL: r.Url, EventTypes: r.EventTypes, Owner: r.Owner, Status: r.Status,
		DisabledReason: r.DisabledReason, DisabledAt: r.DisabledAt.Time, CreatedAt: r.CreatedAt.Time,
		PreviousSecretUntil: r.PreviousValidUntil.Time,
	}
}

func newSecret() []byte {
	b := make([]byte, 32)
	_, _ = rand.Read(b) // crypto/rand.Read never fails
	return b
}

// Next queues the deliveries of the events that reached the feed since the endpoint last
// looked (up to scan events of it), and returns the deliveries still pending, oldest first (at
// most max). active is false when the endpoint is disabled or deleted: nothing is to be sent.
func Next(ctx context.Context, pool *pgxpool.Pool, endpointID int64, scan, max int) (pending []int64, active bool, err error) {
	q := dbgen.New(pool)
	row, err := q.GetWebhookEndpoint(ctx, endpointID)
	if errors.Is(db.NotFound(err), db.ErrNotFound) {
		return nil, false, nil
	} else if err != nil {
		return nil, false, fmt.Errorf("load webhook endpoint %d: %w", endpointID, err)
	}
	if row.Status != StatusActive {
		return nil, false, nil
	}
	if err := q.QueueWebhookDeliveries(ctx, dbgen.QueueWebhookDeliveriesParams{EndpointID: endpointID, MaxEvents: int32(scan)}); err != nil {
		return nil, false, fmt.Errorf("queue webhook deliveries of endpoint %d: %w", endpointID, err)
	}
	pending, err = q.PendingWebhookDeliveries(ctx, dbgen.PendingWebhookDeliveriesParams{EndpointID: endpointID, Limit: int32(max)})
	if err != nil {
		return nil, false, fmt.Errorf("pending webhook deliveries of endpoint %d: %w", endpointID, err)
	}
	return pending, true, nil
}

// Disable stops deliveries to an endpoint, saying why; what it was still owed becomes FAILED,
// for an operator to replay once it is enabled again. It reports whether this call disabled it.
func Disable(ctx context.Context, pool *pgxpool.Pool, endpointID int64, reason string) (bool, error) {
	var disabled bool
	err := db.InTx(ctx, pool, func(q *dbgen.Queries) error {
		n, err := q.DisableWebhookEndpoint(ctx, dbgen.DisableWebhookEndpointParams{ID: endpointID, DisabledReason: reason})
		if err != nil || n == 0 {
			return err
		}
		disabled = true
		return q.FailWebhookDeliveries(ctx, endpointID)
	})
	return disabled, err
}
