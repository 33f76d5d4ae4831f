-- name: ClaimIdempotencyKey :one
-- Claims a key for a request, or finds its earlier answer. A claim older than the retention
-- is taken over as if new. claimed is true when this request runs.
WITH claim AS (
    INSERT INTO idempotency_keys AS k (client, route, key, request_sha256)
    VALUES (sqlc.arg(client), sqlc.arg(route), sqlc.arg(key), sqlc.arg(request_sha256))
    ON CONFLICT (client, route, key) DO UPDATE
        SET request_sha256 = excluded.request_sha256, status = 0, content_type = '', location = '',
            body = '', created_at = now()
        WHERE k.created_at < now() - sqlc.arg(retention)::interval
    RETURNING k.request_sha256, k.status, k.content_type, k.location, k.body
)
SELECT true AS claimed, request_sha256, status, content_type, location, body FROM claim
UNION ALL
SELECT false, request_sha256, status, content_type, location, body FROM idempotency_keys
WHERE client = sqlc.arg(client) AND route = sqlc.arg(route) AND key = sqlc.arg(key)
  AND NOT EXISTS (SELECT 1 FROM claim);

-- name: StoreIdempotentAnswer :exec
UPDATE idempotency_keys SET status = $4, content_type = $5, location = $6, body = $7
WHERE client = $1 AND route = $2 AND key = $3;

-- name: ReleaseIdempotencyKey :exec
-- The request failed in a way a retry may not: the key is free again.
DELETE FROM idempotency_keys WHERE client = $1 AND route = $2 AND key = $3 AND status = 0;
