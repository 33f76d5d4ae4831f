-- Reporting flows (FdR) and their lines. The lines of a flow are matched to their receipts a
-- page at a time and loaded with COPY into fdr_flow_lines (services/reconciliation); what
-- follows from the matches is done here in sets, one statement each.

-- name: GetFdrFlow :one
SELECT * FROM fdr_flows WHERE flow_id = $1 AND revision = $2;

-- name: InsertFdrFlow :one
-- A flow's revision is stored once: a second intake of it returns no row.
INSERT INTO fdr_flows (
    flow_id, revision, psp_id, ec_fiscal_code, flow_date, published_at, regulation, regulation_date, bic,
    declared_payments, declared_sum_cents, status, malformed_reason, raw_json, raw_sha256
) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15)
ON CONFLICT (flow_id, revision) DO NOTHING
RETURNING id;

-- name: SetFdrFlowTotals :exec
UPDATE fdr_flows SET payments = $2, sum_cents = $3, raw_sha256 = $4 WHERE id = $1;

-- name: SupersedeEarlierFdrRevisions :many
-- A later revision replaces the earlier ones: they stay, SUPERSEDED, with their lines.
UPDATE fdr_flows SET status = 'SUPERSEDED'
WHERE flow_id = sqlc.arg(flow_id) AND revision < sqlc.arg(revision) AND status <> 'SUPERSEDED'
RETURNING id;

-- name: ReleaseSupersededMatches :exec
-- The receipts matched by lines of superseded revisions go back to UNMATCHED, to be matched
-- again by the new revision's lines (or flagged); their open differences are closed.
WITH released AS (
    UPDATE receipt_reconciliation rr SET status = 'UNMATCHED', reason = NULL, flow_line_id = NULL,
        matched_at = NULL, updated_at = now()
    FROM fdr_flow_lines l
    WHERE l.id = rr.flow_line_id AND l.flow_id = ANY(sqlc.arg(flow_ids)::bigint[]) AND rr.status <> 'RECONCILED'
    RETURNING rr.receipt_id
)
UPDATE reconciliation_differences d SET resolution = 'SUPERSEDED', resolved_by = sqlc.arg(actor)::text,
    resolution_reason = 'replaced by a later revision of the flow', resolved_at = now()
WHERE d.resolution IS NULL AND (d.fdr_flow_id = ANY(sqlc.arg(flow_ids)::bigint[])
    OR d.flow_line_id IN (SELECT id FROM fdr_flow_lines WHERE flow_id = ANY(sqlc.arg(flow_ids)::bigint[])));

-- name: ReceiptsForFdrLines :many
-- The paid receipts of a page of flow lines, by IUR (the receipt id): one lookup per page.
SELECT id, receipt_id, substr(nav, 2)::text AS iuv, amount_cents, transfers FROM receipts
WHERE receipt_id = ANY(sqlc.arg(iurs)::text[]) AND outcome = 'OK';

-- name: ListFdrLinesWithoutReceipt :many
-- The lines that reported a payment incasso has no receipt of: the intake asks GPD for them.
SELECT id, iuv, iur, transfer_index, amount_cents, pay_status FROM fdr_flow_lines
WHERE flow_id = $1 AND receipt_id IS NULL AND match IN ('NO_RECEIPT', 'NO_RPT')
ORDER BY line_index;

-- name: SetFdrLineMatch :exec
UPDATE fdr_flow_lines SET receipt_id = $2, expected_cents = $3, match = $4 WHERE id = $1;

