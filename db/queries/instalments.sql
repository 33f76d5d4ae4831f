-- name: InsertMandate :one
-- A mandate for a debt; the same mandate given again (same reference) is found, not added.
INSERT INTO sdd_mandates (debt_id, reference, debtor_name, iban, iban_sealed, iban_key_id, bic, signed_on)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
ON CONFLICT (reference) DO NOTHING
RETURNING *;

-- name: GetMandateByReference :one
SELECT * FROM sdd_mandates WHERE reference = $1;

-- name: GetMandate :one
SELECT * FROM sdd_mandates WHERE id = $1;

-- name: CountMandates :one
SELECT count(*) FROM sdd_mandates WHERE debt_id = $1;

-- name: InsertPlan :one
INSERT INTO instalment_plans (debt_id, mandate_id, instalments, interest_bp, request_sha256)
VALUES ($1, $2, $3, $4, $5)
ON CONFLICT (debt_id) DO NOTHING
RETURNING *;

-- name: GetPlanByDebt :one
SELECT * FROM instalment_plans WHERE debt_id = $1;

-- name: GetPlan :one
SELECT * FROM instalment_plans WHERE id = $1;

-- name: SetPlanStatus :exec
-- A finished plan keeps its status.
UPDATE instalment_plans SET status = $2, updated_at = now()
WHERE id = $1 AND status IN ('ACTIVE', 'SUSPENDED');

-- name: SetPlanMandate :exec
UPDATE instalment_plans SET mandate_id = $2, updated_at = now() WHERE id = $1;

-- name: FinishPlan :exec
UPDATE instalment_plans SET status = $2, remainder_cents = $3, remainder_debt_id = $4,
    ended_at = coalesce(ended_at, now()), updated_at = now()
WHERE id = $1;

-- name: InsertInstalment :exec
INSERT INTO instalments (plan_id, seq, amount_cents, due_date, nav)
VALUES ($1, $2, $3, $4, $5)
ON CONFLICT (plan_id, seq) DO NOTHING;

-- name: ListInstalments :many
SELECT * FROM instalments WHERE plan_id = $1 ORDER BY seq;

-- name: GetInstalment :one
SELECT * FROM instalments WHERE plan_id = $1 AND seq = $2;

-- name: SetInstalmentStatus :exec
-- PAID is left only by a return or refund (reopened); MISSED is final.
UPDATE instalments SET status = sqlc.arg(status), reason_code = sqlc.arg(reason_code),
    paid_at = CASE WHEN sqlc.arg(status) = 'PAID' THEN coalesce(paid_at, now()) ELSE NULL END,
    updated_at = now()
WHERE plan_id = sqlc.arg(plan_id) AND seq = sqlc.arg(seq) AND status <> 'MISSED';

-- name: LockRun :one
SELECT * FROM sdd_runs WHERE account = $1 AND collection_date = $2 FOR UPDATE;

-- name: InsertRun :exec
INSERT INTO sdd_runs (account, collection_date) VALUES ($1, $2)
ON CONFLICT (account, collection_date) DO NOTHING;

-- name: GetRun :one
SELECT * FROM sdd_runs WHERE account = $1 AND collection_date = $2;

-- name: GetCollectionByAttempt :one
SELECT c.*, r.collection_date FROM sdd_collections c JOIN sdd_runs r ON r.id = c.run_id
WHERE c.plan_id = $1 AND c.seq = $2 AND c.attempt = $3;

-- name: InsertCollection :exec
INSERT INTO sdd_collections (end_to_end_id, plan_id, seq, attempt, run_id, amount_cents)
VALUES ($1, $2, $3, $4, $5, $6);

-- name: WithdrawPendingCollections :many
-- Withdraws the plan's presentations whose run has not written its file (the runs are
-- locked by the caller), returning the instalments withdrawn.
UPDATE sdd_collections c SET status = 'WITHDRAWN', updated_at = now()
FROM sdd_runs r
WHERE r.id = c.run_id AND r.status = 'OPEN' AND c.plan_id = $1 AND c.status = 'PENDING'
RETURNING c.seq;

-- name: LockOpenRunsOfPlan :many
SELECT r.id FROM sdd_runs r
WHERE r.status = 'OPEN' AND r.id IN (SELECT run_id FROM sdd_collections WHERE plan_id = $1 AND status = 'PENDING')
ORDER BY r.id FOR UPDATE;

-- name: CloseRun :exec
UPDATE sdd_runs SET status = $2, msg_id = $3, submitted_at = now() WHERE id = $1;

-- name: BindCollections :exec
-- Fixes, as the file is written, the mandate each pending collection is made with and its
-- sequence type: FRST until a collection of the mandate went to the bank and was not
-- rejected, RCUR after.
UPDATE sdd_collections c SET status = 'SUBMITTED', mandate_id = p.mandate_id, updated_at = now(),
    sequence_type = CASE WHEN EXISTS (
        SELECT 1 FROM sdd_collections o
        WHERE o.mandate_id = p.mandate_id AND o.id <> c.id
          AND o.status IN ('SUBMITTED', 'ACCEPTED', 'RETURNED', 'REFUNDED')
    ) THEN 'RCUR' ELSE 'FRST' END
FROM instalment_plans p
WHERE p.id = c.plan_id AND c.run_id = $1 AND c.status = 'PENDING';

-- name: RunTotals :many
SELECT sequence_type::text AS sequence_type, count(*)::int AS transactions, sum(amount_cents)::bigint AS ctrl_sum
FROM sdd_collections WHERE run_id = $1 AND status = 'SUBMITTED'
GROUP BY sequence_type ORDER BY sequence_type;

