-- name: InsertCommunication :exec
INSERT INTO communications (debt_id, dedupe_key, kind, channel, recipient, subject, message_id, raw, sha256,
    retention_until, step, sender, status)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)
ON CONFLICT (dedupe_key) DO NOTHING;

-- name: GetCommunicationByDedupeKey :one
SELECT * FROM communications WHERE dedupe_key = $1;

-- name: ListCommunicationsByDebt :many
SELECT id, kind, step, channel, subject, message_id, status, sent_at, delivered_at, sha256 FROM communications
WHERE debt_id = $1 ORDER BY id;

-- name: MarkCommunicationSending :execrows
-- The relay is about to accept the message: from here a crash leaves it SENDING.
UPDATE communications SET status = 'SENDING' WHERE id = $1 AND status = 'PENDING';

-- name: ConfirmCommunicationSent :exec
-- The relay accepted it; a retry that meanwhile found it SENDING and made it UNCONFIRMED is
-- overruled, since it was delivered.
UPDATE communications SET status = 'SENT', sent_at = $2 WHERE id = $1 AND status IN ('PENDING', 'SENDING', 'UNCONFIRMED');

-- name: MarkCommunicationUnconfirmed :exec
UPDATE communications SET status = 'UNCONFIRMED' WHERE id = $1 AND status = 'SENDING';

-- name: MarkCommunicationFailed :exec
UPDATE communications SET status = 'FAILED', failure = $2 WHERE id = $1 AND status IN ('PENDING', 'SENDING');

-- name: ConfirmCommunicationSubmitted :exec
-- App IO accepted the message: its id and IO's exact answer are archived with it.
UPDATE communications SET status = 'SENT', sent_at = $2, io_message_id = $3, answer = $4, answer_sha256 = $5
WHERE id = $1 AND status IN ('PENDING', 'SENDING', 'UNCONFIRMED');

-- name: MarkCommunicationPendingAgain :exec
-- The service answered that it did not take the message (a 5xx, a 429): it may be sent again.
UPDATE communications SET status = 'PENDING' WHERE id = $1 AND status = 'SENDING';

-- name: GetReachedChannel :one
-- The channel the debtor was last reached on by a message with content (not a letter).
SELECT channel FROM communications
WHERE debt_id = $1 AND status IN ('SENT', 'UNCONFIRMED') AND channel IN ('io', 'email', 'pec')
ORDER BY id DESC LIMIT 1;
