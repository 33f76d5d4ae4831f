// Package api is incasso's HTTP interface (Echo v4): the REST API under /v1 for other systems,
// the pagoPA paForNode SOAP endpoint for the Nodo, and health checks. Errors leave as RFC 9457
// problem+json through one handler.
package api

import (
	"context"
	"crypto/x509"
	"fmt"
	"log/slog"
	"net/http"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/labstack/echo/v4"
	"github.com/labstack/echo/v4/middleware"
	"go.temporal.io/sdk/client"

	"incasso/app/config"
	"incasso/services/access"
	"incasso/services/audit"
	"incasso/services/campaigns"
	"incasso/services/receipts"
	"incasso/services/treasury"
)

// temporalClient is the part of the Temporal client the API uses.
type temporalClient interface {
	ExecuteWorkflow(ctx context.Context, options client.StartWorkflowOptions, workflow any, args ...any) (client.WorkflowRun, error)
	SignalWorkflow(ctx context.Context, workflowID, runID, signalName string, arg any) error
	UpdateWorkflow(ctx context.Context, options client.UpdateWorkflowOptions) (client.WorkflowUpdateHandle, error)
	CheckHealth(ctx context.Context, request *client.CheckHealthRequest) (*client.CheckHealthResponse, error)
}

// Console is the web console as the API serves it: mounted under /console/, and its sessions
// are accepted by the GET endpoints of /v1 (so its pages can poll them and link to them).
type Console interface {
	http.Handler
	// SessionPrincipal returns who holds the valid console session r carries.
	SessionPrincipal(r *http.Request) (access.Principal, bool)
}

// Server holds the API's dependencies.
type Server struct {
	Pool     *pgxpool.Pool
	Temporal temporalClient
	Config   config.Config
	// Receipts records the receipts the Nodo delivers.
	Receipts *receipts.Recorder
	// TemporalUIURL, when set, is used to link each debt to its workflow in the Web UI.
	TemporalUIURL string
	Log           *slog.Logger
	// Now is the clock that decides which due dates are in the past; nil means time.Now.
	Now func() time.Time
	// Console, when set, is the finance office's web console, served under /console/.
	Console Console
	// Campaigns is the campaign service; nil means one on Pool and Temporal.
	Campaigns *campaigns.Service
	// ObserveRequest, when set, is told of every request by its route pattern (the metrics).
	ObserveRequest func(method, route string, status int, took time.Duration)
	// Trace, when set, makes a span of every request (package app/tracing).
	Trace echo.MiddlewareFunc

	// PECProviders are the certificates of the PEC providers whose signed receipts are
	// believed (INCASSO_PEC_PROVIDERS); nil believes a receipt's headers (development).
	PECProviders *x509.CertPool
	auditKey     []byte // keys the pseudonyms of the audit trail
}

