-- name: InsertTreasuryStatement :one
INSERT INTO treasury_statements (msg_id, statement_ref, statement_date, opening_cents, closing_cents, entries, raw_xml, raw_sha256)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
ON CONFLICT (msg_id) DO NOTHING
RETURNING id;

-- name: TreasuryStatementHash :one
SELECT raw_sha256 FROM treasury_statements WHERE msg_id = $1;

-- name: InsertTreasuryEntries :copyfrom
INSERT INTO treasury_entries (statement_id, ref, kind, amount_cents, credit, booking_date, flow_id, batch_msg_id, end_to_end_ids, match)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10);

-- name: MatchTreasuryBatches :execrows
-- Each SDD booking is matched to the run of its file: the run's collections less those the
-- bank rejected (returns are debited by their own entries) must be what the file's bookings
-- credited, in one booking or several.
WITH expected AS (
    SELECT r.id AS run_id, r.msg_id,
        COALESCE(sum(c.amount_cents) FILTER (WHERE c.status IN ('ACCEPTED', 'RETURNED', 'REFUNDED')), 0)::bigint AS cents
    FROM sdd_runs r LEFT JOIN sdd_collections c ON c.run_id = r.id
    WHERE r.msg_id IN (SELECT batch_msg_id FROM treasury_entries WHERE match = 'PENDING' AND kind = 'SDD_BATCH')
    GROUP BY r.id, r.msg_id
), credited AS (
    SELECT batch_msg_id, sum(amount_cents)::bigint AS cents FROM treasury_entries
    WHERE kind = 'SDD_BATCH' AND batch_msg_id IN (SELECT msg_id FROM expected)
    GROUP BY batch_msg_id
)
UPDATE treasury_entries e SET
    run_id = x.run_id, expected_cents = x.cents, matched_at = now(),
    match = CASE WHEN x.cents = cr.cents THEN 'MATCHED' ELSE 'AMOUNT_DIFFERS' END
FROM expected x JOIN credited cr ON cr.batch_msg_id = x.msg_id
WHERE e.kind = 'SDD_BATCH' AND e.batch_msg_id = x.msg_id AND e.match IN ('PENDING', 'AMOUNT_DIFFERS');

-- name: FlagUnknownTreasuryBatches :execrows
UPDATE treasury_entries SET match = 'UNKNOWN_RUN', matched_at = now()
WHERE kind = 'SDD_BATCH' AND match = 'PENDING'
    AND NOT EXISTS (SELECT 1 FROM sdd_runs r WHERE r.msg_id = treasury_entries.batch_msg_id);

-- name: MatchTreasuryReturns :execrows
-- A return is matched when every collection it names was returned or refunded for the amount
-- it debits.
UPDATE treasury_entries e SET matched_at = now(), expected_cents = x.cents,
    match = CASE WHEN x.found < cardinality(e.end_to_end_ids) THEN 'UNKNOWN_COLLECTION'
                 WHEN x.cents = e.amount_cents THEN 'MATCHED' ELSE 'AMOUNT_DIFFERS' END
FROM (
    SELECT t.id, count(c.id) AS found, COALESCE(sum(c.amount_cents), 0)::bigint AS cents
    FROM treasury_entries t
    LEFT JOIN sdd_collections c ON c.end_to_end_id = ANY (t.end_to_end_ids) AND c.status IN ('RETURNED', 'REFUNDED')
    WHERE t.kind = 'SDD_RETURN' AND t.match IN ('PENDING', 'UNKNOWN_COLLECTION')
    GROUP BY t.id
) x
WHERE e.id = x.id;


