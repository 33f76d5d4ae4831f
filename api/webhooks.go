package api

import (
	"context"
	"fmt"
	"net/http"
	"strconv"
	"time"

	"github.com/labstack/echo/v4"
	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/sdk/client"

	"incasso/db/dbgen"
	"incasso/services/events"
	"incasso/services/webhooks"
	"incasso/workflows"
)

// WebhookRequest is the body of POST /v1/webhooks.
type WebhookRequest struct {
	URL        string   `json:"url"`
	EventTypes []string `json:"eventTypes"`
}

// Webhook is a registered endpoint. Secret is given only by POST /v1/webhooks and
// .../rotate-secret: it is not shown again.
type Webhook struct {
	ID             int64      `json:"id"`
	URL            string     `json:"url"`
	EventTypes     []string   `json:"eventTypes"`
	Owner          string     `json:"owner"`
	Status         string     `json:"status"` // ACTIVE, DISABLED
	DisabledReason string     `json:"disabledReason,omitempty"`
	DisabledAt     *time.Time `json:"disabledAt,omitempty"`
	CreatedAt      time.Time  `json:"createdAt"`
	// PreviousSecretValidUntil is when the secret replaced by the last rotation stops signing.
	PreviousSecretValidUntil *time.Time `json:"previousSecretValidUntil,omitempty"`
	Secret                   string     `json:"secret,omitempty"`
	Links                    struct {
		Deliveries string `json:"deliveries"`
	} `json:"links"`
}

// WebhookDelivery is one event's delivery to an endpoint, with the last answer received.
type WebhookDelivery struct {
	ID              int64      `json:"id"`
	EventID         string     `json:"eventId"` // the webhook-id header sent
	EventType       string     `json:"eventType"`
	Status          string     `json:"status"` // PENDING, DELIVERED, FAILED
	Attempts        int        `json:"attempts"`
	CreatedAt       time.Time  `json:"createdAt"`
	DeliveredAt     *time.Time `json:"deliveredAt,omitempty"`
	LastStatusCode  int        `json:"lastStatusCode,omitempty"`
	LastResponse    string     `json:"lastResponse,omitempty"` // the start of the body answered
	LastError       string     `json:"lastError,omitempty"`
	LastAttemptedAt *time.Time `json:"lastAttemptedAt,omitempty"`
}

// WebhookDeliveries is a page of an endpoint's delivery log, newest first.
type WebhookDeliveries struct {
	Deliveries []WebhookDelivery `json:"deliveries"`
	Next       string            `json:"next,omitempty"`
}

func webhookOf(e webhooks.Endpoint, secret string) Webhook {
	w := Webhook{
		ID: e.ID, URL: e.URL, EventTypes: e.EventTypes, Owner: e.Owner, Status: e.Status,
		DisabledReason: e.DisabledReason, DisabledAt: timeOrNil(e.DisabledAt), CreatedAt: e.CreatedAt,
		PreviousSecretValidUntil: timeOrNil(e.PreviousSecretUntil), Secret: secret,
	}
	w.Links.Deliveries = "/v1/webhooks/" + strconv.FormatInt(e.ID, 10) + "/deliveries"
	return w
}

func timeOrNil(t time.Time) *time.Time {
	if t.IsZero() {
		return nil
	}
	return &t
}

// createWebhook registers an endpoint for the caller, starts its workflow and answers 201
// with the secret, shown this once.
func (s *Server) createWebhook(c echo.Context) error {
	var req WebhookRequest
	if err := decodeJSON(c, &req); err != nil {
		return err
	}
	ctx := c.Request().Context()
	e, secret, err := webhooks.Register(ctx, dbgen.New(s.Pool), principalOf(c), webhooks.Registration{URL: req.URL, EventTypes: req.EventTypes})
	if err != nil {
		return err
	}
	auditTarget(c, "webhook", strconv.FormatInt(e.ID, 10))
	if err := s.startWebhook(ctx, e.ID); err != nil {
		return err
	}
	c.Response().Header().Set(echo.HeaderLocation, "/v1/webhooks/"+strconv.FormatInt(e.ID, 10))
	return c.JSON(http.StatusCreated, webhookOf(e, secret))
}

// startWebhook starts the endpoint's workflow, or finds it running.
func (s *Server) startWebhook(ctx context.Context, id int64) error {
	_, err := s.Temporal.ExecuteWorkflow(ctx, client.StartWorkflowOptions{
		ID:                       workflows.WebhookWorkflowID(id),
		TaskQueue:                s.Config.TaskQueue,
		WorkflowIDReusePolicy:    enumspb.WORKFLOW_ID_REUSE_POLICY_ALLOW_DUPLICATE,
		WorkflowIDConflictPolicy: enumspb.WORKFLOW_ID_CONFLICT_POLICY_USE_EXISTING,
	}, workflows.WebhookEndpoint, workflows.WebhookInput{
		EndpointID: id, GiveUpAfter: s.Config.Webhooks.GiveUpAfter, FirstRetry: s.Config.Webhooks.FirstRetry,
	})
	if err != nil {
		s.Log.Error("start webhook workflow", "endpoint_id", id, "err", err)
		path := "/v1/webhooks/" + strconv.FormatInt(id, 10)
		return problem(http.StatusServiceUnavailable, "the endpoint "+path+" is stored but its deliveries could not start: POST "+path+"/enable later (and, if its secret was not received, "+path+"/rotate-secret)")
	}
	return nil
}

