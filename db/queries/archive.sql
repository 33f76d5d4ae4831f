-- name: PurgeExpiredCommunications :one
-- Deletes up to max_rows messages whose retention ended before as_of and before today (the
-- trigger refuses any other), with their PEC receipts (ON DELETE CASCADE; the receipts' trigger
-- lets them go once their message's retention has ended). The receipts are counted on the
-- statement's snapshot, before the cascade removes them.
WITH gone AS (
    DELETE FROM communications WHERE id IN (
        SELECT c.id FROM communications c
        WHERE c.retention_until < sqlc.arg(as_of)::date AND c.retention_until < current_date
        LIMIT sqlc.arg(max_rows)
    )
    RETURNING id
)
SELECT (SELECT count(*) FROM gone)::int AS messages,
       (SELECT count(*) FROM communication_receipts r WHERE r.communication_id IN (SELECT id FROM gone))::int AS receipts;

-- name: ListArchiveByDebt :many
-- The messages about one debt, newest first, by keyset on id; debtor and status, when not
-- empty, must also match. Driven by the unique (ec_fiscal_code, iupd) and communications_debt indexes.
SELECT c.id, d.iupd, c.kind, c.step, c.channel, c.sender, c.recipient, c.subject, c.message_id, c.status,
       c.created_at, c.sent_at, c.delivered_at, c.sha256, c.retention_until
FROM communications c JOIN debt_positions d ON d.id = c.debt_id
WHERE d.ec_fiscal_code = sqlc.arg(ec_fiscal_code) AND d.iupd = sqlc.arg(iupd)
  AND (sqlc.arg(debtor)::text = '' OR d.debtor_fiscal_code = sqlc.arg(debtor)::text)
  AND c.created_at >= sqlc.arg(created_from)::timestamptz AND c.created_at < sqlc.arg(created_to)::timestamptz
  AND (sqlc.arg(status)::text = '' OR c.status = sqlc.arg(status)::text)
  AND c.id < sqlc.arg(before_id)::bigint
ORDER BY c.id DESC
LIMIT sqlc.arg(max_rows);

-- name: ListArchiveByDebtor :many
-- The messages about every debt of a debtor (in status, when not empty), newest first, by
-- keyset on id. Driven by the
-- debt_positions_debtor and communications_debt indexes.
SELECT c.id, d.iupd, c.kind, c.step, c.channel, c.sender, c.recipient, c.subject, c.message_id, c.status,
       c.created_at, c.sent_at, c.delivered_at, c.sha256, c.retention_until
FROM communications c JOIN debt_positions d ON d.id = c.debt_id
WHERE d.debtor_fiscal_code = sqlc.arg(debtor)
  AND c.created_at >= sqlc.arg(created_from)::timestamptz AND c.created_at < sqlc.arg(created_to)::timestamptz
  AND (sqlc.arg(status)::text = '' OR c.status = sqlc.arg(status)::text)
  AND c.id < sqlc.arg(before_id)::bigint
ORDER BY c.id DESC
LIMIT sqlc.arg(max_rows);

-- name: ListArchiveByPeriod :many
-- The messages created in [created_from, created_to), newest first, by keyset on id
-- (communications_created narrows the period; the primary key gives the order).
SELECT c.id, d.iupd, c.kind, c.step, c.channel, c.sender, c.recipient, c.subject, c.message_id, c.status,
       c.created_at, c.sent_at, c.delivered_at, c.sha256, c.retention_until
FROM communications c JOIN debt_positions d ON d.id = c.debt_id
WHERE c.created_at >= sqlc.arg(created_from)::timestamptz AND c.created_at < sqlc.arg(created_to)::timestamptz
  AND c.id < sqlc.arg(before_id)::bigint
ORDER BY c.id DESC
LIMIT sqlc.arg(max_rows);

-- name: ListArchiveByStatus :many
-- The messages in a status created in [created_from, created_to), newest first, by keyset on
-- id: the print room's queue (PRINT), the messages the relay may not have had (UNCONFIRMED).
-- Driven by communications_status.
SELECT c.id, d.iupd, c.kind, c.step, c.channel, c.sender, c.recipient, c.subject, c.message_id, c.status,
       c.created_at, c.sent_at, c.delivered_at, c.sha256, c.retention_until
FROM communications c JOIN debt_positions d ON d.id = c.debt_id
WHERE c.status = sqlc.arg(status)
  AND c.created_at >= sqlc.arg(created_from)::timestamptz AND c.created_at < sqlc.arg(created_to)::timestamptz
  AND c.id < sqlc.arg(before_id)::bigint
ORDER BY c.id DESC
LIMIT sqlc.arg(max_rows);

-- name: ListPrintQueue :many
-- The letters the print room has still to post, oldest first, after the cursor's id (0 for
-- the first page). Driven by communications_status.
SELECT c.id, d.iupd, c.kind, c.subject, c.created_at
FROM communications c JOIN debt_positions d ON d.id = c.debt_id
WHERE c.status = 'PRINT' AND c.id > sqlc.arg(after_id)::bigint
ORDER BY c.id
LIMIT sqlc.arg(max_rows);

-- name: MarkLetterPosted :one
-- Records that the print room posted a letter waiting for it (channel post, status PRINT) on
-- posted_at: no row when the message is no such letter.
UPDATE communications SET status = 'SENT', sent_at = sqlc.arg(posted_at)
WHERE id = sqlc.arg(id) AND channel = 'post' AND status = 'PRINT'
RETURNING id, status, sent_at;

-- name: GetArchivedCommunication :one
SELECT * FROM communications WHERE id = $1;

-- name: ListCommunicationReceipts :many
SELECT id, communication_id, kind, sha256, received_at FROM communication_receipts
WHERE communication_id = $1 ORDER BY id;

-- name: GetCommunicationReceipt :one
SELECT * FROM communication_receipts WHERE id = $1 AND communication_id = $2;

-- name: InsertCommunicationReceipt :one
-- A receipt is stored once: a repeat returns nothing and the caller loads the stored one.
INSERT INTO communication_receipts (communication_id, kind, raw, sha256)
VALUES ($1, $2, $3, $4)
ON CONFLICT (communication_id, kind, sha256) DO NOTHING
RETURNING *;

-- name: GetCommunicationReceiptBySHA256 :one
SELECT * FROM communication_receipts WHERE communication_id = $1 AND kind = $2 AND sha256 = $3;

-- name: SetCommunicationDelivered :exec
-- The PEC delivery receipt's time; the earliest one stands. A message left UNCONFIRMED by a
-- crash is proven sent by it. Only the delivery state changes, which the archive's trigger allows.
UPDATE communications SET delivered_at = sqlc.arg(delivered_at)::timestamptz,
    status = CASE WHEN status = 'UNCONFIRMED' THEN 'SENT' ELSE status END,
    sent_at = CASE WHEN status = 'UNCONFIRMED' THEN sqlc.arg(delivered_at)::timestamptz ELSE sent_at END
WHERE id = sqlc.arg(id) AND (delivered_at IS NULL OR delivered_at > sqlc.arg(delivered_at)::timestamptz);

-- name: GetCommunicationOutline :one
-- What a receipt needs to know of its message, without the message's bytes.
SELECT id, channel, message_id FROM communications WHERE id = $1;
