-- name: LockAuditHead :one
-- Taken by every writer of the trail, so that rows are chained one at a time.
SELECT last_id, hash, anchor_id FROM audit_head WHERE one FOR UPDATE;

-- name: NextAuditID :one
SELECT nextval(pg_get_serial_sequence('audit_log', 'id'))::bigint;

-- name: InsertAuditEntry :exec
INSERT INTO audit_log (id, at, actor, role, action, targets, reason, ip, outcome, prev_hash, hash)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11);

-- name: SetAuditHead :exec
UPDATE audit_head SET last_id = $1, hash = $2 WHERE one;

-- name: GetAuditHead :one
SELECT last_id, hash, anchor_id, anchor_hash FROM audit_head WHERE one;

-- name: LastAuditIDBefore :one
-- The newest entry the purge may drop: every entry up to it is older than the cutoff (0: none).
SELECT coalesce((SELECT min(a.id) - 1 FROM audit_log a WHERE a.at >= sqlc.arg(cutoff)::timestamptz),
                (SELECT max(b.id) FROM audit_log b), 0)::bigint;

-- name: AuditEntryHash :one
SELECT hash FROM audit_log WHERE id = $1;

-- name: AllowAuditPurge :exec
-- For this transaction only; the trigger still refuses rows younger than 10 years.
SELECT set_config('incasso.audit_purge', 'on', true);

-- name: PurgeAuditUpTo :execrows
DELETE FROM audit_log WHERE id <= $1;

-- name: SetAuditAnchor :exec
UPDATE audit_head SET anchor_id = $1, anchor_hash = $2 WHERE one;

-- name: ListAuditChain :many
-- The trail in order, after_id excluded, for verifying the chain.
SELECT * FROM audit_log WHERE id > $1 ORDER BY id LIMIT $2;

-- name: SearchAudit :many
-- Newest first, before the cursor; each filter applies when given.
SELECT * FROM audit_log
WHERE id < sqlc.arg(before)
  AND (sqlc.narg(actor)::text IS NULL OR actor = sqlc.narg(actor))
  AND (sqlc.narg(action)::text IS NULL OR action = sqlc.narg(action))
  AND (sqlc.narg(target)::jsonb IS NULL OR targets @> sqlc.narg(target))
  AND (sqlc.narg(from_at)::timestamptz IS NULL OR at >= sqlc.narg(from_at))
  AND (sqlc.narg(to_at)::timestamptz IS NULL OR at < sqlc.narg(to_at))
ORDER BY id DESC
LIMIT sqlc.arg(max_rows);