func (s *Server) listWebhooks(c echo.Context) error {
	list, err := webhooks.List(c.Request().Context(), dbgen.New(s.Pool), principalOf(c))
	if err != nil {
		return err
	}
	out := make([]Webhook, len(list))
	for i, e := range list {
		out[i] = webhookOf(e, "")
	}
	return c.JSON(http.StatusOK, map[string][]Webhook{"webhooks": out})
}

// webhookID reads the :id of a webhook route; a bad one is no such endpoint.
func webhookID(c echo.Context) (int64, error) {
	v := c.Param("id")
	id, err := strconv.ParseInt(v, 10, 64)
	if err != nil || id < 1 || v[0] == '+' {
		return 0, webhooks.ErrNotFound
	}
	auditTarget(c, "webhook", v)
	return id, nil
}

func (s *Server) getWebhook(c echo.Context) error {
	id, err := webhookID(c)
	if err != nil {
		return err
	}
	e, err := webhooks.Get(c.Request().Context(), dbgen.New(s.Pool), principalOf(c), id)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, webhookOf(e, ""))
}

// deleteWebhook removes an endpoint; its workflow ends by itself at its next look at the feed.
func (s *Server) deleteWebhook(c echo.Context) error {
	id, err := webhookID(c)
	if err != nil {
		return err
	}
	if err := webhooks.Delete(c.Request().Context(), dbgen.New(s.Pool), principalOf(c), id); err != nil {
		return err
	}
	return c.NoContent(http.StatusNoContent)
}

// rotateWebhookSecret gives the endpoint a new secret, answered this once; the old one keeps
// signing for INCASSO_WEBHOOK_SECRET_GRACE.
func (s *Server) rotateWebhookSecret(c echo.Context) error {
	id, err := webhookID(c)
	if err != nil {
		return err
	}
	e, secret, err := webhooks.Rotate(c.Request().Context(), dbgen.New(s.Pool), principalOf(c), id, s.Now(), s.Config.Webhooks.SecretGrace)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, webhookOf(e, secret))
}

// enableWebhook makes a disabled endpoint active again and starts its workflow: the
// deliveries that failed go out again first, in order. For an active endpoint it only makes
// sure its workflow runs (after a start that failed, say).
func (s *Server) enableWebhook(c echo.Context) error {
	id, err := webhookID(c)
	if err != nil {
		return err
	}
	e, err := webhooks.Enable(c.Request().Context(), s.Pool, principalOf(c), id)
	if err != nil {
		return err
	}
	if err := s.startWebhook(c.Request().Context(), id); err != nil {
		return err
	}
	return c.JSON(http.StatusOK, webhookOf(e, ""))
}

// listWebhookDeliveries is the endpoint's delivery log, newest first (?limit=&before=).
func (s *Server) listWebhookDeliveries(c echo.Context) error {
	id, err := webhookID(c)
	if err != nil {
		return err
	}
	pg, errs := pageOf(c, 50, 500)
	if len(errs) > 0 {
		return invalid(errs)
	}
	list, err := webhooks.Deliveries(c.Request().Context(), dbgen.New(s.Pool), principalOf(c), id, pg.before, pg.limit)
	if err != nil {
		return err
	}
	page := WebhookDeliveries{Deliveries: make([]WebhookDelivery, len(list))}
	for i, d := range list {
		page.Deliveries[i] = WebhookDelivery{
			ID: d.ID, EventID: events.EventID(d.EventID), EventType: d.EventType, Status: d.Status, Attempts: d.Attempts,
			CreatedAt: d.CreatedAt, DeliveredAt: timeOrNil(d.DeliveredAt), LastStatusCode: d.LastStatusCode,
			LastResponse: d.LastResponse, LastError: d.LastError, LastAttemptedAt: timeOrNil(d.LastAttemptedAt),
		}
	}
	if len(list) == pg.limit {
		page.Next = fmt.Sprintf("/v1/webhooks/%d/deliveries?limit=%d&before=%d", id, pg.limit, list[len(list)-1].ID)
	}
	return c.JSON(http.StatusOK, page)
}

// replayWebhookDelivery queues a delivery again: it goes out at the endpoint's next look at
// the feed, with the same webhook-id (receivers deduplicate on it).
func (s *Server) replayWebhookDelivery(c echo.Context) error {
	id, err := webhookID(c)
	if err != nil {
		return err
	}
	v := c.Param("delivery")
	delivery, err := strconv.ParseInt(v, 10, 64)
	if err != nil || delivery < 1 || v[0] == '+' {
		return problem(http.StatusNotFound, "no such delivery of this endpoint")
	}
	auditTarget(c, "delivery", v)
	if err := webhooks.Replay(c.Request().Context(), dbgen.New(s.Pool), principalOf(c), id, delivery); err != nil {
		return err
	}
	return c.JSON(http.StatusAccepted, map[string]string{"status": "PENDING", "detail": "the delivery is queued again"})
}
