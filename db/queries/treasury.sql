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

-- name: ListTreasuryEntriesByDate :many
SELECT e.id, e.ref, e.kind, e.amount_cents, e.credit, e.booking_date, e.flow_id, e.batch_msg_id,
    e.end_to_end_ids, e.run_id, e.match, e.expected_cents, s.msg_id AS statement_msg_id
FROM treasury_entries e JOIN treasury_statements s ON s.id = e.statement_id
WHERE e.booking_date = $1
ORDER BY e.id;
