-- The reconciliation state of each receipt and the differences the finance office resolves.

-- name: ListReceiptReconciliationByDebt :many
SELECT rr.receipt_id, rr.status, rr.reason, rr.matched_at, rr.reconciled_at, f.flow_id, f.revision
FROM receipt_reconciliation rr
JOIN receipts r ON r.id = rr.receipt_id
LEFT JOIN fdr_flow_lines l ON l.id = rr.flow_line_id
LEFT JOIN fdr_flows f ON f.id = l.flow_id
WHERE r.debt_id = $1
ORDER BY rr.receipt_id;

-- name: ListReconciliationDifferences :many
-- Differences newest first by keyset on id; open ones only unless include_resolved; only_id
-- reads one.
SELECT d.*, r.receipt_id AS receipt_ref, dp.iupd, f.flow_id AS fdr_flow_ref, f.revision AS fdr_revision
FROM reconciliation_differences d
LEFT JOIN receipts r ON r.id = d.receipt_id
LEFT JOIN debt_positions dp ON dp.id = r.debt_id
LEFT JOIN fdr_flows f ON f.id = d.fdr_flow_id
WHERE d.id < sqlc.arg(before_id)::bigint
  AND (sqlc.narg(only_id)::bigint IS NULL OR d.id = sqlc.narg(only_id))
  AND (sqlc.arg(include_resolved)::boolean OR d.resolution IS NULL)
  AND (sqlc.narg(reason)::text IS NULL OR d.reason = sqlc.narg(reason))
ORDER BY d.id DESC
LIMIT sqlc.arg(max_rows);

-- name: GetReceiptFlag :one
SELECT id, receipt_id, flag FROM receipts WHERE receipt_id = $1;

-- name: ResolveReconciliationDifference :one
-- Resolves an open difference; a resolved one returns no row (the caller tells apart the same
-- resolution again from a conflicting one).
UPDATE reconciliation_differences SET resolution = sqlc.arg(resolution)::text, resolved_by = sqlc.arg(actor)::text,
    resolution_reason = sqlc.arg(reason)::text, resolved_at = now()
WHERE id = sqlc.arg(id) AND resolution IS NULL
RETURNING id;

-- name: OpenReceiptFlagDifference :one
-- A flagged receipt's review is a difference like the others (reason RECEIPT_FLAGGED), made when
-- the finance office resolves it: the same receipt again returns the same difference.
WITH ins AS (
    INSERT INTO reconciliation_differences (reason, subject, receipt_id, expected_cents, detail, detected_on)
    SELECT 'RECEIPT_FLAGGED', 'receipt:' || r.id, r.id, r.amount_cents, r.flag, (r.received_at AT TIME ZONE 'Europe/Rome')::date
    FROM receipts r WHERE r.id = $1 AND r.flag IS NOT NULL
    ON CONFLICT (reason, subject) DO NOTHING
    RETURNING id
)
SELECT id FROM ins
UNION ALL
SELECT d.id FROM reconciliation_differences d WHERE d.reason = 'RECEIPT_FLAGGED' AND d.subject = 'receipt:' || $1::bigint
LIMIT 1;
