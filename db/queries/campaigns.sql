-- name: GetCampaign :one
SELECT * FROM campaigns WHERE id = $1;

-- name: ListCampaigns :many
SELECT * FROM campaigns WHERE id < sqlc.arg(before_id)::bigint ORDER BY id DESC LIMIT sqlc.arg(max_rows);

-- name: SetCampaignStatus :one
-- Moves a campaign on; a finished one (COMPLETED, CANCELLED, WITHDRAWN) stays as it is,
-- except that a finished campaign can still be withdrawn.
UPDATE campaigns SET status = sqlc.arg(status),
    launched_at = CASE WHEN sqlc.arg(status) = 'RUNNING' THEN coalesce(launched_at, now()) ELSE launched_at END,
    finished_at = CASE WHEN sqlc.arg(status) IN ('COMPLETED', 'CANCELLED', 'WITHDRAWN') THEN coalesce(finished_at, now()) ELSE finished_at END,
    withdraw_reason = CASE WHEN sqlc.arg(status) = 'WITHDRAWN' THEN sqlc.narg(withdraw_reason) ELSE withdraw_reason END
WHERE id = sqlc.arg(id)
  AND (status NOT IN ('COMPLETED', 'CANCELLED', 'WITHDRAWN') OR sqlc.arg(status) = 'WITHDRAWN')
  AND status <> 'WITHDRAWN'
RETURNING *;

-- name: NextCampaignRows :many
SELECT * FROM campaign_rows WHERE campaign_id = $1 AND row_no > $2 ORDER BY row_no LIMIT $3;

-- name: SetCampaignRowDebt :exec
UPDATE campaign_rows SET debt_id = $3, error = '' WHERE campaign_id = $1 AND row_no = $2;

-- name: SetCampaignRowError :exec
UPDATE campaign_rows SET error = $3 WHERE campaign_id = $1 AND row_no = $2 AND debt_id IS NULL;

-- name: CampaignRowCounts :one
SELECT count(*) AS rows, count(debt_id) AS started, count(*) FILTER (WHERE error <> '') AS errors
FROM campaign_rows WHERE campaign_id = $1;

-- name: CampaignDebtCounts :many
SELECT status, count(*) AS debts, coalesce(sum(amount_cents), 0)::bigint AS amount_cents
FROM debt_positions WHERE campaign_id = $1 GROUP BY status;

-- name: CampaignCollected :one
SELECT coalesce(sum(r.amount_cents), 0)::bigint AS cents
FROM receipts r JOIN debt_positions d ON d.id = r.debt_id
WHERE d.campaign_id = $1 AND r.outcome = 'OK';

-- name: CampaignCollectedByDay :many
-- Collected per day in Rome, for the chart of collected against outstanding.
SELECT (r.paid_at AT TIME ZONE 'Europe/Rome')::date AS day, sum(r.amount_cents)::bigint AS cents
FROM receipts r JOIN debt_positions d ON d.id = r.debt_id
WHERE d.campaign_id = $1 AND r.outcome = 'OK' AND r.paid_at IS NOT NULL
GROUP BY 1 ORDER BY 1;

-- name: UnpaidCampaignDebts :many
SELECT id, ec_fiscal_code, iupd, status FROM debt_positions
WHERE campaign_id = $1 AND status IN ('CREATED', 'ISSUED', 'OVERDUE') AND id > $2
ORDER BY id LIMIT $3;

-- name: CampaignDebtPage :many
-- A page of the campaign's debts, in the order of the rows of its file (for the console).
SELECT r.row_no, d.iupd, d.status, d.amount_cents, d.due_date
FROM campaign_rows r JOIN debt_positions d ON d.id = r.debt_id
WHERE r.campaign_id = sqlc.arg(campaign_id)
ORDER BY r.row_no LIMIT sqlc.arg(max_rows) OFFSET sqlc.arg(skip);
