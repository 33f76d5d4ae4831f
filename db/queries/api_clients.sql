-- name: UpsertAPIClient :exec
-- Creates the client, or gives it a new key, role and scope (the old key stops working).
INSERT INTO api_clients (name, key_sha256, role, services, all_debts) VALUES ($1, $2, $3, $4, $5)
ON CONFLICT (name) DO UPDATE SET key_sha256 = EXCLUDED.key_sha256, role = EXCLUDED.role,
    services = EXCLUDED.services, all_debts = EXCLUDED.all_debts, disabled_at = NULL,
    previous_key_sha256 = NULL, previous_valid_until = NULL;

-- name: GetAPIClientByKeyHash :one
-- The enabled client of a key: its current one, or the one it had before a rotation while
-- the grace period lasts.
SELECT id, name, key_sha256, role, services, all_debts FROM api_clients
WHERE disabled_at IS NULL AND (key_sha256 = sqlc.arg(key_sha256)
    OR (previous_key_sha256 = sqlc.arg(key_sha256) AND previous_valid_until > sqlc.arg(now)));

-- name: GetAPIClientByName :one
SELECT id, name, key_sha256, role, services, all_debts FROM api_clients WHERE name = $1 AND disabled_at IS NULL;

-- name: RotateAPIClientKey :execrows
-- The new key replaces the current one, which stays valid until valid_until.
UPDATE api_clients SET previous_key_sha256 = key_sha256, previous_valid_until = sqlc.arg(valid_until),
    key_sha256 = sqlc.arg(key_sha256)
WHERE name = sqlc.arg(name) AND disabled_at IS NULL;

-- name: DisableAPIClient :execrows
-- Repeated, it changes nothing.
UPDATE api_clients SET disabled_at = now(), previous_key_sha256 = NULL, previous_valid_until = NULL
WHERE name = $1 AND disabled_at IS NULL;

-- name: ListAPIClients :many
SELECT name, role, services, all_debts, created_at, disabled_at, previous_valid_until FROM api_clients ORDER BY name;
