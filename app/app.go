// Package app wires incasso's processes from configuration: the API server, the worker and,
// for development and end-to-end tests, the whole stack on one machine with the simulators.
package app

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/api/operatorservice/v1"
	"go.temporal.io/sdk/client"

	"incasso/activities"
	"incasso/api"
	"incasso/api/console"
	"incasso/app/config"
	"incasso/app/metrics"
	"incasso/app/tracing"
	"incasso/clients/appio"
	"incasso/clients/bankgw"
	"incasso/clients/fdr"
	"incasso/clients/gpd"
	"incasso/clients/mail"
	"incasso/db"
	"incasso/db/dbgen"
	"incasso/services/apiclients"
	"incasso/services/campaigns"
	"incasso/services/receipts"
	"incasso/services/reconciliation"
	"incasso/worker"
	"incasso/workflows"
)

// Deps are the connections every process needs.
type Deps struct {
	Config   config.Config
	Pool     *pgxpool.Pool
	Temporal client.Client
	Log      *slog.Logger
	// Metrics are the process's metrics, served by ServeMetrics.
	Metrics *metrics.Registry
	// Tracing exports traces when INCASSO_OTEL_ENDPOINT is set; nil otherwise.
	Tracing *tracing.Tracing
}

// Connect opens the database pool and the Temporal client.
func Connect(ctx context.Context, cfg config.Config, log *slog.Logger) (*Deps, error) {
	pool, err := db.Open(ctx, cfg.DatabaseURL)
	if err != nil {
		return nil, err
	}
	m, err := metrics.New()
	if err != nil {
		pool.Close()
		return nil, err
	}
	opts, err := temporalOptions(cfg, log)
	if err != nil {
		pool.Close()
		return nil, err
	}
	opts.MetricsHandler = m.Temporal()
	tr, err := tracing.New(ctx, cfg.OTelEndpoint)
	if err == nil {
		opts.Interceptors, err = tr.Interceptors()
	}
	if err != nil {
		pool.Close()
		return nil, err
	}
	tc, err := client.DialContext(ctx, opts)
	if err != nil {
		pool.Close()
		return nil, fmt.Errorf("connect to Temporal at %s: %w", cfg.TemporalAddress, err)
	}
	return &Deps{Config: cfg, Pool: pool, Temporal: tc, Log: log, Metrics: m, Tracing: tr}, nil
}

// Recorder is the one way receipts are recorded, by push or by recovery.
func (d *Deps) Recorder() *receipts.Recorder {
	return &receipts.Recorder{Pool: d.Pool, Temporal: d.Temporal, ECFiscalCode: d.Config.Creditor.FiscalCode, Log: d.Log.With("component", "receipts")}
}

// EnsureRecoverySchedule creates the Temporal Schedule of the receipt recovery job, or sets
// the interval of the existing one to the configured one.
func EnsureRecoverySchedule(ctx context.Context, c client.Client, cfg config.Config) error {
	spec := client.ScheduleSpec{Intervals: []client.ScheduleIntervalSpec{{Every: cfg.RecoveryEvery}}}
	action := &client.ScheduleWorkflowAction{
		ID: workflows.ReceiptRecoveryScheduleID, Workflow: workflows.ReceiptRecovery, TaskQueue: cfg.TaskQueue,
		WorkflowExecutionTimeout: time.Hour,
	}
	return ensureSchedule(ctx, c, workflows.ReceiptRecoveryScheduleID, spec, action,
		"incasso: ask GPD for receipts that never reached the EC")
}

// PlanPolicy is the policy new instalment plans follow: the defaults, with the reason-code
// table of INCASSO_SDD_REASONS_FILE when set.
func PlanPolicy(cfg config.SDD) (workflows.PlanPolicy, error) {
	policy := workflows.DefaultPlanPolicy()
	policy.PrenotifyDays = cfg.PrenotifyDays
	if cfg.ReasonsFile == "" {
		return policy, nil
	}
	data, err := os.ReadFile(cfg.ReasonsFile)
	if err == nil {
		policy.Reasons, err = workflows.ParseReasonRules(data)
	}
	if err != nil {
		return policy, fmt.Errorf("INCASSO_SDD_REASONS_FILE: %w", err)
	}
	return policy, nil
}

// Close releases the connections.
func (d *Deps) Close() {
	d.Temporal.Close()
	d.Pool.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := d.Tracing.Shutdown(ctx); err != nil {
		d.Log.Warn("tracing: spans not exported", "err", err)
	}
}

