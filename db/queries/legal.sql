-- name: InsertDomicileLookup :exec
-- The first lookup of a debt's step stands: a retry finds it and uses the same address.
INSERT INTO domicile_lookups (debt_id, step, registry, found, address, answer, sha256, retention_until)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
ON CONFLICT (debt_id, step) DO NOTHING;

-- name: GetDomicileLookup :one
SELECT * FROM domicile_lookups WHERE debt_id = $1 AND step = $2;

-- name: ListDomicileLookups :many
SELECT id, step, registry, found, sha256, looked_up_at FROM domicile_lookups WHERE debt_id = $1 ORDER BY id;

-- name: InsertSendNotification :exec
INSERT INTO send_notifications (debt_id, step, protocol_number, act, act_sha256, retention_until)
VALUES ($1, $2, $3, $4, $5, $6)
ON CONFLICT (debt_id, step) DO NOTHING;

-- name: GetSendNotification :one
SELECT * FROM send_notifications WHERE debt_id = $1 AND step = $2;

-- name: SetSendRequested :exec
-- SEND took the request: its notificationRequestId, once.
UPDATE send_notifications SET request_id = $2, status = 'REQUESTED', updated_at = now()
WHERE id = $1 AND request_id = '';

-- name: SetSendState :exec
-- What SEND said of the notification: its iun once accepted, its status and timeline, and the
-- time it was perfected (the first one stands).
UPDATE send_notifications SET iun = COALESCE(sqlc.narg(iun), iun), status = sqlc.arg(status),
    timeline = sqlc.arg(timeline), perfected_at = COALESCE(perfected_at, sqlc.narg(perfected_at)), updated_at = now()
WHERE id = sqlc.arg(id);

-- name: InsertLegalFact :exec
INSERT INTO legal_facts (notification_id, legal_fact_key, category, filename, content, sha256, retention_until)
VALUES ($1, $2, $3, $4, $5, $6, $7)
ON CONFLICT (notification_id, legal_fact_key) DO NOTHING;

-- name: ListLegalFactKeys :many
SELECT legal_fact_key FROM legal_facts WHERE notification_id = $1;

-- name: ListLegalFacts :many
SELECT f.id, f.legal_fact_key, f.category, f.filename, f.sha256, f.downloaded_at
FROM legal_facts f JOIN send_notifications n ON n.id = f.notification_id
WHERE n.debt_id = $1 ORDER BY f.id;

-- name: InsertReturnCard :one
-- One card per letter: a second one returns nothing and the caller compares it with the first.
INSERT INTO return_cards (communication_id, outcome, card_date, entered_by)
VALUES ($1, $2, $3, $4)
ON CONFLICT (communication_id) DO NOTHING
RETURNING *;

-- name: GetReturnCard :one
SELECT * FROM return_cards WHERE communication_id = $1;

-- name: GetStepCommunication :one
-- The message a ladder step sent, with its PEC delivery time and the letter's return card.
SELECT c.id, c.channel, c.status, c.delivered_at, r.outcome AS card_outcome, r.card_date
FROM communications c LEFT JOIN return_cards r ON r.communication_id = c.id
WHERE c.debt_id = $1 AND c.step = $2
ORDER BY c.id DESC LIMIT 1;

-- name: HasPECNonDelivery :one
SELECT EXISTS (SELECT 1 FROM communication_receipts WHERE communication_id = $1 AND kind = 'mancata-consegna');

-- name: SetLegalClock :exec
-- The proof that started the clock, once: the first proof stands.
UPDATE debt_positions SET notified_by = sqlc.arg(notified_by), notified_at = sqlc.arg(notified_at),
    pay_by = sqlc.arg(pay_by), handover_from = sqlc.arg(handover_from), updated_at = now()
WHERE id = sqlc.arg(id) AND notified_by = '';

-- name: SetNoticeFailed :exec
UPDATE debt_positions SET notice_failed = $2, updated_at = now() WHERE id = $1 AND notified_by = '';

-- name: GetLetter :one
-- A message with the debt it is about: what a return card, or the mark of its posting, needs
-- to know of its letter.
SELECT c.id, c.channel, c.kind, c.step, c.status, c.created_at, c.sent_at, d.iupd, d.id AS debt_id
FROM communications c JOIN debt_positions d ON d.id = c.debt_id
WHERE c.id = $1;

-- name: ListSendNotifications :many
SELECT id, step, iun, status, perfected_at, act_sha256, created_at FROM send_notifications WHERE debt_id = $1 ORDER BY id;
