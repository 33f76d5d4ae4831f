-- name: InsertWebhookEndpoint :one
INSERT INTO webhook_endpoints (url, event_types, owner, owner_role, owner_services, owner_all_debts, secret)
VALUES ($1, $2, $3, $4, $5, $6, $7)
RETURNING *;

-- name: GetWebhookEndpoint :one
SELECT * FROM webhook_endpoints WHERE id = $1 AND status <> 'DELETED';

-- name: ListWebhookEndpoints :many
-- The endpoints an owner registered, or every one when owner is empty.
SELECT * FROM webhook_endpoints
WHERE status <> 'DELETED' AND (sqlc.arg(owner)::text = '' OR owner = sqlc.arg(owner)::text)
ORDER BY id;

-- name: DeleteWebhookEndpoint :execrows
UPDATE webhook_endpoints SET status = 'DELETED', updated_at = now() WHERE id = $1 AND status <> 'DELETED';

-- name: RotateWebhookSecret :one
-- The new secret signs from now on; the old one also signs until previous_valid_until.
UPDATE webhook_endpoints SET previous_secret = secret, previous_valid_until = sqlc.arg(previous_valid_until),
    secret = sqlc.arg(secret), updated_at = now()
WHERE id = sqlc.arg(id) AND status <> 'DELETED'
RETURNING *;

-- name: DisableWebhookEndpoint :execrows
UPDATE webhook_endpoints SET status = 'DISABLED', disabled_reason = $2, disabled_at = now(), updated_at = now()
WHERE id = $1 AND status = 'ACTIVE';

-- name: EnableWebhookEndpoint :execrows
UPDATE webhook_endpoints SET status = 'ACTIVE', disabled_reason = '', disabled_at = NULL, updated_at = now()
WHERE id = $1 AND status = 'DISABLED';

-- name: QueueWebhookDeliveries :exec
-- Reads the feed after the endpoint's cursor (up to max_events of it), queues a delivery of
-- each event of the endpoint's types its owner may see, and moves the cursor past what was read,
-- in one statement: an event is queued once, never skipped.
WITH ep AS (
    SELECT * FROM webhook_endpoints WHERE id = sqlc.arg(endpoint_id) AND status = 'ACTIVE' FOR UPDATE
), scanned AS (
    SELECT e.* FROM events e, ep
    WHERE (e.txid, e.id) > (ep.cursor_txid, ep.cursor_id)
      AND e.txid < pg_snapshot_xmin(pg_current_snapshot())::text::bigint
    ORDER BY e.txid, e.id
    LIMIT sqlc.arg(max_events)
), queued AS (
    INSERT INTO webhook_deliveries (endpoint_id, event_id)
    SELECT ep.id, s.id FROM scanned s, ep
    WHERE s.type = ANY(ep.event_types)
      AND event_visible(s::events, ep.owner_role, ep.owner_services, ep.owner_all_debts, ep.owner)
    ORDER BY s.txid, s.id
    ON CONFLICT (endpoint_id, event_id) DO NOTHING
), last AS (
    SELECT txid, id FROM scanned ORDER BY txid DESC, id DESC LIMIT 1
)
UPDATE webhook_endpoints w SET cursor_txid = last.txid, cursor_id = last.id
FROM last WHERE w.id = sqlc.arg(endpoint_id);

-- name: PendingWebhookDeliveries :many
SELECT id FROM webhook_deliveries WHERE endpoint_id = $1 AND status = 'PENDING' ORDER BY id LIMIT $2;

-- name: GetWebhookDelivery :one
-- A delivery with its event and its endpoint's state and secrets.
SELECT d.id, d.endpoint_id, d.status, d.attempts, e.id AS event_id, e.type, e.occurred_at, e.data,
    w.url, w.status AS endpoint_status, w.secret, w.previous_secret, w.previous_valid_until
FROM webhook_deliveries d
JOIN events e ON e.id = d.event_id
JOIN webhook_endpoints w ON w.id = d.endpoint_id
WHERE d.id = $1;

-- name: RecordWebhookAttempt :exec
-- Logs an attempt and the answer; a 2xx delivers it.
WITH attempt AS (
    INSERT INTO webhook_attempts (delivery_id, status_code, response, error, took_ms)
    VALUES (sqlc.arg(delivery_id), sqlc.arg(status_code), sqlc.arg(response), sqlc.arg(error), sqlc.arg(took_ms))
)
UPDATE webhook_deliveries d SET attempts = d.attempts + 1,
    status = CASE WHEN sqlc.arg(delivered)::boolean THEN 'DELIVERED' ELSE d.status END,
    delivered_at = CASE WHEN sqlc.arg(delivered)::boolean THEN now() ELSE d.delivered_at END
WHERE d.id = sqlc.arg(delivery_id);

-- name: FailWebhookDeliveries :exec
-- The endpoint is disabled: what it was still owed is FAILED, for an operator to replay.
UPDATE webhook_deliveries SET status = 'FAILED' WHERE endpoint_id = $1 AND status = 'PENDING';

-- name: ReplayWebhookDelivery :execrows
UPDATE webhook_deliveries SET status = 'PENDING' WHERE id = $1 AND endpoint_id = $2;

-- name: ListWebhookDeliveries :many
-- A page of an endpoint's deliveries, newest first, before the id given, with the last answer.
SELECT d.id, d.event_id, e.type, d.status, d.attempts, d.created_at, d.delivered_at,
    coalesce(a.status_code, 0)::int AS last_status_code, coalesce(a.response, '')::text AS last_response,
    coalesce(a.error, '')::text AS last_error, a.attempted_at AS last_attempted_at
FROM webhook_deliveries d
JOIN events e ON e.id = d.event_id
LEFT JOIN LATERAL (
    SELECT status_code, response, error, attempted_at FROM webhook_attempts
    WHERE delivery_id = d.id ORDER BY id DESC LIMIT 1
) a ON true
WHERE d.endpoint_id = sqlc.arg(endpoint_id) AND d.id < sqlc.arg(before_id)
ORDER BY d.id DESC
LIMIT sqlc.arg(max_rows);

-- name: ListWebhookAttempts :many
SELECT attempted_at, status_code, response, error, took_ms FROM webhook_attempts
WHERE delivery_id = $1 ORDER BY id;

-- name: RequeueFailedWebhookDeliveries :exec
-- The endpoint is enabled again: what failed while it was disabled is sent again, in order.
UPDATE webhook_deliveries SET status = 'PENDING' WHERE endpoint_id = $1 AND status = 'FAILED';