// Handler returns the Echo instance with every route.
func (s *Server) Handler() *echo.Echo {
	if s.Now == nil {
		s.Now = time.Now
	}
	if s.Campaigns == nil {
		s.Campaigns = &campaigns.Service{Pool: s.Pool, Temporal: s.Temporal, TaskQueue: s.Config.TaskQueue, Log: s.Log}
	}
	s.auditKey = audit.PseudonymKey(s.Config.AuditKey, s.Config.ConsoleKey)
	e := s.newEcho()
	e.Use(s.limitIP())
	e.GET("/readyz", s.readyz)
	s.contractRoutes(e)
	if s.Config.Node.Addr == "" { // else on its own listener: NodeHandler
		e.POST(nodePath, s.paForNode, s.nodeAllowed)
	}

	// Every route of /v1 is authenticated, limited, audited as its rule says and authorized
	// by its rule (services/access), the refusals audited too; a POST with an Idempotency-Key
	// is one operation however often it comes (idempotent).
	v1 := e.Group("/v1", s.requireAPIKey, s.limitClient(), s.auditTrail, s.authorize, s.idempotent)
	v1.POST("/debts", s.createDebt)
	v1.GET("/debts", s.searchDebts)
	v1.POST("/debts/search", s.searchDebts)
	v1.GET("/exports/debts.csv", s.exportDebts("csv"))
	v1.POST("/exports/debts.csv", s.exportDebts("csv"))
	v1.GET("/exports/debts.jsonl", s.exportDebts("jsonl"))
	v1.POST("/exports/debts.jsonl", s.exportDebts("jsonl"))
	v1.POST("/debtors/file", s.debtorFile)
	v1.GET("/debts/:iupd", s.getDebt)
	v1.GET("/debts/:iupd/notice.pdf", s.getNoticePDF)
	v1.POST("/debts/:iupd/cancel", s.cancelDebt)
	v1.POST("/debts/:iupd/change", s.changeDebt)
	v1.POST("/debts/:iupd/upgrade-policy", s.upgradePolicy)
	v1.POST("/debts/:iupd/instalment-plan", s.requestPlan)
	v1.GET("/debts/:iupd/instalment-plan", s.getPlan)
	v1.POST("/debts/:iupd/instalment-plan/suspend", s.suspendPlan)
	v1.POST("/debts/:iupd/instalment-plan/resume", s.resumePlan)
	v1.POST("/debts/:iupd/instalment-plan/mandate", s.replaceMandate)
	v1.GET("/policies/:service", s.getPolicy)
	v1.PUT("/policies/:service", s.putPolicy)
	v1.GET("/policies/:service/versions/:version", s.getPolicyVersion)
	v1.POST("/enforcement/exports", s.exportEnforcement)
	v1.GET("/enforcement/exports", s.listEnforcementExports)
	v1.GET("/enforcement/exports/:id", s.getEnforcementExport)
	v1.POST("/campaigns", s.importCampaign)
	v1.GET("/campaigns", s.listCampaigns)
	v1.GET("/campaigns/:id", s.getCampaign)
	v1.POST("/campaigns/:id/launch", s.launchCampaign)
	v1.POST("/campaigns/:id/pause", s.pauseCampaign)
	v1.POST("/campaigns/:id/resume", s.resumeCampaign)
	v1.POST("/campaigns/:id/cancel", s.cancelCampaign)
	v1.POST("/campaigns/:id/withdraw", s.withdrawCampaign)
	v1.GET("/receipts/flagged", s.listFlaggedReceipts)
	v1.POST("/receipts/flagged/:receiptId/resolve", s.resolveFlaggedReceipt)
	v1.GET("/reconciliation/differences", s.listDifferences)
	v1.POST("/reconciliation/differences/:id/resolve", s.resolveDifference)
	v1.POST("/reconciliation/fdr-runs", s.runFdRIntake)
	v1.GET("/reconciliation/accounting.csv", s.accountingFile("contabilita", (*treasury.Intake).Accounting))
	v1.GET("/reconciliation/open.csv", s.accountingFile("aperti", (*treasury.Intake).Open))
	v1.GET("/communications", s.listCommunications)
	v1.POST("/communications/search", s.searchCommunications)
	v1.GET("/communications/:id", s.getCommunicationFile) // {id}.eml, or {id}.pdf for a letter
	v1.GET("/communications/:id/receipts", s.listCommunicationReceipts)
	v1.POST("/communications/:id/receipts", s.addCommunicationReceipt)
	v1.GET("/communications/:id/receipts/:rid", s.getCommunicationReceiptFile) // {rid}.eml
	v1.POST("/communications/:id/return-card", s.addReturnCard)
	v1.POST("/communications/:id/posted", s.markPosted)
	v1.GET("/audit", s.listAudit)
	v1.GET("/events", s.listEvents)
	v1.POST("/webhooks", s.createWebhook)
	v1.GET("/webhooks", s.listWebhooks)
	v1.GET("/webhooks/:id", s.getWebhook)
	v1.DELETE("/webhooks/:id", s.deleteWebhook)
	v1.POST("/webhooks/:id/rotate-secret", s.rotateWebhookSecret)
	v1.POST("/webhooks/:id/enable", s.enableWebhook)
	v1.GET("/webhooks/:id/deliveries", s.listWebhookDeliveries)
	v1.POST("/webhooks/:id/deliveries/:delivery/replay", s.replayWebhookDelivery)

	s.codecRoutes(e)

	if s.Console != nil {
		e.GET("/console", func(c echo.Context) error { return c.Redirect(http.StatusFound, "/console/") })
		e.Any("/console/*", echo.WrapHandler(s.Console))
	}
	return e
}

// newEcho is an Echo instance with the middleware every listener has (errors as problems,
// panics recovered, request ids, the request log, body limits: Config.Limits.BodyBytes, 2 MiB
// when unset), the trace of each request when tracing is on, and /healthz.
func (s *Server) newEcho() *echo.Echo {
	e := echo.New()
	e.HideBanner, e.HidePort = true, true
	e.HTTPErrorHandler = s.handleError
	e.IPExtractor = ClientIP(s.Config.Limits.TrustedProxies)
	e.Use(middleware.Recover())
	e.Use(middleware.RequestID())
	e.Use(s.logRequests)
	if s.Trace != nil {
		e.Use(s.Trace)
	}
	e.Use(s.limitBody)
	e.GET("/healthz", s.healthz)
	return e
}

// logRequests logs method, route pattern, status and duration, and counts them in the
// metrics: never bodies or parameters, which may carry personal data.
func (s *Server) logRequests(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		start := time.Now()
		err := next(c)
		if err != nil {
			c.Error(err)
		}
		took := time.Since(start)
		s.Log.Info("request", "method", c.Request().Method, "route", c.Path(),
			"status", c.Response().Status, "took", took.Round(time.Microsecond),
			"request_id", c.Response().Header().Get(echo.HeaderXRequestID))
		if s.ObserveRequest != nil {
			s.ObserveRequest(c.Request().Method, c.Path(), c.Response().Status, took)
		}
		return nil
	}
}

func (s *Server) healthz(c echo.Context) error {
	return c.JSON(http.StatusOK, map[string]string{"status": "ok"})
}

func (s *Server) readyz(c echo.Context) error {
	ctx, cancel := context.WithTimeout(c.Request().Context(), 3*time.Second)
	defer cancel()
	checks := map[string]string{"database": "ok", "temporal": "ok"}
	status := http.StatusOK
	if err := s.Pool.Ping(ctx); err != nil {
		checks["database"], status = "unavailable", http.StatusServiceUnavailable
	}
	if _, err := s.Temporal.CheckHealth(ctx, &client.CheckHealthRequest{}); err != nil {
		checks["temporal"], status = "unavailable", http.StatusServiceUnavailable
	}
	return c.JSON(status, checks)
}

// WorkflowURL links a workflow in the Temporal Web UI, or is empty without one.
func (s *Server) WorkflowURL(workflowID string) string { return s.workflowURL(workflowID) }

// workflowURL links a workflow in the Temporal Web UI, or is empty without one.
func (s *Server) workflowURL(workflowID string) string {
	if s.TemporalUIURL == "" {
		return ""
	}
	return fmt.Sprintf("%s/namespaces/%s/workflows/%s", s.TemporalUIURL, s.Config.TemporalNamespace, workflowID)
}
