-- name: InsertHandover :exec
INSERT INTO enforcement_handovers (debt_id, amount_cents) VALUES ($1, $2)
ON CONFLICT (debt_id) DO NOTHING;

-- name: LockOwedHandovers :many
-- The hand-overs not exported yet whose debts are still owed at this instant (issued or
-- overdue, never paid), oldest first. The hand-overs are locked until the transaction ends, so
-- that a concurrent export skips them, and their debts shared, so that a receipt being recorded
-- (which locks the debt) is waited for and the debt then judged again.
SELECT h.id, h.handed_over_at, h.amount_cents, d.iupd, d.nav, d.debtor_fiscal_code, d.debtor_name, d.due_date, d.service_code
FROM enforcement_handovers h
JOIN debt_positions d ON d.id = h.debt_id
WHERE h.exported_at IS NULL AND d.status IN ('ISSUED', 'OVERDUE') AND d.paid_at IS NULL
ORDER BY h.id
FOR UPDATE OF h FOR SHARE OF d;

-- name: InsertEnforcementExport :one
INSERT INTO enforcement_exports (created_by, row_count, content, sha256) VALUES ($1, $2, $3, $4)
RETURNING id, created_at, created_by, row_count, sha256;

-- name: MarkHandoversExported :exec
UPDATE enforcement_handovers SET exported_at = now(), export_id = sqlc.arg(export_id)::bigint
WHERE id = ANY(sqlc.arg(ids)::bigint[]) AND exported_at IS NULL;

-- name: ListEnforcementExports :many
-- A page of exports, newest first, before the id given.
SELECT id, created_at, created_by, row_count, sha256 FROM enforcement_exports
WHERE id < sqlc.arg(before_id) ORDER BY id DESC LIMIT sqlc.arg(max_rows);

-- name: GetEnforcementExport :one
SELECT * FROM enforcement_exports WHERE id = $1;
