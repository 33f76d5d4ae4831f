-- name: UpsertConsoleUser :exec
-- Creates the user, or gives it a new password and role (and enables it, unlocked).
INSERT INTO console_users (name, role, password_hash) VALUES ($1, $2, $3)
ON CONFLICT (name) DO UPDATE SET role = EXCLUDED.role, password_hash = EXCLUDED.password_hash,
    failed_logins = 0, locked_until = NULL, disabled_at = NULL;

-- name: GetConsoleUser :one
SELECT * FROM console_users WHERE name = $1 AND disabled_at IS NULL;

-- name: RecordConsoleLoginFailure :one
-- One more failure; the max_failures-th locks the account until locked_until and starts over.
UPDATE console_users SET
    failed_logins = CASE WHEN failed_logins + 1 >= sqlc.arg(max_failures)::int THEN 0 ELSE failed_logins + 1 END,
    locked_until = CASE WHEN failed_logins + 1 >= sqlc.arg(max_failures)::int THEN sqlc.arg(locked_until)::timestamptz ELSE locked_until END
WHERE id = sqlc.arg(id)
RETURNING failed_logins, locked_until;

-- name: ResetConsoleLoginFailures :exec
UPDATE console_users SET failed_logins = 0, locked_until = NULL WHERE id = $1 AND (failed_logins > 0 OR locked_until IS NOT NULL);

-- name: DisableConsoleUser :execrows
UPDATE console_users SET disabled_at = now() WHERE name = $1 AND disabled_at IS NULL;