// RunWorker runs the Temporal worker until ctx is done.
// A configuration for production must have production secrets (config.CheckProduction).
func RunWorker(ctx context.Context, d *Deps) error {
	cfg := d.Config
	if err := cfg.CheckProduction(); err != nil {
		return err
	}
	measured := gpd.WithTransport(d.Metrics.Transport("gpd", nil))
	debts := &activities.Debts{
		Pool: d.Pool,
		GPD:  gpd.New(cfg.GPDURL, cfg.GPDKey, 30*time.Second, measured),
		Mail: mail.NewSender(mail.SMTPConfig{
			Addr: cfg.SMTPAddr, Username: cfg.SMTPUser, Password: cfg.SMTPPassword, StartTLS: cfg.SMTPStartTLS,
		}),
		PEC: mail.NewSender(mail.SMTPConfig{
			Addr: cfg.PECSMTPAddr, Username: cfg.PECSMTPUser, Password: cfg.PECSMTPPassword, StartTLS: cfg.PECStartTLS,
		}),
		Creditor: cfg.Creditor, Services: cfg.Services, MailFrom: cfg.MailFrom, PECFrom: cfg.PECFrom,
		RetentionYears: cfg.RetentionYears, LadderDay: cfg.LadderDay,
	}
	if len(cfg.IO.Keys) > 0 {
		debts.IO = appio.New(cfg.IO.URL, cfg.IO.Keys, 30*time.Second, appio.WithTransport(d.Metrics.Transport("appio", nil)))
	}
	recovery := &activities.Recovery{
		Pool: d.Pool, GPD: gpd.NewReceipts(cfg.GPDReceiptsURL, cfg.GPDKey, 30*time.Second, measured),
		Recorder: d.Recorder(), MinAge: cfg.RecoveryMinAge, Batch: cfg.RecoveryBatch,
		Log: d.Log.With("component", "recovery"),
	}
	// A debt is left to the normal path as long as a notice is left to its push; one stored
	// more than a day ago and never started is an operator's to look at.
	healer := &activities.Healer{Pool: d.Pool, Temporal: d.Temporal, TaskQueue: cfg.TaskQueue,
		MinAge: cfg.RecoveryMinAge, MaxAge: 24 * time.Hour, Batch: cfg.RecoveryBatch}
	for _, ensure := range []func(context.Context, client.Client, config.Config) error{EnsureRecoverySchedule, EnsurePurgeSchedule, EnsureNotificationsSchedule, EnsureFdRSchedule} {
		if err := ensure(ctx, d.Temporal, cfg); err != nil {
			if ctx.Err() != nil {
				return nil // stopped while starting
			}
			return err
		}
	}
	archive := &activities.Archive{Pool: d.Pool, Log: d.Log.With("component", "archive")}
	campaigns := &activities.Campaigns{
		Pool: d.Pool, Temporal: d.Temporal, Creditor: cfg.Creditor, Services: cfg.Services, TaskQueue: cfg.TaskQueue,
	}
	policy, err := PlanPolicy(cfg.SDD)
	if err != nil {
		return err
	}
	plans := &activities.Plans{
		Debts: debts, GPDPaid: gpd.New(cfg.GPDURL, cfg.GPDKey, 30*time.Second, measured), Temporal: d.Temporal, TaskQueue: cfg.TaskQueue,
		SDD: cfg.SDD, Policy: policy,
	}
	sdd := &activities.SDD{
		Pool: d.Pool, Bank: bankgw.NewHTTP(cfg.SDD.BankURL, cfg.SDD.BankKey, time.Minute, bankgw.WithTransport(d.Metrics.Transport("bank", nil))), Temporal: d.Temporal,
		Creditor: cfg.Creditor, Config: cfg.SDD,
	}
	fdrIntake := &activities.FdR{Log: d.Log.With("component", "fdr"), Intake: &reconciliation.Intake{
		Pool: d.Pool, FdR: fdr.New(cfg.FdR.URL, cfg.FdR.Key, time.Minute, fdr.WithTransport(d.Metrics.Transport("fdr", nil))),
		Receipts: &reconciliation.GPDReceipts{GPD: recovery.GPD, Recorder: recovery.Recorder}, Organization: cfg.Creditor.FiscalCode,
	}}
	w := worker.New(d.Temporal, cfg.TaskQueue, workerOptions(cfg.Worker), worker.Activities{
		Debts: debts, Recovery: recovery, Healer: healer, Archive: archive, Campaigns: campaigns, Plans: plans, SDD: sdd,
		FdR: fdrIntake,
	})
	if err := w.Start(); err != nil {
		return fmt.Errorf("start worker: %w", err)
	}
	d.Log.Info("worker polling", "task_queue", cfg.TaskQueue, "temporal", cfg.TemporalAddress)
	<-ctx.Done()
	w.Stop()
	return nil
}