-- name: MatchTreasuryFlowCredits :execrows
-- Each flow's credits (one booking, or several for a split credit) are matched to the current
-- revision of the flow of their reference: what its lines add up to must be what was credited.
-- Credits matched to a revision a later one superseded are matched again, to the later one.
WITH credited AS (
    SELECT flow_id, sum(amount_cents)::bigint AS cents FROM treasury_entries
    WHERE kind = 'FLOW_CREDIT' GROUP BY flow_id
), open AS (
    SELECT DISTINCT e.flow_id FROM treasury_entries e
    WHERE e.kind = 'FLOW_CREDIT' AND (e.match IN ('PENDING', 'UNKNOWN_FLOW', 'AMOUNT_DIFFERS')
        OR e.fdr_flow_id IN (SELECT id FROM fdr_flows WHERE status = 'SUPERSEDED'))
), flows AS (
    SELECT f.id, f.flow_id, f.sum_cents FROM fdr_flows f JOIN open o ON o.flow_id = f.flow_id
    WHERE f.status = 'MATCHED'
)
UPDATE treasury_entries e SET fdr_flow_id = f.id, expected_cents = f.sum_cents, matched_at = now(),
    match = CASE WHEN f.sum_cents = c.cents THEN 'MATCHED' ELSE 'AMOUNT_DIFFERS' END
FROM flows f JOIN credited c ON c.flow_id = f.flow_id
WHERE e.kind = 'FLOW_CREDIT' AND e.flow_id = f.flow_id
    AND (e.fdr_flow_id IS DISTINCT FROM f.id OR e.match IN ('PENDING', 'UNKNOWN_FLOW', 'AMOUNT_DIFFERS'));

-- name: FlagTreasuryCreditsWithoutFlow :execrows
-- Flow credits booked on or before the cutoff whose flow incasso does not have.
UPDATE treasury_entries e SET match = 'UNKNOWN_FLOW', matched_at = now()
WHERE e.kind = 'FLOW_CREDIT' AND e.match = 'PENDING' AND e.booking_date <= sqlc.arg(cutoff)::date
    AND NOT EXISTS (SELECT 1 FROM fdr_flows f WHERE f.flow_id = e.flow_id AND f.status = 'MATCHED');

-- name: ReconcileReceiptsOfCreditedFlows :execrows
-- A receipt whose flow line is in a flow matched to its credit is reconciled: receipt, flow
-- line and credit agree.
UPDATE receipt_reconciliation rr SET status = 'RECONCILED', reconciled_at = now(), updated_at = now()
FROM fdr_flow_lines l
WHERE rr.status = 'MATCHED_FLOW' AND l.id = rr.flow_line_id
    AND EXISTS (SELECT 1 FROM treasury_entries e WHERE e.fdr_flow_id = l.flow_id AND e.match = 'MATCHED');