-- name: MatchReceiptsToFdrLines :execrows
-- The receipts the flow's matched lines report become MATCHED_FLOW (a RECONCILED one stays), and
-- an open NO_FLOW_LINE difference of theirs is closed: the flow came late.
WITH matched AS (
    UPDATE receipt_reconciliation rr SET status = 'MATCHED_FLOW', reason = NULL, flow_line_id = l.id,
        matched_at = now(), updated_at = now()
    FROM fdr_flow_lines l
    WHERE l.flow_id = sqlc.arg(flow_id) AND l.match = 'MATCHED' AND rr.receipt_id = l.receipt_id
      AND rr.status IN ('UNMATCHED', 'DIFFERENCE') AND (rr.status = 'UNMATCHED' OR rr.reason = 'NO_FLOW_LINE')
    RETURNING rr.receipt_id
)
UPDATE reconciliation_differences d SET resolution = 'SUPERSEDED', resolved_by = sqlc.arg(actor)::text,
    resolution_reason = 'the flow line arrived late', resolved_at = now()
FROM matched
WHERE d.receipt_id = matched.receipt_id AND d.reason = 'NO_FLOW_LINE' AND d.resolution IS NULL;

-- name: RecordFdrLineDifferences :execrows
-- Every line of the flow that did not match becomes a difference (once), and the receipt it
-- names, if any, shows it.
WITH diff AS (
    INSERT INTO reconciliation_differences (reason, subject, receipt_id, fdr_flow_id, flow_line_id,
        expected_cents, reported_cents, detail, detected_on)
    SELECT l.match, 'line:' || f.flow_id || '/' || f.revision || '/' || l.line_index, l.receipt_id, f.id, l.id,
        l.expected_cents, l.amount_cents, 'IUV ' || l.iuv || ', transfer ' || l.transfer_index || ', ' || l.pay_status,
        sqlc.arg(detected_on)::date
    FROM fdr_flow_lines l JOIN fdr_flows f ON f.id = l.flow_id
    WHERE l.flow_id = sqlc.arg(flow_id) AND l.match NOT IN ('PENDING', 'MATCHED')
    ON CONFLICT (reason, subject) DO NOTHING
    RETURNING receipt_id, reason, flow_line_id
)
UPDATE receipt_reconciliation rr SET status = 'DIFFERENCE', reason = diff.reason, flow_line_id = diff.flow_line_id,
    updated_at = now()
FROM diff WHERE rr.receipt_id = diff.receipt_id AND rr.status <> 'RECONCILED';

-- name: RecordMalformedFdrFlow :exec
INSERT INTO reconciliation_differences (reason, subject, fdr_flow_id, detail, detected_on)
VALUES ('MALFORMED_FLOW', 'flow:' || sqlc.arg(flow_id)::text || '/' || sqlc.arg(revision)::int,
    sqlc.arg(fdr_flow_id), sqlc.arg(detail), sqlc.arg(detected_on)::date)
ON CONFLICT (reason, subject) DO NOTHING;

-- name: FlagReceiptsWithoutFlowLine :execrows
-- Receipts paid on or before the cutoff date (in Rome) that no flow line reported yet.
WITH late AS (
    SELECT rr.receipt_id, r.amount_cents, r.nav FROM receipt_reconciliation rr JOIN receipts r ON r.id = rr.receipt_id
    WHERE rr.status = 'UNMATCHED' AND (coalesce(r.paid_at, r.received_at) AT TIME ZONE 'Europe/Rome')::date <= sqlc.arg(cutoff)::date
), diff AS (
    INSERT INTO reconciliation_differences (reason, subject, receipt_id, expected_cents, detail, detected_on)
    SELECT 'NO_FLOW_LINE', 'receipt:' || late.receipt_id, late.receipt_id, late.amount_cents,
        'IUV ' || substr(late.nav, 2) || ': no reporting flow line', sqlc.arg(detected_on)::date
    FROM late
    ON CONFLICT (reason, subject) DO NOTHING
)
UPDATE receipt_reconciliation rr SET status = 'DIFFERENCE', reason = 'NO_FLOW_LINE', updated_at = now()
FROM late WHERE rr.receipt_id = late.receipt_id;

-- name: CountFdrLinesByMatch :many
SELECT match, count(*) AS lines FROM fdr_flow_lines WHERE flow_id = $1 GROUP BY match ORDER BY match;
