-- name: RevokeConsoleToken :execrows
-- Zero rows: the token was revoked already.
INSERT INTO console_revocations (token_sha256, kind, expires_at) VALUES ($1, $2, $3)
ON CONFLICT (token_sha256) DO NOTHING;

-- name: ConsoleTokenRevoked :one
SELECT EXISTS (SELECT 1 FROM console_revocations WHERE token_sha256 = $1 AND expires_at > $2);

-- name: PurgeConsoleRevocations :execrows
DELETE FROM console_revocations WHERE expires_at <= $1;