-- name: RunTransactions :many
-- Keyset pages of a run's transactions for the file, by sequence type then id.
SELECT c.id, c.end_to_end_id, c.amount_cents, c.sequence_type::text AS sequence_type, c.seq, p.instalments,
    m.reference, m.signed_on, m.debtor_name, m.iban, m.iban_sealed, m.iban_key_id, m.bic, d.description, d.iupd
FROM sdd_collections c
JOIN instalment_plans p ON p.id = c.plan_id
JOIN sdd_mandates m ON m.id = c.mandate_id
JOIN debt_positions d ON d.id = p.debt_id
WHERE c.run_id = sqlc.arg(run_id) AND c.status IN ('SUBMITTED', 'ACCEPTED', 'REJECTED')
  AND (c.sequence_type, c.id) > (sqlc.arg(after_type)::text, sqlc.arg(after_id)::bigint)
ORDER BY c.sequence_type, c.id
LIMIT sqlc.arg(page_size);

-- name: SetRunTotals :exec
UPDATE sdd_runs SET transactions = $2, ctrl_sum_cents = $3 WHERE id = $1;

-- name: InsertSDDMessage :execrows
-- Archives a message once per direction and message id; 0 rows when the id is archived
-- already (activities.archiveBankMessage then compares the bytes' hash).
INSERT INTO sdd_messages (direction, msg_type, msg_id, run_id, content_gz, sha256, size_bytes)
VALUES ($1, $2, $3, $4, $5, $6, $7)
ON CONFLICT (direction, msg_id) DO NOTHING;

-- name: GetSDDMessage :one
SELECT * FROM sdd_messages WHERE direction = $1 AND msg_id = $2;

-- name: RunSubmittedCollections :many
SELECT end_to_end_id, sequence_type::text AS sequence_type FROM sdd_collections
WHERE run_id = $1 AND status = 'SUBMITTED';

-- name: SetCollectionOutcomes :exec
-- Records the bank's answers: each EndToEndId with its status and reason code.
UPDATE sdd_collections c SET status = o.status, reason_code = o.reason, updated_at = now()
FROM (SELECT unnest(sqlc.arg(end_to_end_ids)::text[]) AS e2e, unnest(sqlc.arg(statuses)::text[]) AS status,
             unnest(sqlc.arg(reasons)::text[]) AS reason) AS o
WHERE c.end_to_end_id = o.e2e AND c.status = 'SUBMITTED';

-- name: CollectAcceptedInstalments :exec
UPDATE instalments i SET status = 'COLLECTED', updated_at = now()
FROM sdd_collections c
WHERE c.run_id = $1 AND c.status = 'ACCEPTED' AND i.plan_id = c.plan_id AND i.seq = c.seq AND i.status = 'SUBMITTED';

-- name: MarkRunReported :exec
UPDATE sdd_runs SET status = 'REPORTED', reported_at = coalesce(reported_at, now()) WHERE id = $1;

-- name: CountRunOutcomes :one
SELECT count(*) FILTER (WHERE status IN ('ACCEPTED', 'RETURNED', 'REFUNDED'))::int AS accepted,
       count(*) FILTER (WHERE status = 'REJECTED')::int AS rejected
FROM sdd_collections WHERE run_id = $1;

-- name: RunOutcomesPage :many
-- The answers to tell the plans, after a collection id (keyset).
SELECT c.id, c.end_to_end_id, c.status, c.reason_code, d.ec_fiscal_code, d.iupd
FROM sdd_collections c
JOIN instalment_plans p ON p.id = c.plan_id
JOIN debt_positions d ON d.id = p.debt_id
WHERE c.run_id = $1 AND c.id > $2 AND c.status IN ('ACCEPTED', 'REJECTED')
ORDER BY c.id LIMIT $3;

-- name: ReturnCollection :one
-- A return or refund of an accepted collection; repeating it changes nothing but is answered
-- again, so that the plan can be told again.
UPDATE sdd_collections c SET status = sqlc.arg(status), reason_code = sqlc.arg(reason), updated_at = now()
FROM instalment_plans p, debt_positions d
WHERE c.end_to_end_id = sqlc.arg(end_to_end_id) AND c.status IN ('ACCEPTED', 'RETURNED', 'REFUNDED')
  AND p.id = c.plan_id AND d.id = p.debt_id
RETURNING c.plan_id, c.seq, d.ec_fiscal_code, d.iupd;

-- name: CollectionStatus :one
SELECT status FROM sdd_collections WHERE end_to_end_id = $1;

-- name: GetCursor :one
SELECT position FROM sdd_cursors WHERE name = $1;

-- name: SetCursor :exec
INSERT INTO sdd_cursors (name, position) VALUES ($1, $2)
ON CONFLICT (name) DO UPDATE SET position = excluded.position, updated_at = now();

-- name: ListPlanCollections :many
SELECT c.seq, c.attempt, c.end_to_end_id, c.amount_cents, c.sequence_type, c.status, c.reason_code,
    r.collection_date, m.reference AS mandate_reference
FROM sdd_collections c
JOIN sdd_runs r ON r.id = c.run_id
LEFT JOIN sdd_mandates m ON m.id = c.mandate_id
WHERE c.plan_id = $1 ORDER BY c.seq, c.attempt;

-- name: MandateIBANsToRekey :many
-- A batch of mandates whose IBAN is in clear or sealed with another key than key_id, locked
-- (others rekeying at once take other rows).
SELECT id, reference, iban, iban_sealed, iban_key_id FROM sdd_mandates
WHERE iban_key_id IS DISTINCT FROM sqlc.arg(key_id)::text
ORDER BY id
LIMIT sqlc.arg(batch)
FOR UPDATE SKIP LOCKED;

-- name: SealMandateIBAN :exec
UPDATE sdd_mandates SET iban = NULL, iban_sealed = $2, iban_key_id = $3 WHERE id = $1;
