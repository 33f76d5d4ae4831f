-- name: UpsertAPIClient :exec
INSERT INTO api_clients (name, key_sha256) VALUES ($1, $2)
ON CONFLICT (name) DO UPDATE SET key_sha256 = EXCLUDED.key_sha256, disabled_at = NULL;

-- name: GetAPIClientByKeyHash :one
SELECT id, name FROM api_clients WHERE key_sha256 = $1 AND disabled_at IS NULL;

-- name: GetAPIClientByName :one
SELECT id, name, key_sha256 FROM api_clients WHERE name = $1 AND disabled_at IS NULL;
