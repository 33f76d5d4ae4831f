-- name: InsertReceipt :one
INSERT INTO receipts (
    receipt_id, debt_id, nav, ec_fiscal_code, amount_cents, outcome, psp_id, psp_fiscal_code, psp_name,
    channel_id, channel_description, payment_method, fee_cents, paid_at, application_date, transfer_date,
    transfers, source, flag, flag_detail, raw_xml
) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19, $20, $21)
ON CONFLICT (receipt_id) DO NOTHING
RETURNING id;

-- name: GetReceiptByReceiptID :one
SELECT * FROM receipts WHERE receipt_id = $1;

-- name: ListReceiptsByDebt :many
SELECT * FROM receipts WHERE debt_id = $1 ORDER BY id;

-- name: CountOKReceiptsByDebt :one
SELECT count(*) FROM receipts WHERE debt_id = $1 AND outcome = 'OK';

-- name: ListFlaggedReceipts :many
-- Receipts the finance office must look at, newest first, by keyset on id.
SELECT r.*, d.iupd FROM receipts r LEFT JOIN debt_positions d ON d.id = r.debt_id
WHERE r.flag IS NOT NULL AND r.id < sqlc.arg(before_id)::bigint
ORDER BY r.id DESC
LIMIT sqlc.arg(max_rows);
