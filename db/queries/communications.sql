-- name: InsertCommunication :exec
INSERT INTO communications (debt_id, dedupe_key, kind, channel, recipient, subject, message_id, raw, sha256, retention_until)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)
ON CONFLICT (dedupe_key) DO NOTHING;

-- name: GetCommunicationByDedupeKey :one
SELECT * FROM communications WHERE dedupe_key = $1;

-- name: MarkCommunicationSent :exec
UPDATE communications SET status = 'SENT', sent_at = $2 WHERE id = $1 AND status = 'PENDING';

-- name: ListCommunicationsByDebt :many
SELECT id, kind, channel, subject, message_id, status, sent_at, sha256 FROM communications
WHERE debt_id = $1 ORDER BY id;
