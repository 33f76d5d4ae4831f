-- name: InsertReceipt :one
INSERT INTO receipts (
    receipt_id, debt_id, nav, amount_cents, outcome, psp_id, psp_name, channel_id,
    payment_method, fee_cents, paid_at, raw_xml
) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)
ON CONFLICT (receipt_id) DO NOTHING
RETURNING id;

-- name: GetReceiptByReceiptID :one
SELECT * FROM receipts WHERE receipt_id = $1;

-- name: ListReceiptsByDebt :many
SELECT * FROM receipts WHERE debt_id = $1 ORDER BY id;