-- name: RecordTreasuryDifferences :execrows
-- The differences the treasury finds, once per reason and subject: credits of no flow, credits
-- that differ from their flow, flows credited in several bookings, SDD bookings that differ from
-- their run, and flows stored on or before the cutoff that no credit names.
INSERT INTO reconciliation_differences (reason, subject, fdr_flow_id, expected_cents, reported_cents, detail, detected_on)
SELECT d.reason, d.subject, d.fdr_flow_id, d.expected_cents, d.reported_cents, d.detail, sqlc.arg(detected_on)::date
FROM (
    SELECT 'CREDIT_WITHOUT_FLOW' AS reason, 'credit:' || e.flow_id AS subject, NULL::bigint AS fdr_flow_id,
        NULL::bigint AS expected_cents, sum(e.amount_cents)::bigint AS reported_cents,
        'flow ' || e.flow_id || ': credited, no reporting flow' AS detail
    FROM treasury_entries e WHERE e.kind = 'FLOW_CREDIT' AND e.match = 'UNKNOWN_FLOW' GROUP BY e.flow_id
    UNION ALL
    SELECT 'CREDIT_AMOUNT_DIFFERS', 'credit:' || e.flow_id, min(e.fdr_flow_id), min(e.expected_cents), sum(e.amount_cents)::bigint,
        'flow ' || e.flow_id || ': credited amount is not the flow''s total'
    FROM treasury_entries e WHERE e.kind = 'FLOW_CREDIT' AND e.match = 'AMOUNT_DIFFERS' GROUP BY e.flow_id
    UNION ALL
    SELECT 'CREDIT_SPLIT', 'credit:' || e.flow_id, min(e.fdr_flow_id), min(e.expected_cents), sum(e.amount_cents)::bigint,
        'flow ' || e.flow_id || ': credited in ' || count(*) || ' bookings'
    FROM treasury_entries e WHERE e.kind = 'FLOW_CREDIT' GROUP BY e.flow_id HAVING count(*) > 1
    UNION ALL
    SELECT 'SDD_BOOKING_DIFFERS', 'sdd:' || e.batch_msg_id, NULL, min(e.expected_cents), sum(e.amount_cents)::bigint,
        'collection file ' || e.batch_msg_id || ': ' || min(e.match)
    FROM treasury_entries e WHERE e.kind = 'SDD_BATCH' AND e.match IN ('AMOUNT_DIFFERS', 'UNKNOWN_RUN')
        AND e.booking_date <= sqlc.arg(cutoff)::date
    GROUP BY e.batch_msg_id
    UNION ALL
    SELECT 'FLOW_WITHOUT_CREDIT', 'flow:' || f.flow_id || '/' || f.revision, f.id, f.sum_cents, NULL,
        'flow ' || f.flow_id || ': no credit on the treasury account'
    FROM fdr_flows f
    WHERE f.status = 'MATCHED' AND f.flow_date <= sqlc.arg(cutoff)::date
        AND NOT EXISTS (SELECT 1 FROM treasury_entries e WHERE e.kind = 'FLOW_CREDIT' AND e.flow_id = f.flow_id)
) d
ON CONFLICT (reason, subject) DO NOTHING;

-- name: SupersedeSettledTreasuryDifferences :execrows
-- A difference the treasury raised is closed by incasso when what was missing came: the flow of
-- a credit, a credit of a flow, a run's report that makes its booking match.
UPDATE reconciliation_differences d SET resolution = 'SUPERSEDED', resolved_by = 'incasso',
    resolution_reason = 'matched on a later reading of the treasury', resolved_at = now()
WHERE d.resolution IS NULL AND (
    d.reason IN ('CREDIT_WITHOUT_FLOW', 'CREDIT_AMOUNT_DIFFERS') AND EXISTS (
        SELECT 1 FROM treasury_entries e WHERE e.kind = 'FLOW_CREDIT' AND d.subject = 'credit:' || e.flow_id AND e.match = 'MATCHED')
    OR d.reason = 'FLOW_WITHOUT_CREDIT' AND EXISTS (
        SELECT 1 FROM treasury_entries e WHERE e.kind = 'FLOW_CREDIT' AND e.fdr_flow_id = d.fdr_flow_id)
    OR d.reason = 'SDD_BOOKING_DIFFERS' AND EXISTS (
        SELECT 1 FROM treasury_entries e WHERE e.kind = 'SDD_BATCH' AND d.subject = 'sdd:' || e.batch_msg_id AND e.match = 'MATCHED'));

