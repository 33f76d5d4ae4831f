-- name: NextIUVBase :one
-- The next IUV base of the EC and segregation code, from their own sequence.
SELECT next_iuv_base(sqlc.arg(ec_fiscal_code)::text, sqlc.arg(segregation)::int)::bigint;

-- name: CreateDebt :one
-- Nothing when the iupd or the notice number is taken already: the caller tells which.
INSERT INTO debt_positions (
    ec_fiscal_code, iupd, service_code, debtor_type, debtor_fiscal_code, debtor_name,
    debtor_email, amount_cents, due_date, description, nav, debtor_pec, campaign_id, created_by,
    gpd_adopted, debtor_street, debtor_postal_code, debtor_city, debtor_province
) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19)
ON CONFLICT DO NOTHING
RETURNING *;

-- name: GetDebt :one
SELECT * FROM debt_positions WHERE id = $1;

-- name: GetDebtByIUPD :one
SELECT * FROM debt_positions WHERE ec_fiscal_code = $1 AND iupd = $2;

-- name: GetDebtByNAV :one
SELECT * FROM debt_positions WHERE nav = $1;

-- name: LockDebt :one
SELECT * FROM debt_positions WHERE id = $1 FOR UPDATE;

-- name: SetDebtStatus :one
-- PAID, CANCELLED and SUPERSEDED are final: a late or repeated update leaves them as they are.
-- The first ISSUED records when the notice was issued.
UPDATE debt_positions SET status = $2, updated_at = now(),
    issued_at = CASE WHEN $2 = 'ISSUED' THEN coalesce(issued_at, now()) ELSE issued_at END
WHERE id = $1 AND status NOT IN ('PAID', 'CANCELLED', 'SUPERSEDED')
RETURNING status;

-- name: MarkDebtPaid :execrows
UPDATE debt_positions SET status = 'PAID', paid_at = $2, updated_at = now()
WHERE id = $1 AND status NOT IN ('PAID', 'CANCELLED', 'SUPERSEDED');

-- name: CancelDebt :one
-- Cancels an unpaid debt; a repeated call finds it cancelled and returns nothing.
UPDATE debt_positions SET status = 'CANCELLED', cancel_reason = $2, cancelled_at = now(), updated_at = now()
WHERE id = $1 AND status NOT IN ('PAID', 'CANCELLED', 'SUPERSEDED')
RETURNING *;

-- name: InsertDebtChange :exec
INSERT INTO debt_changes (debt_id, revision, amount_cents, due_date, reason)
VALUES ($1, $2, $3, $4, $5)
ON CONFLICT (debt_id, revision) DO NOTHING;

-- name: GetDebtChange :one
SELECT * FROM debt_changes WHERE debt_id = $1 AND revision = $2;

-- name: ApplyDebtChange :one
-- Applies a revision of an unpaid debt once; an older or repeated revision changes nothing.
UPDATE debt_positions SET amount_cents = sqlc.arg(amount_cents), due_date = sqlc.arg(due_date),
    revision = sqlc.arg(revision), updated_at = now()
WHERE id = sqlc.arg(id) AND revision < sqlc.arg(revision) AND status NOT IN ('PAID', 'CANCELLED')
RETURNING *;

-- name: ListDebtChanges :many
SELECT * FROM debt_changes WHERE debt_id = $1 ORDER BY revision;

-- name: ListUnpaidForRecovery :many
-- Unpaid notices issued at least min_age ago, those checked longest ago first. Notices
-- cancelled in the last 30 days are asked about too: a payment under way when the notice was
-- withdrawn must still come to light, to be refunded.
SELECT id, ec_fiscal_code, nav FROM debt_positions
WHERE updated_at < now() - sqlc.arg(min_age)::interval
  AND (status IN ('ISSUED', 'OVERDUE') OR (status = 'CANCELLED' AND cancelled_at > now() - interval '30 days'))
ORDER BY receipt_checked_at NULLS FIRST, id
LIMIT sqlc.arg(max_rows);

-- name: MarkReceiptChecked :exec
UPDATE debt_positions SET receipt_checked_at = now() WHERE id = ANY(sqlc.arg(ids)::bigint[]);

-- name: AcknowledgePaid :exec
-- The debt's workflow knows it is paid.
UPDATE debt_positions SET paid_acknowledged_at = coalesce(paid_acknowledged_at, now())
WHERE id = $1 AND status = 'PAID';

-- name: ListPaidUnacknowledged :many
-- Debts settled by a receipt a while ago whose workflow has not acknowledged it, each with
-- the first receipt that settled it (an instalment plan's end needs no signal).
SELECT d.id, d.ec_fiscal_code, d.iupd, r.receipt_id
FROM debt_positions d
JOIN LATERAL (SELECT receipt_id FROM receipts
              WHERE debt_id = d.id AND outcome = 'OK' AND (flag IS NULL OR flag = 'AMOUNT_MISMATCH')
              ORDER BY id LIMIT 1) r ON true
WHERE d.status = 'PAID' AND d.paid_acknowledged_at IS NULL AND d.paid_at < now() - sqlc.arg(min_age)::interval
ORDER BY d.paid_at
LIMIT sqlc.arg(max_rows);

-- name: ListCreatedUnstarted :many
-- Debts stored between min_age and max_age ago and still CREATED, outside a campaign still
-- launching (its workflow starts them): candidates for a workflow that never started.
SELECT d.* FROM debt_positions d
WHERE d.status = 'CREATED'
  AND d.created_at < now() - sqlc.arg(min_age)::interval AND d.created_at > now() - sqlc.arg(max_age)::interval
  AND (d.campaign_id IS NULL OR EXISTS (SELECT 1 FROM campaigns c WHERE c.id = d.campaign_id AND c.status = 'COMPLETED'))
ORDER BY d.created_at
LIMIT sqlc.arg(max_rows);

-- name: ListDebtsOfDebtor :many
-- The positions of one debtor, latest due first: the debtor's file.
SELECT * FROM debt_positions WHERE ec_fiscal_code = $1 AND debtor_fiscal_code = $2
ORDER BY due_date DESC, id DESC
LIMIT sqlc.arg(max_rows);