// RunAPI serves the API on ln until ctx is done, and the Nodo's SOAP endpoint on its own
// listener when the configuration gives it one. A configuration for production must have
// production secrets (config.CheckProduction).
func RunAPI(ctx context.Context, d *Deps, ln net.Listener, temporalUIURL string) error {
	if err := d.Config.CheckProduction(); err != nil {
		return err
	}
	srv := &api.Server{
		Pool: d.Pool, Temporal: d.Temporal, Config: d.Config, Receipts: d.Recorder(),
		TemporalUIURL: temporalUIURL, Log: d.Log.With("component", "api"),
		ObserveRequest: d.Metrics.ObserveRequest, Trace: d.Tracing.Middleware(),
	}
	if f := d.Config.PECProviders; f != "" {
		var err error
		if srv.PECProviders, err = certPool("INCASSO_PEC_PROVIDERS", f); err != nil {
			return err
		}
	}
	if err := d.Metrics.Register(&metrics.State{
		Pool: d.Pool, Temporal: d.Temporal, Unreported: 24 * time.Hour, Log: d.Log.With("component", "metrics"),
		Schedules: []string{workflows.ReceiptRecoveryScheduleID, workflows.ArchivePurgeScheduleID, workflows.BankNotificationsScheduleID,
			workflows.FdRIntakeScheduleID},
	}); err != nil {
		return err
	}
	srv.Campaigns = &campaigns.Service{Pool: d.Pool, Temporal: d.Temporal, TaskQueue: d.Config.TaskQueue, Log: d.Log.With("component", "campaigns")}
	srv.Console = console.New(console.Deps{
		Pool: d.Pool, Config: d.Config, Campaigns: srv.Campaigns, WorkflowURL: srv.WorkflowURL, Log: d.Log,
		Debt: srv.ConsoleDebt, DebtorFile: srv.ConsoleDebtorFile,
	}, console.Options{SessionKey: d.Config.ConsoleKey, LoginRate: d.Config.Limits.Login, ClientIP: api.ClientIP(d.Config.Limits.TrustedProxies)})
	h := srv.Handler()
	if d.Config.Node.Addr == "" {
		d.Log.Info("API listening", "addr", ln.Addr().String())
		return Serve(ctx, ln, h)
	}
	nodeLn, err := NodeListener(d.Config.Node)
	if err != nil {
		return err
	}
	d.Log.Info("API listening", "addr", ln.Addr().String(), "nodo_addr", nodeLn.Addr().String())
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	nodeErr := make(chan error, 1)
	go func() {
		err := Serve(ctx, nodeLn, srv.NodeHandler())
		cancel() // one listener failing stops the other
		nodeErr <- err
	}()
	err = Serve(ctx, ln, h)
	cancel()
	return errors.Join(err, <-nodeErr)
}

// ServeMetrics serves /metrics on INCASSO_METRICS_ADDR, when set, until ctx is done, and
// returns the address it listens on ("" when none). /healthz there answers while the process
// runs: the worker's liveness probe (the worker has no other listener).
func ServeMetrics(ctx context.Context, d *Deps) (string, error) {
	if d.Config.MetricsAddr == "" {
		return "", nil
	}
	ln, err := net.Listen("tcp", d.Config.MetricsAddr)
	if err != nil {
		return "", fmt.Errorf("INCASSO_METRICS_ADDR: %w", err)
	}
	mux := http.NewServeMux()
	mux.Handle("GET /metrics", d.Metrics.Handler())
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, _ *http.Request) { io.WriteString(w, "ok\n") })
	go func() {
		if err := Serve(ctx, ln, mux); err != nil && !errors.Is(err, net.ErrClosed) {
			d.Log.Error("metrics listener stopped", "err", err)
		}
	}()
	d.Log.Info("metrics listening", "addr", ln.Addr().String())
	return ln.Addr().String(), nil
}

// Serve serves h on ln until ctx is done, then shuts down gracefully.
func Serve(ctx context.Context, ln net.Listener, h http.Handler) error {
	s := &http.Server{Handler: h, ReadHeaderTimeout: 10 * time.Second}
	errc := make(chan error, 1)
	go func() { errc <- s.Serve(ln) }()
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
		shutdownCtx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if err := s.Shutdown(shutdownCtx); err != nil {
			return err
		}
		if err := <-errc; !errors.Is(err, http.ErrServerClosed) {
			return err
		}
		return nil
	}
}

// RegisterSearchAttributes adds the custom search attributes incasso's workflows use to the
// namespace, leaving those that exist alone.
func RegisterSearchAttributes(ctx context.Context, c client.Client, namespace string) error {
	existing, err := c.OperatorService().ListSearchAttributes(ctx, &operatorservice.ListSearchAttributesRequest{Namespace: namespace})
	if err != nil {
		return fmt.Errorf("list search attributes: %w", err)
	}
	missing := map[string]enumspb.IndexedValueType{}
	for _, key := range workflows.SearchAttributes {
		if _, ok := existing.GetCustomAttributes()[key.GetName()]; !ok {
			missing[key.GetName()] = enumspb.IndexedValueType(key.GetValueType())
		}
	}
	if len(missing) == 0 {
		return nil
	}
	_, err = c.OperatorService().AddSearchAttributes(ctx, &operatorservice.AddSearchAttributesRequest{
		Namespace: namespace, SearchAttributes: missing,
	})
	if err != nil {
		return fmt.Errorf("add search attributes: %w", err)
	}
	return nil
}

// EnsureAPIClient stores the hash of key for the client name with its grant, replacing an
// earlier key.
func EnsureAPIClient(ctx context.Context, d *Deps, name, key string, g apiclients.Grant) error {
	return apiclients.Ensure(ctx, dbgen.New(d.Pool), name, key, g)
}
