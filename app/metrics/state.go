package metrics

import (
	"context"
	"log/slog"
	"strconv"
	"sync"
	"time"

	"github.com/jackc/pgx/v5/pgtype"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/prometheus/client_golang/prometheus"
	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/sdk/client"

	"incasso/db/dbgen"
)

// State exports the state of the collection, read from the database (and the schedules from
// Temporal) at most once per MinInterval whatever the number of scrapers. Every API instance
// exports the same figures: dashboards take max(), not sum(), of them.
type State struct {
	Pool     *pgxpool.Pool
	Temporal client.Client
	// Schedules are the Temporal Schedules whose last run and last success are exported.
	Schedules []string
	// Unreported is how long a collection file may wait for its status report before it
	// counts as unacknowledged (incasso_sdd_runs_unreported).
	Unreported  time.Duration
	MinInterval time.Duration // 15 s when zero
	Log         *slog.Logger

	mu     sync.Mutex
	at     time.Time
	cached []prometheus.Metric
}

var (
	descDebts        = stateDesc("debts", "Debts by status.", "status")
	descNotices      = stateDesc("documents_total", "Documents issued (notices, changes, cancellations) by kind.", "kind")
	descReceipts     = stateDesc("receipts_total", "Receipts recorded, by source (PUSH, RECOVERY), outcome and flag.", "source", "outcome", "flag")
	descReceiptCents = stateDesc("receipts_amount_cents_total", "What the receipts recorded say was paid, in euro cents, by source, outcome and flag.", "source", "outcome", "flag")
	descMessages     = stateDesc("messages", "Messages to citizens by channel and status.", "channel", "status")
	descCollections  = stateDesc("sdd_collections", "SDD collections by status and reason code.", "status", "reason")
	descDebtCents    = stateDesc("debts_amount_cents", "What the debts ask, by status, in euro cents.", "status")
	descStuck        = stateDesc("debts_stuck", "Debts not moved by their workflow for an hour: never_issued (still CREATED), paid_unacknowledged.", "reason")
	descRuns         = stateDesc("sdd_runs", "SDD collection runs (one file each) by status.", "status")
	descUnreported   = stateDesc("sdd_runs_unreported", "Collection files submitted and without the bank's status report past the deadline.")
	descCampaign     = stateDesc("campaign_debts", "Rows of running or paused campaigns by the status of their debt (NOT_STARTED: no debt yet).", "campaign", "status")
	descWebhooks     = stateDesc("webhook_endpoints", "Webhook endpoints by status (DISABLED: failing for INCASSO_WEBHOOK_GIVE_UP_AFTER, see the runbook).", "status")
	descScheduleRun  = stateDesc("schedule_last_run_timestamp_seconds", "When each schedule last started its workflow.", "schedule")
	descScheduleOK   = stateDesc("schedule_last_success_timestamp_seconds", "When a run of each schedule last completed.", "schedule")
	descStateUp      = stateDesc("state_up", "1 when the last reading of the state succeeded.")
)

func stateDesc(name, help string, labels ...string) *prometheus.Desc {
	return prometheus.NewDesc(Namespace+"_"+name, help, labels, nil)
}

// Describe sends the descriptors of the state's metrics.
func (s *State) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{descDebts, descDebtCents, descStuck, descReceiptCents, descNotices, descReceipts, descMessages, descCollections,
		descRuns, descUnreported, descCampaign, descWebhooks, descScheduleRun, descScheduleOK, descStateUp} {
		ch <- d
	}
}

// Collect sends the state, read again when the last reading is older than MinInterval.
func (s *State) Collect(ch chan<- prometheus.Metric) {
	s.mu.Lock()
	defer s.mu.Unlock()
	interval := s.MinInterval
	if interval == 0 {
		interval = 15 * time.Second
	}
	if s.cached == nil || time.Since(s.at) >= interval {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		s.cached, s.at = s.read(ctx), time.Now()
		cancel()
	}
	for _, m := range s.cached {
		ch <- m
	}
}