-- name: ListAccountingReconciled :many
-- What the treasury's entries booked on a day reconciled, for the accounting system: the
-- receipts RECONCILED through a flow credited that day, by service, taxonomy and beneficiary
-- (the receipt's transfer that the flow line reports), and the collections of the SDD files
-- credited that day that were not rejected, returned or refunded, by service.
SELECT x.channel, x.service_code, x.taxonomy, x.beneficiary, count(*)::bigint AS payments, sum(x.cents)::bigint AS amount_cents
FROM (
    SELECT 'PAGOPA' AS channel, coalesce(dp.service_code, '') AS service_code,
        coalesce(t.transfer->>'transferCategory', '')::text AS taxonomy, coalesce(t.transfer->>'fiscalCodePA', '')::text AS beneficiary,
        l.amount_cents AS cents
    FROM receipt_reconciliation rr
    JOIN receipts r ON r.id = rr.receipt_id
    JOIN fdr_flow_lines l ON l.id = rr.flow_line_id
    LEFT JOIN debt_positions dp ON dp.id = r.debt_id
    LEFT JOIN LATERAL (
        SELECT tr.transfer FROM jsonb_array_elements(r.transfers) AS tr(transfer)
        WHERE tr.transfer->>'idTransfer' = l.transfer_index::text LIMIT 1
    ) t ON true
    WHERE rr.status = 'RECONCILED' AND l.flow_id IN (
        SELECT e.fdr_flow_id FROM treasury_entries e
        WHERE e.kind = 'FLOW_CREDIT' AND e.match = 'MATCHED'
        GROUP BY e.fdr_flow_id HAVING max(e.booking_date) = sqlc.arg(day)::date)
    UNION ALL
    SELECT 'SDD', dp.service_code, ''::text, ''::text, c.amount_cents
    FROM sdd_collections c
    JOIN instalment_plans p ON p.id = c.plan_id
    JOIN debt_positions dp ON dp.id = p.debt_id
    WHERE c.status = 'ACCEPTED' AND c.run_id IN (
        SELECT e.run_id FROM treasury_entries e
        WHERE e.kind = 'SDD_BATCH' AND e.match = 'MATCHED'
        GROUP BY e.run_id HAVING max(e.booking_date) = sqlc.arg(day)::date)
) x
GROUP BY x.channel, x.service_code, x.taxonomy, x.beneficiary
ORDER BY x.channel, x.service_code, x.taxonomy, x.beneficiary;

-- name: ListOpenDifferences :many
-- The differences still open that were detected on or before a day, oldest first.
SELECT d.id, d.reason, d.subject, d.expected_cents, d.reported_cents, d.detail, d.detected_on
FROM reconciliation_differences d
WHERE d.resolution IS NULL AND d.detected_on <= sqlc.arg(day)::date
ORDER BY d.detected_on, d.id;

-- name: ReconciliationByService :many
-- The receipts paid on a day (in Rome) by service: how many, how much, how many a flow line
-- reported and for how much, how many are reconciled with the credit and how many differ.
SELECT coalesce(dp.service_code, '')::text AS service_code,
    count(*)::bigint AS receipts, sum(r.amount_cents)::bigint AS receipts_cents,
    count(*) FILTER (WHERE rr.status IN ('MATCHED_FLOW', 'RECONCILED'))::bigint AS in_flows,
    coalesce(sum(l.amount_cents) FILTER (WHERE rr.status IN ('MATCHED_FLOW', 'RECONCILED')), 0)::bigint AS in_flows_cents,
    count(*) FILTER (WHERE rr.status = 'RECONCILED')::bigint AS reconciled,
    coalesce(sum(l.amount_cents) FILTER (WHERE rr.status = 'RECONCILED'), 0)::bigint AS reconciled_cents,
    count(*) FILTER (WHERE rr.status = 'DIFFERENCE')::bigint AS differences
FROM receipts r
JOIN receipt_reconciliation rr ON rr.receipt_id = r.id
LEFT JOIN fdr_flow_lines l ON l.id = rr.flow_line_id
LEFT JOIN debt_positions dp ON dp.id = r.debt_id
WHERE (coalesce(r.paid_at, r.received_at) AT TIME ZONE 'Europe/Rome')::date = sqlc.arg(day)::date
GROUP BY 1
ORDER BY 1;

-- name: TreasuryEntriesByMatch :many
-- The entries booked on a day, by kind and match.
SELECT kind, match, count(*)::bigint AS entries, sum(amount_cents)::bigint AS amount_cents
FROM treasury_entries WHERE booking_date = $1
GROUP BY kind, match
ORDER BY kind, match;
