-- The figures /metrics exports from the one database: counts by state, never a person.

-- name: MetricsDebtsByStatus :many
SELECT status, count(*) AS n, sum(amount_cents)::bigint AS cents FROM debt_positions GROUP BY status;

-- name: MetricsNoticesByKind :many
SELECT kind, count(*) AS n FROM documents GROUP BY kind;

-- name: MetricsReceipts :many
SELECT source, outcome, coalesce(flag, '')::text AS flag, count(*) AS n, sum(amount_cents)::bigint AS cents
FROM receipts GROUP BY source, outcome, flag;

-- name: MetricsMessages :many
SELECT channel, status, count(*) AS n FROM communications GROUP BY channel, status;

-- name: MetricsCollections :many
SELECT status, reason_code, count(*) AS n FROM sdd_collections GROUP BY status, reason_code;

-- name: MetricsRuns :many
SELECT status, count(*) AS n FROM sdd_runs GROUP BY status;

-- name: MetricsRunsUnreported :one
-- Collection files submitted to the bank and still without a status report after the cutoff.
SELECT count(*) AS n FROM sdd_runs WHERE status = 'SUBMITTED' AND submitted_at < sqlc.arg(cutoff)::timestamptz;

-- name: MetricsCampaignProgress :many
-- The debts of each running or paused campaign by status, and its rows not yet a debt.
SELECT c.id AS campaign_id, coalesce(d.status::text, 'NOT_STARTED')::text AS status, count(*) AS n
FROM campaigns c
JOIN campaign_rows r ON r.campaign_id = c.id
LEFT JOIN debt_positions d ON d.id = r.debt_id
WHERE c.status IN ('RUNNING', 'PAUSED')
GROUP BY c.id, d.status;

-- name: MetricsDebtsStuck :one
-- Debts whose workflow should have moved them by the cutoff: stored and never issued, or paid
-- and never acknowledged by their workflow (the recovery job's sweep heals both).
SELECT count(*) FILTER (WHERE status = 'CREATED' AND created_at < sqlc.arg(cutoff)::timestamptz) AS never_issued,
       count(*) FILTER (WHERE status = 'PAID' AND paid_acknowledged_at IS NULL AND paid_at < sqlc.arg(cutoff)::timestamptz) AS paid_unacknowledged
FROM debt_positions;

-- name: MetricsWebhookEndpoints :many
SELECT status, count(*)::bigint AS n FROM webhook_endpoints WHERE status <> 'DELETED' GROUP BY status;