// read reads every figure; a failure is logged and exported as incasso_state_up 0.
func (s *State) read(ctx context.Context) []prometheus.Metric {
	var out []prometheus.Metric
	gauge := func(d *prometheus.Desc, v float64, labels ...string) {
		out = append(out, prometheus.MustNewConstMetric(d, prometheus.GaugeValue, v, labels...))
	}
	counter := func(d *prometheus.Desc, v float64, labels ...string) {
		out = append(out, prometheus.MustNewConstMetric(d, prometheus.CounterValue, v, labels...))
	}
	err := s.readDatabase(ctx, dbgen.New(s.Pool), gauge, counter)
	if err == nil {
		err = s.readSchedules(ctx, gauge)
	}
	up := 1.0
	if err != nil {
		up = 0
		if s.Log != nil {
			s.Log.Warn("metrics: reading the state failed", "err", err)
		}
	}
	gauge(descStateUp, up)
	return out
}

type emit func(d *prometheus.Desc, v float64, labels ...string)

func (s *State) readDatabase(ctx context.Context, q *dbgen.Queries, gauge, counter emit) error {
	debts, err := q.MetricsDebtsByStatus(ctx)
	if err != nil {
		return err
	}
	for _, r := range debts {
		gauge(descDebts, float64(r.N), string(r.Status))
		gauge(descDebtCents, float64(r.Cents), string(r.Status))
	}
	stuck, err := q.MetricsDebtsStuck(ctx, timestamptz(time.Now().Add(-time.Hour)))
	if err != nil {
		return err
	}
	gauge(descStuck, float64(stuck.NeverIssued), "never_issued")
	gauge(descStuck, float64(stuck.PaidUnacknowledged), "paid_unacknowledged")
	notices, err := q.MetricsNoticesByKind(ctx)
	if err != nil {
		return err
	}
	for _, r := range notices {
		counter(descNotices, float64(r.N), r.Kind)
	}
	receipts, err := q.MetricsReceipts(ctx)
	if err != nil {
		return err
	}
	for _, r := range receipts {
		counter(descReceipts, float64(r.N), r.Source, r.Outcome, r.Flag)
		counter(descReceiptCents, float64(r.Cents), r.Source, r.Outcome, r.Flag)
	}
	messages, err := q.MetricsMessages(ctx)
	if err != nil {
		return err
	}
	for _, r := range messages {
		gauge(descMessages, float64(r.N), r.Channel, r.Status)
	}
	collections, err := q.MetricsCollections(ctx)
	if err != nil {
		return err
	}
	for _, r := range collections {
		gauge(descCollections, float64(r.N), r.Status, r.ReasonCode)
	}
	runs, err := q.MetricsRuns(ctx)
	if err != nil {
		return err
	}
	for _, r := range runs {
		gauge(descRuns, float64(r.N), r.Status)
	}
	unreported, err := q.MetricsRunsUnreported(ctx, timestamptz(time.Now().Add(-s.Unreported)))
	if err != nil {
		return err
	}
	gauge(descUnreported, float64(unreported))
	campaigns, err := q.MetricsCampaignProgress(ctx)
	if err != nil {
		return err
	}
	for _, r := range campaigns {
		gauge(descCampaign, float64(r.N), strconv.FormatInt(r.CampaignID, 10), r.Status)
	}
	endpoints, err := q.MetricsWebhookEndpoints(ctx)
	if err != nil {
		return err
	}
	for _, r := range endpoints {
		gauge(descWebhooks, float64(r.N), r.Status)
	}
	return nil
}

// readSchedules exports, for each schedule, when it last started its workflow and when one of
// its recent runs last completed.
func (s *State) readSchedules(ctx context.Context, gauge emit) error {
	for _, id := range s.Schedules {
		desc, err := s.Temporal.ScheduleClient().GetHandle(ctx, id).Describe(ctx)
		if err != nil {
			return err
		}
		recent := desc.Info.RecentActions
		if len(recent) == 0 {
			continue
		}
		gauge(descScheduleRun, float64(recent[len(recent)-1].ActualTime.Unix()), id)
		for i := len(recent) - 1; i >= 0; i-- {
			run := recent[i].StartWorkflowResult
			if run == nil {
				continue
			}
			w, err := s.Temporal.DescribeWorkflow(ctx, run.WorkflowID, run.FirstExecutionRunID)
			if err != nil {
				return err
			}
			info := w.RawResponse.GetWorkflowExecutionInfo()
			if info.GetStatus() == enumspb.WORKFLOW_EXECUTION_STATUS_COMPLETED {
				gauge(descScheduleOK, float64(info.GetCloseTime().AsTime().Unix()), id)
				break
			}
		}
	}
	return nil
}

func timestamptz(t time.Time) pgtype.Timestamptz { return pgtype.Timestamptz{Time: t, Valid: true} }
